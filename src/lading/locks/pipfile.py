"""Pipenv's Pipfile.lock (``_meta.pipfile-spec`` 6): packages known by version and hashes only.

Each top-level key other than ``_meta`` is a category: ``default`` holds the main dependencies,
``develop`` the ``--dev`` ones, and any other key a custom category. Pipenv resolves categories one
by one, so the same name may appear in several; identical entries become one package whose marker
is the OR over its categories.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import unquote

from packaging.markers import InvalidMarker, Marker
from packaging.pylock import Package, PackageArchive, PackageDirectory, PackageVcs, Pylock
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lading._toml import load_json, load_toml
from lading.errors import LockFormatError
from lading.locks import graph
from lading.locks.staleness import Freshness
from lading.model import (
    Finding,
    Index,
    Lock,
    Origin,
    PendingFiles,
    Source,
    pending_placeholder,
)

SPEC = 6
VCS_KEYS = ("git", "hg", "svn", "bzr")
ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")

#: Pipfile keys that hold marker expressions (pipenv accepts every PEP 508 environment variable).
PIPFILE_MARKER_KEYS = (
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
)

#: Pipfile tables that are not package categories, so not part of the hash's category list.
_NOT_CATEGORIES = frozenset({
    "source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv",
    "default", "develop",
})

_HASH = re.compile(r"^[A-Za-z0-9_]+:[0-9A-Fa-f]+$")
_CATEGORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HINT = "re-create the lock with `pipenv lock`"


@dataclass
class _Entry:
    """One package as gathered over the categories that list it."""

    name: NormalizedName
    version: Optional[Version]
    source: Source
    index: Optional[str]
    hashes: list[str]
    pending: bool
    condition: graph.Condition
    entries: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read(path: Path) -> Lock:
    data = load_json(path)
    if not isinstance(data, dict):
        raise LockFormatError(
            "expected a JSON object at the top level", file=path, hint=_HINT
        )
    meta = _table(data.get("_meta"), path, "_meta")
    spec = meta.get("pipfile-spec")
    if spec != SPEC:
        raise LockFormatError(
            f"_meta.pipfile-spec {spec!r} is not supported (lading reads pipfile-spec {SPEC})",
            file=path,
            field="_meta.pipfile-spec",
            hint="re-create the lock with a current pipenv (`pipenv lock`)",
        )
    indexes = _sources(meta.get("sources", []), path)
    by_name = {ix.name: ix.url for ix in indexes if ix.name is not None}

    manifest = path.parent / "Pipfile"
    pipfile: Optional[dict[str, Any]] = load_toml(manifest) if manifest.is_file() else None

    categories = [key for key in data if key != "_meta"]
    for category in categories:
        if not _CATEGORY.match(category):
            raise LockFormatError(
                f"category name {category!r} cannot be used as a dependency group",
                file=path,
                field=category,
                hint=_HINT,
            )

    merged: dict[tuple[object, ...], _Entry] = {}
    for category in categories:
        section = _table(data[category], path, category)
        condition = graph.ALWAYS if category == "default" else graph.group_atom(category)
        manifest_section = _manifest_section(pipfile, category)
        for raw_name, raw in section.items():
            where = f"{category}.{raw_name}"
            entry = _entry(raw_name, raw, path, where, by_name, manifest_section)
            entry.condition = graph.both(condition, entry.condition)
            key = _identity(entry)
            known = merged.get(key)
            if known is None:
                merged[key] = entry
                continue
            known.condition = graph.either(known.condition, entry.condition)
            known.entries.append(category)
            known.hashes.extend(h for h in entry.hashes if h not in known.hashes)

    packages: list[Package] = []
    origins: list[Origin] = []
    pending: dict[int, PendingFiles] = {}
    findings: list[Finding] = []
    for i, entry in enumerate(merged.values()):
        if entry.version is None and isinstance(entry.source, PackageArchive) and not entry.pending:
            entry.version = _artifact_version(entry.source.url or entry.source.path or "")
        package = _package(entry)
        packages.append(package)
        label = f"{entry.name} {entry.version}" if entry.version else str(entry.name)
        also = f", also in {', '.join(entry.entries[1:])}" if len(entry.entries) > 1 else ""
        origins.append(Origin(path, f"{entry.entries[0]}.{entry.name} ({label}{also})"))
        if entry.pending:
            pending[i] = PendingFiles(hashes=tuple(entry.hashes))
        findings.extend(entry.findings)

    groups = [c for c in categories if c != "default"]
    pylock = Pylock(
        lock_version=Version("1.0"),
        created_by="pipenv",
        dependency_groups=list(groups),
        default_groups=[],
        extras=[],
        packages=packages,
    )
    return Lock(
        path=path,
        format="pipfile",
        pylock=pylock,
        origins=tuple(origins),
        indexes=tuple(indexes),
        pending=pending,
        dev_groups=frozenset(g for g in groups if g == "develop"),
        findings=tuple(findings),
        manifest=manifest if pipfile is not None else None,
        meta={
            "pipfile-hash": _recorded_hash(meta),
            "requires": meta.get("requires") if isinstance(meta.get("requires"), dict) else {},
        },
    )


def _table(value: object, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LockFormatError(
            f"expected an object, found {type(value).__name__}", file=path, field=where, hint=_HINT
        )
    return value


def _sources(value: object, path: Path) -> list[Index]:
    if not isinstance(value, list):
        raise LockFormatError(
            "expected a list of sources", file=path, field="_meta.sources", hint=_HINT
        )
    indexes: list[Index] = []
    for i, source in enumerate(value):
        where = f"_meta.sources[{i}]"
        source = _table(source, path, where)
        url = source.get("url")
        name = source.get("name")
        if not isinstance(url, str) or not url:
            raise LockFormatError(
                "a source needs a url", file=path, field=f"{where}.url", hint=_HINT
            )
        if name is not None and not isinstance(name, str):
            raise LockFormatError("expected a string", file=path, field=f"{where}.name", hint=_HINT)
        verify = source.get("verify_ssl", True)
        # The URL stays as written: ``${VAR}`` holds credentials that are expanded only when used.
        indexes.append(Index(url=url, name=name, verify_ssl=verify is not False))
    return indexes


def _recorded_hash(meta: Mapping[str, Any]) -> Optional[str]:
    recorded = meta.get("hash")
    if isinstance(recorded, dict) and isinstance(recorded.get("sha256"), str):
        return str(recorded["sha256"])
    return None


def _manifest_section(pipfile: Optional[Mapping[str, Any]], category: str) -> Mapping[str, Any]:
    if pipfile is None:
        return {}
    key = {"default": "packages", "develop": "dev-packages"}.get(category, category)
    section = pipfile.get(key)
    if not isinstance(section, dict):
        return {}
    return {canonicalize_name(k): v for k, v in section.items()}


def _entry(
    raw_name: str,
    raw: object,
    path: Path,
    where: str,
    by_name: Mapping[str, str],
    manifest_section: Mapping[str, Any],
) -> _Entry:
    try:
        name = canonicalize_name(raw_name, validate=True)
    except Exception as exc:
        raise LockFormatError(
            f"{raw_name!r} is not a valid package name", file=path, field=where, hint=_HINT
        ) from exc
    entry = _table(raw, path, where)
    version = _version(entry, path, raw_name, where)
    label = f"{name} {version}" if version else str(name)

    def fail(why: str, key: str, hint: str = _HINT) -> LockFormatError:
        return LockFormatError(why, file=path, package=label, field=f"{where}.{key}", hint=hint)

    hashes = _hashes(entry.get("hashes", []), fail)
    markers = entry.get("markers")
    if markers is not None and not isinstance(markers, str):
        raise fail("expected a marker string", "markers")
    try:
        condition = graph.atom(markers)
    except InvalidMarker as exc:
        raise fail(f"invalid marker: {exc}", "markers") from exc

    index: Optional[str] = None
    if "index" in entry:
        wanted = entry["index"]
        if not isinstance(wanted, str) or wanted not in by_name:
            known = ", ".join(repr(n) for n in by_name) or "none"
            raise fail(
                f"names index {wanted!r}, which is not one of the lock's sources",
                "index",
                hint=f"the sources in _meta.sources are: {known}",
            )
        index = by_name[wanted]

    findings: list[Finding] = []
    source, is_pending = _source(entry, hashes, fail, findings, path, label, where)
    if is_pending and version is None:
        from_manifest = _manifest_markers(manifest_section.get(name), fail)
        written = entry.get("version", "no version")
        if markers is None and from_manifest:
            # pipenv drops a Pipfile marker such as sys_platform = "== 'win32'" and writes the entry
            # unlocked: restore it from the Pipfile.
            condition = graph.atom(from_manifest)
        if markers is not None or from_manifest:
            # pipenv writes "*" for entries its resolver could not lock on the locking machine (a
            # Windows-only package locked on Linux). They matter only where their marker holds, so they
            # are an error only when a target selects them (install --deploy), not for the whole lock.
            restored = "" if markers is not None else f"; its marker was restored from the Pipfile: {from_manifest}"
            findings.append(Finding(
                severity="warning",
                file=path,
                message=f"not pinned: {written!r}{restored} (refused under --deploy on a target where "
                "its marker holds)",
                package=label,
                field=f"{where}.version",
            ))
        else:
            findings.append(Finding(
                severity="deploy-error",
                file=path,
                message=f"not pinned: {written!r} (pipenv did not lock this entry to an exact version)",
                package=label,
                field=f"{where}.version",
            ))
    elif is_pending and not hashes:
        findings.append(Finding(
            severity="deploy-error",
            file=path,
            message="not hashed: the entry records no hashes",
            package=label,
            field=f"{where}.hashes",
        ))
    return _Entry(
        name=name,
        version=version,
        source=source,
        index=index,
        hashes=hashes,
        pending=is_pending,
        condition=condition,
        entries=[where.split(".", 1)[0]],
        findings=findings,
    )


def _version(entry: Mapping[str, Any], path: Path, raw_name: str, where: str) -> Optional[Version]:
    written = entry.get("version")
    if written is None:
        return None
    if not isinstance(written, str):
        raise LockFormatError(
            "expected a version string like '==1.2.3'",
            file=path,
            package=raw_name,
            field=f"{where}.version",
            hint=_HINT,
        )
    text = written.strip()
    for operator in ("===", "=="):
        if text.startswith(operator):
            text = text[len(operator):].strip()
            if "*" in text:
                return None
            try:
                return Version(text)
            except InvalidVersion as exc:
                raise LockFormatError(
                    f"invalid version {written!r}",
                    file=path,
                    package=raw_name,
                    field=f"{where}.version",
                    hint=_HINT,
                ) from exc
    return None  # "*" or a range: not a pin, reported by the caller


def _hashes(value: object, fail: Callable[[str, str], LockFormatError]) -> list[str]:
    if not isinstance(value, list):
        raise fail("expected a list of 'sha256:<hex>' strings", "hashes")
    hashes: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _HASH.match(item):
            raise fail(f"expected 'algorithm:hexdigest', found {item!r}", f"hashes[{i}]")
        algorithm, _, digest = item.partition(":")
        text = f"{algorithm.lower()}:{digest.lower()}"
        if text not in hashes:
            hashes.append(text)
    return hashes


def _source(
    entry: Mapping[str, Any],
    hashes: list[str],
    fail: Callable[[str, str], LockFormatError],
    findings: list[Finding],
    path: Path,
    label: str,
    where: str,
) -> tuple[Source, bool]:
    """The package's source and whether its files are still to be found on an index."""
    editable = entry.get("editable") is True
    subdirectory = entry.get("subdirectory")
    if subdirectory is not None and not isinstance(subdirectory, str):
        raise fail("expected a string", "subdirectory")
    for vcs in VCS_KEYS:
        if vcs not in entry:
            continue
        url = entry[vcs]
        if not isinstance(url, str) or not url:
            raise fail("expected a repository URL", vcs)
        url, ref_in_url = _split_vcs_url(url, vcs)
        ref = entry.get("ref") or ref_in_url
        if ref is not None and not isinstance(ref, str):
            raise fail("expected a commit string", "ref")
        if not ref:
            findings.append(Finding(
                severity="deploy-error",
                file=path,
                message="not pinned: the repository entry records no commit (ref)",
                package=label,
                field=f"{where}.ref",
            ))
        return PackageVcs(
            type=vcs, url=url, commit_id=ref or "", requested_revision=ref or None,
            subdirectory=subdirectory,
        ), False
    if "file" in entry:
        location = entry["file"]
        if not isinstance(location, str) or not location:
            raise fail("expected a URL or path", "file")
        digests = _archive_hashes(hashes)
        if "://" in location:
            return PackageArchive(url=location, hashes=digests, subdirectory=subdirectory), False
        return PackageArchive(path=location, hashes=digests, subdirectory=subdirectory), False
    if "path" in entry:
        location = entry["path"]
        if not isinstance(location, str) or not location:
            raise fail("expected a path", "path")
        if location.lower().endswith(ARCHIVE_SUFFIXES):
            return PackageArchive(
                path=location, hashes=_archive_hashes(hashes), subdirectory=subdirectory
            ), False
        return PackageDirectory(path=location, editable=editable, subdirectory=subdirectory), False
    return pending_placeholder(), True


