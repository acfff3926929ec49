"""Creating a virtual environment with the standard library's ``venv`` of the chosen interpreter.

``python -m venv --without-pip`` takes about 60 ms here (3.9, 3.11, 3.13), most of it interpreter
start-up, so writing ``pyvenv.cfg``, the links and the activation scripts ourselves would save
little and would have to track every CPython release's templates; we let each interpreter make its
own kind of venv.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lading.install import InstallError

_TIMEOUT = 120.0


def is_venv(directory: Path) -> bool:
    """A directory is a venv when it has the ``pyvenv.cfg`` that every venv creator writes."""
    return (directory / "pyvenv.cfg").is_file()


def is_empty_dir(directory: Path) -> bool:
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is None
    except NotADirectoryError:
        return False


def create_venv(python: Path, directory: Path) -> None:
    """Make (or repair, after an interrupted creation) a venv at DIRECTORY from PYTHON, without pip.

    ``venv`` accepts an existing directory and rewrites its configuration, links and scripts, so a
    re-run after a kill finishes the job.
    """
    # -I: ignore PYTHON* variables and the user site; the venv module is in the standard library.
    command = [str(python), "-I", "-m", "venv", "--without-pip", str(directory)]
    hint = "check that this interpreter has its venv module (Debian: the python3-venv package)"
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallError(
            f"creating the venv did not finish within {_TIMEOUT:.0f} s", file=directory, hint=hint
        ) from exc
    except OSError as exc:
        raise InstallError(
            f"cannot run {python} to create the venv: {exc.strerror or exc}", file=directory, hint=hint
        ) from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else f"exit status {done.returncode}"
        raise InstallError(f"creating the venv with {python} failed: {last}", file=directory, hint=hint)
    if not is_venv(directory):
        raise InstallError(
            f"{python} -m venv reported success but wrote no pyvenv.cfg", file=directory, hint=hint
        )
