"""An on-disk HTTP cache for simple-API pages, in the cache's ``http-v1`` bucket.

One file per (URL, ``Accept``): ``http-v1/<aa>/<sha256 of "URL\\nAccept">``, holding a header line
(JSON: the URL, the response headers that matter for caching, when it was received, the body's
size and sha256) and the body. Files are written under a temporary name and renamed, so a reader
sees a whole entry or none; an entry that does not check out (torn by a crash, edited, from another
format) is ignored and fetched again. Nothing needs a lock: two processes storing one page both
store a valid answer, and the last rename wins.

Freshness follows HTTP caching (RFC 9111) for the parts an index uses: ``Cache-Control: max-age``
(else ``s-maxage``, else ``Expires``) minus the response's age; ``no-cache`` means always
revalidate, ``no-store`` means never store. A stale entry is revalidated with ``If-None-Match`` /
``If-Modified-Since``; a 304 reuses the stored body. No heuristic freshness: a page without a
lifetime is revalidated every run.

Credentials never reach the disk: URLs are stored and keyed without their user part, request
headers (``Authorization``) are never stored, and only the response headers in
:data:`KEPT_HEADERS` are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlsplit

from lading.cache import TEMP_PREFIX, Cache
from lading.errors import IndexError_, LadingError
from lading.index.config import redact
from lading.index.http import Fetched, HttpClient, strip_credentials

log = logging.getLogger("lading.index")

MAGIC = b"lading-http-v1\n"
#: The response headers an entry keeps: what freshness, revalidation and parsing need.
KEPT_HEADERS = ("cache-control", "content-type", "date", "etag", "expires", "last-modified", "age")
#: The headers a 304 may update in the stored response (never its content type).
_REVALIDATED = ("cache-control", "date", "etag", "expires", "last-modified", "age")


class OfflineMiss(IndexError_):
    """Offline, and no stored copy of the page exists."""


@dataclass(frozen=True)
class Stored:
    """One cached response: ``url`` as asked (credential-free), ``final_url`` after redirects."""

    url: str
    accept: str
    final_url: str
    headers: Mapping[str, str]
    received: float  # our clock (seconds since the epoch) when the response (or its 304) arrived
    body: bytes

    def fetched(self) -> Fetched:
        return Fetched(url=self.final_url, status=200, headers=dict(self.headers), body=self.body)


def cache_key(url: str, accept: str) -> str:
    clean = strip_credentials(url)[0]
    return hashlib.sha256(f"{clean}\n{accept}".encode()).hexdigest()


def directives(cache_control: str) -> dict[str, Optional[str]]:
    """``Cache-Control`` as ``{name: value or None}``, names in lower case."""
    found: dict[str, Optional[str]] = {}
    for item in cache_control.split(","):
        name, sep, value = item.strip().partition("=")
        if name:
            found[name.strip().lower()] = value.strip().strip('"') if sep else None
    return found


def lifetime(headers: Mapping[str, str]) -> Optional[float]:
    """Seconds the response is fresh for after it was made; None when the server gives no lifetime."""
    given = directives(headers.get("cache-control", ""))
    for name in ("max-age", "s-maxage"):
        if name in given:
            value = given[name] or ""
            return float(value) if value.isdigit() else 0.0  # an invalid lifetime means stale
    if "expires" in headers:
        expires = _http_date(headers["expires"])
        date = _http_date(headers.get("date", ""))
        if expires is None or date is None:
            return 0.0
        return max(0.0, expires - date)
    return None


def age(stored: Stored, now: float) -> float:
    """The response's age now: its ``Age`` when it arrived plus the time it has spent here."""
    given = stored.headers.get("age", "").strip()
    initial = float(given) if given.isdigit() else 0.0
    return initial + max(0.0, now - stored.received)


def is_fresh(stored: Stored, now: float) -> bool:
    given = directives(stored.headers.get("cache-control", ""))
    if "no-cache" in given or "no-store" in given:
        return False
    seconds = lifetime(stored.headers)
    return seconds is not None and seconds > age(stored, now)


def _http_date(text: str) -> Optional[float]:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _no_store(headers: Mapping[str, str]) -> bool:
    return "no-store" in directives(headers.get("cache-control", ""))


