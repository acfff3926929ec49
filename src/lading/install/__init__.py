"""Installing wheels: unpack into the cache, link into a scheme, record, uninstall.

The error classes live here so every install module (and the planner) can raise and catch them without
importing the heavier modules.
"""

from __future__ import annotations

from lading.errors import LadingError


class WheelError(LadingError):
    """A wheel archive (or an unpacked tree of one) is malformed, inconsistent or hostile."""


class InstallError(LadingError):
    """Files could not be placed into, or removed from, an environment."""


__all__ = ["InstallError", "WheelError"]
