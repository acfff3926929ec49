"""Getting bytes from an index: HTTP(S) through urllib3 with retries and credentials, or a
``file://`` tree.

Credentials come from the index URL's user part, else the environment
(``LADING_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``, ``LADING_INDEX_USERNAME`` / ``_PASSWORD`` for the
primary index, see :func:`lading.index.config.env_credentials`), else ``~/.netrc`` (``$NETRC``).
They are sent as a header and never kept in a URL, a message, a log line or a cached file.
Certificates are the system's, or the bundle named by ``PIP_CERT`` / ``REQUESTS_CA_BUNDLE`` /
``SSL_CERT_FILE``.

:class:`Fetched` carries the response headers, so :mod:`lading.index.httpcache` can sit in front of
:meth:`HttpClient.fetch` (conditional requests: a 304 is returned, not raised, when asked for).
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Optional
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import urllib3
from urllib3.util.retry import Retry

from lading.errors import IndexError_
from lading.index.config import env_credentials, redact, redact_text
from lading.index.tls import ssl_context

log = logging.getLogger("lading.index")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CONDITIONAL = frozenset({"if-none-match", "if-modified-since"})
#: A server asking for a longer pause than this is treated as asking for this long.
MAX_RETRY_AFTER = 60.0


class NotFound(IndexError_):
    """The index answered 404 (or the ``file://`` path does not exist)."""


@dataclass(frozen=True)
class Fetched:
    """One response: the final URL (after redirects), its headers (lower-case names) and body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class TruncatedBody(IndexError_):
    """The connection ended before the whole body arrived (a reset, or a lying Content-Length)."""


@dataclass(frozen=True)
class Streamed:
    """A response whose body is read in chunks; only valid inside :meth:`HttpClient.stream`."""

    url: str
    status: int
    headers: Mapping[str, str]
    #: The announced body size (``Content-Length``), if any.
    length: Optional[int]
    _chunks: Iterator[bytes]

    def chunks(self) -> Iterator[bytes]:
        return self._chunks


class _CappedRetry(Retry):
    """urllib3's Retry, never sleeping longer than :data:`MAX_RETRY_AFTER` on ``Retry-After``."""

    def get_retry_after(self, response: urllib3.BaseHTTPResponse) -> Optional[float]:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER)


