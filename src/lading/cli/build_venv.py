"""``lading build venv``: a venv for a fixed prefix, packed as a reproducible tarball."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from lading.cli import common

if TYPE_CHECKING:
    from lading.artifacts.venvpack import BuiltVenv, Prepared, Source

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "venv", help="a virtual environment for a fixed prefix, as a reproducible tarball",
        description="Install what the lock selects (and the project, non-editable) into a venv built for "
        "the directory it will run from (--prefix), with bytecode, and pack it as a tarball whose members "
        "sit under the prefix (extract with `tar -xf app.tar.gz -C /`). The venv links to its base "
        "interpreter (--python, default the one running lading) by absolute path: that interpreter must "
        "exist at the same path where the venv runs.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the tarball to write (.tar.gz, .tgz, .tar.xz or .tar)")
    parser.add_argument("--prefix", type=Path, required=True, metavar="DIR",
                        help="the absolute directory the venv will live at, such as /opt/app")
    parser.add_argument("--python", metavar="PY",
                        help="the base interpreter (path or name on PATH; default: the one running lading)")
    add_source_arguments(parser)
    parser.set_defaults(run=run_command)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Selection and fetching options shared by the venv-based artifacts (venv, deb)."""
    common.add_group_arguments(parser)
    common.add_fetch_arguments(parser)
    common.add_json_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def source_from(args: argparse.Namespace, python: Optional[str]) -> Source:
    from lading.artifacts.venvpack import Source

    common.check_jobs(args)
    return Source(
        path=args.path, lock=args.lock, python=python, request=common.group_request(args),
        offline=args.offline, find_links=tuple(args.find_links), index_url=args.index_url,
        cache_dir=args.cache_dir, jobs=args.jobs,
    )


def run_command(args: argparse.Namespace) -> int:
    from lading.artifacts.venvpack import VenvOptions, build_venv, check_prefix
    from lading.progress import for_stream

    check_prefix(args.prefix)  # before any work
    source = source_from(args, args.python)
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    try:
        built = build_venv(VenvOptions(source=source, output=args.output, prefix=args.prefix), progress,
                           os.environ)
    finally:
        progress.done()
    if args.json:
        common.print_json(report(built))
    elif not args.quiet:
        print_built(built)
    return 0


def prepared_report(prepared: Prepared) -> dict[str, Any]:
    interpreter = prepared.staged.result.destination.interpreter
    project = prepared.project
    return {
        "python": {"base": prepared.base_interpreter, "version": interpreter.full_version},
        "project": {"name": project.project_name, "version": project.version} if project else None,
        "packages": [{"name": d.project_name, "version": d.version} for d in prepared.dists],
        "sbom": prepared.sbom,
        "missing_bytecode": list(prepared.missing_bytecode),
    }


def report(built: BuiltVenv) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "artifact": {"kind": "venv", "path": str(built.output), "size": built.size, "sha256": built.sha256,
                     "entries": built.entries, "prefix": str(built.prefix)},
        **prepared_report(built.prepared),
        "seconds": built.seconds,
    }


def print_prepared(prepared: Prepared) -> None:
    project = prepared.project
    what = f"{project.project_name} {project.version} and " if project else ""
    others = len(prepared.dists) - (1 if project else 0)
    print(f"  {what}{others} package{'s' if others != 1 else ''}, "
          f"Python {prepared.staged.result.destination.interpreter.full_version}")
    print(f"  base interpreter {prepared.base_interpreter} (must exist at this path where it runs)")
    if not prepared.sbom:
        print("  no SBOM (lading.artifacts.sbom is not available)")
    if prepared.missing_bytecode:
        print(f"  {len(prepared.missing_bytecode)} module(s) without bytecode (Python writes it at run time)")


def print_built(built: BuiltVenv) -> None:
    print(f"wrote {built.output} ({built.size / 1e6:.1f} MB, {built.entries} entries) for {built.prefix} "
          f"in {built.seconds:.2f}s")
    print_prepared(built.prepared)
    print(f"  sha256 {built.sha256}")
    print(f"  install: tar -xf {built.output.name} -C /   (the members sit under {str(built.prefix).lstrip('/')}/)")
