"""``lading export``: the same locked set in another format."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from lading.cli import common
from lading.model import Lock
from lading.select import resolve_groups, select

FORMATS = ("pylock", "requirements", "pipfile-lock")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export", help="write the locked set in another format",
        description="Write the same locked set as pylock.toml, requirements.txt or Pipfile.lock. Without "
        "--python/--platform a pylock output is multi-use (markers kept); with one, it is made for that "
        "target only. Files a lock names without URLs are looked up on the index.",
    )
    common.add_lock_arguments(parser)
    parser.add_argument("--to", required=True, choices=FORMATS, help="the output format")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
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
    selection = select(lock, common.target(args), request) if targeted else None
    for f in lock.findings:
        common.warn(str(f))
    output_dir = (args.output.parent if args.output else Path.cwd()).resolve()
    if args.to == "pylock":
        only = {lock.packages.index(s.package) for s in selection.selected} if selection else None
        complete = _complete(lock, args.index_url, only)
        if selection is not None:
            selection = select(complete, selection.target, request)
        text = export.to_pylock(complete, groups=groups, extras=extras, selection=selection,
                                output_dir=output_dir)
    elif args.to == "requirements":
        urls = [ix.url for ix in lock.indexes]
        if args.index_url:
            urls = [args.index_url, *(u for u in urls if u != args.index_url)]
        text = export.to_requirements(lock, groups=groups, extras=extras, selection=selection,
                                      index_url=urls[0] if urls else None, extra_index_urls=tuple(urls[1:]))
    else:
        text = export.to_pipfile_lock(lock, groups=groups, extras=extras, selection=selection,
                                      output_dir=output_dir)
    common.write_output(text, args.output)
    if args.output is not None:
        common.note(f"wrote {args.output}")
    return 0


def _complete(lock: Lock, index_url: Optional[str], only: Optional[set[int]]) -> Lock:
    """Look up the URLs a lock does not record (poetry, pdm: by file name; Pipfile, requirements: by hash)."""
    if not lock.pending and all(
        w.url or w.path for p in lock.packages for w in (p.wheels or ())
    ) and all(p.sdist.url or p.sdist.path for p in lock.packages if p.sdist):
        return lock
    from lading.index.complete import complete
    from lading.index.config import default_indexes

    return complete(lock, default_indexes(index_url, (), lock), only=only)
