"""Options shared by every command, and the steps they all start with: find the lock, pick the target."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from lading import locks
from lading.locks.detect import Found, find
from lading.model import GroupRequest, Lock, Target

if TYPE_CHECKING:
    from lading.index.config import IndexConfig


def add_lock_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=".", type=Path,
        help="a lock file, or a project directory holding one (default: the current directory)",
    )
    parser.add_argument("--lock", type=Path, metavar="FILE",
                        help="the lock file to use when the directory holds several")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--python", metavar="PY",
                       help="select for this interpreter (a path or a name on PATH)")
    group.add_argument("--platform", type=Path, metavar="SPEC",
                       help="select for a machine described by a platform spec (see `lading target`)")


def add_group_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", action="append", default=[], metavar="G",
                        help="add a dependency group (repeatable)")
    parser.add_argument("--extra", action="append", default=[], metavar="E",
                        help="add an extra of the project (repeatable)")
    parser.add_argument("--dev", action="store_true",
                        help="add the development groups (uv/poetry 'dev', Pipfile 'develop', pdm's dev groups)")
    parser.add_argument("--all-groups", action="store_true", help="add every dependency group")
    parser.add_argument("--all-extras", action="store_true", help="add every extra")
    parser.add_argument("--no-project", action="store_true",
                        help="leave out the project itself (the source tree the lock belongs to)")


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """Where files come from: the options of every command that downloads what a lock names."""
    fetching = parser.add_argument_group("fetching")
    fetching.add_argument("--offline", action="store_true",
                          help="use only the cache and --find-links directories; never the network")
    fetching.add_argument("--find-links", action="append", default=[], type=Path, metavar="DIR",
                          help="a directory of wheels and sdists to use before the index (repeatable)")
    fetching.add_argument("--index-url", metavar="URL", help="the index for files the lock names without a URL")
    fetching.add_argument("--cache-dir", type=Path, metavar="DIR", help="the cache (default: ~/.cache/lading)")
    fetching.add_argument("--jobs", type=int, default=8, metavar="N", help="parallel downloads (default 8)")


def check_jobs(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        from lading.errors import UsageError

        raise UsageError("--jobs must be at least 1", field="--jobs")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")


def group_request(args: argparse.Namespace) -> GroupRequest:
    return GroupRequest(
        groups=tuple(args.group),
        extras=tuple(args.extra),
        dev=args.dev,
        all_groups=args.all_groups,
        all_extras=args.all_extras,
        no_project=args.no_project,
    )


def load_lock(args: argparse.Namespace) -> tuple[Lock, Found]:
    found = find(args.path, args.lock)
    if found.note and not getattr(args, "json", False):
        note(found.note)
    return locks.read(found.path, found.format), found


def target(args: argparse.Namespace) -> Target:
    from lading.target import resolve_target

    return resolve_target(getattr(args, "python", None), getattr(args, "platform", None))


def index_config(index_url: Optional[str], lock: Lock, *, quiet: bool = False) -> Optional[IndexConfig]:
    """Where files are looked up; None when no index is configured anywhere (then nothing is looked up).

    ``quiet``: nothing needs looking up, so a missing configuration is not worth a warning.
    """
    from lading.errors import IndexError_
    from lading.index.config import default_indexes

    try:
        return default_indexes(index_url, (), lock)
    except IndexError_ as exc:
        if index_url is not None:
            raise
        if not quiet:
            warn(exc.headline)
        return None


def note(message: str) -> None:
    print(f"lading: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def write_output(text: str, output: Optional[Path]) -> None:
    """Write to ``-o FILE`` atomically (temp name then rename), or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    import os
    import tempfile

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
