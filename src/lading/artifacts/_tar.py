"""Deterministic tar archives of a directory tree: the venv tarball, the .deb members, image layers.

The same tree gives the same bytes whoever packs it, wherever, whenever:

- entries sorted by path components (a directory comes right before what it holds);
- uid/gid 0 with empty user and group names;
- every mtime the same fixed time (``SOURCE_DATE_EPOCH``, default 315532800, 1980-01-01);
- modes normalised: 0755 for directories and for files with any execute bit, 0644 for other files,
  whatever the umask or the cache made of them;
- symbolic links kept as links; hard links stored as regular files each time they appear (staged files
  are often hard links into lading's cache, whose link counts say nothing about the artifact);
- gzip with mtime 0 and no file name, xz with fixed settings.

Anything else in the tree (devices, FIFOs, sockets) is refused: an artifact has no business holding them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Literal, Optional, cast

from lading.errors import LadingError, UsageError

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, also zip's earliest time
Compression = Literal["gz", "xz", "none"]


def given_epoch(environ: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org) when set, else None; the one place lading reads it."""
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    try:
        epoch = int(value)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds", field="SOURCE_DATE_EPOCH",
                         hint="set it to a Unix time such as $(git log -1 --format=%ct), or unset it") from None
    if epoch < 0:
        raise UsageError(f"SOURCE_DATE_EPOCH={value!r} is before 1970", field="SOURCE_DATE_EPOCH",
                         hint="set it to a Unix time")
    return epoch


def source_date_epoch(environ: Optional[Mapping[str, str]] = None) -> int:
    """The fixed time for every entry: ``SOURCE_DATE_EPOCH`` when set, else 1980-01-01."""
    given = given_epoch(environ)
    return DEFAULT_EPOCH if given is None else given


def compression_for(path: Path) -> Compression:
    """The compression a file name asks for: ``.tar.gz``/``.tgz``, ``.tar.xz``/``.txz``, or plain ``.tar``."""
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "gz"
    if name.endswith((".tar.xz", ".txz")):
        return "xz"
    if name.endswith(".tar"):
        return "none"
    raise LadingError("the output name does not say which archive to write", file=path,
                      hint="end it in .tar.gz, .tgz, .tar.xz or .tar")


@dataclass(frozen=True)
class Member:
    """One entry of the archive: ``path`` relative to the tree (``""`` for the tree itself)."""

    path: str
    kind: Literal["dir", "file", "symlink"]
    mode: int
    size: int = 0
    target: str = ""  # for symlinks


def normal_mode(st_mode: int) -> int:
    if stat.S_ISDIR(st_mode) or st_mode & 0o111:
        return 0o755
    return 0o644


def walk(tree: Path) -> Iterator[Member]:
    """The tree's entries in archive order (sorted by path components), the root first as ``""``."""
    yield Member("", "dir", 0o755)
    yield from _walk(tree, "")


def _walk(directory: Path, relative: str) -> Iterator[Member]:
    try:
        names = sorted(os.listdir(directory), key=os.fsencode)
    except OSError as exc:
        raise LadingError(f"cannot list the directory: {exc.strerror or exc}", file=directory) from exc
    for name in names:
        path = directory / name
        child = f"{relative}/{name}" if relative else name
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            yield Member(child, "symlink", 0o777, target=os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            yield Member(child, "dir", 0o755)
            yield from _walk(path, child)
        elif stat.S_ISREG(st.st_mode):
            yield Member(child, "file", normal_mode(st.st_mode), size=st.st_size)
        else:
            raise LadingError("is neither a file, a directory nor a symbolic link; it cannot be packed",
                              file=path, hint="remove it from the tree")


def _name(prefix: str, relative: str) -> str:
    if not prefix:
        return relative
    return f"{prefix}/{relative}" if relative else prefix


def _info(name: str, kind: str, mode: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE}[kind]
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tar(tree: Path, stream: IO[bytes], *, prefix: str = "", mtime: int = DEFAULT_EPOCH,
              parents: bool = False, root_entry: bool = True,
              fmt: int = tarfile.GNU_FORMAT) -> int:
    """Write an uncompressed tar of ``tree`` to ``stream``; returns the number of entries.

    ``prefix`` places the tree under a path (``opt/app``: entries ``opt/app/``, ``opt/app/bin/``, ...;
    ``.``: ``./``, ``./opt/``, as in a .deb). ``parents`` adds entries for the prefix's own parents
    (``opt/``). ``root_entry`` False leaves out the entry of the tree itself. Without a prefix the tree's
    entries are relative (``bin/python``) and there is no root entry.
    """
    prefix = prefix.strip("/")
    count = 0
    with tarfile.open(fileobj=stream, mode="w", format=fmt, encoding="utf-8") as archive:
        if parents and prefix and prefix != ".":
            parts = prefix.split("/")
            for i in range(1, len(parts)):
                archive.addfile(_info("/".join(parts[:i]), "dir", 0o755, mtime))
                count += 1
        for member in walk(tree):
            if not member.path and (not prefix or not root_entry):
                continue
            info = _info(_name(prefix, member.path) or ".", member.kind, member.mode, mtime)
            if member.kind == "symlink":
                info.linkname = member.target
                archive.addfile(info)
            elif member.kind == "file":
                source = tree / member.path
                with open(source, "rb") as handle:
                    # The size is taken from the open file: what is read is what the header says.
                    info.size = os.fstat(handle.fileno()).st_size
                    archive.addfile(info, handle)
            else:
                archive.addfile(info)
            count += 1
    return count


@contextmanager
def compressed(stream: IO[bytes], compression: Compression) -> Iterator[BinaryIO]:
    """A writer that compresses into ``stream`` deterministically (closed, not ``stream``, on exit)."""
    if compression == "gz":
        with gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0, compresslevel=9) as gz:
            yield cast(BinaryIO, gz)
    elif compression == "xz":
        with lzma.LZMAFile(stream, "wb", format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6) as xz:
            yield cast(BinaryIO, xz)
    else:
        yield cast(BinaryIO, stream)


def tar_bytes(tree: Path, compression: Compression = "none", *, prefix: str = "", mtime: int = DEFAULT_EPOCH,
              parents: bool = False) -> bytes:
    """The whole archive in memory (for small trees such as a .deb's control member)."""
    raw = io.BytesIO()
    with compressed(raw, compression) as out:
        write_tar(tree, out, prefix=prefix, mtime=mtime, parents=parents)
    return raw.getvalue()


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    sha256: str
    entries: int


def pack(tree: Path, output: Path, *, prefix: str = "", mtime: int = DEFAULT_EPOCH, parents: bool = False,
         compression: Optional[Compression] = None) -> Written:
    """Write the archive of ``tree`` to ``output`` through a temporary file beside it, renamed into place."""
    kind = compression or compression_for(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            with compressed(handle, kind) as out:
                entries = write_tar(tree, out, prefix=prefix, mtime=mtime, parents=parents)
            handle.flush()
        os.chmod(temporary, 0o644)
        digest = hashlib.sha256()
        with open(temporary, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Written(output, output.stat().st_size, digest.hexdigest(), entries)


__all__ = [
    "DEFAULT_EPOCH",
    "Compression",
    "Member",
    "Written",
    "compressed",
    "compression_for",
    "given_epoch",
    "normal_mode",
    "pack",
    "source_date_epoch",
    "tar_bytes",
    "walk",
    "write_tar",
]
