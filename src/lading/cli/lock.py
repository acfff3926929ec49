"""``lading lock``: resolve a manifest (pyproject.toml, requirements.in, Pipfile) into a lock file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from lading.cli import common
from lading.errors import LadingError, UsageError
from lading.manifest import Manifest, find_manifest, read_manifest
from lading.model import Index, Lock, Target

FORMATS = ("pylock", "requirements", "pipfile-lock")
#: Locks lading reads to keep their versions (minimal change), by manifest kind, after the output itself.
_PREVIOUS = {
    "pyproject": ("pylock.toml", "uv.lock", "poetry.lock", "pdm.lock"),
    "poetry": ("pylock.toml", "poetry.lock", "uv.lock", "pdm.lock"),
    "pipfile": ("Pipfile.lock", "pylock.toml"),
    "requirements": (),
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lock", help="resolve a manifest into a lock file",
        description="Resolve pyproject.toml ([project], [dependency-groups], [tool.poetry]), requirements.in "
        "or a Pipfile for one or more targets into one lock: pylock.toml beside the manifest by default "
        "(requirements.txt for a requirements.in). Versions of an existing lock are kept unless they must "
        "move or --upgrade / --upgrade-package lets them.",
    )
    parser.add_argument("path", nargs="?", default=".", type=Path,
                        help="a manifest, or a project directory holding one (default: the current directory)")
    parser.add_argument("--to", choices=FORMATS, help="the output format (default: pylock; requirements for a "
                        "requirements.in)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="where to write (default: beside the manifest; '-' for stdout)")
    moving = parser.add_mutually_exclusive_group()
    moving.add_argument("--upgrade", "-U", action="store_true", help="let every version move to the newest allowed")
    moving.add_argument("--upgrade-package", "-P", action="append", default=[], metavar="P",
                        help="let this package move (repeatable)")
    parser.add_argument("--target", action="append", default=[], metavar="SPEC",
                        help="lock for this target (repeatable): cp3XY-<platform> such as cp311-manylinux_x86_64 "
                        "or cp312-macosx_arm64, 'current', or a spec file from `lading target -o` (default: "
                        "[tool.lading] targets, else this interpreter)")
    parser.add_argument("--index-url", metavar="URL", help="the index to resolve from")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                        help="another index, asked after the first (repeatable)")
    parser.add_argument("--group", action="append", default=[], metavar="G",
                        help="requirements output: include this dependency group (repeatable)")
    parser.add_argument("--extra", action="append", default=[], metavar="E",
                        help="requirements output: include this extra (repeatable)")
    parser.add_argument("--all-groups", action="store_true", help="requirements output: include every group")
    parser.add_argument("--all-extras", action="store_true", help="requirements output: include every extra")
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.resolve.lock import changes

    manifest = read_manifest(find_manifest(args.path))
    fmt = args.to or ("requirements" if manifest.kind == "requirements" else "pylock")
    output = _output(manifest, fmt, args.output)
    previous = _previous(manifest, output)
    targets = _targets(manifest, args.target)
    lock = resolve(manifest, targets, previous=previous, index_url=args.index_url,
                   extra_index_urls=args.extra_index_url, upgrade=args.upgrade,
                   upgrade_packages=args.upgrade_package, lock_path=output)
    text = render(lock, manifest, fmt, output, groups=_groups(args, manifest, fmt), extras=_extras(args, manifest))
    common.write_output(text, None if output == Path("-") else output)
    moved = changes(previous, lock)
    if args.json:
        common.print_json({
            "manifest": str(manifest.path),
            "output": str(output),
            "format": fmt,
            "targets": [t.name for t in targets],
            "previous": str(previous.path) if previous is not None else None,
            "packages": [
                {"name": str(p.name), "version": str(p.version), "marker": str(p.marker) if p.marker else None}
                for p in lock.packages
            ],
            "changes": [
                {"name": c.name, "change": c.kind, "before": list(c.before), "after": list(c.after)} for c in moved
            ],
        })
        return 0
    stream = sys.stderr if output == Path("-") else sys.stdout
    for change in moved:
        print(change, file=stream)
    summary = f"locked {len(lock.packages)} packages for {', '.join(t.name for t in targets)}"
    where = "" if output == Path("-") else f" into {output}"
    print(f"{summary}{where}" + ("" if moved or previous is None else " (no changes)"), file=stream)
    return 0


def _output(manifest: Manifest, fmt: str, given: Optional[Path]) -> Path:
    if given is not None:
        return given
    folder = manifest.path.parent
    if fmt == "requirements":
        return manifest.path.with_suffix(".txt") if manifest.kind == "requirements" else folder / "requirements.txt"
    if fmt == "pipfile-lock":
        return folder / "Pipfile.lock"
    return folder / "pylock.toml"


def _previous(manifest: Manifest, output: Path) -> Optional[Lock]:
    from lading import locks

    candidates = [output] if output != Path("-") else []
    candidates += [manifest.path.parent / name for name in _PREVIOUS[manifest.kind]]
    for path in candidates:
        if path.is_file():
            try:
                return locks.read(path)
            except LadingError as exc:
                common.warn(f"{exc.headline}; not keeping its versions")
                return None
    return None


def _targets(manifest: Manifest, given: Sequence[str]) -> list[Target]:
    from lading.resolve.targets import lock_target
    from lading.target import current

    if given:
        return [lock_target(text) for text in given]
    if manifest.targets:
        return [lock_target(text, base=manifest.path.parent) for text in manifest.targets]
    return [current()]


def _groups(args: argparse.Namespace, manifest: Manifest, fmt: str) -> tuple[str, ...]:
    from packaging.utils import canonicalize_name

    if fmt == "pipfile-lock" or args.all_groups:
        return tuple(manifest.groups)
    unknown = [g for g in args.group if canonicalize_name(g) not in manifest.groups]
    if unknown:
        raise UsageError(f"{manifest.path.name} has no dependency group {unknown[0]!r}", field="--group",
                         hint=f"groups: {', '.join(manifest.groups) or '(none)'}")
    return tuple(canonicalize_name(g) for g in args.group)


def _extras(args: argparse.Namespace, manifest: Manifest) -> tuple[str, ...]:
    from packaging.utils import canonicalize_name

    if args.all_extras:
        return tuple(manifest.extras)
    unknown = [x for x in args.extra if canonicalize_name(x) not in manifest.extras]
    if unknown:
        raise UsageError(f"{manifest.path.name} has no extra {unknown[0]!r}", field="--extra",
                         hint=f"extras: {', '.join(manifest.extras) or '(none)'}")
    return tuple(canonicalize_name(x) for x in args.extra)


def resolve(
    manifest: Manifest,
    targets: Sequence[Target],
    *,
    previous: Optional[Lock] = None,
    index_url: Optional[str] = None,
    extra_index_urls: Sequence[str] = (),
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    lock_path: Optional[Path] = None,
) -> Lock:
    """Resolve with lading's index client, page cache and wheel cache (sdists built when needed)."""
    import os
    from dataclasses import replace

    from lading.cache import Cache, default_cache_dir
    from lading.index.http import HttpClient
    from lading.index.httpcache import PageCache
    from lading.index.simple import SimpleIndex
    from lading.resolve.buildreqs import cache_wheel_getter
    from lading.resolve.lock import lock_manifest
    from lading.resolve.metadata import LockMetadata, sdist_builder

    primary, extra = _indexes(manifest, index_url, extra_index_urls)
    cache = Cache(default_cache_dir())
    client = HttpClient(max_connections=16)
    pages = PageCache.of(cache)
    sources = [SimpleIndex(url, client, cache=pages, primary=i == 0, workers=16)
               for i, url in enumerate((primary, *extra))]
    build = sdist_builder(cache, (primary, *extra), client)

    workers = min(32, (os.cpu_count() or 4) * 4)
    with LockMetadata(client, cache_wheel_getter(cache, client), build=build, workers=workers,
                      pages=pages) as metadata:
        lock = lock_manifest(manifest, targets, sources=sources, metadata=metadata, previous=previous,
                             upgrade=upgrade, upgrade_packages=upgrade_packages, lock_path=lock_path)
    indexes = manifest.indexes or (Index(url=primary, name="pypi" if manifest.kind == "pipfile" else None),
                                   *(Index(url=u, extra=True) for u in extra))
    return replace(lock, indexes=indexes)


