"""Put files from the cache into an environment: reflink (FICLONE), hardlink or copy, with fallback.

``auto`` tries clone, then hardlink, then copy; the first failure of a mode decides for the rest of the run
(under a lock, so worker threads agree). A forced mode that cannot work raises an InstallError with a hint.

The cache must never change through a link, so nothing here writes into an existing file: a destination
that exists is replaced by linking or copying to a temporary name in the same directory and renaming it
over. Files lading generates itself go through ``write_new`` (temp file, then rename), which yields a new
inode even where the old one was a hardlink into the cache.

Clones and copies keep the source's permission bits and modification time, since timestamp-based pyc files
in the cache are only valid for sources with the same mtime.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional, Union

from lading.install import InstallError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LINK_MODES = ("auto", "clone", "hardlink", "copy")


def _ficlone_request() -> Optional[int]:
    if fcntl is None:  # pragma: no cover - Windows
        return None
    value = getattr(fcntl, "FICLONE", None)
    if isinstance(value, int):
        return value
    # fcntl.FICLONE appeared in 3.12; the ioctl number is the same on every Linux architecture we support.
    return 0x40049409 if sys.platform.startswith("linux") else None


FICLONE: Optional[int] = _ficlone_request()

# Errors that say "this mode does not work here" (rather than "this file is broken").
_CLONE_UNSUPPORTED = {
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOTTY,
    errno.ENOSYS,
    errno.EPERM,
    errno.EBADF,
}
_HARDLINK_UNSUPPORTED = {errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EACCES}

_counter = itertools.count()


def temp_name(path: Union[str, Path]) -> str:
    """A name beside ``path`` that no other thread or process uses (``.<name>.<pid>.<n>.lading-tmp``)."""
    head, tail = os.path.split(os.fspath(path))
    return os.path.join(head, f".{tail}.{os.getpid()}.{next(_counter)}.lading-tmp")


def write_new(path: Union[str, Path], data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` as a new file at ``path`` (temp name, then rename), never through an existing inode."""
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)  # the umask must not strip the executable bits of scripts
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class Linker:
    """Places files with one link mode for the whole run (``auto`` settles on the first that works)."""

    def __init__(self, mode: str = "auto") -> None:
        if mode not in LINK_MODES:
            raise InstallError(
                f"unknown link mode {mode!r}",
                field="--link-mode",
                hint="choose one of: " + ", ".join(LINK_MODES),
            )
        self.requested = mode
        self._lock = threading.Lock()
        if mode == "auto":
            self._mode = "clone" if FICLONE is not None else "hardlink"
        else:
            self._mode = mode

    @property
    def mode(self) -> str:
        """The mode in use now (for ``auto``, what it has settled on so far)."""
        return self._mode

    # -- one file -------------------------------------------------------------------------------------------

    def link(self, src: Union[str, Path], dst: Union[str, Path]) -> None:
        """Make ``dst`` a file with the content of ``src``; an existing ``dst`` is replaced atomically."""
        source, target = os.fspath(src), os.fspath(dst)
        while True:
            mode = self._mode
            try:
                self._place(mode, source, target)
                return
            except OSError as error:
                if mode == "hardlink" and error.errno == errno.EMLINK:
                    # Too many links to this one cache file: copy just this one; hardlinks still work for others.
                    self._place("copy", source, target)
                    return
                if not self._fall_back(mode, error):
                    raise _link_error(mode, error, source, target) from error

    def _place(self, mode: str, src: str, dst: str) -> None:
        action = _ACTIONS[mode]
        try:
            action(src, dst)
        except FileExistsError:
            tmp = temp_name(dst)
            try:
                action(src, tmp)
                os.replace(tmp, dst)
            except BaseException:
                _unlink_quietly(tmp)
                raise

    def _fall_back(self, mode: str, error: OSError) -> bool:
        """Decide what the failure of ``mode`` means; True to retry with the (possibly new) mode."""
        if self.requested != "auto":
            return False
        unsupported = _CLONE_UNSUPPORTED if mode == "clone" else _HARDLINK_UNSUPPORTED if mode == "hardlink" else set()
        if error.errno not in unsupported:
            return False
        with self._lock:
            if self._mode == mode:
                self._mode = "hardlink" if mode == "clone" else "copy"
        return True

    # -- many files -----------------------------------------------------------------------------------------

    def link_all(self, pairs: Sequence[tuple[str, str]], jobs: int = 1) -> None:
        """Link every ``(src, dst)`` pair; the destination directories must exist already."""
        if jobs <= 1 or len(pairs) < 2 * _CHUNK:
            self._link_chunk(pairs)
            return
        chunks = [pairs[start : start + _CHUNK] for start in range(0, len(pairs), _CHUNK)]
        # The first chunk runs alone so that ``auto`` settles its mode before threads race on it.
        self._link_chunk(chunks[0][:1])
        chunks[0] = chunks[0][1:]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for _ in pool.map(self._link_chunk, chunks):
                pass

    def _link_chunk(self, pairs: Sequence[tuple[str, str]]) -> None:
        for src, dst in pairs:
            self.link(src, dst)


_CHUNK = 64


def _clone(src: str, dst: str) -> None:
    assert fcntl is not None and FICLONE is not None
    _transfer(src, dst, lambda sfd, dfd, size: fcntl.ioctl(dfd, FICLONE, sfd))


def _copy(src: str, dst: str) -> None:
    _transfer(src, dst, _copy_bytes)


def _hardlink(src: str, dst: str) -> None:
    os.link(src, dst)


def _transfer(src: str, dst: str, move: Callable[[int, int, int], object]) -> None:
    """Create ``dst`` exclusively with ``src``'s mode, fill it with ``move``, then copy ``src``'s times."""
    cloexec = getattr(os, "O_CLOEXEC", 0)
    sfd = os.open(src, os.O_RDONLY | cloexec)
    try:
        stat = os.fstat(sfd)
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | cloexec, stat.st_mode & 0o777)
        try:
            move(sfd, dfd, stat.st_size)
            os.utime(dfd, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            os.close(dfd)
        except BaseException:
            os.close(dfd)
            _unlink_quietly(dst)
            raise
    finally:
        os.close(sfd)


def _copy_bytes(sfd: int, dfd: int, size: int) -> None:
    if hasattr(os, "sendfile"):
        try:
            offset = 0
            while offset < size:
                sent = os.sendfile(dfd, sfd, offset, size - offset)
                if sent == 0:
                    break
                offset += sent
            return
        except OSError as error:
            if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            os.lseek(sfd, 0, os.SEEK_SET)
            os.lseek(dfd, 0, os.SEEK_SET)
            os.ftruncate(dfd, 0)
    with os.fdopen(os.dup(sfd), "rb") as source, os.fdopen(os.dup(dfd), "wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)


_ACTIONS: dict[str, Callable[[str, str], None]] = {"clone": _clone, "hardlink": _hardlink, "copy": _copy}


def _link_error(mode: str, error: OSError, src: str, dst: str) -> InstallError:
    reason = os.strerror(error.errno) if error.errno else str(error)
    if mode == "clone" and error.errno in _CLONE_UNSUPPORTED:
        hint = "this file system cannot reflink; use --link-mode auto (clone, then hardlink, then copy) or copy"
    elif mode == "hardlink" and error.errno in _HARDLINK_UNSUPPORTED:
        hint = (
            "the cache and the environment must be on one file system to hardlink; move the cache "
            "(--cache-dir) or use --link-mode copy"
        )
    else:
        hint = "check the permissions of the environment and the cache, and the free space"
    return InstallError(f"cannot {mode} {src} to {dst}: {reason}", file=dst, hint=hint)
