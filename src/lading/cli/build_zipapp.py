"""``lading build zipapp``: one executable file (PEP 441) with the application and its locked dependencies."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lading.cli import common

if TYPE_CHECKING:
    from lading.artifacts.zipapp import Zipapp

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "zipapp", help="one executable file holding the application and its locked dependencies",
        description="Install what the lock selects (and the project, non-editable) for the target, with "
        "bytecode, and pack it into one executable zipapp (PEP 441). On first run it unpacks into a cache "
        "directory named by its content hash ($LADING_PYZ_ROOT, else $XDG_CACHE_HOME/lading-pyz, else "
        "~/.cache/lading-pyz); later runs start from there. The same lock and sources give the same bytes "
        "(SOURCE_DATE_EPOCH dates the entries). `lading inspect` prints the lock and metadata it carries.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the zipapp to write, such as app.pyz")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument("-c", "--console-script", metavar="NAME",
                       help="run this console script of a locked distribution (default: the project's only "
                       "console script)")
    entry.add_argument("-e", "--entry-point", metavar="MODULE[:FUNCTION]",
                       help="run this function (or run this module as __main__)")
    parser.add_argument("--python-shebang", default=None, metavar="LINE",
                        help="the interpreter line, without #! (default: /usr/bin/env python3)")
    common.add_target_arguments(parser)
    common.add_group_arguments(parser)
    parser.add_argument("--no-compile", action="store_true",
                        help="ship no bytecode: the zipapp then runs on any Python the lock's files suit, "
                        "compiling on first import")
    parser.add_argument("--compress-level", type=int, default=1, metavar="N",
                        help="deflate level 0-9 (default 1: several times faster than 6, about 10%% larger)")
    common.add_fetch_arguments(parser)
    common.add_json_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lading.artifacts.stage import StageOptions
    from lading.artifacts.zipapp import DEFAULT_SHEBANG, ZipappOptions, build
    from lading.progress import for_stream

    common.check_jobs(args)
    target = None
    if args.platform is not None:
        from lading.target import from_spec

        target = from_spec(args.platform)
    stage = StageOptions(
        path=args.path, lock=args.lock, python=args.python, target=target, request=common.group_request(args),
        offline=args.offline, find_links=tuple(args.find_links), index_url=args.index_url,
        compile=not args.no_compile, cache_dir=args.cache_dir, jobs=args.jobs,
    )
    options = ZipappOptions(
        output=args.output, stage=stage, console_script=args.console_script, entry_point=args.entry_point,
        shebang=args.python_shebang or DEFAULT_SHEBANG, compresslevel=args.compress_level,
    )
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    try:
        built = build(options, progress, os.environ)
    finally:
        progress.done()
    if args.json:
        common.print_json(report(built))
    elif not args.quiet:
        run = f" (console script {built.console_script})" if built.console_script else ""
        print(f"wrote {args.output}: {built.size / 1e6:.1f} MB, {built.files} files, "
              f"entry point {built.entry_point}{run}")
        print(f"content {built.content_hash}")
    return 0


def report(built: Zipapp) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "path": str(built.path),
        "size": built.size,
        "files": built.files,
        "content_hash": built.content_hash,
        "entry_point": built.entry_point,
        "console_script": built.console_script,
        "lock_member": built.lock_member,
        "metadata": dict(built.metadata),
    }
