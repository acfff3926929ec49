"""Is a lock fit to install from without a resolver? Pins exact, every remote artifact hashed with an
algorithm lading trusts, local paths present, no duplicate or contradictory entries. Pure over a Lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from lading import _fs
from lading.model import (
    SUPPORTED_HASHES,
    Lock,
    PackageArchive,
    PackageDirectory,
    PackageVcs,
)


@dataclass(frozen=True)
class Problem:
    package: Optional[str]
    field: Optional[str]
    message: str
    hint: Optional[str] = None


def check(lock: Lock) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    for finding in lock.findings:
        if finding.severity in ("error", "deploy-error"):
            problems.append(Problem(finding.package, finding.field, finding.message, _hint(finding.message)))
    base = lock.path.parent
    for i, package in enumerate(lock.packages):
        label = lock.describe(i)
        entry = lock.origins[i].entry.rsplit(" (", 1)[0]  # "package[3]", "line 12", "default.flask"
        if package.directory is not None:
            if not _fs.is_dir(base / package.directory.path):
                problems.append(Problem(label, f"{entry}.directory.path",
                                        f"directory {package.directory.path!r} does not exist",
                                        "paths in a lock are relative to the lock file's directory"))
            continue
        if package.vcs is not None:
            if not package.vcs.commit_id:
                problems.append(Problem(label, f"{entry}.vcs.commit-id", "no commit recorded",
                                        "re-lock so the exact commit is pinned"))
            continue
        if i in lock.pending:
            # A missing hash is already a reader finding; a hash lading cannot check is not.
            given = lock.pending[i].hashes
            if given:
                by_algorithm = dict(h.partition(":")[::2] for h in given)
                problems.extend(_hashes(label, f"{entry}.hashes", by_algorithm))
            continue
        if package.archive is not None:
            problems.extend(_hashes(label, f"{entry}.archive.hashes", package.archive.hashes))
            if package.archive.path and not package.archive.url and not _fs.exists(base / package.archive.path):
                problems.append(Problem(label, f"{entry}.archive.path",
                                        f"file {package.archive.path!r} does not exist"))
            continue
        if package.version is None:
            problems.append(Problem(label, f"{entry}.version", "not pinned to one version",
                                    "re-lock so every package has an exact version"))
        origin = lock.origins[i]
        for j, wheel in enumerate(package.wheels or ()):
            where = _hash_field(origin.file_field(wheel.filename), f"{entry}.wheels[{j}]")
            problems.extend(_hashes(label, where, wheel.hashes, wheel.filename))
        if package.sdist is not None:
            where = _hash_field(origin.file_field(package.sdist.filename), f"{entry}.sdist")
            problems.extend(_hashes(label, where, package.sdist.hashes, package.sdist.filename))
    problems.extend(_duplicates(lock))
    return tuple(problems)


def _hash_field(source_field: Optional[str], model_field: str) -> str:
    """The field to name: the source lock's own (``files[3].hash``) where the reader recorded it."""
    return f"{source_field}.hash" if source_field else f"{model_field}.hashes"


def _hashes(
    label: str, field: str, hashes: Mapping[str, str], filename: Optional[str] = None
) -> list[Problem]:
    """``field`` is the full field path of the hash (``package[3].files[1].hash``)."""
    what = f" ({filename})" if filename else ""
    if not hashes:
        return [Problem(label, field, f"no hash{what}",
                        "a lock without hashes cannot prove what it installs; re-lock with hashes")]
    if not any(alg.lower() in SUPPORTED_HASHES for alg in hashes):
        given = ", ".join(f"'{alg}:{value[:12]}…'" for alg, value in hashes.items())
        return [Problem(label, field, f"{given} is not a supported hash{what}",
                        f"lading verifies with {', '.join(SUPPORTED_HASHES)}; re-lock with sha256")]
    return []


def _duplicates(lock: Lock) -> list[Problem]:
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, package in enumerate(lock.packages):
        by_name[package.name].append(i)
    problems: list[Problem] = []
    for name, positions in by_name.items():
        if len(positions) < 2:
            continue
        unconditional = [i for i in positions if lock.packages[i].marker is None]
        if len(unconditional) > 1:
            entries = ", ".join(lock.origins[i].entry for i in unconditional)
            problems.append(Problem(name, None,
                                    f"listed {len(unconditional)} times without markers ({entries})",
                                    "a lock must pin one version per environment; re-lock"))
        seen: dict[tuple[str, str], int] = {}
        for i in positions:
            package = lock.packages[i]
            key = (str(package.version), str(package.marker))
            if key in seen:
                problems.append(Problem(name, None,
                                        f"duplicate entry: {lock.origins[seen[key]].entry} and "
                                        f"{lock.origins[i].entry}"))
            seen[key] = i
    return problems


def _hint(message: str) -> Optional[str]:
    if "not hashed" in message or "no hash" in message:
        return "generate hashes (pip-compile --generate-hashes, uv pip compile --generate-hashes)"
    if "not pinned" in message:
        return "pin an exact version (==X.Y.Z) or re-lock"
    return None


__all__ = ["PackageArchive", "PackageDirectory", "PackageVcs", "Problem", "check"]
