"""Core metadata for locking: wheels and sdists, each fetched once, ahead of need, in parallel.

:class:`LockMetadata` answers :class:`~lading.resolve.provider.MetadataSource` for any offer:

* a wheel: its PEP 658 ``.metadata`` file (asked even when the page does not advertise one); else,
  when the page does not advertise one, its ``METADATA`` read through range requests
  (:mod:`lading.resolve.lazywheel`); else the ``METADATA`` inside the wheel (downloaded into the cache);
* an sdist: its PEP 658 file, else its ``PKG-INFO`` when that is Metadata-Version 2.2+ and does not
  mark ``Requires-Dist`` / ``Requires-Python`` dynamic (PEP 643: then it is the final metadata),
  else the metadata of a wheel built from it (``build``; without one, a clear error).

The first caller of an offer computes it and later callers wait for that answer, so a background
:meth:`prefetch` and the resolver never fetch the same thing twice, and no call waits on a queued task.
"""

from __future__ import annotations

import hashlib
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextlib import suppress
from email.parser import HeaderParser
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from lading._once import Once
from lading.cache import Cache
from lading.errors import IndexError_
from lading.index.http import HttpClient, NotFound, strip_credentials
from lading.index.httpcache import PageCache, Stored
from lading.resolve import ResolutionError
from lading.resolve.lazywheel import remote_metadata
from lading.resolve.provider import CoreMetadata, Offer, WheelGetter, metadata_from_wheel, parse_metadata

if TYPE_CHECKING:
    from lading.install.sdist import Builder

#: Builds a wheel from a downloaded sdist and returns the wheel's path.
SdistBuilder = Callable[[Offer, Path], Path]


def sdist_builder(cache: Cache, index_urls: Sequence[str], client: HttpClient) -> SdistBuilder:
    """An :data:`SdistBuilder` for this interpreter, made on first use: most locks build nothing, and
    the build machinery (and its imports) is then never paid for."""
    made: list[Builder] = []
    lock = threading.Lock()

    def build(offer: Offer, archive: Path) -> Path:
        from lading.install.sdist import Builder, BuildOptions

        with lock:
            if not made:
                made.append(Builder(BuildOptions(cache=cache, index_urls=tuple(index_urls), client=client),
                                    sys.executable))
        label = f"{offer.name} {offer.version}"
        return made[0].build_sdist(archive, sha256=offer.file.hashes.get("sha256"), label=label).path

    return build


