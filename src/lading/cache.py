"""lading's on-disk cache: content-addressed, versioned buckets, safe under concurrent processes.

Layout under the cache root (see :func:`default_cache_dir`)::

    archives-v1/<aa>/<sha256>/<filename>   downloaded wheels and sdists, keyed by their own sha256
    wheels-v1/<aa>/<sha256>/               unpacked wheel trees, keyed by the wheel's sha256
                                           (bytecode in their __pycache__ dirs, .lading-pyc-<tag> markers)
    built-v1/<aa>/<sha256>/<wheel>         wheels built from an sdist, keyed by the sdist's sha256
    layers-v1/<aa>/<sha256>/layer.tar.gz   image layers, keyed by their diff_id (uncompressed sha256)
    http-v1/                               index pages (ETag / Cache-Control)

Three rules keep every reader safe from every writer:

* An entry is built under a temporary name inside its bucket (:meth:`Cache.staging`) and made
  visible with one ``rename`` (:meth:`Cache.publish`), so it either does not exist or is whole.
* An entry directory is complete only when its ``.lading-ok`` marker exists; anything without one
  (left by an older lading, or a hand-made copy) is rebuilt, never served.
* Writers of one entry take ``fcntl.flock`` on ``<bucket>/<aa>/<sha256>.lock`` (:meth:`Cache.locked`);
  whole-cache maintenance (``prune``, ``clean``) takes an exclusive lock on the root that every
  user of the cache holds shared (:meth:`Cache.using`).

Bucket names carry a version so a later lading can change an entry's format without reading
entries it does not understand; ``prune`` removes buckets of other versions.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from lading.errors import LadingError

ARCHIVES = "archives-v1"
WHEELS = "wheels-v1"
BUILT = "built-v1"
HTTP = "http-v1"
LAYERS = "layers-v1"  # compressed image layers by diff_id (lading.artifacts.oci.layers.LayerStore)
#: Buckets whose entries are ``<aa>/<sha256>/`` directories.
ENTRY_BUCKETS: tuple[str, ...] = (ARCHIVES, WHEELS, BUILT, LAYERS)
BUCKETS: tuple[str, ...] = (*ENTRY_BUCKETS, HTTP)

COMPLETE_MARKER = ".lading-ok"
PYC_MARKER_PREFIX = ".lading-pyc-"
TEMP_PREFIX = ".tmp-"
ROOT_LOCK = ".lading-lock"
#: The description of an unpacked tree that ``lading.install.wheel`` writes (files with sha256 and size).
WHEEL_MANIFEST = ".lading-wheel.json"

#: Temporary names older than this are leftovers of a killed process, not work in progress.
TEMP_MAX_AGE = 3600.0
DEFAULT_PRUNE_DAYS = 30.0

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSIONED_BUCKET = re.compile(r"^[a-z]+-v[0-9]+$")

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by lading.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


class CacheError(LadingError):
    """The cache directory cannot be used (permissions, a file where a directory should be, ...)."""


def default_cache_dir(
    cli_value: Optional[str] = None, environ: Mapping[str, str] = os.environ
) -> Path:
    """``--cache-dir``, then ``LADING_CACHE_DIR``, ``$XDG_CACHE_HOME/lading``, ``~/.cache/lading``."""
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    if environ.get("LADING_CACHE_DIR"):
        return Path(environ["LADING_CACHE_DIR"]).expanduser().absolute()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser().absolute() / "lading"
    home = environ.get("HOME") or os.path.expanduser("~")
    return Path(home).absolute() / ".cache" / "lading"


def is_sha256(text: str) -> bool:
    return bool(_SHA256.match(text))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BucketInfo:
    name: str
    entries: int
    size: int  # bytes, each inode counted once
    incomplete: int  # entry directories without their marker
    temporary: int  # temp names (work in progress or leftovers)


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    exists: bool
    buckets: tuple[BucketInfo, ...]
    #: Bucket directories of other versions (``archives-v0``) and unknown names.
    other: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(b.size for b in self.buckets)


@dataclass(frozen=True)
class Removed:
    """One thing ``prune``/``clean`` deleted, and why."""

    path: Path
    reason: str
    size: int


@dataclass(frozen=True)
class Problem:
    """One inconsistency ``verify`` found."""

    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


class Cache:
    """The cache at ``root``; creating the object touches nothing on disk."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    # --- naming ---------------------------------------------------------------------------------

    def bucket(self, name: str) -> Path:
        return self.root / name

    def entry(self, bucket: str, key: str) -> Path:
        """``<bucket>/<aa>/<key>``: the directory of one entry."""
        if not key or "/" in key or key.startswith("."):
            raise CacheError(f"invalid cache key {key!r}")
        return self.root / bucket / key[:2] / key

    def archive(self, sha256: str, filename: str) -> Path:
        """Where the downloaded file with this sha256 lives (whether or not it is there yet)."""
        if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
            raise CacheError(f"invalid archive file name {filename!r}")
        return self.entry(ARCHIVES, sha256.lower()) / filename

    def unpacked(self, sha256: str) -> Path:
        """The directory of the unpacked tree of the wheel with this sha256."""
        return self.entry(WHEELS, sha256.lower())

    def built(self, sdist_sha256: str) -> Path:
        """The directory holding the wheel built from the sdist with this sha256."""
        return self.entry(BUILT, sdist_sha256.lower())

    def http(self) -> Path:
        return self.root / HTTP

    @staticmethod
    def key_of(path: Path) -> str:
        """The key (sha256) of the entry an archive file or entry directory belongs to."""
        return path.parent.name if path.parent.name and is_sha256(path.parent.name) else path.name

    @staticmethod
    def pyc_marker(tree: Path, cache_tag: str) -> Path:
        """The marker saying a tree's bytecode for ``cache_tag`` (``cpython-311``) is complete."""
        return tree / f"{PYC_MARKER_PREFIX}{cache_tag}"

    # --- state ----------------------------------------------------------------------------------

    def is_complete(self, path: Path) -> bool:
        """A directory entry: its marker exists. A file in an entry: it exists and its entry is complete."""
        try:
            if path.is_dir():
                return (path / COMPLETE_MARKER).is_file()
            return path.is_file() and (path.parent / COMPLETE_MARKER).is_file()
        except OSError:
            return False

    def mark_used(self, path: Path) -> None:
        """Record that an entry was used now, so ``prune`` keeps it (one ``utime`` call)."""
        entry = path if path.is_dir() else path.parent
        with suppress(OSError):  # a read-only cache: pruning by age is then the owner's business
            os.utime(entry / COMPLETE_MARKER)

    # --- locks ----------------------------------------------------------------------------------

    def lock_path(self, entry: Path) -> Path:
        """``<bucket>/<aa>/<key>.lock`` for any path inside an entry (or the entry itself)."""
        try:
            parts = entry.relative_to(self.root).parts
        except ValueError:
            raise CacheError(f"{entry} is not inside the cache {self.root}") from None
        if len(parts) < 3:
            raise CacheError(f"{entry} is not a cache entry")
        bucket, shard, key = parts[:3]
        return self.root / bucket / shard / f"{key}.lock"

    @contextmanager
    def locked(self, entry: Path, *, on_wait: Optional[Callable[[], None]] = None) -> Iterator[None]:
        """Hold the exclusive lock of the entry ``entry`` belongs to (blocking; threads too)."""
        lock = self.lock_path(entry)
        self._mkdir(lock.parent)
        with _flock(lock, fcntl.LOCK_EX, on_wait):
            yield

    @contextmanager
    def using(self, *, on_wait: Optional[Callable[[], None]] = None) -> Iterator[None]:
        """Hold the cache shared for a run, so ``prune``/``clean`` wait until it ends."""
        self.ensure()
        with _flock(self.root / ROOT_LOCK, fcntl.LOCK_SH, on_wait):
            yield

    @contextmanager
    def _exclusive(self, on_wait: Optional[Callable[[], None]]) -> Iterator[None]:
        self.ensure()
        with _flock(self.root / ROOT_LOCK, fcntl.LOCK_EX, on_wait):
            yield

    # --- building entries -----------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the root (with a CACHEDIR.TAG so backup tools skip it)."""
        self._mkdir(self.root)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            with suppress(OSError):  # the tag is a courtesy
                _write_atomic(tag, _CACHEDIR_TAG.encode())

    @contextmanager
    def staging(self, bucket: str) -> Iterator[Path]:
        """A new empty directory inside ``bucket`` to build an entry in; removed on exit unless published."""
        self.ensure()
        parent = self.bucket(bucket)
        self._mkdir(parent)
        temp = parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            temp.mkdir()
        except OSError as exc:
            raise CacheError(
                f"cannot write into the cache at {self.root}: {exc.strerror}",
                hint="choose a writable cache with --cache-dir or LADING_CACHE_DIR",
            ) from None
        try:
            yield temp
        finally:
            if temp.exists():
                _remove(temp)

    def publish(self, temp: Path, final: Path) -> Path:
        """Make the staged directory ``temp`` the complete entry ``final`` with one rename.

        Call it holding :meth:`locked` for ``final``. The marker is written into ``temp`` first, so
        the entry is complete the moment it appears. An existing complete entry wins (same key,
        same content) and ``temp`` is discarded; an incomplete one is moved aside and replaced.
        """
        if self.is_complete(final):
            _remove(temp)
            return final
        (temp / COMPLETE_MARKER).write_bytes(b"")
        self._mkdir(final.parent)
        if final.exists() or final.is_symlink():
            self._discard(final)
        try:
            os.rename(temp, final)
        except OSError as exc:
            raise CacheError(
                f"cannot publish {final} in the cache: {exc.strerror}",
                hint="another program may be changing the cache; run `lading cache verify`",
            ) from None
        return final

    def add_name(self, sha256: str, filename: str) -> Optional[Path]:
        """The same content is cached under another file name: give it this name too (a hardlink).

        Returns the new path, or None when no complete entry for ``sha256`` exists. Call holding the
        entry's lock.
        """
        entry = self.entry(ARCHIVES, sha256.lower())
        if not self.is_complete(entry):
            return None
        final = entry / filename
        if final.is_file():
            return final
        siblings = [p for p in entry.iterdir() if p.is_file() and not p.name.startswith(".")]
        if not siblings:
            return None
        temp = entry / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            try:
                os.link(siblings[0], temp)
            except OSError:
                shutil.copyfile(siblings[0], temp)
            os.rename(temp, final)
        finally:
            if temp.exists():
                temp.unlink()
        return final

    def _discard(self, path: Path) -> None:
        """Move ``path`` to a temp name (atomic: readers never see it half-deleted), then delete it."""
        aside = path.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        _remove(aside)

    def _mkdir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create {path}: {exc.strerror}",
                hint="choose a writable cache with --cache-dir or LADING_CACHE_DIR",
            ) from None

    # --- maintenance ----------------------------------------------------------------------------

    def info(self) -> CacheInfo:
        if not self.root.is_dir():
            return CacheInfo(self.root, False, tuple(BucketInfo(b, 0, 0, 0, 0) for b in BUCKETS))
        seen: set[tuple[int, int]] = set()
        buckets = tuple(self._bucket_info(name, seen) for name in BUCKETS)
        return CacheInfo(self.root, True, buckets, tuple(self._other_buckets()))

    def _bucket_info(self, name: str, seen: set[tuple[int, int]]) -> BucketInfo:
        root = self.bucket(name)
        entries = incomplete = temporary = 0
        if name in ENTRY_BUCKETS:
            for entry in _entries(root):
                if self.is_complete(entry):
                    entries += 1
                else:
                    incomplete += 1
        temporary = sum(1 for _ in _temporaries(root))
        return BucketInfo(name, entries, _tree_size(root, seen), incomplete, temporary)

    def _other_buckets(self) -> Iterator[str]:
        for child in _listdir(self.root):
            if child.is_dir() and child.name not in BUCKETS and not child.name.startswith("."):
                yield child.name

    def prune(
        self,
        *,
        older_than_days: float = DEFAULT_PRUNE_DAYS,
        keep: Collection[str] = (),
        now: Optional[float] = None,
        on_wait: Optional[Callable[[], None]] = None,
    ) -> list[Removed]:
        """Remove leftovers and entries not used for ``older_than_days`` (by the later of mtime/atime).

        Removes temp names older than an hour, entry directories without their marker, buckets
        of other versions, and unused entries; ``keep`` names keys (sha256) never removed. Waits
        for other lading processes using the cache to finish.
        """
        if not self.root.is_dir():
            return []
        current = time.time() if now is None else now
        cutoff = current - older_than_days * 86400.0
        keep = {k.lower() for k in keep}
        removed: list[Removed] = []
        with self._exclusive(on_wait):
            for name in self._other_buckets():
                if _VERSIONED_BUCKET.match(name):
                    removed.append(self._delete(self.root / name, "bucket of another lading version"))
            for name in BUCKETS:
                root = self.bucket(name)
                for temp in list(_temporaries(root)):
                    if _last_used(temp) < current - TEMP_MAX_AGE:
                        removed.append(self._delete(temp, "temporary leftover"))
                if name not in ENTRY_BUCKETS:
                    continue
                for entry in list(_entries(root)):
                    if not self.is_complete(entry):
                        removed.append(self._delete(entry, "incomplete entry"))
                    elif entry.name not in keep and _entry_last_used(entry) < cutoff:
                        removed.append(self._delete(entry, f"unused for {older_than_days:g} days"))
                self._remove_stale_locks(root)  # bookkeeping, not worth reporting
        return removed

    def clean(self, *, on_wait: Optional[Callable[[], None]] = None) -> list[Removed]:
        """Remove every bucket (the root directory itself stays); waits for other users to finish."""
        if not self.root.is_dir():
            return []
        removed: list[Removed] = []
        with self._exclusive(on_wait):
            for child in sorted(self.root.iterdir()):
                if child.name in (ROOT_LOCK, "CACHEDIR.TAG"):
                    continue
                removed.append(self._delete(child, "clean"))
        return removed

    def _delete(self, path: Path, reason: str) -> Removed:
        size = _tree_size(path, set()) if path.is_dir() else _size(path)
        self._discard(path)
        return Removed(path, reason, size)

    def _remove_stale_locks(self, bucket: Path) -> list[Removed]:
        """Lock files whose entry is gone; only ones nobody holds (see :func:`_flock` on why this is safe)."""
        removed: list[Removed] = []
        if not bucket.is_dir():
            return removed
        for shard in _listdir(bucket):
            if not shard.is_dir() or shard.name.startswith("."):
                continue
            for lock in (p for p in _listdir(shard) if p.suffix == ".lock"):
                if (shard / lock.stem).exists():
                    continue
                if _unlink_if_free(lock):
                    removed.append(Removed(lock, "lock of a removed entry", 0))
        return removed

    def verify(self) -> list[Problem]:
        """Deep check: every archive hashes to its key; every complete tree has the files its RECORD lists."""
        problems: list[Problem] = []
        if not self.root.is_dir():
            return problems
        for entry in _entries(self.bucket(ARCHIVES)):
            if not self.is_complete(entry):
                problems.append(Problem(entry, "incomplete entry (no marker); `lading cache prune` removes it"))
                continue
            files = [p for p in _listdir(entry) if not p.name.startswith(".")]
            if not files:
                problems.append(Problem(entry, "complete entry without a file"))
            for path in files:
                if not path.is_file() or path.is_symlink():
                    problems.append(Problem(path, "not a regular file"))
                    continue
                actual = file_sha256(path)
                if actual != entry.name:
                    problems.append(Problem(path, f"content hashes to sha256 {actual}, not to its key"))
        for entry in _entries(self.bucket(WHEELS)):
            if not self.is_complete(entry):
                problems.append(Problem(entry, "incomplete entry (no marker); `lading cache prune` removes it"))
                continue
            problems += _verify_tree(entry)
        for entry in _entries(self.bucket(BUILT)):
            if not self.is_complete(entry):
                problems.append(Problem(entry, "incomplete entry (no marker); `lading cache prune` removes it"))
            elif not any(p.suffix == ".whl" for p in _listdir(entry)):
                problems.append(Problem(entry, "complete entry without a wheel"))
        for entry in _entries(self.bucket(LAYERS)):
            if not self.is_complete(entry):
                problems.append(Problem(entry, "incomplete entry (no marker); `lading cache prune` removes it"))
                continue
            problems += _verify_layer(entry)
        return problems

    def remove_entry(self, entry: Path) -> None:
        """Delete one entry (a broken one, found by ``verify``), holding its lock."""
        with self.locked(entry):
            self._discard(self.entry(*self._bucket_and_key(entry)))

    def _bucket_and_key(self, entry: Path) -> tuple[str, str]:
        parts = entry.relative_to(self.root).parts
        return parts[0], parts[2]


