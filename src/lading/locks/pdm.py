"""pdm.lock (PDM 2.x, lock_version 4.x) locked with the ``inherit_metadata`` strategy.

With ``inherit_metadata`` every package records the groups that reach it and one environment
marker, so PDM installs without walking the dependency graph; lading does the same. Files are known
by name only (or by URL with ``static_urls``); the indexes come from ``[[tool.pdm.source]]`` in
pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional, Union
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from lading import _fs
from lading._toml import load_toml
from lading.errors import LockFormatError
from lading.locks.graph import (
    ALWAYS,
    NEVER,
    Condition,
    atom,
    both,
    either,
    extra_atom,
    group_atom,
    to_marker,
)
from lading.locks.staleness import Freshness
from lading.model import (
    Finding,
    Index,
    Lock,
    Origin,
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    PendingFiles,
    Pylock,
    pending_placeholder,
)

_Direct = Union[PackageVcs, PackageDirectory, PackageArchive]

#: The newest lock_version lading knows: a newer minor is read with a warning, a new major refused.
KNOWN_VERSION = Version("4.5.1")
_VCS_KEYS = ("git", "hg", "svn", "bzr")
_RELOCK = "re-create it with `pdm lock`"
# poetry-style `extra == "x"` cannot be evaluated in the lock_file context; PDM does not write it,
# but a hand-edited lock might.
_EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*(['"])([^'"]+)\1""")


@dataclass(frozen=True)
class Project:
    """What lading needs from pyproject.toml beside the lock."""

    path: Optional[Path]
    data: Mapping[str, Any]
    name: Optional[str] = None
    version: Optional[str] = None
    extras: frozenset[str] = frozenset()
    distribution: bool = False
    sources: tuple[Mapping[str, Any], ...] = ()


@dataclass
class _Entry:
    """One package of the lock after merging its extra-variant entries."""

    index: int
    name: str
    version: Optional[str]
    raw: Mapping[str, Any]
    condition: Condition
    extras_variants: list[int] = field(default_factory=list)


def read(path: Path) -> Lock:
    data = load_toml(path)
    metadata = _metadata(data, path)
    findings: list[Finding] = []
    version = _check_version(metadata, path, findings)
    strategy = _check_strategy(metadata, path)
    manifest = path.parent / "pyproject.toml"
    project = read_project(manifest if manifest.is_file() else None)

    raw_packages = data.get("package", [])
    if not isinstance(raw_packages, list):
        raise LockFormatError(
            "expected an array of tables",
            file=path,
            field="package",
            hint=f"the lock is damaged; {_RELOCK}",
        )
    entries: dict[tuple[str, Optional[str], str], _Entry] = {}
    # PDM writes normalized group names; normalizing again keeps a hand-edited lock consistent
    # with pyproject.toml's extras.
    group_names = {_pdm_normalize(g) for g in _str_list(metadata.get("groups", []), path, "metadata.groups", None)}
    for i, raw in enumerate(raw_packages):
        where = f"package[{i}]"
        if not isinstance(raw, dict):
            raise LockFormatError("expected a table", file=path, field=where, hint=f"the lock is damaged; {_RELOCK}")
        name = _str(raw, "name", path, where, None, required=True)
        assert name is not None
        package_version = _str(raw, "version", path, where, name)
        label = f"{name} {package_version}" if package_version else name
        groups = [_pdm_normalize(g) for g in _str_list(raw.get("groups", []), path, f"{where}.groups", label)]
        group_names.update(groups)
        condition = both(_groups_condition(groups, project), _marker_condition(raw, path, where, label))
        key = (canonicalize_name(name), package_version, _source_identity(raw))
        variant = bool(raw.get("extras"))
        existing = entries.get(key)
        if existing is None:
            entries[key] = _Entry(i, name, package_version, raw, condition)
            if variant:
                entries[key].extras_variants.append(i)
            continue
        existing.condition = either(existing.condition, condition)
        if variant:
            existing.extras_variants.append(i)
        elif existing.raw.get("extras"):
            # The base entry came after its variant: it owns the files and the position.
            existing.index, existing.raw = i, raw

    packages: list[Package] = []
    origins: list[Origin] = []
    pending: dict[int, PendingFiles] = {}
    static_urls = "static_urls" in strategy
    for entry in sorted(entries.values(), key=lambda e: e.index):
        where = f"package[{entry.index}]"
        label = f"{entry.name} {entry.version}" if entry.version else entry.name
        package, unresolved = _package(entry, path, where, label, static_urls, findings)
        if unresolved is not None:
            pending[len(packages)] = unresolved
        packages.append(package)
        located = tuple((f.name, f.field) for f in _files(entry.raw, path, where, label) if f.name)
        origins.append(Origin(path, f"{where} ({label})", files=located))

    root = _root_package(project)
    if root is not None:
        packages.append(root)
        assert project.path is not None
        origins.append(Origin(project.path, f"[project] ({root.name})"))

    group_names.discard("default")
    extras = sorted(g for g in group_names if g in project.extras)
    dependency_groups = sorted(g for g in group_names if g not in project.extras)
    targets = metadata.get("targets", [])
    pylock = Pylock(
        lock_version=Version("1.0"),
        requires_python=_requires_python(targets, path),
        extras=[NormalizedName(e) for e in extras],
        dependency_groups=dependency_groups,
        default_groups=[],
        created_by="pdm",
        packages=packages,
    )
    indexes, index_findings = _indexes(project)
    findings.extend(index_findings)
    return Lock(
        path=path,
        format="pdm",
        pylock=pylock,
        origins=tuple(origins),
        indexes=indexes,
        pending=pending,
        dev_groups=frozenset(dependency_groups),
        findings=tuple(findings),
        manifest=project.path,
        meta={
            "lock_version": str(version),
            "strategy": sorted(strategy),
            "content_hash": metadata.get("content_hash"),
            "lock_inputs": "lock_inputs" in metadata,
            "targets": targets,
        },
    )


