"""Moving images between an OCI image layout directory and a registry (OCI distribution API).

* :func:`parse_reference` reads ``HOST[:PORT]/REPOSITORY[:TAG][@DIGEST]``. The registry is always
  written out: lading assumes no default registry host. ``LADING_REGISTRY=HOST[:PORT]`` supplies one
  for references that name none.
* :func:`pull` writes (or extends) a layout with one image: its manifest (an image index or docker
  manifest list is resolved to the requested platform; OCI and docker v2 schema 2 manifests are kept
  byte for byte), its config and its layers. Every blob is hashed while it streams in and only
  renamed into ``blobs/sha256/`` once its digest and size match. ``index.json`` gets a descriptor
  with the tag in ``org.opencontainers.image.ref.name``.
* :func:`push` sends one image of a layout: a blob the repository already has (``HEAD``) is skipped;
  otherwise it is mounted from another repository of the same registry when one is known
  (``mount_from``, or the manifest's ``org.opencontainers.image.base.name`` annotation naming an
  image on the same registry), otherwise uploaded in one ``PUT`` (monolithic). The manifest goes
  last, with its exact bytes and media type, and is skipped when the tag already points at it. A
  push killed half way leaves nothing local changed; running it again converges.

Transport: plain HTTP for loopback registries (``localhost``, ``127.0.0.0/8``, ``::1``) and the
``host[:port]`` entries of ``LADING_INSECURE_REGISTRIES`` (comma-separated), HTTPS otherwise (system
certificates, or ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``). Authentication answers the registry's
401 challenge: a bearer token from its token service (anonymous, or with Basic credentials), or Basic
credentials directly; where credentials come from is :mod:`lading.artifacts.oci.auth`. Secrets are
never put in a message, a log line or a file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Optional, Protocol, Union, cast
from urllib.parse import quote, urlencode, urljoin, urlsplit

import urllib3
from urllib3.util.retry import Retry

from lading.artifacts.oci.auth import Challenge, Credentials, find_credentials, parse_challenge
from lading.errors import LadingError
from lading.index.http import MAX_RETRY_AFTER
from lading.index.tls import ssl_context
from lading.progress import Progress

log = logging.getLogger("lading.oci")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST))
REF_NAME = "org.opencontainers.image.ref.name"
BASE_NAME = "org.opencontainers.image.base.name"
#: A manifest larger than this is refused (the spec asks registries to accept at least 4 MB).
MAX_MANIFEST = 4 * 1024 * 1024
CHUNK = 256 * 1024

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")


class _Body(Protocol):
    """A request body read in blocks and rewound for a second attempt (a file, or a wrapper)."""

    def read(self, size: int = -1) -> bytes: ...

    def seek(self, offset: int, whence: int = 0) -> int: ...

    def tell(self) -> int: ...


class RegistryError(LadingError):
    """A registry refused, failed or answered something unusable; names registry and repository."""


# ---------------------------------------------------------------------------------------------
# References


@dataclass(frozen=True)
class Reference:
    """``registry/repository`` with a tag, a digest, or both."""

    registry: str
    repository: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @property
    def name(self) -> str:
        """``registry/repository``, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _looks_like_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


def _default_registry(environ: Mapping[str, str]) -> Optional[str]:
    value = environ.get("LADING_REGISTRY", "").strip()
    if not value:
        return None
    if "://" in value:
        value = value.split("://", 1)[1]
    return value.rstrip("/") or None


def parse_reference(ref: str, environ: Mapping[str, str] = os.environ) -> Reference:
    """``HOST[:PORT]/REPOSITORY[:TAG][@DIGEST]``; a reference without a tag or digest means ``latest``.

    A reference whose first component is no host (no ``.`` or ``:``, not ``localhost``) takes its
    registry from ``LADING_REGISTRY``, and is an error without it.
    """
    text = ref.strip()
    if not text:
        raise RegistryError("an image reference is empty", hint="write HOST[:PORT]/REPOSITORY[:TAG]")
    if "://" in text:
        raise RegistryError(
            f"image reference {ref!r} has a URL scheme",
            hint="write HOST[:PORT]/REPOSITORY[:TAG] without http:// or https://; plain HTTP is "
            "used for loopback hosts and those in LADING_INSECURE_REGISTRIES",
        )
    name, _, digest = text.partition("@")
    tag: Optional[str] = None
    last = name.rsplit("/", 1)[-1]
    # ``host:5000/app`` has a port, ``app:1`` and ``host:5000/app:1`` a tag.
    if ":" in last and ("/" in name or not _looks_like_host(name.split(":", 1)[0])):
        name, _, tag = name.rpartition(":")
    first, slash, rest = name.partition("/")
    if slash and _looks_like_host(first):
        registry, repository = first, rest
    else:
        default = _default_registry(environ)
        if default is None:
            raise RegistryError(
                f"image reference {ref!r} names no registry",
                hint="write the registry explicitly (HOST[:PORT]/REPOSITORY[:TAG], e.g. "
                "127.0.0.1:5000/app:1.0) or set LADING_REGISTRY=HOST[:PORT]; lading assumes no "
                "default registry",
            )
        registry, repository = default, name
    if not _HOST.match(registry):
        raise RegistryError(f"image reference {ref!r}: {registry!r} is not a registry HOST[:PORT]")
    if not _REPOSITORY.match(repository):
        raise RegistryError(
            f"image reference {ref!r}: repository {repository!r} is not valid",
            hint="repository names are lower-case letters, digits and separators (. _ __ -), "
            "components joined by /",
        )
    if tag is not None and not _TAG.match(tag):
        raise RegistryError(
            f"image reference {ref!r}: tag {tag!r} is not valid",
            hint="a tag is up to 128 letters, digits, _ . and -, not starting with . or -",
        )
    if digest and not _DIGEST.match(digest):
        raise RegistryError(
            f"image reference {ref!r}: digest {digest!r} is not valid", hint="write @sha256:<64 hex>"
        )
    if tag is None and not digest:
        tag = "latest"
    return Reference(registry.lower(), repository, tag, digest or None)


