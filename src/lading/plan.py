"""Selection x installed state -> Plan: what to install, upgrade, downgrade, reinstall, remove or keep.

Pure: the installed state is given as plain values, so ``--dry-run`` and the real run share one decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Protocol, Union
from urllib.parse import urlparse, urlsplit, urlunsplit

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from lading._fs import file_url_path
from lading.model import (
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Selected,
    Selection,
)

ActionKind = Literal["install", "upgrade", "downgrade", "reinstall", "remove", "unchanged"]
ACTION_KINDS: tuple[ActionKind, ...] = ("install", "upgrade", "downgrade", "reinstall", "remove", "unchanged")

#: Never removed by an exact sync: removing the environment's own package manager breaks it for the user.
PROTECTED: frozenset[str] = frozenset({"pip"})


class InstalledView(Protocol):
    """What the planner needs to know about an installed distribution."""

    @property
    def name(self) -> NormalizedName: ...

    @property
    def version(self) -> str: ...

    @property
    def direct_url(self) -> Optional[Mapping[str, Any]]: ...


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: NormalizedName
    installed: Optional[str] = None
    locked: Optional[str] = None
    selected: Optional[Selected] = None
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    protected: tuple[NormalizedName, ...] = field(default=())

    def of(self, *kinds: ActionKind) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind in kinds)

    @property
    def to_install(self) -> tuple[Action, ...]:
        """Everything that needs files: new, upgraded, downgraded and reinstalled packages."""
        return self.of("install", "upgrade", "downgrade", "reinstall")

    @property
    def to_remove(self) -> tuple[Action, ...]:
        """Distributions to uninstall first: removals and the old side of every replacement."""
        return self.of("remove", "upgrade", "downgrade", "reinstall")

    @property
    def changes(self) -> bool:
        return any(a.kind != "unchanged" for a in self.actions)

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in ACTION_KINDS}


def make_plan(
    selection: Selection,
    installed: Iterable[InstalledView],
    *,
    exact: bool = True,
    reinstall: Union[Iterable[str], Mapping[str, str]] = (),
) -> Plan:
    """``reinstall`` names packages to reinstall anyway; a mapping gives each its reason."""
    present = {canonicalize_name(d.name): d for d in installed}
    reasons = dict(reinstall) if isinstance(reinstall, Mapping) else dict.fromkeys(reinstall, "asked to reinstall")
    forced = {canonicalize_name(n): why for n, why in reasons.items()}
    actions: list[Action] = []
    wanted: set[NormalizedName] = set()
    for chosen in selection.selected:
        name = canonicalize_name(chosen.package.name)
        wanted.add(name)
        locked = chosen.version
        dist = present.get(name)
        if dist is None:
            actions.append(Action("install", name, None, locked, chosen, "not installed"))
            continue
        kind, reason = _compare(dist, chosen, locked, forced=forced.get(name), base=selection.lock.path.parent)
        actions.append(Action(kind, name, dist.version, locked, chosen, reason))
    kept: list[NormalizedName] = []
    for name in sorted(set(present) - wanted):
        if name in PROTECTED:
            kept.append(name)
            continue
        if exact:
            actions.append(Action("remove", name, present[name].version, None, None, "not in the lock's selection"))
    actions.sort(key=lambda a: (a.name, a.kind))
    return Plan(actions=tuple(actions), protected=tuple(kept))


def _compare(
    dist: InstalledView, chosen: Selected, locked: Optional[str], *, forced: Optional[str], base: Path
) -> tuple[ActionKind, str]:
    if forced:
        return "reinstall", forced
    source = chosen.source
    if isinstance(source, PackageDirectory):
        # A source tree may have changed without a version change: rebuild unless it is editable and the
        # installed copy already points at it (then the tree itself is what is imported).
        if source.editable and _direct_url_matches(dist.direct_url, chosen, base):
            return "unchanged", "editable install of the same directory"
        return "reinstall", "built from a local directory"
    if locked is not None and dist.version != locked:
        return _direction(dist.version, locked)
    if not _direct_url_matches(dist.direct_url, chosen, base):
        return "reinstall", "installed from another source"
    return "unchanged", ""


def _direction(installed: str, locked: str) -> tuple[ActionKind, str]:
    try:
        older = Version(installed) < Version(locked)
    except InvalidVersion:
        return "reinstall", f"installed version {installed!r} is not a valid version"
    return ("upgrade", f"{installed} -> {locked}") if older else ("downgrade", f"{installed} -> {locked}")


_PLACEHOLDER_USERINFO = re.compile(r"\$\{\w+\}(:\$\{\w+\})?")


def public_url(url: str) -> str:
    """The URL without credentials, as PEP 610 wants it in ``direct_url.json``: only ``${VAR}``
    placeholders and ssh's ``git`` user may stay."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or userinfo == "git" or _PLACEHOLDER_USERINFO.fullmatch(userinfo):
        return url
    return urlunsplit(parts._replace(netloc=host))


def _direct_url_matches(direct_url: Optional[Mapping[str, Any]], chosen: Selected, base: Path) -> bool:
    """Whether the installed copy came from the same kind of source the lock names (PEP 610)."""
    source = chosen.source
    if isinstance(source, (PackageWheel, PackageSdist)) or chosen.pending is not None:
        return direct_url is None  # an index install records no direct URL
    if direct_url is None:
        return False
    url = str(direct_url.get("url", ""))
    if isinstance(source, PackageVcs):
        info = direct_url.get("vcs_info") or {}
        return bool(info.get("commit_id") == source.commit_id
                    and url.rstrip("/") == public_url(source.url or "").rstrip("/"))
    if isinstance(source, PackageArchive):
        info = direct_url.get("archive_info") or {}
        hashes = info.get("hashes") or {}
        return any(hashes.get(alg) == value for alg, value in source.hashes.items()) or (
            source.url is not None and url == public_url(source.url) and not source.hashes
        )
    if isinstance(source, PackageDirectory):
        info = direct_url.get("dir_info") or {}
        parsed = urlparse(url)
        if parsed.scheme != "file":
            return False
        same = file_url_path(parsed.path).resolve() == (base / source.path).resolve()
        return same and bool(info.get("editable")) == bool(source.editable)
    return False
