"""Questions about paths a lock names, answered for any text the lock holds.

``Path.exists()`` and friends raise on some names before Python 3.12 (a component longer than the
file system allows, a NUL byte) and on paths the user may not look into; a path lading cannot stat is
one it cannot use, so these answer ``False`` and leave the error to whoever needs the file.
"""

from __future__ import annotations

from pathlib import Path


def exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def file_url_path(url_path: str) -> Path:
    """The local path of a ``file:`` URL's path part, by ``url2pathname`` (imported on first use:
    ``urllib.request`` brings ``http.client`` and the email parser, 11 ms a warm install would pay)."""
    from urllib.request import url2pathname

    return Path(url2pathname(url_path))