def _as_reference(ref: Union[str, Reference], environ: Mapping[str, str]) -> Reference:
    return ref if isinstance(ref, Reference) else parse_reference(ref, environ)


def is_insecure(registry: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Plain HTTP: loopback hosts, and ``LADING_INSECURE_REGISTRIES`` entries (``host`` or ``host:port``)."""
    host = urlsplit(f"//{registry}").hostname or ""
    if host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    listed = {e.strip().lower() for e in environ.get("LADING_INSECURE_REGISTRIES", "").split(",")}
    return registry.lower() in listed or host.lower() in listed


# ---------------------------------------------------------------------------------------------
# The client


@dataclass
class _Auth:
    """What a registry asked for, and what it granted, per set of scopes."""

    challenge: Optional[Challenge] = None
    tokens: dict[tuple[str, ...], str] = field(default_factory=dict)


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


class RegistryClient:
    """Pooled HTTP to registries with retries and the 401 dance; one per run, thread-safe."""

    def __init__(self, *, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ
        timeout = _env_number(environ, "LADING_HTTP_TIMEOUT", 30.0) or 30.0
        self.retries = int(_env_number(environ, "LADING_HTTP_RETRIES", 5))
        retry = Retry(
            total=None,
            redirect=10,
            other=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            backoff_factor=0.5,
            backoff_max=MAX_RETRY_AFTER,
            status_forcelist=frozenset({429, 500, 502, 503, 504}),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self._pool = urllib3.PoolManager(
            num_pools=16,
            maxsize=4,
            ssl_context=ssl_context(environ),
            timeout=urllib3.Timeout(connect=min(timeout, 15.0), read=timeout),
            retries=retry,
        )
        self._lock = threading.Lock()
        self._auth: dict[str, _Auth] = {}
        self._credentials: dict[str, Optional[Credentials]] = {}
        self._secrets: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------

    def base_url(self, registry: str) -> str:
        scheme = "http" if is_insecure(registry, self._environ) else "https"
        return f"{scheme}://{registry}"

    def scrub(self, text: str) -> str:
        """``text`` with every secret this client has seen replaced by ``***``."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def _keep_secret(self, value: str) -> None:
        if len(value) >= 4:
            with self._lock:
                self._secrets.add(value)

    def credentials(self, registry: str) -> Optional[Credentials]:
        with self._lock:
            if registry in self._credentials:
                return self._credentials[registry]
        found = find_credentials(registry, self._environ)
        with self._lock:
            self._credentials[registry] = found
            if found is not None:
                self._secrets.update(found.secrets())
        return found

    def _authorization(self, registry: str, scopes: tuple[str, ...]) -> dict[str, str]:
        with self._lock:
            state = self._auth.get(registry)
            if state is None or state.challenge is None:
                return {}
            if state.challenge.scheme == "bearer":
                token = state.tokens.get(scopes)
                return {"Authorization": f"Bearer {token}"} if token else {}
        credentials = self.credentials(registry)
        return {"Authorization": credentials.basic_header()} if credentials else {}

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        registry: str,
        repository: str,
        url: str,
        *,
        scopes: Sequence[str],
        headers: Optional[Mapping[str, str]] = None,
        body: Union[bytes, _Body, None] = None,
        preload: bool = True,
        what: str,
    ) -> urllib3.BaseHTTPResponse:
        """One request, authenticated on a 401 and sent again once. ``url`` is a path under the
        registry (``/v2/...``) or an absolute URL (an upload ``Location``)."""
        full = url if "://" in url else self.base_url(registry) + url
        key = tuple(sorted(set(scopes)))
        start = body.tell() if body is not None and not isinstance(body, bytes) else 0
        for attempt in (0, 1):
            request_headers = {"User-Agent": "lading"}
            request_headers.update(self._authorization(registry, key))
            request_headers.update(headers or {})
            if body is not None and not isinstance(body, bytes):
                body.seek(start)
            response = self._send(method, full, request_headers, body, preload, registry, repository, what)
            if response.status != 401 or attempt == 1:
                return response
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            response.drain_conn()
            response.release_conn()
            if challenge is None:
                return response
            self._answer(challenge, registry, repository, key, what)
        raise AssertionError("unreachable")

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Union[bytes, _Body, None],
        preload: bool,
        registry: str,
        repository: str,
        what: str,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                method, url, headers=dict(headers), body=cast(Any, body), preload_content=preload,
                redirect=True,
            )
        except urllib3.exceptions.SSLError as exc:
            raise RegistryError(
                f"registry {registry}: TLS failed while {what}: {self.scrub(_reason(exc))}",
                hint=f"for a registry without TLS set LADING_INSECURE_REGISTRIES={registry}; for a "
                "private certificate authority set SSL_CERT_FILE",
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            raise RegistryError(
                f"registry {registry}: cannot reach it while {what} ({repository}): "
                f"{self.scrub(_reason(exc))}",
                hint=f"check that the registry is running and reachable (retried {self.retries} times)",
            ) from None

    def _answer(
        self, challenge: Challenge, registry: str, repository: str, scopes: tuple[str, ...], what: str
    ) -> None:
        """Remember the challenge; fetch a token for a bearer one."""
        with self._lock:
            state = self._auth.setdefault(registry, _Auth())
            state.challenge = challenge
        if challenge.scheme == "basic":
            if self.credentials(registry) is None:
                raise self.auth_error(registry, repository, what)
            return
        token = self._fetch_token(challenge, registry, repository, scopes, what)
        with self._lock:
            state.tokens[scopes] = token

    def _fetch_token(
        self, challenge: Challenge, registry: str, repository: str, scopes: tuple[str, ...], what: str
    ) -> str:
        realm = challenge.realm
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(
                f"registry {registry}: its token service realm {realm!r} is not an http(s) URL"
            )
        wanted = list(scopes)
        if challenge.params.get("scope") and challenge.params["scope"] not in wanted:
            wanted.append(challenge.params["scope"])
        query: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            query.append(("service", challenge.params["service"]))
        query += [("scope", s) for s in wanted]
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        credentials = self.credentials(registry)
        headers = {"User-Agent": "lading", "Accept": "application/json"}
        if credentials is not None:
            headers["Authorization"] = credentials.basic_header()
        realm_host = urlsplit(realm).netloc
        try:
            response = self._pool.request("GET", url, headers=headers, redirect=True)
        except urllib3.exceptions.HTTPError as exc:
            raise RegistryError(
                f"registry {registry}: cannot reach its token service {realm_host}: "
                f"{self.scrub(_reason(exc))}"
            ) from None
        if response.status in (401, 403):
            raise self.auth_error(registry, repository, what, refused=True)
        if response.status != 200:
            raise RegistryError(
                f"registry {registry}: its token service {realm_host} answered {response.status} "
                f"while {what}"
            )
        try:
            data = json.loads(response.data)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"registry {registry}: its token service {realm_host} sent no token")
        self._keep_secret(token)
        return token

    def auth_error(
        self, registry: str, repository: str, what: str, *, refused: bool = False
    ) -> RegistryError:
        credentials = self.credentials(registry)
        if credentials is None:
            return RegistryError(
                f"registry {registry}: authentication required for {repository} while {what}",
                hint="set LADING_REGISTRY_USERNAME and LADING_REGISTRY_PASSWORD (or "
                f"LADING_REGISTRY_<HOST>_USERNAME/_PASSWORD), or `docker login {registry}`",
            )
        shown = f"user {credentials.username!r}" if credentials.username else "the token"
        verb = "were refused" if refused else "were refused or do not allow this"
        return RegistryError(
            f"registry {registry}: the credentials for {shown} (from {credentials.source}) {verb} "
            f"for {repository} while {what}",
            hint="check the user name and password or token, and that it may pull (and push) "
            "this repository",
        )

    def check(
        self,
        response: urllib3.BaseHTTPResponse,
        ok: Sequence[int],
        registry: str,
        repository: str,
        what: str,
        *,
        hint: Optional[str] = None,
    ) -> None:
        if response.status in ok:
            return
        if response.status == 401 or response.status == 403:
            raise self.auth_error(registry, repository, what)
        detail = _registry_errors(response)
        detail = f": {self.scrub(detail)}" if detail else ""
        raise RegistryError(
            f"registry {registry}: {what} in {repository} failed: HTTP {response.status}{detail}",
            hint=hint,
        )


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason) if reason is not None else str(exc)


