"""``lading install``: plan, then act. Read the lock, pick the destination, select, plan, fetch, unpack or
build, compile, then change the environment.

Nothing in the environment changes until every artifact of the plan is in the cache, verified, unpacked
and (by default) compiled, so a failed download or hash mismatch leaves the environment as it was. The
changes themselves are ordered so that an interrupted run is repaired by running it again: a
distribution is only complete once its RECORD is written, and an incomplete one is reinstalled.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Union

from packaging.utils import NormalizedName, canonicalize_name, parse_sdist_filename, parse_wheel_filename

from lading import locks
from lading.cache import ARCHIVES, Cache, default_cache_dir, file_sha256, is_sha256
from lading.errors import DeployError, DiskFullError, LadingError, SelectionError, StaleLockError, disk_full
from lading.fetch import Download, fetch_all
from lading.index.config import IndexConfig, default_indexes
from lading.install.bytecode import CompileJob, compile_trees, is_compiled
from lading.install.installed import InstalledDist, scan
from lading.install.link import Linker
from lading.install.paths import InstallPaths
from lading.install.scheme import Destination, DestinationOptions, make_venv, resolve_destination
from lading.install.tree import UnpackQueue, needs_build, unpacked_tree
from lading.install.uninstall import uninstall
from lading.install.wheel import UnpackedWheel, install
from lading.install.workers import FIRST, Workers, start_workers
from lading.locks.detect import Found, find
from lading.locks.staleness import freshness
from lading.model import (
    GroupRequest,
    Lock,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Selected,
    Selection,
    Target,
)
from lading.plan import Action, Plan, make_plan, public_url
from lading.progress import FetchProgress, Progress
from lading.select import select
from lading.soundness import check
from lading.target import target_for


@dataclass(frozen=True)
class InstallOptions:
    path: Path = Path(".")
    lock: Optional[Path] = None
    destination: DestinationOptions = field(default_factory=DestinationOptions)
    request: GroupRequest = field(default_factory=GroupRequest)
    deploy: bool = False
    editable: bool = False
    exact: bool = True
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    index_url: Optional[str] = None
    compile: bool = True
    link_mode: str = "auto"
    cache_dir: Optional[Path] = None
    jobs: int = 8
    dry_run: bool = False
    reinstall: tuple[str, ...] = ()
    # Staging for artifacts: the interpreter path written into script shebangs when the environment will
    # run from another place than where it is built (a venv built in a staging root for /opt/app).
    script_interpreter: Optional[str] = None
    # Select for this target instead of the destination's interpreter (an artifact for another machine);
    # bytecode is then only compiled when the destination's interpreter has the target's version.
    target: Optional[Target] = None


@dataclass(frozen=True)
class InstallResult:
    found: Found
    destination: Destination
    selection: Selection
    plan: Plan
    dry_run: bool
    seconds: float = 0.0
    timings: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def run(options: InstallOptions, progress: Optional[Progress] = None, environ: Optional[Mapping[str, str]] = None
        ) -> InstallResult:
    progress = progress or Progress()
    environ = os.environ if environ is None else environ
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 4)
        return now

    found = find(options.path, options.lock)
    lock = _project_editable(locks.read(found.path, found.format), options.editable)
    project_dir = options.path if options.path.is_dir() else found.path.parent
    destination = resolve_destination(replace(options.destination, create=False), project_dir, environ)
    # A new venv is made on the side while the lock is selected and the files fetched (its interpreter's
    # facts are known already); what needs the venv itself asks made() for it.
    making = _Making(destination) if destination.missing and not options.dry_run else None

    def made() -> Destination:
        nonlocal destination
        if making is not None:
            destination = making.result()
        return destination

    try:
        target = options.target or target_for(destination.interpreter)
        selection = select(lock, target, options.request)
        notes: list[str] = [f"lock: {found.note}"] if found.note else []
        if options.deploy:
            _deploy_checks(lock, selection)
        t = lap("select", started)

        cache = Cache(default_cache_dir(str(options.cache_dir) if options.cache_dir else None, environ))
        indexes = _indexes(options.index_url, lock, environ)
        with cache.using():
            selection = _locate_files(lock, selection, target, options, cache, indexes)
            _refuse_missing_artifacts(selection)
            if options.deploy:
                _refuse_builds(lock, selection)
            installed = scan(destination.paths) if not destination.missing else {}
            broken = [name for name, dist in installed.items() if not dist.complete]
            tag = destination.interpreter.cache_tag if _compiles(options, destination, target) else None
            reinstall: dict[str, str] = {
                **dict.fromkeys(_without_bytecode(installed, tag), "installed without bytecode"),
                **dict.fromkeys(broken, "its last install or removal was interrupted"),
                **dict.fromkeys(options.reinstall, "asked to reinstall"),
            }
            plan = make_plan(selection, installed.values(), exact=options.exact, reinstall=reinstall)
            t = lap("plan", t)
            if options.dry_run:
                return InstallResult(found, destination, selection, plan, True,
                                     round(time.perf_counter() - started, 4), timings, tuple(notes))
            workers = start_workers(_WORKERS) if plan.to_install else None
            try:
                _act(plan, selection, installed, destination, made, options, cache, indexes, progress, timings,
                     target, tag, workers)
            except BaseException:
                if workers is not None:
                    workers.shutdown(cancel=True)
                raise
            if workers is not None:
                workers.shutdown()
        progress.done()
        return InstallResult(found, made(), selection, plan, False,
                             round(time.perf_counter() - started, 4), timings, tuple(notes))
    except BaseException:
        if making is not None:
            making.settle()  # the run ends with the venv made (or not) either way, as before
        raise


def _act(plan: Plan, selection: Selection, installed: Mapping[NormalizedName, InstalledDist],
         destination: Destination, made: Callable[[], Destination], options: InstallOptions, cache: Cache,
         indexes: Optional[IndexConfig], progress: Progress, timings: dict[str, float], target: Target,
         tag: Optional[str], workers: Optional[Workers]) -> None:
    """Fetch, unpack, build, compile and link what the plan installs, and remove what it removes."""
    early = _EarlyLinks(plan, made, options, tag, workers) \
        if workers is not None and _links_early(plan, destination, options, cache, tag) else None
    if any(a.selected is not None and needs_build(a.selected.source) for a in plan.to_install):
        made()  # builds run with the destination's interpreter
    try:
        trees = {} if workers is None else _prepare(
            plan, selection, destination, options, cache, indexes, progress, timings, target, workers,
            on_tree=early.link if early is not None else None)
    except LadingError as exc:
        if early is not None:
            early.abort()
        raise _disk_full_or(exc, cache.root) from None
    except BaseException:
        if early is not None:
            early.abort()
        raise
    t = time.perf_counter()
    if early is None:  # else the links were made as the trees came, with nothing to compile
        destination = made()
        if tag:
            todo = [CompileJob(tree.root, tuple(f.path for f in tree.files if f.path.endswith(".py")))
                    for tree in trees.values() if not is_compiled(tree.root, tag)]
            if todo:
                progress.phase("compiling", len(todo))
                compile_trees(todo, destination.interpreter, workers=None)
        timings["compile"] = round(time.perf_counter() - t, 4)
        t = time.perf_counter()
        _check_space(plan, trees, destination, cache, options.link_mode)
    try:
        if early is not None:
            early.finish(trees, progress)
        else:
            _apply(plan, installed, trees, made(), options, progress, tag, workers)
    except LadingError as exc:
        raise _disk_full_or(exc, made().root) from None
    timings["link"] = round(time.perf_counter() - t, 4)


class _Making:
    """A missing venv being made on its own thread (``python -m venv`` runs in a subprocess meanwhile)."""

    def __init__(self, planned: Destination) -> None:
        self._future: Future[Destination] = Future()
        threading.Thread(target=self._make, args=(planned,), name="lading-venv").start()

    def _make(self, planned: Destination) -> None:
        try:
            self._future.set_result(make_venv(planned))
        except BaseException as error:  # raised where the venv is needed
            self._future.set_exception(error)

    def result(self) -> Destination:
        return self._future.result()

    def settle(self) -> None:
        """Wait for the making to end, whatever its outcome."""
        self._future.exception()


def _compiles(options: InstallOptions, destination: Destination, target: Target) -> bool:
    """Bytecode is compiled by the destination's interpreter, so only for a target of its version."""
    if not options.compile or not destination.interpreter.cache_tag:
        return False
    if options.target is None:
        return True
    wanted = str(target.environment.get("python_full_version") or "")
    have = destination.interpreter.version_text
    return wanted == have or wanted.startswith(have + ".")


