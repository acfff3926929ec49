"""A wheelhouse: every file a lock needs for its targets, as wheels, in one directory with a static index.

``build`` selects the lock for each target, finds and fetches the chosen files (the install engine's own
locating, fetching and hash checks), builds every sdist, directory and VCS source into a wheel once, here,
so that production installs never compile, and writes into the output directory:

- the wheels, flat (``DIR/<filename>``), copied out of the cache;
- ``simple/``: a static PEP 503 index (``index.html`` pages with ``#sha256=`` fragments and
  ``data-requires-python``) with PEP 691 JSON (``index.json``) beside each page;
- ``pylock.toml`` (PEP 751): the packages with their wheelhouse files by relative path, hash and size;
  groups and extras decided, ``environments`` naming the targets; a wheel built from an sdist records the
  sdist's hash in ``[packages.tool.lading]``;
- ``requirements.txt`` with ``--hash`` lines for ``pip install --no-index --find-links DIR --require-hashes``;
- ``sbom.cdx.json``: a CycloneDX SBOM of the wheels (``lading.artifacts.sbom``).

The application itself is part of the wheelhouse: a directory source in the lock is built, and when the lock
does not list the project but sits beside a pyproject.toml (or setup.py), that project is built too.

Everything is written into a temporary directory beside the output and renamed into place; an existing output
is replaced only when it is an earlier wheelhouse. Same inputs give the same bytes: sorted pages, fixed modes
and mtimes (``SOURCE_DATE_EPOCH``, default 1980-01-01), no timestamps in the files.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Optional, Union

from packaging.markers import Marker
from packaging.pylock import Package, PackageWheel, Pylock
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, parse_wheel_filename
from packaging.version import Version

from lading import locks
from lading.artifacts._tar import source_date_epoch
from lading.cache import Cache, default_cache_dir, file_sha256
from lading.errors import LadingError
from lading.fetch import Download, fetch_all
from lading.locks.detect import find
from lading.model import (
    GroupRequest,
    Lock,
    Origin,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    Selected,
    Selection,
    Target,
)
from lading.progress import FetchProgress, Progress
from lading.select import select

#: 1980-01-01T00:00:00Z, the earliest time a zip file can hold: the mtime of every file unless
#: ``SOURCE_DATE_EPOCH`` says otherwise.

#: The files lading writes at the top of a wheelhouse (besides the wheels): an output directory holding
#: only these is an earlier wheelhouse, which a new build may replace.
_OWN_FILES = frozenset({"simple", "pylock.toml", "requirements.txt", "sbom.cdx.json"})

_PEP691_VERSION = "1.1"


@dataclass(frozen=True)
class WheelhouseOptions:
    output: Path
    path: Path = Path(".")
    lock: Optional[Path] = None
    targets: tuple[Target, ...] = ()  # default: the interpreter running lading
    request: GroupRequest = field(default_factory=GroupRequest)
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    index_url: Optional[str] = None
    cache_dir: Optional[Path] = None
    jobs: int = 8
    # A lock that does not list the project beside a pyproject.toml: build the project too, since the
    # wheelhouse must install the application, not only its dependencies.
    with_project: bool = True


@dataclass(frozen=True)
class WheelFile:
    """One wheel in the wheelhouse."""

    filename: str
    project: NormalizedName
    version: str
    sha256: str
    size: int
    requires_python: Optional[str] = None
    #: None: downloaded as a wheel; else what it was built from: "sdist", "directory", "vcs", "archive".
    built_from: Optional[str] = None
    #: The sha256 of the sdist (or source archive) it was built from.
    source_sha256: Optional[str] = None


@dataclass(frozen=True)
class Wheelhouse:
    root: Path
    lock: Path
    lock_format: str
    targets: tuple[Target, ...]
    files: tuple[WheelFile, ...]
    packages: int
    sbom: Optional[Path]
    seconds: float
    notes: tuple[str, ...] = ()


def build(options: WheelhouseOptions, progress: Optional[Progress] = None,
          environ: Optional[Mapping[str, str]] = None) -> Wheelhouse:
    progress = progress or Progress()
    environ = os.environ if environ is None else environ
    started = time.perf_counter()
    out = Path(os.path.abspath(options.output))
    _check_output(out)

    found = find(options.path, options.lock)
    lock = locks.read(found.path, found.format)
    targets = options.targets or (_current(),)
    notes: list[str] = [f"lock: {found.note}"] if found.note else []

    cache = Cache(default_cache_dir(str(options.cache_dir) if options.cache_dir else None, environ))
    indexes = _indexes(options.index_url, lock, environ)
    with cache.using(), tempfile.TemporaryDirectory(prefix="lading-wheelhouse-") as work_text:
        work = Path(work_text)
        selections = _select_all(lock, targets, options, cache, indexes, progress)
        project = _project_to_build(lock, found.path.parent, options)
        collector = _Collector(lock, options, cache, indexes, work, progress)
        chosen = collector.collect(selections, project)
        files = sorted({f.filename: f for f in chosen.values()}.values(), key=lambda f: f.filename)
        wheelhouse_lock = _wheelhouse_lock(lock, selections, chosen, project, out)

        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            progress.phase("writing the wheelhouse", len(files))
            _write(staging, files, collector.archives, wheelhouse_lock, lock, targets, progress)
            _stamp(staging, source_date_epoch(environ))
            _publish(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    progress.done()
    return Wheelhouse(
        root=out,
        lock=found.path,
        lock_format=found.format,
        targets=targets,
        files=tuple(files),
        packages=len(wheelhouse_lock.packages),
        sbom=out / "sbom.cdx.json",
        seconds=round(time.perf_counter() - started, 3),
        notes=tuple(notes),
    )


# --- selecting and locating ------------------------------------------------------------------------


def _current() -> Target:
    from lading.target import current

    return current()


def _indexes(index_url: Optional[str], lock: Lock, environ: Mapping[str, str]) -> Any:
    from lading.index.config import default_indexes

    try:
        return default_indexes(index_url, (), lock, environ)
    except LadingError:
        if index_url:
            raise
        return None


def _select_all(lock: Lock, targets: Sequence[Target], options: WheelhouseOptions, cache: Cache,
                indexes: Any, progress: Progress) -> list[Selection]:
    """One selection per target, every chosen file located (URL or local path), or a clear error."""
    from lading.installer import locate_files

    selections = [select(lock, target, options.request) for target in targets]
    for selection in selections:
        _refuse_unbuildable(selection)
    progress.phase("locating files", len(targets))
    located: list[Selection] = []
    for selection in selections:
        selection = locate_files(lock, selection, selection.target, cache, indexes, request=options.request,
                                 find_links=options.find_links, offline=options.offline)
        _refuse_unbuildable(selection)
        _refuse_unlocated(selection, offline=options.offline, indexed=indexes is not None)
        located.append(selection)
        progress.advance(items=1)
    return located


def _label(chosen: Union[Selected, Package]) -> str:
    package = chosen.package if isinstance(chosen, Selected) else chosen
    return f"{package.name} {package.version}" if package.version is not None else str(package.name)


def _refuse_unbuildable(selection: Selection) -> None:
    for skipped in selection.skipped:
        if skipped.reason == "no-compatible-artifact":
            raise LadingError(
                f"the lock has no wheel for {selection.target.name}, and no sdist to build one from "
                f"({skipped.detail})",
                file=selection.lock.path,
                package=_label(skipped.package),
                field=skipped.origin.entry,
                hint="re-lock with this target (for example `lading lock --target SPEC`), lock a version "
                "that has a wheel for it, or build the wheelhouse without this target",
            )


def _refuse_unlocated(selection: Selection, *, offline: bool, indexed: bool) -> None:
    for chosen in selection.selected:
        source = chosen.source
        if chosen.pending is None and (
            isinstance(source, (PackageDirectory, PackageVcs)) or source.url or source.path
        ):
            continue
        if offline:
            why, hint = ("is not in the cache or a --find-links directory (--offline)",
                         "run once without --offline, or pass --find-links with a directory holding its files")
        elif not indexed:
            why, hint = ("is named without a URL and no index is configured to find it on",
                         "pass --index-url, or configure pip's index-url")
        else:
            why, hint = ("has no file to download", "re-lock; the lock names no file for it")
        raise LadingError(why, file=selection.lock.path, package=_label(chosen), field=chosen.origin.entry,
                          hint=hint)


def _project_to_build(lock: Lock, directory: Path, options: WheelhouseOptions) -> Optional[Path]:
    """The project beside the lock, when the lock does not list it (requirements.txt, Pipfile.lock)."""
    if not options.with_project or options.request.no_project:
        return None
    if any(lock.is_project(i) for i in range(len(lock.packages))):
        return None
    if (directory / "setup.py").is_file():
        return directory
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return None
    from lading._toml import load_toml

    data = load_toml(pyproject)
    # A pyproject.toml holding only tool settings (black, ruff, pipenv projects) is not a buildable project.
    return directory if "project" in data or "build-system" in data else None


# --- fetching and building ---------------------------------------------------------------------------


class _Collector:
    """Brings every chosen file into the cache and turns sources into wheels, once per file."""

    def __init__(self, lock: Lock, options: WheelhouseOptions, cache: Cache, indexes: Any, work: Path,
                 progress: Progress) -> None:
        self.lock = lock
        self.options = options
        self.cache = cache
        self.indexes = indexes
        self.work = work
        self.progress = progress
        self.base = lock.path.parent
        #: Where each wheel's bytes are: a cache archive, a built wheel in the cache or in ``work``.
        self.archives: dict[str, Path] = {}
        self._builders: dict[tuple[str, str], Any] = {}
        self._built: dict[str, list[WheelFile]] = {}  # source key -> wheels built from it

    def collect(self, selections: Sequence[Selection], project: Optional[Path]
                ) -> dict[tuple[int, int], WheelFile]:
        """``(target index, lock position) -> wheel`` (the project beside the lock at ``len(packages)``)."""
        downloads: dict[tuple[int, int], Download] = {}
        for t, selection in enumerate(selections):
            positions = {id(p): i for i, p in enumerate(selection.lock.packages)}
            for chosen in selection.selected:
                download = self._download(chosen)
                if download is not None:
                    downloads[(t, positions[id(chosen.package)])] = download
        fetched = fetch_all(sorted(set(downloads.values()), key=lambda d: (d.filename, d.hashes)), self.cache,
                            None, jobs=self.options.jobs, offline=self.options.offline,
                            find_links=self.options.find_links, progress=FetchProgress(self.progress),
                            client_factory=self._client)

        result: dict[tuple[int, int], WheelFile] = {}
        builds: list[tuple[int, int, Selected]] = []
        for t, selection in enumerate(selections):
            positions = {id(p): i for i, p in enumerate(selection.lock.packages)}
            for chosen in selection.selected:
                key = (t, positions[id(chosen.package)])
                download = downloads.get(key)
                if download is not None and download.filename.endswith(".whl"):
                    result[key] = self._wheel(fetched[download], download.sha256)
                else:
                    builds.append((t, key[1], chosen))
        total = len(builds) + (len(selections) if project is not None else 0)
        if total:
            self.progress.phase("building wheels", total)
        for t, position, chosen in builds:
            target = selections[t].target
            download = downloads.get((t, position))
            result[(t, position)] = self._build(chosen, target, fetched[download] if download else None,
                                                download)
            self.progress.advance(items=1)
        if project is not None:
            for t, selection in enumerate(selections):
                result[(t, len(self.lock.packages))] = self._build_directory(
                    project, selection.target, label=project.name, name=None, version=None, kind="directory")
                self.progress.advance(items=1)
        return result

    # --- pieces -----------------------------------------------------------------------------------

    def _client(self) -> Any:
        from lading.index.complete import index_client
        from lading.index.http import HttpClient

        if self.indexes is None:
            return HttpClient(max_connections=self.options.jobs)
        return index_client(self.indexes, self.lock, workers=self.options.jobs)

    def _download(self, chosen: Selected) -> Optional[Download]:
        source = chosen.source
        if isinstance(source, (PackageDirectory, PackageVcs)):
            return None
        path = None
        if source.path:
            path = Path(source.path) if Path(source.path).is_absolute() else self.base / source.path
        return Download.of(_filename(source), dict(source.hashes), url=source.url, path=path, size=source.size,
                           label=_label(chosen))

    def _wheel(self, archive: Path, sha256: Optional[str], *, built_from: Optional[str] = None,
               source_sha256: Optional[str] = None) -> WheelFile:
        digest = sha256 or file_sha256(archive)
        name, version, _, _ = parse_wheel_filename(archive.name)
        known = self.archives.get(archive.name)
        if known is not None and known != archive and file_sha256(known) != digest:
            raise LadingError(
                f"two different files are both called {archive.name}", package=f"{name} {version}",
                hint="the lock names two different files with one name (or a build is not reproducible); "
                "re-lock, or build the wheelhouse for one target at a time",
            )
        self.archives[archive.name] = archive
        return WheelFile(archive.name, name, str(version), digest, archive.stat().st_size,
                         _requires_python(archive), built_from, source_sha256)

    def _builder(self, target: Target) -> Any:
        """The builder for a target: its own interpreter, or (a platform spec) the one running lading, whose
        builds are then checked against the target's tags."""
        from lading.install.sdist import Builder, BuildOptions

        python = target.interpreter or sys.executable
        key = (python, target.name)
        if key not in self._builders:
            options = self.options
            build_target = target if target.interpreter else _current()
            self._builders[key] = Builder(
                BuildOptions(cache=self.cache, index_urls=self.indexes.all() if self.indexes else (),
                             offline=options.offline, find_links=options.find_links, jobs=options.jobs),
                python, target=build_target,
            )
        return self._builders[key]

    def _reuse(self, key: str, target: Target) -> Optional[WheelFile]:
        from lading.resolve.provider import best_tag

        for wheel in self._built.get(key, ()):
            if best_tag(wheel.filename, target.tags) is not None:
                return wheel
        return None

    def _build(self, chosen: Selected, target: Target, archive: Optional[Path],
               download: Optional[Download]) -> WheelFile:
        source = chosen.source
        label = _label(chosen)
        name = str(chosen.package.name)
        if isinstance(source, PackageDirectory):
            directory = self.base / source.path
            if source.subdirectory:
                directory = directory / source.subdirectory
            return self._build_directory(directory, target, label=label, name=name, version=chosen.version,
                                         kind="directory")
        if isinstance(source, PackageVcs):
            key = f"vcs:{source.url or source.path}@{source.commit_id}:{source.subdirectory or ''}"
            reused = self._reuse(key, target)
            if reused is not None:
                return reused
            from lading.installer import _checkout

            checkout = _checkout(source, self.work / f"vcs-{len(self._built)}", self.base, label)
            if source.subdirectory:
                checkout = checkout / source.subdirectory
            return self._build_directory(checkout, target, label=label, name=name, version=chosen.version,
                                         kind="vcs", key=key)
        assert archive is not None and download is not None
        digest = download.sha256 or file_sha256(archive)
        key = f"sdist:{digest}"
        reused = self._reuse(key, target)
        if reused is not None:
            return reused
        built = self._builder(target).build_sdist(archive, sha256=digest, label=label, name=name,
                                                  version=chosen.version)
        self._fits(built.path, target, label)
        wheel = self._wheel(built.path, None, built_from="sdist" if isinstance(source, PackageSdist) else "archive",
                            source_sha256=digest)
        self._built.setdefault(key, []).append(wheel)
        return wheel

    def _build_directory(self, directory: Path, target: Target, *, label: str, name: Optional[str],
                         version: Optional[str], kind: str, key: Optional[str] = None) -> WheelFile:
        key = key or f"directory:{directory.resolve()}"
        reused = self._reuse(key, target)
        if reused is not None:
            return reused
        out = self.work / f"built-{len(self._built)}-{sum(len(v) for v in self._built.values())}"
        built = self._builder(target).build_directory(directory, out, label=label, name=name, version=version)
        self._fits(built.path, target, label)
        wheel = self._wheel(built.path, None, built_from=kind)
        self._built.setdefault(key, []).append(wheel)
        return wheel

    @staticmethod
    def _fits(wheel: Path, target: Target, label: str) -> None:
        from lading.resolve.provider import best_tag

        if best_tag(wheel.name, target.tags) is None:
            raise LadingError(
                f"the build produced {wheel.name}, which does not suit {target.name}",
                package=label,
                hint="a platform spec target is built with the interpreter running lading, so only pure "
                "Python builds suit it: build this wheelhouse on a machine like the target, or with "
                "--python naming the target's interpreter",
            )


