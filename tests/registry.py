"""A real OCI distribution server for tests: Debian's ``docker-registry`` on 127.0.0.1.

``running_registry(tmp)`` starts ``/usr/bin/docker-registry`` (the reference implementation, the
CNCF distribution project) on a free port with its storage in ``tmp``, waits until it
answers, and stops it at the end::

    with running_registry(tmp_path) as registry:              # anonymous push and pull
        push(layout, f"{registry.host}/demo:1")

    with running_registry(tmp_path, users={"alice": "pw"}) as registry:   # htpasswd (Basic)
    with running_registry(tmp_path, users={"alice": "pw"}, token=True) as registry:
        # Bearer tokens from a token server started here too (``registry.token_server``),
        # signed RS256 with a throw-away key whose certificate the registry trusts.

The htpasswd file is bcrypt, which is all the registry accepts; the hash comes from the system's
libcrypt (libxcrypt), so neither ``htpasswd`` (apache2-utils) nor the ``bcrypt`` module is needed.
The token server signs with the ``openssl`` command. :func:`unavailable` says why a registry cannot
be started here (tests ``pytest.skip`` with it).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

REGISTRY = "/usr/bin/docker-registry"
SERVICE = "lading-test-registry"
ISSUER = "lading-test-token-server"


def unavailable() -> Optional[str]:
    """Why no registry can be started here, or None."""
    if not os.access(REGISTRY, os.X_OK):
        return f"{REGISTRY} is not installed (apt-get install docker-registry)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bcrypt_hash(password: str) -> str:
    """A ``$2b$`` bcrypt hash from the system's libcrypt (libxcrypt implements bcrypt)."""
    name = ctypes.util.find_library("crypt")
    if name is None:
        raise RuntimeError("libcrypt not found: cannot write a bcrypt htpasswd file")
    lib = ctypes.CDLL(name)
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed = lib.crypt(password.encode(), salt) if salt else None
    if not hashed or not hashed.startswith(b"$2"):
        raise RuntimeError("this libcrypt cannot make bcrypt hashes")
    return str(hashed.decode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """Issues registry tokens (the distribution token spec) for users checked by Basic auth.

    Anonymous requests get ``pull`` only; a known user gets what the scope asks for. Every request
    is recorded (``requests``: query strings and whether credentials came with it).
    """

    key: Path
    cert: Path
    users: Mapping[str, str]
    port: int = 0
    requests: list[dict[str, object]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def token(self, subject: str, scopes: list[str], *, anonymous: bool) -> str:
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True, capture_output=True,
        ).stdout
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            granted = [a for a in wanted if a == "pull"] if anonymous else wanted
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": f"{now}-{len(self.issued)}", "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(), check=True, capture_output=True,
        ).stdout
        token = f"{signing_input}.{_b64url(signature)}"
        self.issued.append(token)
        return token


def _token_handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            scopes = query.get("scope", [])
            authorization = self.headers.get("Authorization", "")
            server.requests.append({"query": query, "authorized": bool(authorization)})
            anonymous = True
            subject = "anonymous"
            if authorization.startswith("Basic "):
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                if server.users.get(user) != password:
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                anonymous, subject = False, user
            token = server.token(subject, scopes, anonymous=anonymous)
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass
class Registry:
    """A running ``docker-registry``: ``host`` is ``127.0.0.1:PORT`` (what references start with)."""

    port: int
    storage: Path
    process: subprocess.Popen[bytes]
    log: Path
    users: Mapping[str, str] = field(default_factory=dict)
    token_server: Optional[TokenServer] = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the storage holds the blob linked into the repository (read from disk, not HTTP)."""
        algorithm, _, hexdigest = digest.partition(":")
        link = (
            self.storage / "docker/registry/v2/repositories" / repository / "_layers" / algorithm
            / hexdigest / "link"
        )
        return link.is_file()

    def tag_digest(self, repository: str, tag: str) -> Optional[str]:
        link = (
            self.storage / "docker/registry/v2/repositories" / repository / "_manifests/tags" / tag
            / "current/link"
        )
        return link.read_text().strip() if link.is_file() else None


def _wait_ready(registry: Registry, deadline: float) -> None:
    while True:
        if registry.process.poll() is not None:
            raise RuntimeError(
                f"docker-registry exited with {registry.process.returncode}:\n"
                + registry.log.read_text(errors="replace")[-4000:]
            )
        try:
            with urllib.request.urlopen(f"{registry.url}/v2/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 401: up, and asking for credentials
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not answer within 20 s") from None
            time.sleep(0.05)


@contextmanager
def running_registry(
    tmp: Path, *, users: Optional[Mapping[str, str]] = None, token: bool = False
) -> Iterator[Registry]:
    """Start a registry storing under ``tmp`` (``users``: htpasswd Basic auth, or with ``token``
    Bearer tokens from a local token server); stop it (and the token server) at the end."""
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    tmp.mkdir(parents=True, exist_ok=True)
    storage = tmp / "storage"
    storage.mkdir(exist_ok=True)
    port = free_port()
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: lading-test-http-secret",
    ]
    token_server: Optional[TokenServer] = None
    httpd: Optional[ThreadingHTTPServer] = None
    if token:
        key, cert = tmp / "token.key", tmp / "token.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "2", "-subj", "/CN=lading-test-token"],
            check=True, capture_output=True,
        )
        token_server = TokenServer(key=key, cert=cert, users=dict(users or {}))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _token_handler(token_server))
        token_server.port = int(httpd.server_address[1])
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        lines += [
            "auth:",
            "  token:",
            f"    realm: {token_server.realm}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {cert}",
        ]
    elif users:
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt_hash(p)}\n" for u, p in users.items()))
        lines += ["auth:", "  htpasswd:", "    realm: lading-test", f"    path: {htpasswd}"]
    config = tmp / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = tmp / "registry.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [REGISTRY, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    registry = Registry(port, storage, process, log, dict(users or {}), token_server)
    try:
        _wait_ready(registry, time.monotonic() + 20)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()


def skopeo() -> Optional[str]:
    return shutil.which("skopeo")
