"""uv.lock (version 1; revisions 0 to 3 known, later ones read alike): a graph with edge markers.

uv.lock does not say which packages an install needs: uv walks the graph from the workspace
members, following ``dependencies``, the requested ``optional-dependencies`` and
``dev-dependencies`` (dependency groups), and evaluating each edge marker. Here that walk is done
once, symbolically, with :mod:`lading.locks.graph`, so every package gets the one marker under
which some path reaches it; the result is an ordinary Pylock that ``Pylock.select`` can evaluate
for any target.

uv has no content hash. ``uv lock --check`` compares the requirements recorded in the lock
(``[package.metadata]``) with the workspace; :func:`freshness` does the same for the root project.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

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
    propagate,
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
    Pylock,
)

SUPPORTED_VERSION = 1
#: The newest revision whose fields lading knows (uv 0.8.4); newer revisions of version 1 only add
#: fields, and uv 0.13 writes revision 5.
KNOWN_REVISION = 3

_PROJECT_KINDS = ("editable", "virtual", "directory")
_SOURCE_KINDS = ("registry", "git", "url", "path", "directory", "editable", "virtual")
_REGENERATE = "re-create it with `uv lock`"
FRESHNESS_METHOD = "uv.lock recorded requirements vs pyproject.toml"

# A valid (normalized) project, extra or group name.
_NAME = re.compile(r"^([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$")

# uv writes the extras and groups of conflicting sets into markers as fake `extra` values.
_CONFLICT_VALUE = re.compile(r"^(extra|group)-(\d+)-(.+)$")
_EXTRA_COMPARISON = re.compile(
    r"""\bextra\s*(==|!=)\s*(?:'([^']*)'|"([^"]*)")|(?:'([^']*)'|"([^"]*)")\s*(==|!=)\s*extra\b"""
)

# A node of the walk: (package index, kind, name) with kind "" (the package itself), "extra" (the
# package with one of its extras) or "group" (one dependency group of a workspace member). Index -1
# is the synthetic root of a lock without a project (script locks, virtual workspaces).
Node = tuple[int, str, str]
_MANIFEST = -1


@dataclass(frozen=True)
class _Entry:
    """One ``[[package]]`` table, checked just enough to be addressed by edges."""

    index: int
    name: NormalizedName
    version: Optional[str]
    kind: str
    source: Mapping[str, Any]
    raw: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else str(self.name)

    @property
    def field(self) -> str:
        return f"package[{self.index}]"

    @property
    def location(self) -> str:
        return str(self.source[self.kind])


