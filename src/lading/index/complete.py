"""Give every locked artifact a URL: look up on the index the files a lock names only by filename
(poetry.lock, pdm.lock) or only by hash (Pipfile.lock, requirements.txt).

The lock stays the authority: a file the index lists with another hash than the lock's is an error,
and a hash-only package gets exactly the files of its version whose hashes the lock recorded.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Optional, Union

from packaging.pylock import Package, PackageSdist, PackageWheel
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from lading.errors import IndexError_, LadingError
from lading.index.config import IndexConfig, redact
from lading.index.http import HttpClient, file_url_exists, strip_credentials
from lading.index.simple import DEFAULT_WORKERS, IndexFile, PageSource, ProjectNotFound, SimpleIndex, file_names
from lading.model import Finding, Lock, PendingFiles, expand_vars

if TYPE_CHECKING:
    from lading.cache import Cache

log = logging.getLogger("lading.index")

OpenIndex = Callable[[str], PageSource]

_STALE_HINT = (
    "the index may be a stale or partial mirror, or the lock was made against another index "
    "(give it with --index-url)"
)


class HashMismatch(IndexError_):
    """The index lists a file under the lock's filename but with another hash."""


class Indexes:
    """The configured indexes as page sources, each opened once, so pages are fetched once per run.

    A ``file://`` index whose directory does not exist is skipped with a warning (pip configurations
    often name local mirrors that only exist on some machines).

    Without ``open_index``, sources are :class:`SimpleIndex` objects sharing one client; ``cache``
    (lading's cache) keeps their pages on disk between runs, ``offline`` reads only stored pages,
    and the lock's index names (:meth:`add_names`) pick their credentials from the environment.
    """

    def __init__(
        self,
        config: IndexConfig,
        open_index: Optional[OpenIndex] = None,
        *,
        workers: int = DEFAULT_WORKERS,
        cache: Optional[Cache] = None,
        offline: bool = False,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.config = config
        self._names: dict[str, str] = {}
        if open_index is None:
            from lading.index.httpcache import PageCache

            client = HttpClient(max_connections=workers, environ=environ)
            for url in config.all():  # credentials given once apply to every URL of that host
                client.remember(url)
            pages = PageCache.of(cache) if cache is not None else None
            primary = _same_index_key(config.primary)

            def open_simple(url: str) -> PageSource:
                key = _same_index_key(url)
                with self._lock:
                    name = self._names.get(key)
                return SimpleIndex(
                    url, client, workers=workers, cache=pages, offline=offline, name=name,
                    primary=key == primary,
                )

            open_index = open_simple
        self._open = open_index
        self._sources: dict[str, Optional[PageSource]] = {}
        self._lock = threading.RLock()  # open_simple reads the names while source() holds it

    def add_names(self, names: Mapping[str, str]) -> None:
        """``{index URL: name}`` as a lock names its indexes (for ``LADING_INDEX_<NAME>_*``)."""
        with self._lock:
            for url, name in names.items():
                self._names.setdefault(_same_index_key(url), name)

    def prefetch(self, wanted: Mapping[str, Collection[str]]) -> None:
        """Fetch ``{index URL: project names}`` up front, every page in parallel."""
        jobs: list[Callable[[], object]] = []
        for url, projects in wanted.items():
            source = self.source(url)
            prefetch = getattr(source, "prefetch", None)  # a PageSource need not have one
            if callable(prefetch) and projects:
                jobs.append(functools.partial(prefetch, projects))
        if len(jobs) == 1:
            jobs[0]()
        elif jobs:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                for done in [pool.submit(job) for job in jobs]:
                    done.result()

    def source(self, url: str) -> Optional[PageSource]:
        key = _same_index_key(url)
        with self._lock:
            if key not in self._sources:
                if url.startswith("file:") and not file_url_exists(url):
                    log.warning("skipping the index %s: the directory does not exist", redact(url))
                    self._sources[key] = None
                else:
                    self._sources[key] = self._open(url)
            return self._sources[key]


def index_client(
    config: IndexConfig,
    lock: Optional[Lock] = None,
    *,
    environ: Mapping[str, str] = os.environ,
    workers: int = DEFAULT_WORKERS,
) -> HttpClient:
    """A client that knows the credentials of every index (URL user part, environment by the lock's
    index names), for downloading the files those indexes list (on their hosts)."""
    client = HttpClient(max_connections=workers, environ=environ)
    names = _index_names(lock, environ) if lock is not None else {}
    primary = _same_index_key(config.primary)
    urls = [*config.all(), *(expand_vars(ix.url, environ) for ix in lock.indexes)] if lock else config.all()
    for url in urls:
        key = _same_index_key(url)
        client.remember_index(url, name=names.get(key), primary=key == primary)
    return client


def _index_names(lock: Lock, environ: Mapping[str, str]) -> dict[str, str]:
    """``{index key: name}`` for the indexes the lock names."""
    return {
        _same_index_key(expand_vars(ix.url, environ)): ix.name for ix in lock.indexes if ix.name
    }


def complete(
    lock: Lock,
    indexes: Union[IndexConfig, Indexes],
    only: Optional[Collection[int]] = None,
    *,
    environ: Mapping[str, str] = os.environ,
    workers: int = DEFAULT_WORKERS,
    cache: Optional[Cache] = None,
    offline: bool = False,
    python: Optional[str] = None,
) -> Lock:
    """A copy of ``lock`` whose packages at ``only`` (default: all) have URLs for their files.

    ``python`` (the target's full version, when there is one target) leaves out files whose
    ``requires-python`` excludes it; a hash-only package left with none is an error.

    Every project page the lookup needs first is fetched up front, in parallel; ``cache`` and
    ``offline`` apply when ``indexes`` is an :class:`IndexConfig` (see :class:`Indexes`).
    """
    if isinstance(indexes, IndexConfig):
        indexes = Indexes(indexes, workers=workers, cache=cache, offline=offline, environ=environ)
    lock_default = expand_vars(lock.indexes[0].url, environ) if lock.indexes else None
    positions = [
        i
        for i in range(len(lock.packages))
        if (only is None or i in only) and (i in lock.pending or _name_only(lock.packages[i]))
    ]
    if not positions:
        return lock
    index_set = indexes
    index_set.add_names(_index_names(lock, environ))
    first_pages: dict[str, set[str]] = {}
    for i in positions:
        candidates = _candidates(lock.packages[i], index_set.config, lock_default, environ)
        if candidates:
            first_pages.setdefault(candidates[0], set()).add(lock.packages[i].name)
    index_set.prefetch(first_pages)

    def work(i: int) -> _Completed:
        candidates = _candidates(lock.packages[i], index_set.config, lock_default, environ)
        try:
            if i in lock.pending:
                return _complete_pending(lock, i, lock.pending[i], candidates, index_set, python)
            return _complete_named(lock, i, candidates, index_set)
        except LadingError as exc:
            raise exc.located(file=lock.path, package=lock.describe(i)) from exc.__cause__

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = dict(zip(positions, pool.map(work, positions)))

    packages = [done[i].package if i in done else p for i, p in enumerate(lock.packages)]
    findings = [f for i in positions for f in done[i].findings]
    return replace(
        lock,
        pylock=replace(lock.pylock, packages=packages),
        pending={i: p for i, p in lock.pending.items() if i not in done},
        findings=(*lock.findings, *findings),
    )


@dataclass(frozen=True)
class _Completed:
    package: Package
    findings: tuple[Finding, ...] = ()


def _name_only(package: Package) -> bool:
    files: list[Union[PackageWheel, PackageSdist]] = list(package.wheels or ())
    if package.sdist is not None:
        files.append(package.sdist)
    return any(f.url is None and f.path is None for f in files)


def _same_index_key(url: str) -> str:
    return strip_credentials(url)[0].rstrip("/")


def _candidates(
    package: Package,
    config: IndexConfig,
    lock_default: Optional[str],
    environ: Mapping[str, str],
) -> tuple[str, ...]:
    """The indexes to ask, in order: the package's own index, or the configured ones.

    A package naming the lock's default index follows ``--index-url`` like unnamed ones do, so a
    mirror given on the command line replaces that index; any other named index is asked alone.
    """
    if package.index:
        own = expand_vars(package.index, environ)
        defaults = {_same_index_key(u) for u in (lock_default, config.primary) if u}
        if _same_index_key(own) not in defaults:
            return (own,)
    return config.all()


def _field(lock: Lock, i: int) -> str:
    return lock.origins[i].entry.split(" (")[0] if i < len(lock.origins) else f"packages[{i}]"


def _iter_pages(
    project: NormalizedName, candidates: Sequence[str], indexes: Indexes, asked: list[str]
) -> Iterator[tuple[str, Sequence[IndexFile]]]:
    for url in candidates:
        source = indexes.source(url)
        if source is None:
            continue
        asked.append(redact(source.url))
        try:
            page = source.get(project)
        except ProjectNotFound:
            continue
        yield source.url, page.files


def _complete_named(lock: Lock, i: int, candidates: Sequence[str], indexes: Indexes) -> _Completed:
    package = lock.packages[i]
    field = _field(lock, i)
    wheels = list(package.wheels or ())
    needed: dict[str, Union[PackageWheel, PackageSdist]] = {
        w.filename: w for w in wheels if w.url is None and w.path is None
    }
    if package.sdist is not None and package.sdist.url is None and package.sdist.path is None:
        needed[package.sdist.filename] = package.sdist
    found: dict[str, tuple[IndexFile, str]] = {}
    asked: list[str] = []
    for url, files in _iter_pages(package.name, candidates, indexes, asked):
        listed = {name: at for at, name in enumerate(file_names(files))}
        for filename, entry in needed.items():
            if filename in found or filename not in listed:
                continue
            file = files[listed[filename]]
            _check_hash(entry.hashes, file, filename, url, field)
            found[filename] = (file, url)
        if len(found) == len(needed):
            break
    if not found:
        raise IndexError_(
            f"none of the {len(needed)} files the lock names is listed on "
            f"{_names(asked, candidates)}",
            field=field,
            hint=_STALE_HINT,
        )
    findings = tuple(
        Finding(
            severity="warning",
            file=lock.path,
            package=lock.describe(i),
            field=field,
            message=f"{filename} is not listed on {_names(asked, candidates)}; left out",
        )
        for filename in needed
        if filename not in found
    )
    new_wheels = [
        _located_wheel(w, found) for w in wheels if w.url or w.path or w.filename in found
    ]
    sdist = package.sdist
    if sdist is not None and sdist.url is None and sdist.path is None:
        sdist = _located_sdist(sdist, found[sdist.filename]) if sdist.filename in found else None
    first_index = next(iter(found.values()))[1]
    return _Completed(
        package=replace(
            package,
            wheels=new_wheels or None,
            sdist=sdist,
            index=package.index or first_index,
        ),
        findings=findings,
    )


def _located_wheel(wheel: PackageWheel, found: Mapping[str, tuple[IndexFile, str]]) -> PackageWheel:
    if wheel.url or wheel.path:
        return wheel
    listed = found[wheel.filename][0]
    return PackageWheel(
        name=wheel.name,
        url=listed.url,
        size=wheel.size if wheel.size is not None else listed.size,
        upload_time=wheel.upload_time or listed.upload_time,
        hashes=wheel.hashes,
    )


def _located_sdist(sdist: PackageSdist, found: tuple[IndexFile, str]) -> PackageSdist:
    listed = found[0]
    return PackageSdist(
        name=sdist.name,
        url=listed.url,
        size=sdist.size if sdist.size is not None else listed.size,
        upload_time=sdist.upload_time or listed.upload_time,
        hashes=sdist.hashes,
    )


def _check_hash(
    locked: Mapping[str, str], listed: IndexFile, filename: str, index: str, field: str
) -> None:
    """The lock and the index must agree on every algorithm both give.

    An index that gives no comparable hash is accepted: the download is verified against the lock.
    """
    for algorithm, digest in locked.items():
        other = listed.hashes.get(algorithm)
        if other is not None and other.lower() != digest.lower():
            raise HashMismatch(
                f"{filename}: the lock has {algorithm}:{digest} but {redact(index)} lists "
                f"{algorithm}:{other}",
                field=field,
                hint="the file on the index changed or the lock is wrong; do not install until "
                "you know which (re-lock against a trusted index)",
            )


def _complete_pending(
    lock: Lock,
    i: int,
    pending: PendingFiles,
    candidates: Sequence[str],
    indexes: Indexes,
    python: Optional[str] = None,
) -> _Completed:
    package = lock.packages[i]
    field = _field(lock, i)
    if package.version is None:
        raise IndexError_(
            "the lock gives no exact version, so its files cannot be looked up",
            field=field,
            hint="pin the requirement with == and re-lock",
        )
    wanted = {_parse_hash(h) for h in pending.hashes}
    asked: list[str] = []
    matches: list[IndexFile] = []
    chosen_index = ""
    for url, files in _iter_pages(package.name, candidates, indexes, asked):
        matches = [
            f
            for f in files
            if _is_release(f.filename, package.name, package.version)
            and (not wanted or any((a, d.lower()) in wanted for a, d in f.hashes.items()))
        ]
        if matches:
            chosen_index = url
            break
    if not matches:
        what = "files with the locked hashes" if wanted else "files"
        raise IndexError_(
            f"no {what} of {package.name} {package.version} on {_names(asked, candidates)}",
            field=field,
            hint=_STALE_HINT,
        )

    if python is not None:
        fitting = [f for f in matches if _fits(f.requires_python, python)]
        if not fitting:
            said = sorted({f.requires_python or "" for f in matches})
            raise IndexError_(
                f"every file of {package.name} {package.version} on {redact(chosen_index)} requires "
                f"Python {', '.join(said)}; the target runs Python {python}",
                field=field,
                hint="the lock was made for another Python: re-lock for this one, or install with the "
                "Python the lock is for (--python)",
            )
        matches = fitting
    for f in matches:
        if f.yanked:
            # PEP 592: an exact pin may install a yanked file, but never silently.
            reason = f" ({f.yanked_reason})" if f.yanked_reason else ""
            log.warning("warning: %s is yanked on %s%s; installing it because the lock pins it",
                        f.filename, redact(chosen_index), reason)

    def hashes(listed: IndexFile) -> dict[str, str]:
        if not wanted:
            return dict(listed.hashes)
        return {a: d.lower() for a, d in listed.hashes.items() if (a, d.lower()) in wanted}

    wheels = [
        PackageWheel(
            name=f.filename, url=f.url, size=f.size, upload_time=f.upload_time, hashes=hashes(f)
        )
        for f in matches
        if f.filename.endswith(".whl")
    ]
    sdists = sorted(
        (f for f in matches if not f.filename.endswith(".whl")),
        key=lambda f: not f.filename.endswith(".tar.gz"),  # the standard sdist form first
    )
    sdist = None
    if sdists:
        s = sdists[0]
        sdist = PackageSdist(
            name=s.filename, url=s.url, size=s.size, upload_time=s.upload_time, hashes=hashes(s)
        )
    return _Completed(
        package=replace(
            package,
            archive=None,
            wheels=wheels or None,
            sdist=sdist,
            index=package.index or chosen_index,
        )
    )


def _fits(requires_python: Optional[str], python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # an unreadable claim does not veto the file the lock's hash names


def _parse_hash(text: str) -> tuple[str, str]:
    algorithm, sep, digest = text.partition(":")
    if not sep:
        algorithm, sep, digest = text.partition("=")
    return algorithm.strip().lower(), digest.strip().lower()


def _is_release(filename: str, name: NormalizedName, version: Version) -> bool:
    """Is this file a wheel or sdist of exactly this project and version?"""
    try:
        if filename.endswith(".whl"):
            file_name, file_version, _, _ = parse_wheel_filename(filename)
        else:
            file_name, file_version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False  # eggs, installers and other files an old index may list
    return file_name == canonicalize_name(name) and file_version == version


def _names(asked: Sequence[str], candidates: Sequence[str]) -> str:
    shown = list(dict.fromkeys(asked)) or [redact(u) for u in candidates]
    if not shown:
        return "no index"
    return ", ".join(shown) if len(shown) > 1 else shown[0]
