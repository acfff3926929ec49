"""``lading build venv``: a virtual environment built for the directory it will run from, packed as a tarball.

The venv is staged (:mod:`lading.artifacts.stage`) in a build directory with ``run_at`` = the prefix, so
script shebangs and the activate scripts already name the prefix. :func:`finalize` then makes the staged
tree fit to ship:

- every text file or symbolic link that still names the build directory is pointed at the prefix; a
  binary file that embeds it is an error (it could not work anywhere else);
- ``direct_url.json`` files that record a local path (``file:`` URLs: the project built from the build
  machine's checkout) are dropped, with their RECORD lines: the path means nothing on the target and
  would make the artifact depend on where it was built;
- bytecode: the archive gives every file one fixed mtime (``SOURCE_DATE_EPOCH``), so the timestamp in
  each valid ``.pyc`` header is set to that time too. Unpacked (tar and dpkg keep mtimes), every pyc is
  still valid: Python never recompiles, never writes into the prefix, and imports at full speed;
- RECORD lines of every file changed above get the new hash and size;
- the SBOM (CycloneDX JSON) of what was installed is written as ``<prefix>/lading-sbom.cdx.json``.

Staged files may be hard links into lading's cache: every change writes a new file and renames it over
the old one. The venv's ``bin/python`` is a link to the base interpreter's absolute path (a venv never
copies Python itself), so that interpreter must exist at the same path where the venv runs.
"""

from __future__ import annotations

import importlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from packaging.utils import canonicalize_name

from lading.artifacts import _tar
from lading.artifacts.stage import Staged, StageOptions, replace_text, stage
from lading.errors import LadingError, UsageError
from lading.install.installed import InstalledDist, scan_all
from lading.install.records import RecordEntry, format_record, parse_record
from lading.model import GroupRequest
from lading.progress import Progress

SBOM_NAME = "lading-sbom.cdx.json"


@dataclass(frozen=True)
class Source:
    """What goes into the environment, and where it comes from (the options ``lading install`` shares)."""

    path: Path = Path(".")
    lock: Optional[Path] = None
    python: Optional[str] = None  # the base interpreter (default: the one running lading)
    request: GroupRequest = field(default_factory=GroupRequest)
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    index_url: Optional[str] = None
    cache_dir: Optional[Path] = None
    jobs: int = 8
    link_mode: str = "auto"
    compile: bool = True


@dataclass(frozen=True)
class Prepared:
    """A staged venv made fit to ship."""

    staged: Staged
    dists: tuple[InstalledDist, ...]
    project: Optional[InstalledDist]
    base_interpreter: str  # the absolute path bin/python resolves to: must exist on the run machine
    missing_bytecode: tuple[str, ...]  # modules (relative to the venv) without valid bytecode
    sbom: bool  # the SBOM was written
    changed: int  # files rewritten by finalize


def check_prefix(prefix: Path, flag: str = "--prefix") -> Path:
    """An absolute, normalised directory other than ``/``; anything else is a usage error."""
    text = str(prefix)
    if not prefix.is_absolute():
        raise UsageError(f"the prefix {text} is not an absolute path", field=flag,
                         hint="give the directory the environment will live at, such as /opt/app")
    if any(part in (".", "..") for part in text.split("/")) or "//" in text:
        raise UsageError(f"the prefix {text} is not a normalised path", field=flag,
                         hint="write it without '.', '..' or doubled slashes")
    if prefix == Path("/"):
        raise UsageError("the prefix cannot be /", field=flag, hint="give a directory such as /opt/app")
    return prefix


def prepare(source: Source, root: Path, run_at: Path, *, epoch: int, name: Optional[str] = None,
            version: Optional[str] = None, progress: Optional[Progress] = None,
            environ: Optional[Mapping[str, str]] = None) -> Prepared:
    """Stage the lock's selection as a venv in ``root`` for ``run_at`` and finalize it (see the module doc)."""
    staged = stage(
        StageOptions(
            path=source.path, lock=source.lock, root=root, layout="venv", run_at=run_at, python=source.python,
            request=source.request, offline=source.offline, find_links=source.find_links,
            index_url=source.index_url, compile=source.compile, cache_dir=source.cache_dir, jobs=source.jobs,
            link_mode=source.link_mode,
        ),
        progress,
        environ,
    )
    return finalize(staged, epoch=epoch, name=name, version=version)


def finalize(staged: Staged, *, epoch: int, name: Optional[str] = None,
             version: Optional[str] = None) -> Prepared:
    root, run_at = staged.root, staged.run_at
    changed: set[Path] = set()
    removed: set[Path] = set()
    if run_at != root:
        changed |= repoint(root, run_at)
    paths = staged.result.destination.paths
    for dist in scan_all(paths):
        direct = dist.direct_url
        if direct is not None and str(direct.get("url", "")).startswith("file:"):
            target = dist.dist_info / "direct_url.json"
            target.unlink()
            removed.add(target)
    tag = staged.result.destination.interpreter.cache_tag
    missing: list[str] = []
    if tag:
        for library in sorted({paths.purelib, paths.platlib}):
            fixed, lacking = normalise_bytecode(library, tag, epoch)
            changed |= fixed
            missing += [os.path.relpath(p, root) for p in lacking]
    update_records(scan_all(paths), changed, removed)
    dists = tuple(scan_all(paths))
    project = project_dist(staged, dists)
    sbom_name = name or (project.project_name if project else root.name)
    sbom_version = version or (project.version if project else "0")
    wrote_sbom = write_sbom(staged, sbom_name, sbom_version)
    return Prepared(staged, dists, project, base_interpreter(root), tuple(missing), wrote_sbom,
                    len(changed) + len(removed))


# --- the build directory's path -------------------------------------------------------------------------------


def repoint(root: Path, run_at: Path) -> set[Path]:
    """Point what names ``root`` at ``run_at``: symlink targets and text files; binary files are refused."""
    old, new = str(root), str(run_at)
    needle = os.fsencode(old)
    changed: set[Path] = set()
    for path in _files_and_links(root):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            if target == old or target.startswith(old + "/"):
                path.unlink()
                os.symlink(new + target[len(old):], path)
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        if needle not in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LadingError(
                "this binary file holds the path of the build directory, so it cannot run from the prefix",
                file=path, hint="report it to lading; building the package from source may embed the path",
            ) from None
        replace_text(path, text.replace(old, new))
        changed.add(path)
    return changed


def _files_and_links(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(directory)
        for name in sorted(files):
            yield base / name
        for name in dirs:  # symlinks to directories are listed as dirs and not followed by os.walk
            if os.path.islink(base / name):
                yield base / name


# --- bytecode ----------------------------------------------------------------------------------------------------


def normalise_bytecode(library: Path, cache_tag: str, epoch: int) -> tuple[set[Path], list[Path]]:
    """Set the source mtime in every valid timestamp pyc below ``library`` to ``epoch``.

    Returns the pyc files rewritten and the ``.py`` files left without valid bytecode (Python would write
    their pyc at run time). Hash-based pycs (PEP 552) do not depend on mtimes and are left as they are.
    """
    stamp = (epoch & 0xFFFFFFFF).to_bytes(4, "little")
    rewritten: set[Path] = set()
    lacking: list[Path] = []
    for directory, dirs, files in os.walk(library):
        dirs.sort()
        if os.path.basename(directory) == "__pycache__":
            continue
        base = Path(directory)
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            source = base / name
            pyc = base / "__pycache__" / f"{name[:-3]}.{cache_tag}.pyc"
            try:
                st = os.stat(source)
                with open(pyc, "rb") as handle:
                    data = handle.read()
            except OSError:
                lacking.append(source)
                continue
            if len(data) < 16:
                lacking.append(source)
                continue
            flags = int.from_bytes(data[4:8], "little")
            if flags & 0b1:  # hash-based: valid or not, independent of the mtime
                continue
            mtime, size = int.from_bytes(data[8:12], "little"), int.from_bytes(data[12:16], "little")
            if mtime != int(st.st_mtime) & 0xFFFFFFFF or size != st.st_size & 0xFFFFFFFF:
                lacking.append(source)  # stale already: Python will recompile it
                continue
            if data[8:12] != stamp:
                replace_bytes(pyc, data[:8] + stamp + data[12:])
                rewritten.add(pyc)
    return rewritten, lacking


def replace_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a new file, keeping its mode (the old one may be a cache link)."""
    mode = path.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- RECORD ----------------------------------------------------------------------------------------------------


def update_records(dists: Sequence[InstalledDist], changed: set[Path], removed: set[Path]) -> None:
    """Give the RECORD lines of changed files their new hash and size, and drop the lines of removed ones."""
    if not changed and not removed:
        return
    for dist in dists:
        if dist.record is None:
            continue
        text = dist.record.read_text(encoding="utf-8")
        entries = parse_record(text, file=dist.record, package=dist.label)
        out: list[RecordEntry] = []
        touched = False
        for entry in entries:
            full = Path(os.path.normpath(dist.location / entry.path))
            if full in removed:
                touched = True
                continue
            if full in changed and entry.hash:
                out.append(RecordEntry.of_bytes(entry.path, full.read_bytes()))
                touched = True
                continue
            out.append(entry)
        if touched:
            replace_bytes(dist.record, format_record(out))


# --- what the venv holds ------------------------------------------------------------------------------------------


def project_dist(staged: Staged, dists: Sequence[InstalledDist]) -> Optional[InstalledDist]:
    """The project's own distribution: built by staging, or the lock's project entry."""
    name = staged.project
    if name is None:
        lock = staged.result.selection.lock
        for i, package in enumerate(lock.pylock.packages):
            if lock.is_project(i):
                name = str(package.name)
                break
    if name is None:
        return None
    wanted = canonicalize_name(name)
    return next((d for d in dists if d.name == wanted), None)


def scripts_of(dist: InstalledDist, scripts_dir: Path) -> list[str]:
    """The names of the files a distribution installed into the scripts directory (``bin``)."""
    names = set()
    for entry in dist.record_entries():
        full = Path(os.path.normpath(dist.location / entry.path))
        if full.parent == scripts_dir:
            names.add(full.name)
    return sorted(names)


def base_interpreter(root: Path) -> str:
    """The absolute path the venv's ``bin/python`` leads to, following links inside the venv only."""
    path = root / "bin" / "python"
    for _ in range(16):
        if not path.is_symlink():
            break
        target = os.readlink(path)
        if os.path.isabs(target):
            return target
        path = path.parent / target
    return str(path)


def write_sbom(staged: Staged, name: str, version: str) -> bool:
    """Write the CycloneDX SBOM of the venv as ``<prefix>/lading-sbom.cdx.json``; False without the module.

    INTEGRATION POINT (sbom): ``lading.artifacts.sbom`` (``environment_sbom(paths, name, version)``,
    ``dumps(doc)``) is written separately; until it exists, artifacts carry no SBOM.
    """
    try:
        module: Any = importlib.import_module("lading.artifacts.sbom")
    except ImportError:
        return False
    document = module.environment_sbom(staged.result.destination.paths, name, version)
    data: bytes = module.dumps(document)
    text = data.decode("utf-8").replace(str(staged.root), str(staged.run_at))
    target = staged.root / SBOM_NAME
    target.write_text(text, encoding="utf-8")
    os.chmod(target, 0o644)
    return True


# --- the tarball ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenvOptions:
    source: Source
    output: Path
    prefix: Path
    epoch: Optional[int] = None  # default: SOURCE_DATE_EPOCH, else 1980-01-01


@dataclass(frozen=True)
class BuiltVenv:
    output: Path
    size: int
    sha256: str
    entries: int
    prefix: Path
    prepared: Prepared
    seconds: float


def build_venv(options: VenvOptions, progress: Optional[Progress] = None,
               environ: Optional[Mapping[str, str]] = None) -> BuiltVenv:
    started = time.monotonic()
    prefix = check_prefix(options.prefix)
    output = Path(os.path.abspath(options.output))
    try:
        compression = _tar.compression_for(output)
    except LadingError as exc:
        raise UsageError(exc.why, file=output, field="-o", hint=exc.hint) from None
    if output.is_dir():
        raise UsageError("the output is a directory; give the tarball's file name", file=output, field="-o",
                         hint="for example -o app.tar.gz")
    epoch = options.epoch if options.epoch is not None else _tar.source_date_epoch(environ)
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".build", dir=output.parent))
    try:
        prepared = prepare(options.source, work / "venv", prefix, epoch=epoch, progress=progress,
                           environ=environ)
        if progress is not None:
            progress.phase("packing", 1)
        written = _tar.pack(prepared.staged.root, output, prefix=str(prefix).lstrip("/"), mtime=epoch,
                            compression=compression)
        if progress is not None:
            progress.advance(items=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuiltVenv(output, written.size, written.sha256, written.entries, prefix, prepared,
                     round(time.monotonic() - started, 3))


__all__ = [
    "SBOM_NAME", "BuiltVenv", "Prepared", "Source", "VenvOptions", "base_interpreter", "build_venv",
    "check_prefix", "finalize", "normalise_bytecode", "prepare", "project_dist", "repoint", "scripts_of",
    "update_records", "write_sbom",
]