def _split_vcs_url(url: str, vcs: str) -> tuple[str, Optional[str]]:
    """Older pipenv writes ``git+https://host/repo.git@ref#egg=x``; keep the bare repository URL."""
    if url.startswith(f"{vcs}+"):
        url = url[len(vcs) + 1:]
    url = url.split("#", 1)[0]
    _, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[-1] and "/" in rest:
        head, _, ref = url.rpartition("@")
        return head, ref or None
    return url, None


def _archive_hashes(hashes: list[str]) -> dict[str, str]:
    digests: dict[str, str] = {}
    for text in hashes:
        algorithm, _, digest = text.partition(":")
        digests.setdefault(algorithm, digest)
    return digests


def _artifact_version(location: str) -> Optional[Version]:
    """A direct wheel or sdist names its version in its file name; pipenv does not record it."""
    filename = unquote(location.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith(ARCHIVE_SUFFIXES):
            return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _manifest_markers(
    spec: object, fail: Callable[[str, str], LockFormatError]
) -> Optional[str]:
    """What a Pipfile entry asks for: ``markers`` and keys like ``sys_platform = "== 'win32'"``."""
    if not isinstance(spec, dict):
        return None
    try:
        text = pipfile_entry_marker(spec)
    except ValueError as exc:
        raise fail(str(exc), exc.args[1] if len(exc.args) > 1 else "markers") from exc
    if text is None:
        return None
    try:
        return str(Marker(text))
    except InvalidMarker as exc:
        raise fail(f"the Pipfile's marker {text!r} is invalid: {exc}", "markers") from exc


_CONDITION = re.compile(r"^\s*(===|==|!=|<=|>=|~=|<|>)?\s*(.+?)\s*$")


def pipfile_entry_marker(spec: Mapping[str, Any]) -> Optional[str]:
    """The marker a Pipfile entry asks for: its ``markers`` string and-ed with keys such as
    ``sys_platform = "== 'win32'"`` (operator ``==`` when left out, operand quoted when bare).

    Raises ``ValueError(why, key)`` for a condition that cannot be read; the callers name the file.
    """
    parts: list[str] = []
    written = spec.get("markers")
    if isinstance(written, str) and written.strip():
        parts.append(written.strip())
    for key in PIPFILE_MARKER_KEYS:
        condition = spec.get(key)
        if not isinstance(condition, str) or not condition.strip():
            continue
        match = _CONDITION.match(condition)
        if match is None:
            raise ValueError(f"cannot read the condition {condition!r}; write it like \"== 'linux'\"", key)
        operand = match.group(2)
        if operand[:1] not in ("'", '"'):
            operand = f"'{operand}'"
        parts.append(f"{key} {match.group(1) or '=='} {operand}")
    if not parts:
        return None
    return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def _identity(entry: _Entry) -> tuple[object, ...]:
    return (entry.name, str(entry.version), repr(entry.source), entry.index)


def _package(entry: _Entry) -> Package:
    source = entry.source
    return Package(
        name=entry.name,
        version=entry.version,
        marker=graph.to_marker(entry.condition),
        index=entry.index,
        vcs=source if isinstance(source, PackageVcs) else None,
        directory=source if isinstance(source, PackageDirectory) else None,
        archive=source if isinstance(source, PackageArchive) else None,
    )


# --- freshness ---


def freshness(lock: Lock) -> Freshness:
    recorded = lock.meta.get("pipfile-hash")
    manifest = lock.manifest
    if manifest is None or not manifest.is_file():
        return Freshness(
            checked=False, fresh=True, method="no Pipfile beside the lock", manifest=None
        )
    if not isinstance(recorded, str):
        return Freshness(
            checked=False,
            fresh=True,
            method="the lock records no _meta.hash.sha256",
            manifest=manifest,
        )
    pipfile = load_toml(manifest)
    digests = pipfile_hashes(pipfile)
    if digests is None:
        return Freshness(
            checked=False,
            fresh=True,
            method="Pipfile hash (pipenv algorithm) not computable: the Pipfile has no [[source]] "
            "and pip's default index URL is not available",
            manifest=manifest,
        )
    if not digests:
        return Freshness(
            checked=False,
            fresh=False,
            method="Pipfile hash (pipenv algorithm) not computable: the Pipfile holds a value "
            "JSON cannot represent (a date or time)",
            manifest=manifest,
        )
    for label, digest in digests.items():
        if digest == recorded.lower():
            return Freshness(
                checked=True, fresh=True, method=f"Pipfile hash ({label})", manifest=manifest
            )
    computed = " or ".join(f"{d[:12]}… ({label})" for label, d in digests.items())
    return Freshness(
        checked=True,
        fresh=False,
        method="Pipfile hash (pipenv algorithm)",
        manifest=manifest,
        differences=(
            f"_meta.hash.sha256 differs: lock has {recorded[:12]}…, Pipfile gives {computed}",
        ),
    )


def default_index_url() -> Optional[str]:
    """pip's default index, which pipenv injects as source ``pypi`` when a Pipfile names none."""
    try:
        from pip._internal.models.index import PyPI
    except ImportError:  # pragma: no cover - pip is normally installed beside lading
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) else None


