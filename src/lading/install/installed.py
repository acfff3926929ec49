"""What an environment has installed: the ``*.dist-info`` directories of its purelib and platlib.

Reading is kept cheap because a sync starts with it: one directory listing per library directory, and per
distribution the METADATA headers up to the first blank line (never the long description), INSTALLER,
REQUESTED and direct_url.json, each tried by opening it rather than by a separate existence check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from lading.install.paths import InstallPaths
from lading.install.records import RecordEntry, parse_record


@dataclass(frozen=True)
class InstalledDist:
    """One installed distribution, as its dist-info directory describes it.

    ``record`` is None when RECORD is missing (a distribution whose install was interrupted, or one that
    was installed without a RECORD by an old tool). ``written`` is filled by ``install`` with the RECORD
    entries it wrote; a scan leaves it empty (``record_entries()`` reads the file).
    """

    name: NormalizedName
    project_name: str
    version: str
    dist_info: Path
    installer: Optional[str] = None
    requested: bool = False
    direct_url: Optional[Mapping[str, Any]] = None
    record: Optional[Path] = None
    written: tuple[RecordEntry, ...] = field(default=(), compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.project_name} {self.version}"

    @property
    def complete(self) -> bool:
        return self.record is not None

    @property
    def installed_by_lading(self) -> bool:
        return self.installer == "lading"

    @property
    def location(self) -> Path:
        """The directory RECORD paths are relative to (the dist-info's parent)."""
        return self.dist_info.parent

    def record_entries(self) -> list[RecordEntry]:
        if self.written:
            return list(self.written)
        if self.record is None:
            return []
        with open(self.record, encoding="utf-8") as handle:
            return parse_record(handle.read(), file=self.record, package=self.label)


def read_dist_info(dist_info: Path) -> Optional[InstalledDist]:
    """The distribution a dist-info directory describes, or None when it has no usable METADATA."""
    headers = _metadata_headers(dist_info / "METADATA")
    if headers is None:
        return None
    project_name = headers.get("name", "").strip()
    version = headers.get("version", "").strip()
    if not project_name or not version:
        return None
    installer = _first_line(dist_info / "INSTALLER")
    requested = _exists(dist_info / "REQUESTED")
    direct_url = _json_object(dist_info / "direct_url.json")
    record_path = dist_info / "RECORD"
    return InstalledDist(
        name=canonicalize_name(project_name),
        project_name=project_name,
        version=version,
        dist_info=dist_info,
        installer=installer,
        requested=requested,
        direct_url=direct_url,
        record=record_path if _exists(record_path) else None,
    )


def scan_all(paths: InstallPaths) -> list[InstalledDist]:
    """Every distribution in purelib and platlib (duplicates included), ordered by directory then name."""
    found: list[InstalledDist] = []
    seen_dirs: set[str] = set()
    for directory in (paths.purelib, paths.platlib):
        key = os.path.normcase(os.path.realpath(directory))
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        try:
            names = sorted(entry.name for entry in os.scandir(directory) if entry.name.endswith(".dist-info"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            dist = read_dist_info(Path(directory) / name)
            if dist is not None:
                found.append(dist)
    return found


def scan(paths: InstallPaths) -> dict[NormalizedName, InstalledDist]:
    """The installed distributions by normalized name.

    When one name has several dist-info directories (a broken environment), the complete one with the
    highest version wins; ``scan_all`` lists them all, so a sync can remove the others.
    """
    chosen: dict[NormalizedName, InstalledDist] = {}
    for dist in scan_all(paths):
        current = chosen.get(dist.name)
        if current is None or _rank(dist) > _rank(current):
            chosen[dist.name] = dist
    return chosen


def _rank(dist: InstalledDist) -> tuple[bool, Version]:
    try:
        version = Version(dist.version)
    except InvalidVersion:
        version = Version("0")
    return dist.complete, version


def _metadata_headers(path: Path) -> Optional[dict[str, str]]:
    """Lower-cased single-valued headers of METADATA, read up to the first blank line."""
    headers: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            last: Optional[str] = None
            for line in handle:
                if line in ("\n", "\r\n"):
                    break
                if line[:1] in (" ", "\t") and last is not None:
                    headers[last] += " " + line.strip()
                    continue
                key, sep, value = line.partition(":")
                if not sep:
                    continue
                last = key.strip().lower()
                headers.setdefault(last, value.strip())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return headers


def _first_line(path: Path) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _exists(path: Path) -> bool:
    return os.path.isfile(path)


def _json_object(path: Path) -> Optional[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
