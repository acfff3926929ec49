"""Lock x Target x groups/extras -> Selection. Pure; every decision is ``Pylock.select``'s.

Selection runs ``Pylock.select`` twice over the same packages: once with every source replaced by a
stand-in directory, which applies the spec's package-level steps (markers, requires-python, duplicates)
across the whole lock; then once per chosen package with its real sources, which picks the artifact
for the target's tags. Splitting it lets ``show`` report a package with no compatible wheel as skipped
instead of stopping at the first one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Optional

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import Package, PackageDirectory, Pylock, PylockSelectError, PylockValidationError
from packaging.utils import InvalidWheelFilename

from lading.errors import SelectionError
from lading.model import GroupRequest, Lock, Selected, Selection, Skipped, Target

_STAND_IN = PackageDirectory(path=".")


def resolve_groups(lock: Lock, request: GroupRequest) -> tuple[frozenset[str], frozenset[str]]:
    """The dependency groups and extras a request means for this lock; unknown names are errors."""

    def _usage(error: SelectionError) -> SelectionError:
        # The README: a group or extra name the lock does not define is a usage error (exit 2).
        error.exit_code = 2
        return error

    known_groups = set(lock.groups) | set(lock.default_groups)
    groups = set(lock.default_groups)
    if request.dev:
        groups |= lock.dev_groups
    if request.all_groups:
        groups |= known_groups
    for group in request.groups:
        if group not in known_groups:
            raise _usage(SelectionError(
                f"unknown dependency group {group!r}",
                file=lock.path,
                field="--group",
                hint=_choices("groups", sorted(known_groups)),
            ))
        groups.add(group)
    extras = set(lock.extras) if request.all_extras else set()
    for extra in request.extras:
        if extra not in lock.extras:
            raise _usage(SelectionError(
                f"unknown extra {extra!r}",
                file=lock.path,
                field="--extra",
                hint=_choices("extras", sorted(lock.extras)),
            ))
        extras.add(extra)
    return frozenset(groups), frozenset(extras)


def _choices(what: str, names: list[str]) -> str:
    if not names:
        return f"this lock defines no {what}"
    return f"this lock defines the {what}: {', '.join(names)}"


def select(lock: Lock, target: Target, request: Optional[GroupRequest] = None) -> Selection:
    request = request or GroupRequest()
    groups, extras = resolve_groups(lock, request)
    positions = {id(p): i for i, p in enumerate(lock.packages)}
    stand_ins = [replace_sources(p) for p in lock.packages]
    by_stand_in = {id(s): i for i, s in enumerate(stand_ins)}
    environment = dict(target.environment)

    outline = Pylock(
        lock_version=lock.pylock.lock_version,
        environments=lock.pylock.environments,
        requires_python=lock.pylock.requires_python,
        extras=lock.pylock.extras,
        dependency_groups=lock.pylock.dependency_groups,
        default_groups=lock.pylock.default_groups,
        created_by=lock.pylock.created_by,
        packages=stand_ins,
    )
    try:
        chosen = [by_stand_in[id(p)] for p, _ in outline.select(
            environment=environment,  # type: ignore[arg-type]
            tags=list(target.tags),
            extras=extras,
            dependency_groups=groups,
        )]
    except PylockSelectError as exc:
        raise SelectionError(str(exc), file=lock.path, hint=_select_hint(str(exc))) from exc
    except (UndefinedEnvironmentName, UndefinedComparison) as exc:
        raise SelectionError(
            f"a package marker cannot be evaluated for target {target.name}: {exc}",
            file=lock.path,
            hint="the lock uses a marker variable this target does not define; report it with the lock",
        ) from exc

    selected: list[Selected] = []
    skipped: list[Skipped] = []
    chosen_set = set(chosen)
    for i in sorted(chosen_set):
        package = lock.packages[i]
        if request.no_project and lock.is_project(i):
            skipped.append(Skipped(package=package, origin=lock.origins[i], reason="project",
                                   detail="the project itself, left out by --no-project"))
            continue
        single = replace_packages(lock.pylock, [package])
        try:
            [(picked, source)] = list(single.select(
                environment=environment,  # type: ignore[arg-type]
                tags=list(target.tags),
                extras=extras,
                dependency_groups=groups,
            ))
        except (InvalidWheelFilename, PylockValidationError) as exc:
            # A lock from ``lading.locks.read`` is validated; this guards locks built elsewhere.
            raise SelectionError(
                f"cannot choose a file: {exc}",
                file=lock.path,
                package=lock.describe(i),
                field=lock.origins[i].entry.split(" ", 1)[0],
                hint="the lock is damaged or was edited by hand; re-create it with the tool that wrote it",
            ) from exc
        except PylockSelectError as exc:
            skipped.append(Skipped(
                package=package,
                origin=lock.origins[i],
                reason="no-compatible-artifact",
                detail=_no_artifact_detail(package, target, str(exc)),
            ))
            continue
        assert positions[id(picked)] == i
        selected.append(Selected(
            package=package,
            source=source,
            origin=lock.origins[i],
            pending=lock.pending.get(i),
            index=package.index,
        ))
    all_groups = frozenset(lock.groups) | frozenset(lock.default_groups)
    for i in range(len(lock.packages)):
        if i in chosen_set:
            continue
        skipped.append(_why_skipped(lock, i, environment, all_groups, frozenset(lock.extras)))
    selected.sort(key=lambda s: (s.package.name, str(s.package.version or "")))
    skipped.sort(key=lambda s: (s.package.name, str(s.package.version or "")))
    return Selection(
        lock=lock,
        target=target,
        groups=groups,
        extras=extras,
        selected=tuple(selected),
        skipped=tuple(skipped),
    )


def replace_sources(package: Package) -> Package:
    return _copy_package(package, directory=_STAND_IN)


def replace_packages(pylock: Pylock, packages: list[Package]) -> Pylock:
    return replace(pylock, packages=packages)


def _copy_package(package: Package, **changes: object) -> Package:
    fields: dict[str, object] = {
        "name": package.name,
        "version": package.version,
        "marker": package.marker,
        "requires_python": package.requires_python,
        "dependencies": package.dependencies,
        "vcs": None,
        "directory": None,
        "archive": None,
        "index": package.index,
        "sdist": None,
        "wheels": None,
        "attestation_identities": package.attestation_identities,
        "tool": package.tool,
    }
    fields.update(changes)
    return Package(**fields)  # type: ignore[arg-type]


def _why_skipped(
    lock: Lock,
    i: int,
    environment: Mapping[str, str],
    all_groups: frozenset[str],
    all_extras: frozenset[str],
) -> Skipped:
    package = lock.packages[i]
    marker = package.marker
    assert marker is not None, "only a marker can leave a package out"
    everything = {**environment, "dependency_groups": all_groups, "extras": all_extras}
    if _evaluate(marker, everything):
        return Skipped(
            package=package,
            origin=lock.origins[i],
            reason="group",
            detail=f"not in the selected groups or extras ({marker})",
        )
    return Skipped(
        package=package,
        origin=lock.origins[i],
        reason="marker",
        detail=f"marker is false for this target: {marker}",
    )


def _evaluate(marker: Marker, environment: Mapping[str, object]) -> bool:
    try:
        return marker.evaluate(dict(environment), context="lock_file")  # type: ignore[arg-type]
    except (UndefinedEnvironmentName, UndefinedComparison):
        return False


def _no_artifact_detail(package: Package, target: Target, message: str) -> str:
    wheels = [w.filename for w in package.wheels or ()]
    shown = ", ".join(wheels[:4]) + (", ..." if len(wheels) > 4 else "")
    return f"no wheel matches {target.name} and there is no sdist (wheels: {shown})"


def _select_hint(message: str) -> str:
    if "Multiple packages" in message:
        return "the lock selects two entries of one package for this target; re-create the lock"
    if "python_full_version" in message:
        return "choose another interpreter with --python, or a lock made for this Python"
    return "check the target (--python / --platform) against what the lock was made for"
