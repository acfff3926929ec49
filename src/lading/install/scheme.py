"""Where an install goes: choosing the destination from ``--venv / --python / --prefix / --target``.

Rules (issue 3): ``--venv DIR`` makes the venv when it is missing (with ``--python`` or the running
interpreter) and otherwise syncs it; ``--python PY`` alone installs into that interpreter, refusing a
PEP 668 externally managed one unless told to break it; ``--prefix`` and ``--target`` follow pip.
Without any of them: the active venv (``VIRTUAL_ENV``), else the project's ``.venv`` (made when
missing) -- never silently the system interpreter.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from lading.errors import UsageError
from lading.install import InstallError
from lading.install.paths import InstallPaths
from lading.install.venv import create_venv, is_empty_dir, is_venv
from lading.target import Interpreter, current_interpreter, interpreter

DestinationKind = Literal["venv", "python", "prefix", "target"]
PROJECT_VENV = ".venv"


class DestinationError(InstallError):
    """The chosen destination cannot be used (not a venv, externally managed, wrong Python...)."""


@dataclass(frozen=True)
class DestinationOptions:
    """The destination flags of ``lading install`` (at most one of venv/prefix/target)."""

    venv: Optional[Path] = None
    python: Optional[str] = None
    prefix: Optional[Path] = None
    target: Optional[Path] = None
    break_system_packages: bool = False
    # False for --dry-run: a missing venv is planned for (paths derived) but not made.
    create: bool = True


@dataclass(frozen=True)
class Destination:
    kind: DestinationKind
    paths: InstallPaths
    interpreter: Interpreter  # the Python that runs what is installed (shebangs, bytecode tag)
    created: bool  # this call made the venv
    description: str  # one human line: "venv .venv (CPython 3.11.7 ...), created"
    root: Path  # the venv, prefix or target directory; the interpreter's prefix for --python
    missing: bool = False  # a venv still to be made (only with create=False): make_venv makes it
    base: Optional[Interpreter] = None  # for a missing venv: the interpreter it is made with
    field: Optional[str] = None  # the option or variable that named a missing venv, for messages


def resolve_destination(
    opts: DestinationOptions, project_dir: Path, environ: Mapping[str, str]
) -> Destination:
    """Choose (and for a missing venv, make) the destination the options describe."""
    chosen = [
        flag
        for flag, value in (("--venv", opts.venv), ("--prefix", opts.prefix), ("--target", opts.target))
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(
            f"{chosen[0]} and {chosen[1]} cannot be combined",
            hint="choose one destination; --python may accompany any of them",
        )
    if opts.venv is not None:
        return _venv(_absolute(opts.venv), opts, why="--venv")
    if opts.prefix is not None:
        found = _chosen_interpreter(opts.python)
        root = _absolute(opts.prefix)
        return Destination(
            kind="prefix",
            paths=found.for_prefix(root),
            interpreter=found,
            created=False,
            description=f"prefix {root} for {found.describe}",
            root=root,
        )
    if opts.target is not None:
        found = _chosen_interpreter(opts.python)
        root = _absolute(opts.target)
        return Destination(
            kind="target",
            paths=found.for_target(root),
            interpreter=found,
            created=False,
            description=f"target directory {root} for {found.describe}",
            root=root,
        )
    if opts.python is not None:
        return _python(opts)
    active = environ.get("VIRTUAL_ENV")
    if active:
        path = Path(active)
        if not is_venv(path):
            raise DestinationError(
                "VIRTUAL_ENV names a directory that is not a venv (no pyvenv.cfg)",
                file=path,
                field="VIRTUAL_ENV",
                hint="deactivate the stale environment, or pass --venv DIR",
            )
        return _venv(_absolute(path), opts, why="VIRTUAL_ENV")
    return _venv(_absolute(project_dir / PROJECT_VENV), opts, why="project")


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path.expanduser()))


def _chosen_interpreter(python: Optional[str]) -> Interpreter:
    return interpreter(python) if python is not None else current_interpreter()


def _python(opts: DestinationOptions) -> Destination:
    assert opts.python is not None
    found = interpreter(opts.python)
    if found.externally_managed is not None and not opts.break_system_packages:
        raise DestinationError(
            f"{found.describe} is externally managed (PEP 668): {_marker_message(found.externally_managed)}",
            file=found.stdlib / "EXTERNALLY-MANAGED",
            field="--python",
            hint="install into a venv (--venv DIR), or pass --break-system-packages if you mean it",
        )
    what = "venv" if found.is_venv else "interpreter"
    return Destination(
        kind="python",
        paths=found.paths,
        interpreter=found,
        created=False,
        description=f"{what} {found.prefix} ({found.describe})",
        root=found.prefix,
    )


def _marker_message(text: str) -> str:
    """The ``Error`` a PEP 668 marker gives, else the standard wording."""
    default = "the system's package manager owns this environment"
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return default
    message = parser.get("externally-managed", "Error", fallback="").strip()
    return " ".join(message.split()) if message else default


def _venv(directory: Path, opts: DestinationOptions, *, why: str) -> Destination:
    field = "--venv" if why == "--venv" else ("VIRTUAL_ENV" if why == "VIRTUAL_ENV" else None)
    if directory.exists() and not is_venv(directory) and not is_empty_dir(directory):
        raise DestinationError(
            "exists and is not a virtual environment (no pyvenv.cfg)",
            file=directory,
            field=field,
            hint="choose another directory, or remove this one if it is a leftover",
        )
    python = _venv_python(directory)
    if is_venv(directory) and python is not None:
        found = (_made_from_this_python(directory, python) if opts.python is None else None) or \
            interpreter(str(python))
        if opts.python is not None:
            wanted = interpreter(opts.python)
            if (wanted.implementation, wanted.version) != (found.implementation, found.version):
                raise DestinationError(
                    f"the venv runs {found.describe}, but --python asks for {wanted.describe}",
                    file=directory,
                    field=field,
                    hint="remove the venv to recreate it with that Python, or drop --python",
                )
        return Destination(
            kind="venv",
            paths=found.paths,
            interpreter=found,
            created=False,
            description=f"venv {directory} ({found.describe})",
            root=directory,
        )
    # Missing, empty, or left half-made by an interrupted creation (pyvenv.cfg but no python).
    base = _chosen_interpreter(opts.python)
    derived = base.venv_interpreter(directory)
    where = "the project's venv" if why == "project" else "venv"
    planned = Destination(
        kind="venv",
        paths=derived.paths,
        interpreter=derived,
        created=False,
        description=f"{where} {directory} (to be created with {base.describe})",
        root=directory,
        missing=True,
        base=base,
        field=field,
    )
    return make_venv(planned) if opts.create else planned


def make_venv(planned: Destination) -> Destination:
    """Make the venv of a ``missing`` destination (see ``DestinationOptions.create``); the made one."""
    directory, base, derived = planned.root, planned.base, planned.interpreter
    assert planned.missing and base is not None
    create_venv(base.executable, directory)
    found = derived
    if not (derived.executable.exists() and derived.paths.purelib.is_dir()):
        # An unusual venv layout: ask the new interpreter itself.
        made = _venv_python(directory)
        if made is None:
            raise DestinationError(
                "the new venv has no python executable",
                file=directory,
                field=planned.field,
                hint=f"check that {base.executable} -m venv works",
            )
        found = interpreter(str(made))
    return Destination(
        kind="venv",
        paths=found.paths,
        interpreter=found,
        created=True,
        description=planned.description.replace("(to be created with", "(created with"),
        root=directory,
    )


def _made_from_this_python(directory: Path, python: Path) -> Optional[Interpreter]:
    """The venv's interpreter derived as for a venv lading makes, when the venv was made from the Python
    running lading: its python is that same file, its pyvenv.cfg names that version and nothing else, and
    its site-packages is where the derivation says. Saves asking it in a subprocess (30-40 ms a sync)."""
    base = current_interpreter()
    try:
        same = os.path.realpath(python) == os.path.realpath(base.executable)
        config = (directory / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    versions = {value.strip() for key, _, value in (line.partition("=") for line in config.splitlines())
                if key.strip().lower() in ("version", "version_info")}
    if not same or versions != {base.full_version}:
        return None
    derived = base.venv_interpreter(directory)
    return derived if derived.executable == python and derived.paths.purelib.is_dir() else None


def _venv_python(directory: Path) -> Optional[Path]:
    for candidate in (directory / "bin" / "python", directory / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None
