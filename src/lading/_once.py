"""Work done once per key across threads: the first caller computes, later callers wait for its answer.

Used where the resolver and background warm-up tasks ask for the same page, listing or metadata at the
same moment: a second thread must neither repeat the work nor wait in a queue behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from concurrent.futures import Future
from typing import Callable, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Once(Generic[K, V]):
    """Answers per key, each computed by its first asker; a failure is every asker's failure."""

    def __init__(self) -> None:
        self._futures: dict[K, Future[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:  # every waiter sees the same failure
                future.set_exception(exc)
        return future.result()
