"""What the export writers share: the packages an export holds, paths moved to the output folder."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from packaging.markers import Marker
from packaging.pylock import Package, PackageArchive, PackageSdist, PackageWheel
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from lading.errors import LadingError, LockFormatError
from lading.export.bake import Baked, Decide, UnbakeableMarker, resolve_atoms
from lading.model import Lock, PendingFiles, Selection, Source


@dataclass(frozen=True)
class Entry:
    """One package of an export: its marker once groups/extras are decided, and what to install."""

    position: int  # in lock.packages
    package: Package
    marker: Optional[Marker]  # None: always
    chosen: Optional[Source]  # the artifact a selection picked; None: every artifact
    pending: Optional[PendingFiles]


def entries(
    lock: Lock,
    selection: Optional[Selection],
    decide: Decide,
) -> Iterator[Entry]:
    """The packages an export holds, in lock order.

    Without a selection: every package whose marker can still hold once ``decide`` has settled the
    group and extra atoms. With one: exactly the selected packages, markers dropped (they were
    evaluated for the target), each with the artifact the selection picked.
    """
    if selection is not None:
        positions = {id(p): i for i, p in enumerate(lock.packages)}
        for selected in selection.selected:
            i = positions.get(id(selected.package))
            if i is None:
                raise LadingError(
                    f"selected package {selected.package.name} is not in the lock",
                    file=lock.path,
                    hint="export the selection of the same lock it was made from",
                )
            yield Entry(i, selected.package, None, selected.source, selected.pending)
        return
    for i, package in enumerate(lock.packages):
        baked = bake(lock, i, decide)
        if baked is False:
            continue
        yield Entry(i, package, baked, None, lock.pending.get(i))


def bake(lock: Lock, i: int, decide: Decide) -> Baked:
    try:
        return resolve_atoms(lock.packages[i].marker, decide)
    except UnbakeableMarker as exc:
        raise LockFormatError(
            f"marker cannot be exported: {exc}",
            file=lock.path,
            package=lock.describe(i),
            field=f"{lock.origins[i].entry}.marker" if i < len(lock.origins) else "marker",
            hint="report this lock to lading; the marker uses extras/dependency_groups unusually",
        ) from exc


def requested(names: Collection[str]) -> frozenset[str]:
    from packaging.utils import canonicalize_name

    return frozenset(canonicalize_name(n) for n in names)


def require_complete(lock: Lock, entry: Entry) -> None:
    """Formats naming each file need every file's location, which name-only locks lack at first."""
    hint = "look the files up on the index first (lading.index.complete)"
    where = lock.origins[entry.position].entry if entry.position < len(lock.origins) else None
    if entry.pending is not None:
        raise LadingError(
            "the lock names this package's files by hash only",
            file=lock.path,
            package=lock.describe(entry.position),
            field=where,
            hint=hint,
        )
    for field, source in _files(entry):
        if source.url is None and source.path is None:
            raise LadingError(
                "file has neither url nor path",
                file=lock.path,
                package=lock.describe(entry.position),
                field=f"{where}.{field}" if where else field,
                hint=hint,
            )


def _files(entry: Entry) -> Iterator[tuple[str, PackageWheel | PackageSdist | PackageArchive]]:
    if entry.chosen is not None:
        if isinstance(entry.chosen, (PackageWheel, PackageSdist, PackageArchive)):
            yield "source", entry.chosen
        return
    package = entry.package
    for j, wheel in enumerate(package.wheels or ()):
        yield f"wheels[{j}]", wheel
    if package.sdist is not None:
        yield "sdist", package.sdist
    if package.archive is not None:
        yield "archive", package.archive


def direct_source(entry: Entry) -> Optional[Source]:
    """The source that is not an index file: the chosen one, or the package's vcs/directory/archive.

    A hash-only package (pending) carries a placeholder archive; it is an index package.
    """
    if entry.pending is not None:
        return None
    source: Optional[Source]
    if entry.chosen is not None:
        source = entry.chosen
    else:
        package = entry.package
        source = package.vcs or package.directory or package.archive
        if source is None:
            files: list[Union[PackageWheel, PackageSdist]] = [
                *(package.wheels or ()),
                *([package.sdist] if package.sdist else []),
            ]
            # A file that has a path and no url is on no index: it is installed from its path.
            if len(files) == 1 and files[0].url is None and files[0].path is not None:
                return files[0]
            return None
    if isinstance(source, (PackageWheel, PackageSdist)) and (
        source.url is not None or source.path is None
    ):
        return None
    return source


def absolute(lock: Lock, path: str) -> Path:
    """A path the lock wrote relative to its own folder, made absolute (normalized, links kept)."""
    return Path(os.path.normpath(os.path.join(os.path.abspath(lock.path.parent), path)))


def moved(lock: Lock, path: str, output_dir: Path) -> str:
    """A lock-relative path rewritten relative to the folder the export is written to."""
    if os.path.isabs(path):
        return Path(path).as_posix()
    target = absolute(lock, path)
    try:
        relative = os.path.relpath(target, os.path.abspath(output_dir))
    except ValueError:  # another drive on Windows: only an absolute path can reach it
        return target.as_posix()
    return Path(relative).as_posix()


def version_of(package: Package) -> Optional[str]:
    """The package's version, or the one its file names carry (PEP 751 ``version`` is optional)."""
    if package.version is not None:
        return str(package.version)
    for wheel in package.wheels or ():
        try:
            return str(parse_wheel_filename(wheel.filename)[1])
        except Exception:  # an unparsable name just gives no version
            continue
    if package.sdist is not None:
        try:
            return str(parse_sdist_filename(package.sdist.filename)[1])
        except Exception:
            return None
    return None


def hash_strings(hashes: Mapping[str, str]) -> list[str]:
    return [f"{alg}:{value}" for alg, value in hashes.items()]


def all_hashes(entry: Entry) -> list[str]:
    """Every ``alg:hex`` of the entry's files (or of its hash-only pending files), deduplicated."""
    found: list[str] = []
    for _, source in _files(entry):
        found.extend(hash_strings(source.hashes))
    if entry.pending is not None:
        found.extend(entry.pending.hashes)
    return sorted(set(found))