def _without_bytecode(installed: Mapping[NormalizedName, InstalledDist], tag: Optional[str]) -> list[str]:
    """Distributions installed without bytecode (``--no-compile`` earlier) when this run wants it."""
    if tag is None:
        return []
    missing: list[str] = []
    for name, dist in installed.items():
        if dist.record is None:
            continue
        try:
            text = dist.record.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if ".py," in text and f".{tag}.pyc," not in text and f".{tag}.opt-" not in text:
            missing.append(name)
    return missing


# --- reading and selecting ------------------------------------------------------------------------------


def _project_editable(lock: Lock, editable: bool) -> Lock:
    """The project installs non-editable unless ``--editable``, whatever the lock says (uv writes editable)."""
    packages = list(lock.packages)
    changed = False
    for i, package in enumerate(packages):
        directory = package.directory
        if directory is not None and lock.is_project(i) and bool(directory.editable) != editable:
            packages[i] = _with_directory(package, replace(directory, editable=editable))
            changed = True
    if not changed:
        return lock
    return replace(lock, pylock=replace(lock.pylock, packages=packages))


def _with_directory(package: Any, directory: PackageDirectory) -> Any:
    return replace(package, directory=directory)


def _deploy_checks(lock: Lock, selection: Selection) -> None:
    fresh = freshness(lock)
    if fresh.checked and not fresh.fresh:
        manifest = fresh.manifest.name if fresh.manifest else "its manifest"
        raise StaleLockError(
            f"out of date with {manifest}: " + "; ".join(fresh.differences[:3]),
            file=lock.path,
            hint=f"re-lock with the tool that wrote {lock.path.name} and commit both files; "
            "--deploy installs only a lock that matches its manifest",
        )
    problems = check(lock)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; see `lading verify`)" if len(problems) > 1 else ""
        raise DeployError(first.message + more, file=lock.path, package=first.package, field=first.field,
                          hint=first.hint or "fix the lock, then run `lading verify --deploy`")
    for chosen in selection.selected:
        label = f"{chosen.package.name} {chosen.version or ''}".strip()
        if chosen.version is None and chosen.pending is not None:
            raise DeployError("not pinned to a version, and selected for this target", file=lock.path,
                              package=label, field=chosen.origin.entry,
                              hint="pin it in the manifest and re-lock")
        if chosen.pending is not None and not chosen.pending.hashes:
            raise DeployError("no hash to verify it by", file=lock.path, package=label,
                              field=chosen.origin.entry, hint="re-lock with hashes")


