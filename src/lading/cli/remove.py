"""``lading remove``: remove requirements from the project's manifest and re-lock (unneeded pins drop out)."""

from __future__ import annotations

import argparse

from lading.cli.add import add_after_arguments, add_project_arguments, finish, index_options, project_for


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "remove", help="remove packages from the manifest and re-lock",
        description="Remove requirements from the project's manifest (every entry of the name, or only the "
        "one in --group / --optional), then re-lock minimally: pins nothing needs any more are dropped. In a "
        "plain pinned requirements.txt the pins only the removed packages needed are removed too, and a "
        "package another pin still needs is refused.",
    )
    parser.add_argument("packages", nargs="+", metavar="PKG", help="a package name")
    place = parser.add_mutually_exclusive_group()
    place.add_argument("--group", metavar="G", help="remove from this dependency group only")
    place.add_argument("--optional", metavar="EXTRA", help="remove from this extra only")
    parser.add_argument("--no-lock", action="store_true", help="edit the manifest only")
    add_project_arguments(parser)
    add_after_arguments(parser, hashes=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.workflow import remove

    project = project_for(args)
    outcome = remove(project, args.packages, group=args.group, optional=args.optional, lock=not args.no_lock,
                     options=index_options(args))
    return finish("remove", outcome, args)
