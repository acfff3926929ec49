"""Manifest editors: add, remove and re-bound requirements in a manifest's text, preserving the rest.

Pure functions, text in and text out; the file's path only names it in errors and picks the format.
Per format: ``lading.edit.pyproject``, ``lading.edit.pipfile``, ``lading.edit.requirements``; the functions
here dispatch on the file name (``pyproject.toml``, ``Pipfile``, anything else is a requirements file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Optional, Union

from packaging.version import Version

from lading.edit import pipfile, pyproject, requirements
from lading.edit._common import STYLES, EditError, PathLike, default_specifier
from lading.errors import UsageError

__all__ = [
    "STYLES",
    "EditError",
    "add_requirement",
    "default_specifier",
    "kind_of",
    "remove_requirement",
    "set_lower_bounds",
]


def kind_of(path: PathLike) -> str:
    """``pyproject``, ``pipfile`` or ``requirements``, from the file name."""
    name = Path(str(path)).name
    if name == "Pipfile":
        return "pipfile"
    if name.endswith(".toml"):
        return "pyproject"
    return "requirements"


def _no_extras_here(path: PathLike, group: Optional[str], optional: Optional[str], kind: str) -> None:
    if optional is not None:
        raise UsageError(f"a {kind} has no extras (--optional)", file=path, hint="extras live in pyproject.toml")
    if group is not None and kind == "requirements file":
        raise UsageError(
            "a requirements file has no groups (--group)",
            file=path,
            hint="use a separate file (e.g. requirements-dev.in) and name it as the manifest",
        )


def add_requirement(
    text: str,
    path: PathLike,
    requirement: str,
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
) -> str:
    """Add ``requirement`` (or replace the entry of the same name in place) in the manifest's text."""
    kind = kind_of(path)
    if kind == "pyproject":
        return pyproject.add_requirement(text, path, requirement, group=group, optional=optional)
    if kind == "pipfile":
        _no_extras_here(path, group, optional, "Pipfile")
        return pipfile.add_requirement(text, path, requirement, group=group)
    _no_extras_here(path, group, optional, "requirements file")
    return requirements.add_requirement(text, path, requirement)


def remove_requirement(
    text: str,
    path: PathLike,
    name: str,
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
) -> str:
    """Remove every entry named ``name`` from the chosen place; absent: an EditError saying where it is."""
    kind = kind_of(path)
    if kind == "pyproject":
        return pyproject.remove_requirement(text, path, name, group=group, optional=optional)
    if kind == "pipfile":
        _no_extras_here(path, group, optional, "Pipfile")
        return pipfile.remove_requirement(text, path, name, group=group)
    _no_extras_here(path, group, optional, "requirements file")
    return requirements.remove_requirement(text, path, name)


def set_lower_bounds(text: str, path: PathLike, pins: Mapping[str, Union[str, Version]]) -> str:
    """Raise the lower bound of each named requirement to its locked version (``upgrade --bump``)."""
    kind = kind_of(path)
    if kind == "pyproject":
        return pyproject.set_lower_bounds(text, path, pins)
    if kind == "pipfile":
        return pipfile.set_lower_bounds(text, path, pins)
    return requirements.set_lower_bounds(text, path, pins)
