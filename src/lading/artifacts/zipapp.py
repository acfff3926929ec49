"""``lading build zipapp``: one executable file (PEP 441) holding an application and its locked dependencies.

Layout of the file (a shebang line, then a zip archive, every entry sorted, dated ``SOURCE_DATE_EPOCH``):

- ``__main__.py``: :mod:`lading.artifacts._bootstrap` with its ``CONFIG`` filled in (content hash, entry
  point, the payload's parts, the Python it needs when it holds extension modules);
- ``.lading/build.json``: build metadata (lading version, target, entry point, created, content hash);
- ``.lading/pylock.toml``: the lock, as a single-use pylock.toml for the target (or, for locks that name
  files by hash only, the lock file itself under ``.lading/lock/``);
- ``.lading/sbom.cdx.json``: a CycloneDX SBOM of what the payload installs;
- ``.lading/payload/0000.tar.gz`` ...: the staged application (pip's ``--target`` layout) as a few parts,
  each a gzipped tar of a range of the sorted files (about 4 MiB before compression), stored as they are.

The payload is a few dozen parts, not thousands of zip entries, because Python's zipimport parses the
whole central directory before ``__main__`` runs: a zipapp with 10,000 entries pays about 0.1 s on every
start for that alone. It is several parts rather than one so that both ends use every core: the build
compresses the parts in parallel threads (zlib releases the GIL), and a first run decompresses and writes
them in parallel. The parts are cut by size from the sorted file list, so they do not depend on the machine.
On first run the bootstrap unpacks them into a cache directory named by the payload's sha256 (of the parts
as stored, in order); later runs only check that directory's ``.complete`` marker.

Bytecode: lading compiles with timestamp invalidation (the source's mtime in the pyc header), which an
unpacked copy would not keep. The pyc files are stored as *unchecked-hash* pycs (PEP 552) instead: the
same code objects behind a header holding the source hash, which Python accepts without looking at any
mtime. Rewriting the 16-byte header is much cheaper than compiling again, and the result does not depend
on when lading's cache was filled, so the file is reproducible.
"""

from __future__ import annotations

import configparser
import hashlib
import importlib.util
import json
import os
import posixpath
import shutil
import stat as _stat
import struct
import subprocess
import tarfile
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from lading import __version__
from lading.artifacts import _tar
from lading.artifacts.stage import Staged, StageOptions, stage
from lading.errors import LadingError, UsageError
from lading.model import GroupRequest, Selection
from lading.progress import Progress

FORMAT_VERSION = 2
DEFAULT_EPOCH = _tar.DEFAULT_EPOCH  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
DEFAULT_SHEBANG = "/usr/bin/env python3"
PAYLOAD_PREFIX = ".lading/payload/"
PART_BYTES = 4 << 20  # a part closes once it holds this much (before compression)
BUILD_JSON = ".lading/build.json"
PYLOCK = ".lading/pylock.toml"
LOCK_PREFIX = ".lading/lock/"
SBOM = ".lading/sbom.cdx.json"
_CONFIG_LINE = "CONFIG: dict[str, object] = {}  # lading: CONFIG"
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")


@dataclass(frozen=True)
class ZipappOptions:
    output: Path
    stage: StageOptions = field(default_factory=StageOptions)
    console_script: Optional[str] = None  # -c NAME: a console script of a staged distribution
    entry_point: Optional[str] = None  # -e module[:function]
    shebang: str = DEFAULT_SHEBANG  # without the "#!"
    compresslevel: int = 1  # deflate level: 1 packs 3.5x faster than 6 for 10% more bytes


@dataclass(frozen=True)
class Zipapp:
    path: Path
    content_hash: str  # "sha256:<hex>" of the payload
    entry_point: str
    console_script: Optional[str]
    size: int
    files: int
    metadata: Mapping[str, Any]
    lock_member: str