# --- helpers --------------------------------------------------------------------------------------


@contextmanager
def _flock(path: Path, operation: int, on_wait: Optional[Callable[[], None]]) -> Iterator[None]:
    """flock ``path``, making sure the file locked is still the one at ``path``.

    ``prune`` deletes lock files of removed entries while holding them; a process that opened the
    old file before the deletion then holds a lock on an orphan, so it checks the inode and retries.
    """
    waited = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise CacheError(
                f"cannot open the lock file {path}: {exc.strerror}",
                hint="choose a writable cache with --cache-dir or LADING_CACHE_DIR",
            ) from None
        try:
            try:
                fcntl.flock(fd, operation | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if on_wait is not None and not waited:
                    on_wait()
                waited = True
                fcntl.flock(fd, operation)
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _unlink_if_free(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    try:
        lock.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _listdir(path: Path) -> list[Path]:
    """The children of ``path``, sorted; none when it vanished or is not a directory (another
    process may be publishing or pruning while ``info``/``verify`` look)."""
    try:
        return sorted(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _entries(bucket: Path) -> Iterator[Path]:
    """Every ``<aa>/<key>`` entry directory of a bucket (temp names and lock files excluded)."""
    for shard in _listdir(bucket):
        if not shard.is_dir() or shard.name.startswith("."):
            continue
        for entry in _listdir(shard):
            if entry.is_dir() and not entry.name.startswith("."):
                yield entry


def _temporaries(bucket: Path) -> Iterator[Path]:
    """Temp names at the two levels lading creates them: in the bucket, and beside entries."""
    for child in _listdir(bucket):
        if child.name.startswith(TEMP_PREFIX):
            yield child
        elif child.is_dir() and not child.name.startswith("."):
            for inner in _listdir(child):
                if inner.name.startswith(TEMP_PREFIX):
                    yield inner


def _last_used(path: Path) -> float:
    try:
        st = path.stat()
    except OSError:
        return 0.0
    return max(st.st_mtime, st.st_atime)


def _entry_last_used(entry: Path) -> float:
    return max(_last_used(entry / COMPLETE_MARKER), _last_used(entry))


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _tree_size(root: Path, seen: set[tuple[int, int]]) -> int:
    total = 0
    if not root.is_dir():
        return 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += st.st_size
    return total


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    try:
        temp.write_bytes(data)
        os.rename(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def _verify_layer(entry: Path) -> list[Problem]:
    """An image layer: its uncompressed content hashes to the key (the diff_id), the blob to its digest."""
    import gzip
    import zlib

    blob, recorded = entry / "layer.tar.gz", entry / "digest"
    try:
        digest = recorded.read_text(encoding="ascii").strip()
        packed, unpacked = hashlib.sha256(), hashlib.sha256()
        with open(blob, "rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                packed.update(chunk)
        with gzip.open(blob, "rb") as layer:
            for chunk in iter(lambda: layer.read(1 << 20), b""):
                unpacked.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        return [Problem(entry, f"unreadable layer: {exc}")]
    problems = []
    if unpacked.hexdigest() != entry.name:
        problems.append(Problem(blob, f"uncompressed content hashes to sha256 {unpacked.hexdigest()}, not to its key"))
    if digest != f"sha256:{packed.hexdigest()}":
        problems.append(Problem(blob, f"compressed blob hashes to sha256:{packed.hexdigest()}, not to {digest}"))
    return problems


def _verify_tree(tree: Path) -> list[Problem]:
    """Every file the tree's manifest (else the wheel's RECORD) lists is present with its size and hash."""
    if (tree / WHEEL_MANIFEST).is_file():
        return _verify_manifest(tree)
    return _verify_record(tree)


def _verify_manifest(tree: Path) -> list[Problem]:
    import json

    path = tree / WHEEL_MANIFEST
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        listed = [(str(f[0]), str(f[1]), int(f[2])) for f in files]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return [Problem(path, f"unreadable manifest: {type(exc).__name__}: {exc}")]
    problems: list[Problem] = []
    for name, digest, size in listed:
        problems += _check_file(tree, name, size, "sha256", digest, encoded=False)
    return problems


def _check_file(tree: Path, name: str, size: Optional[int], algorithm: str, expected: str, *,
                encoded: bool) -> list[Problem]:
    import base64

    if ".." in Path(name).parts or Path(name).is_absolute():
        return [Problem(tree, f"lists a path outside the tree: {name!r}")]
    path = tree / name
    if not path.is_file():
        return [Problem(path, "listed but missing")]
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return [Problem(path, f"size {actual_size}, expected {size}; changed through a link?")]
    if expected and algorithm in hashlib.algorithms_available:
        digest = hashlib.new(algorithm, path.read_bytes()).digest()
        actual = base64.urlsafe_b64encode(digest).rstrip(b"=").decode() if encoded else digest.hex()
        if actual != expected:
            return [Problem(path, f"content differs from what was unpacked ({algorithm}); changed through a link?")]
    return []


def _verify_record(tree: Path) -> list[Problem]:
    import csv

    records = [p for p in tree.glob("*.dist-info/RECORD") if p.is_file()]
    if len(records) != 1:
        return [Problem(tree, f"expected one *.dist-info/RECORD, found {len(records)}")]
    problems: list[Problem] = []
    try:
        rows = list(csv.reader(records[0].read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [Problem(records[0], f"unreadable RECORD: {exc}")]
    for row in rows:
        if not row or not row[0]:
            continue
        size = row[2] if len(row) > 2 else ""
        algorithm, _, expected = (row[1] if len(row) > 1 else "").partition("=")
        problems += _check_file(tree, row[0], int(size) if size.isdigit() else None, algorithm, expected,
                                encoded=True)
    return problems
