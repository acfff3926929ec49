"""Staging: install a lock's selection into a directory that an artifact is then packed from.

Every artifact (wheelhouse aside, which ships archives) is "install the selection for a target into a
staging root, then pack the root", with the same engine as ``lading install``. Two layouts:

- ``venv``: a virtual environment built in ``root`` for the path it will run from (``run_at``). Script
  shebangs name ``run_at/bin/python`` from the start; the venv's own files that name its directory
  (``pyvenv.cfg``, the ``activate`` scripts) are rewritten after it is made. Bytecode is relocatable as
  it is (lading compiles with paths relative to the install scheme).
- ``target``: pip's ``--target`` layout (libraries straight into ``root``), what a zipapp or an image
  layer holds.

Staged files may be hard links into lading's cache. A packer must never modify one in place: write a
new file and rename it over the old one (:func:`replace_text` does).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from lading.errors import LadingError, UsageError
from lading.install.scheme import DestinationOptions
from lading.installer import InstallOptions, InstallResult, run
from lading.model import GroupRequest, Target
from lading.progress import Progress

Layout = Literal["venv", "target"]


@dataclass(frozen=True)
class StageOptions:
    path: Path = Path(".")
    lock: Optional[Path] = None
    root: Path = Path("stage")  # the physical directory to fill; missing or empty
    layout: Layout = "venv"
    run_at: Optional[Path] = None  # where a staged venv will live when shipped (default: root)
    python: Optional[str] = None  # the interpreter the environment is for (default: this one)
    target: Optional[Target] = None  # select for another machine (``--platform SPEC``)
    request: GroupRequest = field(default_factory=GroupRequest)
    editable: bool = False
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    index_url: Optional[str] = None
    compile: bool = True
    cache_dir: Optional[Path] = None
    jobs: int = 8
    link_mode: str = "auto"
    # A project directory whose lock does not list the project (requirements.txt, Pipfile.lock): build it
    # and install it too, since the artifact ships the application, not only its dependencies.
    with_project: bool = True


@dataclass(frozen=True)
class Staged:
    root: Path
    run_at: Path  # == root unless relocated
    layout: Layout
    result: InstallResult
    project: Optional[str] = None  # the project's name when it was built from the directory by staging

    @property
    def interpreter_version(self) -> str:
        return self.result.destination.interpreter.version_text

    @property
    def site_packages(self) -> Path:
        return self.result.destination.paths.purelib

    @property
    def scripts(self) -> Path:
        return self.result.destination.paths.scripts


def stage(options: StageOptions, progress: Optional[Progress] = None,
          environ: Optional[Mapping[str, str]] = None) -> Staged:
    root = Path(os.path.abspath(options.root))
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise LadingError("the staging directory is not empty", file=root,
                          hint="stage into a new or empty directory")
    run_at = options.run_at or root
    if not run_at.is_absolute():
        raise UsageError(f"the prefix {run_at} is not an absolute path",
                         hint="give the directory the environment will live at, such as /opt/app")
    if options.layout == "venv":
        destination = DestinationOptions(venv=root, python=options.python)
        shebang = str(run_at / "bin" / "python") if run_at != root else None
    else:
        destination = DestinationOptions(target=root, python=options.python)
        shebang = None
    result = run(
        InstallOptions(
            path=options.path, lock=options.lock, destination=destination, request=options.request,
            editable=options.editable, offline=options.offline, find_links=options.find_links,
            index_url=options.index_url, compile=options.compile, link_mode=options.link_mode,
            cache_dir=options.cache_dir, jobs=options.jobs, script_interpreter=shebang, target=options.target,
        ),
        progress,
        environ,
    )
    project = None
    if options.with_project and not options.request.no_project and _lock_lacks_project(result):
        project = _install_project(options, result, shebang, progress)
    if options.layout == "venv" and run_at != root:
        relocate_venv(root, run_at)
    return Staged(root, run_at, options.layout, result, project)


def _lock_lacks_project(result: InstallResult) -> bool:
    lock = result.selection.lock
    if any(lock.is_project(i) for i in range(len(lock.packages))):
        return False
    directory = result.found.path.parent
    return (directory / "pyproject.toml").is_file() or (directory / "setup.py").is_file()


def _install_project(options: StageOptions, result: InstallResult, shebang: Optional[str],
                     progress: Optional[Progress]) -> str:
    """Build the project beside the lock as a wheel (isolated, PEP 517) and install it without dependencies:
    the lock already brought them."""
    from lading.cache import Cache, default_cache_dir
    from lading.index.config import default_indexes
    from lading.install.bytecode import CompileJob, compile_trees
    from lading.install.link import Linker
    from lading.install.sdist import Builder, BuildOptions
    from lading.install.tree import unpacked_tree
    from lading.install.wheel import install

    destination = result.destination
    directory = result.found.path.parent
    cache = Cache(default_cache_dir(str(options.cache_dir) if options.cache_dir else None, os.environ))
    try:
        indexes = default_indexes(options.index_url, (), result.selection.lock, os.environ).all()
    except LadingError:
        indexes = ()
    builder = Builder(
        BuildOptions(cache=cache, index_urls=indexes, offline=options.offline, find_links=options.find_links,
                     jobs=options.jobs, link_mode=options.link_mode),
        destination.interpreter.executable, target=result.selection.target,
    )
    if progress is not None:
        progress.phase("building the project", 1)
    with cache.using(), tempfile.TemporaryDirectory(prefix="lading-project-") as out:
        built = builder.build_directory(directory, out, label=directory.name)
        tree = unpacked_tree(cache, built.path)
        wanted = str(options.target.environment.get("python_version", "")) if options.target else None
        same = wanted is None or wanted == destination.interpreter.version_text  # compiled by the target's X.Y
        tag = destination.interpreter.cache_tag if options.compile and same else None
        if tag:
            compile_trees([CompileJob(tree.root, tuple(f.path for f in tree.files if f.path.endswith(".py")))],
                          destination.interpreter, workers=1)
        install(tree, destination.paths, interpreter=shebang or str(destination.interpreter.executable),
                linker=Linker(options.link_mode), requested=True, direct_url=None, bytecode_tag=tag)
    if progress is not None:
        progress.advance(items=1)
    return tree.name


def relocate_venv(root: Path, run_at: Path) -> None:
    """Point the files ``venv`` wrote with the build directory at the directory the venv will run from."""
    old, new = str(root), str(run_at)
    candidates = [root / "pyvenv.cfg", *sorted((root / "bin").glob("activate*"))]
    for path in candidates:
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="utf-8")
            if old in text:
                replace_text(path, text.replace(old, new))


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a new file, keeping its mode: the old one may be a cache link."""
    mode = path.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["Layout", "StageOptions", "Staged", "relocate_venv", "replace_text", "stage"]
