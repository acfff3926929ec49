"""``lading install``: bring an environment exactly to what the lock selects for it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lading.cli import common

if TYPE_CHECKING:  # the install machinery is imported when the command runs, not when lading starts
    from lading.installer import InstallResult

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "install", help="install what a lock selects into an environment (exact sync)",
        description="Install exactly what the lock selects for the destination: a venv (created when "
        "missing), an interpreter, a prefix or a target directory. Hashes are verified before anything "
        "changes; packages not in the selection are removed unless --inexact.",
    )
    common.add_lock_arguments(parser)
    where = parser.add_argument_group("destination (default: the active venv, else .venv in the project)")
    where.add_argument("--venv", type=Path, metavar="DIR", help="install into this venv; created when missing")
    where.add_argument("--python", metavar="PY",
                       help="the interpreter: alone, install into its own environment; with --venv, create "
                       "the venv with it")
    where.add_argument("--prefix", type=Path, metavar="DIR", help="install under this prefix, as pip does")
    where.add_argument("--target", type=Path, metavar="DIR", help="install into this directory, as pip does")
    where.add_argument("--break-system-packages", action="store_true",
                       help="allow installing into an interpreter its distribution marks externally managed")
    common.add_group_arguments(parser)
    parser.add_argument("--editable", action="store_true", help="install the project itself editable (PEP 660)")
    parser.add_argument("--deploy", action="store_true",
                        help="refuse a stale lock, any file without a hash, and any build from source")
    parser.add_argument("--inexact", action="store_true", help="keep packages the lock does not select")
    parser.add_argument("--reinstall", action="append", default=[], metavar="PKG",
                        help="reinstall this package even if it is up to date (repeatable)")
    common.add_fetch_arguments(parser)
    parser.add_argument("--no-compile", action="store_true", help="do not install bytecode (.pyc)")
    parser.add_argument("--link-mode", choices=("auto", "clone", "hardlink", "copy"), default="auto",
                        help="how files come out of the cache (auto: clone, else hardlink, else copy)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    common.add_json_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every package and the timings")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lading.install.scheme import DestinationOptions
    from lading.installer import InstallOptions, run
    from lading.progress import for_stream

    common.check_jobs(args)
    options = InstallOptions(
        path=args.path,
        lock=args.lock,
        destination=DestinationOptions(
            venv=args.venv, python=args.python, prefix=args.prefix, target=args.target,
            break_system_packages=args.break_system_packages,
        ),
        request=common.group_request(args),
        deploy=args.deploy,
        editable=args.editable,
        exact=not args.inexact,
        offline=args.offline,
        find_links=tuple(args.find_links),
        index_url=args.index_url,
        compile=not args.no_compile,
        link_mode=args.link_mode,
        cache_dir=args.cache_dir,
        jobs=args.jobs,
        dry_run=args.dry_run,
        reinstall=tuple(args.reinstall),
    )
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    result = run(options, progress, os.environ)
    if args.json:
        common.print_json(report(result))
        return 0
    if not args.quiet:
        print_result(result, verbose=args.verbose or args.dry_run)
    return 0


def report(result: InstallResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "version": REPORT_VERSION,
        "lock": {"path": str(result.found.path), "format": result.found.format, "note": result.found.note},
        "destination": {
            "kind": result.destination.kind,
            "root": str(result.destination.root),
            "interpreter": str(result.destination.interpreter.executable),
            "python_version": result.destination.interpreter.full_version,
            "created": result.destination.created,
            "description": result.destination.description,
        },
        "dry_run": result.dry_run,
        "plan": [
            {
                "action": a.kind,
                "name": a.name,
                "installed": a.installed,
                "locked": a.locked,
                "reason": a.reason,
            }
            for a in plan.actions
        ],
        "protected": list(plan.protected),
        "skipped": [
            {"name": s.package.name, "version": str(s.package.version) if s.package.version else None,
             "reason": s.reason, "detail": s.detail}
            for s in result.selection.skipped
        ],
        "outcome": None if result.dry_run else {
            "counts": plan.counts(),
            "seconds": result.seconds,
            "timings": dict(result.timings),
        },
    }


def print_result(result: InstallResult, *, verbose: bool) -> None:
    from lading.plan import ACTION_KINDS

    plan = result.plan
    print(f"{result.destination.description}")
    for note in result.notes:
        print(note)
    if verbose:
        for action in plan.actions:
            if action.kind == "unchanged" and not result.dry_run:
                continue
            versions = {
                "install": action.locked,
                "remove": action.installed,
                "unchanged": action.installed,
            }.get(action.kind, f"{action.installed} -> {action.locked}")
            print(f"  {action.kind:<10} {action.name} {versions or ''}".rstrip())
    counts = plan.counts()
    summary = ", ".join(f"{counts[k]} {k}" for k in ACTION_KINDS if counts[k])
    if result.dry_run:
        changes = ", ".join(f"{counts[k]} {k}" for k in ACTION_KINDS if counts[k] and k != "unchanged")
        kept = f"; {counts['unchanged']} unchanged" if counts["unchanged"] else ""
        print(f"would change: {changes or 'nothing'}{kept} (dry run)")
        return
    timing = f" in {result.seconds:.2f}s"
    print(f"{summary or 'nothing to do'}{timing}")
    if verbose and result.timings:
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
