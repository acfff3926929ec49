"""Lock targets by short name: ``cp311-manylinux_x86_64``, ``cp312-macosx_arm64``, ``cp313-win_amd64``.

A name is ``cp3XY-<platform>``; the platform part is one of the table below. Each gives the PEP 508
marker environment and the wheel tags (best first) of a typical machine of that kind, computed with
``packaging.tags`` for CPython 3.XY:

=========================  ==========================================================================
platform                   machine assumed
=========================  ==========================================================================
``manylinux_x86_64``       Linux x86_64, glibc 2.28 (manylinux_2_28 and older, ``linux_x86_64``)
``manylinux_aarch64``      Linux aarch64, glibc 2.28
``manylinux_2_NN_<arch>``  Linux ``<arch>`` (x86_64, aarch64) with glibc 2.NN
``musllinux_x86_64``       Linux x86_64, musl 1.2 (Alpine)
``musllinux_aarch64``      Linux aarch64, musl 1.2
``macosx_arm64``           macOS 14 on Apple silicon (wheels for macOS 11 to 14)
``macosx_x86_64``          macOS 13 on Intel (wheels for macOS 10.9 to 13, universal2 too)
``win_amd64``              Windows x86_64
=========================  ==========================================================================

Anything else given to ``--target`` is a platform spec file written by ``lading target -o``, or
``current`` for the interpreter running lading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from packaging import tags as ptags
from packaging.tags import Tag

from lading.errors import UsageError
from lading.model import Target

_NAME = re.compile(r"^cp3(\d{1,2})-([a-z0-9_]+)$")
_MANYLINUX = re.compile(r"^manylinux_2_(\d+)_(x86_64|aarch64)$")


@dataclass(frozen=True)
class _Platform:
    sys_platform: str
    platform_system: str
    os_name: str
    machine: str


_LINUX = {"x86_64": _Platform("linux", "Linux", "posix", "x86_64"),
          "aarch64": _Platform("linux", "Linux", "posix", "aarch64")}

#: The platform part of a short target name: its machine and its platform tags, best first.
PLATFORMS: dict[str, tuple[_Platform, tuple[str, ...]]] = {}


def _manylinux(glibc_minor: int, arch: str) -> tuple[str, ...]:
    found = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    with_legacy: list[str] = []
    for tag in found:
        with_legacy.append(tag)
        minor = int(tag.split("_")[2])
        if minor in legacy and (arch == "x86_64" or minor == 17):
            with_legacy.append(f"{legacy[minor]}_{arch}")
    return (*with_legacy, f"linux_{arch}")


def _musllinux(arch: str) -> tuple[str, ...]:
    return (*(f"musllinux_1_{minor}_{arch}" for minor in (2, 1, 0)), f"linux_{arch}")


def _mac(version: tuple[int, int], arch: str) -> tuple[str, ...]:
    return tuple(ptags.mac_platforms(version, arch))


PLATFORMS.update({
    "manylinux_x86_64": (_LINUX["x86_64"], _manylinux(28, "x86_64")),
    "manylinux_aarch64": (_LINUX["aarch64"], _manylinux(28, "aarch64")),
    "musllinux_x86_64": (_LINUX["x86_64"], _musllinux("x86_64")),
    "musllinux_aarch64": (_LINUX["aarch64"], _musllinux("aarch64")),
    "macosx_arm64": (_Platform("darwin", "Darwin", "posix", "arm64"), _mac((14, 0), "arm64")),
    "macosx_x86_64": (_Platform("darwin", "Darwin", "posix", "x86_64"), _mac((13, 0), "x86_64")),
    "win_amd64": (_Platform("win32", "Windows", "nt", "AMD64"), ("win_amd64",)),
})


def builtin_names() -> Iterator[str]:
    """The platform parts a short name may use (for messages)."""
    yield from sorted(PLATFORMS)
    yield "manylinux_2_NN_<x86_64|aarch64>"


def short_target(name: str) -> Optional[Target]:
    """The target a short name describes; None when ``name`` is not of the ``cp3XY-<platform>`` form."""
    match = _NAME.match(name)
    if match is None:
        return None
    minor = int(match.group(1))
    platform_name = match.group(2)
    explicit = _MANYLINUX.match(platform_name)
    if explicit is not None:
        platform = _LINUX[explicit.group(2)]
        platform_tags = _manylinux(int(explicit.group(1)), explicit.group(2))
    elif platform_name in PLATFORMS:
        platform, platform_tags = PLATFORMS[platform_name]
    else:
        raise UsageError(
            f"unknown platform {platform_name!r} in target {name!r}",
            field="--target",
            hint="use one of: " + ", ".join(builtin_names()) + " (or a spec file from `lading target -o`)",
        )
    version = (3, minor)
    tags: list[Tag] = list(ptags.cpython_tags(version, abis=[f"cp3{minor}"], platforms=list(platform_tags)))
    seen = set(tags)
    tags += [t for t in ptags.compatible_tags(version, f"cp3{minor}", list(platform_tags)) if t not in seen]
    environment = {
        "implementation_name": "cpython",
        "implementation_version": f"3.{minor}.0",
        "os_name": platform.os_name,
        "platform_machine": platform.machine,
        "platform_release": "",
        "platform_system": platform.platform_system,
        "platform_version": "",
        "python_full_version": f"3.{minor}.0",
        "platform_python_implementation": "CPython",
        "python_version": f"3.{minor}",
        "sys_platform": platform.sys_platform,
    }
    return Target(name=name, environment=environment, tags=tuple(tags))


def lock_target(text: str, *, base: Optional[Path] = None) -> Target:
    """A ``--target`` / ``[tool.lading] targets`` entry: a short name, ``current``, or a spec file."""
    from lading import target as targets

    if text in ("current", "here"):
        return targets.current()
    found = short_target(text)
    if found is not None:
        return found
    path = Path(text)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise UsageError(
            f"target {text!r} is neither a known name nor a platform spec file",
            field="--target",
            hint="use cp3XY-<platform> with platform one of " + ", ".join(builtin_names())
            + ", 'current', or a file written by `lading target -o`",
        )
    return targets.from_spec(path)


__all__ = ["PLATFORMS", "builtin_names", "lock_target", "short_target"]
