"""``lading cache dir|info|prune|clean|verify``: look after the download and unpack cache."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from lading.cache import DEFAULT_PRUNE_DAYS, Cache, Removed, default_cache_dir
from lading.cli import common

_ACTIONS = ("dir", "info", "prune", "clean", "verify")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cache", help="show, prune, clean or verify lading's cache",
        description="lading keeps downloaded archives, unpacked wheels and their bytecode in one "
        "content-addressed cache (--cache-dir, LADING_CACHE_DIR, $XDG_CACHE_HOME/lading, "
        "~/.cache/lading).",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action", required=True)
    helps = {
        "dir": "print the cache directory",
        "info": "sizes and entry counts per bucket",
        "prune": "remove leftovers, incomplete entries and entries unused for a while",
        "clean": "remove everything in the cache",
        "verify": "re-hash every cached file; exit 1 if anything is inconsistent",
    }
    for name in _ACTIONS:
        action = actions.add_parser(name, help=helps[name], description=helps[name])
        action.add_argument("--cache-dir", metavar="DIR", help="the cache directory to use")
        if name in ("info", "prune", "clean", "verify"):
            common.add_json_argument(action)
        if name == "prune":
            action.add_argument(
                "--older-than", metavar="DAYS", type=float, default=DEFAULT_PRUNE_DAYS,
                help=f"remove entries not used for this many days (default {DEFAULT_PRUNE_DAYS:g}; "
                "0 removes every entry)",
            )
        if name == "verify":
            action.add_argument("--remove-broken", action="store_true",
                                help="delete the entries found broken (they are fetched again when needed)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    cache = Cache(default_cache_dir(getattr(args, "cache_dir", None)))
    action: str = args.action
    if action == "dir":
        print(cache.root)
        return 0
    if action == "info":
        return _info(cache, args.json)
    if action == "prune":
        removed = cache.prune(older_than_days=args.older_than, on_wait=_waiting)
        return _removed(cache, removed, args.json, "pruned")
    if action == "clean":
        removed = cache.clean(on_wait=_waiting)
        return _removed(cache, removed, args.json, "cleaned")
    return _verify(cache, args.json, args.remove_broken)


def _waiting() -> None:
    common.note("waiting for other lading processes to finish with the cache")


def _info(cache: Cache, as_json: bool) -> int:
    info = cache.info()
    if as_json:
        common.print_json({
            "root": str(info.root),
            "exists": info.exists,
            "size": info.size,
            "buckets": [
                {"name": b.name, "entries": b.entries, "size": b.size,
                 "incomplete": b.incomplete, "temporary": b.temporary}
                for b in info.buckets
            ],
            "other": list(info.other),
        })
        return 0
    print(f"{info.root}{'' if info.exists else ' (does not exist yet)'}")
    rows = [(b.name, str(b.entries), str(b.incomplete), str(b.temporary), human_size(b.size))
            for b in info.buckets]
    print(common.table(rows, ("bucket", "entries", "incomplete", "temporary", "size")))
    print(f"total {human_size(info.size)}")
    if info.other:
        print(f"other directories: {', '.join(info.other)} (`lading cache prune` removes old bucket versions)")
    return 0


def _removed(cache: Cache, removed: Sequence[Removed], as_json: bool, verb: str) -> int:
    freed = sum(r.size for r in removed)
    if as_json:
        common.print_json({
            "root": str(cache.root),
            "freed": freed,
            "removed": [{"path": str(r.path), "reason": r.reason, "size": r.size} for r in removed],
        })
        return 0
    reasons: dict[str, int] = {}
    for r in removed:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    detail = "; ".join(f"{count} {reason}" for reason, count in reasons.items())
    print(f"{verb} {cache.root}: removed {len(removed)} item{'s' if len(removed) != 1 else ''}, "
          f"freed {human_size(freed)}" + (f" ({detail})" if detail and verb == "pruned" else ""))
    return 0


def _verify(cache: Cache, as_json: bool, remove_broken: bool) -> int:
    problems = cache.verify()
    removed: list[Path] = []
    if remove_broken:
        for entry in dict.fromkeys(_entry_of(cache, p.path) for p in problems):
            if entry is not None:
                cache.remove_entry(entry)
                removed.append(entry)
    if as_json:
        common.print_json({
            "root": str(cache.root),
            "ok": not problems,
            "problems": [{"path": str(p.path), "problem": p.what} for p in problems],
            "removed": [str(p) for p in removed],
        })
    else:
        for problem in problems:
            print(problem)
        for entry in removed:
            print(f"removed {entry}")
        if problems:
            print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {cache.root}"
                  + ("" if remove_broken else "; `lading cache verify --remove-broken` deletes those entries"))
        else:
            print(f"{cache.root}: every entry is intact")
    return 1 if problems else 0


def _entry_of(cache: Cache, path: Path) -> Path | None:
    try:
        parts = path.relative_to(cache.root).parts
    except ValueError:
        return None
    return cache.root.joinpath(*parts[:3]) if len(parts) >= 3 else None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover
