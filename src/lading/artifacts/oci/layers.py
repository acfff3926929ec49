"""Image layers from a staged environment: which files go into which layer, and the layers themselves.

A staged venv is split by distribution, using each ``.dist-info/RECORD``:

- the venv's own files (``pyvenv.cfg``, ``bin/python``, activate scripts, and anything no RECORD
  claims) form the first layer: they change only with the base interpreter or the venv's path;
- large distributions (``big`` bytes installed, default 10 MiB) get a layer each, so that changing
  one of them does not touch the others;
- the remaining third-party distributions share one layer;
- the project itself comes last: changing application code changes only that layer.

The number of layers is bounded (``max_layers``): large distributions beyond the budget fall back into
the shared layer, smallest first. :func:`plan_layers` is a pure function of the units' names and sizes.

Layers are deterministic tar archives: entries sorted by path, parents before children, regular files
only (no hard links), uid/gid 0 without names, modes normalised (0755 for directories and executables,
0644 otherwise), one fixed mtime, PAX format; gzip without a file name and with mtime 0 at a fixed
level. Timestamp-based ``.pyc`` files get the layer's mtime in their header (and their RECORD line is
rewritten to match), so the bytecode stays valid for the sources as the layer dates them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal, Optional

from lading.cache import LAYERS
from lading.errors import LadingError
from lading.install.records import RecordEntry, format_record, parse_record

#: 1980-01-01T00:00:00Z: the mtime of every file in a dependency layer (zip's minimum, as elsewhere).
DEFAULT_MTIME = 315532800
BIG_LAYER = 10 * 1024 * 1024
MAX_LAYERS = 8
COMPRESSLEVEL = 6
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"

UnitKind = Literal["venv", "dist", "project"]
EntryKind = Literal["file", "dir", "symlink"]


@dataclass(frozen=True)
class Entry:
    """One member of a layer: ``path`` is relative to the image root (``opt/venv/bin/python``)."""

    path: str
    kind: EntryKind
    mode: int = 0o644
    source: Optional[Path] = None  # a file to read
    data: Optional[bytes] = None  # or the content itself
    target: str = ""  # a symlink's target
    size: int = 0
    pyc: bool = False  # a bytecode file whose header mtime is set to the layer's


@dataclass(frozen=True)
class Unit:
    """What moves between layers as a whole: the venv scaffolding, one distribution, or the project."""

    name: str
    kind: UnitKind
    entries: tuple[Entry, ...]
    version: str = ""

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


@dataclass(frozen=True)
class LayerGroup:
    name: str  # "venv", "dist:numpy", "dependencies", "project:webapp"
    units: tuple[Unit, ...]

    @property
    def size(self) -> int:
        return sum(u.size for u in self.units)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(e for u in self.units for e in u.entries)

    def describe(self) -> str:
        labels = [u.label for u in self.units if u.kind != "venv"]
        if any(u.kind == "venv" for u in self.units):
            labels.insert(0, "venv")
        return ", ".join(labels)


# --- the plan ---------------------------------------------------------------------------------------


def plan_layers(units: Sequence[Unit], *, max_layers: int = MAX_LAYERS, big: int = BIG_LAYER) -> list[LayerGroup]:
    """Group units into at most ``max_layers`` layers, least often changed first (pure)."""
    if max_layers < 1:
        raise LadingError("the image needs at least one layer of its own", field="--max-layers")
    venv = tuple(u for u in units if u.kind == "venv")
    projects = tuple(sorted((u for u in units if u.kind == "project"), key=lambda u: u.name))
    dists = sorted((u for u in units if u.kind == "dist"), key=lambda u: (-u.size, u.name))
    bigs = [u for u in dists if u.size >= big]
    small = [u for u in dists if u.size < big]
    fixed = (1 if venv else 0) + (1 if projects else 0) + 1  # the shared layer, even if it ends up empty
    room = max(0, max_layers - fixed)
    small += bigs[room:]
    bigs = bigs[:room]
    groups: list[LayerGroup] = []
    if venv:
        groups.append(LayerGroup("venv", venv))
    groups += [LayerGroup(f"dist:{u.name}", (u,)) for u in sorted(bigs, key=lambda u: u.name)]
    if small:
        groups.append(LayerGroup("dependencies", tuple(sorted(small, key=lambda u: u.name))))
    if projects:
        groups.append(LayerGroup(f"project:{projects[0].name}" if len(projects) == 1 else "project", projects))
    while len(groups) > max_layers:  # budgets of 1 or 2: fold the smallest layers together
        first, second = groups[0], groups[1]
        groups[:2] = [LayerGroup(second.name if second.name != "venv" else first.name, first.units + second.units)]
    return groups


# --- units from a staged venv -------------------------------------------------------------------------


@dataclass
class StagedTree:
    """A staged venv at ``root`` that will live at ``run_at`` in the image."""

    root: Path
    run_at: PurePosixPath
    site_packages: Path
    project: Optional[str] = None  # the normalized name of the project's distribution
    overrides: dict[str, Entry] = field(default_factory=dict)  # image path -> replacement entry


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def units_from_tree(tree: StagedTree) -> list[Unit]:
    """One unit per installed distribution (by its RECORD), the project's marked, and the venv's own."""
    root = tree.root
    claimed: set[str] = set()
    units: list[Unit] = []
    for info in sorted(tree.site_packages.glob("*.dist-info")):
        record = info / "RECORD"
        if not record.is_file():
            continue
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        entries: list[Entry] = []
        recorded = parse_record(record.read_text(encoding="utf-8"), file=record, package=name)
        pyc_lines: dict[str, RecordEntry] = {}
        for rel in dict.fromkeys(r.path for r in recorded if r.path):
            full = Path(os.path.normpath(tree.site_packages / rel))
            try:
                inside = full.relative_to(root)
            except ValueError:
                raise LadingError(f"its RECORD names {rel}, outside the environment", file=record,
                                  package=name) from None
            key = inside.as_posix()
            if key in claimed or not (full.is_file() or full.is_symlink()):
                continue
            claimed.add(key)
            if full.name == "RECORD" and full.parent == info:
                continue  # rewritten below, once the bytecode lines are known
            entry = _entry(full, _image_path(tree, inside))
            if entry.pyc:
                pyc_lines[rel] = RecordEntry.of_bytes(rel, _patched_pyc(full.read_bytes(), DEFAULT_MTIME))
            entries.append(entry)
        claimed.add((record.relative_to(root)).as_posix())
        text = format_record(pyc_lines.get(r.path, r) if r.hash else r for r in recorded)
        entries.append(Entry(_image_path(tree, record.relative_to(root)), "file", 0o644, data=text,
                             size=len(text)))
        kind: UnitKind = "project" if tree.project and _normalize(name) == _normalize(tree.project) else "dist"
        units.append(Unit(_normalize(name), kind, tuple(entries), version))
    venv: list[Entry] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = Path(directory) / name
            inside = full.relative_to(root)
            key = inside.as_posix()
            if key in claimed:
                continue
            if full.is_dir() and not full.is_symlink():
                if not any(True for _ in full.iterdir()):
                    venv.append(Entry(_image_path(tree, inside), "dir", 0o755))
                continue
            venv.append(_entry(full, _image_path(tree, inside)))
    venv.append(Entry(_image_path(tree, tree.site_packages.relative_to(root)), "dir", 0o755))
    replaced = {e.path: e for e in venv}
    replaced.update(tree.overrides)
    units.insert(0, Unit("venv", "venv", tuple(replaced[k] for k in sorted(replaced))))
    return units


def _image_path(tree: StagedTree, inside: PurePosixPath | Path) -> str:
    return (tree.run_at / PurePosixPath(Path(inside).as_posix())).as_posix().lstrip("/")


def _entry(full: Path, path: str) -> Entry:
    st = full.lstat()
    if stat.S_ISLNK(st.st_mode):
        return Entry(path, "symlink", 0o777, target=os.readlink(full))
    if not stat.S_ISREG(st.st_mode):
        raise LadingError("is neither a file, a directory nor a symlink", file=full)
    mode = 0o755 if st.st_mode & 0o111 else 0o644
    return Entry(path, "file", mode, source=full, size=st.st_size,
                 pyc=full.suffix == ".pyc" and full.parent.name == "__pycache__")


def _patched_pyc(data: bytes, mtime: int) -> bytes:
    """A timestamp-based pyc (PEP 552 flags 0) with its source mtime set to ``mtime``."""
    if len(data) < 16 or int.from_bytes(data[4:8], "little") != 0:
        return data
    return data[:8] + (mtime & 0xFFFFFFFF).to_bytes(4, "little") + data[12:]


# --- deterministic tar + gzip ------------------------------------------------------------------------


class _HashingWriter:
    """A write-only sink that hashes what passes and forwards it (or drops it)."""

    def __init__(self, out: Optional[BinaryIO] = None) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self.out = out

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        return len(data)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()

    @property
    def digest(self) -> str:
        return f"sha256:{self.sha.hexdigest()}"


def layer_members(entries: Iterable[Entry]) -> list[Entry]:
    """Entries with their parent directories added, sorted by path (parents first), duplicates refused."""
    by_path: dict[str, Entry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        if not path or ".." in path.split("/"):
            raise LadingError(f"refusing the layer path {entry.path!r}")
        if path in by_path and by_path[path] != entry and not (entry.kind == "dir" == by_path[path].kind):
            raise LadingError(f"two different files for {path} in one layer")
        by_path[path] = replace(entry, path=path)
        parent = PurePosixPath(path).parent
        while str(parent) not in (".", ""):
            by_path.setdefault(str(parent), Entry(str(parent), "dir", 0o755))
            parent = parent.parent
    return [by_path[k] for k in sorted(by_path, key=lambda p: p.split("/"))]


def write_tar(entries: Sequence[Entry], out: BinaryIO, mtime: int = DEFAULT_MTIME) -> None:
    """A deterministic tar of ``entries`` (already complete and sorted: :func:`layer_members`)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.path + ("/" if entry.kind == "dir" else ""))
            info.mtime = int(mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = entry.mode & 0o7777
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                archive.addfile(info)
            else:
                data = entry.data
                if data is None and entry.pyc:
                    assert entry.source is not None
                    data = _patched_pyc(entry.source.read_bytes(), mtime)
                if data is not None:
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
                    continue
                assert entry.source is not None
                with open(entry.source, "rb") as handle:
                    info.size = os.fstat(handle.fileno()).st_size
                    archive.addfile(info, handle)


@dataclass(frozen=True)
class Layer:
    """A layer blob: ``digest`` of the gzip'd tar, ``diff_id`` of the tar, where the blob is."""

    name: str
    digest: str
    diff_id: str
    size: int
    path: Path
    description: str = ""
    reused: bool = False  # taken from the layer cache, not compressed in this run
    media_type: str = LAYER_MEDIA_TYPE


def diff_id_of(entries: Sequence[Entry], mtime: int = DEFAULT_MTIME) -> str:
    sink = _HashingWriter()
    write_tar(entries, sink, mtime)  # type: ignore[arg-type]
    return sink.digest


def write_layer(entries: Sequence[Entry], blob: Path, mtime: int = DEFAULT_MTIME) -> tuple[str, str, int]:
    """Write the gzip'd tar to ``blob``; returns (digest, diff_id, size)."""
    with open(blob, "wb") as handle:
        compressed = _HashingWriter(handle)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0,
                           compresslevel=COMPRESSLEVEL) as zipped:
            raw = _HashingWriter(zipped)  # type: ignore[arg-type]
            write_tar(entries, raw, mtime)  # type: ignore[arg-type]
    return compressed.digest, raw.digest, compressed.size


class LayerStore:
    """Compressed layers kept by diff_id in lading's cache (``layers-v1``), so a rebuild whose layer
    content did not change does not compress it again. Without a cache, every layer is compressed."""

    def __init__(self, cache: Optional[object]) -> None:
        from lading.cache import Cache

        self.cache: Optional[Cache] = cache if isinstance(cache, Cache) else None

    def _entry(self, diff_id: str) -> Optional[Path]:
        if self.cache is None:
            return None
        return self.cache.entry(LAYERS, diff_id.split(":", 1)[1])

    def get(self, diff_id: str) -> Optional[tuple[str, int, Path]]:
        entry = self._entry(diff_id)
        if entry is None or self.cache is None or not self.cache.is_complete(entry):
            return None
        try:
            digest = (entry / "digest").read_text(encoding="ascii").strip()
            blob = entry / "layer.tar.gz"
            size = blob.stat().st_size
        except OSError:
            return None
        self.cache.mark_used(entry)
        return digest, size, blob

    def put(self, diff_id: str, blob: Path, digest: str) -> None:
        entry = self._entry(diff_id)
        if entry is None or self.cache is None:
            return
        try:
            with self.cache.locked(entry), self.cache.staging(LAYERS) as temp:
                shutil.copyfile(blob, temp / "layer.tar.gz")
                (temp / "digest").write_text(digest + "\n", encoding="ascii")
                self.cache.publish(temp, entry)
        except (OSError, LadingError):
            return  # the cache is a convenience for layers


