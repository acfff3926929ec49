"""``lading upgrade``: move the lock to the newest versions the manifest allows."""

from __future__ import annotations

import argparse

from lading.cli.add import add_after_arguments, add_project_arguments, finish, index_options, project_for
from lading.errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "upgrade", help="move locked versions to the newest allowed",
        description="Re-lock letting the named packages (or, with --all or no names, every package) move to "
        "the newest versions the manifest allows; the other pins stay unless they must move. --bump also "
        "raises the lower bounds in the manifest to the versions locked.",
    )
    parser.add_argument("packages", nargs="*", metavar="PKG", help="a package to upgrade")
    parser.add_argument("--all", action="store_true", help="upgrade every package (the default without names)")
    parser.add_argument("--bump", action="store_true",
                        help="raise the manifest's lower bounds to the locked versions")
    add_project_arguments(parser)
    add_after_arguments(parser, hashes=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.workflow import upgrade

    if args.all and args.packages:
        raise UsageError("give package names or --all, not both", field="--all")
    project = project_for(args)
    outcome = upgrade(project, args.packages, bump=args.bump, hashes=args.hashes, options=index_options(args))
    return finish("upgrade", outcome, args)