def _filename(source: Union[PackageArchive, PackageSdist, Any]) -> str:
    name = getattr(source, "name", None)
    if name:
        return str(name)
    location = source.path or source.url or ""
    return str(location).rstrip("/").rsplit("/", 1)[-1].split("#", 1)[0].split("?", 1)[0]


def _requires_python(wheel: Path) -> Optional[str]:
    """``Requires-Python`` from the wheel's METADATA (None when absent or unreadable)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist()
                     if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                return None
            text = archive.read(names[0]).decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile):
        return None
    value = HeaderParser().parsestr(text).get("Requires-Python")
    if not value:
        return None
    try:
        return str(SpecifierSet(str(value)))
    except InvalidSpecifier:
        return None


# --- the wheelhouse's own lock ------------------------------------------------------------------------


def _wheelhouse_lock(lock: Lock, selections: Sequence[Selection], chosen: Mapping[tuple[int, int], WheelFile],
                     project: Optional[Path], out: Path) -> Lock:
    """The packages the targets need, each with its wheelhouse wheels; groups and extras decided."""
    from lading.export.bake import bake_groups
    from lading.export.pylock import target_marker

    groups = frozenset().union(*(s.groups for s in selections))
    extras = frozenset().union(*(s.extras for s in selections))
    by_position: dict[int, dict[str, WheelFile]] = {}
    for (_, position), wheel in chosen.items():
        by_position.setdefault(position, {})[wheel.filename] = wheel
    packages: list[Package] = []
    for position in sorted(by_position):
        wheels = sorted(by_position[position].values(), key=lambda w: w.filename)
        if position < len(lock.packages):
            original = lock.packages[position]
            marker = bake_groups(original.marker, groups, extras)
            packages.append(_package(original, wheels, None if marker is False else marker))
        else:
            assert project is not None
            first = wheels[0]
            bare = Package(name=first.project, version=Version(first.version))
            packages.append(_package(bare, wheels, None))
    packages.sort(key=lambda p: (p.name, p.version or Version("0")))
    environments = []
    for selection in selections:
        text = target_marker(selection.target)
        if text and Marker(text) not in environments:
            environments.append(Marker(text))
    pylock = Pylock(
        lock_version=Version("1.0"),
        environments=environments or None,
        requires_python=lock.pylock.requires_python,
        extras=[],
        dependency_groups=[],
        default_groups=[],
        created_by="lading",
        packages=packages,
    )
    path = out / "pylock.toml"
    origins = tuple(Origin(path, f"packages[{i}]") for i in range(len(packages)))
    return Lock(path=path, format="pylock", pylock=pylock, origins=origins)


def _package(original: Package, wheels: Sequence[WheelFile], marker: Optional[Marker]) -> Package:
    built = [w for w in wheels if w.built_from]
    version = original.version or Version(wheels[0].version)
    requires_python = original.requires_python
    if requires_python is None:
        said = {w.requires_python for w in wheels}
        if len(said) == 1 and None not in said:
            requires_python = SpecifierSet(str(next(iter(said))))
    tool: dict[str, Any] = dict(original.tool or {})
    if built:
        own: dict[str, Any] = {"built-from": built[0].built_from}
        sources = sorted({w.source_sha256 for w in built if w.source_sha256})
        if len(sources) == 1:
            own["sdist-sha256"] = sources[0]
        tool["lading"] = own
    return Package(
        name=original.name,
        version=version,
        marker=marker,
        requires_python=requires_python,
        dependencies=original.dependencies,
        wheels=[PackageWheel(name=w.filename, path=w.filename, size=w.size, hashes={"sha256": w.sha256})
                for w in wheels],
        attestation_identities=None if built else original.attestation_identities,
        tool=tool or None,
    )


# --- writing ------------------------------------------------------------------------------------------


def _write(root: Path, files: Sequence[WheelFile], archives: Mapping[str, Path], wheelhouse: Lock,
           source: Lock, targets: Sequence[Target], progress: Progress) -> None:
    """Every file of the wheelhouse into ``root``."""
    for wheel in files:
        shutil.copyfile(archives[wheel.filename], root / wheel.filename)  # a copy: never a link into the cache
        progress.advance(items=1)
    _write_index(root / "simple", files)
    lock_text = _pylock_text(wheelhouse, source, targets, root)
    _write_text(root / "pylock.toml", lock_text)
    _write_text(root / "requirements.txt", _requirements_text(wheelhouse))
    written = locks.read(root / "pylock.toml", "pylock")
    selections = [_self_check(written, target, root) for target in targets]
    (root / "sbom.cdx.json").write_bytes(_sbom(selections, source, files))


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def _pylock_text(wheelhouse: Lock, source: Lock, targets: Sequence[Target], root: Path) -> str:
    import tomlkit

    from lading.export.pylock import to_pylock

    located = Lock(path=root / "pylock.toml", format="pylock", pylock=wheelhouse.pylock,
                   origins=wheelhouse.origins)
    doc = tomlkit.parse(to_pylock(located, groups=(), extras=(), output_dir=root))
    doc["tool"]["lading"] = {
        "wheelhouse": 1,
        "source": source.path.name,
        "source-format": source.format,
        "targets": [t.name for t in targets],
    }
    return tomlkit.dumps(doc)


def _self_check(lock: Lock, target: Target, root: Path) -> Selection:
    """The written pylock.toml selects, for every target, files that are in the wheelhouse."""
    selection = select(lock, target)
    _refuse_unbuildable(selection)
    for chosen in selection.selected:
        path = getattr(chosen.source, "path", None)
        if not path or not (root / path).is_file():  # pragma: no cover - a bug in this module
            raise LadingError("the wheelhouse lock names a file that was not written", package=_label(chosen),
                              hint="report this to lading")
    return selection


def _requirements_text(lock: Lock) -> str:
    lines = ["# A wheelhouse built by lading: pip install --no-index --find-links DIR --require-hashes -r "
             "requirements.txt"]
    for package in lock.packages:
        requirement = f"{package.name}=={package.version}"
        if package.marker is not None:
            requirement += f" ; {package.marker}"
        hashes = sorted(f"--hash=sha256:{w.hashes['sha256']}" for w in package.wheels or ())
        lines.append(" \\\n    ".join([requirement, *hashes]))
    return "\n".join(lines) + "\n"


def _write_index(simple: Path, files: Sequence[WheelFile]) -> None:
    """PEP 503 pages and PEP 691 JSON: ``simple/index.*`` and ``simple/<project>/index.*``."""
    by_project: dict[NormalizedName, list[WheelFile]] = {}
    for wheel in files:
        by_project.setdefault(wheel.project, []).append(wheel)
    simple.mkdir()
    projects = sorted(by_project)
    links = "".join(f'    <a href="{html.escape(p)}/">{html.escape(p)}</a><br/>\n' for p in projects)
    _write_text(simple / "index.html", _page("Simple index", links))
    _write_text(simple / "index.json", _json({
        "meta": {"api-version": _PEP691_VERSION},
        "projects": [{"name": p} for p in projects],
    }))
    for project in projects:
        wheels = sorted(by_project[project], key=lambda w: w.filename)
        folder = simple / project
        folder.mkdir()
        anchors = []
        for wheel in wheels:
            attributes = f'href="../../{html.escape(wheel.filename)}#sha256={wheel.sha256}"'
            if wheel.requires_python:
                attributes += f' data-requires-python="{html.escape(wheel.requires_python)}"'
            anchors.append(f"    <a {attributes}>{html.escape(wheel.filename)}</a><br/>\n")
        _write_text(folder / "index.html", _page(f"Links for {project}", "".join(anchors)))
        entries = []
        for wheel in wheels:
            entry: dict[str, Any] = {"filename": wheel.filename, "url": f"../../{wheel.filename}",
                                     "hashes": {"sha256": wheel.sha256}}
            if wheel.requires_python:
                entry["requires-python"] = wheel.requires_python
            entry["size"] = wheel.size
            entries.append(entry)
        versions = sorted({w.version for w in wheels}, key=Version)
        _write_text(folder / "index.json", _json({
            "meta": {"api-version": _PEP691_VERSION},
            "name": project,
            "versions": versions,
            "files": entries,
        }))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{_PEP691_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}  </body>\n</html>\n"
    )


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _sbom(selections: Sequence[Selection], source: Lock, files: Sequence[WheelFile]) -> bytes:
    """CycloneDX JSON of what the wheelhouse holds (its own lock's selections: the wheels and their hashes),
    named after the application: the project built here, else the project beside the lock."""
    from lading.artifacts.sbom import dumps, lock_sbom, project_identity

    name, version = project_identity(source.path.parent)
    built = [f for f in files if f.built_from == "directory"]
    if name is None and len(built) == 1:
        name, version = built[0].project, built[0].version
    return dumps(lock_sbom(list(selections), name or source.path.parent.name, version))


# --- the output directory -------------------------------------------------------------------------------


def _check_output(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise LadingError("exists and is not a directory", file=out, hint="choose another -o directory")
    if any(out.iterdir()) and not _is_wheelhouse(out):
        raise LadingError(
            "is not empty and is not a wheelhouse lading built", file=out,
            hint="choose a new or empty -o directory, or remove this one; lading replaces only an earlier "
            "wheelhouse (wheels, simple/, pylock.toml, requirements.txt, sbom.cdx.json and nothing else)",
        )


def _is_wheelhouse(directory: Path) -> bool:
    if not (directory / "pylock.toml").is_file() or not (directory / "simple" / "index.html").is_file():
        return False
    return all(child.name in _OWN_FILES or (child.name.endswith(".whl") and child.is_file())
               for child in directory.iterdir())


def _stamp(root: Path, epoch: int) -> None:
    """Modes and mtimes that do not depend on the umask or the clock."""
    for path in sorted(root.rglob("*"), reverse=True):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch))
    os.chmod(root, 0o755)
    os.utime(root, (epoch, epoch))


def _publish(staging: Path, out: Path) -> None:
    """Rename the finished wheelhouse into place; an earlier one is replaced only once the new one is there."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    os.rename(out, old / "previous")
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old / "previous", out)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["WheelFile", "Wheelhouse", "WheelhouseOptions", "build"]
