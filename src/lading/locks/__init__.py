"""Readers and writers of every lock format. ``read`` dispatches on the detected format."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

from lading.errors import LadingError
from lading.model import Lock, LockFormat

_READERS: dict[LockFormat, str] = {
    "pylock": "lading.locks.pylock",
    "uv": "lading.locks.uvlock",
    "poetry": "lading.locks.poetry",
    "pipfile": "lading.locks.pipfile",
    "pdm": "lading.locks.pdm",
    "requirements": "lading.locks.requirements",
}


def read(path: Path, fmt: Optional[LockFormat] = None) -> Lock:
    """Read any lock into the model; a damaged one raises a ``LockFormatError`` naming the file."""
    from lading.locks._validate import validate
    from lading.locks.detect import format_of

    fmt = fmt or format_of(path)
    module = importlib.import_module(_READERS[fmt])
    try:
        lock: Lock = module.read(path)
    except LadingError as exc:
        # a shared helper (marker atoms, names) knows the why but not the file
        raise exc.located(file=path) from None
    return validate(lock)
