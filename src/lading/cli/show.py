"""``lading show``: what would be installed for a target, and what was left out and why."""

from __future__ import annotations

import argparse

from lading import report
from lading.cli import common
from lading.errors import IndexError_
from lading.index.config import redact
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
    parser.add_argument("--index-url", metavar="URL", help="the index to look files up on")
    parser.add_argument("--offline", action="store_true",
                        help="do not look up files that the lock records by hash only (Pipfile.lock, "
                        "requirements.txt); show their hashes instead")
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    lock, found = common.load_lock(args)
    target = common.target(args)
    request = common.group_request(args)
    selection = select(lock, target, request)
    pending = {lock.packages.index(s.package) for s in selection.selected if s.pending is not None}
    lookup = bool(pending) and not args.offline
    index = common.index_config(args.index_url, lock, quiet=not lookup)
    if lookup and index is not None:
        from lading.cache import Cache, default_cache_dir
        from lading.index.complete import complete

        cache = Cache(default_cache_dir())
        try:
            selection = select(complete(lock, index, only=pending, cache=cache), target, request)
        except IndexError_ as exc:
            common.warn(f"{exc.headline}; showing hashes only")
    default_index = redact(index.primary) if index else None
    if args.json:
        common.print_json(report.selection(selection, default_index=default_index, note=found.note))
        return 0
    for f in selection.lock.findings:  # with what completing the lock found
        common.warn(str(f))
    rows = []
    for s in selection.selected:
        art = report.artifact(s)
        shown = art.get("filename") or art.get("url") or art.get("path") or ""
        if art["kind"] == "index-lookup":
            shown = f"(by hash, {len(art['hashes'])} known)"
        elif art["kind"] == "vcs":
            shown = f"{art['url'] or art['path']}@{(art['commit'] or '')[:12]}"
        src = report.origin_source(s, default_index)
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