def _registry_errors(response: urllib3.BaseHTTPResponse) -> str:
    """The ``errors`` of a registry's JSON error body as ``CODE message``; the status text otherwise."""
    try:
        body = response.data if response.data is not None else b""
        data = json.loads(body[:65536]) if body else None
    except (ValueError, urllib3.exceptions.HTTPError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = []
        for error in data["errors"][:3]:
            if isinstance(error, dict):
                parts.append(f"{error.get('code', '')} {error.get('message', '')}".strip())
        if parts:
            return "; ".join(parts)
    return response.reason or ""


# ---------------------------------------------------------------------------------------------
# The layout on disk


def _blob_path(layout: Path, digest: str) -> Path:
    if not _DIGEST.match(digest):
        raise RegistryError(f"{digest!r} is not a digest", file=layout)
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _read_index(layout: Path) -> dict[str, Any]:
    path = layout / "index.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(
            "not an OCI image layout: index.json is missing", file=layout,
            hint="build the image first (lading build image -o DIR), or pull one into the directory",
        ) from None
    except (OSError, ValueError) as exc:
        raise RegistryError(f"index.json cannot be read: {exc}", file=layout) from None
    if not isinstance(data, dict) or not isinstance(data.get("manifests", []), list):
        raise RegistryError("index.json is not an OCI image index", file=layout)
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with _ignored():
            os.unlink(temp)
        raise