class PageCache:
    """Simple-API pages on disk under ``root``; safe to share between threads and processes."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], float] = time.time,
        prepare: Optional[Callable[[], None]] = None,
        background: bool = False,
    ) -> None:
        self.root = Path(root)
        self._clock = clock
        self._prepare = prepare
        self._prepared = False
        # Writing behind: a fetch returns as soon as its body is in memory and one thread writes the
        # entries, in order (so a discard queued after a save wins). Until written, an entry is
        # answered from memory; the writer thread is joined at interpreter exit, or by flush().
        self._background = background
        self._pending: dict[Path, Optional[Stored]] = {}  # None: to be removed
        self._pending_lock = threading.Lock()
        self._writer: Optional[ThreadPoolExecutor] = None

    @classmethod
    def of(cls, cache: Cache) -> PageCache:
        """The page cache inside lading's cache (created, with its CACHEDIR.TAG, on first write),
        written behind the fetches."""
        return cls(cache.http(), prepare=cache.ensure, background=True)

    def __repr__(self) -> str:
        return f"PageCache({str(self.root)!r})"

    def path(self, url: str, accept: str) -> Path:
        key = cache_key(url, accept)
        return self.root / key[:2] / key

    # --- the protocol ---------------------------------------------------------------------------

    def fetch(self, client: HttpClient, url: str, *, accept: str, offline: bool = False) -> Fetched:
        """``client.fetch(url, accept=accept)`` through the cache.

        Fresh: the stored page, no request. Stale: a conditional request; 304 refreshes and reuses
        the stored page. ``offline``: the stored page however old, else :class:`OfflineMiss`.
        ``file://`` URLs are read directly (a local read is as cheap as the cache).
        """
        clean = strip_credentials(url)[0]
        if urlsplit(clean).scheme.lower() == "file":
            return client.fetch(url, accept=accept)
        stored = self.load(clean, accept)
        if offline:
            if stored is None:
                raise OfflineMiss(
                    f"offline, and the cache holds no copy of {redact(clean)}",
                    hint="run once online to fill the cache, or give the files with --find-links",
                )
            return stored.fetched()
        if stored is not None and is_fresh(stored, self._clock()):
            log.debug("%s: fresh in the cache", clean)
            return stored.fetched()
        validators = _validators(stored) if stored is not None else {}
        fetched = client.fetch(url, accept=accept, headers=validators or None)
        received = self._clock()
        if fetched.status == 304:
            if stored is None:  # only possible if the client sent validators of its own
                raise IndexError_(f"{redact(clean)} answered 304 to an unconditional request")
            headers = {k: v for k, v in stored.headers.items() if k != "age"}
            headers.update({k: fetched.headers[k] for k in _REVALIDATED if k in fetched.headers})
            refreshed = replace(stored, headers=headers, received=received)
            self._keep(refreshed)
            log.debug("%s: not modified", clean)
            return refreshed.fetched()
        self._keep(
            Stored(
                url=clean,
                accept=accept,
                final_url=strip_credentials(fetched.url)[0],
                headers={k: fetched.headers[k] for k in KEPT_HEADERS if k in fetched.headers},
                received=received,
                body=fetched.body,
            )
        )
        return fetched

    def _keep(self, stored: Stored) -> None:
        if _no_store(stored.headers):
            self.discard(stored.url, stored.accept)
        else:
            self.save(stored)

    # --- entries --------------------------------------------------------------------------------

    def load(self, url: str, accept: str) -> Optional[Stored]:
        """The stored response, or None when there is none or it does not check out."""
        path = self.path(url, accept)
        with self._pending_lock:
            if path in self._pending:
                return self._pending[path]
        try:
            data = path.read_bytes()
        except OSError:
            return None
        stored = _decode(data)
        if stored is None or stored.url != strip_credentials(url)[0] or stored.accept != accept:
            log.debug("ignoring the damaged cache entry %s", path)
            return None
        return stored

    def save(self, stored: Stored) -> None:
        """Store (temp file + rename); a cache that cannot be written is only a slower run."""
        path = self.path(stored.url, stored.accept)
        if not self._background:
            self._write(path, stored)
            return
        with self._pending_lock:
            self._pending[path] = stored
            writer = self._writer_pool()
        writer.submit(self._write_pending, path, stored)

    def flush(self) -> None:
        """Wait until every entry saved so far is on disk."""
        with self._pending_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    def _writer_pool(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lading-cache-writer")
        return self._writer

    def _write_pending(self, path: Path, stored: Stored) -> None:
        with self._pending_lock:
            if self._pending.get(path) is not stored:
                return  # saved again or discarded since
        try:
            self._write(path, stored)
        finally:
            with self._pending_lock:
                if self._pending.get(path) is stored:
                    del self._pending[path]

    def _write(self, path: Path, stored: Stored) -> None:
        # The cache's temp prefix, so ``lading cache prune`` removes what a killed run left.
        temp = path.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            if self._prepare is not None and not self._prepared:
                self._prepare()
                self._prepared = True
            data = _encode(stored)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Plain descriptors: a buffered file object adds system calls (fstat, isatty), and each gives
            # up the interpreter lock that a writer behind busy resolver threads waits to get back.
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
            finally:
                os.close(handle)
            os.replace(temp, path)
        except (OSError, LadingError) as exc:
            log.debug("cannot store %s in the cache: %s", stored.url, exc)
        finally:
            with suppress(OSError):
                temp.unlink()

    def discard(self, url: str, accept: str) -> None:
        path = self.path(url, accept)
        if not self._background:
            self._unlink(path)
            return
        with self._pending_lock:
            self._pending[path] = None
            writer = self._writer_pool()
        writer.submit(self._unlink_pending, path)  # after any write of it already queued

    def _unlink_pending(self, path: Path) -> None:
        try:
            self._unlink(path)
        finally:
            with self._pending_lock:
                if path in self._pending and self._pending[path] is None:
                    del self._pending[path]

    @staticmethod
    def _unlink(path: Path) -> None:
        with suppress(OSError):
            path.unlink()


def _validators(stored: Stored) -> dict[str, str]:
    found: dict[str, str] = {}
    if stored.headers.get("etag"):
        found["If-None-Match"] = stored.headers["etag"]
    if stored.headers.get("last-modified"):
        found["If-Modified-Since"] = stored.headers["last-modified"]
    return found


def _encode(stored: Stored) -> bytes:
    header = {
        "url": stored.url,
        "accept": stored.accept,
        "final_url": stored.final_url,
        "headers": dict(stored.headers),
        "received": stored.received,
        "size": len(stored.body),
        "sha256": hashlib.sha256(stored.body).hexdigest(),
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + stored.body


def _decode(data: bytes) -> Optional[Stored]:
    if not data.startswith(MAGIC):
        return None
    line, sep, body = data[len(MAGIC):].partition(b"\n")
    if not sep:
        return None
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    url, accept, final_url = header.get("url"), header.get("accept"), header.get("final_url")
    headers, received = header.get("headers"), header.get("received")
    if not (isinstance(url, str) and isinstance(accept, str) and isinstance(final_url, str)):
        return None
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        return None
    if not isinstance(received, (int, float)) or isinstance(received, bool):
        return None
    if header.get("size") != len(body) or header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None  # torn or edited
    return Stored(url, accept, final_url, headers, float(received), body)