def pipfile_hashes(pipfile: Mapping[str, Any]) -> Optional[dict[str, str]]:
    """The Pipfile's digest by each pipenv algorithm; ``None`` when the default source is unknown.

    An empty dict means the Pipfile holds a value JSON cannot hold, which pipenv cannot hash either.
    """
    if "source" in pipfile:
        sources: object = pipfile["source"]
    else:
        url = default_index_url()
        if url is None:
            return None
        sources = [{"name": "pypi", "url": url, "verify_ssl": True}]
    digests: dict[str, str] = {}
    variants: tuple[tuple[str, Callable[[str], str]], ...] = (
        ("pipenv algorithm", lambda k: k),
        ("pipenv >= 2026.4 algorithm, canonical names", canonicalize_name),
    )
    for label, rename in variants:
        data = _hash_input(pipfile, sources, rename)
        try:
            text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return {}
        digests[label] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digests


def _hash_input(
    pipfile: Mapping[str, Any], sources: object, rename: Callable[[str], str]
) -> dict[str, Any]:
    def section(value: object) -> object:
        if isinstance(value, dict):
            return {rename(k): v for k, v in value.items()}
        return value

    data: dict[str, Any] = {
        "_meta": {"sources": sources, "requires": pipfile.get("requires", {})},
        "default": section(pipfile.get("packages", {})),
        "develop": section(pipfile.get("dev-packages", {})),
    }
    for key, value in pipfile.items():
        if key not in _NOT_CATEGORIES:
            data[key] = section(value)
    return data