@dataclass(frozen=True)
class _Context:
    path: Path
    entries: tuple[_Entry, ...]
    by_name: Mapping[str, tuple[_Entry, ...]]
    roots: frozenset[int]

    def fail(
        self, why: str, entry: Optional[_Entry] = None, field: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> LockFormatError:
        return LockFormatError(
            why,
            file=self.path,
            package=entry.label if entry else None,
            field=_join(entry.field if entry else None, field),
            hint=hint or f"the lock is damaged or was edited by hand; {_REGENERATE}",
        )


# --------------------------------------------------------------------------------------------- read


def read(path: Path) -> Lock:
    data = load_toml(path)
    revision = _check_version(data, path)
    entries = _entries(data, path)
    by_name: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    roots = _roots(data, entries, path)
    ctx = _Context(
        path=path,
        entries=entries,
        by_name={k: tuple(v) for k, v in by_name.items()},
        roots=frozenset(roots),
    )
    starts, edges, extras, groups = _graph(data, ctx)
    reached = propagate(starts, edges)

    # A newer revision of version 1 only adds fields (uv's own readers accept it), so it is read
    # like the known ones.
    findings: list[Finding] = []
    packages: list[Package] = []
    origins: list[Origin] = []
    indexes: list[Index] = []
    for entry in entries:
        condition = reached.get((entry.index, "", ""), NEVER)
        if not condition or entry.kind == "virtual":
            continue
        if len(ctx.by_name[entry.name]) > 1:
            condition = both(condition, _fork_condition(ctx, entry))
            if not condition:
                continue
        package, entry_findings = _package(ctx, entry, condition)
        packages.append(package)
        findings.extend(entry_findings)
        origins.append(Origin(path, f"{entry.field} ({entry.label})"))
        if package.index and all(ix.url != package.index for ix in indexes):
            indexes.append(Index(url=package.index))

    pylock = Pylock(
        lock_version=Version("1.0"),
        environments=_environments(data, ctx),
        requires_python=_specifiers(data.get("requires-python"), ctx, "requires-python"),
        extras=[canonicalize_name(x) for x in extras],
        dependency_groups=list(groups),
        default_groups=[],
        created_by="uv",
        packages=packages,
    )
    manifest = path.parent / "pyproject.toml"
    return Lock(
        path=path,
        format="uv",
        pylock=pylock,
        origins=tuple(origins),
        indexes=tuple(indexes),
        dev_groups=frozenset(g for g in groups if g == "dev"),
        findings=tuple(findings),
        manifest=manifest if manifest.is_file() else None,
        meta=_meta(data, ctx, revision),
    )


def _check_version(data: Mapping[str, Any], path: Path) -> int:
    version = data.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        raise LockFormatError(
            f"version {version!r} is not supported "
            f"(lading reads uv.lock version {SUPPORTED_VERSION})",
            file=path,
            field="version",
            hint="upgrade lading, or re-create the lock with a uv release that writes version 1",
        )
    revision = data.get("revision", 0)
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise LockFormatError(
            f"revision must be a non-negative integer, not {revision!r}",
            file=path,
            field="revision",
            hint=_REGENERATE,
        )
    return revision


def _entries(data: Mapping[str, Any], path: Path) -> tuple[_Entry, ...]:
    raw = data.get("package", [])
    if not isinstance(raw, list):
        raise LockFormatError(
            "must be an array of tables", file=path, field="package", hint=_REGENERATE
        )
    entries = []
    for i, table in enumerate(raw):
        where = f"package[{i}]"
        if not isinstance(table, dict):
            raise LockFormatError("must be a table", file=path, field=where, hint=_REGENERATE)
        name = table.get("name")
        version = table.get("version")
        label = f"{name} {version}" if version else str(name or "?")
        if not isinstance(name, str) or not name:
            raise LockFormatError(
                "missing package name", file=path, package=label, field=f"{where}.name",
                hint=_REGENERATE,
            )
        if version is not None and not isinstance(version, str):
            raise LockFormatError(
                "version must be a string", file=path, package=label, field=f"{where}.version",
                hint=_REGENERATE,
            )
        source = table.get("source")
        if not isinstance(source, dict):
            source = {}
        kinds = [k for k in _SOURCE_KINDS if k in source]
        if len(kinds) != 1 or not isinstance(source[kinds[0]], str):
            raise LockFormatError(
                "source must name exactly one of " + ", ".join(_SOURCE_KINDS),
                file=path, package=label, field=f"{where}.source", hint=_REGENERATE,
            )
        entries.append(_Entry(i, canonicalize_name(name), version, kinds[0], source, table))
    return tuple(entries)


def _roots(data: Mapping[str, Any], entries: Sequence[_Entry], path: Path) -> list[int]:
    """The workspace members: the walk starts from each of them."""
    manifest = data.get("manifest", {})
    members = manifest.get("members") if isinstance(manifest, dict) else None
    if isinstance(members, list) and members:
        wanted = {canonicalize_name(str(m)) for m in members}
        return [e.index for e in entries if e.name in wanted and e.kind in _PROJECT_KINDS]
    return [
        e.index for e in entries
        if e.kind in _PROJECT_KINDS and e.location.rstrip("/") in (".", "")
    ]


def _graph(
    data: Mapping[str, Any], ctx: _Context,
) -> tuple[dict[Node, Condition], dict[Node, list[tuple[Node, Condition]]], list[str], list[str]]:
    starts: dict[Node, Condition] = {}
    edges: dict[Node, list[tuple[Node, Condition]]] = {}
    extras: list[str] = []
    groups: list[str] = []

    def note(names: list[str], name: str) -> None:
        if name not in names:
            names.append(name)

    for entry in ctx.entries:
        table = entry.raw
        base: Node = (entry.index, "", "")
        edges[base] = _edges(ctx, entry, table.get("dependencies", []), "dependencies")
        optional = _table(ctx, entry, table, "optional-dependencies")
        for extra, deps in optional.items():
            name = canonicalize_name(extra)
            node: Node = (entry.index, "extra", name)
            field = f"optional-dependencies.{extra}"
            edges[node] = [(base, ALWAYS), *_edges(ctx, entry, deps, field)]
            if entry.index in ctx.roots:
                starts[node] = extra_atom(name)
                note(extras, name)
        if entry.index in ctx.roots:
            starts[base] = ALWAYS
            for group, deps in _table(ctx, entry, table, "dev-dependencies").items():
                name = canonicalize_name(group)
                node = (entry.index, "group", name)
                edges[node] = _edges(ctx, entry, deps, f"dev-dependencies.{group}")
                starts[node] = group_atom(name)
                note(groups, name)

    manifest = data.get("manifest", {})
    if isinstance(manifest, dict):
        requirements = manifest.get("requirements", [])
        if requirements:
            node = (_MANIFEST, "", "")
            starts[node] = ALWAYS
            edges[node] = _requirement_edges(ctx, requirements, "manifest.requirements")
        dependency_groups = manifest.get("dependency-groups", {})
        if isinstance(dependency_groups, dict):
            for group, requirements in dependency_groups.items():
                name = canonicalize_name(group)
                node = (_MANIFEST, "group", name)
                starts[node] = group_atom(name)
                edges[node] = _requirement_edges(
                    ctx, requirements, f"manifest.dependency-groups.{group}"
                )
                note(groups, name)
    if not starts:
        raise LockFormatError(
            "no workspace root: no [manifest] members, no package with source "
            "{ editable = \".\" }, { virtual = \".\" } or { directory = \".\" }, and no "
            "[manifest] requirements",
            file=ctx.path,
            field="package",
            hint=f"uv.lock is written for a project or a script; {_REGENERATE}",
        )
    return starts, edges, extras, groups


def _table(
    ctx: _Context, entry: _Entry, table: Mapping[str, Any], key: str,
) -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ctx.fail("must be a table of name = [dependencies]", entry, key)
    return value


def _edges(
    ctx: _Context, entry: _Entry, deps: object, field: str,
) -> list[tuple[Node, Condition]]:
    if not isinstance(deps, list):
        raise ctx.fail("must be an array of dependency tables", entry, field)
    found: list[tuple[Node, Condition]] = []
    for k, dep in enumerate(deps):
        where = f"{field}[{k}]"
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ctx.fail("a dependency must be a table with a name", entry, where)
        target = _resolve(ctx, entry, dep, where)
        condition = _edge_condition(ctx, entry, dep.get("marker"), f"{where}.marker")
        for node in _targets(ctx, entry, target, dep.get("extra", []), where):
            found.append((node, condition))
    return found


def _resolve(ctx: _Context, entry: _Entry, dep: Mapping[str, Any], where: str) -> _Entry:
    """The locked package an edge points at (``version``/``source`` choose among forks)."""
    name = canonicalize_name(dep["name"])
    candidates = list(ctx.by_name.get(name, ()))
    if "version" in dep:
        candidates = [c for c in candidates if c.version == dep["version"]]
    if "source" in dep:
        candidates = [c for c in candidates if dict(c.source) == dep["source"]]
    if not candidates:
        wanted = " ".join(str(x) for x in (dep["name"], dep.get("version")) if x)
        raise ctx.fail(
            f"depends on {wanted!r}, which is not in the lock", entry, f"{where}.name",
        )
    if len(candidates) > 1:
        raise ctx.fail(
            f"dependency {dep['name']!r} is ambiguous: the lock has "
            + ", ".join(c.label for c in candidates)
            + " and the edge gives no version or source to choose",
            entry, where,
        )
    return candidates[0]


def _targets(
    ctx: _Context, entry: Optional[_Entry], target: _Entry, extras: object, where: str,
) -> list[Node]:
    if not isinstance(extras, list) or not all(isinstance(x, str) for x in extras):
        raise ctx.fail("extra must be an array of names", entry, f"{where}.extra")
    nodes: list[Node] = [(target.index, "", "")]
    nodes.extend((target.index, "extra", canonicalize_name(x)) for x in extras)
    return nodes


def _requirement_edges(
    ctx: _Context, requirements: object, field: str,
) -> list[tuple[Node, Condition]]:
    """Edges from ``[manifest]`` requirements, which name packages but not versions."""
    if not isinstance(requirements, list):
        raise ctx.fail("must be an array of requirement tables", None, field)
    found: list[tuple[Node, Condition]] = []
    for k, requirement in enumerate(requirements):
        where = f"{field}[{k}]"
        if not isinstance(requirement, dict) or not isinstance(requirement.get("name"), str):
            raise ctx.fail("a requirement must be a table with a name", None, where)
        targets = ctx.by_name.get(canonicalize_name(requirement["name"]), ())
        if not targets:
            raise ctx.fail(
                f"requires {requirement['name']!r}, which is not in the lock", None, f"{where}.name"
            )
        condition = _edge_condition(ctx, None, requirement.get("marker"), f"{where}.marker")
        for target in targets:
            for node in _targets(ctx, None, target, requirement.get("extras", []), where):
                found.append((node, condition))
    return found


def _edge_condition(
    ctx: _Context, entry: Optional[_Entry], marker: object, field: str,
) -> Condition:
    if marker is None:
        return ALWAYS
    if not isinstance(marker, str):
        raise ctx.fail("marker must be a string", entry, field)
    text = translate_conflicts(marker, ctx, entry, field)
    try:
        return atom(text)
    except InvalidMarker as exc:
        raise ctx.fail(f"invalid marker {marker!r}: {exc}", entry, field) from exc


def translate_conflicts(
    marker: str, ctx: _Context, entry: Optional[_Entry], field: str,
) -> str:
    """Rewrite uv's ``extra == 'extra-3-foo-cpu'`` into ``'cpu' in extras`` (and groups alike).

    Only the extras and groups of workspace members can be translated: they are the ones a user
    selects. ``extra`` is undefined when a lock marker is evaluated, so anything else is refused.
    """
    members = {ctx.entries[i].name for i in ctx.roots}

    def replace(match: re.Match[str]) -> str:
        op = match.group(1) or match.group(6)
        value = next(g for g in match.group(2, 3, 4, 5) if g is not None)
        decoded = _decode_conflict(value)
        if decoded is None or decoded[1] not in members:
            raise ctx.fail(
                f"marker {marker!r} uses `extra == {value!r}`, which lading cannot translate "
                "(only the conflict-encoded extras and groups of workspace members are supported)",
                entry, field,
                hint="this lock relies on uv's internal conflict handling for a non-member "
                "package; install it with uv, or export it with `uv export --format pylock.toml`",
            )
        kind, _, name = decoded
        variable = "extras" if kind == "extra" else "dependency_groups"
        negation = "not in" if op == "!=" else "in"
        return f"'{name}' {negation} {variable}"

    return _EXTRA_COMPARISON.sub(replace, marker)


def _decode_conflict(value: str) -> Optional[tuple[str, NormalizedName, NormalizedName]]:
    match = _CONFLICT_VALUE.match(value)
    if not match:
        return None
    length, rest = int(match.group(2)), match.group(3)
    if len(rest) < length + 2 or rest[length] != "-":
        return None
    return match.group(1), canonicalize_name(rest[:length]), canonicalize_name(rest[length + 1:])


def _fork_condition(ctx: _Context, entry: _Entry) -> Condition:
    """A package locked at several versions is only valid in the forks it was resolved for.

    uv already puts the fork markers on the edges; intersecting with them as well keeps the package
    markers mutually exclusive even where edge markers were simplified.
    """
    markers = entry.raw.get("resolution-markers")
    if markers is None:
        return ALWAYS
    if not isinstance(markers, list):
        raise ctx.fail("must be an array of markers", entry, "resolution-markers")
    if any(isinstance(m, str) and _EXTRA_COMPARISON.search(m) for m in markers):
        # Forks over conflicting extras say `extra != 'extra-3-app-gpu'`; intersecting with that
        # would silently drop both variants when a user asks for both extras, where uv refuses.
        # Left to the edges, both are selected and the selection reports the clash.
        return ALWAYS
    condition = NEVER
    for k, marker in enumerate(markers):
        condition = either(
            condition, _edge_condition(ctx, entry, marker, f"resolution-markers[{k}]")
        )
    return condition


def _environments(data: Mapping[str, Any], ctx: _Context) -> Optional[list[Marker]]:
    supported = data.get("supported-markers")
    if supported is None:
        return None
    if not isinstance(supported, list):
        raise ctx.fail("must be an array of markers", None, "supported-markers")
    markers = []
    for k, text in enumerate(supported):
        try:
            markers.append(Marker(str(text)))
        except InvalidMarker as exc:
            raise ctx.fail(
                f"invalid marker {text!r}: {exc}", None, f"supported-markers[{k}]"
            ) from exc
    return markers


def _join(prefix: Optional[str], field: Optional[str]) -> Optional[str]:
    if prefix and field:
        return f"{prefix}.{field}"
    return prefix or field


def _specifiers(value: object, ctx: _Context, field: str) -> Optional[SpecifierSet]:
    if value is None:
        return None
    try:
        return SpecifierSet(str(value))
    except InvalidSpecifier as exc:
        raise ctx.fail(f"invalid version specifier {value!r}", None, field) from exc


# ----------------------------------------------------------------------------------------- packages


def _package(ctx: _Context, entry: _Entry, condition: Condition) -> tuple[Package, list[Finding]]:
    findings: list[Finding] = []
    version = None
    if entry.version is not None:
        try:
            version = Version(entry.version)
        except InvalidVersion as exc:
            raise ctx.fail(f"invalid version {entry.version!r}", entry, "version") from exc
    fields: dict[str, Any] = {}
    location = entry.location
    if entry.kind in ("directory", "editable"):
        fields["directory"] = PackageDirectory(path=location, editable=entry.kind == "editable")
    elif entry.kind == "git":
        fields["vcs"] = _vcs(ctx, entry)
    elif entry.kind in ("url", "path"):
        fields["archive"] = _archive(ctx, entry, findings)
    else:
        fields["index"] = location if _is_url(location) else None
        fields["wheels"], fields["sdist"] = _registry_files(ctx, entry, findings)
    package = Package(
        name=entry.name,
        version=version,
        marker=to_marker(condition),
        **fields,
    )
    return package, findings


def _vcs(ctx: _Context, entry: _Entry) -> PackageVcs:
    text = entry.location
    if text.startswith("git+"):
        text = text[len("git+"):]
    parts = urlsplit(text)
    commit = unquote(parts.fragment)
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        raise ctx.fail(
            f"git source {entry.location!r} has no commit after '#'", entry, "source.git",
        )
    query = parse_qs(parts.query)

    def first(*keys: str) -> Optional[str]:
        for key in keys:
            if query.get(key):
                return query[key][0]
        return None

    return PackageVcs(
        type="git",
        url=urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        commit_id=commit,
        requested_revision=first("tag", "branch", "rev"),
        subdirectory=first("subdirectory") or entry.source.get("subdirectory"),
    )


def _archive(ctx: _Context, entry: _Entry, findings: list[Finding]) -> PackageArchive:
    """A direct URL or local file: the one artifact is described by ``sdist`` or ``wheels[0]``."""
    artifact: Mapping[str, Any] = {}
    field = "sdist"
    if isinstance(entry.raw.get("sdist"), dict):
        artifact = entry.raw["sdist"]
    elif isinstance(entry.raw.get("wheels"), list) and entry.raw["wheels"]:
        field = "wheels[0]"
        artifact = entry.raw["wheels"][0]
        if not isinstance(artifact, dict):
            raise ctx.fail("must be a table", entry, field)
    hashes = _hashes(ctx, entry, artifact, field, findings)
    subdirectory = entry.source.get("subdirectory")
    common: dict[str, Any] = {
        "size": _size(ctx, entry, artifact, field),
        "upload_time": _upload_time(ctx, entry, artifact, field),
        "hashes": hashes,
        "subdirectory": str(subdirectory) if subdirectory else None,
    }
    if entry.kind == "url":
        return PackageArchive(url=entry.location, **common)
    return PackageArchive(path=entry.location, **common)


def _registry_files(
    ctx: _Context, entry: _Entry, findings: list[Finding],
) -> tuple[Optional[list[PackageWheel]], Optional[PackageSdist]]:
    base = None if _is_url(entry.location) else entry.location
    wheels_raw = entry.raw.get("wheels", [])
    if not isinstance(wheels_raw, list):
        raise ctx.fail("must be an array of tables", entry, "wheels")
    wheels = []
    for k, raw in enumerate(wheels_raw):
        field = f"wheels[{k}]"
        if not isinstance(raw, dict):
            raise ctx.fail("must be a table", entry, field)
        url, path, name = _file_location(ctx, entry, raw, field, base)
        wheels.append(PackageWheel(
            name=name,
            url=url,
            path=path,
            size=_size(ctx, entry, raw, field),
            upload_time=_upload_time(ctx, entry, raw, field),
            hashes=_hashes(ctx, entry, raw, field, findings),
        ))
    sdist = None
    raw_sdist = entry.raw.get("sdist")
    if raw_sdist is not None:
        if not isinstance(raw_sdist, dict):
            raise ctx.fail("must be a table", entry, "sdist")
        url, path, name = _file_location(ctx, entry, raw_sdist, "sdist", base)
        sdist = PackageSdist(
            name=name,
            url=url,
            path=path,
            size=_size(ctx, entry, raw_sdist, "sdist"),
            upload_time=_upload_time(ctx, entry, raw_sdist, "sdist"),
            hashes=_hashes(ctx, entry, raw_sdist, "sdist", findings),
        )
    if not wheels and sdist is None:
        raise ctx.fail(
            "a registry package needs an sdist or at least one wheel", entry, "wheels",
        )
    return wheels or None, sdist


def _file_location(
    ctx: _Context, entry: _Entry, raw: Mapping[str, Any], field: str, base: Optional[str],
) -> tuple[Optional[str], Optional[str], Optional[str]]:
    url, path, name = raw.get("url"), raw.get("path"), raw.get("filename")
    for key, value in (("url", url), ("path", path), ("filename", name)):
        if value is not None and not isinstance(value, str):
            raise ctx.fail("must be a string", entry, f"{field}.{key}")
    if path is not None and base is not None:
        # A local (flat) registry: its files are named relative to the registry directory.
        path = f"{base.rstrip('/')}/{path}"
    if url is None and path is None:
        raise ctx.fail("a file needs a url or a path", entry, field)
    return url, path, name


def _hashes(
    ctx: _Context, entry: _Entry, raw: Mapping[str, Any], field: str, findings: list[Finding],
) -> dict[str, str]:
    value = raw.get("hash")
    if value is None:
        findings.append(Finding(
            "deploy-error", ctx.path, "not hashed",
            package=entry.label, field=f"{entry.field}.{field}",
        ))
        return {}
    algorithm, sep, digest = str(value).partition(":")
    well_formed = sep and algorithm and re.fullmatch(r"[0-9a-fA-F]+", digest)
    if not isinstance(value, str) or not well_formed:
        raise ctx.fail(
            f"hash {value!r} is not of the form 'algorithm:hexdigest'", entry, f"{field}.hash",
        )
    return {algorithm.lower(): digest.lower()}


def _size(ctx: _Context, entry: _Entry, raw: Mapping[str, Any], field: str) -> Optional[int]:
    size = raw.get("size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ctx.fail(f"size must be a non-negative integer, not {size!r}", entry, f"{field}.size")
    return size


def _upload_time(
    ctx: _Context, entry: _Entry, raw: Mapping[str, Any], field: str,
) -> Optional[datetime]:
    value = raw.get("upload-time")
    if value is None:
        return None
    if isinstance(value, datetime):  # a bare TOML datetime, should uv ever write one
        return value
    parsed = parse_timestamp(str(value))
    if parsed is None:
        raise ctx.fail(
            f"upload-time {value!r} is not an RFC 3339 timestamp", entry, f"{field}.upload-time",
        )
    return parsed


_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$"
)


def parse_timestamp(text: str) -> Optional[datetime]:
    """RFC 3339 as uv writes it (``2025-01-02T03:04:05.678Z``); 3.9's fromisoformat rejects it."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return None
    day, time, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{day}T{time}.{micro}{offset}")
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc)


def _is_url(text: str) -> bool:
    return "://" in text


def _meta(data: Mapping[str, Any], ctx: _Context, revision: int) -> dict[str, object]:
    """What :func:`freshness` compares: the requirements uv recorded for the project at ``.``."""
    meta: dict[str, object] = {"version": data.get("version"), "revision": revision}
    if "requires-python" in data:
        meta["requires-python"] = data["requires-python"]
    for i in sorted(ctx.roots):
        entry = ctx.entries[i]
        if entry.location.rstrip("/") in (".", ""):
            metadata = entry.raw.get("metadata")
            meta["project"] = entry.name
            if isinstance(metadata, dict):
                meta["metadata"] = metadata
    return meta


# ---------------------------------------------------------------------------------------- freshness


@dataclass(frozen=True)
class _Requirement:
    """One requirement, normalised so that uv's recorded form and pyproject.toml's compare equal."""

    name: NormalizedName
    extras: frozenset[NormalizedName]
    specifier: Optional[SpecifierSet]  # None: given by a source (url, git, path), not compared
    marker: Optional[str]
    text: str


def freshness(lock: Lock) -> Freshness:
    manifest = lock.manifest
    if manifest is None:
        return Freshness(checked=False, fresh=True, method=FRESHNESS_METHOD)
    metadata = lock.meta.get("metadata")
    if not isinstance(metadata, dict):
        return Freshness(
            checked=False, fresh=True, manifest=manifest,
            method=f"{FRESHNESS_METHOD} (the lock records no requirements for a project at '.')",
        )
    pyproject = load_toml(manifest)
    project = pyproject.get("project", {})
    if not isinstance(project, dict):
        raise LockFormatError("must be a table", file=manifest, field="project")
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and {"dependencies", "optional-dependencies"} & set(dynamic):
        return Freshness(
            checked=False, fresh=True, manifest=manifest,
            method=f"{FRESHNESS_METHOD} (dependencies are dynamic in pyproject.toml)",
        )
    differences: list[str] = []
    lock_name = lock.path.name

    requires_dist = _list(metadata.get("requires-dist"), lock.path, "requires-dist")
    locked = [
        _recorded(r, lock.path, f"package.metadata.requires-dist[{k}]")
        for k, r in enumerate(requires_dist)
    ]
    wanted = _project_requirements(project, manifest)
    differences += _compare(locked, wanted, "dependency", lock_name)

    if "provides-extras" in metadata:
        recorded_extras = {canonicalize_name(str(x)) for x in
                           _list(metadata["provides-extras"], lock.path, "provides-extras")}
        optional = project.get("optional-dependencies", {})
        declared = {canonicalize_name(x) for x in optional} if isinstance(optional, dict) else set()
        for extra in sorted(declared - recorded_extras):
            differences.append(f"pyproject.toml adds extra {extra!r}")
        for extra in sorted(recorded_extras - declared):
            differences.append(f"pyproject.toml removes extra {extra!r} (still in {lock_name})")

    recorded_groups = metadata.get("requires-dev", {})
    if not isinstance(recorded_groups, dict):
        raise LockFormatError(
            "must be a table", file=lock.path, field="package.metadata.requires-dev"
        )
    locked_groups: dict[str, list[_Requirement]] = {
        canonicalize_name(group): [
            _recorded(r, lock.path, f"package.metadata.requires-dev.{group}[{k}]")
            for k, r in enumerate(_list(reqs, lock.path, f"requires-dev.{group}"))
        ]
        for group, reqs in recorded_groups.items()
    }
    wanted_groups = _project_groups(pyproject, manifest)
    for group in sorted({*locked_groups, *wanted_groups}):
        differences += _compare(
            locked_groups.get(group, []), wanted_groups.get(group, []),
            f"dependency (group {group!r})", lock_name,
        )

    differences += _compare_python(lock, project, manifest)
    return Freshness(
        checked=True,
        fresh=not differences,
        method=FRESHNESS_METHOD,
        manifest=manifest,
        differences=tuple(differences),
    )


def _list(value: object, path: Path, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LockFormatError("must be an array", file=path, field=field)
    return value


def _recorded(raw: object, path: Path, field: str) -> _Requirement:
    """A requirement as uv records it: ``{ name, specifier?, marker?, extras?, url|git|path }``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise LockFormatError(
            "must be a table with a name", file=path, field=field, hint=_REGENERATE
        )
    for key in ("specifier", "marker"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise LockFormatError(
                f"{key} must be a string, not {raw[key]!r}", file=path, field=f"{field}.{key}", hint=_REGENERATE
            )
    extras_raw = _list(raw.get("extras"), path, f"{field}.extras")
    if not all(isinstance(x, str) for x in extras_raw):
        raise LockFormatError("extras must be an array of names", file=path, field=f"{field}.extras", hint=_REGENERATE)
    sourced = any(k in raw for k in ("url", "git", "path", "directory", "editable"))
    try:
        specifier = None if sourced else SpecifierSet(raw.get("specifier", ""))
        marker = str(Marker(raw["marker"])) if raw.get("marker") else None
    except (InvalidSpecifier, InvalidMarker) as exc:
        raise LockFormatError(f"invalid requirement: {exc}", file=path, field=field, hint=_REGENERATE) from exc
    extras = frozenset(canonicalize_name(x) for x in extras_raw)
    text = _display(raw["name"], extras, raw.get("specifier", ""), marker)
    return _Requirement(canonicalize_name(raw["name"]), extras, specifier, marker, text)


def _parsed(text: object, path: Path, field: str, extra: Optional[str] = None) -> _Requirement:
    if not isinstance(text, str):
        raise LockFormatError("must be a requirement string", file=path, field=field)
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise LockFormatError(
            f"invalid requirement {text!r}: {exc}", file=path, field=field
        ) from exc
    marker = str(requirement.marker) if requirement.marker else None
    if extra is not None:
        marker = f"({marker}) and extra == '{extra}'" if marker else f"extra == '{extra}'"
        marker = str(Marker(marker))
    extras = frozenset(canonicalize_name(x) for x in requirement.extras)
    specifier = None if requirement.url else requirement.specifier
    return _Requirement(
        canonicalize_name(requirement.name), extras, specifier, marker,
        _display(requirement.name, extras, str(requirement.specifier), marker),
    )


def _display(name: str, extras: Iterable[str], specifier: str, marker: Optional[str]) -> str:
    text = name + (f"[{','.join(sorted(extras))}]" if extras else "") + specifier
    return f"{text}; {marker}" if marker else text


def _project_requirements(project: Mapping[str, Any], path: Path) -> list[_Requirement]:
    found = [
        _parsed(text, path, f"project.dependencies[{k}]")
        for k, text in enumerate(_list(project.get("dependencies"), path, "project.dependencies"))
    ]
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise LockFormatError("must be a table", file=path, field="project.optional-dependencies")
    for extra, texts in optional.items():
        field = f"project.optional-dependencies.{extra}"
        name = canonicalize_name(extra)
        if not _NAME.fullmatch(name):
            raise LockFormatError(
                f"{extra!r} is not a valid extra name", file=path, field=field,
                hint="extra names are letters, digits, '-', '_' and '.' (PEP 685)",
            )
        found += [
            _parsed(text, path, f"{field}[{k}]", extra=name)
            for k, text in enumerate(_list(texts, path, field))
        ]
    return found


def _project_groups(pyproject: Mapping[str, Any], path: Path) -> dict[str, list[_Requirement]]:
    """``[dependency-groups]`` (includes expanded) and ``[tool.uv] dev-dependencies`` as dev."""
    raw = pyproject.get("dependency-groups", {})
    if not isinstance(raw, dict):
        raise LockFormatError("must be a table", file=path, field="dependency-groups")
    declared: dict[str, tuple[str, object]] = {
        canonicalize_name(k): (k, v) for k, v in raw.items()
    }

    def expand(group: str, seen: tuple[str, ...]) -> list[_Requirement]:
        original, items = declared[group]
        field = f"dependency-groups.{original}"
        found: list[_Requirement] = []
        for k, item in enumerate(_list(items, path, field)):
            if isinstance(item, dict) and isinstance(item.get("include-group"), str):
                included = canonicalize_name(item["include-group"])
                if included not in declared or included in seen:
                    raise LockFormatError(
                        f"include-group {item['include-group']!r} is unknown or circular",
                        file=path, field=f"{field}[{k}]",
                    )
                found += expand(included, (*seen, included))
            else:
                found.append(_parsed(item, path, f"{field}[{k}]"))
        return found

    groups: dict[str, list[_Requirement]] = {
        group: expand(group, (group,)) for group in declared
    }
    tool = pyproject.get("tool", {})
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    legacy = uv.get("dev-dependencies") if isinstance(uv, dict) else None
    if legacy is not None:
        groups.setdefault("dev", [])
        groups["dev"] += [
            _parsed(text, path, f"tool.uv.dev-dependencies[{k}]")
            for k, text in enumerate(_list(legacy, path, "tool.uv.dev-dependencies"))
        ]
    return groups


def _compare(
    locked: Sequence[_Requirement], wanted: Sequence[_Requirement], what: str, lock_name: str,
) -> list[str]:
    """Multiset difference under :func:`_same`; a name left on both sides is a change."""
    unmatched = list(locked)
    added: list[_Requirement] = []
    for requirement in wanted:
        match = next((r for r in unmatched if _same(r, requirement)), None)
        if match is None:
            added.append(requirement)
        else:
            unmatched.remove(match)
    lines = []
    for requirement in added:
        old = next((r for r in unmatched if r.name == requirement.name), None)
        if old is not None:
            unmatched.remove(old)
            lines.append(
                f"{what} {requirement.name!r} differs: {lock_name} {old.text!r}, "
                f"pyproject.toml {requirement.text!r}"
            )
        else:
            lines.append(f"pyproject.toml adds {what} {requirement.text!r}")
    lines += [f"pyproject.toml removes {what} {r.text!r} (still in {lock_name})" for r in unmatched]
    return lines


def _same(a: _Requirement, b: _Requirement) -> bool:
    if a.name != b.name or a.extras != b.extras:
        return False
    if a.specifier is not None and b.specifier is not None and a.specifier != b.specifier:
        return False
    return markers_equivalent(a.marker, b.marker)


def _compare_python(lock: Lock, project: Mapping[str, Any], manifest: Path) -> list[str]:
    recorded = lock.meta.get("requires-python")
    declared = project.get("requires-python")
    if recorded is None or declared is None:
        return []
    try:
        same = SpecifierSet(str(recorded)) == SpecifierSet(str(declared))
    except InvalidSpecifier as exc:
        raise LockFormatError(
            f"invalid requires-python: {exc}", file=manifest, field="project.requires-python"
        ) from exc
    if same:
        return []
    return [f"requires-python differs: lock {recorded!r}, pyproject.toml {declared!r}"]


# ------------------------------------------------------------------------------ marker equivalence

_MARKER_CLAUSE = re.compile(
    r'([a-z_]+) (?:not in|[<>=!~]=?=?|in) "([^"]*)"|"([^"]*)" (?:not in|[<>=!~]=?=?|in) ([a-z_]+)'
)
_PYTHON = ("python_version", "python_full_version")
_MAX_ENVIRONMENTS = 4096


def markers_equivalent(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two markers select the same environments.

    uv rewrites markers when it records them (``python_version < '3.10'`` becomes
    ``python_full_version < '3.10'``, clauses are reordered), so equality of text says little. The
    markers are evaluated, by ``packaging``, over every combination of the values they mention and
    the versions just around each Python bound.
    """
    if a == b:
        return True
    if a is None or b is None:
        return False
    first, second = Marker(a), Marker(b)
    values: dict[str, set[str]] = {}
    for text in (str(first), str(second)):
        for match in _MARKER_CLAUSE.finditer(text):
            variable = match.group(1) or match.group(4)
            value = match.group(2) if match.group(2) is not None else match.group(3)
            values.setdefault(variable, set()).add(value)
    environments = _environments_for(values)
    if environments is None:
        return str(first) == str(second)
    try:
        return all(
            first.evaluate(dict(env)) == second.evaluate(dict(env)) for env in environments
        )
    except (UndefinedComparison, UndefinedEnvironmentName):
        return str(first) == str(second)


def _environments_for(values: Mapping[str, set[str]]) -> Optional[list[dict[str, str]]]:
    base: dict[str, str] = dict(default_environment())  # type: ignore[arg-type]
    axes: list[list[dict[str, str]]] = []
    pythons: set[str] = set()
    for variable, seen in sorted(values.items()):
        if variable in _PYTHON:
            pythons |= seen
            continue
        choices = sorted(seen | {"", "lading-other-value"})
        axes.append([{variable: v} for v in choices])
    if pythons:
        axes.append([
            {"python_full_version": v, "python_version": ".".join(v.split(".")[:2])}
            for v in sorted(_python_candidates(pythons))
        ])
    count = 1
    for axis in axes:
        count *= len(axis)
    if count > _MAX_ENVIRONMENTS:
        return None
    environments = []
    for combination in itertools.product(*axes):
        env = dict(base)
        env.setdefault("extra", "")
        for part in combination:
            env.update(part)
        environments.append(env)
    return environments


def _python_candidates(bounds: Iterable[str]) -> set[str]:
    found = {"2.7.18", "3.0.0", "4.0.0"}
    for bound in bounds:
        try:
            release = Version(bound.rstrip(".*")).release
        except InvalidVersion:
            continue
        major, minor, micro = (*release, 0, 0)[:3]
        found.add(f"{major}.{minor}.{micro}")
        found.add(f"{major}.{minor}.{micro + 1}")
        found.add(f"{major}.{minor + 1}.0")
        if micro:
            found.add(f"{major}.{minor}.{micro - 1}")
        elif minor:
            found.add(f"{major}.{minor - 1}.99")
    return found


__all__ = ["freshness", "markers_equivalent", "parse_timestamp", "read", "translate_conflicts"]