def _ignored() -> suppress:
    return suppress(OSError)


def _init_layout(layout: Path) -> None:
    layout.mkdir(parents=True, exist_ok=True)
    marker = layout / "oci-layout"
    if not marker.exists():
        _write_atomic(marker, b'{"imageLayoutVersion":"1.0.0"}')
    if not (layout / "index.json").exists():
        empty = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        _write_atomic(layout / "index.json", json.dumps(empty, indent=2).encode() + b"\n")


def _add_to_index(layout: Path, descriptor: dict[str, Any], tag: Optional[str]) -> None:
    index = _read_index(layout)
    kept = []
    for existing in index.get("manifests", []):
        if not isinstance(existing, dict):
            continue
        name = (existing.get("annotations") or {}).get(REF_NAME)
        if tag is not None and name == tag:
            continue  # the tag moves to the new manifest
        if tag is None and name is None and existing.get("digest") == descriptor["digest"]:
            continue
        kept.append(existing)
    kept.append(descriptor)
    index["manifests"] = kept
    _write_atomic(layout / "index.json", json.dumps(index, indent=2).encode() + b"\n")


def _has_blob(layout: Path, digest: str, size: int) -> bool:
    try:
        return _blob_path(layout, digest).stat().st_size == size
    except OSError:
        return False


def _read_blob(layout: Path, digest: str, *, what: str) -> bytes:
    path = _blob_path(layout, digest)
    try:
        data = path.read_bytes()
    except OSError:
        raise RegistryError(f"the {what} {digest} is missing from blobs/", file=layout) from None
    if _SHA256.match(digest) and _sha256(data) != digest:
        raise RegistryError(
            f"the {what} blob {digest} does not match its digest (it is damaged)", file=layout,
            hint="build or pull the image again",
        )
    return data


# ---------------------------------------------------------------------------------------------
# Pull


