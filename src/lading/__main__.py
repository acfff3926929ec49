from lading.cli.main import entry

entry()
