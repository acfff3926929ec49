"""The values that cross module boundaries: a read lock, a target, a selection.

A :class:`Lock` is a :class:`packaging.pylock.Pylock` plus provenance. Every reader produces one, so that
selection, export and (later) install never look at the source format again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
)
from packaging.tags import Tag

LockFormat = Literal["pylock", "uv", "poetry", "pipfile", "pdm", "requirements"]
LOCK_FORMATS: tuple[LockFormat, ...] = ("pylock", "uv", "poetry", "pipfile", "pdm", "requirements")

Source = Union[PackageVcs, PackageDirectory, PackageArchive, PackageWheel, PackageSdist]

#: Hash algorithms lading accepts for verifying downloads, strongest first. md5/sha1 are refused.
SUPPORTED_HASHES: tuple[str, ...] = ("sha512", "sha384", "sha256", "blake2b", "sha3_256", "sha3_512")

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_vars(text: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}`` as pipenv and pip do; unknown variables stay as written."""
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        return match.group(0)

    return _VAR.sub(replace, text)


@dataclass(frozen=True)
class Index:
    """A package index (simple API base URL) named by a lock; ``url`` keeps ``${VAR}`` unexpanded."""

    url: str
    name: Optional[str] = None
    verify_ssl: bool = True
    #: An extra index (requirements.txt ``--extra-index-url``): searched too, never the lock's default.
    extra: bool = False

    def expanded(self, environ: Optional[Mapping[str, str]] = None) -> str:
        return expand_vars(self.url, environ)


@dataclass(frozen=True)
class Origin:
    """Where one locked package came from, for messages: ``poetry.lock: package[12]``."""

    file: Path
    entry: str
    #: (file name, field) of each artifact where the source format records it, e.g.
    #: ``("numpy-2.4.6-cp311-….whl", "package[12].files[3]")``, so messages can name the lock's own field.
    files: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.file.name}: {self.entry}"

    def file_field(self, filename: str) -> Optional[str]:
        return next((where for name, where in self.files if name == filename), None)


@dataclass(frozen=True)
class PendingFiles:
    """Artifacts known only by hash (Pipfile.lock, requirements.txt): their files are found on the index.

    Such a package is carried in the :class:`Pylock` with a placeholder archive (no url, no path) so that
    ``Pylock.select`` can decide on markers and groups; the real wheel or sdist is chosen once the index
    listing is known.
    """

    hashes: tuple[str, ...]  # "alg:hex"


def pending_placeholder() -> PackageArchive:
    """The stand-in source for a package whose files are known only by hash (see :class:`PendingFiles`)."""
    return PackageArchive(url=None, path=None, hashes={})


Severity = Literal["error", "warning", "deploy-error"]


@dataclass(frozen=True)
class Finding:
    """Something a reader noticed that is not fatal on its own: an unhashed or unpinned entry.

    ``deploy-error`` findings become errors under ``--deploy``.
    """

    severity: Severity
    file: Path
    message: str
    package: Optional[str] = None
    field: Optional[str] = None

    def __str__(self) -> str:
        parts = [self.file.name]
        if self.package:
            parts.append(f"package {self.package}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


@dataclass(frozen=True)
class Lock:
    """A lock file of any format, read into one model.

    ``origins[i]`` and ``pending.get(i)`` describe ``pylock.packages[i]``. Group names are those of the
    source format; the package markers use ``'g' in dependency_groups`` / ``'x' in extras`` for them.
    """

    path: Path
    format: LockFormat
    pylock: Pylock
    origins: tuple[Origin, ...]
    indexes: tuple[Index, ...] = ()
    pending: Mapping[int, PendingFiles] = field(default_factory=dict)
    dev_groups: frozenset[str] = frozenset()
    findings: tuple[Finding, ...] = ()
    manifest: Optional[Path] = None
    #: Facts a staleness check needs that are not in the Pylock (content hashes, recorded requirements).
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def packages(self) -> Sequence[Package]:
        return self.pylock.packages

    @property
    def default_groups(self) -> tuple[str, ...]:
        return tuple(self.pylock.default_groups or ())

    @property
    def groups(self) -> tuple[str, ...]:
        """Groups a user can ask for (not the default ones)."""
        return tuple(self.pylock.dependency_groups or ())

    @property
    def extras(self) -> tuple[str, ...]:
        return tuple(self.pylock.extras or ())

    def is_project(self, i: int) -> bool:
        """Whether package ``i`` is the project itself: the source tree the lock sits in."""
        directory = self.pylock.packages[i].directory
        if directory is None:
            return False
        return (self.path.parent / directory.path).resolve() == self.path.parent.resolve()

    def describe(self, i: int) -> str:
        package = self.pylock.packages[i]
        return f"{package.name} {package.version}" if package.version else str(package.name)


@dataclass(frozen=True)
class Target:
    """Where a selection will be installed: marker environment and compatible tags, best first."""

    name: str
    environment: Mapping[str, str]
    tags: tuple[Tag, ...]
    interpreter: Optional[str] = None  # path of a live interpreter, None for a platform spec

    @property
    def python_version(self) -> str:
        return self.environment["python_version"]


@dataclass(frozen=True)
class GroupRequest:
    """What beyond the default set the user asked for; the same flags on every command."""

    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    dev: bool = False
    all_groups: bool = False
    all_extras: bool = False
    no_project: bool = False


@dataclass(frozen=True)
class Selected:
    package: Package
    source: Source
    origin: Origin
    pending: Optional[PendingFiles] = None
    index: Optional[str] = None

    @property
    def version(self) -> Optional[str]:
        """The locked version; for a direct archive that records none, the one its file name states."""
        if self.package.version is not None:
            return str(self.package.version)
        if isinstance(self.source, PackageArchive):
            return archive_version(self.source)
        return None


def archive_version(archive: PackageArchive) -> Optional[str]:
    from urllib.parse import urlparse

    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    location = archive.path or urlparse(archive.url or "").path
    filename = location.rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


SkipReason = Literal["marker", "group", "no-compatible-artifact", "project"]


@dataclass(frozen=True)
class Skipped:
    package: Package
    origin: Origin
    reason: SkipReason
    detail: str


@dataclass(frozen=True)
class Selection:
    lock: Lock
    target: Target
    groups: frozenset[str]
    extras: frozenset[str]
    selected: tuple[Selected, ...]
    skipped: tuple[Skipped, ...]


__all__ = [
    "LOCK_FORMATS",
    "SUPPORTED_HASHES",
    "Finding",
    "GroupRequest",
    "Index",
    "Lock",
    "LockFormat",
    "Origin",
    "Package",
    "PackageArchive",
    "PackageDirectory",
    "PackageSdist",
    "PackageVcs",
    "PackageWheel",
    "PendingFiles",
    "Pylock",
    "Selected",
    "Selection",
    "Skipped",
    "Source",
    "Target",
    "expand_vars",
    "pending_placeholder",
]
