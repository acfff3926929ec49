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
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from email.parser import HeaderParser
from functools import partial
from pathlib import Path
from typing import Callable, Optional

from packaging.version import InvalidVersion, Version

from lading.errors import IndexError_
from lading.index.http import HttpClient, strip_credentials
from lading.index.httpcache import PageCache, Stored
from lading.resolve import ResolutionError
from lading.resolve.lazywheel import remote_metadata
from lading.resolve.provider import CoreMetadata, Offer, WheelGetter, metadata_from_wheel, parse_metadata

#: Builds a wheel from a downloaded sdist and returns the wheel's path.
SdistBuilder = Callable[[Offer, Path], Path]


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
        self._futures: dict[str, Future[CoreMetadata]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lading-metadata")
        #: Offers whose metadata came from a build (for the report).
        self.built: list[str] = []

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LockMetadata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def metadata(self, offer: Offer) -> CoreMetadata:
        key = offer.file.url
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(self._compute(offer))
            except BaseException as exc:  # every waiter sees the same failure
                future.set_exception(exc)
        return future.result()

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
        """The PEP 658 file (asked even when not advertised), through the on-disk cache when given one:
        a file host serves them as immutable, so a second run asks nothing."""
        url = offer.file.url.partition("#")[0] + ".metadata"
        expected = (offer.file.core_metadata or {}).get("sha256")
        # A released file never changes, so neither does its metadata: a stored copy is used without
        # asking again (indexes rarely send cache lifetimes for these), checked against the page's hash.
        stored = self._pages.load(url, "*/*") if self._pages is not None else None
        body = stored.body if stored is not None else None
        if body is None or (expected and hashlib.sha256(body).hexdigest() != expected.lower()):
            try:
                if self._pages is not None:
                    body = self._pages.fetch(self._client, url, accept="*/*").body
                else:
                    body = self._client.fetch(url, accept="*/*").body
            except IndexError_:  # not offered (404) or unreachable: the file itself still has it
                body = self._ranged(offer, url)
                if body is None:
                    return None
        if expected and hashlib.sha256(body).hexdigest() != expected.lower():
            return None  # the page's hash wins over a file that does not match it
        try:
            found = parse_metadata(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return found if _same(found, offer) else None


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
