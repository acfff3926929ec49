"""Workers for the file-heavy half of an install: unpacking wheels into the cache and linking trees.

On Linux they are forked processes. Creating thousands of files costs a few system calls per file; on
threads every call hands the interpreter lock to another thread and back (one cold install of the service
lock made 130,000 futex calls, most of its system time) and the Python part of each file runs on one core
at a time. A forked worker holds its own interpreter lock, starts in a millisecond with every module already
imported, and runs one task at a time, largest first. Elsewhere (no ``fork``, or a platform where forking a
threaded process is unsafe) the same calls run on threads.

A task is a module-level function and picklable arguments; its result or exception comes back pickled
(an exception keeps its ``__cause__``, which the disk-full check reads). A worker that dies fails its task
with a clear error; workers exit when the pipe to them closes, so a killed lading leaves none behind.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, NoReturn, Optional, Protocol

from lading.errors import LadingError
from lading.install import InstallError

#: Tasks with a smaller ``first`` run earlier; equal ones in the order they came.
FIRST = -(1 << 62)


class Workers(Protocol):
    def submit(self, call: Callable[..., Any], *args: Any, first: int = 0) -> Future[Any]:
        """Run ``call(*args)`` on a worker; smaller ``first`` runs earlier."""

    def shutdown(self, *, cancel: bool = False) -> None:
        """Wait for the tasks submitted (``cancel``: drop those not started), then stop the workers."""


#: Whether start_workers forks; tests turn it off to run the thread variant.
PROCESSES = sys.platform.startswith("linux")


def start_workers(count: int) -> Workers:
    """``count`` workers: processes where forking is safe and cheap (Linux), threads elsewhere."""
    if PROCESSES and hasattr(os, "fork"):
        return ProcessWorkers(count)
    return ThreadWorkers(count)


@dataclass(order=True)
class _Task:
    first: int
    number: int
    future: Future[Any] = field(compare=False)
    call: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)


class _Queue:
    """The waiting tasks of a set of workers, smallest ``first`` on top."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.waiting: list[_Task] = []
        self.running = 0
        self.closed = False
        self._numbers = itertools.count()

    def add(self, call: Callable[..., Any], args: tuple[Any, ...], first: int) -> _Task:
        if self.closed:
            raise RuntimeError("the workers were shut down")
        task = _Task(first, next(self._numbers), Future(), call, args)
        heapq.heappush(self.waiting, task)
        return task

    def take(self) -> Optional[_Task]:
        """The next task that was not cancelled, counted as running; None if none waits. Holds ``lock``."""
        while self.waiting:
            task = heapq.heappop(self.waiting)
            if task.future.set_running_or_notify_cancel():
                self.running += 1
                return task
        return None

    def ended(self) -> None:
        """A running task ended. Holds ``lock``."""
        self.running -= 1
        self.lock.notify_all()

    def drop_waiting(self) -> None:
        """Cancel the tasks not started. Holds ``lock``."""
        for task in self.waiting:
            task.future.cancel()
        self.waiting.clear()

    def wait_idle(self) -> None:
        with self.lock:
            while True:
                # a task cancelled while waiting stays in the heap until taken; an idle worker takes none
                self.waiting = [task for task in self.waiting if not task.future.cancelled()]
                heapq.heapify(self.waiting)
                if not self.running and not self.waiting:
                    return
                self.lock.wait()


# --- threads ---------------------------------------------------------------------------------------------


class ThreadWorkers:
    def __init__(self, count: int) -> None:
        self._queue = _Queue()
        self._threads = [threading.Thread(target=self._work, name=f"lading-worker-{n}", daemon=True)
                         for n in range(max(1, count))]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., Any], *args: Any, first: int = 0) -> Future[Any]:
        with self._queue.lock:
            task = self._queue.add(call, args, first)
            self._queue.lock.notify()
        return task.future

    def _work(self) -> None:
        queue = self._queue
        while True:
            with queue.lock:
                task = queue.take()
                while task is None and not queue.closed:
                    queue.lock.wait()
                    task = queue.take()
                if task is None:
                    return
            try:
                task.future.set_result(task.call(*task.args))
            except BaseException as error:  # handed to whoever waits on the future
                task.future.set_exception(error)
            finally:
                with queue.lock:
                    queue.ended()

    def shutdown(self, *, cancel: bool = False) -> None:
        with self._queue.lock:
            if cancel:
                self._queue.drop_waiting()
            self._queue.closed = True
            self._queue.lock.notify_all()
        for thread in self._threads:
            thread.join()


# --- processes -------------------------------------------------------------------------------------------

_LENGTH = struct.Struct("<Q")


@dataclass
class _Process:
    pid: int
    tasks: int  # parent writes tasks here
    results: int  # parent reads replies here
    task: Optional[_Task] = None
    alive: bool = True
    reader: Optional[threading.Thread] = None


