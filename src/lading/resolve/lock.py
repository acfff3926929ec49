"""Resolving a :class:`~lading.manifest.Manifest` into one multi-use lock for one or more targets.

Per target, the main requirements, every dependency group and every extra are resolved together
(one version per project, as uv does), so a group cannot silently pull another version than main.
Which of them needs each pinned project is read off the resolution graph: reached from main, the
package has no group condition; only from group ``g`` / extra ``x``, it gets
``'g' in dependency_groups`` / ``'x' in extras``.

The per-target results are merged: a project at the same version with the same condition in every
target gets no environment marker; otherwise each (project, version) gets the OR of the markers of
the targets it appears in, written with only the variables that tell the targets apart
(``sys_platform``, ``platform_machine``, ``implementation_name``, ``python_version``).

Every locked version carries its sdist and each wheel that suits at least one target where that
version is locked, with URL, hash and (when the index gives it: JSON pages) size and upload time.
HTML pages give no size; lading does not send a request per file to learn it, so such files have none.

Minimal change: the versions of a previous lock are tried first (unless ``upgrade`` / named in
``upgrade_packages``), so re-locking moves only what must move.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Optional

from packaging.markers import Marker
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.structs import RequirementInformation

from lading.index.simple import IndexFile, LazyFiles, PageSource, ProjectNotFound, file_facts, file_names
from lading.locks.graph import ALWAYS, NEVER, Condition, atom, both, either, extra_atom, group_atom, to_marker
from lading.manifest import Manifest
from lading.model import SUPPORTED_HASHES, Index, Lock, Origin, Target
from lading.resolve import ResolutionError
from lading.resolve.provider import (
    DEFAULT_MAX_ROUNDS,
    Candidate,
    Finder,
    MetadataSource,
    Offer,
    Provider,
    Requirement,
    _Listing,
    explain_conflict,
    parse_requirement,
)

#: The marker variables that tell targets apart, in the order they are written.
TARGET_VARIABLES = ("sys_platform", "platform_machine", "implementation_name", "python_version")


# --- candidates: wheels, and sdists for versions without a wheel -----------------------------------


#: The rank given to a wheel name whose tags are not valid (real ranks start at 0).
_INVALID = -1


class LockFinder(Finder):
    """:class:`Finder` that also offers a version through its sdist when no wheel suits the target.

    Pages of big projects list thousands of files: each tag text and each ``requires-python`` text is
    checked once per run, and files are built from the page only when their name suits the target.
    """

    def __init__(self, sources: Sequence[PageSource], target: Target) -> None:
        super().__init__(sources, target)
        self._tag_ranks: dict[str, Optional[int]] = {}
        self._python_answers: dict[str, bool] = {}  # requires-python text -> admits the target's Python
        #: Per project: its page's files and, per version, the places of the files the lock may list for
        #: this target (wheels whose tags suit it, and sdists, yanked ones too): the merge reads these
        #: instead of the page again.
        self._version_files: dict[NormalizedName, tuple[Sequence[IndexFile], dict[Version, list[int]]]] = {}

    def version_files(self, name: NormalizedName, version: Version) -> tuple[tuple[int, IndexFile], ...]:
        self.offers(name)  # listed (and recorded) once
        files, recorded = self._version_files.get(name, ((), {}))
        return tuple((at, files[at]) for at in recorded.get(version, ()))

    def _list(self, name: NormalizedName) -> _Listing:
        for source in self.sources:
            try:
                page = source.get(name)
            except ProjectNotFound:
                continue
            return self._from_page(name, page.files, source.url)
        return _Listing((), {}, False)

    def _from_page(self, name: NormalizedName, files: Sequence[IndexFile], index: str) -> _Listing:
        # Per version, the best file as (not yanked first, then tag rank / .tar.gz first, its place).
        best: dict[Version, tuple[bool, int, int]] = {}
        sdists: dict[Version, tuple[bool, int, int]] = {}
        skipped: dict[str, int] = {}
        other_python = f"requiring another Python than {self._python}"

        def skip(why: str) -> None:
            skipped[why] = skipped.get(why, 0) + 1

        recorded: dict[Version, list[int]] = {}
        # Files are read by name first, then by their requires-python and yanked facts; only the file
        # picked for each version is built. The tag part of a name is shared by many files, so its rank
        # is looked up once per run.
        for at, filename in enumerate(file_names(files)):
            if not filename.endswith(".whl"):
                version = sdist_version(filename, name)
                if version is None:
                    continue
                recorded.setdefault(version, []).append(at)
                requires, yanked = file_facts(files, at)
                if not self._python_ok(requires):
                    skip(other_python)
                    continue
                key = (yanked, 0 if filename.endswith(".tar.gz") else 1, at)
                held = sdists.get(version)
                if held is None or key[:2] < held[:2]:
                    sdists[version] = key
                continue
            parts = filename[:-4].rsplit("-", 3)
            rank = self._tag_rank("-".join(parts[1:])) if len(parts) == 4 else _INVALID
            if rank is None:
                skip("for other platforms or Pythons")
                continue
            named = _wheel_name_version(parts[0]) if rank != _INVALID else None
            if named is None:
                skip("with invalid names")
                continue
            if named[0] != name:
                skip("of other projects")
                continue
            recorded.setdefault(named[1], []).append(at)
            requires, yanked = file_facts(files, at)
            if not self._python_ok(requires):
                skip(other_python)
                continue
            key = (yanked, rank, at)
            held = best.get(named[1])
            if held is None or key[:2] < held[:2]:
                best[named[1]] = key
        chosen = dict(sdists)
        chosen.update(best)
        # The picked file of a version is built when the resolver first reads it (few versions are).
        build = files.__getitem__ if isinstance(files, LazyFiles) else None
        offers = tuple(
            Offer(name, v, partial(build, chosen[v][2]) if build else files[chosen[v][2]], index, yanked=chosen[v][0])
            for v in sorted(chosen, reverse=True)
        )
        with self._lock:
            self._version_files[name] = (files, recorded)
        return _Listing(offers, skipped, True)

    def _tag_rank(self, text: str) -> Optional[int]:
        """The target's best rank among a wheel name's tags (``py3-none-any``); None: none suits it;
        :data:`_INVALID`: not valid tags."""
        ranks = self._tag_ranks
        if text not in ranks:
            tags = _wheel_tags(text)
            suited = [self._rank[tag] for tag in tags if tag in self._rank] if tags is not None else None
            ranks[text] = _INVALID if suited is None else (min(suited) if suited else None)
        return ranks[text]

    def _python_ok(self, requires_python: Optional[str]) -> bool:
        if not requires_python:
            return True
        known = self._python_answers.get(requires_python)
        if known is None:
            allowed = _python_range(requires_python)
            known = allowed is not None and allowed.contains(self._python, prereleases=True)
            self._python_answers[requires_python] = known
        return known

    def explain(self, name: str) -> str:
        text = super().explain(name)
        return text.replace("versions with a wheel for this interpreter", f"versions for {self.target.name}")


@functools.lru_cache(maxsize=4096)
def _python_range(text: str) -> Optional[SpecifierSet]:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _wheel_name_version(head: str) -> Optional[tuple[NormalizedName, Version]]:
    """Project and version of a wheel name's ``name-version[-build]`` part (shared by a release's wheels).

    Each component is checked by packaging's rules once per run (a page of thousands of releases has
    one name and many versions): the name, the version, the build tag separately.
    """
    parts = head.split("-")
    if len(parts) not in (2, 3) or (len(parts) == 3 and not _wheel_build_ok(parts[2])):
        return None
    project = _wheel_project(parts[0])
    version = _version(parts[1]) if project is not None else None
    return None if version is None or project is None else (project, version)


@functools.lru_cache(maxsize=4096)
def _wheel_project(text: str) -> Optional[NormalizedName]:
    try:
        return parse_wheel_filename(f"{text}-0-py3-none-any.whl")[0]
    except (InvalidWheelFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=4096)
def _wheel_build_ok(text: str) -> bool:
    try:
        parse_wheel_filename(f"x-0-{text}-py3-none-any.whl")
    except (InvalidWheelFilename, InvalidVersion):
        return False
    return True


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> Optional[Version]:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=4096)
def _wheel_tags(text: str) -> Optional[frozenset[Tag]]:
    """The tags of a wheel name's ``python-abi-platform`` part (None: invalid), by packaging's rules."""
    try:
        return parse_wheel_filename(f"x-0-{text}.whl")[3]
    except (InvalidWheelFilename, InvalidVersion):
        return None


def sdist_version(filename: str, name: NormalizedName) -> Optional[Version]:
    """The version of an sdist of project ``name``; None for another project's or an invalid name.

    Cut as packaging cuts it (the suffix, then the last dash); the name part and the version are each
    read by packaging once per run.
    """
    stem = filename[:-7] if filename.endswith(".tar.gz") else filename[:-4] if filename.endswith(".zip") else ""
    name_part, dash, version_part = stem.rpartition("-")
    if not dash or _sdist_project(name_part) != name:
        return None
    return _version(version_part)


@functools.lru_cache(maxsize=4096)
def _sdist_project(text: str) -> Optional[NormalizedName]:
    try:
        return parse_sdist_filename(f"{text}-0.tar.gz")[0]
    except (InvalidSdistFilename, InvalidVersion):
        return None


# --- the provider: preferences, constraints, fetching ahead ------------------------------------------


class LockProvider(Provider):
    """:class:`Provider` that tries preferred versions first, applies constraints and fetches ahead."""

    def __init__(
        self,
        finder: Finder,
        metadata: MetadataSource,
        environment: Mapping[str, str],
        *,
        preferences: Mapping[NormalizedName, Version] = {},
        constraints: Mapping[NormalizedName, SpecifierSet] = {},
    ) -> None:
        super().__init__(finder, metadata, environment)
        self.preferences = dict(preferences)
        self.constraints = dict(constraints)
        self._warmed: set[str] = set()
        self._warm_lock = threading.Lock()

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        found = super().find_matches(identifier, requirements, incompatibilities)
        name = canonicalize_name(identifier.partition("[")[0])
        limit = self.constraints.get(name)
        preferred = self.preferences.get(name)
        if limit is None and preferred is None:
            return found

        def candidates() -> Iterator[Candidate]:
            allowed = (c for c in found() if limit is None or limit.contains(c.version, prereleases=True))
            if preferred is None:
                yield from allowed
                return
            passed: list[Candidate] = []  # read before the preferred version turned up
            for candidate in allowed:
                if candidate.version == preferred:
                    yield candidate
                    break
                passed.append(candidate)
            yield from passed
            yield from allowed

        return candidates

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        found = super().get_dependencies(candidate)
        self.warm(found)
        return found

    def _prefetch_next(self, requirements: Sequence[Requirement]) -> None:
        pass  # replaced by warm(): non-blocking, page and metadata in one background task

    def warm(self, requirements: Sequence[Requirement]) -> None:
        """In the background: the page of each new project, then the metadata of the version likely picked."""
        submit = getattr(self.metadata, "submit", None)
        if submit is None:
            return
        for requirement in requirements:
            with self._warm_lock:
                if requirement.name in self._warmed:
                    continue
                self._warmed.add(requirement.name)
            submit(partial(self._warm_one, requirement))

    def _warm_one(self, requirement: Requirement) -> None:
        offers = self.finder.offers(requirement.name)
        preferred = self.preferences.get(requirement.name)
        pick = next((o for o in offers if o.version == preferred), None) if preferred is not None else None
        if pick is None:
            pick = next(
                (o for o in offers if not o.yanked and requirement.specifier.contains(o.version)), None
            )
        if pick is None:
            return
        # Speculatively one level further: the dependencies of the version likely picked, so the pages
        # and metadata of the whole tree are on their way while the resolver is still near the top.
        # With the requirement's extras: ``uvicorn[standard]`` needs its extra's projects as soon as itself.
        found: list[Requirement] = []
        extras = ("", *sorted(requirement.extras))
        for line in self.metadata.metadata(pick).requires_dist:
            try:
                dependency = parse_requirement(line, self.environment, extras=extras)
            except ResolutionError:
                continue
            if dependency is not None:
                found.append(dependency)
        self.warm(found)


class _QuietReporter(BaseReporter[Requirement, Candidate, str]):
    pass


# --- one target ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locked:
    """A project pinned for one target: version, the offer picked, the condition it is needed under."""

    name: NormalizedName
    version: Version
    offer: Offer
    condition: Condition
    #: The version's files that suit the target (see :meth:`LockFinder.version_files`).
    files: tuple[tuple[int, IndexFile], ...] = ()


@dataclass(frozen=True)
class TargetResult:
    target: Target
    locked: Mapping[NormalizedName, Locked]


def root_requirements(manifest: Manifest, target: Target) -> list[tuple[Requirement, Condition, str]]:
    """(requirement, condition, where) for every manifest requirement whose marker holds on ``target``."""
    found: list[tuple[Requirement, Condition, str]] = []
    sections: list[tuple[Sequence[PackagingRequirement], Condition, str]] = [(manifest.main, ALWAYS, "main")]
    sections += [(reqs, group_atom(g), f"group {g}") for g, reqs in manifest.groups.items()]
    sections += [(reqs, extra_atom(x), f"extra {x}") for x, reqs in manifest.extras.items()]

    def add(requirements: Sequence[PackagingRequirement], condition: Condition, where: str,
            seen: frozenset[str]) -> None:
        for index, requirement in enumerate(requirements):
            place = f"{where}[{index}]"
            name = canonicalize_name(requirement.name)
            if manifest.name is not None and name == manifest.name:
                # The project naming itself with extras (``proj[test]`` in a group): those extras' requirements.
                if requirement.marker is not None and not requirement.marker.evaluate(dict(target.environment)):
                    continue
                for extra in sorted(canonicalize_name(x) for x in requirement.extras):
                    if extra in manifest.extras and extra not in seen:
                        add(manifest.extras[extra], condition, f"{where} -> extra {extra}", seen | {extra})
                continue
            if requirement.url:
                raise ResolutionError(
                    f"{str(requirement)!r} is a direct reference; lading lock resolves named requirements "
                    "from an index only",
                    file=manifest.path,
                    field=place,
                    hint="publish the package to an index and require it by name (direct references are "
                    "not supported by lading lock yet)",
                )
            try:
                parsed = parse_requirement(str(requirement), target.environment, where=place)
            except ResolutionError as exc:
                raise exc.located(file=manifest.path) from None
            if parsed is not None:
                found.append((parsed, condition, place))

    for requirements, condition, where in sections:
        add(requirements, condition, where, frozenset())
    return found


def resolve_target(
    manifest: Manifest,
    target: Target,
    *,
    sources: Sequence[PageSource],
    metadata: MetadataSource,
    preferences: Mapping[NormalizedName, Version] = {},
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> TargetResult:
    """Resolve main, groups and extras together for one target."""
    python = target.environment.get("python_full_version", "")
    allowed = manifest.requires_python
    if allowed is not None and python and not allowed.contains(python, prereleases=True):
        raise ResolutionError(
            f"target {target.name} runs Python {python}, outside requires-python {allowed}",
            file=manifest.path,
            field="requires-python",
            hint="drop the target or widen requires-python",
        )
    roots = root_requirements(manifest, target)
    constraints: dict[NormalizedName, SpecifierSet] = {}
    for constraint in manifest.constraints:
        if constraint.marker is not None and not constraint.marker.evaluate(dict(target.environment)):
            continue
        name = canonicalize_name(constraint.name)
        constraints[name] = constraints.get(name, SpecifierSet()) & constraint.specifier
    finder = LockFinder(sources, target)
    provider = LockProvider(finder, metadata, target.environment, preferences=preferences,
                            constraints=constraints)
    provider.warm([r for r, _, _ in roots])
    root = manifest.path.name
    resolver: Resolver[Requirement, Candidate, str] = Resolver(provider, _QuietReporter())
    try:
        result = resolver.resolve([r for r, _, _ in roots], max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        causes: list[RequirementInformation[Requirement, Candidate]] = list(exc.causes)
        error = explain_conflict(causes, provider, f"{root} (target {target.name})")
        raise error.located(file=manifest.path) from None
    except ResolutionTooDeep:
        raise ResolutionError(
            f"gave up after {max_rounds} rounds of backtracking for target {target.name}",
            file=manifest.path,
            hint="narrow the requirements (tighter version ranges) so fewer combinations need trying",
        ) from None

    start: dict[str, Condition] = {}
    for requirement, condition, _ in roots:
        start[requirement.identifier] = either(start.get(requirement.identifier, NEVER), condition)
    reached = _propagate(start, result.graph)
    locked: dict[NormalizedName, Locked] = {}
    by_name: dict[NormalizedName, Condition] = {}
    for identifier, condition in reached.items():
        candidate = result.mapping.get(identifier)
        if candidate is None:
            continue
        by_name[candidate.name] = either(by_name.get(candidate.name, NEVER), condition)
    for candidate in result.mapping.values():
        if candidate.extras:
            continue
        locked[candidate.name] = Locked(
            candidate.name, candidate.version, candidate.offer, by_name.get(candidate.name, ALWAYS),
            finder.version_files(candidate.name, candidate.version),
        )
    return TargetResult(target, locked)


def _propagate(start: Mapping[str, Condition], graph: object) -> dict[str, Condition]:
    from resolvelib.structs import DirectedGraph

    assert isinstance(graph, DirectedGraph)
    reached = dict(start)
    queue = list(start)
    while queue:
        node = queue.pop()
        here = reached[node]
        if node not in graph:
            continue
        for child in graph.iter_children(node):
            if child is None:
                continue
            before = reached.get(child, NEVER)
            after = either(before, here)
            if after != before:
                reached[child] = after
                queue.append(child)
    return reached


# --- merging targets into one lock ---------------------------------------------------------------------


def target_conditions(targets: Sequence[Target]) -> dict[str, Condition]:
    """Per target name, the marker condition that tells it from the other targets (ALWAYS for one)."""
    varying = [
        v for v in TARGET_VARIABLES if len({t.environment.get(v) for t in targets}) > 1
    ]
    found: dict[str, Condition] = {}
    for target in targets:
        parts = [
            f"{v} == {_quote(target.environment[v])}" for v in varying if v in target.environment
        ]
        found[target.name] = atom(" and ".join(parts)) if parts else ALWAYS
    return found


def _quote(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


@dataclass
class _Merged:
    name: NormalizedName
    version: Version
    offer: Offer
    per_target: dict[str, Condition] = field(default_factory=dict)
    files: dict[int, IndexFile] = field(default_factory=dict)  # by place on the page


def merge(
    manifest: Manifest,
    results: Sequence[TargetResult],
    *,
    lock_path: Optional[Path] = None,
) -> Lock:
    """One multi-use lock from per-target results (see the module text)."""
    targets = [r.target for r in results]
    conditions = target_conditions(targets)
    merged: dict[tuple[NormalizedName, Version], _Merged] = {}
    for result in results:
        for locked in result.locked.values():
            entry = merged.setdefault(
                (locked.name, locked.version), _Merged(locked.name, locked.version, locked.offer)
            )
            entry.per_target[result.target.name] = locked.condition
            entry.files.update(locked.files)
    packages: list[Package] = []
    origins: list[Origin] = []
    path = lock_path or manifest.path
    for key in sorted(merged, key=lambda k: (k[0], k[1])):
        entry = merged[key]
        values = set(entry.per_target.values())
        if len(entry.per_target) == len(targets) and len(values) == 1:
            condition = next(iter(values))
        else:
            condition = NEVER
            for name, needed in entry.per_target.items():
                condition = either(condition, both(conditions[name], needed))
        marker = to_marker(condition)
        packages.append(_package(entry, marker, manifest.path))
        origins.append(Origin(path, f"packages[{len(packages) - 1}] ({entry.name} {entry.version})"))
    pylock = Pylock(
        lock_version=Version("1.0"),
        created_by="lading",
        requires_python=manifest.requires_python,
        extras=sorted(canonicalize_name(x) for x in manifest.extras),
        dependency_groups=sorted(manifest.groups),
        default_groups=[],
        packages=packages,
    )
    return Lock(
        path=path,
        format="pylock",
        pylock=pylock,
        origins=tuple(origins),
        indexes=manifest.indexes,
        dev_groups=manifest.dev_groups,
        manifest=manifest.path,
        meta={"targets": [t.name for t in targets]},
    )


def _package(entry: _Merged, marker: Optional[Marker], manifest: Path) -> Package:
    label = f"{entry.name} {entry.version}"
    # The files each target's finder kept for this version, in page order (the offer alone when a
    # caller's finder kept none).
    files = [entry.files[at] for at in sorted(entry.files)] or [entry.offer.file]
    allow_yanked = entry.offer.yanked
    wheels: list[PackageWheel] = []
    sdist: Optional[PackageSdist] = None
    sdist_file: Optional[IndexFile] = None
    for file in files:
        if file.yanked and not allow_yanked:
            continue
        if file.filename.endswith(".whl"):
            wheels.append(PackageWheel(
                name=file.filename, url=file.url.partition("#")[0], size=file.size,
                upload_time=file.upload_time, hashes=_hashes(file, label, manifest),
            ))
        elif _better_sdist(file, sdist_file):
            sdist_file = file
    if sdist_file is not None:
        sdist = PackageSdist(
            name=sdist_file.filename, url=sdist_file.url.partition("#")[0], size=sdist_file.size,
            upload_time=sdist_file.upload_time, hashes=_hashes(sdist_file, label, manifest),
        )
    requires_python: Optional[SpecifierSet] = None
    if entry.offer.file.requires_python:
        try:
            requires_python = SpecifierSet(entry.offer.file.requires_python)
        except InvalidSpecifier:
            requires_python = None
    return Package(
        name=entry.name,
        version=entry.version,
        marker=marker,
        requires_python=requires_python,
        index=entry.offer.index,
        wheels=wheels or None,
        sdist=sdist,
    )


def _better_sdist(file: IndexFile, held: Optional[IndexFile]) -> bool:
    """One sdist per version: a .tar.gz (the standard form) wins over a .zip."""
    if held is None:
        return True
    return not held.filename.endswith(".tar.gz") and file.filename.endswith(".tar.gz")


def _hashes(file: IndexFile, label: str, manifest: Path) -> dict[str, str]:
    found = {alg: value for alg, value in file.hashes.items() if alg in SUPPORTED_HASHES}
    if not found:
        raise ResolutionError(
            f"the index gives no usable hash for {file.filename} "
            f"({', '.join(file.hashes) or 'none at all'})",
            file=manifest,
            package=label,
            hint="use an index that publishes sha256 hashes (pylock.toml needs one for every file)",
        )
    return found


# --- previous locks and what changed -------------------------------------------------------------------


def preferences_for(previous: Optional[Lock], target: Target) -> dict[NormalizedName, Version]:
    """The versions a previous lock holds for ``target`` (all groups and extras)."""
    if previous is None:
        return {}
    environment: dict[str, object] = dict(target.environment)
    environment["extras"] = frozenset(previous.extras)
    environment["dependency_groups"] = frozenset(previous.groups) | frozenset(previous.default_groups)
    found: dict[NormalizedName, Version] = {}
    for package in previous.packages:
        if package.version is None:
            continue
        if package.marker is not None:
            try:
                if not package.marker.evaluate(environment, context="lock_file"):  # type: ignore[arg-type]
                    continue
            except Exception:  # a marker lading cannot evaluate here only loses a preference
                pass
        found.setdefault(canonicalize_name(package.name), package.version)
    return found


@dataclass(frozen=True)
class Change:
    name: str
    kind: str  # "added", "removed", "upgraded", "downgraded", "changed"
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def __str__(self) -> str:
        was = ", ".join(self.before)
        now = ", ".join(self.after)
        if self.kind == "added":
            return f"+ {self.name} {now}"
        if self.kind == "removed":
            return f"- {self.name} {was}"
        return f"~ {self.name} {was} -> {now} ({self.kind})"


def changes(previous: Optional[Lock], lock: Lock) -> list[Change]:
    """What moved between two locks, by project: added, removed, upgraded, downgraded."""

    def versions(source: Optional[Lock]) -> dict[str, list[Version]]:
        found: dict[str, list[Version]] = {}
        for package in source.packages if source is not None else ():
            name = canonicalize_name(package.name)
            listed = found.setdefault(name, [])
            if package.version is not None and package.version not in listed:
                listed.append(package.version)
        return {k: sorted(v) for k, v in found.items()}

    old = versions(previous)
    new = versions(lock)
    found: list[Change] = []
    for name in sorted(set(old) | set(new)):
        before = tuple(str(v) for v in old.get(name, []))
        after = tuple(str(v) for v in new.get(name, []))
        if name not in old:
            found.append(Change(name, "added", after=after))
        elif name not in new:
            found.append(Change(name, "removed", before=before))
        elif before != after:
            if old[name] and new[name] and max(new[name]) > max(old[name]):
                kind = "upgraded"
            elif old[name] and new[name] and max(new[name]) < max(old[name]):
                kind = "downgraded"
            else:
                kind = "changed"
            found.append(Change(name, kind, before, after))
    return found


# --- the whole job -------------------------------------------------------------------------------------


def lock_manifest(
    manifest: Manifest,
    targets: Sequence[Target],
    *,
    sources: Sequence[PageSource],
    metadata: MetadataSource,
    previous: Optional[Lock] = None,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    lock_path: Optional[Path] = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> Lock:
    """Resolve ``manifest`` for each target and merge the results into one lock."""
    if not targets:
        raise ResolutionError("no target to lock for", file=manifest.path, hint="give --target")
    moving = {canonicalize_name(p) for p in upgrade_packages}
    results: list[TargetResult] = []
    for target in targets:
        preferences = {} if upgrade else {
            n: v for n, v in preferences_for(previous, target).items() if n not in moving
        }
        results.append(resolve_target(
            manifest, target, sources=sources, metadata=metadata, preferences=preferences,
            max_rounds=max_rounds,
        ))
    return merge(manifest, results, lock_path=lock_path)


def index_entries(manifest: Manifest, primary: str, extra: Sequence[str]) -> tuple[Index, ...]:
    """The lock's indexes: the manifest's when it names any, else the ones used."""
    if manifest.indexes:
        return manifest.indexes
    return (Index(url=primary), *(Index(url=u, extra=True) for u in extra))


__all__ = [
    "TARGET_VARIABLES",
    "Change",
    "LockFinder",
    "LockProvider",
    "Locked",
    "TargetResult",
    "changes",
    "index_entries",
    "lock_manifest",
    "merge",
    "preferences_for",
    "resolve_target",
    "root_requirements",
    "target_conditions",
]
