"""Which package indexes to ask, and why: command line, lading's variables, the lock, pip's config.

The order is the one a user expects from "the lock says where its packages come from, unless I
say otherwise": ``--index-url``, ``LADING_INDEX_URL``, the lock's first index, pip's
configuration, pip's own default. Extra indexes never replace the primary one; they are asked
after it.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import SplitResult, urlsplit, urlunsplit

from lading.errors import IndexError_
from lading.model import Lock, expand_vars

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

#: System-wide pip configuration files (pip reads ``$XDG_CONFIG_DIRS/pip/pip.conf``, then these).
#: A module attribute so tests can point it away from the host's files.
SYSTEM_CONFIG_FILES: tuple[str, ...] = ("/etc/pip.conf",)

# Where each format keeps its index list, for "where did this URL come from" messages.
_LOCK_INDEX_FIELD = {
    "pipfile": "_meta.sources[0]",
    "poetry": "source[0]",
    "pdm": "source[0]",
    "uv": "package.source.registry",
    "pylock": "packages[].index",
    "requirements": "--index-url",
}


@dataclass(frozen=True)
class IndexConfig:
    """The indexes to ask, primary first; ``where`` says where the primary came from."""

    primary: str
    extra: tuple[str, ...] = ()
    where: str = ""
    #: One entry per ``extra`` URL, same order.
    extra_where: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        return (self.primary, *self.extra)

    def __repr__(self) -> str:
        extra = "".join(f"{redact(u)!r}, " for u in self.extra)
        primary = redact(self.primary)
        return f"IndexConfig(primary={primary!r}, extra=({extra}), where={self.where!r})"


def redact(url: str) -> str:
    """The URL with any password or token in its user part replaced by ``***``.

    A user part without a password is a token too (``https://TOKEN@host/``), so it is hidden.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, _password = userinfo.partition(":")
    shown = f"{user}:***" if sep and user else "***"
    return urlunsplit(SplitResult(parts.scheme, f"{shown}@{hostport}", *parts[2:]))


def redact_text(text: str) -> str:
    """Every URL inside free text (an exception message) redacted."""
    return _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), text)


#: Anything but ASCII letters and digits in an index name becomes ``_`` in its variable names.
_NOT_ENV = re.compile(r"[^A-Z0-9]")


def env_name(index_name: str) -> str:
    """An index's name as it appears in ``LADING_INDEX_<NAME>_USERNAME``: upper case, ``_`` for the rest."""
    return _NOT_ENV.sub("_", index_name.upper())


def env_credentials(
    name: Optional[str], environ: Mapping[str, str], *, primary: bool = False
) -> Optional[tuple[str, str]]:
    """(user, password) for an index from ``LADING_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``, else (for
    the primary index) ``LADING_INDEX_USERNAME`` / ``LADING_INDEX_PASSWORD``; None when unset.

    Either half may be missing (a token given as the user name alone, or a password for an empty
    user): the other half is then empty. The values are returned, never logged.
    """
    prefixes = [f"LADING_INDEX_{env_name(name)}_"] if name else []
    if primary:
        prefixes.append("LADING_INDEX_")
    for prefix in prefixes:
        user = environ.get(f"{prefix}USERNAME", "")
        password = environ.get(f"{prefix}PASSWORD", "")
        if user or password:
            return user, password
    return None


def split_urls(value: str) -> tuple[str, ...]:
    """pip's list syntax: URLs separated by any whitespace (including newlines in pip.conf)."""
    return tuple(value.split())


def default_indexes(
    cli_index_url: Optional[str],
    cli_extra: Sequence[str],
    lock: Optional[Lock],
    environ: Mapping[str, str] = os.environ,
) -> IndexConfig:
    """The configured indexes, primary first, each ``${VAR}``-expanded from ``environ``."""
    pip = read_pip_config(environ)
    primary, where = _primary(cli_index_url, lock, pip, environ)
    extra: list[tuple[str, str]] = [(u, "--extra-index-url") for u in cli_extra]
    if lock is not None:
        extra += [(ix.url, f"lock ({lock.path.name})") for ix in lock.indexes if ix.extra]
    lading_extra = split_urls(environ.get("LADING_EXTRA_INDEX_URL", ""))
    extra += [(u, "LADING_EXTRA_INDEX_URL") for u in lading_extra]
    if pip.extra_index_urls:
        extra += [(u, pip.extra_where) for u in pip.extra_index_urls]
    primary = _expanded(primary, where, environ)
    seen = {primary}
    urls: list[str] = []
    wheres: list[str] = []
    for url, source in extra:
        url = _expanded(url, source, environ)
        if url not in seen:
            seen.add(url)
            urls.append(url)
            wheres.append(source)
    return IndexConfig(primary=primary, extra=tuple(urls), where=where, extra_where=tuple(wheres))