def _platform_parts(platform: str) -> tuple[str, str, Optional[str]]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise RegistryError(
            f"platform {platform!r} is not OS/ARCH[/VARIANT]", hint="for example linux/amd64, linux/arm64/v8"
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _choose_platform(index: Mapping[str, Any], platform: str, ref: Reference) -> Mapping[str, Any]:
    os_, arch, variant = _platform_parts(platform)
    candidates = []
    seen = []
    for entry in index.get("manifests") or []:
        if not isinstance(entry, dict):
            continue
        p = entry.get("platform") or {}
        shown = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
        seen.append(shown or "?")
        if p.get("os") != os_ or p.get("architecture") != arch:
            continue
        if variant is not None and p.get("variant", "v8" if arch == "arm64" else None) != variant:
            continue
        candidates.append(entry)
    if not candidates:
        raise RegistryError(
            f"image {ref} has no manifest for platform {platform}",
            hint=f"it offers: {', '.join(sorted(set(seen))) or 'nothing'}",
        )
    # Without a variant asked for, prefer the entry without one (or the first).
    candidates.sort(key=lambda e: 0 if not (e.get("platform") or {}).get("variant") else 1)
    return candidates[0]


def _fetch_manifest(
    client: RegistryClient, ref: Reference, reference: str, scopes: Sequence[str]
) -> tuple[bytes, str, str]:
    """(bytes, media type, digest) of a manifest, its digest verified."""
    what = f"fetching manifest {reference}"
    response = client.request(
        "GET", ref.registry, ref.repository, f"/v2/{ref.repository}/manifests/{reference}",
        scopes=scopes, headers={"Accept": ACCEPT}, what=what,
    )
    if response.status == 404:
        kind = "digest" if reference.startswith("sha256:") else "tag"
        raise RegistryError(
            f"registry {ref.registry}: {ref.repository} has no manifest for {kind} {reference}",
            hint=f"check the {kind} and the repository name ({ref.name})",
        )
    client.check(response, (200,), ref.registry, ref.repository, what)
    body = response.data or b""
    if len(body) > MAX_MANIFEST:
        raise RegistryError(f"registry {ref.registry}: the manifest of {ref} is over 4 MB")
    digest = _sha256(body)
    expected = reference if _DIGEST.match(reference) else response.headers.get("Docker-Content-Digest")
    if expected and expected.startswith("sha256:") and expected != digest:
        raise RegistryError(
            f"registry {ref.registry}: the manifest of {ref} does not match its digest "
            f"(expected {expected}, got {digest})",
            hint="the registry or something between lading and it altered the manifest",
        )
    if expected and not expected.startswith("sha256:") and _DIGEST.match(reference):
        raise RegistryError(f"digest algorithm of {reference} is not supported (sha256 only)")
    try:
        data = json.loads(body)
    except ValueError:
        raise RegistryError(f"registry {ref.registry}: the manifest of {ref} is not JSON") from None
    if not isinstance(data, dict):
        raise RegistryError(f"registry {ref.registry}: the manifest of {ref} is not a JSON object")
    media_type = str(data.get("mediaType") or response.headers.get("Content-Type", "").split(";")[0])
    if media_type in DOCKER_SCHEMA1 or data.get("schemaVersion") == 1:
        raise RegistryError(
            f"image {ref} has a docker schema 1 manifest, which lading does not read",
            hint="push the image again with a current docker or skopeo (schema 2 / OCI)",
        )
    if media_type not in MANIFEST_TYPES + INDEX_TYPES:
        # An OCI manifest may leave mediaType out; what it holds tells which it is.
        media_type = OCI_INDEX if "manifests" in data else OCI_MANIFEST
    return body, media_type, digest


def _download_blob(
    client: RegistryClient,
    ref: Reference,
    descriptor: Mapping[str, Any],
    layout: Path,
    scopes: Sequence[str],
    progress: Progress,
) -> None:
    digest = str(descriptor.get("digest", ""))
    size = descriptor.get("size")
    if not _SHA256.match(digest) or not isinstance(size, int):
        raise RegistryError(f"image {ref}: a blob descriptor has no sha256 digest and size ({digest!r})")
    target = _blob_path(layout, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    what = f"downloading blob {digest}"
    for attempt in range(client.retries + 1):
        response = client.request(
            "GET", ref.registry, ref.repository, f"/v2/{ref.repository}/blobs/{digest}",
            scopes=scopes, preload=False, what=what,
        )
        fd, temp = tempfile.mkstemp(prefix=f".{target.name[:16]}.", suffix=".tmp", dir=target.parent)
        keep = False
        received = 0
        try:
            if response.status == 404:
                raise RegistryError(
                    f"registry {ref.registry}: blob {digest} of {ref} is missing from {ref.repository}"
                )
            client.check(response, (200,), ref.registry, ref.repository, what)
            hasher = hashlib.sha256()
            with os.fdopen(fd, "wb") as handle:
                fd = -1
                try:
                    for chunk in response.stream(CHUNK, decode_content=False):
                        hasher.update(chunk)
                        handle.write(chunk)
                        received += len(chunk)
                        progress.advance(nbytes=len(chunk))
                        if received > size:
                            break
                except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError):
                    if attempt < client.retries:
                        log.info("download of %s broke off at %d bytes; again", digest, received)
                        continue
                    raise RegistryError(
                        f"registry {ref.registry}: the download of blob {digest} broke off"
                    ) from None
            actual = "sha256:" + hasher.hexdigest()
            if received != size or actual != digest:
                raise RegistryError(
                    f"registry {ref.registry}: blob of {ref} does not match its descriptor: expected "
                    f"{digest} ({size} bytes), got {actual} ({received} bytes)",
                    hint="the registry or something between lading and it served other bytes; "
                    "nothing was kept",
                )
            os.chmod(temp, 0o644)
            os.replace(temp, target)
            keep = True
            return
        finally:
            if fd >= 0:
                os.close(fd)
            if keep:
                response.release_conn()  # the body was read to its end
            else:
                with _ignored():
                    os.unlink(temp)
                response.close()  # a body left half-read must not go back to the pool
    raise RegistryError(f"registry {ref.registry}: the download of blob {digest} broke off")


def pull(
    ref: Union[str, Reference],
    layout_dir: Path,
    *,
    platform: str = "linux/amd64",
    client: Optional[RegistryClient] = None,
    environ: Mapping[str, str] = os.environ,
    progress: Optional[Progress] = None,
) -> str:
    """Copy the image ``ref`` (for ``platform`` when it is multi-platform) into the OCI layout
    ``layout_dir`` (created or extended); returns its manifest's digest."""
    reference = _as_reference(ref, environ)
    client = client or RegistryClient(environ=environ)
    progress = progress or Progress()
    scopes = (f"repository:{reference.repository}:pull",)
    body, media_type, digest = _fetch_manifest(client, reference, reference.reference, scopes)
    if media_type in INDEX_TYPES:
        entry = _choose_platform(json.loads(body), platform, reference)
        child = str(entry.get("digest", ""))
        if not _SHA256.match(child):
            raise RegistryError(f"image {reference}: the index names no sha256 digest for {platform}")
        body, media_type, digest = _fetch_manifest(client, reference, child, scopes)
        if digest != child:  # _fetch_manifest verified it already; kept for clarity
            raise RegistryError(f"image {reference}: manifest digest mismatch for {platform}")
        if media_type in INDEX_TYPES:
            raise RegistryError(f"image {reference}: nested image indexes are not supported")
    manifest = json.loads(body)
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise RegistryError(f"image {reference}: the manifest has no config or layers")
    blobs = [config] + [layer for layer in layers if isinstance(layer, dict)]
    _init_layout(layout_dir)
    total = sum(int(b.get("size") or 0) for b in blobs)
    progress.phase("pulling", total=len(blobs), total_bytes=total)
    for descriptor in blobs:
        if _has_blob(layout_dir, str(descriptor.get("digest", "")), int(descriptor.get("size") or -1)):
            progress.advance(items=1, nbytes=int(descriptor.get("size") or 0))
            continue
        _download_blob(client, reference, descriptor, layout_dir, scopes, progress)
        progress.advance(items=1)
    _check_config_platform(layout_dir, str(config.get("digest")), platform, reference)
    _write_atomic(_blob_path(layout_dir, digest), body)
    added: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(body)}
    if reference.tag:
        added["annotations"] = {REF_NAME: reference.tag}
    _add_to_index(layout_dir, added, reference.tag)
    return digest


