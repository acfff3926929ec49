"""Getting every artifact of an install into the cache, verified, in parallel.

:func:`fetch_all` takes :class:`Download` s (a URL or a local path, the file name, the lock's hashes,
the size when known) and returns where each one is in the cache. For each:

1. a complete cache entry under its sha256 is used as is (content-addressed: the name is the
   proof; ``lading cache verify`` re-hashes everything when in doubt);
2. else a file of that name in a ``--find-links`` directory is copied in, hashed;
3. else (not offline) the URL is streamed, or the local path copied, into a temp file inside the
   archives bucket while every given hash is computed;

and only a file whose size and hashes all match is renamed into place. Failures of a batch are
collected and raised together once every download has ended, with the temp files gone; the
caller installs nothing unless the whole batch succeeded.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Optional, Protocol, Union
from urllib.parse import urlsplit

from lading._fs import file_url_path
from lading.cache import ARCHIVES, Cache, is_sha256
from lading.errors import IndexError_, LadingError, disk_full
from lading.index.config import redact
from lading.model import SUPPORTED_HASHES

if TYPE_CHECKING:  # the HTTP stack (urllib3) is imported only when something is downloaded
    from lading.index.http import HttpClient, TruncatedBody

_CHUNK_SIZE = 256 * 1024

log = logging.getLogger("lading.fetch")

DEFAULT_JOBS = 8
_MAX_BACKOFF = 10.0


class FetchError(LadingError):
    """One artifact could not be obtained (unreachable, missing, unreadable)."""


class HashMismatchError(FetchError):
    """The bytes obtained are not the ones the lock names (hash or size differ)."""


class OfflineMissingError(FetchError):
    """``--offline`` and some files are neither in the cache nor in a ``--find-links`` directory."""


class BatchFailedError(FetchError):
    """Several downloads of one batch failed; ``failures`` has each error."""

    def __init__(self, failures: Sequence[LadingError], total: int) -> None:
        lines = "\n".join(f"  - {_indent(str(f))}" for f in failures)
        super().__init__(
            f"{len(failures)} of {total} downloads failed; nothing was installed:\n{lines}",
            hint="fix the causes above and run the same command again; files that arrived are "
            "kept in the cache",
        )
        self.failures = tuple(failures)


@dataclass(frozen=True)
class Download:
    """One artifact to bring into the cache.

    ``hashes``: (algorithm, hex) pairs as the lock gives them; build from a mapping with
    :meth:`of`. ``url`` may be ``file://``; ``path`` is a local archive (absolute, or relative
    to the working directory). ``label`` names the package for messages: ``"flask 3.1.3"``.
    """

    filename: str
    hashes: tuple[tuple[str, str], ...] = ()
    url: Optional[str] = None
    path: Optional[Path] = None
    size: Optional[int] = None
    label: str = ""

    @classmethod
    def of(
        cls,
        filename: str,
        hashes: Mapping[str, str],
        *,
        url: Optional[str] = None,
        path: Optional[Union[str, Path]] = None,
        size: Optional[int] = None,
        label: str = "",
    ) -> Download:
        pairs = tuple(sorted((alg.lower().replace("-", "_"), value.lower()) for alg, value in hashes.items()))
        return cls(filename, pairs, url, Path(path) if path is not None else None, size, label)

    @property
    def hash_map(self) -> dict[str, str]:
        return dict(self.hashes)

    @property
    def sha256(self) -> Optional[str]:
        value = self.hash_map.get("sha256")
        return value if value is not None and is_sha256(value) else None

    @property
    def source(self) -> str:
        """The URL (credentials hidden) or path, for messages."""
        if self.url is not None:
            return redact(self.url)
        return str(self.path) if self.path is not None else "(no source)"


class Progress(Protocol):
    """What a progress display is told; calls come from one thread at a time."""

    def started(self, total_files: int, total_bytes: int) -> None: ...

    #: ``size`` bytes more arrived; negative when a broken-off download starts over.
    def advanced(self, size: int) -> None: ...

    def file_done(self, label: str) -> None: ...

    def finished(self) -> None: ...


class NoProgress:
    """The silent :class:`Progress`."""

    def started(self, total_files: int, total_bytes: int) -> None:
        pass

    def advanced(self, size: int) -> None:
        pass

    def file_done(self, label: str) -> None:
        pass

    def finished(self) -> None:
        pass


class _Serialized:
    """Makes any Progress safe to call from the download threads."""

    def __init__(self, inner: Progress) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def started(self, total_files: int, total_bytes: int) -> None:
        with self._lock:
            self._inner.started(total_files, total_bytes)

    def advanced(self, size: int) -> None:
        with self._lock:
            self._inner.advanced(size)

    def file_done(self, label: str) -> None:
        with self._lock:
            self._inner.file_done(label)

    def finished(self) -> None:
        with self._lock:
            self._inner.finished()


@dataclass(frozen=True)
class _Missing:
    download: Download
    looked: tuple[str, ...]


@dataclass
class _Run:
    cache: Cache
    client: Optional[HttpClient]
    offline: bool
    find_links: tuple[Path, ...]
    progress: _Serialized
    cancelled: threading.Event = field(default_factory=threading.Event)


def fetch_all(
    downloads: Iterable[Download],
    cache: Cache,
    client: Optional[HttpClient] = None,
    *,
    jobs: int = DEFAULT_JOBS,
    offline: bool = False,
    find_links: Sequence[Union[str, Path]] = (),
    progress: Optional[Progress] = None,
    on_fetched: Optional[Callable[[Download, Path], object]] = None,
    client_factory: Optional[Callable[[], HttpClient]] = None,
) -> dict[Download, Path]:
    """Every download's verified file in the cache (``archives-v1/<aa>/<sha256>/<filename>``).

    ``on_fetched`` runs in the worker thread as soon as a download is verified (not for cache hits), so
    the caller can unpack while other downloads are still streaming; its LadingError fails that download.

    Raises :class:`HashMismatchError`, :class:`OfflineMissingError` or :class:`FetchError` when one
    download fails, :class:`BatchFailedError` (listing each) when several do; always after every
    download has ended, with no temp files left. ``client`` may be None when ``offline``; without one,
    ``client_factory`` (for example one that knows the indexes' credentials) makes it when needed.
    """
    wanted = list(dict.fromkeys(downloads))
    if client is None and not offline and not all(_cached(cache, d) is not None for d in wanted):
        # made only when something is downloaded: a warm run never imports the HTTP stack
        from lading.index.tls import prepare

        prepare()  # the CA bundle loads on another core while the HTTP stack is imported
        if client_factory is not None:
            client = client_factory()
        else:
            from lading.index.http import HttpClient

            client = HttpClient(max_connections=jobs)
    run = _Run(
        cache=cache,
        client=client,
        offline=offline,
        find_links=tuple(_as_dir(d) for d in find_links),
        progress=_Serialized(progress or NoProgress()),
    )
    done: dict[Download, Path] = {}
    to_get: list[Download] = []
    for download in wanted:
        hit = _cached(cache, download)
        if hit is not None:
            done[download] = hit
        else:
            to_get.append(download)
    # largest first: the longest download (and its unpacking, via ``on_fetched``) is the critical path
    to_get.sort(key=lambda d: -(d.size or 0))
    run.progress.started(len(to_get), sum(d.size or 0 for d in to_get))
    failures: list[LadingError] = []
    missing: list[_Missing] = []
    with cache.using():
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(to_get) or 1))) as pool:
                try:
                    futures = [(d, pool.submit(_obtain_then, run, d, on_fetched)) for d in to_get]
                    for download, future in futures:
                        try:
                            outcome = future.result()
                        except LadingError as exc:
                            failures.append(exc)
                            continue
                        if isinstance(outcome, _Missing):
                            missing.append(outcome)
                        else:
                            done[download] = outcome
                            run.progress.file_done(download.label or download.filename)
                except BaseException:
                    # Ctrl-C: queued downloads never start, running ones stop at their next chunk
                    # (their temp dirs go), so the interrupt does not wait for whole downloads.
                    run.cancelled.set()
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        finally:
            run.progress.finished()
    if missing:
        failures.insert(0, _offline_error(missing, cache))
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise BatchFailedError(failures, len(wanted))
    return {d: done[d] for d in wanted}


def _cached(cache: Cache, download: Download) -> Optional[Path]:
    """The cheap path: a complete entry under the lock's sha256 is trusted (it is content-addressed)."""
    sha256 = download.sha256
    if sha256 is None:
        return None
    path = cache.archive(sha256, download.filename)
    if cache.is_complete(path):
        cache.mark_used(path)
        return path
    return None


def _obtain_then(
    run: _Run, download: Download, then: Optional[Callable[[Download, Path], object]]
) -> Union[Path, _Missing]:
    outcome = _obtain(run, download)
    if then is not None and isinstance(outcome, Path) and not run.cancelled.is_set():
        then(download, outcome)
    return outcome


def _obtain(run: _Run, download: Download) -> Union[Path, _Missing]:
    if run.cancelled.is_set():
        raise FetchError("cancelled", package=download.label or None)
    sha256 = download.sha256
    if sha256 is None:
        return _obtain_unkeyed(run, download)
    final = run.cache.archive(sha256, download.filename)
    with run.cache.locked(final):
        # Another process may have finished it while this one waited for the lock.
        if run.cache.is_complete(final):
            run.cache.mark_used(final)
            return final
        renamed = run.cache.add_name(sha256, download.filename)
        if renamed is not None:
            return renamed
        with run.cache.staging(ARCHIVES) as temp:
            got = _into(run, download, temp / download.filename)
            if isinstance(got, _Missing):
                return got
            return run.cache.publish(temp, final.parent) / download.filename


def _obtain_unkeyed(run: _Run, download: Download) -> Union[Path, _Missing]:
    """No sha256 in the lock: hash first, then publish under the hash the bytes have."""
    with run.cache.staging(ARCHIVES) as temp:
        got = _into(run, download, temp / download.filename)
        if isinstance(got, _Missing):
            return got
        final = run.cache.archive(got, download.filename)
        with run.cache.locked(final):
            if run.cache.is_complete(final):
                return final
            renamed = run.cache.add_name(got, download.filename)
            if renamed is not None:
                return renamed
            return run.cache.publish(temp, final.parent) / download.filename


def _into(run: _Run, download: Download, target: Path) -> Union[str, _Missing]:
    """Write the verified bytes to ``target``; returns their sha256, or what was looked at when offline."""
    looked: list[str] = [str(run.cache.archive(download.sha256, download.filename))] if download.sha256 else []
    for directory in run.find_links:
        candidate = directory / download.filename
        looked.append(str(candidate))
        if candidate.is_file():
            return _copy_verified(run, download, candidate, target, str(candidate))
    local = _local_path(download)
    if local is not None:
        # A local file is not "the network": offline installs of path sources work.
        return _copy_verified(run, download, local, target, download.source)
    if run.offline:
        shown = f"not downloaded from {download.source} (--offline)" if download.url else "no URL known"
        return _Missing(download, (*looked, shown))
    if download.url is None:
        raise FetchError(
            f"{download.filename}: no URL or path to get it from",
            package=download.label or None,
            hint="the lock names this file without a location; complete it from an index first, "
            "or pass --find-links with a directory holding the file",
        )
    return _download_verified(run, download, target)


def _local_path(download: Download) -> Optional[Path]:
    if download.path is not None:
        return download.path
    if download.url is not None and urlsplit(download.url).scheme.lower() == "file":
        return file_url_path(urlsplit(download.url).path)
    return None


def _copy_verified(run: _Run, download: Download, source: Path, target: Path, shown: str) -> str:
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise FetchError(
            f"{download.filename}: cannot read {shown}: {exc.strerror}",
            package=download.label or None,
            hint="check that the file exists and is readable",
        ) from None
    with handle:
        return _write_verified(run, download, _read_chunks(handle), target, shown)


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: handle.read(_CHUNK_SIZE), b"")


