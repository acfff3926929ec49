"""Where the parts of a wheel go: the five install-scheme directories (a ``Scheme`` produces one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InstallPaths:
    """Absolute directories of one install scheme (sysconfig's purelib/platlib/scripts/data/include)."""

    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    headers: Path

    def for_key(self, key: str) -> Path:
        """The directory for a ``.data/<key>`` subdirectory (``purelib``, ``platlib``, ``scripts``, ...)."""
        if key not in DATA_KEYS:
            raise KeyError(key)
        path: Path = getattr(self, key)
        return path

    def roots(self) -> tuple[Path, ...]:
        """Every directory files may be installed below, without duplicates, in a fixed order."""
        seen: list[Path] = []
        for key in DATA_KEYS:
            path = getattr(self, key)
            if path not in seen:
                seen.append(path)
        return tuple(seen)


DATA_KEYS = ("purelib", "platlib", "scripts", "data", "headers")