@dataclass(frozen=True)
class _File:
    name: str  # relative, "/"-separated
    path: Path
    executable: bool
    size: int


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` (clamped to the zip format's range), else 1980-01-01."""
    return min(max(_tar.source_date_epoch(environ), DEFAULT_EPOCH), 4354819198)  # zip dates end in 2107


def build(options: ZipappOptions, progress: Optional[Progress] = None,
          environ: Optional[Mapping[str, str]] = None) -> Zipapp:
    environ = os.environ if environ is None else environ
    progress = progress or Progress()
    if options.console_script and options.entry_point:
        raise UsageError("give either a console script (-c) or an entry point (-e), not both", field="-e")
    if options.entry_point is not None:
        _check_entry_syntax(options.entry_point)
    if "\n" in options.shebang or not options.shebang.strip():
        raise UsageError("the shebang must be one non-empty line", field="--python-shebang")
    if not 0 <= options.compresslevel <= 9:
        raise UsageError("the compression level must be 0 to 9", field="--compress-level")
    epoch = source_date_epoch(environ)
    output = Path(os.path.abspath(options.output))
    if output.is_dir():
        raise UsageError(f"{options.output} is a directory", field="-o", hint="give the path of the file to write")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as work_text:
        work = Path(work_text)
        staged = stage(replace(options.stage, root=work / "stage", layout="target"), progress, environ)
        entry, script = resolve_entry(staged, options.console_script, options.entry_point)
        files = collect(staged)
        _check_entry_module(entry, files, script)
        contents = unchecked_pycs(staged, files)
        progress.phase("packing", len(files), sum(f.size for f in files))
        # Everything that reads the staged tree happens while the parts compress; then the tree is removed
        # in the background (removing 1,600 directories takes seconds of waiting on some file systems).
        remover: Optional[threading.Thread] = None
        try:
            with ThreadPoolExecutor(max(2, min(8, os.cpu_count() or 1)), thread_name_prefix="lading-pack") as pool:
                room = threading.BoundedSemaphore(_IN_FLIGHT)
                pending = []
                for data, count in _parts(files, contents, epoch):
                    room.acquire()
                    pending.append(pool.submit(_compress, data, options.compresslevel, progress, count, room))
                lock_member, lock_bytes = embedded_lock(staged)
                dists = _distributions(staged)
                project = _project(staged)
                name, version = _application(project, script, dists)
                sbom = _sbom(staged, name, version)
                environment = staged.result.selection.target.environment
                remover = threading.Thread(target=shutil.rmtree, args=(staged.root,),
                                           kwargs={"ignore_errors": True}, name="lading-clean", daemon=True)
                remover.start()
                parts = _gather(pending)
            sha256 = hashlib.sha256()
            for data in parts:
                sha256.update(data)
            digest = sha256.hexdigest()
            content_hash = f"sha256:{digest}"
            part_names = [f"{PAYLOAD_PREFIX}{i:04d}.tar.gz" for i in range(len(parts))]
            names = {f.name for f in files}
            native = any(name.endswith(_NATIVE_SUFFIXES) for name in names)
            config: dict[str, object] = {
                "entry": entry,
                "hash": digest,
                "implementation": str(environment.get("implementation_name") or "") if native else "",
                "parts": part_names,
                "pth": any("/" not in name and name.endswith(".pth") for name in names),
                "python": str(environment.get("python_version") or "") if native else "",
            }
            metadata = _metadata(staged, options, entry, script, content_hash, epoch, files, native,
                                 lock_member, dists, name, version, part_names)
            members: dict[str, bytes] = {
                "__main__.py": bootstrap_source(config).encode("utf-8"),
                BUILD_JSON: (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                lock_member: lock_bytes,
                SBOM: sbom,
            }
            written = work / "app.pyz"
            write_zip(written, members, dict(zip(part_names, parts)), options.shebang, epoch, options.compresslevel)
            os.chmod(written, 0o755)
            size = written.stat().st_size
            os.replace(written, output)
        finally:
            if remover is not None:
                remover.join()  # after the zip is written: the removal overlaps all of it
    progress.done()
    return Zipapp(output, content_hash, entry, script, size, len(files), metadata, lock_member)


# --- the entry point -----------------------------------------------------------------------------------


def _check_entry_syntax(entry: str) -> None:
    module, _, attributes = entry.partition(":")
    parts = [*module.split("."), *(attributes.split(".") if attributes else [])]
    if not module or (":" in entry and not attributes) or not all(p.isidentifier() for p in parts):
        raise UsageError(f"not an entry point: {entry!r}", field="-e",
                         hint="write module:function (such as myapp.cli:main), or a module to run as __main__")


def console_scripts(staged: Staged) -> list[tuple[str, str, str]]:
    """(script name, entry point, distribution) for every console script of the staged distributions."""
    from lading.install.installed import scan

    found: list[tuple[str, str, str]] = []
    for dist in sorted(scan(staged.result.destination.paths).values(), key=lambda d: d.name):
        path = dist.dist_info / "entry_points.txt"
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(path.read_text(encoding="utf-8"))
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_section("console_scripts"):
            for name, value in parser.items("console_scripts"):
                found.append((name, value.split("[", 1)[0].strip(), dist.project_name))
    return found


def resolve_entry(staged: Staged, console_script: Optional[str], entry_point: Optional[str]
                  ) -> tuple[str, Optional[str]]:
    """The entry point to run (``module:function`` or ``module``) and the console script it came from."""
    if entry_point is not None:
        return entry_point, None
    scripts = console_scripts(staged)
    listing = "; ".join(f"{n} ({dist}: {target})" for n, target, dist in scripts) or "none"
    if console_script is not None:
        matches = [s for s in scripts if s[0] == console_script]
        if not matches:
            raise UsageError(f"no console script named {console_script!r} in the application",
                             field="-c", hint=f"console scripts of the locked distributions: {listing}; "
                             "or give the entry point itself with -e module:function")
        return matches[0][1], console_script
    project = _project(staged)
    own = [s for s in scripts if project is not None and _normal(s[2]) == _normal(project)]
    candidates = own or scripts
    if len(candidates) == 1:
        return candidates[0][1], candidates[0][0]
    why = (f"the project {project} has {len(own)} console scripts" if own
           else f"the project {project} has no console script" if project
           else "the lock holds no project to take a console script from")
    raise UsageError(f"which entry point? {why}", field="-c",
                     hint=f"choose one with -c NAME (console scripts: {listing}) or -e module:function")


def _check_entry_module(entry: str, files: Sequence[_File], script: Optional[str]) -> None:
    module = entry.partition(":")[0]
    stem = module.replace(".", "/")
    names = {f.name for f in files}
    if f"{stem}.py" in names or f"{stem}/__init__.py" in names or f"{stem}/__main__.py" in names:
        return
    base = stem.rsplit("/", 1)[-1] + "."
    parent = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
    if any(n.startswith(parent + base) and n.endswith(_NATIVE_SUFFIXES) and "/" not in n[len(parent):]
           for n in names):
        return
    where = f"the console script {script!r} names" if script else "the entry point names"
    raise LadingError(f"{where} the module {module}, which is not in the application",
                      field="-c" if script else "-e",
                      hint="check the module path; the application holds the locked distributions only")


def _normal(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _project(staged: Staged) -> Optional[str]:
    if staged.project is not None:
        return staged.project
    lock = staged.result.selection.lock
    for i, package in enumerate(lock.packages):
        if lock.is_project(i):
            return str(package.name)
    return None


# --- the payload ---------------------------------------------------------------------------------------


def collect(staged: Staged) -> list[_File]:
    """Every regular file of the staged tree, sorted by name; the scripts directory is left out (its
    shebangs name the staging interpreter; the zipapp runs its entry point itself)."""
    root = str(staged.root)
    skip = {os.path.abspath(staged.scripts)} if staged.scripts != staged.root else set()
    found: list[_File] = []
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if os.path.abspath(entry.path) not in skip:
                        pending.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
                try:
                    st = entry.stat()  # follows a symlink to its file
                except OSError:
                    continue  # a dangling symlink
                if _stat.S_ISREG(st.st_mode):
                    found.append(_File(prefix + entry.name, Path(entry.path), bool(st.st_mode & 0o111),
                                       st.st_size))
    found.sort(key=lambda f: f.name)
    return found


def unchecked_pycs(staged: Staged, files: Sequence[_File]) -> dict[str, bytes]:
    """New contents for staged files: every timestamp pyc whose source is staged too as an unchecked-hash
    pyc (the same code object, a 16-byte header holding the source hash), and the RECORD files that list
    those pycs with their new hashes and sizes."""
    names = {f.name for f in files}
    pairs: list[tuple[str, Path, bytes]] = []  # (pyc name, source path, magic)
    by_name = {f.name: f for f in files}
    for f in files:
        if not f.name.endswith(".pyc") or "/__pycache__/" not in f"/{f.name}":
            continue
        directory, _, pyc = f.name.rpartition("__pycache__/")
        stem = pyc.split(".", 1)[0]
        source = f"{directory}{stem}.py"
        if source not in names:
            continue
        with open(f.path, "rb") as handle:
            head = handle.read(16)
        if len(head) < 16 or int.from_bytes(head[4:8], "little") != 0:
            continue  # already hash-based, or not a pyc
        pairs.append((f.name, by_name[source].path, head[:4]))
    if not pairs:
        return {}
    hashes = _source_hashes(staged, pairs)
    out = {name: magic + (1).to_bytes(4, "little") + hashes[name] + by_name[name].path.read_bytes()[16:]
           for name, _, magic in pairs}
    out.update(_records(files, out))
    return out


def _records(files: Sequence[_File], changed: Mapping[str, bytes]) -> dict[str, bytes]:
    """RECORD files rewritten for the files whose content changed (paths relative to the dist-info's parent)."""
    from lading.install.records import RecordEntry, format_record, parse_record

    out: dict[str, bytes] = {}
    for f in files:
        if not f.name.endswith(".dist-info/RECORD"):
            continue
        base = posixpath.dirname(posixpath.dirname(f.name))
        try:
            entries = parse_record(f.path.read_text(encoding="utf-8"), file=f.path)
        except (LadingError, UnicodeDecodeError):
            continue
        rows = []
        for entry in entries:
            data = changed.get(posixpath.normpath(posixpath.join(base, entry.path)))
            rows.append(RecordEntry.of_bytes(entry.path, data) if data is not None and entry.hash else entry)
        if rows != entries:
            out[f.name] = format_record(rows)
    return out


def _source_hashes(staged: Staged, pairs: Sequence[tuple[str, Path, bytes]]) -> dict[str, bytes]:
    """PEP 552 source hashes, keyed like the interpreter that wrote the pyc: in-process when that is us,
    else by that interpreter (its hash key is its magic number, and 3.11 changed the hash function)."""
    ours = importlib.util.MAGIC_NUMBER
    out: dict[str, bytes] = {}
    foreign: list[tuple[str, Path]] = []
    for name, source, magic in pairs:
        if magic == ours:
            out[name] = importlib.util.source_hash(source.read_bytes())
        else:
            foreign.append((name, source))
    if foreign:
        python = str(staged.result.destination.interpreter.executable)
        script = ("import importlib.util, sys\n"
                  "for p in sys.stdin.read().split('\\0'):\n"
                  "    print(importlib.util.source_hash(open(p, 'rb').read()).hex())\n")
        try:
            ran = subprocess.run([python, "-I", "-c", script], input="\0".join(str(s) for _, s in foreign),
                                 capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise LadingError(f"could not hash the sources with {python}: {exc}",
                              hint="rebuild with --no-compile to ship the application without bytecode") from exc
        lines = ran.stdout.split()
        if len(lines) != len(foreign):
            raise LadingError(f"{python} answered {len(lines)} source hashes for {len(foreign)} files")
        for (name, _), value in zip(foreign, lines):
            out[name] = bytes.fromhex(value)
    return out


_BLOCK = 512
_END = bytes(2 * _BLOCK)
_IN_FLIGHT = 64  # parts read but not compressed yet, at most: 256 MiB (the whole payload of most applications)


def _tar_header(name: str, size: int, mode: int, epoch: int) -> bytes:
    """A ustar header (owner root, no user names); a pax header before it for a name ustar cannot hold.
    Equal to what :mod:`tarfile` writes for the same member, a few times faster."""
    raw = name.encode("utf-8", "surrogateescape")
    prefix, base = b"", raw
    if len(raw) > 100:
        cut = raw.find(b"/")  # the shortest prefix that leaves a name of at most 100 bytes, as tarfile does
        while cut > 0 and len(raw) - cut - 1 > 100:
            cut = raw.find(b"/", cut + 1)
        if 0 < cut <= 155:
            prefix, base = raw[:cut], raw[cut + 1:]
        else:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = size, mode, epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    if size >= 8 ** 11:
        raise LadingError(f"{name} is too large for the zipapp payload ({size} bytes)")
    header = b"".join((
        base.ljust(100, b"\0"), b"%07o\0" % mode, b"0000000\0", b"0000000\0", b"%011o\0" % size,
        b"%011o\0" % epoch, b"        ", b"0", bytes(100), b"ustar\x0000", bytes(32), bytes(32),
        bytes(16), prefix.ljust(155, b"\0"), bytes(12),
    ))
    checksum = b"%06o\0" % sum(header)
    return header[:148] + checksum + header[155:]


def _parts(files: Sequence[_File], contents: Mapping[str, bytes], epoch: int) -> Iterator[tuple[bytes, int]]:
    """The payload's parts, uncompressed: tars of consecutive runs of the sorted files, each closed once it
    holds PART_BYTES (so the cut depends on the files only), with how many files each holds."""
    chunks: list[bytes] = []
    size = count = 0
    for f in files:
        data = contents.get(f.name)
        if data is None:
            with open(f.path, "rb", buffering=0) as handle:
                data = handle.readall()
        header = _tar_header(f.name, len(data), 0o755 if f.executable else 0o644, epoch)
        chunks.append(header)
        chunks.append(data)
        padding = -len(data) % _BLOCK
        if padding:
            chunks.append(bytes(padding))
        size += len(header) + len(data) + padding
        count += 1
        if size >= PART_BYTES:
            chunks.append(_END)
            yield b"".join(chunks), count
            chunks, size, count = [], 0, 0
    if count or not files:
        chunks.append(_END)
        yield b"".join(chunks), count


def _compress(data: bytes, level: int, progress: Progress, count: int,
              room: Optional[threading.BoundedSemaphore] = None) -> bytes:
    """``data`` as a gzip stream (no name, mtime 0: the same bytes every time)."""
    try:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        body = deflate.compress(data) + deflate.flush()
    finally:
        if room is not None:
            room.release()
    progress.advance(items=count, nbytes=len(data))
    return b"".join((b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", body,
                     struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)))


def _gather(pending: Sequence[Future[bytes]]) -> list[bytes]:
    try:
        return [future.result() for future in pending]
    except BaseException:
        for future in pending:
            future.cancel()
        raise


def bootstrap_source(config: Mapping[str, object]) -> str:
    text = (Path(__file__).parent / "_bootstrap.py").read_text(encoding="utf-8")
    if text.count(_CONFIG_LINE) != 1:  # pragma: no cover - guarded by the tests
        raise LadingError("the zipapp bootstrap has no CONFIG line to fill in")
    values = ", ".join(f"{key!r}: {config[key]!r}" for key in sorted(config))
    return text.replace(_CONFIG_LINE, f"CONFIG = {{{values}}}")


def _zip_info(name: str, epoch: int, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime(epoch)[:6])
    info.create_system = 3
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(path: Path, members: Mapping[str, bytes], stored: Mapping[str, bytes], shebang: str, epoch: int,
              level: int) -> None:
    """The zip, entries sorted: ``members`` deflated, ``stored`` (compressed already) as they are."""
    with open(path, "wb") as raw:
        raw.write(b"#!" + shebang.strip().encode("utf-8") + b"\n")
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
            for name in sorted({*members, *stored}):
                info = _zip_info(name, epoch, 0o644)
                if name in stored:
                    info.compress_type = zipfile.ZIP_STORED
                    archive.writestr(info, stored[name], compress_type=zipfile.ZIP_STORED)
                else:
                    archive.writestr(info, members[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)


# --- what the zipapp says about itself -------------------------------------------------------------------


def embedded_lock(staged: Staged) -> tuple[str, bytes]:
    """The lock as a single-use pylock.toml for the target, or the lock file itself when it cannot be
    exported without the index (files named by hash only). Made from the lock as read, not from where
    this machine found the files, so it is the same whatever lading's cache held."""
    from lading import export, locks
    from lading.select import select

    found = staged.result.found
    selection = staged.result.selection
    lock = locks.read(found.path, found.format)
    try:
        own = select(lock, selection.target, _request(selection))
        text = export.to_pylock(lock, groups=own.groups, extras=own.extras, selection=own,
                                output_dir=found.path.parent.resolve())
        return PYLOCK, text.encode("utf-8")
    except LadingError:
        return LOCK_PREFIX + found.path.name, found.path.read_bytes()


def _request(selection: Selection) -> GroupRequest:
    return GroupRequest(groups=tuple(sorted(selection.groups)), extras=tuple(sorted(selection.extras)))


def _distributions(staged: Staged) -> list[dict[str, str]]:
    from lading.install.installed import scan

    dists = scan(staged.result.destination.paths).values()
    return [{"name": d.project_name, "version": d.version} for d in sorted(dists, key=lambda d: d.name)]


def _application(project: Optional[str], script: Optional[str], dists: Sequence[Mapping[str, str]]
                 ) -> tuple[str, str]:
    name = project or script or "zipapp"
    for dist in dists:
        if _normal(dist["name"]) == _normal(name):
            return dist["name"], dist["version"]
    return name, "0"


def _sbom(staged: Staged, name: str, version: str) -> bytes:
    """The CycloneDX SBOM of what the payload installs (``.lading/sbom.cdx.json``)."""
    from lading.artifacts import sbom

    hashes = sbom.archive_hashes(staged.result.selection)
    return sbom.dumps(sbom.environment_sbom(staged.result.destination.paths, name, version, hashes))


def _metadata(staged: Staged, options: ZipappOptions, entry: str, script: Optional[str], content_hash: str,
              epoch: int, files: Sequence[_File], native: bool, lock_member: str,
              dists: Sequence[Mapping[str, str]], name: str, version: str, parts: Sequence[str]
              ) -> dict[str, Any]:
    target = staged.result.selection.target
    env = target.environment
    compiled = any(f.name.endswith(".pyc") for f in files)
    return {
        "format": FORMAT_VERSION,
        "lading": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
        "source_date_epoch": epoch,
        "content_hash": content_hash,
        "application": {"name": name, "version": version},
        "entry_point": entry,
        "console_script": script,
        "shebang": options.shebang.strip(),
        "targets": [{
            "implementation_name": env.get("implementation_name"),
            "python_full_version": env.get("python_full_version"),
            "python_version": env.get("python_version"),
            "sys_platform": env.get("sys_platform"),
            "platform_machine": env.get("platform_machine"),
            "tag": str(target.tags[0]) if target.tags else None,
        }],
        "python": {
            "requires": env.get("python_version") if native else None,
            "bytecode": _bytecode_tags(files) if compiled else [],
            "extension_modules": native,
        },
        "lock": {"file": staged.result.found.path.name, "format": staged.result.found.format,
                 "embedded": lock_member, "groups": sorted(staged.result.selection.groups),
                 "extras": sorted(staged.result.selection.extras)},
        "distributions": list(dists),
        "payload": {"parts": list(parts), "files": len(files), "bytes": sum(f.size for f in files)},
        "sbom": SBOM,
    }


def _bytecode_tags(files: Sequence[_File]) -> list[str]:
    tags = {f.name.rsplit("/", 1)[-1].split(".")[1] for f in files
            if f.name.endswith(".pyc") and f.name.count(".") >= 2}
    return sorted(tags)


# --- reading a zipapp back (``lading inspect``) -----------------------------------------------------------


@dataclass(frozen=True)
class Embedded:
    path: Path
    metadata: Mapping[str, Any]
    lock_member: Optional[str]
    lock_text: Optional[str]
    sbom: Optional[Mapping[str, Any]]
    members: tuple[str, ...]


def read_embedded(path: Path) -> Embedded:
    """The metadata, lock and SBOM a lading zipapp carries; a clear error for any other file."""
    hint = "build one with `lading build zipapp`"
    if not path.is_file():
        raise UsageError(f"{path}: no such file", hint=hint)
    try:
        with zipfile.ZipFile(path) as archive:
            members = tuple(archive.namelist())
            if BUILD_JSON not in members:
                raise LadingError("not a zipapp built by lading (it has no .lading/build.json)",
                                  file=path, hint=hint)
            metadata = json.loads(archive.read(BUILD_JSON))
            lock_member = next((m for m in members if m == PYLOCK or m.startswith(LOCK_PREFIX)), None)
            lock_text = archive.read(lock_member).decode("utf-8", "replace") if lock_member else None
            sbom = json.loads(archive.read(SBOM)) if SBOM in members else None
    except zipfile.BadZipFile:
        raise LadingError("not a zipapp: the file is not a zip archive", file=path, hint=hint) from None
    except (ValueError, KeyError) as exc:
        raise LadingError(f"the zipapp's metadata cannot be read: {exc}", file=path) from None
    if not isinstance(metadata, dict):
        raise LadingError("the zipapp's .lading/build.json is not an object", file=path)
    return Embedded(path, metadata, lock_member, lock_text, sbom, members)


def payload_parts(path: Path) -> list[str]:
    """The names of a zipapp's payload parts, in order."""
    with zipfile.ZipFile(path) as archive:
        return sorted(n for n in archive.namelist() if n.startswith(PAYLOAD_PREFIX))


def iter_payload(path: Path) -> Iterator[tarfile.TarInfo]:
    """The payload's members, in order, for tests and inspection."""
    with zipfile.ZipFile(path) as archive:
        for part in sorted(n for n in archive.namelist() if n.startswith(PAYLOAD_PREFIX)):
            with archive.open(part) as stream, tarfile.open(fileobj=stream, mode="r|gz") as tar:
                yield from tar


__all__ = ["DEFAULT_EPOCH", "DEFAULT_SHEBANG", "Embedded", "Zipapp", "ZipappOptions", "build", "read_embedded",
           "source_date_epoch"]
