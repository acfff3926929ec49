"""Building wheels through a project's PEP 517 backend (PEP 660 for editable), in an isolated environment.

An sdist (or a project directory) becomes a wheel in four steps, all owned by lading (no pip):

1. read ``[build-system]`` (or fall back to ``setuptools.build_meta:__legacy__`` when there is none);
2. resolve its ``requires`` for the build interpreter (:mod:`lading.resolve.buildreqs`: wheels only,
   newest first), fetch them through the cache and install them with lading's wheel installer into a
   fresh directory (target style: libraries at its root, scripts in ``bin``);
3. call the hooks in the build interpreter with ``-I -S`` (no user or environment site-packages)
   through :mod:`lading.install._pep517_runner`, the source tree as working directory:
   ``get_requires_for_build_{wheel,editable}`` (installing what it adds), then ``build_{wheel,editable}``;
4. check the wheel (name, version, tags) and, for an sdist, keep it in the cache under the sdist's sha256
   (``built-v1/<aa>/<sha256>/<wheel>``; one entry may hold wheels for several interpreters).

Directories are never cached: a source tree can change without its version changing.
Whatever the backend prints is captured; a failure raises :class:`BuildError` with the last lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional, Protocol, Union

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lading.cache import BUILT, TEMP_PREFIX, Cache, file_sha256
from lading.errors import LadingError
from lading.fetch import DEFAULT_JOBS, fetch_all
from lading.index.http import HttpClient
from lading.index.simple import PageSource
from lading.install.installed import InstalledDist
from lading.install.link import Linker
from lading.install.paths import InstallPaths
from lading.install.tree import needs_build, unpacked_tree
from lading.install.uninstall import uninstall
from lading.install.wheel import install
from lading.model import Target
from lading.resolve.buildreqs import (
    FindLinks,
    index_sources,
    metadata_source,
    pin_download,
    resolve_build_requirements,
)
from lading.resolve.provider import MetadataSource, Pin, best_tag

#: The backend PEP 517 prescribes for a project without ``[build-system]``.
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
LEGACY_REQUIRES: tuple[str, ...] = ("setuptools>=40.8.0",)
#: Lines of build output quoted in a failure.
TAIL_LINES = 20

_BACKEND_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*)?$")
_RUNNER = "_pep517_runner.py"


class BuildError(LadingError):
    """A wheel could not be built from an sdist or a project directory."""


# --- what to build ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSystem:
    """A project's ``[build-system]``, with PEP 517's fallback filled in."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()
    declared: bool = True  # False: no [build-system] table, the legacy setuptools fallback applies


def read_build_system(source: Path, *, label: Optional[str] = None) -> BuildSystem:
    """``[build-system]`` of the project at ``source``; errors name the file and the field."""
    pyproject = source / "pyproject.toml"
    if not pyproject.is_file():
        if not (source / "setup.py").is_file() and not (source / "setup.cfg").is_file():
            raise BuildError(
                "not a Python project: no pyproject.toml, setup.py or setup.cfg",
                file=source,
                package=label,
                hint="point lading at the directory holding the project's pyproject.toml",
            )
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, (), declared=False)
    from lading._toml import load_toml

    try:
        data = load_toml(pyproject)
    except LadingError as exc:
        raise BuildError(exc.why, file=pyproject, package=label, hint=exc.hint) from None
    table = data.get("build-system")
    if table is None:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, (), declared=False)

    def fail(field_name: str, why: str, hint: str) -> BuildError:
        return BuildError(why, file=pyproject, package=label, field=f"build-system.{field_name}", hint=hint)

    if not isinstance(table, dict):
        raise fail("", "[build-system] is not a table", "write [build-system] as a table (PEP 518)")
    requires = table.get("requires")
    if requires is None:
        raise fail("requires", "missing", "PEP 518 requires it, e.g. requires = [\"flit_core>=3.9\"]")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise fail("requires", "must be a list of requirement strings", "e.g. requires = [\"flit_core>=3.9\"]")
    backend = table.get("build-backend", LEGACY_BACKEND)
    if not isinstance(backend, str) or not _BACKEND_SPEC.match(backend.replace(" ", "")):
        raise fail("build-backend", f"{backend!r} is not an object reference", "write it as \"package.module:object\"")
    backend_path = table.get("backend-path", [])
    if not isinstance(backend_path, list) or not all(isinstance(p, str) for p in backend_path):
        raise fail("backend-path", "must be a list of paths", "write it as a list, e.g. [\"_build\"]")
    root = source.resolve()
    for index, entry in enumerate(backend_path):
        resolved = (source / entry).resolve()
        if resolved != root and root not in resolved.parents:
            raise BuildError(
                f"{entry!r} points outside the project",
                file=pyproject,
                package=label,
                field=f"build-system.backend-path[{index}]",
                hint="backend-path entries must be inside the source tree (PEP 517)",
            )
    return BuildSystem(tuple(requires), backend.replace(" ", ""), tuple(backend_path))