def strip_credentials(url: str) -> tuple[str, Optional[tuple[str, str]]]:
    """The URL without its user part, and that user part as (user, password), percent-decoded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit(SplitResult(parts.scheme, hostport, *parts[2:]))
    return clean, (unquote(user), unquote(password))


class HttpClient:
    """Thread-safe GETs with retries, timeouts and per-host credentials. One per run."""

    def __init__(
        self,
        *,
        retries: Optional[int] = None,
        backoff_factor: float = 0.5,
        timeout: Optional[float] = None,
        max_connections: int = 8,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        # Slow links and tests both need other limits than the defaults, without a flag per command.
        if timeout is None:
            timeout = _env_number(environ, "LADING_HTTP_TIMEOUT", 30.0)
        if retries is None:
            retries = int(_env_number(environ, "LADING_HTTP_RETRIES", 5))
        self._retry = _CappedRetry(
            # Counted per kind, not in total: with retries=0 a redirect must still be followed.
            total=None,
            redirect=10,
            other=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            backoff_max=MAX_RETRY_AFTER,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=max_connections,
            ssl_context=ssl_context(environ),
            timeout=urllib3.Timeout(connect=min(timeout, 15.0), read=timeout),
            retries=self._retry,
        )
        self._environ = environ
        #: Read by callers that retry whole transfers themselves (a body cut short).
        self.retries = retries
        self.backoff_factor = backoff_factor
        #: Host -> credentials from a URL's user part (given once, they apply to the whole host).
        self._credentials: dict[str, tuple[str, str]] = {}
        #: URL prefix (see :func:`_prefix_key`) -> (rank, credentials): rank 0 from a URL, 1 from
        #: the environment. The longest matching prefix wins, so two indexes on one host (one
        #: project each, as some hosted registries do) each get their own credentials.
        self._prefixed: dict[str, tuple[int, tuple[str, str]]] = {}
        #: Host -> environment credentials of an index there, for files on the index's host.
        self._env_hosts: dict[str, tuple[str, str]] = {}
        #: Every index's prefix: another index's environment credentials never go to its URLs.
        self._index_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._netrc: Optional[netrc.netrc] = None
        self._netrc_loaded = False

    def remember(self, url: str) -> str:
        """Keep the URL's credentials for its host; returns the URL without them."""
        clean, credentials = strip_credentials(url)
        if credentials is not None:
            with self._lock:
                self._credentials[_host_key(clean)] = credentials
                self._prefixed[_prefix_key(clean)] = (0, credentials)
        return clean

    def remember_index(self, url: str, *, name: Optional[str] = None, primary: bool = False) -> str:
        """:meth:`remember` for an index base URL, adding credentials from the environment when the
        URL has none: ``LADING_INDEX_<NAME>_USERNAME``/``_PASSWORD`` for the index the lock calls
        ``name``, ``LADING_INDEX_USERNAME``/``_PASSWORD`` for the ``primary`` one."""
        clean, credentials = strip_credentials(url)
        if credentials is not None:
            return self.remember(url)
        found = env_credentials(name, self._environ, primary=primary)
        with self._lock:
            self._index_prefixes.add(_prefix_key(clean))
        if found is not None:
            with self._lock:
                prefix = _prefix_key(clean)
                existing = self._prefixed.get(prefix)
                if existing is None or existing[0] >= 1:  # never over a URL's own user part
                    self._prefixed[prefix] = (1, found)
                self._env_hosts.setdefault(_host_key(clean), found)
        return clean

    def fetch(
        self, url: str, *, accept: str, headers: Optional[Mapping[str, str]] = None
    ) -> Fetched:
        """GET ``url``; 404 raises :class:`NotFound`, other failures :class:`IndexError_`.

        A conditional request (``If-None-Match`` / ``If-Modified-Since`` in ``headers``) may come
        back as status 304 with an empty body; the caller holds the body it already has.
        """
        url = self.remember(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return fetch_file(url)
        response = self._request(url, accept, headers, preload=True)
        final = response.url or url
        fetched = Fetched(
            url=final if "://" in final else url,
            status=response.status,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.data or b"",
        )
        conditional = any(name.lower() in _CONDITIONAL for name in headers or {})
        if fetched.status == 304 and conditional:
            return fetched
        _check_status(fetched, url)
        return fetched

    @contextmanager
    def stream(
        self, url: str, *, accept: str = "*/*", headers: Optional[Mapping[str, str]] = None
    ) -> Iterator[Streamed]:
        """GET ``url`` without reading the body; iterate :meth:`Streamed.chunks` inside the block.

        Connection failures and retryable statuses are retried as for :meth:`fetch` (before the
        body starts). A body that ends early raises :class:`TruncatedBody` from ``chunks()``; the
        caller decides whether to start over. The body is not content-decoded: an archive served
        with ``Content-Encoding: gzip`` is stored as the bytes the lock's hash covers.
        """
        url = self.remember(url)
        if urlsplit(url).scheme.lower() == "file":
            path = _file_url_path(url)
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                raise NotFound(f"{redact(url)} does not exist") from None
            except OSError as exc:
                raise IndexError_(f"cannot read {redact(url)}: {exc.strerror}") from None
            with handle:
                size = os.fstat(handle.fileno()).st_size
                yield Streamed(path.as_uri(), 200, {}, size, _file_chunks(handle, url))
            return
        request_headers = {"Accept-Encoding": "identity", **(headers or {})}
        response = self._request(url, accept, request_headers, preload=False)
        complete = False
        try:
            final = response.url or url
            status = Fetched(url=url, status=response.status)
            _check_status(status, url)
            answered = {k.lower(): v for k, v in response.headers.items()}
            yield Streamed(
                url=final if "://" in final else url,
                status=response.status,
                headers=answered,
                length=_content_length(answered),
                _chunks=_response_chunks(response, url),
            )
            complete = True
        finally:
            if complete:
                response.drain_conn()  # normally nothing left: the connection goes back to the pool
                response.release_conn()
            else:
                response.close()  # a body left half-read must not go back to the pool

    def _request(
        self, url: str, accept: str, headers: Optional[Mapping[str, str]], *, preload: bool
    ) -> urllib3.BaseHTTPResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise IndexError_(
                f"unsupported URL scheme {scheme!r} in {redact(url)}",
                hint="indexes must be http://, https:// or file:// URLs",
            )
        request_headers = {"Accept": accept, "User-Agent": "lading"}
        request_headers.update(self._auth_header(url))
        request_headers.update(headers or {})
        try:
            return self._pool.request(
                "GET", url, headers=request_headers, preload_content=preload, redirect=True
            )
        except urllib3.exceptions.HTTPError as exc:
            raise IndexError_(
                f"cannot reach {redact(url)}: {redact_text(_reason(exc))}",
                hint="check the network, proxy and the index URL; retried "
                f"{self.retries} times",
            ) from None

    def _auth_header(self, url: str) -> dict[str, str]:
        credentials = self._credentials_for(url)
        if credentials is None:
            return {}
        user, password = credentials
        return dict(urllib3.util.make_headers(basic_auth=f"{user}:{password}"))

    def _credentials_for(self, url: str) -> Optional[tuple[str, str]]:
        """The index's own (longest URL prefix; a URL's user part before the environment), then the
        host's (user part; the environment's only outside every known index), then ``~/.netrc``."""
        key = _prefix_key(url)
        host = _host_key(url)
        with self._lock:
            matching = [
                (len(prefix), -rank, credentials)
                for prefix, (rank, credentials) in self._prefixed.items()
                if key.startswith(prefix)
            ]
            in_index = any(key.startswith(prefix) for prefix in self._index_prefixes)
            by_host = self._credentials.get(host) or (
                None if in_index else self._env_hosts.get(host)
            )
        if matching:
            return max(matching, key=lambda m: (m[0], m[1]))[2]
        return by_host or self._from_netrc(url)

    def _from_netrc(self, url: str) -> Optional[tuple[str, str]]:
        host = urlsplit(url).hostname
        if not host:
            return None
        with self._lock:
            if not self._netrc_loaded:
                self._netrc = _load_netrc(self._environ)
                self._netrc_loaded = True
        if self._netrc is None:
            return None
        entry = self._netrc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return (login or "", password or "")


def _load_netrc(environ: Mapping[str, str]) -> Optional[netrc.netrc]:
    path = environ.get("NETRC") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".netrc"
    )
    if not os.path.isfile(path):
        return None
    try:
        return netrc.netrc(path)
    except (netrc.NetrcParseError, OSError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return None


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number from the environment; anything else (unset, junk, <= 0) is the default."""
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 or (value == 0 and name.endswith("RETRIES")) else default


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{parts.port or ''}"


def _prefix_key(url: str) -> str:
    """The URL's host and path, ending in ``/``, so ``.../simple`` covers ``.../simple/demo/``."""
    path = urlsplit(url).path.rstrip("/")
    return f"{_host_key(url)}{path}/"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason) if reason is not None else str(exc)


