"""lading: bring a Python application from its lock file into production."""

__version__ = "0.1.0"
