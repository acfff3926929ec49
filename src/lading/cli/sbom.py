"""``lading sbom``: a CycloneDX bill of materials of what a lock selects."""

from __future__ import annotations

import argparse
from pathlib import Path

from lading.cli import common


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sbom", help="print a CycloneDX SBOM of what a lock selects",
        description="Print a CycloneDX (JSON) software bill of materials of what the lock selects for the "
        "targets: the document every artifact lading builds carries, made from the lock alone. Several "
        "--python/--platform give the union; without one, the running interpreter.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("--python", action="append", default=[], metavar="PY",
                        help="select for this interpreter (repeatable)")
    parser.add_argument("--platform", action="append", default=[], type=Path, metavar="SPEC",
                        help="select for a machine described by a platform spec (repeatable)")
    common.add_group_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.artifacts.sbom import dumps, lock_sbom, project_identity
    from lading.select import select
    from lading.target import resolve_target

    lock, _ = common.load_lock(args)
    request = common.group_request(args)
    targets = [resolve_target(py, None) for py in args.python] + [resolve_target(None, p) for p in args.platform]
    if not targets:
        targets = [resolve_target(None, None)]
    selections = [select(lock, t, request) for t in targets]
    name, version = project_identity(lock.path.parent)
    text = dumps(lock_sbom(selections, name or lock.path.parent.resolve().name, version)).decode("utf-8")
    common.write_output(text, args.output)
    return 0