def _refuse_missing_artifacts(selection: Selection) -> None:
    """A package the selection needs but the lock has no file for on this target is an error, not a gap in
    the environment: the application would fail at import time in production instead of here."""
    for skipped in selection.skipped:
        if skipped.reason == "no-compatible-artifact":
            package = skipped.package
            label = f"{package.name} {package.version}" if package.version is not None else str(package.name)
            raise SelectionError(
                f"needed here, but the lock has no file for this target: {skipped.detail}",
                file=selection.lock.path, package=label, field=skipped.origin.entry,
                hint="re-lock for this target (lading lock --target SPEC), lock a version that has a wheel "
                "for it, or install with the --python the lock was made for",
            )


def _refuse_builds(lock: Lock, selection: Selection) -> None:
    """Under --deploy nothing is built from source; checked once the files are known (a hash-only lock may
    turn out to name only an sdist)."""
    for chosen in selection.selected:
        label = f"{chosen.package.name} {chosen.version or ''}".strip()
        if isinstance(chosen.source, (PackageSdist, PackageVcs)) or (
            isinstance(chosen.source, PackageArchive) and needs_build(chosen.source)
        ):
            raise DeployError(
                "would be built from source, and --deploy refuses builds (production hosts have no compiler)",
                file=lock.path, package=label, field=chosen.origin.entry,
                hint="build a wheelhouse (a directory of wheels) on a build machine, for example with `pip wheel "
                "--no-deps`, and install from it with --find-links DIR, or lock a version that has a wheel "
                "for this platform",
            )


def _indexes(index_url: Optional[str], lock: Lock, environ: Mapping[str, str]) -> Optional[IndexConfig]:
    try:
        return default_indexes(index_url, (), lock, environ)
    except LadingError:
        if index_url:
            raise
        return None


