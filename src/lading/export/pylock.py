"""Write a lock as PEP 751 ``pylock.toml``.

Multi-use (no selection): every package keeps its marker, so the file serves every environment the
source lock served. Installers given only the file (``pip install -r pylock.toml``) install the
``default-groups`` and no extras, so the requested groups become ``default-groups`` (the group atoms
stay, and the remaining groups stay selectable) and the requested extras are decided in the markers
(``'x' in extras`` becomes true; other extras stay selectable).

Single-use (a selection for one target): the selected packages with the artifact chosen for the
target, no markers, and ``environments`` pinning the target.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import tomlkit
from packaging.markers import Marker
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
)
from tomlkit.items import Array, InlineTable, String, Table

from lading.errors import LockFormatError
from lading.export._common import Entry, entries, moved, requested, require_complete
from lading.export.bake import AtomKind
from lading.model import Lock, Selection, Target

#: The marker variables that pin a target in a single-use lock's ``environments``.
TARGET_VARIABLES = ("sys_platform", "platform_machine", "implementation_name", "python_version")


def to_pylock(
    lock: Lock,
    *,
    groups: Collection[str],
    extras: Collection[str],
    selection: Optional[Selection] = None,
    output_dir: Path,
) -> str:
    """The text of a pylock.toml holding the same locked set; ``output_dir`` is where it will live.

    ``lock`` must be complete (every file has a url or path): run ``lading.index.complete`` first.
    """
    wanted_groups = requested(groups)
    wanted_extras = requested(extras)

    def decide(kind: AtomKind, name: str) -> Optional[bool]:
        # Groups stay as markers (they become default-groups); requested extras must be baked in,
        # since an installer reading this file starts from no extras.
        if kind == "extra" and name in wanted_extras:
            return True
        return None

    chosen = list(entries(lock, selection, decide))
    for entry in chosen:
        require_complete(lock, entry)

    doc = tomlkit.document()
    doc["lock-version"] = "1.0"
    if selection is not None:
        doc["environments"] = _array([_marker_string(target_marker(selection.target))])
    elif lock.pylock.environments:
        doc["environments"] = _array([_marker_string(str(m)) for m in lock.pylock.environments])
    if lock.pylock.requires_python is not None:
        doc["requires-python"] = str(lock.pylock.requires_python)
    if selection is None:
        all_groups = _unique([*lock.default_groups, *lock.groups, *sorted(groups)])
        doc["extras"] = _array([x for x in lock.extras if x not in wanted_extras])
        doc["dependency-groups"] = _array([g for g in all_groups if _norm(g) not in wanted_groups])
        doc["default-groups"] = _array([g for g in all_groups if _norm(g) in wanted_groups])
    else:
        doc["extras"] = _array([])
        doc["dependency-groups"] = _array([])
        doc["default-groups"] = _array([])
    doc["created-by"] = "lading"

    packages = tomlkit.aot()
    for entry in chosen:
        packages.append(_package(lock, entry, output_dir))
    doc["packages"] = packages

    lading: dict[str, Any] = {"source": lock.path.name, "source-format": lock.format}
    if selection is not None:
        lading["target"] = selection.target.name
        lading["groups"] = sorted(selection.groups)
        lading["extras"] = sorted(selection.extras)
    elif wanted_extras:
        lading["extras"] = sorted(wanted_extras)
    tool = tomlkit.table(is_super_table=True)
    tool["lading"] = lading
    doc["tool"] = tool
    return tomlkit.dumps(doc)


def target_marker(target: Target) -> str:
    """A marker that holds on the target and (as far as these variables tell) nowhere else."""
    parts = [
        f"{name} == {_quote(target.environment[name])}"
        for name in TARGET_VARIABLES
        if name in target.environment
    ]
    return str(Marker(" and ".join(parts))) if parts else ""


def _package(lock: Lock, entry: Entry, output_dir: Path) -> Table:
    package = entry.package
    table = tomlkit.table()
    table["name"] = str(package.name)
    if package.version is not None:
        table["version"] = str(package.version)
    if entry.marker is not None:
        table["marker"] = _marker_string(str(entry.marker))
    if package.requires_python is not None:
        table["requires-python"] = str(package.requires_python)
    if package.dependencies:
        table["dependencies"] = _array([_inline(d) for d in package.dependencies], multiline=True)
    if package.index is not None:
        table["index"] = package.index
    for key, value in _sources(entry):
        _require_hashes(lock, package, key, value)
        if isinstance(value, PackageVcs):
            table[key] = _vcs(lock, value, output_dir)
        elif isinstance(value, PackageDirectory):
            table[key] = _directory(lock, value, output_dir)
        elif isinstance(value, PackageArchive):
            table[key] = _file(lock, value, output_dir, named=False)
        elif isinstance(value, PackageSdist):
            table[key] = _file(lock, value, output_dir, named=True)
        else:
            table[key] = _array(
                [_file(lock, wheel, output_dir, named=True) for wheel in value], multiline=True
            )
    if package.attestation_identities:
        table["attestation-identities"] = _array(
            [_inline(a) for a in package.attestation_identities], multiline=True
        )
    if package.tool:
        table["tool"] = _plain(package.tool)
    return table


def _require_hashes(lock: Lock, package: Package, key: str, value: _SourceValue) -> None:
    """PEP 751 requires a hash for every file; an unhashed one cannot be carried over."""
    files = value if isinstance(value, (list, tuple)) else [value]
    for file in files:
        if isinstance(file, (PackageArchive, PackageSdist, PackageWheel)) and not file.hashes:
            label = f"{package.name} {package.version}" if package.version else str(package.name)
            raise LockFormatError(
                "no hash is recorded for this file, and pylock.toml requires one for every file",
                file=lock.path,
                package=label,
                field=key,
                hint="re-lock with a tool version that hashes it, or export --to requirements instead",
            )


_SourceValue = Union[
    PackageVcs, PackageDirectory, PackageArchive, PackageSdist, Sequence[PackageWheel]
]


def _sources(entry: Entry) -> list[tuple[str, _SourceValue]]:
    source = entry.chosen
    if source is not None:
        if isinstance(source, PackageWheel):
            return [("wheels", [source])]
        kind = {
            PackageVcs: "vcs",
            PackageDirectory: "directory",
            PackageArchive: "archive",
            PackageSdist: "sdist",
        }[type(source)]
        return [(kind, source)]
    package = entry.package
    found: list[tuple[str, _SourceValue]] = []
    if package.vcs is not None:
        found.append(("vcs", package.vcs))
    if package.directory is not None:
        found.append(("directory", package.directory))
    if package.archive is not None:
        found.append(("archive", package.archive))
    if package.sdist is not None:
        found.append(("sdist", package.sdist))
    if package.wheels:
        found.append(("wheels", list(package.wheels)))
    return found


def _vcs(lock: Lock, vcs: PackageVcs, output_dir: Path) -> Table:
    table = tomlkit.table()
    table["type"] = vcs.type
    if vcs.url is not None:
        table["url"] = vcs.url
    if vcs.path is not None:
        table["path"] = moved(lock, vcs.path, output_dir)
    if vcs.requested_revision is not None:
        table["requested-revision"] = vcs.requested_revision
    table["commit-id"] = vcs.commit_id
    if vcs.subdirectory is not None:
        table["subdirectory"] = vcs.subdirectory
    return table


def _directory(lock: Lock, directory: PackageDirectory, output_dir: Path) -> Table:
    table = tomlkit.table()
    table["path"] = moved(lock, directory.path, output_dir)
    if directory.editable is not None:
        table["editable"] = directory.editable
    if directory.subdirectory is not None:
        table["subdirectory"] = directory.subdirectory
    return table


def _file(
    lock: Lock,
    file: Union[PackageWheel, PackageSdist, PackageArchive],
    output_dir: Path,
    *,
    named: bool,
) -> InlineTable:
    table = tomlkit.inline_table()
    name = getattr(file, "name", None) if named else None
    if name is not None:
        table["name"] = name
    if file.upload_time is not None:
        table["upload-time"] = file.upload_time
    if file.url is not None:
        table["url"] = file.url
    if file.path is not None:
        table["path"] = moved(lock, file.path, output_dir)
    if file.size is not None:
        table["size"] = file.size
    hashes = tomlkit.inline_table()
    for alg, value in file.hashes.items():
        hashes[alg] = value
    table["hashes"] = hashes
    if isinstance(file, PackageArchive) and file.subdirectory is not None:
        table["subdirectory"] = file.subdirectory
    return table


def _array(items: Sequence[Any], *, multiline: bool = False) -> Array:
    array = tomlkit.array()
    array.extend(items)
    if multiline and items:
        array.multiline(True)
    return array


def _inline(mapping: Mapping[str, Any]) -> InlineTable:
    table = tomlkit.inline_table()
    for key, value in mapping.items():
        table[key] = _inline(value) if isinstance(value, Mapping) else value
    return table


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}


def _marker_string(text: str) -> String:
    # packaging writes markers with double quotes; a literal TOML string keeps them unescaped.
    return tomlkit.string(text, literal="'" not in text)


def _quote(value: str) -> str:
    # Marker strings have no escapes: a value is quoted with the quote it does not contain.
    return f"'{value}'" if "'" not in value else f'"{value}"'


def _norm(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for name in names:
        if _norm(name) not in seen:
            seen.add(_norm(name))
            kept.append(name)
    return kept