# --- metadata -------------------------------------------------------------------------------------


def _metadata(data: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    metadata = data.get("metadata")
    if metadata is None and ("lock-version" in data or "packages" in data):
        raise LockFormatError(
            "this is a pylock.toml written by PDM (it has `lock-version`, not `metadata.lock_version`)",
            file=path,
            field="lock-version",
            hint="read it as a pylock file: rename it to pylock.toml, or let lading detect the format",
        )
    if not isinstance(metadata, dict):
        raise LockFormatError(
            "missing [metadata] table",
            file=path,
            field="metadata",
            hint=f"is this a pdm.lock? {_RELOCK}",
        )
    return metadata


def _check_version(metadata: Mapping[str, Any], path: Path, findings: list[Finding]) -> Version:
    raw = metadata.get("lock_version")
    if not isinstance(raw, str):
        raise LockFormatError(
            "missing or not a string",
            file=path,
            field="metadata.lock_version",
            hint=f"PDM 2.x writes lock_version 4.x; {_RELOCK}",
        )
    try:
        version = Version(raw)
    except InvalidVersion as exc:
        raise LockFormatError(
            f"{raw!r} is not a version", file=path, field="metadata.lock_version", hint=_RELOCK
        ) from exc
    if version.major != KNOWN_VERSION.major:
        raise LockFormatError(
            f"lock_version {raw} is not supported (lading reads 4.x)",
            file=path,
            field="metadata.lock_version",
            hint="re-create the lock with PDM 2.x (`pdm lock`)",
        )
    if version.minor > KNOWN_VERSION.minor:
        findings.append(
            Finding(
                "warning",
                path,
                f"lock_version {raw} is newer than {KNOWN_VERSION}, which lading knows; reading it anyway",
                field="metadata.lock_version",
            )
        )
    return version


def _check_strategy(metadata: Mapping[str, Any], path: Path) -> frozenset[str]:
    strategy = frozenset(_str_list(metadata.get("strategy", []), path, "metadata.strategy", None))
    if "inherit_metadata" not in strategy:
        raise LockFormatError(
            "locked without inherit_metadata; re-lock with `pdm lock --strategy inherit_metadata`",
            file=path,
            field="metadata.strategy",
            hint="without it the lock records no per-package groups and markers, and installing needs PDM's resolver",
        )
    return strategy


def _requires_python(targets: object, path: Path) -> Optional[SpecifierSet]:
    if not isinstance(targets, list) or len(targets) != 1 or not isinstance(targets[0], dict):
        return None
    text = targets[0].get("requires_python")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise LockFormatError(
            f"{text!r} is not a version specifier",
            file=path,
            field="metadata.targets[0].requires_python",
            hint=_RELOCK,
        ) from exc


# --- one package ----------------------------------------------------------------------------------


def _groups_condition(groups: Sequence[str], project: Project) -> Condition:
    if not groups:
        # PDM filters by group only when the entry names some.
        return ALWAYS
    condition = NEVER
    for group in groups:
        if group == "default":
            return ALWAYS
        condition = either(condition, extra_atom(group) if group in project.extras else group_atom(group))
    return condition


def _marker_condition(raw: Mapping[str, Any], path: Path, where: str, label: str) -> Condition:
    text = raw.get("marker")
    if text is None:
        return ALWAYS
    if not isinstance(text, str):
        raise LockFormatError("expected a string", file=path, package=label, field=f"{where}.marker", hint=_RELOCK)
    try:
        return atom(_EXTRA_MARKER.sub(lambda m: f"'{m.group(2)}' in extras", text))
    except InvalidMarker as exc:
        raise LockFormatError(
            f"invalid marker: {exc}",
            file=path,
            package=label,
            field=f"{where}.marker",
            hint=_RELOCK,
        ) from exc


def _source_identity(raw: Mapping[str, Any]) -> str:
    for key in (*_VCS_KEYS, "url", "path"):
        value = raw.get(key)
        if isinstance(value, str):
            return f"{key}:{value}:{raw.get('revision', '')}:{raw.get('subdirectory', '')}"
    return ""


def _package(
    entry: _Entry, path: Path, where: str, label: str, static_urls: bool, findings: list[Finding]
) -> tuple[Package, Optional[PendingFiles]]:
    raw = entry.raw
    try:
        version = Version(entry.version) if entry.version else None
    except InvalidVersion as exc:
        raise LockFormatError(
            f"{entry.version!r} is not a version",
            file=path,
            package=label,
            field=f"{where}.version",
            hint=_RELOCK,
        ) from exc
    files = _files(raw, path, where, label)
    fields: dict[str, Any] = {
        "name": canonicalize_name(entry.name),
        "version": version,
        "marker": _marker(entry.condition),
        "requires_python": _package_requires_python(raw, path, where, label, findings),
    }
    unresolved: Optional[PendingFiles] = None
    direct = _direct_source(raw, files, path, where, label, findings)
    if direct is not None:
        fields[_slot(direct)] = direct
    else:
        wheels, sdist = _artifacts(files, path, where, label, static_urls, findings)
        if wheels:
            fields["wheels"] = wheels
        if sdist is not None:
            fields["sdist"] = sdist
        if not wheels and sdist is None:
            fields["archive"] = pending_placeholder()
            unresolved = PendingFiles(hashes=())
            findings.append(
                Finding(
                    "deploy-error",
                    path,
                    "no files recorded: not hashed",
                    package=label,
                    field=f"{where}.files",
                )
            )
    return Package(**fields), unresolved


def _marker(condition: Condition) -> Optional[Marker]:
    return to_marker(condition)


def _slot(source: _Direct) -> str:
    if isinstance(source, PackageVcs):
        return "vcs"
    if isinstance(source, PackageDirectory):
        return "directory"
    return "archive"


def _package_requires_python(
    raw: Mapping[str, Any], path: Path, where: str, label: str, findings: list[Finding]
) -> Optional[SpecifierSet]:
    text = raw.get("requires_python")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        # Old releases declare things like ">=3.6.*"; pip ignores them too: not worth failing on.
        findings.append(
            Finding(
                "warning",
                path,
                f"ignoring invalid requires_python {text!r}",
                package=label,
                field=f"{where}.requires_python",
            )
        )
        return None


@dataclass(frozen=True)
class _File:
    field: str
    name: Optional[str]
    url: Optional[str]
    hashes: Mapping[str, str]


def _files(raw: Mapping[str, Any], path: Path, where: str, label: str) -> list[_File]:
    items = raw.get("files", [])
    if not isinstance(items, list):
        raise LockFormatError("expected an array", file=path, package=label, field=f"{where}.files", hint=_RELOCK)
    files: list[_File] = []
    for j, item in enumerate(items):
        at = f"{where}.files[{j}]"
        if not isinstance(item, dict):
            raise LockFormatError("expected a table", file=path, package=label, field=at, hint=_RELOCK)
        name = _str(item, "file", path, at, label)
        url = _str(item, "url", path, at, label)
        if name is None and url is None:
            raise LockFormatError("has neither `file` nor `url`", file=path, package=label, field=at, hint=_RELOCK)
        text = _str(item, "hash", path, at, label, required=True)
        assert text is not None
        files.append(_File(at, name, url, _hash(text, path, f"{at}.hash", label)))
    return files


def _hash(text: str, path: Path, at: str, label: str) -> dict[str, str]:
    algorithm, sep, value = text.partition(":")
    if not sep or not algorithm or not value:
        raise LockFormatError(f"{text!r} is not `algorithm:hex`", file=path, package=label, field=at, hint=_RELOCK)
    return {algorithm.lower(): value.lower()}


def _merged_hashes(files: Sequence[_File]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for item in files:
        merged.update(item.hashes)
    return merged


def _artifacts(
    files: Sequence[_File],
    path: Path,
    where: str,
    label: str,
    static_urls: bool,
    findings: list[Finding],
) -> tuple[list[PackageWheel], Optional[PackageSdist]]:
    wheels: list[PackageWheel] = []
    sdists: list[PackageSdist] = []
    for item in files:
        filename = item.name or _url_filename(item.url or "")
        if not filename:
            raise LockFormatError(
                f"cannot tell a file name from {item.url!r}",
                file=path,
                package=label,
                field=item.field,
                hint=_RELOCK,
            )
        url = item.url if item.url is not None else None
        if filename.endswith(".whl"):
            wheels.append(PackageWheel(name=filename, url=url, path=None, hashes=dict(item.hashes)))
        else:
            sdists.append(PackageSdist(name=filename, url=url, path=None, hashes=dict(item.hashes)))
    if len(sdists) > 1:
        # PEP 751 allows one sdist; prefer the standard .tar.gz (PEP 625) when there are several.
        sdists.sort(key=lambda s: not (s.name or "").endswith(".tar.gz"))
        findings.append(
            Finding(
                "warning",
                path,
                f"several sdists; using {sdists[0].name}",
                package=label,
                field=f"{where}.files",
            )
        )
    return wheels, (sdists[0] if sdists else None)


def _url_filename(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name)


def _direct_source(
    raw: Mapping[str, Any],
    files: Sequence[_File],
    path: Path,
    where: str,
    label: str,
    findings: list[Finding],
) -> Optional[_Direct]:
    subdirectory = _str(raw, "subdirectory", path, where, label)
    for vcs in _VCS_KEYS:
        repo = _str(raw, vcs, path, where, label)
        if repo is None:
            continue
        revision = _str(raw, "revision", path, where, label)
        if not revision:
            raise LockFormatError(
                f"{vcs} source without a `revision`: not pinned to a commit",
                file=path,
                package=label,
                field=f"{where}.revision",
                hint="PDM does not pin editable VCS requirements; make it non-editable and re-lock",
            )
        return PackageVcs(
            type=vcs,
            url=repo,
            commit_id=revision,
            requested_revision=_str(raw, "ref", path, where, label),
            subdirectory=subdirectory,
        )
    url = _str(raw, "url", path, where, label)
    if url is not None:
        hashes = _merged_hashes(files)
        if not hashes:
            findings.append(
                Finding(
                    "deploy-error",
                    path,
                    "direct URL not hashed",
                    package=label,
                    field=f"{where}.files",
                )
            )
        return PackageArchive(url=url, hashes=hashes, subdirectory=subdirectory)
    local = _str(raw, "path", path, where, label)
    if local is not None:
        if _is_directory(path.parent, local):
            return PackageDirectory(path=local, editable=bool(raw.get("editable", False)), subdirectory=subdirectory)
        hashes = _merged_hashes(files)
        if not hashes:
            findings.append(
                Finding(
                    "deploy-error",
                    path,
                    "local archive not hashed",
                    package=label,
                    field=f"{where}.files",
                )
            )
        return PackageArchive(path=local, hashes=hashes, subdirectory=subdirectory)
    return None


def _is_directory(base: Path, local: str) -> bool:
    target = base / local
    if _fs.exists(target):
        return _fs.is_dir(target)
    # Not on this machine (yet): judge by the name, as archives always carry their suffix.
    return not local.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar"))


# --- the project itself ---------------------------------------------------------------------------


def read_project(path: Optional[Path]) -> Project:
    """The facts of pyproject.toml PDM's lock depends on (an empty project when there is none)."""
    if path is None:
        return Project(path=None, data={})
    data = load_toml(path)
    table = data.get("project")
    project = table if isinstance(table, dict) else {}
    tool = data.get("tool")
    settings = tool.get("pdm") if isinstance(tool, dict) else None
    settings = settings if isinstance(settings, dict) else {}
    optional = project.get("optional-dependencies")
    extras = frozenset(_pdm_normalize(k) for k in optional) if isinstance(optional, dict) else frozenset()
    name = project.get("name") if isinstance(project.get("name"), str) else None
    version = project.get("version") if isinstance(project.get("version"), str) else None
    sources = settings.get("source")
    return Project(
        path=path,
        data=data,
        name=name,
        version=version,
        extras=extras,
        distribution=_is_distribution(name, settings),
        sources=tuple(s for s in sources if isinstance(s, dict)) if isinstance(sources, list) else (),
    )


def _is_distribution(name: Optional[str], settings: Mapping[str, Any]) -> bool:
    # Mirrors PDM's Project.is_distribution: package-type wins over the older `distribution` flag.
    if not name:
        return False
    if "package-type" in settings:
        return bool(settings["package-type"] == "library")
    if "distribution" in settings:
        return bool(settings["distribution"])
    return True


def _root_package(project: Project) -> Optional[Package]:
    """PDM installs the project itself (editable by default), but does not list it in pdm.lock."""
    if not project.distribution or project.name is None or project.path is None:
        return None
    try:
        version = Version(project.version) if project.version else None
    except InvalidVersion as exc:
        raise LockFormatError(
            f"{project.version!r} is not a version",
            file=project.path,
            field="project.version",
            hint="fix the version in pyproject.toml",
        ) from exc
    return Package(
        name=canonicalize_name(project.name),
        version=version,
        directory=PackageDirectory(path=".", editable=True),
    )


def _indexes(project: Project) -> tuple[tuple[Index, ...], list[Finding]]:
    indexes: list[Index] = []
    findings: list[Finding] = []
    for i, source in enumerate(project.sources):
        url, name = source.get("url"), source.get("name")
        at = f"tool.pdm.source[{i}]"
        if not isinstance(url, str):
            continue
        if source.get("type", "index") != "index":
            assert project.path is not None
            findings.append(
                Finding(
                    "warning",
                    project.path,
                    f"ignoring a {source.get('type')} source: lading looks packages up on indexes only",
                    field=at,
                )
            )
            continue
        index = Index(
            url=url,
            name=name if isinstance(name, str) else None,
            verify_ssl=bool(source.get("verify_ssl", True)),
        )
        # A source named "pypi" replaces PDM's default index, so it is the lock's default.
        if index.name == "pypi":
            indexes.insert(0, index)
        else:
            indexes.append(index)
    return tuple(indexes), findings


# --- staleness ------------------------------------------------------------------------------------


def freshness(lock: Lock) -> Freshness:
    """Compare ``metadata.content_hash`` with PDM's hash of pyproject.toml."""
    method = "pdm content_hash (sha256 of pyproject.toml's lock inputs)"
    manifest = lock.manifest
    if manifest is None:
        return Freshness(checked=False, fresh=True, method=f"{method}: no pyproject.toml beside the lock")
    content_hash = lock.meta.get("content_hash")
    if not isinstance(content_hash, str) or ":" not in content_hash:
        if lock.meta.get("lock_inputs"):
            return Freshness(
                checked=False,
                fresh=True,
                manifest=manifest,
                method="pdm lock_inputs (PDM 2.28+): not checked, it needs PDM's own requirement "
                "parsing; run `pdm lock --check`",
            )
        return Freshness(
            checked=False,
            fresh=True,
            manifest=manifest,
            method=f"{method}: the lock records no content_hash",
        )
    algorithm, _, recorded = content_hash.partition(":")
    project = read_project(manifest)
    settings = _pdm_settings(project.data)
    if settings.get("workspace"):
        return Freshness(
            checked=False,
            fresh=True,
            manifest=manifest,
            method=f"{method}: PDM workspaces hash their members too; not checked",
        )
    try:
        computed = content_hash_of(project.data, algorithm)
    except (TypeError, ValueError) as exc:
        return Freshness(checked=False, fresh=True, manifest=manifest, method=f"{method}: cannot compute ({exc})")
    if computed == recorded.lower():
        return Freshness(checked=True, fresh=True, method=method, manifest=manifest)
    return Freshness(
        checked=True,
        fresh=False,
        method=method,
        manifest=manifest,
        differences=(f"content_hash differs: lock has {recorded[:12]}…, {manifest.name} gives {computed[:12]}…",),
    )


def content_hash_of(pyproject: Mapping[str, Any], algorithm: str = "sha256") -> str:
    """PDM's ``PyProject.content_hash``: the hash of the JSON of what pyproject.toml locks."""
    table = pyproject.get("project")
    project = table if isinstance(table, dict) else {}
    settings = _pdm_settings(pyproject)
    dump = {
        "sources": settings.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": _dev_dependencies(pyproject, settings),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": settings.get("resolution", {}),
    }
    hasher = hashlib.new(algorithm)
    hasher.update(json.dumps(dump, sort_keys=True).encode("utf-8"))
    return hasher.hexdigest()


def _pdm_settings(pyproject: Mapping[str, Any]) -> Mapping[str, Any]:
    tool = pyproject.get("tool")
    settings = tool.get("pdm") if isinstance(tool, dict) else None
    return settings if isinstance(settings, dict) else {}


def _dev_dependencies(pyproject: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    declared = pyproject.get("dependency-groups", {})
    for group, deps in declared.items() if isinstance(declared, dict) else ():
        name = _pdm_normalize(group)
        if name in groups:
            raise ValueError(f"group {name} is duplicated in dependency-groups")
        groups[name] = list(deps)
    legacy = settings.get("dev-dependencies", {})
    for group, deps in legacy.items() if isinstance(legacy, dict) else ():
        groups.setdefault(_pdm_normalize(group), []).extend(deps)
    return groups


def _pdm_normalize(name: str) -> str:
    # PDM's normalize_name, which folds more than PEP 503 (any non-alphanumeric run becomes "-").
    return re.sub(r"[^A-Za-z0-9]+", "-", name).lower()


# --- small typed accessors ------------------------------------------------------------------------


def _str(
    table: Mapping[str, Any],
    key: str,
    path: Path,
    where: str,
    label: Optional[str],
    *,
    required: bool = False,
) -> Optional[str]:
    value = table.get(key)
    if value is None:
        if required:
            raise LockFormatError(
                "missing",
                file=path,
                package=label,
                field=f"{where}.{key}",
                hint=f"the lock is damaged; {_RELOCK}",
            )
        return None
    if not isinstance(value, str):
        raise LockFormatError(
            f"expected a string, got {type(value).__name__}",
            file=path,
            package=label,
            field=f"{where}.{key}",
            hint=_RELOCK,
        )
    return value


def _str_list(value: object, path: Path, at: str, label: Optional[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LockFormatError(
            "expected an array of strings",
            file=path,
            package=label,
            field=at,
            hint=f"the lock is damaged; {_RELOCK}",
        )
    return list(value)
