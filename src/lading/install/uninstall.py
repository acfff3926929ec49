"""Remove an installed distribution by its RECORD: the files, their pycs, the dist-info, emptied directories.

Every RECORD path is checked before anything is removed: it must resolve (through symlinked directories)
to a place strictly inside one of the scheme's directories; a RECORD that points elsewhere is refused as a
whole. Before any file goes, RECORD is renamed to ``RECORD.lading-uninstalling``: an interrupted uninstall
leaves the distribution visible but incomplete (no RECORD), so the next run reinstalls or removes it even when
the version is the one the lock wants, and that run still knows its files. The dist-info directory goes last
(renamed aside, then deleted).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from lading.install import InstallError
from lading.install.installed import InstalledDist
from lading.install.link import temp_name
from lading.install.paths import InstallPaths

#: RECORD's name while its distribution is being removed (see the module docstring).
RECORD_UNINSTALLING = "RECORD.lading-uninstalling"


@dataclass(frozen=True)
class Uninstalled:
    """What ``uninstall`` removed (files, then directories that became empty)."""

    dist: InstalledDist
    files: tuple[Path, ...]
    directories: tuple[Path, ...]


def uninstall(dist: InstalledDist, paths: InstallPaths) -> Uninstalled:
    """Remove ``dist`` from the environment whose directories are ``paths``."""
    roots = tuple(os.path.realpath(root) for root in paths.roots())
    dist_info = os.path.realpath(dist.dist_info)
    if not _inside(dist_info, roots):
        raise InstallError(
            f"the dist-info directory {dist.dist_info} is outside the environment",
            package=dist.label,
            hint="this distribution belongs to another environment; lading removes only what it manages",
        )
    aside = os.path.join(dist_info, RECORD_UNINSTALLING)
    targets: list[str]
    if dist.record is None and not dist.written and os.path.isfile(aside):
        # An earlier uninstall was interrupted: its file list is still here.
        targets = _targets(replace(dist, record=Path(aside)), roots, dist_info)
    elif dist.record is None and not dist.written:
        if not dist.installed_by_lading:
            raise InstallError(
                "the distribution has no RECORD, so its files are unknown",
                file=dist.dist_info,
                package=dist.label,
                hint="it was installed by an old tool; remove its files by hand, or recreate the environment",
            )
        # lading writes RECORD last: without it the install was interrupted and is redone over these files.
        targets = []
    else:
        targets = _targets(dist, roots, dist_info)
        _mark_uninstalling(dist, dist_info, aside)

    removed: list[Path] = []
    code: dict[str, set[str]] = {}
    for target in targets:
        try:
            os.unlink(target)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except IsADirectoryError:
            continue  # some tools list directories; they go below, when empty
        except OSError as error:
            raise InstallError(f"cannot remove {target}: {error.strerror or error}", file=target, package=dist.label,
                               hint="check the permissions of the environment") from error
        removed.append(Path(target))
        directory, name = os.path.split(target)
        if name.endswith(".py"):
            code.setdefault(directory, set()).add(name[:-3])
    candidates = {os.path.dirname(target) for target in targets}
    for directory, stems in code.items():
        pycache = os.path.join(directory, "__pycache__")
        removed.extend(_remove_bytecode(pycache, stems))
        candidates.add(pycache)
    _remove_dist_info(dist_info, dist)
    candidates.add(os.path.dirname(dist_info))
    emptied = _remove_empty(candidates, roots)
    return Uninstalled(dist, tuple(removed), tuple(Path(d) for d in emptied))


def _mark_uninstalling(dist: InstalledDist, dist_info: str, aside: str) -> None:
    """Make the distribution incomplete before its files go (one atomic rename of RECORD)."""
    try:
        os.replace(os.path.join(dist_info, "RECORD"), aside)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise InstallError(f"cannot remove {dist_info}: {error.strerror or error}", file=dist_info,
                           package=dist.label, hint="check the permissions of the environment") from error


def _targets(dist: InstalledDist, roots: tuple[str, ...], dist_info: str) -> list[str]:
    base = os.fspath(dist.location)
    resolved: dict[str, str] = {}
    targets = []
    for entry in dist.record_entries():
        full = os.path.normpath(os.path.join(base, entry.path))
        parent, name = os.path.split(full)
        real_parent = resolved.get(parent)
        if real_parent is None:
            real_parent = resolved[parent] = os.path.realpath(parent)
        target = os.path.join(real_parent, name)
        if not _inside(target, roots) or target in roots:
            raise InstallError(
                f"RECORD lists {entry.path!r}, which is outside the environment's directories",
                file=dist.record,
                package=dist.label,
                field=f"RECORD[{entry.path!r}]",
                hint="the RECORD file was altered or written by a broken tool; nothing was removed. "
                "Recreate the environment, or remove the distribution's files by hand",
            )
        if target != dist_info and not target.startswith(dist_info + os.sep):
            targets.append(target)
    return targets


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _remove_bytecode(pycache: str, stems: set[str]) -> list[Path]:
    removed: list[Path] = []
    try:
        names = os.listdir(pycache)
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for name in names:
        if name.endswith(".pyc") and name.split(".", 1)[0] in stems:
            try:
                os.unlink(os.path.join(pycache, name))
                removed.append(Path(pycache, name))
            except FileNotFoundError:
                pass
    return removed


def _remove_dist_info(dist_info: str, dist: InstalledDist) -> None:
    aside = temp_name(dist_info)
    try:
        os.rename(dist_info, aside)
    except FileNotFoundError:
        return
    except OSError as error:
        raise InstallError(f"cannot remove {dist_info}: {error.strerror or error}", file=dist_info,
                           package=dist.label, hint="check the permissions of the environment") from error
    shutil.rmtree(aside, ignore_errors=True)


def _remove_empty(candidates: set[str], roots: tuple[str, ...]) -> list[str]:
    """Remove directories that became empty, deepest first, climbing towards (never into) the roots."""
    every: set[str] = set()
    for directory in candidates:
        while directory not in every and directory not in roots and _inside(directory, roots):
            every.add(directory)
            directory = os.path.dirname(directory)
    removed = []
    # Deepest first, so a directory is tried only after everything below it was.
    for directory in sorted(every, key=lambda d: d.count(os.sep), reverse=True):
        try:
            os.rmdir(directory)
        except OSError:
            continue
        removed.append(directory)
    return removed