def _check_status(fetched: Fetched, url: str) -> None:
    status = fetched.status
    if 200 <= status < 300:
        return
    if status == 404:
        raise NotFound(f"{redact(url)} answered 404 Not Found")
    if status in (401, 403):
        raise IndexError_(
            f"{redact(url)} refused access ({status})",
            hint="give credentials in the index URL (https://user:${TOKEN}@host/...), in "
            "LADING_INDEX_USERNAME/LADING_INDEX_PASSWORD (LADING_INDEX_<NAME>_USERNAME/_PASSWORD "
            "for an index the lock names) or in ~/.netrc",
        )
    raise IndexError_(
        f"{redact(url)} answered {status}",
        hint="the index may be down; try again later or use another index with --index-url",
    )


#: Bytes read per chunk when streaming a body (pip found 256 kB much faster than 10 kB).
CHUNK_SIZE = 256 * 1024


def _content_length(headers: Mapping[str, str]) -> Optional[int]:
    value = headers.get("content-length", "")
    return int(value) if value.strip().isdigit() else None


def _response_chunks(response: urllib3.BaseHTTPResponse, url: str) -> Iterator[bytes]:
    try:
        yield from response.stream(CHUNK_SIZE, decode_content=False)
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as exc:
        raise TruncatedBody(
            f"the download of {redact(url)} broke off: {redact_text(_reason(exc))}"
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        raise IndexError_(f"reading {redact(url)} failed: {redact_text(_reason(exc))}") from None


def _file_chunks(handle: BinaryIO, url: str) -> Iterator[bytes]:
    try:
        while True:
            chunk = handle.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
    except OSError as exc:
        raise IndexError_(f"cannot read {redact(url)}: {exc.strerror}") from None


def _file_url_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


def fetch_file(url: str) -> Fetched:
    """A ``file://`` URL: a directory means its ``index.html`` (as pip reads local indexes)."""
    path = _file_url_path(url)
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{redact(url)} does not exist") from None
    except OSError as exc:
        raise IndexError_(f"cannot read {redact(url)}: {exc.strerror}") from None
    content_type = "application/vnd.pypi.simple.v1+json" if path.suffix == ".json" else "text/html"
    return Fetched(url=path.as_uri(), status=200, headers={"content-type": content_type}, body=body)


def file_url_exists(url: str) -> bool:
    return Path(url2pathname(urlsplit(url).path)).exists()
