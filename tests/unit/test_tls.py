"""Trusting servers: the CA bundle the environment names, made ahead of need, against a real HTTPS server."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lading.cache import Cache
from lading.errors import IndexError_
from lading.fetch import Download, fetch_all
from lading.index import tls
from lading.index.http import HttpClient

BODY = b"served over TLS\n" * 1000


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl program) and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl program is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    _self_signed("127.0.0.1", key, cert, "-addext", "subjectAltName=IP:127.0.0.1")
    return cert, key


def _self_signed(name: str, key: Path, cert: Path, *extra: str) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={name}", *extra, "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_url(certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(environ: dict[str, str]) -> HttpClient:
    return HttpClient(retries=0, timeout=5, environ=environ)


def test_a_bundle_named_by_pip_cert_is_trusted(https_url: str, certificate: tuple[Path, Path]) -> None:
    fetched = _client({"PIP_CERT": str(certificate[0])}).fetch(https_url + "/file", accept="*/*")
    assert fetched.body == BODY


def test_a_server_outside_the_trusted_bundle_is_refused(https_url: str, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    _self_signed("other", tmp_path / "other.key", other)
    with pytest.raises(IndexError_) as caught:
        _client({"SSL_CERT_FILE": str(other)}).fetch(https_url + "/file", accept="*/*")
    assert "certificate" in str(caught.value).lower()


def test_the_variables_are_asked_in_pips_order(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    # PIP_CERT wins over the others, so the broken bundle it names is the one refused
    with pytest.raises(IndexError_) as caught:
        tls.ssl_context({"PIP_CERT": str(garbage), "SSL_CERT_FILE": str(certificate[0])})
    assert "PIP_CERT" in str(caught.value)
    # a variable naming nothing that exists is passed over
    context = tls.ssl_context({"PIP_CERT": str(tmp_path / "missing.pem"), "SSL_CERT_FILE": str(certificate[0])})
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_bad_bundle_is_a_clear_error_naming_file_and_variable(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(IndexError_) as caught:
        tls.ssl_context({"REQUESTS_CA_BUNDLE": str(garbage)})
    error = caught.value
    assert error.file == str(garbage)
    assert "REQUESTS_CA_BUNDLE" in str(error) and error.hint and "REQUESTS_CA_BUNDLE" in error.hint


def test_a_prepared_bad_bundle_fails_where_the_context_is_asked_for(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    environ = {"PIP_CERT": str(garbage)}
    pending = tls.prepare(environ)
    assert isinstance(pending.exception(timeout=10), IndexError_)  # kept, not raised on the thread
    with pytest.raises(IndexError_, match="PIP_CERT"):
        tls.ssl_context(environ)


def test_a_prepared_context_is_handed_out_once(https_url: str, certificate: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    shutil.copyfile(certificate[0], bundle)
    environ = {"PIP_CERT": str(bundle)}
    tls.prepare(environ).result(timeout=10)
    bundle.write_text("replaced by garbage after the context was prepared\n")
    # the prepared context (loaded before the file changed) serves the first client...
    assert _client(environ).fetch(https_url + "/file", accept="*/*").body == BODY
    # ...and is not reused: the next one reads the bundle as it is now
    with pytest.raises(IndexError_, match="not a usable certificate bundle"):
        tls.ssl_context(environ)


def test_a_download_over_https_uses_the_named_bundle(https_url: str, certificate: tuple[Path, Path],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CERT", str(certificate[0]))
    download = Download.of("served-1.0.tar.gz", {"sha256": hashlib.sha256(BODY).hexdigest()},
                           url=https_url + "/served-1.0.tar.gz", size=len(BODY), label="served 1.0")
    fetched = fetch_all([download], Cache(tmp_path / "cache"))  # no client given: fetch_all makes one
    assert fetched[download].read_bytes() == BODY