# --- running hooks ------------------------------------------------------------------------------------


class ProcessRunner(Protocol):
    """Runs a command and returns (exit code, combined stdout+stderr); tests may substitute one."""

    def __call__(
        self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: Optional[float]
    ) -> tuple[int, str]: ...


def run_process(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: Optional[float]
) -> tuple[int, str]:
    try:
        done = subprocess.run(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except OSError as exc:  # the interpreter is missing or not executable
        return 127, f"[lading: cannot run {command[0]}: {exc.strerror or exc}]\n"
    except subprocess.TimeoutExpired as exc:
        output = exc.output.decode("utf-8", "replace") if isinstance(exc.output, bytes) else ""
        return -1, output + f"\n[lading: the build hook did not finish within {timeout:g} s and was stopped]\n"
    return done.returncode, done.stdout.decode("utf-8", "replace")


def tail(output: str, lines: int = TAIL_LINES) -> str:
    kept = [line.rstrip() for line in output.rstrip().splitlines()][-lines:]
    return "\n".join(f"    | {line}" for line in kept) if kept else "    (the build printed nothing)"


# --- the builder --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """How builds get their build requirements and where results go."""

    cache: Cache
    #: Indexes to resolve build requirements from, primary first (``IndexConfig.all()``).
    index_urls: tuple[str, ...] = ()
    client: Optional[HttpClient] = None
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    jobs: int = DEFAULT_JOBS
    link_mode: str = "auto"
    config_settings: Mapping[str, Union[str, list[str]]] = field(default_factory=dict)
    #: Seconds each hook may run (None: no limit).
    timeout: Optional[float] = None


@dataclass(frozen=True)
class BuiltWheel:
    path: Path
    name: NormalizedName
    version: str
    cached: bool  # True: served from the cache without building
    backend: str = ""
    #: The build requirements installed for the build (empty when served from the cache).
    build_requirements: tuple[str, ...] = ()


class Builder:
    """Builds wheels for one build interpreter (normally the install target's)."""

    def __init__(
        self,
        options: BuildOptions,
        python: Union[str, Path],
        *,
        target: Optional[Target] = None,
        sources: Optional[Sequence[PageSource]] = None,
        metadata: Optional[MetadataSource] = None,
        runner: ProcessRunner = run_process,
    ) -> None:
        self.options = options
        self.python = str(python)
        self._target = target
        self._sources = list(sources) if sources is not None else None
        self._metadata = metadata
        self._client = options.client
        self._runner = runner

    # the pieces are made on first use: a run that finds every wheel in the cache asks no interpreter

    @property
    def target(self) -> Target:
        if self._target is None:
            from lading import target as targets

            same = os.path.realpath(self.python) == os.path.realpath(sys.executable)
            self._target = targets.current() if same else targets.from_interpreter(self.python)
        return self._target

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(max_connections=self.options.jobs)
        return self._client

    @property
    def sources(self) -> list[PageSource]:
        if self._sources is None:
            found: list[PageSource] = []
            if self.options.find_links:
                found.append(FindLinks(self.options.find_links))
            if not self.options.offline:
                found += index_sources(self.options.index_urls, self.client)
            self._sources = found
        return self._sources

    @property
    def metadata(self) -> MetadataSource:
        if self._metadata is None:
            self._metadata = metadata_source(
                self.options.cache,
                self.client,
                offline=self.options.offline,
                find_links=self.options.find_links,
            )
        return self._metadata

    # --- public -----------------------------------------------------------------------------------

    def cached(self, sdist_sha256: str) -> Optional[Path]:
        """The cached wheel built from the sdist with this sha256 that suits the build interpreter."""
        entry = self.options.cache.built(sdist_sha256)
        if not self.options.cache.is_complete(entry):
            return None
        best: Optional[tuple[int, Path]] = None
        for wheel in sorted(entry.glob("*.whl")):
            rank = best_tag(wheel.name, self.target.tags)
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, wheel)
        return best[1] if best else None

    def build_sdist(
        self,
        archive: Union[str, Path],
        *,
        sha256: Optional[str] = None,
        label: str = "",
        name: Optional[str] = None,
        version: Optional[str] = None,
    ) -> BuiltWheel:
        """A wheel for the sdist ``archive``: from the cache, or built and then cached under its sha256.

        ``name``/``version`` (the lock's) are checked against the built wheel; by default they come
        from the sdist's file name.
        """
        archive = Path(archive)
        cache = self.options.cache
        expected_name, expected_version = _expected(archive.name, name, version)
        label = label or (f"{expected_name} {expected_version}" if expected_name else archive.name)
        if sha256 is None:
            _must_exist(archive, label)
        digest = (sha256 or file_sha256(archive)).lower()
        hit = self.cached(digest)
        if hit is not None:  # with ``sha256`` given, a cached build needs no sdist at hand
            cache.mark_used(hit)
            return _built(hit, cached=True)
        _must_exist(archive, label)
        entry = cache.built(digest)
        with cache.locked(entry):
            hit = self.cached(digest)  # another process may have built it while we waited
            if hit is not None:
                return _built(hit, cached=True)
            with tempfile.TemporaryDirectory(prefix="lading-build-") as work_text:
                work = Path(work_text)
                source = extract_sdist(archive, work / "src", label=label)
                result = self._build(source, work, editable=False, label=label)
                _check_wheel(result.path, expected_name, expected_version, self.target, label)
                stored = self._store(entry, result.path)
        return BuiltWheel(
            stored, result.name, result.version, False, result.backend, result.build_requirements
        )

    def build_directory(
        self,
        directory: Union[str, Path],
        out_dir: Union[str, Path],
        *,
        editable: bool = False,
        label: str = "",
        name: Optional[str] = None,
        version: Optional[str] = None,
    ) -> BuiltWheel:
        """Build the project at ``directory`` into ``out_dir`` (never cached); PEP 660 when ``editable``."""
        directory = Path(directory).absolute()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        label = label or (f"{name} {version}" if name and version else name or directory.name)
        if not directory.is_dir():
            raise BuildError("is not a directory", file=directory, package=label, hint="check the path in the lock")
        with tempfile.TemporaryDirectory(prefix="lading-build-") as work_text:
            result = self._build(directory, Path(work_text), editable=editable, label=label)
            _check_wheel(result.path, canonicalize_name(name) if name else None, version, self.target, label)
            final = out / result.path.name
            shutil.move(str(result.path), str(final))
        return BuiltWheel(final, result.name, result.version, False, result.backend, result.build_requirements)

    # --- internals --------------------------------------------------------------------------------

    def _build(self, source: Path, work: Path, *, editable: bool, label: str) -> BuiltWheel:
        system = read_build_system(source, label=label)
        kind = "editable" if editable else "wheel"
        environment = _BuildEnvironment(self, work / "env", source / "pyproject.toml", label)
        environment.provide(system.requires)
        hooks = _Hooks(self, system, source, environment.root, work, label)
        config = dict(self.options.config_settings) or None
        extra = hooks.call(f"get_requires_for_build_{kind}", kwargs={"config_settings": config}, default=[])
        if not isinstance(extra, list) or not all(isinstance(r, str) for r in extra):
            raise BuildError(
                f"the backend {system.backend} answered get_requires_for_build_{kind} with {extra!r}",
                package=label,
                hint="the backend broke PEP 517 (a list of requirement strings is expected); report it",
            )
        if extra:
            environment.provide([*system.requires, *extra], field=f"get_requires_for_build_{kind}")
        out = work / "out"
        out.mkdir()
        hook = f"build_{kind}"
        answer = hooks.call(hook, args=[str(out)], kwargs={"config_settings": config})
        if not isinstance(answer, str) or "/" in answer or not (out / answer).is_file():
            raise BuildError(
                f"the backend {system.backend} answered {hook} with {answer!r}, which is not a file it wrote",
                package=label,
                hint="the backend broke PEP 517 (the basename of the built wheel is expected); report it",
            )
        try:
            project, built_version, _, _ = parse_wheel_filename(answer)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            raise BuildError(
                f"the backend {system.backend} built {answer!r}, which is not a valid wheel name: {exc}",
                package=label,
                hint="report it to the backend's authors",
            ) from None
        return BuiltWheel(
            out / answer,
            project,
            str(built_version),
            False,
            system.backend,
            tuple(environment.installed_requirements),
        )

    def _store(self, entry: Path, wheel: Path) -> Path:
        """Put ``wheel`` into the cache entry (held locked by the caller)."""
        cache = self.options.cache
        if cache.is_complete(entry):
            # The entry already holds a wheel for another interpreter: add this one under a temp name + rename.
            temp = entry / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                shutil.copyfile(wheel, temp)
                os.replace(temp, entry / wheel.name)
            finally:
                with suppress(FileNotFoundError):
                    temp.unlink()
            return entry / wheel.name
        with cache.staging(BUILT) as temp_dir:
            shutil.copyfile(wheel, temp_dir / wheel.name)
            cache.publish(temp_dir, entry)
        return entry / wheel.name


