"""``lading show``: what would be installed for a target, and what was left out and why."""

from __future__ import annotations

import argparse

from lading import report
from lading.cli import common
from lading.select import select


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "show", help="show what a lock installs for a target",
        description="Show what would be installed for a target: name, version, chosen artifact, "
        "source; and what was left out and why.",
    )
    common.add_lock_arguments(parser)
    common.add_target_arguments(parser)
    common.add_group_arguments(parser)
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    lock, found = common.load_lock(args)
    selection = select(lock, common.target(args), common.group_request(args))
    if args.json:
        common.print_json(report.selection(selection, default_index=None, note=found.note))
        return 0
    for f in lock.findings:
        common.warn(str(f))
    rows = []
    for s in selection.selected:
        art = report.artifact(s)
        shown = art.get("filename") or art.get("url") or art.get("path") or ""
        if art["kind"] == "index-lookup":
            shown = f"(by hash, {len(art['hashes'])} known)"
        elif art["kind"] == "vcs":
            shown = f"{art['url'] or art['path']}@{(art['commit'] or '')[:12]}"
        src = report.origin_source(s, None)
        where = src.get("index") or ("default index" if src["kind"] == "index" else src["kind"])
        rows.append((s.package.name, s.version or "-", art["kind"], shown, where))
    print(f"{lock.path} ({lock.format}) for {selection.target.name}"
          + (f", groups: {', '.join(sorted(selection.groups))}" if selection.groups else "")
          + (f", extras: {', '.join(sorted(selection.extras))}" if selection.extras else ""))
    print(common.table(rows, ("name", "version", "kind", "artifact", "source")))
    if selection.skipped:
        print()
        print("left out:")
        print(common.table(
            [(s.package.name, str(s.package.version or "-"), s.reason, s.detail) for s in selection.skipped],
            ("name", "version", "reason", "detail"),
        ))
    print(f"\n{len(selection.selected)} to install, {len(selection.skipped)} left out")
    return 0
