"""``lading build wheelhouse``: every wheel a lock needs for its targets, with a static index and locks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lading.cli import common

if TYPE_CHECKING:
    from lading.artifacts.wheelhouse import Wheelhouse
    from lading.model import Target

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "wheelhouse", help="a directory of wheels with a static index, for installs without network",
        description="Download every file the lock needs for each target and build sdists (and the project) "
        "into wheels once, here. Writes the wheels, a static PEP 503/691 index under DIR/simple/, a "
        "pylock.toml and a hashed requirements.txt pointing at them: `lading install DIR --offline`, "
        "`pip install --no-index --find-links DIR --require-hashes -r DIR/requirements.txt` and "
        "`pip install --index-url file://DIR/simple APP` then install without network.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                        help="the wheelhouse directory (new, empty, or an earlier wheelhouse, which is replaced)")
    targets = parser.add_argument_group("targets (default: the interpreter running lading)")
    targets.add_argument("--python", action="append", default=[], metavar="PY",
                         help="a target interpreter (a path or a name on PATH); repeatable")
    targets.add_argument("--platform", action="append", default=[], type=Path, metavar="SPEC",
                         help="a target machine described by a platform spec (see `lading target`); repeatable")
    common.add_group_arguments(parser)
    common.add_fetch_arguments(parser)
    common.add_json_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run_command)


def targets(args: argparse.Namespace) -> tuple[Target, ...]:
    from lading.target import resolve_target

    chosen = [resolve_target(python, None) for python in args.python]
    chosen += [resolve_target(None, spec) for spec in args.platform]
    unique: dict[str, Target] = {}
    for target in chosen:
        unique.setdefault(target.name, target)
    return tuple(unique.values())


def run_command(args: argparse.Namespace) -> int:
    import os

    from lading.artifacts.wheelhouse import WheelhouseOptions, build
    from lading.progress import for_stream

    common.check_jobs(args)
    options = WheelhouseOptions(
        output=args.output,
        path=args.path,
        lock=args.lock,
        targets=targets(args),
        request=common.group_request(args),
        offline=args.offline,
        find_links=tuple(args.find_links),
        index_url=args.index_url,
        cache_dir=args.cache_dir,
        jobs=args.jobs,
    )
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    result = build(options, progress, os.environ)
    if args.json:
        common.print_json(report(result))
    elif not args.quiet:
        print_result(result)
    return 0


def report(result: Wheelhouse) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "output": str(result.root),
        "lock": {"path": str(result.lock), "format": result.lock_format},
        "targets": [t.name for t in result.targets],
        "packages": result.packages,
        "files": [
            {"filename": f.filename, "name": f.project, "version": f.version, "sha256": f.sha256, "size": f.size,
             "built_from": f.built_from, "source_sha256": f.source_sha256}
            for f in result.files
        ],
        "index": str(result.root / "simple"),
        "pylock": str(result.root / "pylock.toml"),
        "requirements": str(result.root / "requirements.txt"),
        "sbom": str(result.sbom) if result.sbom else None,
        "seconds": result.seconds,
    }


def print_result(result: Wheelhouse) -> None:
    for note in result.notes:
        print(note)
    built = [f for f in result.files if f.built_from]
    size = sum(f.size for f in result.files)
    targets = "; ".join(t.name for t in result.targets)
    print(f"wheelhouse {result.root}: {len(result.files)} wheels ({size / 1e6:.1f} MB) for {result.packages} "
          f"packages, {len(built)} built here, for {targets} in {result.seconds:.2f}s")
    for wheel in built:
        print(f"  built {wheel.filename} from its {wheel.built_from}")
    print(f"  install: lading install {result.root} --offline  |  pip install --no-index --find-links "
          f"{result.root} --require-hashes -r {result.root / 'requirements.txt'}")