def _must_exist(archive: Path, label: str) -> None:
    if not archive.is_file():
        raise BuildError(
            "the sdist does not exist", file=archive, package=label, hint="the download was removed; run again"
        )


def _expected(
    filename: str, name: Optional[str], version: Optional[str]
) -> tuple[Optional[NormalizedName], Optional[str]]:
    if name is not None:
        return canonicalize_name(name), version
    try:
        parsed_name, parsed_version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        return None, version
    return parsed_name, version or str(parsed_version)


def _built(path: Path, *, cached: bool) -> BuiltWheel:
    project, version, _, _ = parse_wheel_filename(path.name)
    return BuiltWheel(path, project, str(version), cached)


def _check_wheel(
    path: Path, name: Optional[NormalizedName], version: Optional[str], target: Target, label: str
) -> None:
    project, built_version, _, _ = parse_wheel_filename(path.name)
    if name is not None and project != name:
        raise BuildError(
            f"the build produced {path.name}, a wheel of {project}, not of {name}",
            package=label,
            hint="the lock and the source disagree about the project's name; re-lock",
        )
    if version is not None:
        try:
            same = Version(version) == built_version
        except InvalidVersion:
            same = str(built_version) == version
        if not same:
            raise BuildError(
                f"the build produced version {built_version}, the lock says {version}",
                package=label,
                hint="the source does not match the lock (a changed checkout or a dynamic version); re-lock",
            )
    if best_tag(path.name, target.tags) is None:
        raise BuildError(
            f"the build produced {path.name}, which does not suit {target.name}",
            package=label,
            hint="the backend built for another platform or Python (cross-compiling settings?)",
        )


