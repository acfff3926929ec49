"""The install's workers: forked processes on Linux, threads elsewhere, with one behaviour."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.errors import LadingError
from lading.install import InstallError
from lading.install import workers as workers_module
from lading.install.workers import FIRST, ProcessWorkers, ThreadWorkers, WorkerBug, Workers, start_workers

REPO = Path(__file__).resolve().parents[2]


# --- tasks (module level: a forked worker finds them by name) ------------------------------------------


def append_line(path: Path, text: str) -> int:
    with open(path, "a") as handle:
        handle.write(text + "\n")
    return os.getpid()


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.005)


def refuse_with_a_full_disk(where: str) -> None:
    try:
        raise OSError(errno.ENOSPC, "No space left on device")
    except OSError as error:
        raise InstallError("cannot write the file", file=where, package="demo 1.0", field="RECORD",
                           hint="free some space") from error


def divide(a: int, b: int) -> float:
    return a / b


def interrupted() -> None:
    raise KeyboardInterrupt


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(params=["processes", "threads"])
def make(request: pytest.FixtureRequest) -> Iterator[type[ProcessWorkers] | type[ThreadWorkers]]:
    yield ProcessWorkers if request.param == "processes" else ThreadWorkers


def _running(future: object) -> None:
    deadline = time.monotonic() + 10
    while not future.running() and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.001)


# --- behaviour -------------------------------------------------------------------------------------------


def test_tasks_return_their_results(make: type[Workers]) -> None:
    workers = make(2)  # type: ignore[call-arg]
    try:
        futures = [workers.submit(divide, n, 2) for n in range(20)]
        assert [f.result(timeout=10) for f in futures] == [n / 2 for n in range(20)]
    finally:
        workers.shutdown()


def test_processes_run_the_tasks_outside_this_process() -> None:
    workers = ProcessWorkers(2)
    try:
        pids = {workers.submit(append_line, Path(os.devnull), "x").result(timeout=10) for _ in range(10)}
    finally:
        workers.shutdown()
    assert pids and os.getpid() not in pids


def test_waiting_tasks_run_smallest_first_then_in_submission_order(tmp_path: Path, make: type[Workers]) -> None:
    workers = make(1)  # type: ignore[call-arg]
    gate, log = tmp_path / "gate", tmp_path / "log"
    try:
        busy = workers.submit(wait_for_file, gate)
        _running(busy)
        for name, first in (("late-a", 0), ("big", -500), ("late-b", 0), ("link", FIRST), ("small", -10)):
            workers.submit(append_line, log, name, first=first)
        gate.touch()
    finally:
        workers.shutdown()
    assert log.read_text().split() == ["link", "big", "small", "late-a", "late-b"]


def test_a_lading_error_keeps_its_location_and_its_cause(make: type[Workers]) -> None:
    workers = make(1)  # type: ignore[call-arg]
    try:
        future = workers.submit(refuse_with_a_full_disk, "/cache/x")
        with pytest.raises(InstallError) as raised:
            future.result(timeout=10)
    finally:
        workers.shutdown()
    error = raised.value
    assert (error.file, error.package, error.field, error.hint) == ("/cache/x", "demo 1.0", "RECORD",
                                                                     "free some space")
    assert isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.ENOSPC


def test_an_unexpected_error_in_a_worker_process_says_where_it_happened() -> None:
    workers = ProcessWorkers(1)
    try:
        with pytest.raises(WorkerBug) as raised:
            workers.submit(divide, 1, 0).result(timeout=10)
        assert workers.submit(divide, 4, 2).result(timeout=10) == 2  # the worker goes on
    finally:
        workers.shutdown()
    assert str(raised.value) == "ZeroDivisionError: division by zero"
    assert raised.value.where.endswith("test_workers.py:" + str(divide.__code__.co_firstlineno + 1))


def test_an_interrupted_task_interrupts_whoever_waits_for_it(make: type[Workers]) -> None:
    workers = make(1)  # type: ignore[call-arg]
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.submit(interrupted).result(timeout=10)
    finally:
        workers.shutdown()


def test_a_task_that_cannot_be_sent_fails_alone(make: type[Workers]) -> None:
    workers = make(1)  # type: ignore[call-arg]
    try:
        unsendable = workers.submit(divide, threading.Lock(), 1)  # a lock cannot be pickled (processes)
        with pytest.raises(Exception):  # noqa: B017 - TypeError either way: unpicklable, or no division
            unsendable.result(timeout=10)
        assert workers.submit(divide, 9, 3).result(timeout=10) == 3
    finally:
        workers.shutdown()


def test_cancelling_drops_waiting_tasks_and_waits_for_the_running_one(tmp_path: Path, make: type[Workers]) -> None:
    workers = make(1)  # type: ignore[call-arg]
    gate, log = tmp_path / "gate", tmp_path / "log"
    busy = workers.submit(wait_for_file, gate)
    _running(busy)
    dropped = [workers.submit(append_line, log, str(n)) for n in range(3)]
    threading.Timer(0.2, gate.touch).start()
    workers.shutdown(cancel=True)
    assert busy.done() and busy.exception() is None
    assert all(f.cancelled() for f in dropped) and not log.exists()
    with pytest.raises(RuntimeError, match="shut down"):
        workers.submit(divide, 1, 1)


def test_a_worker_process_that_dies_fails_its_task_and_the_others_go_on() -> None:
    workers = ProcessWorkers(2)
    try:
        with pytest.raises(InstallError, match=r"worker process ended unexpectedly \(killed by SIGKILL\)") as raised:
            workers.submit(kill_myself).result(timeout=10)
        assert raised.value.hint and "dmesg" in raised.value.hint
        assert [workers.submit(divide, n, 1).result(timeout=10) for n in range(4)] == [0, 1, 2, 3]
        with pytest.raises(InstallError, match="ended unexpectedly"):
            workers.submit(kill_myself).result(timeout=10)
        with pytest.raises(InstallError, match="every worker process has ended"):
            workers.submit(divide, 1, 1).result(timeout=10)
    finally:
        workers.shutdown()


def test_tasks_waiting_when_the_last_worker_dies_fail_instead_of_hanging(tmp_path: Path) -> None:
    workers = ProcessWorkers(1)
    gate = tmp_path / "gate"
    try:
        busy = workers.submit(wait_for_file, gate)
        _running(busy)
        dying = workers.submit(kill_myself, first=FIRST)
        waiting = workers.submit(divide, 1, 1)
        gate.touch()
        busy.result(timeout=10)
        for future in (dying, waiting):
            with pytest.raises(InstallError, match="ended unexpectedly"):
                future.result(timeout=10)
    finally:
        workers.shutdown()


def test_a_killed_lading_leaves_no_worker_holding_its_output_or_running_on(tmp_path: Path) -> None:
    # The parent dies (SIGKILL) while its worker is busy: whoever reads lading's output gets its end at
    # once (the worker does not hold the pipe), and the worker exits when its task is done.
    gate = tmp_path / "gate"
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path[:0] = [{str(REPO / 'src')!r}, {str(REPO)!r}]
        from pathlib import Path
        from lading.install.workers import ProcessWorkers
        from tests.unit.test_workers import wait_for_file
        workers = ProcessWorkers(1)
        busy = workers.submit(wait_for_file, Path({str(gate)!r}))
        while not busy.running():
            time.sleep(0.001)
        print(workers._processes[0].pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert time.monotonic() - started < 5
    worker = int(done.stdout.split()[0])
    assert _alive(worker)  # still busy with its task
    gate.touch()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_start_workers_forks_on_linux_and_uses_threads_when_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    started = start_workers(1)
    started.shutdown()
    assert isinstance(started, ProcessWorkers if sys.platform.startswith("linux") else ThreadWorkers)
    monkeypatch.setattr(workers_module, "PROCESSES", False)
    started = start_workers(1)
    started.shutdown()
    assert isinstance(started, ThreadWorkers)


def test_the_cli_reports_a_worker_bug_with_the_place_in_the_worker(capsys: pytest.CaptureFixture[str]) -> None:
    from lading.cli.main import EXIT_BUG, _bug

    workers = ProcessWorkers(1)
    try:
        error = workers.submit(divide, 1, 0).exception(timeout=10)
    finally:
        workers.shutdown()
    assert error is not None and not isinstance(error, LadingError)
    assert _bug(error) == EXIT_BUG
    line = divide.__code__.co_firstlineno + 1
    assert capsys.readouterr().err.startswith(
        f"lading bug: ZeroDivisionError: division by zero (at {__file__}:{line}); please report it")