def _primary(
    cli_index_url: Optional[str],
    lock: Optional[Lock],
    pip: PipConfig,
    environ: Mapping[str, str],
) -> tuple[str, str]:
    if cli_index_url:
        return cli_index_url, "--index-url"
    if environ.get("LADING_INDEX_URL"):
        return environ["LADING_INDEX_URL"], "LADING_INDEX_URL"
    own = [ix for ix in lock.indexes if not ix.extra] if lock is not None else []
    if lock is not None and own:
        field = _LOCK_INDEX_FIELD.get(lock.format, "indexes[0]")
        name = f" {own[0].name!r}" if own[0].name else ""
        return own[0].url, f"lock ({lock.path.name} {field}{name})"
    if pip.index_url:
        return pip.index_url, pip.index_where
    default = pip_default_index()
    if default is None:
        raise IndexError_(
            "no package index configured",
            hint="pass --index-url or set LADING_INDEX_URL",
        )
    return default, "pip's default"


def _expanded(url: str, where: str, environ: Mapping[str, str]) -> str:
    expanded = expand_vars(url, environ)
    unset = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", expanded)
    if unset:
        raise IndexError_(
            f"index URL {redact(url)} uses ${{{unset[0]}}}, which is not set",
            field=where,
            hint=f"set the environment variable {unset[0]} (or give the index with --index-url)",
        )
    return expanded


def pip_default_index() -> Optional[str]:
    """pip's built-in index, asked from pip itself so lading never hard-codes a registry host."""
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found,unused-ignore]
    except Exception:  # pip absent or its internals moved: the user must say which index
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) and url else None


@dataclass(frozen=True)
class PipConfig:
    """The index settings pip would use, with where each came from."""

    index_url: Optional[str] = None
    index_where: str = ""
    extra_index_urls: tuple[str, ...] = ()
    extra_where: str = ""


def pip_config_files(environ: Mapping[str, str]) -> tuple[Path, ...]:
    """pip's configuration files in pip's loading order (later ones win)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return ()  # pip's documented way to switch every configuration file off
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files += [Path(f) for f in SYSTEM_CONFIG_FILES]
    # pip skips the user's files when PIP_CONFIG_FILE names an existing file.
    if not (env_file and Path(env_file).exists()):
        xdg_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        files += [home / ".pip" / "pip.conf", Path(xdg_home) / "pip" / "pip.conf"]
    if environ.get("VIRTUAL_ENV"):
        files.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return tuple(files)


def read_pip_config(environ: Mapping[str, str]) -> PipConfig:
    """``index-url``/``extra-index-url`` as pip resolves them.

    Within a section later files win; any ``[install]`` value wins over every ``[global]`` one (pip
    merges each section across files before applying them); environment variables win over files.
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}  # (section, key) -> (value, where)
    for path in pip_config_files(environ):
        sections = _read_sections(path)
        for section in ("global", "install"):
            for key in ("index-url", "extra-index-url"):
                if key in sections.get(section, {}):
                    value = sections[section][key]
                    found[section, key] = (value, f"pip.conf ({path} {section}.{key})")

    def pick(key: str, variable: str) -> Optional[tuple[str, str]]:
        if environ.get(variable):
            return environ[variable], variable
        return found.get(("install", key)) or found.get(("global", key))

    index = pick("index-url", "PIP_INDEX_URL")
    extra = pick("extra-index-url", "PIP_EXTRA_INDEX_URL")
    return PipConfig(
        index_url=index[0].strip() or None if index else None,
        index_where=index[1] if index else "",
        extra_index_urls=split_urls(extra[0]) if extra else (),
        extra_where=extra[1] if extra else "",
    )


def _read_sections(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise IndexError_(
            f"cannot read pip configuration: {exc}",
            file=path,
            hint="fix or remove the file (lading reads pip's index settings from it)",
        ) from exc
    # pip accepts both spellings of its option names in config files.
    return {
        section: {k.replace("_", "-"): v for k, v in parser.items(section)}
        for section in parser.sections()
    }