class ProcessWorkers:
    def __init__(self, count: int) -> None:
        self._queue = _Queue()
        self._processes: list[_Process] = []
        try:
            for _ in range(max(1, count)):
                self._processes.append(self._fork())
        except OSError as error:
            self.shutdown(cancel=True)
            raise InstallError(f"cannot start a worker process: {error.strerror or error}",
                               hint="check the process limits (ulimit -u) and free memory") from error
        for process in self._processes:
            process.reader = threading.Thread(target=self._read, args=(process,), name="lading-worker-reader",
                                              daemon=True)
            process.reader.start()

    def _fork(self) -> _Process:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a threaded process; the child only runs lading's own
            # unpacking and linking code, whose modules are imported already, and never takes a lock
            # another thread could hold (the interpreter resets its own import lock on fork).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
            _serve(task_read, result_write)
        os.close(task_read)
        os.close(result_write)
        return _Process(pid, task_write, result_read)

    def submit(self, call: Callable[..., Any], *args: Any, first: int = 0) -> Future[Any]:
        with self._queue.lock:
            if not self._queue.closed and not any(p.alive for p in self._processes):
                future: Future[Any] = Future()
                future.set_exception(_died("every worker process has ended"))
                return future
            task = self._queue.add(call, args, first)
            idle = next((p for p in self._processes if p.alive and p.task is None), None)
            given = self._give(idle) if idle is not None else None
        if idle is not None and given is not None:
            self._send(idle, given)
        return task.future

    def _give(self, process: _Process) -> Optional[_Task]:
        """The next task for an idle ``process``, marked as its own. Holds the queue's lock."""
        task = self._queue.take()
        process.task = task
        return task

    def _send(self, process: _Process, task: _Task) -> None:
        try:
            data = pickle.dumps((task.call, task.args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # a programming error: report it on the task, keep the worker
            self._finish(process, task, False, (error, None))
            return
        with contextlib.suppress(OSError):  # the worker died: its reader sees the pipe's end, fails the task
            _write_all(process.tasks, _LENGTH.pack(len(data)) + data)

    def _read(self, process: _Process) -> None:
        while True:
            reply = _receive(process.results)
            with self._queue.lock:
                task = process.task
            if reply is None:
                self._ended(process, task)
                return
            ok, value = reply
            assert task is not None
            self._finish(process, task, ok, value)

    def _finish(self, process: _Process, task: _Task, ok: bool, value: Any) -> None:
        with self._queue.lock:
            process.task = None
            self._queue.ended()
            following = self._give(process)
        if following is not None:  # keep the worker busy before waking whoever waits on the result
            self._send(process, following)
        if ok:
            task.future.set_result(value)
        else:
            error, cause = value
            error.__cause__ = cause
            task.future.set_exception(error)

    def _ended(self, process: _Process, task: Optional[_Task]) -> None:
        """The worker's pipe closed: at shutdown, or because it died (then its task and, if it was the last,
        every waiting one fail)."""
        status = _reap(process.pid)
        with self._queue.lock:
            process.alive = False
            process.task = None
            orphans: list[_Task] = []
            if task is not None:
                self._queue.ended()
            if not any(p.alive for p in self._processes):
                orphans = [t for t in self._queue.waiting if t.future.set_running_or_notify_cancel()]
                self._queue.waiting.clear()
                self._queue.lock.notify_all()
        why = f"a worker process ended unexpectedly ({status})"
        if task is not None:
            task.future.set_exception(_died(why))
        for orphan in orphans:
            orphan.future.set_exception(_died(why))

    def shutdown(self, *, cancel: bool = False) -> None:
        with self._queue.lock:
            if cancel:
                self._queue.drop_waiting()
            self._queue.closed = True
        self._queue.wait_idle()
        for process in self._processes:
            os.close(process.tasks)  # the worker reads the end of its pipe and exits
        for process in self._processes:
            if process.reader is not None:
                process.reader.join()
            else:
                _reap(process.pid)
            os.close(process.results)
        self._processes = []


def _died(why: str) -> InstallError:
    return InstallError(why, hint="run the command again; if it happens again, check the kernel log "
                        "(dmesg) for an out-of-memory kill and report it")


def _reap(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> Optional[bytes]:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int) -> Optional[Any]:
    header = _read_exactly(fd, _LENGTH.size)
    if header is None:
        return None
    data = _read_exactly(fd, _LENGTH.unpack(header)[0])
    return None if data is None else pickle.loads(data)


def _serve(tasks: int, results: int) -> NoReturn:  # pragma: no cover - runs in the forked child
    code = 0
    try:
        # The child must not hold the parent's terminal or output pipes (a caller reading lading's output
        # to its end would wait for it), nor its sockets and locks: only its two pipes stay open.
        _close_all_but(tasks, results)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it cancels the rest
        while True:
            message = _receive(tasks)
            if message is None:
                break
            call, args = message
            try:
                reply: tuple[bool, Any] = (True, call(*args))
            except BaseException as error:
                reply = (False, _portable(error))
            try:
                data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:
                data = pickle.dumps((False, _portable(error)), protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(results, _LENGTH.pack(len(data)) + data)
    except BaseException:
        code = 1
    os._exit(code)


def _close_all_but(*keep: int) -> None:  # pragma: no cover - runs in the forked child
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = list(range(3, 4096))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed already
                os.close(fd)


def _portable(error: BaseException) -> tuple[BaseException, Optional[BaseException]]:
    """``error`` and its cause as they can cross the pipe. A lading error and an interruption (a task stopped
    by KeyboardInterrupt is stopped in the parent too) come as themselves; anything else is a bug, named with
    the place in the worker where it happened."""
    cause = error.__cause__
    if isinstance(error, Exception) and not isinstance(error, LadingError):
        return WorkerBug.of(error), None
    try:
        pickle.loads(pickle.dumps((error, cause), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return WorkerBug.of(error), None
    return error, cause


class WorkerBug(Exception):
    """An unexpected exception in a worker process, carrying where it happened (the traceback stays there)."""

    def __init__(self, text: str, where: str) -> None:
        super().__init__(text, where)
        self.text = text
        self.where = where

    def __str__(self) -> str:
        return self.text

    @classmethod
    def of(cls, error: BaseException) -> WorkerBug:
        import traceback

        frames = traceback.extract_tb(error.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        return cls(f"{type(error).__name__}: {error}", where)