def _check_config_platform(layout: Path, digest: str, platform: str, ref: Reference) -> None:
    try:
        config = json.loads(_read_blob(layout, digest, what="config"))
    except ValueError:
        raise RegistryError(f"image {ref}: its config is not JSON") from None
    os_, arch, _variant = _platform_parts(platform)
    found = (config.get("os"), config.get("architecture")) if isinstance(config, dict) else (None, None)
    if found[0] and found[1] and (found[0], found[1]) != (os_, arch):
        raise RegistryError(
            f"image {ref} is for {found[0]}/{found[1]}, not {platform}",
            hint="choose a base image built for the target platform",
        )


# ---------------------------------------------------------------------------------------------
# Push


@dataclass(frozen=True)
class PushResult:
    """What a push did. ``uploaded_bytes`` counts blob bytes sent (not the manifest)."""

    digest: str
    uploaded_bytes: int
    skipped_blobs: tuple[str, ...]
    mounted_blobs: tuple[str, ...]
    uploaded_blobs: tuple[str, ...]
    #: Whether the manifest was sent (False when the tag already pointed at it).
    manifest_uploaded: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "uploaded_bytes": self.uploaded_bytes,
            "skipped_blobs": list(self.skipped_blobs),
            "mounted_blobs": list(self.mounted_blobs),
            "uploaded_blobs": list(self.uploaded_blobs),
            "manifest_uploaded": self.manifest_uploaded,
        }


def _choose_manifest(
    layout: Path, index: Mapping[str, Any], ref: Reference, manifest_digest: Optional[str]
) -> Mapping[str, Any]:
    manifests = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    wanted = manifest_digest or ref.digest
    if wanted:
        for entry in manifests:
            if entry.get("digest") == wanted:
                return entry
        if (_blob_path(layout, wanted)).is_file():
            data = _read_blob(layout, wanted, what="manifest")
            media = json.loads(data).get("mediaType") or OCI_MANIFEST
            return {"mediaType": media, "digest": wanted, "size": len(data)}
        raise RegistryError(f"the layout has no manifest {wanted}", file=layout)
    if not manifests:
        raise RegistryError("the layout's index.json lists no image", file=layout)
    if len(manifests) == 1:
        return manifests[0]
    tagged = [m for m in manifests if (m.get("annotations") or {}).get(REF_NAME) == ref.tag]
    if len(tagged) == 1:
        return tagged[0]
    names = sorted({str((m.get("annotations") or {}).get(REF_NAME, m.get("digest"))) for m in manifests})
    raise RegistryError(
        f"the layout holds {len(manifests)} images and none is tagged {ref.tag!r}",
        file=layout,
        hint=f"push by manifest digest, or tag the reference as one of: {', '.join(names)}",
    )


@dataclass
class _Plan:
    """Manifests to push (children before the parent) and their distinct blobs, in order."""

    manifests: list[tuple[str, str, bytes]] = field(default_factory=list)  # (digest, type, bytes)
    blobs: dict[str, int] = field(default_factory=dict)
    bases: list[str] = field(default_factory=list)


