"""Resolving the requirements of a PEP 517 build (``[build-system] requires`` and the backend's extras).

Build requirements come with no lock, so they are resolved at build time for the build interpreter,
from wheels only (building a build requirement from source would recurse without end), newest versions
first. The wheels the resolver had to download for their metadata land in the cache, where installing
the build environment finds them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from lading.cache import Cache, file_sha256
from lading.fetch import Download, fetch_all
from lading.index.http import HttpClient
from lading.index.simple import IndexFile, PageSource, ProjectNotFound, ProjectPage, SimpleIndex
from lading.model import Target
from lading.resolve import ResolutionError
from lading.resolve.provider import (
    DEFAULT_MAX_ROUNDS,
    Finder,
    IndexMetadata,
    MetadataSource,
    Offer,
    Pin,
    Provider,
    Requirement,
    WheelGetter,
    parse_requirement,
    resolve,
)


def offer_download(offer: Offer) -> Download:
    """The download of an offered wheel, checked against the hashes the index page gives."""
    return Download.of(
        offer.file.filename,
        dict(offer.file.hashes),
        url=offer.file.url.partition("#")[0],
        size=offer.file.size,
        label=f"{offer.name} {offer.version}",
    )


def pin_download(pin: Pin) -> Download:
    return offer_download(Offer(pin.name, pin.version, pin.file, pin.index))


def cache_wheel_getter(
    cache: Cache, client: Optional[HttpClient], *, offline: bool = False, find_links: Sequence[Path] = ()
) -> WheelGetter:
    """Wheels for metadata come through the cache (hash-checked), so the later install reuses them."""

    def get(offer: Offer) -> Path:
        download = offer_download(offer)
        return fetch_all([download], cache, client, offline=offline, find_links=find_links)[download]

    return get


class FindLinks:
    """A :class:`PageSource` over ``--find-links`` directories: every wheel and sdist in them, by project."""

    def __init__(self, directories: Sequence[Path]) -> None:
        self.directories = tuple(Path(d) for d in directories)
        self.url = " ".join(d.as_uri() if d.is_absolute() else str(d) for d in self.directories)
        self._by_name: Optional[dict[str, list[Path]]] = None

    def get(self, project: str) -> ProjectPage:
        name = canonicalize_name(project)
        files = self._index().get(name)
        if not files:
            raise ProjectNotFound(f"project {name!r} is in no --find-links directory", package=name)
        listed = tuple(
            IndexFile(
                filename=path.name,
                url=path.absolute().as_uri(),
                hashes={"sha256": file_sha256(path)},
                size=path.stat().st_size,
            )
            for path in files
        )
        return ProjectPage(name=name, files=listed, url=self.url)

    def _index(self) -> dict[str, list[Path]]:
        if self._by_name is None:
            found: dict[str, list[Path]] = {}
            for directory in self.directories:
                if not directory.is_dir():
                    continue
                for path in sorted(directory.iterdir()):
                    project = _project_of(path.name)
                    if project is not None and path.is_file():
                        found.setdefault(project, []).append(path)
            self._by_name = found
        return self._by_name


def _project_of(filename: str) -> Optional[str]:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def index_sources(urls: Sequence[str], client: HttpClient) -> list[PageSource]:
    """Page sources for ``urls``, primary first (so ``LADING_INDEX_USERNAME``/``_PASSWORD`` apply to it)."""
    return [SimpleIndex(url, client, primary=i == 0) for i, url in enumerate(urls)]


def root_requirements(
    requires: Sequence[str],
    target: Target,
    *,
    file: Optional[Union[str, Path]] = None,
    field: str = "build-system.requires",
    package: Optional[str] = None,
) -> list[Requirement]:
    """The requirements that apply to ``target`` (markers evaluated), each error naming its index."""
    found: list[Requirement] = []
    for index, text in enumerate(requires):
        if not isinstance(text, str):
            raise ResolutionError(
                f"expected a requirement string, got {text!r}",
                file=file,
                package=package,
                field=f"{field}[{index}]",
                hint="write each build requirement as a PEP 508 string",
            )
        try:
            requirement = parse_requirement(text, target.environment, where=f"{field}[{index}]", package=package)
        except ResolutionError as exc:
            raise exc.located(file=file) from None
        if requirement is not None:
            found.append(requirement)
    return found


def resolve_build_requirements(
    requires: Sequence[str],
    *,
    target: Target,
    sources: Sequence[PageSource],
    metadata: MetadataSource,
    root: str,
    file: Optional[Union[str, Path]] = None,
    field: str = "build-system.requires",
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> tuple[Pin, ...]:
    """Pins (one wheel each, for ``target``) satisfying ``requires``; ``root`` names the build in messages."""
    requirements = root_requirements(requires, target, file=file, field=field, package=root)
    if not requirements:
        return ()
    for source in sources:
        prefetch = getattr(source, "prefetch", None)
        if prefetch is not None:
            prefetch([r.name for r in requirements])
            break
    provider = Provider(Finder(sources, target), metadata, target.environment)
    try:
        return resolve(requirements, provider, root=f"the build of {root}", max_rounds=max_rounds)
    except ResolutionError as exc:
        if exc.package is not None:  # about one package's own metadata, not about this build's requires
            raise
        raise exc.located(file=file, package=root) from None


def metadata_source(
    cache: Cache, client: HttpClient, *, offline: bool = False, find_links: Sequence[Path] = ()
) -> IndexMetadata:
    return IndexMetadata(client, cache_wheel_getter(cache, client, offline=offline, find_links=find_links))


__all__ = [
    "FindLinks",
    "cache_wheel_getter",
    "index_sources",
    "metadata_source",
    "offer_download",
    "pin_download",
    "resolve_build_requirements",
    "root_requirements",
]