class _BuildEnvironment:
    """The directory holding the build requirements, grown as the backend asks for more."""

    def __init__(self, builder: Builder, root: Path, manifest: Path, label: str) -> None:
        self.builder = builder
        self.root = root
        self.manifest = manifest
        self.label = label
        self.installed: dict[NormalizedName, tuple[Pin, InstalledDist]] = {}
        self.installed_requirements: list[str] = []
        root.mkdir(parents=True, exist_ok=True)
        self.paths = InstallPaths(
            purelib=root, platlib=root, scripts=root / "bin", data=root, headers=root / "include"
        )

    def provide(self, requires: Sequence[str], *, field: str = "build-system.requires") -> None:
        builder = self.builder
        pins = resolve_build_requirements(
            list(requires),
            target=builder.target,
            sources=builder.sources,
            metadata=builder.metadata,
            root=self.label,
            file=self.manifest,
            field=field,
        )
        self.installed_requirements = [f"{p.name}=={p.version}" for p in pins]
        wanted = [p for p in pins if p.name not in self.installed or self.installed[p.name][0].version != p.version]
        if not wanted:
            return
        options = builder.options
        downloads = {pin.name: pin_download(pin) for pin in wanted}
        fetched = fetch_all(
            list(downloads.values()),
            options.cache,
            None if options.offline else builder.client,
            jobs=options.jobs,
            offline=options.offline,
            find_links=options.find_links,
        )
        linker = Linker(options.link_mode)
        for pin in wanted:
            old = self.installed.get(pin.name)
            if old is not None:
                uninstall(old[1], self.paths)
            tree = unpacked_tree(options.cache, fetched[downloads[pin.name]])
            dist = install(tree, self.paths, interpreter=builder.python, linker=linker, requested=False)
            self.installed[pin.name] = (pin, dist)


