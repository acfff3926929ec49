"""``lading verify``: the lock is sound, and with ``--deploy`` not stale against its manifest."""

from __future__ import annotations

import argparse

from lading.cli import common
from lading.locks.staleness import freshness
from lading.soundness import check


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify", help="check a lock is sound (and fresh, with --deploy)",
        description="Check the lock is sound: exact pins, every remote artifact hashed with a supported "
        "algorithm, no duplicate or contradictory entries. With --deploy, also check it is not out of "
        "date against the manifest beside it. Exit 0: sound (and fresh); 1: not.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("--deploy", action="store_true",
                        help="also refuse a lock that is out of date with its manifest")
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    lock, found = common.load_lock(args)
    problems = check(lock)
    fresh = freshness(lock) if args.deploy else None
    stale = fresh is not None and fresh.checked and not fresh.fresh
    ok = not problems and not stale
    if args.json:
        common.print_json({
            "version": 1,
            "lock": {"path": str(lock.path), "format": lock.format, "note": found.note},
            "sound": not problems,
            "problems": [
                {"package": p.package, "field": p.field, "message": p.message, "hint": p.hint}
                for p in problems
            ],
            "freshness": None if fresh is None else {
                "checked": fresh.checked,
                "fresh": fresh.fresh,
                "method": fresh.method,
                "manifest": str(fresh.manifest) if fresh.manifest else None,
                "differences": list(fresh.differences),
            },
            "ok": ok,
        })
        return 0 if ok else 1
    for p in problems:
        where = ": ".join(x for x in (lock.path.name, f"package {p.package}" if p.package else None,
                                      p.field) if x)
        print(f"{where}: {p.message}")
        if p.hint:
            print(f"  hint: {p.hint}")
    if fresh is not None:
        if not fresh.checked:
            common.warn(f"{lock.path.name}: freshness not checked: {fresh.method}")
        elif stale:
            manifest = fresh.manifest.name if fresh.manifest else "its manifest"
            print(f"{lock.path.name}: out of date with {manifest} ({fresh.method})")
            for line in fresh.differences:
                print(f"  - {line}")
            print(f"  hint: re-lock with the tool that wrote {lock.path.name}, then commit both files")
    if ok:
        what = "sound and up to date" if fresh is not None and fresh.checked else "sound"
        print(f"{lock.path.name}: {what} ({len(lock.packages)} packages)")
        return 0
    return 1
