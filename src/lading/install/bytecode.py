"""Compiling the ``.py`` files of unpacked wheel trees in the cache, once per interpreter cache tag.

The pyc files live inside the cache tree (``pkg/__pycache__/mod.cpython-311.pyc``) and are linked
into every environment with the sources, so a warm install with bytecode is only links. They use
timestamp invalidation: the header records the source's mtime and size, which hardlinks share and
copies keep (``copy2``), so Python accepts them on first import instead of rewriting them.

Compilation runs in long-lived worker processes of the *target* interpreter (its magic number,
its cache tag, its compiler), fed batches of paths over a pipe. ``py_compile`` writes each pyc to a
temporary name and renames it into place, so a reader never sees half a file. A tree gets its
``.lading-pyc-<tag>`` marker only once every file was tried; files that do not compile (Python 2
syntax in test data, templates named ``.py``) are skipped like pip and uv skip them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

from lading.install import InstallError
from lading.target import Interpreter

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MARKER_PREFIX = ".lading-pyc-"
_BATCH_MAX = 64

# Runs inside the target interpreter (3.8+, stdlib only). Request: b"<size>\n" + size bytes of
# NUL-separated (source, display name) pairs. Answer: one JSON line, a list with per file
# 0 (written), 1 (does not compile: skipped) or an error text (could not read/write: fatal).
WORKER = r"""
import importlib.util, json, os, py_compile, sys, warnings
# SyntaxWarnings (invalid escapes...) are the package author's business, as with pip and uv.
warnings.simplefilter("ignore")
def main():
    read = sys.stdin.buffer
    write = sys.stdout
    mode = py_compile.PycInvalidationMode.TIMESTAMP
    while True:
        header = read.readline()
        if not header:
            return
        fields = read.read(int(header)).split(b"\0")
        results = []
        for i in range(0, len(fields) - 1, 2):
            source = os.fsdecode(fields[i])
            try:
                py_compile.compile(
                    source,
                    cfile=importlib.util.cache_from_source(source),
                    dfile=os.fsdecode(fields[i + 1]),
                    doraise=True,
                    invalidation_mode=mode,
                )
                results.append(0)
            except py_compile.PyCompileError:
                results.append(1)
            except (OSError, ValueError) as exc:
                results.append("%s: %s" % (type(exc).__name__, exc))
        write.write(json.dumps(results) + "\n")
        write.flush()
