"""``lading export``: the same locked set in another format."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Optional

from lading.cli import common
from lading.model import GroupRequest, Lock
from lading.select import resolve_groups, select

FORMATS = ("pylock", "requirements", "pipfile-lock", "nix")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export", help="write the locked set in another format",
        description="Write the same locked set as pylock.toml, requirements.txt or Pipfile.lock, or as a Nix "
        "expression (a directory: default.nix, packages.nix, overrides.nix). Without --python/--platform a "
        "pylock output is multi-use (markers kept); with one, it is made for that target only; a Nix "
        "expression is always made for one target (default: this interpreter). Files a lock names without "
        "URLs are looked up on the index.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("--to", required=True, choices=FORMATS, help="the output format")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (default: stdout); for --to nix a directory (default: ./nix)")
    parser.add_argument("--index-url", metavar="URL", help="the index to look files up on")
    common.add_target_arguments(parser)
    common.add_group_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading import export

    lock, _ = common.load_lock(args)
    request = common.group_request(args)
    groups, extras = resolve_groups(lock, request)
    targeted = args.python is not None or args.platform is not None
    if args.no_project:
        lock = _without(lock, {i for i in range(len(lock.packages)) if lock.is_project(i)})
    if args.to in ("pylock", "requirements", "nix"):
        lock = _without_unpinned(lock)
    for f in lock.findings:
        common.warn(str(f))
    if args.to == "nix":
        return _run_nix(args, lock, request)
    selection = select(lock, common.target(args), request) if targeted else None
    output_dir = (args.output.parent if args.output else Path.cwd()).resolve()
    if args.to == "pylock":
        only = {lock.packages.index(s.package) for s in selection.selected} if selection else None
        complete = _complete(lock, args.index_url, only)
        if selection is not None:
            selection = select(complete, selection.target, request)
        text = export.to_pylock(complete, groups=groups, extras=extras, selection=selection,
                                output_dir=output_dir)
    elif args.to == "requirements":
        own = [ix.url for ix in lock.indexes if not ix.extra]
        index_url = args.index_url or (own[0] if own else None)
        extra_urls = tuple(dict.fromkeys(
            u for u in [*own, *(ix.url for ix in lock.indexes if ix.extra)] if u != index_url))
        text = export.to_requirements(lock, groups=groups, extras=extras, selection=selection,
                                      index_url=index_url, extra_index_urls=extra_urls)
    else:
        text = export.to_pipfile_lock(lock, groups=groups, extras=extras, selection=selection,
                                      output_dir=output_dir)
    common.write_output(text, args.output)
    if args.output is not None:
        common.note(f"wrote {args.output}")
    return 0


def _run_nix(args: argparse.Namespace, lock: Lock, request: GroupRequest) -> int:
    """A Nix expression is made for one target: the one given, else the interpreter running lading."""
    from lading.export import nix

    target = common.target(args)
    selection = select(lock, target, request)
    chosen = {id(s.package) for s in selection.selected}
    only = {i for i, p in enumerate(lock.packages) if id(p) in chosen}
    complete = _complete(lock, args.index_url, only)
    if complete is not lock:
        selection = select(complete, target, request)
    for skipped in selection.skipped:
        if skipped.reason == "no-compatible-artifact":
            common.warn(f"package {skipped.package.name}: left out: {skipped.detail}")
    output = (args.output or Path("nix")).resolve()
    exported = nix.to_nix(complete, selection, output_dir=output)
    for warning in exported.warnings:
        common.warn(warning)
    written = nix.write(exported, output)
    kept = [name for name in nix.FILES if output / name not in written]
    common.note(f"wrote {', '.join(p.name for p in written)} in {output}"
                + (f" (kept your {', '.join(kept)})" if kept else ""))
    return 0


def _without_unpinned(lock: Lock) -> Lock:
    """A pylock.toml can only hold pinned files: leave out what the source lock left unpinned, and say so.

    pipenv writes ``"*"`` for entries it could not lock on the locking machine (a Windows-only package
    locked on Linux); they are only ever selected where their marker holds.
    """
    unpinned = {i for i, p in enumerate(lock.packages) if i in lock.pending and p.version is None}
    for i in sorted(unpinned):
        package = lock.packages[i]
        where = f" (where {package.marker})" if package.marker else ""
        common.warn(f"{lock.path.name}: package {package.name}: left out of the export: the lock does not pin "
                    f"it, so the exported lock cannot install it{where}")
    return _without(lock, unpinned)


def _without(lock: Lock, drop: set[int]) -> Lock:
    if not drop:
        return lock
    keep = [i for i in range(len(lock.packages)) if i not in drop]
    return replace(
        lock,
        pylock=replace(lock.pylock, packages=[lock.packages[i] for i in keep]),
        origins=tuple(lock.origins[i] for i in keep),
        pending={keep.index(i): files for i, files in lock.pending.items() if i in keep},
    )


def _complete(lock: Lock, index_url: Optional[str], only: Optional[set[int]]) -> Lock:
    """Look up the URLs a lock does not record (poetry, pdm: by file name; Pipfile, requirements: by hash)."""
    if not lock.pending and all(
        w.url or w.path for p in lock.packages for w in (p.wheels or ())
    ) and all(p.sdist.url or p.sdist.path for p in lock.packages if p.sdist):
        return lock
    from lading.cache import Cache, default_cache_dir
    from lading.index.complete import complete
    from lading.index.config import default_indexes

    cache = Cache(default_cache_dir())
    return complete(lock, default_indexes(index_url, (), lock), only=only, cache=cache)
