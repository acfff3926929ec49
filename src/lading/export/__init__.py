"""Writers of the same locked set in another format: pure functions, Lock/Selection in, text out."""

from __future__ import annotations

from lading.export.bake import bake_groups, resolve_atoms
from lading.export.pipfile_lock import to_pipfile_lock
from lading.export.pylock import to_pylock
from lading.export.requirements import to_requirements

__all__ = ["bake_groups", "resolve_atoms", "to_pipfile_lock", "to_pylock", "to_requirements"]