def build_layer(group: LayerGroup, blobs: Path, store: LayerStore, mtime: int = DEFAULT_MTIME) -> Layer:
    """The layer of ``group`` as a blob in ``blobs`` (an OCI ``blobs/sha256`` directory)."""
    members = layer_members(group.entries)
    diff_id = diff_id_of(members, mtime)
    cached = store.get(diff_id)
    if cached is not None:
        digest, size, source = cached
        target = blobs / digest.split(":", 1)[1]
        if not target.exists():
            _copy(source, target)
        return Layer(group.name, digest, diff_id, size, target, group.describe(), reused=True)
    temp = blobs / f".tmp-{diff_id.split(':', 1)[1]}"
    digest, written, size = write_layer(members, temp, mtime)
    if written != diff_id:
        temp.unlink()
        raise LadingError("a staged file changed while the layer was written", hint="build again")
    target = blobs / digest.split(":", 1)[1]
    os.replace(temp, target)
    store.put(diff_id, target, digest)
    return Layer(group.name, digest, diff_id, size, target, group.describe())


def _copy(source: Path, target: Path) -> None:
    temp = target.with_name(f".tmp-{target.name}")
    shutil.copyfile(source, temp)
    os.replace(temp, target)


__all__ = [
    "BIG_LAYER",
    "DEFAULT_MTIME",
    "MAX_LAYERS",
    "Entry",
    "Layer",
    "LayerGroup",
    "LayerStore",
    "StagedTree",
    "Unit",
    "build_layer",
    "diff_id_of",
    "layer_members",
    "plan_layers",
    "units_from_tree",
    "write_layer",
    "write_tar",
]