def _locate_files(
    lock: Lock,
    selection: Selection,
    target: Target,
    options: InstallOptions,
    cache: Cache,
    indexes: Optional[IndexConfig],
    index_first: bool = False,
) -> Selection:
    """Find URLs (or local copies) for what the lock names only by file name or by hash, then re-select."""
    missing = _unlocated(lock, selection)
    if not missing:
        return selection
    if index_first and indexes is not None and not options.offline:
        # Whatever happens to be cached must not decide which file a hash-only package gets: the index
        # lists every file, the cache only those of earlier runs (perhaps a less specific wheel).
        located, still = lock, missing
    else:
        located = _from_local(lock, missing, cache, options.find_links)
        selection = select(located, target, options.request)
        still = _unlocated(located, selection)
    # The local files of a hash-only package may all be for other targets (a cache filled for another
    # platform or Python): look such a package up on the index as if nothing were local.
    positions = {id(p): i for i, p in enumerate(located.packages)}
    elsewhere = {positions[id(s.package)] for s in selection.skipped
                 if s.reason == "no-compatible-artifact" and positions[id(s.package)] in lock.pending}
    if elsewhere:
        packages = list(located.packages)
        pending = dict(located.pending)
        for i in elsewhere:
            packages[i] = lock.packages[i]
            pending[i] = lock.pending[i]
        located = replace(located, pylock=replace(located.pylock, packages=packages), pending=pending)
        selection = select(located, target, options.request)
        still = _unlocated(located, selection)
    if still and indexes is not None:
        from lading.index.complete import complete
        from lading.index.httpcache import OfflineMiss

        try:
            located = complete(located, indexes, only=still, cache=cache, offline=options.offline,
                               python=str(target.environment.get("python_full_version") or "") or None)
        except OfflineMiss:
            return selection  # preparing names what is missing, for the packages it needs
        selection = select(located, target, options.request)
    return selection


def locate_files(
    lock: Lock,
    selection: Selection,
    target: Target,
    cache: Cache,
    indexes: Optional[IndexConfig],
    *,
    request: GroupRequest,
    find_links: Sequence[Path] = (),
    offline: bool = False,
) -> Selection:
    """:func:`_locate_files` for callers without an :class:`InstallOptions` (the wheelhouse builder), asking
    the index first: an artifact for several targets takes each target's best file, not a cached one."""
    options = InstallOptions(request=request, find_links=tuple(find_links), offline=offline)
    return _locate_files(lock, selection, target, options, cache, indexes, index_first=True)


def _unlocated(lock: Lock, selection: Selection) -> set[int]:
    """Positions of selected packages whose chosen file has no URL or path yet."""
    positions = {id(p): i for i, p in enumerate(lock.packages)}
    return {
        positions[id(s.package)]
        for s in selection.selected
        if s.pending is not None
        or (isinstance(s.source, (PackageWheel, PackageSdist)) and not (s.source.url or s.source.path))
    }


def _name_only(package: Any) -> bool:
    files = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
    return bool(files) and not any(f.url or f.path for f in files)


def _from_local(lock: Lock, positions: set[int], cache: Cache, find_links: Sequence[Path]) -> Lock:
    """Files already in the cache (by hash) or in ``--find-links`` directories (by name) need no index."""
    by_hash = _cached_archives(cache, lock, positions)
    local = _find_links_files(find_links)
    packages = list(lock.packages)
    pending = dict(lock.pending)
    for i in positions:
        package = packages[i]
        if i in pending and package.version is not None:
            files = _matching_files(package.name, str(package.version), pending[i].hashes, by_hash, local)
            if files:
                wheels = [PackageWheel(name=p.name, path=str(p), hashes=h) for p, h in files if p.name.endswith(".whl")]
                sdists = [PackageSdist(name=p.name, path=str(p), hashes=h) for p, h in files
                          if not p.name.endswith(".whl")]
                packages[i] = replace(package, archive=None, wheels=wheels or None,
                                      sdist=sdists[0] if sdists else None)
                del pending[i]
            continue
        wheels = [_locally(w, by_hash, local) for w in package.wheels or ()]
        sdist = _locally(package.sdist, by_hash, local) if package.sdist else None
        packages[i] = replace(package, wheels=wheels or package.wheels, sdist=sdist)
    return replace(lock, pylock=replace(lock.pylock, packages=packages), pending=pending)