def _plan(layout: Path, descriptor: Mapping[str, Any], plan: _Plan, depth: int = 0) -> None:
    digest = str(descriptor.get("digest", ""))
    body = _read_blob(layout, digest, what="manifest")
    try:
        data = json.loads(body)
    except ValueError:
        raise RegistryError(f"manifest {digest} is not JSON", file=layout) from None
    media_type = str(data.get("mediaType") or descriptor.get("mediaType") or OCI_MANIFEST)
    annotations = data.get("annotations") or {}
    base = annotations.get(BASE_NAME) if isinstance(annotations, dict) else None
    if isinstance(base, str) and base not in plan.bases:
        plan.bases.append(base)
    if media_type in INDEX_TYPES or "manifests" in data:
        if depth > 2:
            raise RegistryError("image indexes nested too deeply", file=layout)
        for child in data.get("manifests") or []:
            if isinstance(child, dict):
                _plan(layout, child, plan, depth + 1)
    else:
        entries = [data.get("config"), *list(data.get("layers") or [])]
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("size"), int):
                raise RegistryError(f"manifest {digest} has a descriptor without digest and size", file=layout)
            blob = str(entry.get("digest"))
            path = _blob_path(layout, blob)
            try:
                actual = path.stat().st_size
            except OSError:
                raise RegistryError(
                    f"blob {blob} named by manifest {digest} is missing from blobs/", file=layout,
                    hint="build the image again; a layout pulled for one platform holds only its blobs",
                ) from None
            if actual != entry["size"]:
                raise RegistryError(
                    f"blob {blob} is {actual} bytes, its descriptor says {entry['size']}", file=layout
                )
            plan.blobs.setdefault(blob, int(entry["size"]))
    if all(d != digest for d, _, _ in plan.manifests):
        plan.manifests.append((digest, media_type, body))


def _mount_sources(
    ref: Reference, mount_from: Sequence[str], bases: Sequence[str], environ: Mapping[str, str]
) -> list[str]:
    sources: list[str] = []
    for candidate in list(mount_from) + list(bases):
        repository = candidate
        if "/" in candidate and _looks_like_host(candidate.split("/", 1)[0]):
            try:
                parsed = parse_reference(candidate, environ)
            except RegistryError:
                continue
            if parsed.registry != ref.registry:
                continue  # a mount only works within one registry
            repository = parsed.repository
        elif candidate in bases:
            continue  # a base without a registry host cannot be placed
        else:
            repository = candidate.split("@", 1)[0].split(":", 1)[0]
        if repository != ref.repository and repository not in sources and _REPOSITORY.match(repository):
            sources.append(repository)
    return sources


class _Counting:
    """A file read by urllib3 for a request body, reporting bytes to the progress as they go."""

    def __init__(self, handle: BinaryIO, progress: Progress) -> None:
        self._handle = handle
        self._progress = progress
        self.sent = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.sent += len(data)
        if data:
            self._progress.advance(nbytes=len(data))
        return data

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)


def _with_digest(location: str, digest: str) -> str:
    return location + ("&" if "?" in location else "?") + "digest=" + quote(digest, safe=":")


def _upload_location(
    client: RegistryClient, ref: Reference, scopes: Sequence[str], response: urllib3.BaseHTTPResponse
) -> str:
    location = response.headers.get("Location")
    if not location:
        raise RegistryError(f"registry {ref.registry}: an upload to {ref.repository} got no Location")
    return urljoin(client.base_url(ref.registry) + "/", location)


def _start_upload(client: RegistryClient, ref: Reference, scopes: Sequence[str]) -> str:
    what = "starting a blob upload"
    response = client.request(
        "POST", ref.registry, ref.repository, f"/v2/{ref.repository}/blobs/uploads/",
        scopes=scopes, headers={"Content-Length": "0"}, what=what,
    )
    client.check(response, (202,), ref.registry, ref.repository, what)
    return _upload_location(client, ref, scopes, response)


def _upload(
    client: RegistryClient,
    ref: Reference,
    layout: Path,
    digest: str,
    size: int,
    scopes: Sequence[str],
    location: Optional[str],
    progress: Progress,
) -> None:
    what = f"uploading blob {digest}"
    path = _blob_path(layout, digest)
    for attempt in range(client.retries + 1):
        if location is None:
            location = _start_upload(client, ref, scopes)
        with path.open("rb") as handle:
            body = _Counting(handle, progress)
            try:
                response = client.request(
                    "PUT", ref.registry, ref.repository, _with_digest(location, digest),
                    scopes=scopes, body=body,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                    what=what,
                )
            except RegistryError:
                if attempt >= client.retries:
                    raise
                log.info("upload of %s failed; starting it again", digest)
                location = None
                continue
        if response.status in (500, 502, 503, 504) and attempt < client.retries:
            location = None
            continue
        client.check(
            response, (201, 204), ref.registry, ref.repository, what,
            hint=f"the registry refused the bytes of blobs/{digest.replace(':', '/')}; "
            "build the image again if the file was changed",
        )
        return


def _push_manifest(
    client: RegistryClient, ref: Reference, tag_or_digest: str, digest: str, media_type: str,
    body: bytes, scopes: Sequence[str],
) -> bool:
    """PUT one manifest unless ``tag_or_digest`` already names it; True when it was sent."""
    what = f"checking manifest {tag_or_digest}"
    head = client.request(
        "HEAD", ref.registry, ref.repository, f"/v2/{ref.repository}/manifests/{tag_or_digest}",
        scopes=scopes, headers={"Accept": media_type}, what=what,
    )
    if head.status == 200 and head.headers.get("Docker-Content-Digest") == digest:
        return False
    what = f"pushing manifest {tag_or_digest}"
    response = client.request(
        "PUT", ref.registry, ref.repository, f"/v2/{ref.repository}/manifests/{tag_or_digest}",
        scopes=scopes, body=body, headers={"Content-Type": media_type}, what=what,
    )
    client.check(response, (200, 201, 202), ref.registry, ref.repository, what)
    answered = response.headers.get("Docker-Content-Digest")
    if answered and answered != digest:
        raise RegistryError(
            f"registry {ref.registry}: it stored manifest {tag_or_digest} of {ref.repository} as "
            f"{answered}, not {digest}",
            hint="the registry changed the manifest's bytes; it does not keep them as sent",
        )
    return True


