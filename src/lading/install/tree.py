"""The cache's unpacked wheel trees, and which sources need a build before they have one.

Kept apart from ``sdist`` (builds) so that a warm install, which only links trees, imports no build or
network machinery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from lading.cache import ARCHIVES, WHEELS, Cache, file_sha256, is_sha256
from lading.install.wheel import UnpackedWheel, unpack
from lading.model import PackageArchive, PackageDirectory, PackageSdist, PackageVcs, PackageWheel


def needs_build(source: object) -> bool:
    """Whether installing ``source`` (a pylock package source, or an archive file name) needs a PEP 517 build.

    A pending placeholder (files known by hash only, no name yet) answers False: it is asked again
    once the index has said which file it is.
    """
    if isinstance(source, PackageWheel):
        return False
    if isinstance(source, (PackageSdist, PackageDirectory, PackageVcs)):
        return True
    if isinstance(source, PackageArchive):
        location = source.path or source.url or ""
        if not location:
            return False
        return not location.split("#", 1)[0].split("?", 1)[0].endswith(".whl")
    if isinstance(source, (str, Path)):
        return not str(source).endswith(".whl")
    return False


def unpacked_tree(cache: Cache, archive: Path, sha256: Optional[str] = None) -> UnpackedWheel:
    """The cache's unpacked tree (``wheels-v1``, keyed by the wheel's sha256) of a wheel archive.

    Unpacked now if it is not there yet. The sha256 is taken from the archive's place in the
    archives bucket, else computed (a wheel in ``built-v1`` sits under its sdist's hash, not its own).
    """
    digest = sha256
    if digest is None:
        in_archives = archive.parent.parent.parent == cache.bucket(ARCHIVES)
        digest = archive.parent.name if in_archives and is_sha256(archive.parent.name) else file_sha256(archive)
    entry = cache.unpacked(digest)
    if cache.is_complete(entry):
        return UnpackedWheel.load(entry)
    with cache.locked(entry):
        if not cache.is_complete(entry):
            with cache.staging(WHEELS) as temp:
                unpack(archive, temp)
                cache.publish(temp, entry)
    return UnpackedWheel.load(entry)
