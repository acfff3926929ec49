"""Writers of the same locked set in another format: pure functions, Lock/Selection in, text out.

The writers are imported on first use (``from lading.export import to_pylock`` works as usual): a run
that writes one format does not load the others (the pylock writer alone pulls in tomlkit).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lading.export.bake import bake_groups, resolve_atoms
    from lading.export.pipfile_lock import to_pipfile_lock
    from lading.export.pylock import to_pylock
    from lading.export.requirements import to_requirements

_WHERE = {
    "bake_groups": "bake",
    "resolve_atoms": "bake",
    "to_pipfile_lock": "pipfile_lock",
    "to_pylock": "pylock",
    "to_requirements": "requirements",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"lading.export.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'lading.export' has no attribute {name!r}")


__all__ = ["bake_groups", "resolve_atoms", "to_pipfile_lock", "to_pylock", "to_requirements"]