def push(
    layout_dir: Path,
    ref: Union[str, Reference],
    *,
    manifest_digest: Optional[str] = None,
    mount_from: Sequence[str] = (),
    client: Optional[RegistryClient] = None,
    environ: Mapping[str, str] = os.environ,
    progress: Optional[Progress] = None,
) -> PushResult:
    """Push one image of the layout to ``ref``: missing blobs (mounted when possible), then the
    manifest. ``manifest_digest`` picks the image; otherwise the layout's only one, or the one
    whose ``org.opencontainers.image.ref.name`` is the reference's tag."""
    reference = _as_reference(ref, environ)
    client = client or RegistryClient(environ=environ)
    progress = progress or Progress()
    index = _read_index(layout_dir)
    chosen = _choose_manifest(layout_dir, index, reference, manifest_digest)
    plan = _Plan()
    _plan(layout_dir, chosen, plan)
    top_digest, top_type, top_body = plan.manifests[-1]
    if reference.digest and reference.digest != top_digest:
        raise RegistryError(
            f"the reference says {reference.digest} but the image's manifest is {top_digest}",
            file=layout_dir,
        )
    sources = _mount_sources(reference, mount_from, plan.bases, environ)
    scopes = [f"repository:{reference.repository}:pull,push"] + [
        f"repository:{s}:pull" for s in sources
    ]
    skipped: list[str] = []
    mounted: list[str] = []
    uploaded: list[str] = []
    uploaded_bytes = 0
    progress.phase("pushing", total=len(plan.blobs), total_bytes=sum(plan.blobs.values()))
    for digest, size in plan.blobs.items():
        what = f"checking blob {digest}"
        head = client.request(
            "HEAD", reference.registry, reference.repository,
            f"/v2/{reference.repository}/blobs/{digest}", scopes=scopes, what=what,
        )
        if head.status == 200:
            skipped.append(digest)
            progress.advance(items=1, nbytes=size)
            continue
        client.check(head, (404,), reference.registry, reference.repository, what)
        location: Optional[str] = None
        for source in sources:
            what = f"mounting blob {digest} from {source}"
            query = urlencode({"mount": digest, "from": source})
            response = client.request(
                "POST", reference.registry, reference.repository,
                f"/v2/{reference.repository}/blobs/uploads/?{query}",
                scopes=scopes, headers={"Content-Length": "0"}, what=what,
            )
            if response.status == 201:
                mounted.append(digest)
                break
            client.check(response, (202,), reference.registry, reference.repository, what)
            location = _upload_location(client, reference, scopes, response)
        else:
            _upload(client, reference, layout_dir, digest, size, scopes, location, progress)
            uploaded.append(digest)
            uploaded_bytes += size
            progress.advance(items=1)
            continue
        progress.advance(items=1, nbytes=size)
    sent = False
    for digest, media_type, body in plan.manifests[:-1]:
        sent = _push_manifest(client, reference, digest, digest, media_type, body, scopes) or sent
    target = reference.tag or top_digest
    sent = _push_manifest(client, reference, target, top_digest, top_type, top_body, scopes) or sent
    log.info(
        "pushed %s: %d uploaded (%d bytes), %d mounted, %d already there",
        reference, len(uploaded), uploaded_bytes, len(mounted), len(skipped),
    )
    return PushResult(
        digest=top_digest,
        uploaded_bytes=uploaded_bytes,
        skipped_blobs=tuple(skipped),
        mounted_blobs=tuple(mounted),
        uploaded_blobs=tuple(uploaded),
        manifest_uploaded=sent,
    )


def copy(
    src_ref: Union[str, Reference],
    dst_ref: Union[str, Reference],
    *,
    platform: str = "linux/amd64",
    client: Optional[RegistryClient] = None,
    environ: Mapping[str, str] = os.environ,
    progress: Optional[Progress] = None,
) -> PushResult:
    """Copy one platform's image from one reference to another (through a temporary layout);
    blobs are mounted when both are on one registry."""
    source = _as_reference(src_ref, environ)
    target = _as_reference(dst_ref, environ)
    client = client or RegistryClient(environ=environ)
    work = Path(tempfile.mkdtemp(prefix="lading-oci-copy-"))
    try:
        digest = pull(source, work, platform=platform, client=client, environ=environ, progress=progress)
        mounts = [source.repository] if source.registry == target.registry else []
        return push(
            work, target, manifest_digest=digest, mount_from=mounts, client=client,
            environ=environ, progress=progress,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