main()
"""


@dataclass(frozen=True)
class CompileJob:
    """One unpacked wheel tree in the cache and its ``.py`` files, relative, ``/``-separated."""

    root: Path
    files: Sequence[str]


def marker(root: Path, cache_tag: str) -> Path:
    return root / f"{MARKER_PREFIX}{cache_tag}"


def is_compiled(root: Path, cache_tag: str) -> bool:
    return marker(root, cache_tag).exists()


@contextlib.contextmanager
def _tree_lock(root: Path, *, blocking: bool = True) -> Iterator[bool]:
    """The cache's per-tree lock (``<tree>.lock``); yields False when not blocking and it is taken.

    Callers must not already hold this tree's lock (flock locks of two open files conflict even
    within one process).
    """
    if fcntl is None:  # pragma: no cover - no flock: one lading at a time
        yield True
        return
    fd = os.open(f"{root}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def compile_trees(
    trees: Sequence[CompileJob], interpreter: Interpreter, *, workers: Optional[int] = None
) -> None:
    """Give every tree the pyc files of INTERPRETER's cache tag, then its marker.

    ``workers``: processes of INTERPRETER to compile with (default: one per CPU); fewer are started
    for small jobs, none when every tree is already marked.

    Trees already marked cost one ``stat``. Safe with other lading processes compiling the same
    trees: each tree is compiled under its lock, re-checked once the lock is held.
    """
    tag = interpreter.cache_tag
    if tag is None:  # the interpreter does not use bytecode caches
        return
    pending = [job for job in trees if not is_compiled(job.root, tag)]
    if not pending:
        return
    with _Pool(interpreter.executable, max(1, workers or os.cpu_count() or 1)) as pool:
        while pending:
            with contextlib.ExitStack() as held:
                taken: list[CompileJob] = []
                waiting: list[CompileJob] = []
                for job in pending:
                    if held.enter_context(_tree_lock(job.root, blocking=False)):
                        taken.append(job)
                    else:
                        waiting.append(job)
                if not taken:
                    # Everything is being compiled by someone else: wait for one tree, holding
                    # no other lock meanwhile (no lock-order deadlock between processes).
                    job = waiting.pop(0)
                    held.enter_context(_tree_lock(job.root))
                    taken.append(job)
                _compile_locked([job for job in taken if not is_compiled(job.root, tag)], tag, pool)
            pending = [job for job in waiting if not is_compiled(job.root, tag)]


def _compile_locked(jobs: Sequence[CompileJob], tag: str, pool: _Pool) -> None:
    requests: list[tuple[str, str]] = []
    for job in jobs:
        for name in job.files:
            if name.endswith(".py"):
                requests.append((os.path.join(job.root, *name.split("/")), name))
    if requests:
        pool.run(requests)
    for job in jobs:
        _mark(job.root, tag)


def _mark(root: Path, tag: str) -> None:
    path = marker(root, tag)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(b"")
    os.replace(temporary, path)


class _Pool:
    """Worker processes of one interpreter, started on first use, fed by one thread each."""

    def __init__(self, python: Path, size: int) -> None:
        self._python = python
        self._size = size
        self._processes: list[subprocess.Popen[bytes]] = []
        self._errors: dict[int, int] = {}  # pid -> fd of the file its stderr goes to
        self._cwd: Optional[tempfile.TemporaryDirectory[str]] = None

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        for fd in self._errors.values():
            os.close(fd)
        self._errors.clear()
        if self._cwd is not None:
            self._cwd.cleanup()
            self._cwd = None

    def _empty_dir(self) -> str:
        if self._cwd is None:
            self._cwd = tempfile.TemporaryDirectory(prefix="lading-compile-")
        return self._cwd.name

    def _start(self, wanted: int) -> list[subprocess.Popen[bytes]]:
        while len(self._processes) < wanted:
            try:
                # Isolated by hand rather than with -I, which would also ignore PYTHONHASHSEED: no
                # PYTHON* variables but a fixed hash seed (set and frozenset constants are marshalled in
                # hash order, so a random seed makes pycs differ from build to build), -s: no user site,
                # -S: no .pth code, -B: the worker's own imports write nothing (py_compile still writes
                # the pycs it is asked for), an empty working directory: nothing to import from it.
                # stderr goes to a file, not a pipe nobody reads while compiling (it could fill).
                environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
                environ["PYTHONHASHSEED"] = "0"
                with tempfile.TemporaryFile() as errors:
                    process = subprocess.Popen(
                        [str(self._python), "-s", "-S", "-B", "-c", WORKER],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=errors,
                        env=environ,
                        cwd=self._empty_dir(),
                    )
                    self._errors[process.pid] = os.dup(errors.fileno())
            except OSError as exc:
                raise InstallError(
                    f"cannot start {self._python} to compile bytecode: {exc.strerror or exc}",
                    hint="pass --no-compile to install without bytecode",
                ) from exc
            self._processes.append(process)
        return self._processes[:wanted]

    def run(self, requests: Sequence[tuple[str, str]]) -> None:
        # Small batches keep both workers busy to the end; big ones cut pipe round trips.
        wanted = min(self._size, max(1, len(requests) // 8))
        processes = self._start(wanted)
        size = max(1, min(_BATCH_MAX, len(requests) // (wanted * 4)))
        batches = [requests[i : i + size] for i in range(0, len(requests), size)]
        lock = threading.Lock()
        failures: list[str] = []

        def feed(process: subprocess.Popen[bytes]) -> None:
            while True:
                with lock:
                    if not batches or failures:
                        return
                    batch = batches.pop()
                problem = _exchange(process, batch, self._errors.get(process.pid))
                if problem:
                    with lock:
                        failures.append(problem)
                    return

        threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in processes[1:]]
        for thread in threads:
            thread.start()
        feed(processes[0])
        for thread in threads:
            thread.join()
        if failures:
            raise InstallError(
                f"compiling bytecode with {self._python} failed: {failures[0]}",
                hint="check free space and permissions of the cache directory, or pass --no-compile",
            )


def _exchange(
    process: subprocess.Popen[bytes], batch: Sequence[tuple[str, str]], errors: Optional[int]
) -> Optional[str]:
    """Send one batch to a worker; an error text, or None when every file was written or skipped."""
    payload = b"".join(os.fsencode(part) + b"\0" for pair in batch for part in pair)
    stdin: Optional[IO[bytes]] = process.stdin
    stdout: Optional[IO[bytes]] = process.stdout
    assert stdin is not None and stdout is not None
    try:
        stdin.write(b"%d\n" % len(payload) + payload)
        stdin.flush()
        line = stdout.readline()
    except OSError as exc:
        line = b""
        reason = str(exc)
    else:
        reason = ""
    if not line:
        lines = _tail(errors).strip().splitlines()
        return f"worker stopped: {lines[-1] if lines else reason or 'no answer'}"
    try:
        results = json.loads(line)
    except ValueError:
        return f"worker answered {line[:80]!r}"
    if not isinstance(results, list) or len(results) != len(batch):
        return f"worker answered {line[:80]!r}"
    for (source, _), result in zip(batch, results):
        if isinstance(result, str):
            return f"{source}: {result}"
    return None


def _tail(fd: Optional[int]) -> str:
    if fd is None:
        return ""
    try:
        size = os.fstat(fd).st_size
        return os.pread(fd, 4096, max(0, size - 4096)).decode("utf-8", "replace")
    except OSError:
        return ""
