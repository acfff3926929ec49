"""What every reader's result must satisfy before selection and export rely on it.

Readers build :class:`packaging.pylock.Package` objects with the keyword constructors, which skip
``packaging``'s validation (files known by name only have no url). ``Pylock.select`` assumes a valid
lock, though: it parses every wheel file name and expects one kind of source per package. These are
checked here, once for every format, so a damaged lock is reported where it was read, not as a
``packaging`` exception in the middle of a selection.
"""

from __future__ import annotations

from packaging.pylock import PackageSdist, PackageWheel, PylockValidationError
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lading.errors import LockFormatError
from lading.model import Lock, Package

_HINT = "the lock is damaged or was edited by hand; re-create it with the tool that wrote it"


def validate(lock: Lock) -> Lock:
    """``lock`` unchanged, or a :class:`LockFormatError` naming the package at fault."""
    for i, package in enumerate(lock.packages):
        _check_sources(lock, i, package)
        for wheel in package.wheels or ():
            _check_wheel(lock, i, wheel)
        if package.sdist is not None:
            _filename(lock, i, package.sdist, "sdist")
    return lock


def _fail(lock: Lock, i: int, why: str) -> LockFormatError:
    entry = lock.origins[i].entry.split(" ", 1)[0] if i < len(lock.origins) else f"packages[{i}]"
    return LockFormatError(why, file=lock.path, package=lock.describe(i), field=entry, hint=_HINT)


def _check_sources(lock: Lock, i: int, package: Package) -> None:
    direct = sum(x is not None for x in (package.vcs, package.directory, package.archive))
    files = bool(package.wheels) or package.sdist is not None
    if direct > 1 or (direct and files):
        raise _fail(lock, i, "names more than one source (vcs, directory, archive, or files)")
    if not direct and not files:
        raise _fail(lock, i, "names no source: no files, no url, no path and no vcs")


def _filename(lock: Lock, i: int, artifact: PackageWheel | PackageSdist, what: str) -> str:
    try:
        return artifact.filename
    except PylockValidationError as exc:
        location = artifact.url or artifact.path
        raise _fail(lock, i, f"a {what} has no file name (url or path {location!r} names none)") from exc
    except ValueError as exc:  # urllib refuses some URLs outright ("Invalid IPv6 URL")
        raise _fail(lock, i, f"a {what} URL {artifact.url!r} is not a valid URL ({exc})") from exc


def _check_wheel(lock: Lock, i: int, wheel: PackageWheel) -> None:
    filename = _filename(lock, i, wheel, "wheel")
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise _fail(lock, i, f"{filename!r} is not a valid wheel file name ({exc})") from exc
