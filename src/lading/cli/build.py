"""``lading build KIND``: artifacts from one lock. Each kind lives in its own ``build_<kind>`` module."""

from __future__ import annotations

import argparse
import importlib

KINDS = ("wheelhouse", "zipapp", "venv", "deb", "image")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "build", help="build a production artifact from a lock",
        description="Build an artifact from one lock, reproducibly: a wheelhouse with a static index, a "
        "zipapp, a relocatable venv tarball, a .deb, or an OCI image.",
    )
    kinds = parser.add_subparsers(title="artifacts", metavar="KIND", parser_class=type(parser))
    for kind in KINDS:
        module = importlib.import_module(f"lading.cli.build_{kind}")
        module.add_parser(kinds)
