"""Is a lock still what its manifest asks for? The checks behind ``verify --deploy``.

Each format module knows how its tool decides freshness (a content hash, or recorded requirements) and
implements ``freshness(lock)``; this module holds the shared result type and the dispatch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lading.model import Lock


@dataclass(frozen=True)
class Freshness:
    checked: bool
    fresh: bool
    method: str
    manifest: Optional[Path] = None
    differences: tuple[str, ...] = ()


def freshness(lock: Lock) -> Freshness:
    module = importlib.import_module(f"lading.locks.{_MODULES[lock.format]}")
    result: Freshness = module.freshness(lock)
    return result


_MODULES = {
    "pylock": "pylock",
    "uv": "uvlock",
    "poetry": "poetry",
    "pipfile": "pipfile",
    "pdm": "pdm",
    "requirements": "requirements",
}
