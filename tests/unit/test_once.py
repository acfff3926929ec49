"""One computation per key across threads, its answer or failure shared by every asker."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lading._once import Once


def test_concurrent_askers_of_one_key_share_one_computation() -> None:
    once: Once[str, int] = Once()
    calls: list[str] = []
    started = threading.Event()

    def compute() -> int:
        calls.append("x")
        started.set()
        time.sleep(0.05)
        return 42

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: once.get("page", compute), range(8)))
    assert answers == [42] * 8 and calls == ["x"]
    assert once.get("other", lambda: 7) == 7


def test_a_failure_is_every_askers_failure_and_is_not_retried() -> None:
    once: Once[str, int] = Once()
    calls: list[int] = []

    def broken() -> int:
        calls.append(1)
        raise ValueError("bad page")

    for _ in range(2):
        with pytest.raises(ValueError, match="bad page"):
            once.get("page", broken)
    assert calls == [1]
