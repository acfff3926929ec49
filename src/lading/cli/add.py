"""``lading add``: add requirements to the project's manifest, re-lock minimally, report what moved."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lading.cli import common
from lading.errors import LadingError

if TYPE_CHECKING:
    from lading.buildconfig import BuildCommand
    from lading.workflow import IndexOptions, Outcome, Project


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every workflow command shares: where the project is, which indexes, which targets."""
    parser.add_argument("--project", type=Path, default=Path("."), metavar="PATH",
                        help="the project directory, its manifest, or a plain requirements.txt (default: .)")
    parser.add_argument("--index-url", metavar="URL", help="the index to resolve from")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                        help="another index, asked after the first (repeatable)")
    parser.add_argument("--target", action="append", default=[], metavar="SPEC",
                        help="lock for this target (repeatable; default: [tool.lading] targets, else this "
                        "interpreter)")


def add_after_arguments(parser: argparse.ArgumentParser, *, hashes: bool) -> None:
    """--install, --build (and --hashes) of add, remove and upgrade."""
    parser.add_argument("--install", action="store_true",
                        help="then sync the project's environment (as `lading install` does by default)")
    parser.add_argument("--build", action="store_true",
                        help="then rebuild the configured artifacts ([tool.lading.build] / [tool.lading.image])")
    if hashes:
        parser.add_argument("--hashes", action="store_true",
                            help="plain pinned requirements.txt: write --hash lines for every pin")
    common.add_json_argument(parser)


def index_options(args: argparse.Namespace) -> IndexOptions:
    from lading.workflow import IndexOptions

    return IndexOptions(index_url=args.index_url, extra_index_urls=tuple(args.extra_index_url),
                        targets=tuple(args.target))


def project_for(args: argparse.Namespace) -> Project:
    """The project, and for --build the configured builds, checked before anything changes."""
    from lading.workflow import check_build, find_project

    project = find_project(args.project)
    args.builds = check_build(project.folder) if getattr(args, "build", False) else []
    return project


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "add", help="add packages to the manifest and re-lock",
        description="Add requirements to the project's manifest (pyproject.toml [project] or [tool.poetry], "
        "requirements.in, Pipfile, or a plain pinned requirements.txt), keeping its formatting, then re-lock "
        "minimally and print what changed in the lock. Without a version range, the newest version is "
        "written as a lower bound (>=X.Y; [tool.lading] add-bound = \"exact\" or \"compatible\" changes "
        "that); a plain pinned requirements.txt gets an exact pin of the newest version that fits its "
        "other pins.",
    )
    parser.add_argument("packages", nargs="+", metavar="PKG", help="a requirement: name[extras][range][; marker]")
    place = parser.add_mutually_exclusive_group()
    place.add_argument("--group", metavar="G", help="add to this dependency group (Pipfile: a category; "
                       "'dev' is [dev-packages])")
    place.add_argument("--optional", metavar="EXTRA", help="add to this extra (pyproject.toml)")
    parser.add_argument("--no-lock", action="store_true", help="edit the manifest only")
    add_project_arguments(parser)
    add_after_arguments(parser, hashes=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.workflow import add

    project = project_for(args)
    outcome = add(project, args.packages, group=args.group, optional=args.optional, lock=not args.no_lock,
                  hashes=args.hashes, options=index_options(args))
    return finish("add", outcome, args)


def finish(command: str, outcome: Outcome, args: argparse.Namespace) -> int:
    """Print what happened (text or --json), then --install, then --build."""
    report = outcome.report(command)
    builds = getattr(args, "builds", [])
    if builds and outcome.lock is None:
        common.warn("--build skipped: nothing was locked (--no-lock)")
        builds = []
    if builds and args.json:  # the builds' own output goes to stderr; the one JSON document says what ran
        report["builds"] = _build(builds, outcome.project.folder, quiet=True)
    code = _finish(outcome, args, report)
    if builds and not args.json:
        sys.stdout.flush()
        _build(builds, outcome.project.folder, quiet=False)
    return code


def _build(builds: Sequence[BuildCommand], folder: Path, *, quiet: bool) -> list[dict[str, Any]]:
    """Run each configured ``lading build`` in the project directory; the first failure stops the rest."""
    import contextlib
    import os

    from lading.cli.main import build_parser

    done: list[dict[str, Any]] = []
    for command in builds:
        if not quiet:
            common.note(f"building: {command.describe()}")
        args = build_parser().parse_args(list(command.argv))
        previous = Path.cwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(sys.stderr) if quiet else contextlib.nullcontext():
                code = args.run(args)
        finally:
            os.chdir(previous)
        done.append({"kind": command.kind, "argv": list(command.argv), "exit": code})
        if code != 0:
            raise LadingError(f"{command.describe()} failed (exit {code})", file=folder / "pyproject.toml",
                              field=command.field, hint="the lock was updated; fix the build and run it again")
    return done


def _finish(outcome: Outcome, args: argparse.Namespace, report: dict[str, Any]) -> int:
    if getattr(args, "install", False) and outcome.lock is None:
        common.warn("--install skipped: nothing was locked (--no-lock)")
    if getattr(args, "install", False) and outcome.lock is not None:
        from lading.workflow import install

        if not args.json:
            _print(outcome)
            sys.stdout.flush()
        result = install(outcome.project)
        if args.json:
            from lading.cli.install import report as install_report

            report["install"] = install_report(result)
            common.print_json(report)
        else:
            from lading.cli.install import print_result

            print_result(result, verbose=False)
        return 0
    if args.json:
        common.print_json(report)
    else:
        _print(outcome)
    return 0


def _print(outcome: Outcome) -> None:
    for line in outcome.edits:
        print(line)
    for change in outcome.changes:
        print(change)
    for note in outcome.notes:
        print(f"note: {note}")
    if outcome.lock is not None:
        count = len(outcome.lock.packages)
        what = "pins" if outcome.project.is_pinned else "packages"
        tail = "" if outcome.changes else " (no changes)"
        print(f"{outcome.project.lock.name}: {count} {what}{tail}")
