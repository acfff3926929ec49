"""The TLS context HTTPS requests verify servers with, made ahead of need.

Loading a CA bundle takes about 20 ms, and OpenSSL does it without holding the interpreter lock. As soon as
:func:`lading.fetch.fetch_all` knows something must be downloaded it calls :func:`prepare`, then imports the
HTTP stack (30 ms of urllib3 and http.client) while the bundle loads on the other core; the HTTP client
takes the ready context. Kept out of :mod:`lading.index.http` so that preparing imports nothing more.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Optional

from lading.errors import IndexError_

#: Checked in this order; the first naming an existing file or directory is the trust store.
CA_BUNDLE_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")

_Source = tuple[Optional[str], Optional[str], str]  # (cafile, capath, variable naming it); no file: the system's

_lock = threading.Lock()
_prepared: dict[_Source, Future[ssl.SSLContext]] = {}


def ssl_context(environ: Mapping[str, str] = os.environ) -> ssl.SSLContext:
    """A context trusting the bundle the environment names, else the system's certificates.

    A prepared one is handed out once (a later call makes a new one: the bundle may have changed since).
    """
    source = _source(environ)
    with _lock:
        pending = _prepared.pop(source, None)
    if pending is not None:
        return pending.result()  # an error loading the bundle is raised here, where the caller expects it
    return _make(source)


def prepare(environ: Mapping[str, str] = os.environ) -> Future[ssl.SSLContext]:
    """Start making the context :func:`ssl_context` will return, on a daemon thread (returned as a future
    that nobody needs to wait for)."""
    source = _source(environ)
    with _lock:
        pending = _prepared.get(source)
        if pending is not None:
            return pending
        future: Future[ssl.SSLContext] = Future()
        _prepared[source] = future

    def make() -> None:
        try:
            future.set_result(_make(source))
        except BaseException as error:  # given to whoever asks for the context
            future.set_exception(error)

    threading.Thread(target=make, name="lading-tls", daemon=True).start()
    return future


def _source(environ: Mapping[str, str]) -> _Source:
    for variable in CA_BUNDLE_VARIABLES:
        bundle = environ.get(variable)
        if bundle and Path(bundle).exists():
            return (None, bundle, variable) if Path(bundle).is_dir() else (bundle, None, variable)
    return (None, None, "")


def _make(source: _Source) -> ssl.SSLContext:
    cafile, capath, variable = source
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (ssl.SSLError, OSError) as error:
        if not variable:
            raise IndexError_(
                f"cannot load the system's certificates: {error}",
                hint="reinstall the system's CA certificates (ca-certificates on Debian), or name a bundle "
                "with SSL_CERT_FILE",
            ) from None
        raise IndexError_(
            f"not a usable certificate bundle (named by {variable}): {error}",
            file=cafile or capath,
            hint=f"point {variable} at a PEM file of CA certificates, or unset it to use the system's",
        ) from None
