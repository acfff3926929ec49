"""One wheel: unpack the archive into a cache tree (validating everything), install a tree into a scheme.

``unpack`` checks the whole archive from its central directory and small metadata members before it writes
a byte: member names, member types, duplicates, sizes, the dist-info and .data names, WHEEL and RECORD.
Content hashes are checked while extracting (the bytes have to be inflated anyway); a mismatch removes what
was written, and the caller only publishes a tree that ``unpack`` returned from. The tree gets a small
manifest (``.lading-wheel.json``) so an install re-reads one file instead of RECORD, WHEEL and
entry_points.txt, and never rehashes: RECORD entries come from the hashes taken at unpack time.

``install`` links the tree's files into an ``InstallPaths`` (``.data/<key>`` to the scheme, root files to
purelib or platlib per ``Root-Is-Purelib``), with the tree's ``__pycache__/*.<tag>.pyc`` files for one
interpreter, then writes the files lading generates (scripts, INSTALLER, REQUESTED, direct_url.json) as new
files and RECORD last, so an interrupted install leaves no RECORD and is redone by the next run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import heapq
import json
import mmap
import os
import re
import shutil
import struct
import threading
import zipfile
import zlib
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Optional, Union

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lading.install import InstallError, WheelError
from lading.install.installed import InstalledDist
from lading.install.link import Linker, write_new
from lading.install.paths import DATA_KEYS, InstallPaths
from lading.install.records import SIGNATURE_NAMES, RecordEntry, format_record, parse_record
from lading.install.scripts import EntryPoint, parse_entry_points, rewrite_shebang, script_text

MANIFEST_NAME = ".lading-wheel.json"
MANIFEST_FORMAT = 1
PYC_MARKER_PREFIX = ".lading-pyc-"  # written by lading.install.bytecode once a tree's pycs for a tag are complete
PYC_RECORD_PREFIX = ".lading-pycrecord-"
_RESERVED_PREFIX = ".lading-"
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
# Members read into memory while validating; anything larger is refused rather than inflated.
_SMALL_LIMITS = {"WHEEL": 1 << 16, "RECORD": 64 << 20, "entry_points.txt": 4 << 20}
# Written by the installer, not taken from the wheel (the wheel spec says wheels must not contain them).
_INSTALLER_FILES = ("INSTALLER", "REQUESTED", "direct_url.json", "RECORD", *SIGNATURE_NAMES)


@dataclass(frozen=True)
class UnpackLimits:
    """Zip-bomb guards, checked against the sizes the archive declares (inflating never exceeds them)."""

    max_total_size: int = 16 << 30
    max_ratio: float = 200.0  # declared uncompressed bytes per archive byte, beyond ``ratio_slack``
    ratio_slack: int = 32 << 20
    max_members: int = 250_000


@dataclass(frozen=True)
class WheelFile:
    """One file of an unpacked tree: archive path, sha256 (hex) and size of its content, executable bit."""

    path: str
    sha256: str
    size: int
    executable: bool = False


@dataclass(frozen=True)
class UnpackedWheel:
    """A wheel unpacked into a directory (normally a cache tree), with what installing it needs."""

    root: Path
    filename: str
    name: NormalizedName
    version: str
    dist_info: str
    data_dir: Optional[str]
    root_is_purelib: bool
    tags: tuple[str, ...]
    files: tuple[WheelFile, ...]
    entry_points: tuple[EntryPoint, ...]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def project_name(self) -> str:
        """The name as the dist-info directory spells it (escaped, e.g. ``foo_bar``)."""
        return self.dist_info[: -len(".dist-info")].rpartition("-")[0]

    @classmethod
    def load(cls, root: Union[str, Path]) -> UnpackedWheel:
        """Re-read a tree ``unpack`` wrote, from its manifest (one file read)."""
        root = Path(root)
        path = root / MANIFEST_NAME
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            return _from_manifest(root, data)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
            raise WheelError(
                f"the unpacked wheel's manifest cannot be read ({error.__class__.__name__}: {error})",
                file=path,
                field=MANIFEST_NAME,
                hint="the cache entry is damaged or from another lading version; remove it (lading cache clean) "
                "and run again",
            ) from error

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "filename": self.filename,
            "name": self.name,
            "version": self.version,
            "dist_info": self.dist_info,
            "data_dir": self.data_dir,
            "root_is_purelib": self.root_is_purelib,
            "tags": list(self.tags),
            "files": [[f.path, f.sha256, f.size, int(f.executable)] for f in self.files],
            "entry_points": [[e.name, e.module, e.attr, int(e.gui)] for e in self.entry_points],
        }


def _from_manifest(root: Path, data: Mapping[str, Any]) -> UnpackedWheel:
    if data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"manifest format {data.get('format')!r}, expected {MANIFEST_FORMAT}")
    files = tuple(WheelFile(str(p), str(h), int(s), bool(x)) for p, h, s, x in data["files"])
    entry_points = tuple(EntryPoint(str(n), str(m), str(a), bool(g)) for n, m, a, g in data["entry_points"])
    # The cache is trusted, but a damaged manifest must still not place files outside the scheme.
    for file in files:
        if file.path.startswith("/") or ".." in file.path.split("/") or "\\" in file.path:
            raise ValueError(f"unsafe path {file.path!r}")
    for entry_point in entry_points:
        if "/" in entry_point.name or entry_point.name in ("", ".", ".."):
            raise ValueError(f"unsafe script name {entry_point.name!r}")
    data_dir = data["data_dir"]
    return UnpackedWheel(
        root=root,
        filename=str(data["filename"]),
        name=canonicalize_name(str(data["name"])),
        version=str(data["version"]),
        dist_info=str(data["dist_info"]),
        data_dir=None if data_dir is None else str(data_dir),
        root_is_purelib=bool(data["root_is_purelib"]),
        tags=tuple(str(tag) for tag in data["tags"]),
        files=files,
        entry_points=entry_points,
    )


# ---------------------------------------------------------------------------------------------------------
# unpack


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    executable: bool
    expected: RecordEntry


@dataclass(frozen=True)
class _Inspection:
    name: NormalizedName
    version: str
    dist_info: str
    data_dir: Optional[str]
    root_is_purelib: bool
    members: tuple[_Member, ...]
    directories: tuple[str, ...]
    entry_points: tuple[EntryPoint, ...]


class _Refusal:
    """Builds WheelErrors that name the archive and the package."""

    def __init__(self, archive: Path, package: Optional[str]) -> None:
        self.archive = archive
        self.package = package

    def __call__(self, why: str, *, field: Optional[str] = None, hint: Optional[str] = None) -> WheelError:
        return WheelError(
            why,
            file=self.archive,
            package=self.package,
            field=field,
            hint=hint or "the wheel is refused and nothing was installed; get it again from a trusted source, "
            "or report it to its publisher",
        )


def unpack(
    archive: Union[str, Path],
    dest: Union[str, Path],
    *,
    limits: UnpackLimits = UnpackLimits(),
    jobs: int = 1,
) -> UnpackedWheel:
    """Validate ``archive`` and extract it into ``dest`` (missing or empty); return the tree's description.

    On any error ``dest`` is left empty (removed if this call created it). ``jobs`` > 1 inflates large
    wheels with that many threads, each with its own ZipFile.
    """
    archive, dest = Path(archive), Path(dest)
    refuse = _Refusal(archive, None)
    try:
        name, version, _build, tags = parse_wheel_filename(archive.name)
    except InvalidWheelFilename as error:
        raise refuse(f"not a valid wheel file name: {error}", field="filename") from error
    refuse.package = f"{name} {version}"
    try:
        archive_size = os.path.getsize(archive)
        with zipfile.ZipFile(archive) as opened:
            inspection = _inspect(opened, archive_size, name, Version(str(version)), refuse, limits)
    except zipfile.BadZipFile as error:
        raise refuse(f"not a readable zip archive: {error}") from error
    except OSError as error:
        raise refuse(f"cannot read the archive: {error}", hint="check that the file exists and is readable") from error
    tags_text = tuple(sorted(str(tag) for tag in tags))
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    if not created and any(os.scandir(dest)):
        raise InstallError(f"cannot unpack into {dest}: the directory is not empty", file=dest)
    try:
        files = _extract(archive, dest, inspection, refuse, jobs)
        unpacked = UnpackedWheel(
            root=dest,
            filename=archive.name,
            name=inspection.name,
            version=inspection.version,
            dist_info=inspection.dist_info,
            data_dir=inspection.data_dir,
            root_is_purelib=inspection.root_is_purelib,
            tags=tags_text,
            files=files,
            entry_points=inspection.entry_points,
        )
        write_new(dest / MANIFEST_NAME, json.dumps(unpacked.manifest(), separators=(",", ":")).encode("utf-8"))
    except BaseException:
        _empty(dest, remove=created)
        raise
    return unpacked


def _empty(directory: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _check_name(info: zipfile.ZipInfo, refuse: _Refusal) -> str:
    name = info.filename
    field = f"member {info.orig_filename!r}"
    if info.orig_filename != name and info.orig_filename.replace(os.sep, "/") != name:
        raise refuse("member name contains a NUL byte", field=field)
    if "\\" in name:
        raise refuse("member name contains a backslash", field=field)
    if name.startswith("/") or _DRIVE.match(name):
        raise refuse("member name is an absolute path", field=field)
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise refuse("member name has an empty, '.' or '..' component (it could write outside the tree)",
                     field=field)
    if parts[0].startswith(_RESERVED_PREFIX):
        raise refuse(f"member name {parts[0]!r} is reserved for lading's own files", field=field)
    return name


def _inspect(
    opened: zipfile.ZipFile,
    archive_size: int,
    name: NormalizedName,
    version: Version,
    refuse: _Refusal,
    limits: UnpackLimits,
) -> _Inspection:
    infos = opened.infolist()
    if len(infos) > limits.max_members:
        raise refuse(f"the archive has {len(infos)} members, more than the limit of {limits.max_members}")
    files: dict[str, tuple[zipfile.ZipInfo, bool]] = {}
    directories: set[str] = set()
    seen: set[str] = set()
    total = 0
    for info in infos:
        member = _check_name(info, refuse)
        field = f"member {member!r}"
        if member in seen:
            raise refuse("the archive lists this member twice", field=field)
        seen.add(member)
        mode = info.external_attr >> 16
        kind = mode & 0o170000
        if kind not in (0, 0o100000, 0o040000):
            what = "a symbolic link" if kind == 0o120000 else f"a special file (mode {oct(mode)})"
            raise refuse(f"member is {what}; wheels may only contain regular files", field=field)
        if member.endswith("/") or kind == 0o040000:
            directories.add(member.rstrip("/"))
            continue
        total += info.file_size
        files[member] = (info, bool(mode & 0o111))
    _check_sizes(total, archive_size, refuse, limits)
    for member in files:
        parent = member.rpartition("/")[0]
        while parent:
            directories.add(parent)
            parent = parent.rpartition("/")[0]
    clash = directories.intersection(files)
    if clash:
        raise refuse("the archive has a file and a directory of the same name", field=f"member {min(clash)!r}")

    tops = {member.split("/", 1)[0] for member in files if "/" in member} | {d.split("/", 1)[0] for d in directories}
    dist_info = _dist_info_dir(tops, name, version, refuse)
    stem = dist_info[: -len(".dist-info")]
    data_dirs = sorted(top for top in tops if top.endswith(".data"))
    if data_dirs and data_dirs != [f"{stem}.data"]:
        raise refuse(f"unexpected .data directories {data_dirs}; the only one allowed is {stem}.data",
                     field="member names")
    data_dir = data_dirs[0] if data_dirs else None
    if data_dir is not None:
        for member in files:
            if member.startswith(data_dir + "/"):
                parts = member.split("/")
                if len(parts) < 3 or parts[1] not in DATA_KEYS:
                    raise refuse(
                        f"files under {data_dir}/ must be in one of {', '.join(DATA_KEYS)}",
                        field=f"member {member!r}",
                    )

    wheel_text = _read_small(opened, files, f"{dist_info}/WHEEL", refuse)
    root_is_purelib = _parse_wheel_file(wheel_text, refuse, f"{dist_info}/WHEEL")
    record_name = f"{dist_info}/RECORD"
    record = parse_record(_read_small(opened, files, record_name, refuse), file=refuse.archive, package=refuse.package)
    members = _match_record(files, record, record_name, refuse)
    entry_points: tuple[EntryPoint, ...] = ()
    entry_points_name = f"{dist_info}/entry_points.txt"
    if entry_points_name in files:
        text = _read_small(opened, files, entry_points_name, refuse)
        entry_points = parse_entry_points(text, file=refuse.archive, package=refuse.package)
    return _Inspection(
        name=name,
        version=str(version),
        dist_info=dist_info,
        data_dir=data_dir,
        root_is_purelib=root_is_purelib,
        members=members,
        directories=tuple(sorted(directories)),
        entry_points=entry_points,
    )


def _check_sizes(total: int, archive_size: int, refuse: _Refusal, limits: UnpackLimits) -> None:
    if total > limits.max_total_size:
        raise refuse(
            f"the archive declares {total} bytes uncompressed, more than the limit of {limits.max_total_size}",
            hint="this looks like a zip bomb; the wheel is refused and nothing was written",
        )
    if total > limits.ratio_slack + limits.max_ratio * archive_size:
        raise refuse(
            f"the archive declares {total} bytes uncompressed from {archive_size} bytes "
            f"(more than {limits.max_ratio:g} times)",
            hint="this looks like a zip bomb; the wheel is refused and nothing was written",
        )


def _dist_info_dir(tops: set[str], name: NormalizedName, version: Version, refuse: _Refusal) -> str:
    found = sorted(top for top in tops if top.endswith(".dist-info"))
    if len(found) != 1:
        raise refuse(
            f"expected exactly one .dist-info directory, found {len(found)}" + (f": {found}" if found else ""),
            field="member names",
        )
    dist_info = found[0]
    dist_name, sep, dist_version = dist_info[: -len(".dist-info")].rpartition("-")
    try:
        same = bool(sep) and canonicalize_name(dist_name) == name and Version(dist_version) == version
    except InvalidVersion:
        same = False
    if not same:
        raise refuse(
            f"the dist-info directory {dist_info!r} does not match the file name's {name} {version}",
            field="member names",
        )
    return dist_info


def _read_small(opened: zipfile.ZipFile, files: Mapping[str, tuple[zipfile.ZipInfo, bool]], member: str,
                refuse: _Refusal) -> str:
    if member not in files:
        raise refuse(f"the archive has no {member}", field=f"member {member!r}")
    info = files[member][0]
    limit = _SMALL_LIMITS[member.rpartition("/")[2]]
    if info.file_size > limit:
        raise refuse(f"{member} declares {info.file_size} bytes, more than {limit}", field=f"member {member!r}")
    try:
        return opened.read(info).decode("utf-8")
    except UnicodeDecodeError as error:
        raise refuse(f"{member} is not UTF-8 text", field=f"member {member!r}") from error


def _parse_wheel_file(text: str, refuse: _Refusal, member: str) -> bool:
    headers = HeaderParser().parsestr(text)
    wheel_version = (headers.get("Wheel-Version") or "").strip()
    match = re.fullmatch(r"(\d+)\.(\d+)", wheel_version)
    if not match:
        raise refuse(f"Wheel-Version {wheel_version!r} is missing or not MAJOR.MINOR", field=f"{member}.Wheel-Version")
    if int(match.group(1)) != 1:
        raise refuse(
            f"Wheel-Version {wheel_version} is not supported (lading installs 1.x)",
            field=f"{member}.Wheel-Version",
            hint="the wheel needs a newer installer; look for a lading update",
        )
    purelib = (headers.get("Root-Is-Purelib") or "").strip().lower()
    if purelib not in ("true", "false"):
        raise refuse(f"Root-Is-Purelib {purelib!r} is missing or not true/false", field=f"{member}.Root-Is-Purelib")
    return purelib == "true"


def _match_record(
    files: Mapping[str, tuple[zipfile.ZipInfo, bool]],
    record: Sequence[RecordEntry],
    record_name: str,
    refuse: _Refusal,
) -> tuple[_Member, ...]:
    listed: dict[str, RecordEntry] = {}
    for entry in record:
        previous = listed.get(entry.path)
        if previous is not None and previous != entry:
            raise refuse("RECORD lists this path twice with different values", field=f"RECORD[{entry.path!r}]")
        listed[entry.path] = entry
    unsigned = {record_name} | {f"{record_name.rpartition('/')[0]}/{sig}" for sig in SIGNATURE_NAMES}
    members = []
    for member, (info, executable) in files.items():
        if member in unsigned:
            continue
        found = listed.get(member)
        if found is None:
            raise refuse("the member is not listed in RECORD", field=f"member {member!r}",
                         hint="the wheel was altered after it was built, or built by a broken tool; it is refused")
        entry = found
        if not entry.hash:
            raise refuse("RECORD gives no hash for this member", field=f"RECORD[{member!r}]")
        if entry.size is not None and entry.size != info.file_size:
            raise refuse(f"RECORD says {entry.size} bytes, the archive has {info.file_size}",
                         field=f"RECORD[{member!r}]", hint="the wheel was altered after it was built; it is refused")
        members.append(_Member(info, executable, entry))
    for path, entry in listed.items():
        if entry.hash and path not in files:
            raise refuse("RECORD lists a file the archive does not have", field=f"RECORD[{path!r}]",
                         hint="the wheel is incomplete or was altered after it was built; it is refused")
    return tuple(members)


def _extract(archive: Path, dest: Path, inspection: _Inspection, refuse: _Refusal, jobs: int) -> tuple[WheelFile, ...]:
    root = os.fspath(dest)
    for directory in inspection.directories:  # sorted: parents first
        with contextlib.suppress(FileExistsError):
            os.mkdir(os.path.join(root, directory))
    members = list(inspection.members)
    total = sum(member.info.file_size for member in members)
    with open(archive, "rb") as handle, _mapped(handle) as data:
        if jobs <= 1 or total < (8 << 20) or len(members) < 2:
            with _Reader(archive, data, refuse) as reader:
                return tuple(reader.extract(root, member) for member in members)
        buckets = _balance(members, jobs)
        by_path: dict[str, WheelFile] = {}
        lock = threading.Lock()

        def work(bucket: list[_Member]) -> None:
            with _Reader(archive, data, refuse) as reader:  # one per thread: the zipfile fallback has a file lock
                for member in bucket:
                    result = reader.extract(root, member)
                    with lock:
                        by_path[result.path] = result

        with ThreadPoolExecutor(max_workers=len(buckets)) as pool:
            for _ in pool.map(work, buckets):
                pass
    return tuple(by_path[member.info.filename] for member in members)


@contextlib.contextmanager
def _mapped(handle: Any) -> Iterator[Union[mmap.mmap, bytes]]:
    """The whole archive as one buffer: members are then sliced out of it without a system call each."""
    try:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty, or a file system that cannot map: read it (wheels are small)
        handle.seek(0)
        yield handle.read()
        return
    try:
        yield mapped
    finally:
        with contextlib.suppress(BufferError):  # a view still held by an error's traceback: GC closes it
            mapped.close()


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"


class _Reader:
    """Extracts members of one archive: stored and deflated ones straight from the mapped buffer (zlib, then
    ``os.write``: three system calls per file), anything else through :mod:`zipfile`."""

    def __init__(self, archive: Path, data: Union[mmap.mmap, bytes], refuse: _Refusal) -> None:
        self.archive = archive
        self.data = data
        self.view = memoryview(data)
        self.refuse = refuse
        self._zip: Optional[zipfile.ZipFile] = None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.view.release()
        if self._zip is not None:
            self._zip.close()

    def _chunks(self, info: zipfile.ZipInfo) -> Generator[bytes, None, None]:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
            yield from self._zipfile_chunks(info)
            return
        field = f"member {info.filename!r}"
        start = info.header_offset
        header = bytes(self.view[start : start + _LOCAL_HEADER.size])
        if len(header) != _LOCAL_HEADER.size:
            raise self.refuse("the member's local header lies outside the archive", field=field)
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != _LOCAL_SIGNATURE:
            raise self.refuse("the member's local header is missing (bad signature)", field=field)
        name_size, extra_size = fields[10], fields[11]
        name_at = start + _LOCAL_HEADER.size
        name = bytes(self.view[name_at : name_at + name_size])
        if name.decode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace") != info.orig_filename:
            raise self.refuse("the member's local header names another file than the central directory",
                              field=field)
        begin = name_at + name_size + extra_size
        end = begin + info.compress_size
        if end > len(self.data):
            raise self.refuse("the member's data runs past the end of the archive", field=field)
        if info.compress_type == zipfile.ZIP_STORED:
            for at in range(begin, end, _CHUNK):
                yield bytes(self.view[at : min(end, at + _CHUNK)])
            return
        inflater = zlib.decompressobj(-15)
        produced = 0
        pending: Any = self.view[begin:end]
        try:
            while True:
                chunk = inflater.decompress(pending, _CHUNK)
                produced += len(chunk)
                if produced > info.file_size:
                    break  # the size check after extraction refuses it; never inflate beyond the declared size
                if chunk:
                    yield chunk
                pending = inflater.unconsumed_tail
                if not pending:
                    rest = inflater.flush()
                    if rest:
                        produced += len(rest)
                        if produced <= info.file_size:
                            yield rest
                    break
        except zlib.error as error:
            raise self.refuse(f"the member cannot be inflated: {error}", field=field) from error
        finally:
            if isinstance(pending, memoryview):
                pending.release()

    def _zipfile_chunks(self, info: zipfile.ZipInfo) -> Generator[bytes, None, None]:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.archive)
        try:
            with self._zip.open(info) as source:
                while True:
                    chunk = source.read(_CHUNK)
                    if not chunk:
                        return
                    yield chunk
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error) as error:
            raise self.refuse(f"the member cannot be inflated: {error}", field=f"member {info.filename!r}") \
                from error

    def extract(self, root: str, member: _Member) -> WheelFile:
        info = member.info
        expected = member.expected
        sha256 = hashlib.sha256()
        other = None if expected.algorithm == "sha256" else hashlib.new(expected.algorithm)
        path = os.path.join(root, info.filename)
        size = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o755 if member.executable else 0o644)
            chunks = self._chunks(info)
            try:
                for chunk in chunks:
                    size += len(chunk)
                    sha256.update(chunk)
                    if other is not None:
                        other.update(chunk)
                    written = os.write(fd, chunk)
                    if written < len(chunk):
                        view = memoryview(chunk)[written:]
                        while view:
                            view = view[os.write(fd, view):]
            finally:
                chunks.close()
                os.close(fd)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                hint = "the disk holding the cache is full; free space or move the cache (--cache-dir)"
            else:
                hint = "check the permissions of the cache directory"
            raise InstallError(f"cannot write {path}: {error.strerror or error}", file=path, hint=hint) from error
        digest = (other or sha256).digest()
        if size != info.file_size or digest != expected.digest:
            raise self.refuse(
                "the member's content does not match its RECORD hash",
                field=f"RECORD[{info.filename!r}]",
                hint="the wheel was altered after it was built; it is refused",
            )
        return WheelFile(info.filename, sha256.hexdigest(), size, member.executable)


_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _balance(members: Sequence[_Member], jobs: int) -> list[list[_Member]]:
    """Split members into ``jobs`` buckets of similar uncompressed size (largest first, greedy)."""
    heap: list[tuple[int, int]] = [(0, index) for index in range(jobs)]
    buckets: list[list[_Member]] = [[] for _ in range(jobs)]
    for member in sorted(members, key=lambda m: -m.info.file_size):
        size, index = heapq.heappop(heap)
        buckets[index].append(member)
        heapq.heappush(heap, (size + member.info.file_size, index))
    return [bucket for bucket in buckets if bucket]


# ---------------------------------------------------------------------------------------------------------
# install


def install(
    unpacked: UnpackedWheel,
    paths: InstallPaths,
    *,
    interpreter: str,
    linker: Linker,
    requested: bool,
    direct_url: Optional[Mapping[str, Any]] = None,
    installer: str = "lading",
    bytecode_tag: Optional[str] = None,
    jobs: Optional[int] = None,
) -> InstalledDist:
    """Place an unpacked wheel into ``paths`` and return the distribution with the RECORD entries written.

    ``interpreter`` goes into script shebangs. ``bytecode_tag`` (``cpython-311``) adds the tree's
    ``__pycache__/*.<tag>[.opt-N].pyc`` files; pycs of other tags are never installed. ``jobs``: threads
    for linking (None: serial for small trees, a few threads for large ones).
    """
    try:
        return _Installation(unpacked, paths, interpreter, linker, bytecode_tag).run(
            requested=requested, direct_url=direct_url, installer=installer, jobs=jobs
        )
    except InstallError as error:
        raise error.located(package=unpacked.label) from None


class _Installation:
    def __init__(
        self,
        unpacked: UnpackedWheel,
        paths: InstallPaths,
        interpreter: str,
        linker: Linker,
        bytecode_tag: Optional[str],
    ) -> None:
        self.unpacked = unpacked
        self.paths = paths
        self.interpreter = interpreter
        self.linker = linker
        self.tag = bytecode_tag
        self.lib = os.fspath(paths.purelib if unpacked.root_is_purelib else paths.platlib)
        self.lib_prefix = self.lib.rstrip(os.sep) + os.sep
        self.tree = os.fspath(unpacked.root)
        self.records: dict[str, RecordEntry] = {}
        self.directories: set[str] = set()

    def record_path(self, destination: str) -> str:
        if destination.startswith(self.lib_prefix):
            relative = destination[len(self.lib_prefix) :]
        else:
            relative = os.path.relpath(destination, self.lib)
        return relative.replace(os.sep, "/")

    def destination(self, path: str) -> tuple[str, str]:
        """Where an archive path goes: (absolute destination, scheme key or "" for the root)."""
        data_dir = self.unpacked.data_dir
        if data_dir is not None and path.startswith(data_dir + "/"):
            _, key, rest = path.split("/", 2)
            if key == "headers":
                # As pip does: each distribution's headers go into a directory named after it.
                return os.path.join(os.fspath(self.paths.headers), self.unpacked.name, rest), key
            return os.path.join(os.fspath(self.paths.for_key(key)), rest), key
        return os.path.join(self.lib, path), ""

    def run(
        self, *, requested: bool, direct_url: Optional[Mapping[str, Any]], installer: str, jobs: Optional[int]
    ) -> InstalledDist:
        unpacked = self.unpacked
        dist_info_prefix = unpacked.dist_info + "/"
        skip = {dist_info_prefix + name for name in _INSTALLER_FILES}
        links: list[tuple[str, str]] = []
        meta_links: list[tuple[str, str]] = []
        scripts: list[tuple[str, WheelFile]] = []
        code_dirs: dict[str, str] = {}
        for file in unpacked.files:
            if file.path in skip or _is_shipped_bytecode(file.path):
                continue
            destination, key = self.destination(file.path)
            self.directories.add(os.path.dirname(destination))
            if key == "scripts":
                scripts.append((destination, file))
                continue
            source = os.path.join(self.tree, file.path)
            (meta_links if file.path.startswith(dist_info_prefix) else links).append((source, destination))
            self.records[destination] = RecordEntry.of_sha256(self.record_path(destination), file.sha256, file.size)
            if self.tag and key in ("", "purelib", "platlib") and file.path.endswith(".py"):
                code_dirs[os.path.dirname(source)] = os.path.dirname(destination)
        pycs = self._bytecode(code_dirs)
        self.directories.add(os.path.join(self.lib, unpacked.dist_info))
        if unpacked.entry_points:
            self.directories.add(os.fspath(self.paths.scripts))
        _make_directories(self.directories)

        if jobs is None:
            jobs = 1 if len(links) + len(pycs) < 512 else min(4, os.cpu_count() or 1)
        self.linker.link_all(links + [(src, dst) for src, dst, _ in pycs], jobs)
        for _source, destination, entry in pycs:
            self.records[destination] = entry
        for destination, file in scripts:
            self._write_data_script(destination, file)
        for entry_point in unpacked.entry_points:
            destination = os.path.join(os.fspath(self.paths.scripts), entry_point.name)
            self._write(destination, script_text(entry_point, self.interpreter), 0o755)
        dist_info = os.path.join(self.lib, unpacked.dist_info)
        # INSTALLER before METADATA: a dist-info an interrupted run leaves is then known to be lading's,
        # and so is redone rather than refused as an unknown tool's install without RECORD.
        self._write(os.path.join(dist_info, "INSTALLER"), f"{installer}\n".encode(), 0o644)
        self.linker.link_all(meta_links, 1)

        self._optional(os.path.join(dist_info, "REQUESTED"), b"" if requested else None)
        direct = None if direct_url is None else (json.dumps(dict(direct_url), sort_keys=True) + "\n").encode()
        self._optional(os.path.join(dist_info, "direct_url.json"), direct)
        record_file = os.path.join(dist_info, "RECORD")
        entries = [*self.records.values(), RecordEntry(self.record_path(record_file))]
        write_new(record_file, format_record(entries))
        return InstalledDist(
            name=unpacked.name,
            project_name=unpacked.project_name,
            version=unpacked.version,
            dist_info=Path(dist_info),
            installer=installer,
            requested=requested,
            direct_url=direct_url,
            record=Path(record_file),
            written=tuple(entries),
        )

    def _bytecode(self, code_dirs: Mapping[str, str]) -> list[tuple[str, str, RecordEntry]]:
        """The tree's pycs for the wanted tag: (source, destination, RECORD entry).

        Once the tree's bytecode for the tag is complete (bytecode.py's marker), the pyc list with hashes is
        kept beside it, so later installs read one small file instead of listing and hashing every pyc.
        """
        if not self.tag:
            return []
        complete = os.path.exists(os.path.join(self.tree, PYC_MARKER_PREFIX + self.tag))
        sidecar = os.path.join(self.tree, f"{PYC_RECORD_PREFIX}{self.tag}.json")
        listed = _read_pyc_record(sidecar) if complete else None
        if listed is None:
            listed = self._hash_bytecode(code_dirs)
            if complete:
                with contextlib.suppress(OSError):  # only a speed-up; a read-only cache is fine
                    write_new(sidecar, json.dumps(listed, separators=(",", ":")).encode("utf-8"))
        found = []
        for path, sha256, size in listed:
            destination, _key = self.destination(path)
            self.directories.add(os.path.dirname(destination))
            entry = RecordEntry.of_sha256(self.record_path(destination), sha256, size)
            found.append((os.path.join(self.tree, path), destination, entry))
        return found

    def _hash_bytecode(self, code_dirs: Mapping[str, str]) -> list[tuple[str, str, int]]:
        suffixes = tuple(f".{self.tag}{opt}.pyc" for opt in ("", ".opt-1", ".opt-2"))
        listed = []
        for source_dir in sorted(code_dirs):
            cache = os.path.join(source_dir, "__pycache__")
            try:
                names = sorted(entry.name for entry in os.scandir(cache) if entry.name.endswith(suffixes))
            except (FileNotFoundError, NotADirectoryError):
                continue
            relative_dir = os.path.relpath(cache, self.tree).replace(os.sep, "/")
            for name in names:
                with open(os.path.join(cache, name), "rb") as handle:
                    data = handle.read()
                listed.append((f"{relative_dir}/{name}", hashlib.sha256(data).hexdigest(), len(data)))
        return listed

    def _write(self, destination: str, data: bytes, mode: int) -> None:
        try:
            write_new(destination, data, mode)
        except OSError as error:
            raise InstallError(f"cannot write {destination}: {error.strerror or error}", file=destination,
                               hint="check the permissions of the environment and the free space") from error
        self.records[destination] = RecordEntry.of_bytes(self.record_path(destination), data)

    def _optional(self, destination: str, data: Optional[bytes]) -> None:
        if data is not None:
            self._write(destination, data, 0o644)
            return
        # A stale one from an interrupted earlier install must not survive.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(destination)

    def _write_data_script(self, destination: str, file: WheelFile) -> None:
        with open(os.path.join(self.tree, file.path), "rb") as handle:
            data = handle.read()
        self._write(destination, rewrite_shebang(data, self.interpreter), 0o755)


def _read_pyc_record(path: str) -> Optional[list[tuple[str, str, int]]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return [(str(p), str(h), int(s)) for p, h, s in data]
    except (OSError, ValueError, TypeError):
        return None


def _is_shipped_bytecode(path: str) -> bool:
    # A wheel's own pycs may be for any interpreter and go stale; lading installs its own per tag.
    return path.endswith(".pyc") and "/__pycache__/" in f"/{path}"


def _make_directories(directories: set[str]) -> None:
    for directory in sorted(directories):  # sorted: a parent comes before its children
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            raise InstallError(f"cannot create {directory}: {error.strerror or error}", file=directory,
                               hint="check the permissions of the environment") from error
