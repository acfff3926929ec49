"""Getting bytes from an index: HTTP(S) through urllib3 with retries and credentials, or a
``file://`` tree.

Credentials come from the index URL's user part, else ``~/.netrc`` (``$NETRC``); they are sent as a
header and never kept in a URL that could reach a message. Certificates are the system's, or the
bundle named by ``PIP_CERT`` / ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``.

:class:`Fetched` carries the response headers so an on-disk cache (ETag / ``If-None-Match``) can be
put in front of :meth:`HttpClient.fetch` later without changing the callers.
"""

from __future__ import annotations

import logging
import netrc
import os
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import urllib3
from urllib3.util.retry import Retry

from lading.errors import IndexError_
from lading.index.config import redact, redact_text

log = logging.getLogger("lading.index")

_CA_BUNDLE_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
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


def ssl_context(environ: Mapping[str, str] = os.environ) -> ssl.SSLContext:
    for variable in _CA_BUNDLE_VARIABLES:
        bundle = environ.get(variable)
        if bundle and Path(bundle).exists():
            if Path(bundle).is_dir():
                return ssl.create_default_context(capath=bundle)
            return ssl.create_default_context(cafile=bundle)
    return ssl.create_default_context()


class HttpClient:
    """Thread-safe GETs with retries, timeouts and per-host credentials. One per run."""

    def __init__(
        self,
        *,
        retries: int = 5,
        backoff_factor: float = 0.5,
        timeout: float = 30.0,
        max_connections: int = 8,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._retry = _CappedRetry(
            total=retries,
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
        self._credentials: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._netrc: Optional[netrc.netrc] = None
        self._netrc_loaded = False

    def remember(self, url: str) -> str:
        """Keep the URL's credentials for its host; returns the URL without them."""
        clean, credentials = strip_credentials(url)
        if credentials is not None:
            with self._lock:
                self._credentials[_host_key(clean)] = credentials
        return clean

    def fetch(
        self, url: str, *, accept: str, headers: Optional[Mapping[str, str]] = None
    ) -> Fetched:
        """GET ``url``; 404 raises :class:`NotFound`, other failures :class:`IndexError_`."""
        url = self.remember(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return fetch_file(url)
        if scheme not in ("http", "https"):
            raise IndexError_(
                f"unsupported URL scheme {scheme!r} in {redact(url)}",
                hint="indexes must be http://, https:// or file:// URLs",
            )
        request_headers = {"Accept": accept, "User-Agent": "lading"}
        request_headers.update(self._auth_header(url))
        request_headers.update(headers or {})
        try:
            response = self._pool.request(
                "GET", url, headers=request_headers, preload_content=True, redirect=True
            )
        except urllib3.exceptions.HTTPError as exc:
            raise IndexError_(
                f"cannot reach {redact(url)}: {redact_text(_reason(exc))}",
                hint="check the network, proxy and the index URL; retried "
                f"{self._retry.total} times",
            ) from None
        final = response.url or url
        fetched = Fetched(
            url=final if "://" in final else url,
            status=response.status,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.data or b"",
        )
        _check_status(fetched, url)
        return fetched

    def _auth_header(self, url: str) -> dict[str, str]:
        credentials = self._credentials.get(_host_key(url)) or self._from_netrc(url)
        if credentials is None:
            return {}
        user, password = credentials
        return dict(urllib3.util.make_headers(basic_auth=f"{user}:{password}"))

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


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{parts.port or ''}"


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
            hint="give credentials in the index URL (https://user:${TOKEN}@host/...) "
            "or in ~/.netrc",
        )
    raise IndexError_(
        f"{redact(url)} answered {status}",
        hint="the index may be down; try again later or use another index with --index-url",
    )


def fetch_file(url: str) -> Fetched:
    """A ``file://`` URL: a directory means its ``index.html`` (as pip reads local indexes)."""
    path = Path(url2pathname(urlsplit(url).path))
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
