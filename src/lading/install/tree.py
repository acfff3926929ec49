"""The cache's unpacked wheel trees, and which sources need a build before they have one.

Kept apart from ``sdist`` (builds) so that a warm install, which only links trees, imports no build or
network machinery.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Optional

from lading.cache import ARCHIVES, WHEELS, Cache, file_sha256, is_sha256
from lading.install.wheel import UnpackedWheel, unpack
from lading.install.workers import Workers
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


def unpack_in_cache(cache_root: Path, archive: Path, sha256: Optional[str]) -> Path:
    """The cache's tree of ``archive`` (a worker task: everything it needs comes as arguments)."""
    return unpacked_tree(Cache(cache_root), archive, sha256).root


class UnpackQueue:
    """Unpacks verified wheel archives into the cache on ``workers`` while downloads go on.

    The largest waiting archive goes first: unpacking, not the network, is the slow part of a cold install
    (one file creation per member), so the biggest wheel should not wait behind small ones. Only archives
    whose hash was verified are put in; a tree is published in the cache only once ``unpack`` checked every
    member, so an unpack that runs while another download of the batch fails still leaves a correct entry.
    ``on_done`` runs on the thread that learns a tree is ready.
    """

    def __init__(self, cache: Cache, workers: Workers,
                 on_done: Optional[Callable[[str, UnpackedWheel], None]] = None) -> None:
        self._cache = cache
        self._workers = workers
        self._on_done = on_done
        self._lock = threading.Condition()
        self._futures: list[Future[Path]] = []
        self._pending = 0  # put in, and not yet through _arrived (a future is done before its callbacks ran)
        self._trees: dict[str, UnpackedWheel] = {}
        self._errors: list[BaseException] = []
        self.done = 0

    def put(self, key: str, archive: Path, sha256: Optional[str] = None) -> None:
        try:
            size = os.path.getsize(archive)
        except OSError:
            size = 0
        future = self._workers.submit(unpack_in_cache, self._cache.root, archive, sha256, first=-size)
        with self._lock:
            self._futures.append(future)
            self._pending += 1
        future.add_done_callback(lambda done: self._arrived(key, done))

    def _arrived(self, key: str, future: Future[Path]) -> None:
        try:
            if not future.cancelled():
                self._take(key, future)
        finally:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()

    def _take(self, key: str, future: Future[Path]) -> None:
        try:
            tree = UnpackedWheel.load(future.result())
        except BaseException as error:  # reported by finish(); the other wheels go on
            with self._lock:
                self._errors.append(error)
            return
        with self._lock:
            self._trees[key] = tree
            self.done += 1
        if self._on_done is not None:
            try:
                self._on_done(key, tree)
            except BaseException as error:  # reported by finish()
                with self._lock:
                    self._errors.append(error)

    def finish(self) -> dict[str, UnpackedWheel]:
        """Wait for every archive put in; the trees by key, or the first error."""
        self._wait()
        if self._errors:
            raise self._errors[0]
        return dict(self._trees)

    def cancel(self) -> None:
        """Drop what has not started and wait for the unpacks running now (each leaves no partial entry)."""
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()
        self._wait()

    def _wait(self) -> None:
        with self._lock:
            while self._pending:
                self._lock.wait()
