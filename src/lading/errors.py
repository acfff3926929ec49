"""The one exception family lading raises; only the CLI turns these into text and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class LadingError(Exception):
    """Something the user can act on: names the file, the package and the field, says why and what next.

    Rendered as ``FILE: package NAME VERSION: FIELD: WHY`` followed by a ``hint:`` line.
    """

    exit_code = 1

    def __init__(
        self,
        why: str,
        *,
        file: Optional[Union[str, Path]] = None,
        package: Optional[str] = None,
        field: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(why)
        self.why = why
        self.file = str(file) if file is not None else None
        self.package = package
        self.field = field
        self.hint = hint

    def located(
        self,
        *,
        file: Optional[Union[str, Path]] = None,
        package: Optional[str] = None,
        field: Optional[str] = None,
    ) -> LadingError:
        """Fill in location facts a lower layer did not know, keeping the ones it did."""
        if self.file is None and file is not None:
            self.file = str(file)
        if self.package is None and package is not None:
            self.package = package
        if field is not None:
            self.field = f"{field}.{self.field}" if self.field else field
        return self

    @property
    def headline(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.package:
            parts.append(f"package {self.package}")
        if self.field:
            parts.append(self.field)
        parts.append(self.why)
        return ": ".join(parts)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.headline}\n  hint: {self.hint}"
        return self.headline


class UsageError(LadingError):
    """The command line itself is wrong (exit 2)."""

    exit_code = 2


class LockFormatError(LadingError):
    """A lock file or manifest cannot be read: malformed, unknown version, contradictory."""


class UnsupportedHashError(LockFormatError):
    """An artifact is hashed only with an algorithm lading will not trust."""


class StaleLockError(LadingError):
    """The lock no longer matches its manifest (``verify --deploy``)."""


class DeployError(LadingError):
    """The lock is readable but not fit for a production install (unpinned, unhashed, ...)."""


class TargetError(LadingError):
    """An interpreter could not be introspected, or a platform spec is invalid."""


class SelectionError(LadingError):
    """The lock cannot serve the requested target / groups / extras."""


class IndexError_(LadingError):
    """A package index could not be reached or answered something unusable."""


class DiskFullError(LadingError):
    """A write failed because the file system holding ``where`` has no space (or quota) left."""


def disk_full(exc: OSError, where: Union[str, Path], what: str = "") -> Optional[DiskFullError]:
    """The error to raise for ``exc`` if it means "no space left" (ENOSPC, EDQUOT), else None.

    ``where`` is the directory the user can act on (the cache root, the venv), not a temp file in it.
    """
    import errno

    if exc.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return None
    shown = f" while writing {what}" if what else ""
    return DiskFullError(
        f"disk full: no space left on the file system holding {where}{shown}",
        hint=f"free space there (`df -h {where}`), or point lading elsewhere (--cache-dir DIR or "
        "LADING_CACHE_DIR for the cache, another --venv for the environment), then run the same command again; "
        "nothing half-written was kept",
    )