def _cached_archives(cache: Cache, lock: Lock, positions: set[int]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    wanted: set[str] = set()
    for i in positions:
        package = lock.packages[i]
        if i in lock.pending:
            wanted.update(h.split(":", 1)[1].lower() for h in lock.pending[i].hashes if h.startswith("sha256:"))
        files: list[Union[PackageWheel, PackageSdist]] = [*(package.wheels or ())]
        if package.sdist is not None:
            files.append(package.sdist)
        wanted.update(f.hashes["sha256"].lower() for f in files if "sha256" in f.hashes)
    for digest in wanted:
        entry = cache.entry(ARCHIVES, digest)
        if cache.is_complete(entry):
            for child in entry.iterdir():
                if not child.name.startswith("."):
                    found[digest] = child
                    break
    return found


def _find_links_files(dirs: Sequence[Path]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for directory in dirs:
        if directory.is_dir():
            for child in directory.rglob("*"):
                if child.is_file() and child.name.endswith((".whl", ".tar.gz", ".zip")):
                    files.setdefault(child.name, child)
    return files


def _matching_files(
    name: str, version: str, hashes: Sequence[str], by_hash: Mapping[str, Path], local: Mapping[str, Path]
) -> list[tuple[Path, dict[str, str]]]:
    out: list[tuple[Path, dict[str, str]]] = []
    for h in hashes:
        alg, _, value = h.partition(":")
        if alg == "sha256" and value.lower() in by_hash:
            out.append((by_hash[value.lower()], {"sha256": value.lower()}))
    # find-links: match by project and version, then keep the files whose sha256 the lock lists (a
    # release has one hash per file: a mapping of the lock's hashes would keep only one of them); the
    # cache may hold only other platforms' files of the release, so both places count
    wanted = {value.lower() for alg, _, value in (h.partition(":") for h in hashes) if alg == "sha256"}
    cached = {hashes["sha256"] for _, hashes in out}
    others: list[tuple[Path, dict[str, str]]] = []
    for filename, path in local.items():
        if _release_of(filename) == (canonicalize_name(name), version):
            digest = file_sha256(path) if wanted else ""
            if digest in wanted:
                if digest not in cached:
                    out.append((path, {"sha256": digest}))
            else:  # fetch verifies it against the lock's hashes, and names the mismatch when it fails
                others.append((path, dict(h.partition(":")[::2] for h in hashes)))
    return out or others


def _release_of(filename: str) -> Optional[tuple[NormalizedName, str]]:
    try:
        if filename.endswith(".whl"):
            n, v, _, _ = parse_wheel_filename(filename)
        else:
            n, v = parse_sdist_filename(filename)
    except ValueError:
        return None
    return n, str(v)


def _locally(file: Any, by_hash: Mapping[str, Path], local: Mapping[str, Path]) -> Any:
    if file is None or file.url or file.path:
        return file
    digest = file.hashes.get("sha256", "").lower()
    if digest in by_hash:
        return replace(file, path=str(by_hash[digest]))
    if file.name in local:
        return replace(file, path=str(local[file.name]))
    return file


# --- preparing: every artifact in the cache, unpacked ------------------------------------------------


def _prepare(
    plan: Plan,
    selection: Selection,
    destination: Destination,
    options: InstallOptions,
    cache: Cache,
    indexes: Optional[IndexConfig],
    progress: Progress,
    timings: dict[str, float],
    target: Target,
    workers: Workers,
    on_tree: Optional[Callable[[NormalizedName, UnpackedWheel], None]] = None,
) -> dict[NormalizedName, UnpackedWheel]:
    """Every tree the plan installs, in the cache. ``on_tree`` is told of each wheel's tree once it is
    unpacked and every download of the batch is verified (never before: nothing is installed from a
    failed batch)."""
    started = time.perf_counter()
    base = selection.lock.path.parent
    downloads: dict[NormalizedName, Download] = {}
    builds: list[Action] = []
    for action in plan.to_install:
        chosen = action.selected
        assert chosen is not None
        source = chosen.source
        label = f"{chosen.package.name} {chosen.version or ''}".strip()
        if isinstance(source, (PackageDirectory, PackageVcs)):
            builds.append(action)
            continue
        if chosen.pending is not None:
            raise LadingError(
                "the lock names this package's files by hash only, and they were not found",
                file=selection.lock.path, package=label, field=chosen.origin.entry,
                hint="run online (without --offline), or pass --find-links with a directory holding them",
            )
        assert isinstance(source, (PackageWheel, PackageSdist, PackageArchive))
        filename = _filename(source)
        path = None
        if source.path:
            path = Path(source.path) if Path(source.path).is_absolute() else base / source.path
        downloads[action.name] = Download.of(filename, dict(source.hashes), url=source.url,
                                             path=path, size=source.size, label=label)
        if needs_build(source):
            builds.append(action)
    progress.phase("downloading", len(downloads), sum(d.size or 0 for d in downloads.values()))
    names = {d: name for name, d in downloads.items()}
    # Unpacking into the cache runs on its own threads as each download is verified (largest first), so the
    # downloads never wait for it; the cache is content-addressed, so a tree of a batch that later fails is
    # still a correct entry (the environment is not touched before every artifact is in).
    counting = threading.Event()  # trees count on the progress display once its unpacking phase began
    verified = threading.Event()  # every download of the batch is in and checked
    held: list[tuple[NormalizedName, UnpackedWheel]] = []  # trees unpacked before that
    held_lock = threading.Lock()

    def unpacked(key: str, tree: UnpackedWheel) -> None:
        if counting.is_set():
            progress.advance(items=1)
        if on_tree is None:
            return
        with held_lock:
            if not verified.is_set():
                held.append((NormalizedName(key), tree))
                return
        on_tree(NormalizedName(key), tree)

    unpacker = UnpackQueue(cache, workers, on_done=unpacked)
    queued: set[Download] = set()

    def unpack_fetched(download: Download, archive: Path) -> None:
        if download.filename.endswith(".whl"):
            queued.add(download)
            unpacker.put(names[download], archive, download.sha256)

    def client() -> Any:
        from lading.index.complete import index_client
        from lading.index.http import HttpClient

        if indexes is None:
            return HttpClient(max_connections=options.jobs)
        return index_client(indexes, selection.lock, workers=options.jobs)

    try:
        fetched = fetch_all(list(downloads.values()), cache, None, jobs=options.jobs, offline=options.offline,
                            find_links=options.find_links, progress=FetchProgress(progress),
                            on_fetched=unpack_fetched, client_factory=client)
    except BaseException:
        unpacker.cancel()
        raise
    timings["fetch"] = round(time.perf_counter() - started, 4)
    started = time.perf_counter()
    with held_lock:
        verified.set()
        ready, held[:] = list(held), []
    for name, tree in ready:
        assert on_tree is not None
        on_tree(name, tree)

    wheels = [name for name, d in downloads.items() if d.filename.endswith(".whl")]
    progress.phase("unpacking", max(0, len(wheels) - unpacker.done))
    counting.set()
    try:
        for name, download in downloads.items():
            if download.filename.endswith(".whl") and download not in queued:
                unpacker.put(name, fetched[download], download.sha256)
        found = unpacker.finish()
    except BaseException:
        unpacker.cancel()
        raise
    trees: dict[NormalizedName, UnpackedWheel] = {NormalizedName(name): tree for name, tree in found.items()}
    timings["unpack"] = round(time.perf_counter() - started, 4)

    if builds:
        from lading.install.sdist import Builder, BuildOptions

        started = time.perf_counter()
        builder = Builder(
            BuildOptions(cache=cache, index_urls=indexes.all() if indexes else (), offline=options.offline,
                         find_links=options.find_links, jobs=options.jobs, link_mode=options.link_mode),
            destination.interpreter.executable,
            target=target,
        )
        progress.phase("building", len(builds))
        for action in builds:
            trees[action.name] = _build(action, builder, downloads, fetched, cache, base)
            progress.advance(items=1)
        timings["build"] = round(time.perf_counter() - started, 4)
    return trees


def _filename(source: Any) -> str:
    name = getattr(source, "name", None)
    if name:
        return str(name)
    location = source.path or source.url or ""
    return str(location).rstrip("/").rsplit("/", 1)[-1].split("#", 1)[0].split("?", 1)[0]


def _build(
    action: Action,
    builder: Any,
    downloads: Mapping[NormalizedName, Download],
    fetched: Mapping[Download, Path],
    cache: Cache,
    base: Path,
) -> UnpackedWheel:
    chosen = action.selected
    assert chosen is not None
    source = chosen.source
    label = f"{chosen.package.name} {chosen.version or ''}".strip()
    version = chosen.version
    if isinstance(source, PackageDirectory):
        directory = base / source.path
        if source.subdirectory:
            directory = directory / source.subdirectory
        with tempfile.TemporaryDirectory(prefix="lading-wheel-") as out:
            built = builder.build_directory(directory, out, editable=bool(source.editable), label=label,
                                            name=str(chosen.package.name), version=version)
            return _unpack_built(cache, built.path)
    if isinstance(source, PackageVcs):
        with tempfile.TemporaryDirectory(prefix="lading-vcs-") as work:
            checkout = _checkout(source, Path(work) / "src", base, label)
            if source.subdirectory:
                checkout = checkout / source.subdirectory
            built = builder.build_directory(checkout, Path(work) / "out", label=label,
                                            name=str(chosen.package.name), version=version)
            return _unpack_built(cache, built.path)
    download = downloads[action.name]
    built = builder.build_sdist(fetched[download], sha256=download.sha256, label=label,
                                name=str(chosen.package.name), version=version)
    return _unpack_built(cache, built.path)


def _unpack_built(cache: Cache, wheel: Path) -> UnpackedWheel:
    return unpacked_tree(cache, wheel)


def _checkout(vcs: PackageVcs, dest: Path, base: Path, label: str) -> Path:
    if vcs.type != "git":
        raise LadingError(f"{vcs.type} sources are not supported (only git)", package=label, field="vcs.type")
    repo = vcs.url or str(base / (vcs.path or "."))
    if shutil.which("git") is None:
        raise LadingError("needs git to check out its source, and git is not installed", package=label,
                          hint="install git, or lock a released version of the package")
    for command in (["git", "clone", "--quiet", "--no-checkout", repo, str(dest)],
                    ["git", "-C", str(dest), "checkout", "--quiet", vcs.commit_id]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise LadingError(f"git failed: {done.stderr.strip()[-400:]}", package=label, field="vcs",
                              hint="check the repository URL and that the commit still exists")
    return dest


# Two workers (processes on Linux, see install/workers.py) unpack and link: creating files is what a cold install
# costs, much of it in the kernel, and this machine class has two cores. Measured in BENCHMARKS.md.
_WORKERS = 2


# --- acting: change the environment ----------------------------------------------------------------


def _disk_full_or(exc: LadingError, where: Path) -> LadingError:
    """An error caused by a full disk, reworded to name ``where`` (the cache or the environment)."""
    cause = exc.__cause__
    full = disk_full(cause, where) if isinstance(cause, OSError) else None
    return exc if full is None or isinstance(exc, DiskFullError) else full.located(package=exc.package)


def _links_early(plan: Plan, destination: Destination, options: InstallOptions, cache: Cache,
                 tag: Optional[str]) -> bool:
    """Whether each package can be linked into the environment as soon as its tree is unpacked (once the
    batch's downloads are verified) instead of after the last tree: nothing to remove first, nothing to
    build or compile, and links that take no space (so there is no space check to pass before any)."""
    if plan.to_remove or tag is not None or not plan.to_install:
        return False
    if any(needs_build(a.selected.source) or not isinstance(a.selected.source, (PackageWheel, PackageArchive))
           for a in plan.to_install if a.selected is not None):
        return False
    return _links_take_no_space(destination, cache, options.link_mode)


def _links_take_no_space(destination: Destination, cache: Cache, link_mode: str) -> bool:
    root = destination.root
    while not root.exists() and root != root.parent:
        root = root.parent
    try:
        return link_mode != "copy" and os.stat(root).st_dev == os.stat(cache.root).st_dev
    except OSError:
        return False


class _EarlyLinks:
    """Links packages into the environment while other wheels are still being unpacked (see _links_early).

    A failure of the batch after some packages were linked leaves those packages complete (each is
    installed with its RECORD last, as always), and a re-run finishes the job.
    """

    def __init__(self, plan: Plan, destination: Callable[[], Destination], options: InstallOptions,
                 tag: Optional[str], workers: Workers) -> None:
        self._actions = {a.name: a for a in plan.to_install}
        self._destination = destination  # waits for a venv still being made
        self._link_mode = options.link_mode
        self._script_interpreter = options.script_interpreter
        self._tag = tag
        self._workers = workers
        self._started: dict[NormalizedName, Future[None]] = {}
        self._lock = threading.Lock()

    def link(self, name: NormalizedName, tree: UnpackedWheel) -> None:
        action = self._actions.get(name)
        if action is None:
            return
        with self._lock:  # held while a venv still being made is waited for: each name is submitted once
            if name not in self._started:
                self._started[name] = _submit_link(self._workers, action, tree, self._destination(),
                                                   self._script_interpreter, self._link_mode, self._tag)

    def finish(self, trees: Mapping[NormalizedName, UnpackedWheel], progress: Progress) -> None:
        """Link what is left and wait for every link; the first failure is raised."""
        for name, tree in trees.items():
            self.link(name, tree)
        progress.phase("linking", len(self._started))
        for future in list(self._started.values()):
            future.result()
            progress.advance(items=1)

    def abort(self) -> None:
        """Stop: links not started are dropped, running ones end (each package whole or repaired later)."""
        with self._lock:
            started = list(self._started.values())
        for future in started:
            future.cancel()


def _submit_link(workers: Workers, action: Action, tree: UnpackedWheel, destination: Destination,
                 script_interpreter: Optional[str], link_mode: str, tag: Optional[str]) -> Future[None]:
    chosen = action.selected
    assert chosen is not None
    shebang = script_interpreter or str(destination.interpreter.executable)
    # links go before waiting unpacks: a linked package is finished work, and the last task of a run is then
    # a small one
    return workers.submit(link_tree, tree, destination.paths, shebang, link_mode, _requested(chosen),
                          _direct_url(chosen), tag, first=FIRST)


_LINKERS: dict[str, Linker] = {}


def link_tree(tree: UnpackedWheel, paths: InstallPaths, shebang: str, link_mode: str, requested: bool,
              direct_url: Optional[dict[str, Any]], tag: Optional[str]) -> None:
    """Install one unpacked tree into ``paths`` (a worker task). One Linker per link mode and process, so
    ``auto`` settles once per worker."""
    linker = _LINKERS.get(link_mode)
    if linker is None:
        linker = _LINKERS.setdefault(link_mode, Linker(link_mode))
    install(tree, paths, interpreter=shebang, linker=linker, requested=requested, direct_url=direct_url,
            bytecode_tag=tag, jobs=1)


def _check_space(plan: Plan, trees: Mapping[NormalizedName, UnpackedWheel], destination: Destination,
                 cache: Cache, link_mode: str) -> None:
    """Refuse before anything is removed or linked when the files cannot fit: a disk that fills up halfway
    would leave a mixture of the old and the new environment. Links into the cache on the same file system
    take (almost) no space, so only copies across file systems count."""
    root = destination.root
    while not root.exists() and root != root.parent:
        root = root.parent
    try:
        same_device = link_mode != "copy" and os.stat(root).st_dev == os.stat(cache.root).st_dev
        free = shutil.disk_usage(root).free
    except OSError:
        return  # nothing to measure with: the writes themselves will say
    if same_device:
        return
    needed = sum(f.size for action in plan.to_install if action.name in trees for f in trees[action.name].files)
    if needed > free:
        full = disk_full(OSError(errno.ENOSPC, "no space"), destination.root)
        assert full is not None
        full.why += f" ({needed} bytes to install, {free} free); nothing was changed"
        raise full


def _apply(
    plan: Plan,
    installed: Mapping[NormalizedName, InstalledDist],
    trees: Mapping[NormalizedName, UnpackedWheel],
    destination: Destination,
    options: InstallOptions,
    progress: Progress,
    tag: Optional[str],
    workers: Optional[Workers],
) -> None:
    progress.phase("removing", len(plan.to_remove))
    for action in plan.to_remove:
        dist = installed.get(action.name)
        if dist is not None:
            uninstall(dist, destination.paths)
        progress.advance(items=1)
    progress.phase("linking", len(plan.to_install))
    if not plan.to_install:
        return
    assert workers is not None
    futures = [_submit_link(workers, action, trees[action.name], destination, options.script_interpreter,
                            options.link_mode, tag) for action in plan.to_install]
    for future in futures:
        future.result()
        progress.advance(items=1)


def _requested(chosen: Selected) -> bool:
    """REQUESTED marks what was asked for directly: the project and packages the lock names by URL/path."""
    return isinstance(chosen.source, (PackageDirectory, PackageVcs, PackageArchive))


def _direct_url(chosen: Selected) -> Optional[dict[str, Any]]:
    """PEP 610 ``direct_url.json`` for URL, path and VCS sources; index installs record none."""
    source = chosen.source
    base = chosen.origin.file.parent
    if isinstance(source, PackageDirectory):
        path = (base / source.path).resolve()
        if source.subdirectory:
            path = path / source.subdirectory
        return {"url": path.as_uri(), "dir_info": {"editable": bool(source.editable)}}
    if isinstance(source, PackageVcs):
        info: dict[str, Any] = {"vcs": source.type, "commit_id": source.commit_id}
        if source.requested_revision:
            info["requested_revision"] = source.requested_revision
        data: dict[str, Any] = {"url": public_url(source.url) if source.url
                                else (base / (source.path or ".")).resolve().as_uri(),
                                "vcs_info": info}
        if source.subdirectory:
            data["subdirectory"] = source.subdirectory
        return data
    if isinstance(source, PackageArchive):
        url = public_url(source.url) if source.url else (base / (source.path or "")).resolve().as_uri()
        hashes = dict(source.hashes)
        archive: dict[str, Any] = {"hashes": hashes}
        if "sha256" in hashes:
            archive["hash"] = f"sha256={hashes['sha256']}"
        data = {"url": url, "archive_info": archive}
        if source.subdirectory:
            data["subdirectory"] = source.subdirectory
        return data
    return None


__all__ = ["InstallOptions", "InstallResult", "is_sha256", "locate_files", "run"]