class _Hooks:
    def __init__(
        self, builder: Builder, system: BuildSystem, source: Path, env_dir: Path, work: Path, label: str
    ) -> None:
        self.builder = builder
        self.system = system
        self.source = source
        self.env_dir = env_dir
        self.work = work
        self.label = label
        self.calls = 0

    def environ(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
        # The runner itself runs with -I -S; processes the backend starts find the build environment too.
        environ["PYTHONPATH"] = str(self.env_dir)
        environ["PATH"] = os.pathsep.join([str(self.env_dir / "bin"), environ.get("PATH", os.defpath)])
        environ["PYTHONNOUSERSITE"] = "1"
        environ.pop("VIRTUAL_ENV", None)
        return environ

    def call(
        self,
        hook: str,
        *,
        args: Sequence[Any] = (),
        kwargs: Optional[Mapping[str, Any]] = None,
        default: Any = None,
    ) -> Any:
        self.calls += 1
        control = self.work / f"hook-{self.calls}"
        control.mkdir()
        runner = control / _RUNNER
        runner.write_text(_runner_source(), encoding="utf-8")
        order = {
            "site_dirs": [str(self.env_dir)],
            "backend": self.system.backend,
            "backend_path": [str((self.source / p).resolve()) for p in self.system.backend_path],
            "hook": hook,
            "args": list(args),
            "kwargs": dict(kwargs or {}),
            "optional": {} if default is None else {hook: default},
        }
        (control / "input.json").write_text(json.dumps(order), encoding="utf-8")
        command = [self.builder.python, "-I", "-S", str(runner), str(control)]
        code, output = self.builder._runner(
            command, cwd=self.source, env=self.environ(), timeout=self.builder.options.timeout
        )
        try:
            answer = json.loads((control / "output.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise self._failure(hook, f"the build process exited with code {code} before answering", output) from None
        if not isinstance(answer, dict):
            raise self._failure(hook, "the build process answered garbage", output)
        if answer.get("ok"):
            return answer.get("result")
        kind = answer.get("kind")
        message = str(answer.get("message", ""))
        if kind == "backend-unavailable":
            requires = ", ".join(self.system.requires) or "nothing"
            raise BuildError(
                f"cannot import the build backend {self.system.backend}: {message}\n{tail(output)}",
                file=self.source / "pyproject.toml",
                package=self.label,
                field="build-system.build-backend",
                hint=f"the isolated build environment holds only [build-system] requires ({requires}); "
                "check build-backend and requires in pyproject.toml",
            )
        if kind == "missing-hook":
            editable = hook.endswith("_editable")
            raise BuildError(
                f"the build backend {self.system.backend} has no {hook} hook"
                + (" (it does not support editable installs, PEP 660)" if editable else ""),
                package=self.label,
                hint="install without --editable, or move to a backend version that supports PEP 660"
                if editable
                else "the backend does not implement PEP 517; check build-backend in pyproject.toml",
            )
        trace = str(answer.get("traceback", ""))
        raise self._failure(hook, message, output + ("\n" + trace if trace else ""))

    def _failure(self, hook: str, message: str, output: str) -> BuildError:
        return BuildError(
            f"building with {self.system.backend} failed in {hook}: {message}\n"
            f"  last lines of the build output:\n{tail(output)}",
            package=self.label,
            hint="the build ran in an isolated environment holding only its build requirements; a missing "
            "compiler, system library or header is the usual cause. Prefer a wheel: production hosts "
            "(--deploy) have no compiler, so build a wheelhouse elsewhere and install from it with --find-links",
        )


def _runner_source() -> str:
    from importlib import resources

    return resources.files("lading.install").joinpath(_RUNNER).read_text(encoding="utf-8")


# --- unpacking sdists ---------------------------------------------------------------------------------


def extract_sdist(archive: Path, dest: Path, *, label: str = "") -> Path:
    """Unpack an sdist (tar or zip) into ``dest`` safely; return the project directory inside it."""
    dest.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            _extract_zip(archive, dest, label)
        else:
            _extract_tar(archive, dest, label)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BuildError(
            f"cannot unpack the sdist: {exc}",
            file=archive,
            package=label or None,
            hint="the archive is damaged or not an sdist; remove it from the cache and fetch it again",
        ) from None
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")] if dest.is_dir() else []
    roots = [dest, *(p for p in entries if p.is_dir())] if len(entries) != 1 else [entries[0], dest]
    for root in roots:
        if any((root / marker).is_file() for marker in ("pyproject.toml", "setup.py", "setup.cfg")):
            return root
    raise BuildError(
        "the sdist holds no pyproject.toml or setup.py at its top",
        file=archive,
        package=label or None,
        hint="this is not a buildable sdist; use a wheel",
    )


def _unsafe(member: str) -> bool:
    path = PurePosixPath(member.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or bool(re.match(r"^[A-Za-z]:", member))


def _extract_tar(archive: Path, dest: Path, label: str) -> None:
    with tarfile.open(archive, "r:*") as opened:
        members = opened.getmembers()
        for member in members:
            if _unsafe(member.name):
                raise BuildError(
                    f"the sdist member {member.name!r} would land outside the build directory",
                    file=archive,
                    package=label or None,
                    hint="the sdist is refused; report it to its publisher",
                )
            if not (member.isfile() or member.isdir()):
                raise BuildError(
                    f"the sdist member {member.name!r} is a link or a special file",
                    file=archive,
                    package=label or None,
                    hint="lading builds only sdists made of plain files; report it to its publisher",
                )
        if hasattr(tarfile, "data_filter"):
            opened.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Pythons without PEP 706; members were checked above
            opened.extractall(dest, members=members)


def _extract_zip(archive: Path, dest: Path, label: str) -> None:
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            if _unsafe(info.filename):
                raise BuildError(
                    f"the sdist member {info.filename!r} would land outside the build directory",
                    file=archive,
                    package=label or None,
                    hint="the sdist is refused; report it to its publisher",
                )
        opened.extractall(dest)


__all__ = [
    "LEGACY_BACKEND",
    "BuildError",
    "BuildOptions",
    "BuildSystem",
    "Builder",
    "BuiltWheel",
    "ProcessRunner",
    "extract_sdist",
    "needs_build",
    "read_build_system",
    "run_process",
    "unpacked_tree",
]
