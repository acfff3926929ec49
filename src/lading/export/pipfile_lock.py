"""Write a lock as a Pipenv ``Pipfile.lock`` (pipfile-spec 6, JSON as pipenv dumps it).

Pipenv sorts packages into categories: ``default`` (main), ``develop`` (``pipenv install --dev``)
and one per custom category. A package goes into ``default`` when it is needed without any optional
group, and into a group's category when that group needs it under more conditions than ``default``
does; each entry carries the environment part of its marker once groups and extras are decided.
Pipfile.lock keys entries by name, so it cannot hold two versions of one package: such a lock needs
a target (``--python``/``--platform``), which turns the export into the selected set with markers
evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Callable, Optional

from packaging.markers import Marker
from packaging.pylock import (
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
)

from lading.errors import LadingError
from lading.export._common import (
    Entry,
    all_hashes,
    bake,
    direct_source,
    entries,
    moved,
    requested,
    version_of,
)
from lading.export.bake import AtomKind, Baked
from lading.export.requirements import PIP_HASHES
from lading.model import Index, Lock, Selection

PIPFILE_SPEC = 6

_EXACT_PYTHON = re.compile(r"^==\s*(\d+\.\d+)(?:\.\*)?$")


def to_pipfile_lock(
    lock: Lock,
    *,
    groups: Collection[str],
    extras: Collection[str],
    selection: Optional[Selection] = None,
    output_dir: Path,
    pipfile_hash: Optional[str] = None,
) -> str:
    """The text of a Pipfile.lock holding the same locked set, to be written into ``output_dir``."""
    wanted_groups = requested(groups)
    wanted_extras = requested(extras)
    base = requested(lock.default_groups) & wanted_groups
    dev = requested(lock.dev_groups) & wanted_groups
    categories: dict[str, frozenset[str]] = {"default": base}
    if dev:
        categories["develop"] = base | dev
    for group in sorted(wanted_groups - base - dev):
        categories[group] = base | {group}

    def deciding(chosen_groups: frozenset[str]) -> Callable[[AtomKind, str], bool]:
        def decide(kind: AtomKind, name: str) -> bool:
            return name in (chosen_groups if kind == "group" else wanted_extras)

        return decide

    everything = deciding(base.union(*categories.values()))
    sources = _sources(lock)
    first = sources[0]["url"] if sources else None
    names = {s["url"]: s["name"] for s in sources}
    data: dict[str, Any] = {
        "_meta": {
            "hash": {"sha256": pipfile_hash or ""},
            "pipfile-spec": PIPFILE_SPEC,
            "requires": _requires(lock, selection),
            "sources": sources,
        },
        "default": {},
        "develop": {},
    }
    # Pipfile.lock names files by hash only, so a lock whose files are not located yet will do.
    for entry in entries(lock, selection, everything):
        default = bake(lock, entry.position, deciding(categories["default"]))
        for category, chosen_groups in categories.items():
            baked = default if category == "default" else bake(
                lock, entry.position, deciding(chosen_groups)
            )
            if not _holds(baked, selection) or (category != "default" and baked == default):
                continue
            marker = baked if selection is None and baked is not False else None
            section = data.setdefault(category, {})
            name = str(entry.package.name)
            if name in section:
                raise LadingError(
                    f"Pipfile.lock holds one version per package, and {category!r} needs "
                    f"{section[name].get('version', 'another entry')} and "
                    f"{version_of(entry.package)}",
                    file=lock.path,
                    package=lock.describe(entry.position),
                    hint="export for one target with --python/--platform",
                )
            section[name] = _entry(lock, entry, marker, output_dir, first, names)
    return json.dumps(data, indent=4, sort_keys=True) + "\n"


def _holds(baked: Baked, selection: Optional[Selection]) -> bool:
    if baked is False:
        return False
    if baked is None or selection is None:
        return True
    return baked.evaluate(dict(selection.target.environment), context="requirement")


def _sources(lock: Lock) -> list[dict[str, Any]]:
    indexes = list(lock.indexes)
    known = {ix.url for ix in indexes}
    for package in lock.packages:
        if package.index is not None and package.index not in known:
            known.add(package.index)
            indexes.append(Index(url=package.index))
    sources: list[dict[str, Any]] = []
    taken: set[str] = set()
    for n, index in enumerate(indexes):
        name = index.name or ("pypi" if n == 0 else f"index-{n}")
        while name in taken:
            name = f"{name}-{n}"
        taken.add(name)
        sources.append({"name": name, "url": index.url, "verify_ssl": index.verify_ssl})
    return sources


def _requires(lock: Lock, selection: Optional[Selection]) -> dict[str, str]:
    # pipenv reads python_version as "the lock is for exactly this X.Y" (checked by equality), so it
    # is only written when the export is for one Python: a target, or a lock pinned to one X.Y.
    if selection is not None and "python_version" in selection.target.environment:
        return {"python_version": selection.target.environment["python_version"]}
    spec = lock.pylock.requires_python
    if spec is not None:
        match = _EXACT_PYTHON.match(str(spec))
        if match:
            return {"python_version": match.group(1)}
    return {}


def _entry(
    lock: Lock,
    entry: Entry,
    marker: Optional[Marker],
    output_dir: Path,
    first_index: Optional[str],
    index_names: Mapping[str, str],
) -> dict[str, Any]:
    package = entry.package
    source = direct_source(entry)
    hashes = [h for h in all_hashes(entry) if h.partition(":")[0] in PIP_HASHES]
    result: dict[str, Any] = {}
    if marker is not None:
        result["markers"] = _pipenv_quotes(str(marker))
    if isinstance(source, PackageVcs):
        result[source.type] = source.url if source.url is not None else _relative(
            lock, source.path or ".", output_dir
        )
        result["ref"] = source.commit_id
        if source.subdirectory:
            result["subdirectory"] = source.subdirectory
        return result
    if isinstance(source, PackageDirectory):
        path = source.path if not source.subdirectory else f"{source.path}/{source.subdirectory}"
        result["path"] = _relative(lock, path, output_dir)
        if source.editable:
            result["editable"] = True
        return result
    if isinstance(source, PackageArchive):
        if source.url is not None:
            result["file"] = source.url
        else:
            result["path"] = _relative(lock, source.path or ".", output_dir)
        if source.subdirectory:
            result["subdirectory"] = source.subdirectory
        result["hashes"] = hashes
        return result
    if isinstance(source, (PackageWheel, PackageSdist)) and source.path is not None:
        # A file that is on no index: pipenv installs it from its path.
        result["path"] = _relative(lock, source.path, output_dir)
        result["hashes"] = hashes
        return result
    version = version_of(package)
    if version is not None:
        result["version"] = f"=={version}"
    result["hashes"] = hashes
    if package.index is not None and package.index != first_index:
        result["index"] = index_names[package.index]
    return result


def _pipenv_quotes(text: str) -> str:
    # pipenv writes markers with single quotes; packaging's double quotes swap safely unless a
    # value itself holds a single quote (marker strings have no escapes).
    return text if "'" in text else text.replace('"', "'")


def _relative(lock: Lock, path: str, output_dir: Path) -> str:
    text = moved(lock, path, output_dir)
    if text.startswith(("/", ".")) or re.match(r"^[A-Za-z]:", text):
        return text
    return f"./{text}"