def _download_verified(run: _Run, download: Download, target: Path) -> str:
    from lading.index.http import NotFound

    assert run.client is not None and download.url is not None
    client = run.client
    attempts = client.retries + 1
    for attempt in range(attempts):
        if run.cancelled.is_set():
            raise FetchError("cancelled", package=download.label or None)
        try:
            with client.stream(download.url, accept="*/*") as response:
                return _write_verified(
                    run, download, response.chunks(), target, download.source, announced=response.length
                )
        except NotFound:
            raise FetchError(
                f"{download.filename}: {download.source} answered 404 Not Found",
                package=download.label or None,
                hint="the file is gone from the index (deleted or moved); re-lock, or point "
                "--index-url at a mirror that still has it",
            ) from None
        except _Truncated as exc:
            if attempt + 1 >= attempts:
                raise exc.error from None
            run.progress.advanced(-exc.written)  # the file was removed; count it again from zero
            log.info("retrying %s after a broken-off download", download.source)
            time.sleep(min(client.backoff_factor * (2**attempt), _MAX_BACKOFF))
        except IndexError_ as exc:
            raise FetchError(
                f"{download.filename}: {exc.why}", package=download.label or None, hint=exc.hint
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


class _Truncated(Exception):
    """Internal: the body ended early; carries the error to report if no retry is left."""

    def __init__(self, error: LadingError, written: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.written = written


def _write_verified(
    run: _Run,
    download: Download,
    chunks: Iterator[bytes],
    target: Path,
    shown: str,
    *,
    announced: Optional[int] = None,
) -> str:
    """Stream into ``target`` hashing as it goes; the file stays only if size and every hash match."""
    from lading.index.http import TruncatedBody

    expected = _checked_hashes(download)
    digests = {alg: hashlib.new(alg) for alg in {"sha256", *expected}}
    written = 0
    ok = False
    try:
        try:
            out = target.open("wb")
        except OSError as exc:
            raise _disk_full_or(exc, run, download) from None
        with out:
            try:
                for chunk in chunks:
                    if run.cancelled.is_set():
                        raise FetchError("cancelled", package=download.label or None)
                    out.write(chunk)
                    for digest in digests.values():
                        digest.update(chunk)
                    written += len(chunk)
                    run.progress.advanced(len(chunk))
            except TruncatedBody as exc:
                raise _Truncated(_broken_off(download, exc, written, announced), written) from None
            except OSError as exc:
                raise _disk_full_or(exc, run, download) from None
            try:
                out.flush()
            except OSError as exc:
                raise _disk_full_or(exc, run, download) from None
        actual = {alg: d.hexdigest() for alg, d in digests.items()}
        wrong = [alg for alg, value in expected.items() if actual[alg] != value]
        size_wrong = download.size is not None and written != download.size
        if wrong or size_wrong:
            error = _mismatch(download, shown, expected, actual, written, wrong)
            if download.size is not None and written < download.size and announced is not None:
                raise _Truncated(error, written)  # shorter than the lock says: worth another try
            raise error
        ok = True
        return actual["sha256"]
    finally:
        if not ok:
            with suppress(FileNotFoundError):
                target.unlink()


def _disk_full_or(exc: OSError, run: _Run, download: Download) -> Exception:
    """A full cache disk as a clear error naming the cache; any other OSError unchanged."""
    full = disk_full(exc, run.cache.root, download.filename)
    return exc if full is None else full.located(package=download.label or None)


def _checked_hashes(download: Download) -> dict[str, str]:
    """Every given hash lading can compute: the supported ones, and weaker ones too rather than none."""
    known = (*SUPPORTED_HASHES, *hashlib.algorithms_guaranteed)
    return {alg: value for alg, value in download.hash_map.items() if alg in known}


def _broken_off(download: Download, exc: TruncatedBody, written: int, announced: Optional[int]) -> FetchError:
    of = f" of {announced}" if announced is not None else ""
    return FetchError(
        f"{download.filename}: the download broke off after {written}{of} bytes, every retry: {exc.why}",
        package=download.label or None,
        hint="the connection to the index (or a proxy) keeps breaking; try again later, lower --jobs, "
        "or point --index-url at a closer mirror",
    )


def _mismatch(
    download: Download,
    shown: str,
    expected: Mapping[str, str],
    actual: Mapping[str, str],
    written: int,
    wrong: Sequence[str],
) -> HashMismatchError:
    alg = wrong[0] if wrong else ("sha256" if "sha256" in expected else next(iter(expected), "sha256"))
    want = expected.get(alg, "(not given)")
    want_size = f" ({download.size} bytes)" if download.size is not None else ""
    why = f"{download.filename} from {shown}: expected {alg} {want}{want_size}, got {actual[alg]} ({written} bytes)"
    if not wrong:
        why = f"{download.filename} from {shown}: expected {download.size} bytes, got {written} bytes"
    if download.size is not None and written < download.size:
        cause = "the download looks truncated (fewer bytes than the lock records)"
    else:
        cause = ("likely causes: a stale mirror or caching proxy serving another file under this name, "
                 "a truncated download, or a lock made for another platform or index")
    return HashMismatchError(
        why,
        package=download.label or None,
        hint=f"{cause}. Nothing was installed and the file was not cached. Next: run again; if it "
        "persists, check the index or proxy (--index-url), and if the file really changed on the "
        "index, re-lock with the tool that made the lock",
    )


def _offline_error(missing: Sequence[_Missing], cache: Cache) -> OfflineMissingError:
    lines = []
    for item in missing:
        d = item.download
        hashed = f"sha256 {d.sha256}" if d.sha256 else "no sha256 in the lock"
        looked = "; ".join(item.looked)
        lines.append(f"  - {d.label or '(unnamed)'}: {d.filename} ({hashed})\n      looked at: {looked}")
    count = len(missing)
    return OfflineMissingError(
        f"--offline: {count} file{'s are' if count != 1 else ' is'} in neither the cache "
        f"({cache.root}) nor a --find-links directory:\n" + "\n".join(lines),
        hint="run the same install online once (it fills the cache), or build a wheelhouse with "
        "these files and pass it with --find-links DIR",
    )


def _as_dir(value: Union[str, Path]) -> Path:
    text = str(value)
    if text.startswith("file:"):
        return file_url_path(urlsplit(text).path)
    return Path(text)


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def copy_into_cache(cache: Cache, source: Path, *, label: str = "") -> Path:
    """Put a local file (a wheel built from an sdist, a wheelhouse file) into the archives bucket."""
    download = Download.of(source.name, {}, path=source, label=label)
    return fetch_all([download], cache, None, offline=True)[download]


__all__ = [
    "DEFAULT_JOBS",
    "BatchFailedError",
    "Download",
    "FetchError",
    "HashMismatchError",
    "NoProgress",
    "OfflineMissingError",
    "Progress",
    "copy_into_cache",
    "fetch_all",
]
