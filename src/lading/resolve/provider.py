"""The generic resolver pieces: requirements, candidates from index pages, core metadata, the provider.

resolvelib does the search; this module answers its questions from lading's index client:

* :class:`Finder` lists, per project, one wheel per version compatible with a :class:`~lading.model.Target`
  (best tag first), newest version first, honouring ``requires-python`` and keeping yanked files aside
  (PEP 592: usable only when pinned with ``==``).
* :class:`IndexMetadata` reads a candidate's core metadata from its PEP 658 ``<wheel>.metadata`` file,
  tried even when the page does not advertise it, else from the wheel itself.
* :class:`Provider` adapts both to resolvelib; extras are separate identifiers (``name[x]``) whose
  candidates depend on the plain project at the same version, so every extra shares one pin.
* :func:`resolve` runs resolvelib and turns an impossible resolution into a :class:`ResolutionError`
  that names the chains of requirements that conflict, not a resolver dump.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.parser import HeaderParser
from functools import partial
from pathlib import Path
from typing import Callable, Optional, Protocol, Union

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.structs import RequirementInformation

from lading._once import Once
from lading.errors import IndexError_
from lading.index.config import redact
from lading.index.http import HttpClient
from lading.index.simple import IndexFile, PageSource, ProjectNotFound, file_names
from lading.model import Target
from lading.resolve import ResolutionError

#: resolvelib rounds before giving up (each round pins one project or backtracks once).
DEFAULT_MAX_ROUNDS = 20_000


# --- requirements -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """A named requirement the resolver works with (no marker: markers are evaluated before)."""

    name: NormalizedName
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    extras: frozenset[NormalizedName] = frozenset()
    text: str = ""  # as written, for messages

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    @property
    def pinned(self) -> Optional[Version]:
        """The version an ``==X`` (no wildcard) or ``===X`` specifier names, if any."""
        for spec in self.specifier:
            if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
                try:
                    return Version(spec.version)
                except InvalidVersion:
                    return None
        return None

    def __str__(self) -> str:
        return self.text or f"{self.identifier}{self.specifier}"


def identifier_of(name: str, extras: Iterable[str] = ()) -> str:
    chosen = sorted(extras)
    return f"{name}[{','.join(chosen)}]" if chosen else name


def parse_requirement(
    text: str,
    environment: Mapping[str, str],
    *,
    extras: Iterable[str] = ("",),
    where: str = "",
    package: Optional[str] = None,
) -> Optional[Requirement]:
    """Parse a PEP 508 line; None when its marker excludes it for ``environment`` and every one of ``extras``.

    Direct references (``name @ url``) are refused: an index resolution cannot check them.
    """
    try:
        parsed = PackagingRequirement(text)
    except InvalidRequirement as exc:
        raise ResolutionError(
            f"invalid requirement {text!r}: {exc}",
            package=package,
            field=where or None,
            hint="fix the requirement (PEP 508 syntax)",
        ) from None
    if parsed.marker is not None and not _marker_applies(parsed.marker, environment, extras, text, where, package):
        return None
    if parsed.url:
        raise ResolutionError(
            f"{text!r} is a direct reference; lading resolves only named requirements from an index",
            package=package,
            field=where or None,
            hint="publish the package to an index (or a --find-links directory) and require it by name",
        )
    return Requirement(
        name=canonicalize_name(parsed.name),
        specifier=parsed.specifier,
        extras=frozenset(canonicalize_name(e) for e in parsed.extras),
        text=text.strip(),
    )


def _marker_applies(
    marker: Marker,
    environment: Mapping[str, str],
    extras: Iterable[str],
    text: str,
    where: str,
    package: Optional[str],
) -> bool:
    try:
        return any(marker.evaluate({**environment, "extra": extra}) for extra in extras)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise ResolutionError(
            f"cannot evaluate the marker of {text!r}: {exc}",
            package=package,
            field=where or None,
            hint="the package's metadata has a marker lading cannot evaluate; report it to its publisher",
        ) from None


# --- candidates from index pages ----------------------------------------------------------------------


class Offer:
    """One version of a project as an index offers it for a target: the best-matching wheel.

    Immutable. ``file`` may be given as a function that builds it (with ``yanked`` known beforehand):
    a page of thousands of versions is offered whole, but the resolver reads the files of few.
    """

    __slots__ = ("_file", "index", "name", "version", "yanked")

    name: NormalizedName
    version: Version
    index: str
    yanked: bool
    _file: Union[IndexFile, Callable[[], IndexFile]]

    def __init__(
        self, name: NormalizedName, version: Version, file: Union[IndexFile, Callable[[], IndexFile]], index: str,
        *, yanked: Optional[bool] = None,
    ) -> None:
        if not isinstance(file, IndexFile) and yanked is None:
            raise TypeError("an offer of a file built later needs its yanked flag")
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "version", version)
        set_(self, "index", index)
        set_(self, "_file", file)
        set_(self, "yanked", file.yanked if isinstance(file, IndexFile) else bool(yanked))

    @property
    def file(self) -> IndexFile:
        file = self._file
        if isinstance(file, IndexFile):
            return file
        made = file()
        object.__setattr__(self, "_file", made)
        return made

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"an Offer is immutable ({name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Offer):
            return NotImplemented
        return (self.name, self.version, self.index, self.file) == (other.name, other.version, other.index, other.file)

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.index))

    def __repr__(self) -> str:
        return f"Offer({self.name!r}, {str(self.version)!r}, {self.file!r}, index={redact(self.index)!r})"


@dataclass(frozen=True)
class Candidate:
    """A version of a project (with extras, for the ``name[x]`` identifiers) the resolver may pin."""

    offer: Offer
    extras: frozenset[NormalizedName] = frozenset()

    @property
    def name(self) -> NormalizedName:
        return self.offer.name

    @property
    def version(self) -> Version:
        return self.offer.version

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    @property
    def label(self) -> str:
        return f"{self.identifier} {self.version}"


@dataclass
class _Listing:
    offers: tuple[Offer, ...]
    skipped: dict[str, int]
    found: bool


class Finder:
    """Wheels for a target, per project, from the first index that knows the project.

    Asking indexes in order and stopping at the first that has the project (uv's default) keeps a
    public index from shadowing a private package of the same name.
    """

    def __init__(self, sources: Sequence[PageSource], target: Target) -> None:
        self.sources = tuple(sources)
        self.target = target
        self._rank = {tag: i for i, tag in enumerate(target.tags)}
        self._python = Version(target.environment.get("python_full_version", "0"))
        self._listings: Once[NormalizedName, _Listing] = Once()
        self._lock = threading.Lock()

    def offers(self, name: str) -> tuple[Offer, ...]:
        """Compatible versions, newest first (yanked ones included, flagged)."""
        return self._listing(canonicalize_name(name)).offers

    def explain(self, name: str) -> str:
        """What the indexes offer for ``name`` (for messages)."""
        listing = self._listing(canonicalize_name(name))
        where = ", ".join(redact(s.url) for s in self.sources)
        where = where or "any index (there is none to ask: offline without --find-links?)"
        if not listing.found:
            return f"{name} is not on {where}"
        versions = [str(o.version) + (" (yanked)" if o.yanked else "") for o in listing.offers]
        shown = ", ".join(versions[:12]) + (f", ... ({len(versions)} in all)" if len(versions) > 12 else "")
        text = f"{name}: versions with a wheel for this interpreter: {shown or 'none'}"
        skipped = ", ".join(f"{count} {why}" for why, count in sorted(listing.skipped.items()))
        return f"{text}; files skipped: {skipped}" if skipped else text

    def _listing(self, name: NormalizedName) -> _Listing:
        # The resolver and background warm-up tasks may ask at once: a big page is read once.
        return self._listings.get(name, partial(self._list, name))

    def _list(self, name: NormalizedName) -> _Listing:
        for source in self.sources:
            try:
                page = source.get(name)
            except ProjectNotFound:
                continue
            best: dict[Version, tuple[int, IndexFile]] = {}
            skipped: dict[str, int] = {}
            files = page.files
            for at, filename in enumerate(file_names(files)):
                # By name first: only a wheel that suits the target is built from the page.
                rank, why = self._assess_name(name, filename)
                file = files[at] if not why else None
                why = why or self._assess_python(files[at])
                if why:
                    skipped[why] = skipped.get(why, 0) + 1
                    continue
                assert file is not None
                version = _version_of(filename)
                if version is None:
                    continue
                held = best.get(version)
                # A non-yanked file beats a yanked one; then the better tag.
                if held is None or (held[1].yanked, held[0]) > (file.yanked, rank):
                    best[version] = (rank, file)
            offers = tuple(
                Offer(name, version, best[version][1], source.url) for version in sorted(best, reverse=True)
            )
            return _Listing(offers, skipped, True)
        return _Listing((), {}, False)

    def _assess_name(self, name: NormalizedName, filename: str) -> tuple[int, str]:
        """(tag rank, "") for a wheel name that suits the target, else (0, why it is skipped)."""
        if not filename.endswith(".whl"):
            return 0, "sdists (only wheels are used here)"
        try:
            project, _version, _build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return 0, "with invalid names"
        if project != name:
            return 0, "of other projects"
        ranks = [self._rank[tag] for tag in tags if tag in self._rank]
        if not ranks:
            return 0, "for other platforms or Pythons"
        return min(ranks), ""

    def _assess_python(self, file: IndexFile) -> str:
        """"" when the file's requires-python admits the target's Python, else why it is skipped."""
        if file.requires_python:
            try:
                allowed = SpecifierSet(file.requires_python).contains(self._python, prereleases=True)
            except InvalidSpecifier:
                return "with invalid requires-python"
            if not allowed:
                return f"requiring another Python than {self._python}"
        return ""


def _version_of(filename: str) -> Optional[Version]:
    try:
        return Version(str(parse_wheel_filename(filename)[1]))
    except (InvalidWheelFilename, InvalidVersion):
        return None


def best_tag(filename: str, tags: Sequence[Tag]) -> Optional[int]:
    """The rank of the wheel's best tag among ``tags`` (best first), or None when it is incompatible."""
    try:
        wheel_tags = parse_wheel_filename(filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return None
    ranks = [i for i, tag in enumerate(tags) if tag in wheel_tags]
    return min(ranks) if ranks else None


# --- core metadata ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreMetadata:
    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: Optional[str] = None


def parse_metadata(text: str) -> CoreMetadata:
    headers = HeaderParser().parsestr(text, headersonly=True)
    return CoreMetadata(
        name=str(headers.get("Name", "")).strip(),
        version=str(headers.get("Version", "")).strip(),
        requires_dist=tuple(str(v).strip() for v in headers.get_all("Requires-Dist", [])),
        requires_python=(str(headers["Requires-Python"]).strip() or None) if "Requires-Python" in headers else None,
    )


class MetadataSource(Protocol):
    def metadata(self, offer: Offer) -> CoreMetadata: ...


#: Brings a wheel into reach (normally into the cache, hash-checked) and returns its path.
WheelGetter = Callable[[Offer], Path]


class IndexMetadata:
    """Core metadata per offer: PEP 658 file first (asked even if not advertised), else the wheel.

    Answers are kept for the run; :meth:`prefetch` fetches several in parallel.
    """

    def __init__(self, client: HttpClient, get_wheel: WheelGetter, *, workers: int = 8) -> None:
        self._client = client
        self._get_wheel = get_wheel
        self._workers = workers
        self._known: dict[tuple[str, str], CoreMetadata] = {}
        self._lock = threading.Lock()

    def metadata(self, offer: Offer) -> CoreMetadata:
        key = (offer.name, offer.file.url)
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        found = self._from_metadata_file(offer)
        if found is None:
            found = metadata_from_wheel(self._get_wheel(offer), offer)
        with self._lock:
            self._known[key] = found
        return found

    def prefetch(self, offers: Iterable[Offer]) -> None:
        wanted = list(offers)
        if len(wanted) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(self._workers, len(wanted))) as pool:
            for future in [pool.submit(self.metadata, offer) for offer in wanted]:
                future.exception()  # a failure is raised again by the later metadata() call

    def _from_metadata_file(self, offer: Offer) -> Optional[CoreMetadata]:
        url = offer.file.url.partition("#")[0] + ".metadata"
        try:
            fetched = self._client.fetch(url, accept="*/*")
        except IndexError_:  # not offered (404) or unreachable: the wheel itself still has it
            return None
        expected = (offer.file.core_metadata or {}).get("sha256")
        if expected:
            import hashlib

            if hashlib.sha256(fetched.body).hexdigest() != expected.lower():
                return None  # the page's hash wins over a file that does not match it
        try:
            found = parse_metadata(fetched.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return found if _same_release(found, offer) else None


def _same_release(found: CoreMetadata, offer: Offer) -> bool:
    try:
        return canonicalize_name(found.name) == offer.name and Version(found.version) == offer.version
    except InvalidVersion:
        return False


def metadata_from_wheel(path: Path, offer: Offer) -> CoreMetadata:
    """The ``*.dist-info/METADATA`` of a wheel archive."""
    label = f"{offer.name} {offer.version}"
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise ResolutionError(
                    f"{path.name} has {len(names)} top-level */METADATA files, expected one",
                    package=label,
                    hint="the wheel is malformed; report it to its publisher",
                )
            text = archive.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        raise ResolutionError(
            f"cannot read the metadata of {path.name}: {exc}",
            package=label,
            hint="the wheel is damaged or malformed; run again, or report it to its publisher",
        ) from None
    found = parse_metadata(text)
    if not _same_release(found, offer):
        raise ResolutionError(
            f"{path.name} says it is {found.name} {found.version}",
            package=label,
            field="METADATA",
            hint="the index serves a wheel whose metadata does not match its file name",
        )
    return found


# --- the resolvelib provider --------------------------------------------------------------------------


def _no_candidates() -> Iterator[Candidate]:
    return iter(())


def _offer_version(offer: Offer) -> Version:
    return offer.version


class Provider(AbstractProvider[Requirement, Candidate, str]):
    """Answers resolvelib from a :class:`Finder` and a :class:`MetadataSource` for one environment."""

    def __init__(self, finder: Finder, metadata: MetadataSource, environment: Mapping[str, str]) -> None:
        self.finder = finder
        self.metadata = metadata
        self.environment = dict(environment)
        #: The first requirer of each identifier seen (None: a root requirement), for explanations.
        self.required_by: dict[str, Optional[Candidate]] = {}
        self._dependencies: dict[tuple[str, Version], tuple[Requirement, ...]] = {}

    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Requirement, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Requirement, Candidate]],
    ) -> tuple[bool, bool, bool, str]:
        infos = list(information[identifier])
        pinned = any(info.requirement.pinned is not None for info in infos)
        root = any(info.parent is None for info in infos)
        causes = {info.requirement.identifier for info in backtrack_causes}
        causes |= {info.parent.identifier for info in backtrack_causes if info.parent is not None}
        return (not pinned, identifier not in causes, not root, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        """The candidates, newest first, built as the resolver reads them: it mostly takes the first, and a
        project with thousands of releases (botocore) is asked for again at every step that touches it."""
        wanted = list(requirements[identifier])
        if not wanted:
            return _no_candidates
        name = wanted[0].name
        extras = frozenset().union(*(r.extras for r in wanted))
        for requirement in wanted:
            self.required_by.setdefault(requirement.identifier, None)
        excluded = {c.version for c in incompatibilities[identifier]}
        combined = SpecifierSet()
        for requirement in wanted:
            combined &= requirement.specifier
        pins = {r.pinned for r in wanted if r.pinned is not None}
        offers = self.finder.offers(name)  # newest first, one per version

        def candidates() -> Iterator[Candidate]:
            usable = (o for o in offers if o.version not in excluded and (not o.yanked or o.version in pins))
            # packaging's rule: pre-releases only when asked for or when no final release matches
            for offer in combined.filter(usable, key=_offer_version):
                yield Candidate(offer, extras)

        return candidates

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        if requirement.name != candidate.name or not requirement.extras <= candidate.extras:
            return False
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        base = self._base_dependencies(candidate.offer)
        result: list[Requirement] = []
        if candidate.extras:
            # The extra's candidate pins the plain project at the same version, then adds what the extra needs.
            pin = f"{candidate.name}=={candidate.version}"
            result.append(Requirement(candidate.name, SpecifierSet(f"=={candidate.version}"), text=pin))
            metadata = self.metadata.metadata(candidate.offer)
            plain = {r.text for r in base}
            for index, line in enumerate(metadata.requires_dist):
                requirement = parse_requirement(
                    line,
                    self.environment,
                    extras=sorted(candidate.extras),
                    where=f"Requires-Dist[{index}]",
                    package=candidate.label,
                )
                if requirement is not None and requirement.text not in plain:
                    result.append(requirement)
        else:
            result.extend(base)
        for requirement in result:
            self.required_by.setdefault(requirement.identifier, candidate)
        self._prefetch_next(result)
        return result

    def _base_dependencies(self, offer: Offer) -> tuple[Requirement, ...]:
        key = (offer.name, offer.version)
        known = self._dependencies.get(key)
        if known is not None:
            return known
        metadata = self.metadata.metadata(offer)
        found: list[Requirement] = []
        for index, line in enumerate(metadata.requires_dist):
            requirement = parse_requirement(
                line, self.environment, where=f"Requires-Dist[{index}]", package=f"{offer.name} {offer.version}"
            )
            if requirement is not None:
                found.append(requirement)
        self._dependencies[key] = tuple(found)
        return self._dependencies[key]

    def _prefetch_next(self, requirements: Sequence[Requirement]) -> None:
        """Fetch the metadata of the newest allowed version of each new dependency ahead, in parallel."""
        prefetch = getattr(self.metadata, "prefetch", None)
        if prefetch is None:
            return
        ahead: list[Offer] = []
        for requirement in requirements:
            for offer in self.finder.offers(requirement.name):
                if not offer.yanked and requirement.specifier.contains(offer.version):
                    ahead.append(offer)
                    break
        prefetch(ahead)


# --- running it ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """One resolved project: the version, the file chosen for the target, and what it depends on."""

    name: NormalizedName
    version: Version
    file: IndexFile
    index: str
    extras: frozenset[NormalizedName] = frozenset()
    dependencies: tuple[NormalizedName, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


class _QuietReporter(BaseReporter[Requirement, Candidate, str]):
    pass


def resolve(
    requirements: Sequence[Requirement],
    provider: Provider,
    *,
    root: str,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> tuple[Pin, ...]:
    """Pins for ``requirements`` (sorted by name); ``root`` names who asks, for messages ("the build of x 1.0")."""
    resolver: Resolver[Requirement, Candidate, str] = Resolver(provider, _QuietReporter())
    try:
        result = resolver.resolve(list(requirements), max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise explain_conflict(list(exc.causes), provider, root) from None
    except ResolutionTooDeep:
        raise ResolutionError(
            f"cannot resolve the requirements of {root}: gave up after {max_rounds} rounds of backtracking",
            hint="narrow the requirements (tighter version ranges) so fewer combinations need trying",
        ) from None
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    for candidate in result.mapping.values():
        extras.setdefault(candidate.name, set()).update(candidate.extras)
    pins: list[Pin] = []
    for identifier, candidate in result.mapping.items():
        if candidate.extras:
            continue
        children: set[NormalizedName] = set()
        for key in (identifier, *(identifier_of(candidate.name, [e]) for e in extras[candidate.name])):
            for child in result.graph.iter_children(key) if key in result.graph else ():
                if child is not None:
                    children.add(result.mapping[child].name)
        children.discard(candidate.name)
        pins.append(
            Pin(
                name=candidate.name,
                version=candidate.version,
                file=candidate.offer.file,
                index=candidate.offer.index,
                extras=frozenset(extras[candidate.name]),
                dependencies=tuple(sorted(children)),
            )
        )
    return tuple(sorted(pins, key=lambda p: p.name))


def explain_conflict(
    causes: Sequence[RequirementInformation[Requirement, Candidate]],
    provider: Provider,
    root: str,
) -> ResolutionError:
    """A message a person can act on: each conflicting requirement with the chain that brought it in."""
    lines: list[str] = []
    names: list[NormalizedName] = []
    for cause in causes:
        chain = _chain(cause.parent, provider, root)
        lines.append(f"  - {chain} requires {str(cause.requirement)!r}")
        if cause.requirement.name not in names:
            names.append(cause.requirement.name)
    facts = [f"  {provider.finder.explain(name)}" for name in names]
    if len(names) == 1 and len(causes) == 1:
        why = f"no version of {names[0]} satisfies what {root} needs"
    else:
        why = f"the requirements of {root} conflict"
    return ResolutionError(
        why + ":\n" + "\n".join(lines + facts),
        hint="the requirements above cannot all hold at once; relax one of them, or make the index "
        "offer a version (with a wheel for this interpreter) that satisfies them all",
    )


def _chain(parent: Optional[Candidate], provider: Provider, root: str) -> str:
    steps: list[str] = []
    seen: set[str] = set()
    current = parent
    while current is not None and current.identifier not in seen and len(steps) < 30:
        seen.add(current.identifier)
        steps.append(current.label)
        current = provider.required_by.get(current.identifier)
    steps.append(root)
    return " -> ".join(reversed(steps))


__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "Candidate",
    "CoreMetadata",
    "Finder",
    "IndexMetadata",
    "MetadataSource",
    "Offer",
    "Pin",
    "Provider",
    "Requirement",
    "best_tag",
    "explain_conflict",
    "identifier_of",
    "metadata_from_wheel",
    "parse_metadata",
    "parse_requirement",
    "resolve",
]
