"""Reading TOML and JSON files into plain data, with errors that name the file and the position."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lading.errors import LockFormatError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LockFormatError("file not found", file=path, hint="check the path") from exc
    except IsADirectoryError as exc:
        raise LockFormatError("is a directory, expected a file", file=path) from exc
    except UnicodeDecodeError as exc:
        raise LockFormatError(
            f"not UTF-8 text (byte {exc.start})", file=path, hint="is this really a lock file?"
        ) from exc
    except OSError as exc:
        raise LockFormatError(f"cannot be read: {exc.strerror}", file=path) from exc
    except ValueError as exc:  # a NUL character in the path, from a file that names another
        raise LockFormatError(f"cannot be read: {exc}", file=path) from exc


def load_toml(path: Path) -> dict[str, Any]:
    return parse_toml(read_text(path), path)


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        raise LockFormatError(
            f"malformed TOML: {exc}",
            file=path,
            hint="the file was edited by hand or truncated; re-create it with the tool that wrote it",
        ) from exc


def load_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockFormatError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            file=path,
            hint="the file was edited by hand or truncated; re-create it with the tool that wrote it",
        ) from exc