class LockMetadata:
    """Metadata per offer (wheel or sdist), kept for the run; see the module text."""

    def __init__(
        self,
        client: HttpClient,
        get_file: WheelGetter,
        *,
        build: Optional[SdistBuilder] = None,
        workers: int = 8,
        pages: Optional[PageCache] = None,
    ) -> None:
        self._client = client
        self._pages = pages
        self._get_file = get_file
        self._build = build
        self._answers: Once[str, CoreMetadata] = Once()
        self._unadvertised = _UnadvertisedFiles()
        # Asking hosts for unadvertised files on the side, off the resolver's workers.
        self._probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lading-probe")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lading-metadata")
        #: Offers whose metadata came from a build (for the report).
        self.built: list[str] = []

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._probes.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LockMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def metadata(self, offer: Offer) -> CoreMetadata:
        return self._answers.get(offer.file.url, partial(self._compute, offer))

    def prefetch(self, offers: Iterable[Offer]) -> None:
        """Start fetching in the background; returns at once."""
        for offer in offers:
            self.submit(partial(self.metadata, offer))

    def submit(self, task: Callable[[], object]) -> None:
        """Run ``task`` in the background pool; its failure is dropped (the later real call raises it)."""
        with suppress(RuntimeError):  # the pool is shut down: the run is over
            self._pool.submit(_quietly, task)

    def _compute(self, offer: Offer) -> CoreMetadata:
        found = self._metadata_file(offer)
        if found is not None:
            return found
        archive = self._get_file(offer)
        if offer.file.filename.endswith(".whl"):
            return metadata_from_wheel(archive, offer)
        static = static_sdist_metadata(archive)
        if static is not None and _same(static, offer):
            return static
        if self._build is None:
            raise ResolutionError(
                f"{offer.file.filename} is an sdist without static metadata (PKG-INFO 2.2+), and no "
                "builder is available to get its dependencies",
                package=f"{offer.name} {offer.version}",
                hint="lock with a builder (the lock command builds sdists by default), or require a "
                "version that has a wheel",
            )
        wheel = self._build(offer, archive)
        self.built.append(f"{offer.name} {offer.version}")
        return metadata_from_wheel(wheel, offer)


    def _metadata_file(self, offer: Offer) -> Optional[CoreMetadata]:
        """The PEP 658 file, through the on-disk cache when given one: a file host serves them as
        immutable, so a second run asks nothing. Files the page does not advertise are asked for too,
        as :class:`_UnadvertisedFiles` decides; range reads of the wheel get them otherwise."""
        url = offer.file.url.partition("#")[0] + ".metadata"
        expected = (offer.file.core_metadata or {}).get("sha256")
        # A released file never changes, so neither does its metadata: a stored copy is used without
        # asking again (indexes rarely send cache lifetimes for these), checked against the page's hash.
        stored = self._pages.load(url, "*/*") if self._pages is not None else None
        body = stored.body if stored is not None else None
        if body is None or (expected and hashlib.sha256(body).hexdigest() != expected.lower()):
            body = self._fetch_metadata(offer, url)
            if body is None:
                return None
        if expected and hashlib.sha256(body).hexdigest() != expected.lower():
            return None  # the page's hash wins over a file that does not match it
        try:
            found = parse_metadata(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return found if _same(found, offer) else None

    def _fetch_metadata(self, offer: Offer, url: str) -> Optional[bytes]:
        if offer.file.core_metadata is not None:
            return self._ask(url)
        host = urlsplit(url).netloc
        way = self._unadvertised.way(host)
        if way == ASK:
            body = self._ask(url, host)
            return body if body is not None else self._ranged(offer, url)
        if way == SKIP:
            return self._ranged(offer, url)
        # Not known yet: the range reads answer, and the host is asked on the side (its answers decide
        # how the next files are read); when ranges fail too, its answer is waited for.
        try:
            probe: Optional[Future[Optional[bytes]]] = self._probes.submit(self._probe, url, host)
        except RuntimeError:  # shut down: the run is over
            probe = None
        body = self._ranged(offer, url)
        if body is not None or probe is None:
            return body
        try:
            return probe.result()
        except CancelledError:
            return None

    def _probe(self, url: str, host: str) -> Optional[bytes]:
        # Waiting in the queue, a probe may have become needless: the host's answers so far tell.
        return None if self._unadvertised.way(host) == SKIP else self._ask(url, host)

    def _ask(self, url: str, host: Optional[str] = None) -> Optional[bytes]:
        """The ``.metadata`` file at ``url``, or None; for an unadvertised file (``host`` given) the
        answer is counted for the host."""
        try:
            if self._pages is not None:
                body = self._pages.fetch(self._client, url, accept="*/*").body
            else:
                body = self._client.fetch(url, accept="*/*").body
        except NotFound:
            if host is not None:
                self._unadvertised.missed(host)
            return None
        except IndexError_:  # unreachable: the file itself may still be
            return None
        if host is not None:
            self._unadvertised.found(host)
        return body

    def _ranged(self, offer: Offer, url: str) -> Optional[bytes]:
        """An unadvertised wheel's METADATA through range requests (what its PEP 658 file would hold),
        kept under that file's URL so the next run asks nothing; None to download the wheel instead."""
        if offer.file.core_metadata is not None or not offer.file.filename.endswith(".whl"):
            return None
        body = remote_metadata(self._client, offer.file.url.partition("#")[0])
        if body is not None and self._pages is not None:
            self._pages.save(Stored(url=strip_credentials(url)[0], accept="*/*", final_url=url,
                                    headers={"content-type": "application/octet-stream"},
                                    received=time.time(), body=body))
        return body


#: How a host's unadvertised PEP 658 files are read (see :class:`_UnadvertisedFiles`).
ASK, PROBE, SKIP = "ask", "probe", "skip"


class _UnadvertisedFiles:
    """Whether a host is worth asking for PEP 658 files its pages do not advertise.

    Some hosts serve them anyway (pages written before the attribute existed), some never do, some
    (mirrors) for older files only; a miss costs a round trip (a slow one when a mirror asks upstream)
    before the range reads start, a hit saves one. Until :data:`ENOUGH` answers tell, the files are
    read by ranges and the host is asked on the side (:data:`PROBE`); then it is asked first
    (:data:`ASK`) while at most one ask in :data:`WORTH` misses, else no more in this run (:data:`SKIP`).
    """

    ENOUGH = 3
    WORTH = 5

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._misses: dict[str, int] = {}
        self._hits: dict[str, int] = {}

    def way(self, host: str) -> str:
        with self._lock:
            misses, hits = self._misses.get(host, 0), self._hits.get(host, 0)
        if misses * self.WORTH > misses + hits:
            return SKIP if misses >= self.ENOUGH else PROBE
        return ASK if hits >= self.ENOUGH else PROBE

    def missed(self, host: str) -> None:
        with self._lock:
            self._misses[host] = self._misses.get(host, 0) + 1

    def found(self, host: str) -> None:
        with self._lock:
            self._hits[host] = self._hits.get(host, 0) + 1


def _quietly(task: Callable[[], object]) -> None:
    # A failure here is raised again by the resolver's own call, where it matters.
    with suppress(Exception):
        task()


def _same(found: CoreMetadata, offer: Offer) -> bool:
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(found.name) == offer.name and Version(found.version) == offer.version
    except InvalidVersion:
        return False


def static_sdist_metadata(archive: Path) -> Optional[CoreMetadata]:
    """The sdist's PKG-INFO when PEP 643 makes it final (2.2+, dependencies not dynamic), else None."""
    text = _pkg_info(archive)
    if text is None:
        return None
    headers = HeaderParser().parsestr(text, headersonly=True)
    try:
        version = Version(str(headers.get("Metadata-Version", "0")).strip())
    except InvalidVersion:
        return None
    dynamic = {str(v).strip().lower() for v in headers.get_all("Dynamic", [])}
    if version < Version("2.2") or {"requires-dist", "requires-python"} & dynamic:
        return None
    return parse_metadata(text)


def _pkg_info(archive: Path) -> Optional[str]:
    name = archive.name
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as handle:
                members = [m for m in handle.namelist() if m.count("/") == 1 and m.endswith("/PKG-INFO")]
                return handle.read(members[0]).decode("utf-8") if len(members) == 1 else None
        with tarfile.open(archive) as handle:
            for member in handle.getmembers():
                if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    extracted = handle.extractfile(member)
                    return extracted.read().decode("utf-8") if extracted is not None else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    return None


__all__ = ["LockMetadata", "SdistBuilder", "static_sdist_metadata"]