def _indexes(manifest: Manifest, index_url: Optional[str], extra: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    from lading.index.config import default_indexes

    if index_url is None and manifest.indexes:
        own = [ix.expanded() for ix in manifest.indexes]
        return own[0], tuple(dict.fromkeys([*own[1:], *extra]))
    config = default_indexes(index_url, tuple(extra), None)
    return config.primary, config.extra


def render(
    lock: Lock, manifest: Manifest, fmt: str, output: Path, *, groups: Sequence[str] = (), extras: Sequence[str] = ()
) -> str:
    """The text of the lock in ``fmt`` (pylock, requirements, pipfile-lock) to be written at ``output``."""
    from lading import export

    output_dir = (Path.cwd() if output == Path("-") else output.parent).resolve()
    if fmt == "pylock":
        return _pylock_text(lock, manifest, output_dir)
    if fmt == "requirements":
        from dataclasses import replace

        own = [ix for ix in manifest.indexes if not ix.extra]
        return export.to_requirements(
            replace(lock, path=manifest.path), groups=groups, extras=extras,
            index_url=own[0].url if own else None,
            extra_index_urls=[ix.url for ix in manifest.indexes if ix.extra],
        )
    return export.to_pipfile_lock(lock, groups=groups, extras=extras, output_dir=output_dir,
                                  pipfile_hash=_pipfile_hash(manifest))


def _pylock_text(lock: Lock, manifest: Manifest, output_dir: Path) -> str:
    import tomlkit

    from lading import export

    text = export.to_pylock(lock, groups=(), extras=(), output_dir=output_dir)
    doc = tomlkit.parse(text)
    tool = doc.get("tool")
    if isinstance(tool, dict):
        lading: dict[str, Any] = {"manifest": manifest.path.name}
        targets = lock.meta.get("targets")
        if isinstance(targets, list):
            lading["targets"] = targets
        tool["lading"] = lading
    return tomlkit.dumps(doc)


def _pipfile_hash(manifest: Manifest) -> Optional[str]:
    """pipenv's ``_meta.hash`` of the Pipfile, so ``pipenv verify`` (and ``lading verify``) accept the lock."""
    if manifest.kind != "pipfile":
        return None
    from lading._toml import load_toml
    from lading.locks.pipfile import pipfile_hashes

    digests = pipfile_hashes(load_toml(manifest.path))
    if not digests:
        return None
    # Current pipenv (2026.4 and later) hashes canonical package names; older ones hash them as written,
    # and both agree whenever the Pipfile writes names canonically.
    canonical = [digest for label, digest in digests.items() if "canonical" in label]
    return canonical[0] if canonical else next(iter(digests.values()))
