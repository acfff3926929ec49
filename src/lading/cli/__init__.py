"""The command line: argument parsing and printing. The only code that writes to stdout or exits."""
