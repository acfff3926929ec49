"""Resolving requirements against package indexes (resolvelib with lading's own index client).

:mod:`.provider` holds the generic pieces (requirements, candidates from index pages, core metadata,
the resolvelib provider and the conflict explanation); :mod:`.buildreqs` uses them for the build
requirements of a PEP 517 build, which have no lock. The ``lock`` command grows from the same provider.
"""

from __future__ import annotations

from lading.errors import LadingError


class ResolutionError(LadingError):
    """Requirements cannot be satisfied (a conflict, no matching version, no compatible file)."""


__all__ = ["ResolutionError"]
