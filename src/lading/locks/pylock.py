"""PEP 751 pylock.toml: the native format; ``packaging.pylock`` does the validating."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

from lading._toml import load_toml
from lading.errors import LockFormatError
from lading.locks.staleness import Freshness
from lading.model import Index, Lock, Origin

_PACKAGE_CONTEXT = re.compile(r"^packages\[(\d+)\]\.?(.*)$")


def read(path: Path) -> Lock:
    data = load_toml(path)
    pylock = from_dict(data, path)
    origins = tuple(
        Origin(path, f"packages[{i}] ({p.name}{' ' + str(p.version) if p.version else ''})")
        for i, p in enumerate(pylock.packages)
    )
    indexes: list[Index] = []
    for package in pylock.packages:
        if package.index and all(ix.url != package.index for ix in indexes):
            indexes.append(Index(url=package.index))
    groups = set(pylock.dependency_groups or ())
    return Lock(
        path=path,
        format="pylock",
        pylock=pylock,
        origins=origins,
        indexes=tuple(indexes),
        dev_groups=frozenset(g for g in groups if g == "dev"),
    )


def from_dict(data: dict[str, Any], path: Path) -> Pylock:
    """Validate with ``packaging`` and translate its context path into lading's file/package/field."""
    try:
        return Pylock.from_dict(data)
    except PylockUnsupportedVersionError as exc:
        raise LockFormatError(
            f"lock-version {data.get('lock-version')!r} is not supported (lading reads 1.x)",
            file=path,
            field="lock-version",
            hint="upgrade lading, or re-create the lock with a tool that writes PEP 751 version 1",
        ) from exc
    except PylockValidationError as exc:
        package, field = _locate(data, exc.context)
        raise LockFormatError(
            exc.message,
            file=path,
            package=package,
            field=field,
            hint="the lock does not follow PEP 751; re-create it with the tool that wrote it",
        ) from exc
    except (TypeError, ValueError) as exc:
        raise LockFormatError(
            f"invalid value: {exc}",
            file=path,
            hint="the lock does not follow PEP 751; re-create it with the tool that wrote it",
        ) from exc


def _locate(data: dict[str, Any], context: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    if not context:
        return None, None
    match = _PACKAGE_CONTEXT.match(context)
    if not match:
        return None, context
    i = int(match.group(1))
    packages = data.get("packages")
    name = None
    if isinstance(packages, list) and i < len(packages) and isinstance(packages[i], dict):
        entry = packages[i]
        name = f"{entry.get('name', '?')} {entry.get('version', '')}".strip()
    return name, context


def freshness(lock: Lock) -> Freshness:
    """PEP 751 records no manifest hash in the standard, so there is nothing to compare."""
    return Freshness(
        checked=False,
        fresh=True,
        method="pylock.toml records no manifest hash",
        manifest=lock.manifest,
    )
