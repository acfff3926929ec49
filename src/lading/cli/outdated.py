"""``lading outdated``: locked versions against the newest the manifest allows and the newest released."""

from __future__ import annotations

import argparse

from lading.cli import common
from lading.cli.add import add_project_arguments, index_options


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "outdated", help="show locked packages that have newer versions",
        description="For each locked package: the version locked, the newest the manifest allows (what "
        "`lading upgrade --all` would lock) and the newest released for the targets (their Python and "
        "platforms, whatever the manifest's ranges say). Only packages with something newer are shown, "
        "unless --all.",
    )
    parser.add_argument("--all", action="store_true", help="show every locked package")
    add_project_arguments(parser)
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.workflow import find_project, outdated

    found = outdated(find_project(args.project), everything=args.all, options=index_options(args))
    if args.json:
        common.print_json(found.report())
        return 0
    if not found.rows:
        print(f"{found.lock_path.name}: every package is at its newest version")
        return 0

    def shown(versions: tuple[object, ...]) -> str:
        return ", ".join(str(v) for v in versions) or "-"

    rows = [
        [row.name, shown(row.locked), shown(row.allowed), str(row.latest) if row.latest is not None else "-"]
        for row in found.rows
    ]
    print(common.table(rows, ["package", "locked", "allowed", "latest"]))
    return 0
