"""Credentials and challenges for OCI registries.

Where credentials come from, first found wins:

1. ``LADING_REGISTRY_<HOST>_USERNAME`` / ``LADING_REGISTRY_<HOST>_PASSWORD`` for one registry
   (``<HOST>`` is ``host[:port]`` upper-cased with every character other than ``A-Z0-9`` made ``_``:
   ``registry.example:5000`` reads ``LADING_REGISTRY_REGISTRY_EXAMPLE_5000_USERNAME``);
2. ``LADING_REGISTRY_USERNAME`` / ``LADING_REGISTRY_PASSWORD`` for every registry of the run;
3. docker's configuration (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``):
   ``credHelpers[host]``, else ``auths[host]`` (``auth`` = base64 ``user:password``, or
   ``username`` / ``password``), else ``credsStore``; a helper is run as
   ``docker-credential-<name> get`` with the host on stdin, as docker does.

Credentials are only sent after the registry asks (a 401 challenge), and never appear in a message,
a log line or a file: :class:`Credentials` hides its secret from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

log = logging.getLogger("lading.oci")

_NOT_ENV = re.compile(r"[^A-Z0-9]")
#: ``key="value"`` or ``key=token`` pairs of a WWW-Authenticate header.
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or token) for one registry, and where they were found."""

    username: str
    password: str = field(repr=False)
    #: Where they came from, for messages: an environment variable's name or a file's path.
    source: str = ""

    def secrets(self) -> list[str]:
        """Every form in which the secret could leak (plain and inside a Basic header)."""
        values = [self.password]
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        values.append(basic)
        return [v for v in values if len(v) >= 4]

    def basic_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: ``scheme`` is ``bearer`` or ``basic``."""

    scheme: str
    params: Mapping[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenge(header: str) -> Optional[Challenge]:
    """``Bearer realm="...",service="...",scope="..."`` (or ``Basic realm=...``); None otherwise."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3) or ""
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return Challenge(scheme, params)


def env_name(registry: str) -> str:
    """A registry's ``host[:port]`` as it appears in ``LADING_REGISTRY_<HOST>_USERNAME``."""
    return _NOT_ENV.sub("_", registry.upper())


def docker_config_path(environ: Mapping[str, str]) -> Path:
    directory = environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    home = environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".docker" / "config.json"


def find_credentials(registry: str, environ: Mapping[str, str] = os.environ) -> Optional[Credentials]:
    """Credentials for ``registry`` (``host[:port]``), or None for anonymous access."""
    specific = f"LADING_REGISTRY_{env_name(registry)}_"
    for prefix in (specific, "LADING_REGISTRY_"):
        user = environ.get(prefix + "USERNAME")
        password = environ.get(prefix + "PASSWORD")
        if user is not None or password is not None:
            return Credentials(user or "", password or "", f"{prefix}USERNAME/{prefix}PASSWORD")
    return _from_docker_config(registry, environ)


def _host_of(key: str) -> str:
    """An ``auths`` key (``host``, ``https://host``, ``https://host/v1/``) reduced to ``host[:port]``."""
    key = key.strip()
    if "://" in key:
        key = key.split("://", 1)[1]
    return key.split("/", 1)[0].lower()


def _from_docker_config(registry: str, environ: Mapping[str, str]) -> Optional[Credentials]:
    path = docker_config_path(environ)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # The message names the file and the problem, never its content.
        log.warning("ignoring %s: %s", path, type(exc).__name__)
        return None
    if not isinstance(data, dict):
        return None
    wanted = registry.lower()
    helpers = data.get("credHelpers")
    if isinstance(helpers, dict):
        for key, helper in helpers.items():
            if _host_of(str(key)) == wanted and isinstance(helper, str):
                return _from_helper(helper, registry, environ)
    auths = data.get("auths")
    if isinstance(auths, dict):
        for key, entry in auths.items():
            if _host_of(str(key)) != wanted or not isinstance(entry, dict):
                continue
            found = _from_auth_entry(entry, path)
            if found is not None:
                return found
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(store, registry, environ)
    return None


def _from_auth_entry(entry: Mapping[str, object], path: Path) -> Optional[Credentials]:
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            log.warning("ignoring an auths entry of %s: its auth value is not base64 user:password", path)
            return None
        user, sep, password = decoded.partition(":")
        if sep:
            return Credentials(user, password, str(path))
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str):
        return Credentials(name, secret, str(path))
    return None


def _from_helper(helper: str, registry: str, environ: Mapping[str, str]) -> Optional[Credentials]:
    program = f"docker-credential-{helper}"
    found = shutil.which(program, path=environ.get("PATH"))
    if found is None:
        log.info("credential helper %s is not installed; trying %s anonymously", program, registry)
        return None
    try:
        result = subprocess.run(
            [found, "get"], input=registry.encode(), capture_output=True, timeout=60,
            env=dict(environ),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("credential helper %s failed: %s", program, type(exc).__name__)
        return None
    if result.returncode != 0:
        # Its output is not shown: a helper may echo what it was given or found.
        log.info("credential helper %s has nothing for %s", program, registry)
        return None
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        log.warning("credential helper %s answered something that is not JSON", program)
        return None
    if not isinstance(answer, dict):
        return None
    user, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(secret, str):
        return None
    return Credentials(user if isinstance(user, str) else "", secret, program)
