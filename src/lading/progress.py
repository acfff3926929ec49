"""Progress on long work: a live line on a terminal, nothing but a summary in pipes and CI.

The engine calls a :class:`Progress`; it never prints. ``for_stream`` picks the implementation.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Optional, TextIO


class Progress:
    """Silent progress: what pipes, CI logs and ``--json`` get."""

    def phase(self, name: str, total: int = 0, total_bytes: int = 0) -> None:
        """A new stage of work begins (``downloading``, ``unpacking``, ``compiling``, ``linking``)."""

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        """Some of the current stage is done; safe to call from worker threads."""

    def done(self) -> None:
        """The whole operation is over; clears any live line."""


class LiveProgress(Progress):
    """One line, rewritten at most ten times a second: ``downloading 12/40 packages, 3.1/18.2 MB``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._name = ""
        self._total = 0
        self._total_bytes = 0
        self._items = 0
        self._bytes = 0
        self._last = 0.0
        self._width = 0

    def phase(self, name: str, total: int = 0, total_bytes: int = 0) -> None:
        with self._lock:
            self._name, self._total, self._total_bytes = name, total, total_bytes
            self._items = self._bytes = 0
            self._draw(force=True)

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._items += items
            self._bytes += nbytes
            self._draw(force=False)

    def done(self) -> None:
        with self._lock:
            if self._width:
                self._stream.write("\r" + " " * self._width + "\r")
                self._stream.flush()
                self._width = 0

    def _draw(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        text = self._name
        if self._total:
            text += f" {self._items}/{self._total}"
        if self._total_bytes:
            text += f", {self._bytes / 1e6:.1f}/{self._total_bytes / 1e6:.1f} MB"
        elif self._bytes:  # locks without sizes (most but pylock and uv.lock): bytes so far
            text += f", {self._bytes / 1e6:.1f} MB"
        pad = max(0, self._width - len(text))
        self._stream.write("\r" + text + " " * pad)
        self._stream.flush()
        self._width = len(text)


class FetchProgress:
    """Adapts the downloader's callbacks (``lading.fetch``) to the one :class:`Progress` a command shows."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def started(self, total_files: int, total_bytes: int) -> None:
        self._progress.phase("downloading", total_files, total_bytes)

    def advanced(self, nbytes: int) -> None:
        self._progress.advance(nbytes=nbytes)

    def file_done(self, label: str) -> None:
        self._progress.advance(items=1)

    def finished(self) -> None:
        pass


def for_stream(stream: Optional[TextIO] = None, *, quiet: bool = False) -> Progress:
    """A live line only on an interactive terminal outside CI; silence everywhere else."""
    stream = stream if stream is not None else sys.stderr
    if quiet or os.environ.get("CI") or not stream.isatty() or os.environ.get("TERM") == "dumb":
        return Progress()
    return LiveProgress(stream)
