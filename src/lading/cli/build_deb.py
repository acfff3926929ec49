"""``lading build deb``: the application's venv as a Debian package, without debhelper."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lading.cli import common
from lading.cli.build_venv import add_source_arguments, prepared_report, print_prepared, source_from

if TYPE_CHECKING:
    from lading.artifacts.deb import BuiltDeb

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "deb", help="a Debian package holding the application's venv under /opt/venvs/NAME",
        description="Build a .deb: the venv at /opt/venvs/NAME (built for that path, bytecode compiled), the "
        "project's scripts linked into /usr/bin, control fields from the project's metadata, md5sums. "
        "The venv links to its base interpreter by absolute path; the default --python is Debian's "
        "/usr/bin/python3 and the package depends on its minor version.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                        help="the directory to write NAME_VERSION_ARCH.deb into")
    parser.add_argument("--name", metavar="N", help="the package name (default: the project's name)")
    parser.add_argument("--version", metavar="V",
                        help="the Debian version (default: the project's version, 1.0rc1 as 1.0~rc1)")
    parser.add_argument("--maintainer", metavar="M",
                        help="'Full Name <address>' (default: DEBFULLNAME/DEBEMAIL, else the project's author)")
    parser.add_argument("--depends", action="append", default=[], metavar="D",
                        help="another Depends entry, such as 'libpq5' (repeatable)")
    parser.add_argument("--section", default="misc", metavar="S", help="the Debian section (default: misc)")
    parser.add_argument("--scripts-of", action="append", default=[], metavar="PKG",
                        help="also link this distribution's scripts into /usr/bin (repeatable)")
    parser.add_argument("--python", metavar="PY", default=None,
                        help="the base interpreter (default: /usr/bin/python3, Debian's)")
    add_source_arguments(parser)
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lading.artifacts.deb import DEFAULT_PYTHON, DebOptions, build_deb
    from lading.progress import for_stream

    source = source_from(args, args.python or DEFAULT_PYTHON)
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    try:
        built = build_deb(
            DebOptions(source=source, output_dir=args.output, name=args.name, version=args.version,
                       maintainer=args.maintainer, depends=tuple(args.depends), section=args.section,
                       scripts_of=tuple(args.scripts_of)),
            progress, os.environ,
        )
    finally:
        progress.done()
    if args.json:
        common.print_json(report(built))
        return 0
    for note in built.notes:
        common.note(note)
    if not args.quiet:
        print(f"wrote {built.path} ({built.size / 1e6:.1f} MB) in {built.seconds:.2f}s")
        print(f"  {built.package} {built.version} {built.architecture}")
        print_prepared(built.prepared)
        if built.links:
            print(f"  /usr/bin: {', '.join(built.links)}")
        print(f"  sha256 {built.sha256}")
    return 0


def report(built: BuiltDeb) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "artifact": {"kind": "deb", "path": str(built.path), "size": built.size, "sha256": built.sha256,
                     "package": built.package, "package_version": built.version,
                     "architecture": built.architecture, "links": list(built.links),
                     "maintainer_scripts": list(built.maintainer_scripts), "control": built.control},
        **prepared_report(built.prepared),
        "notes": list(built.notes),
        "seconds": built.seconds,
    }
