"""Hardening, faults: a misbehaving HTTP server, a full disk and four installs sharing one cache.

Every fault ends one of two ways: ``lading install`` succeeds after its retries, or it exits 1 with one clear
paragraph (no traceback) and the venv it was upgrading is exactly as it was (file tree compared before and
after). Timeouts and retries come from ``LADING_HTTP_TIMEOUT`` / ``LADING_HTTP_RETRIES`` so a stall costs a
second, not thirty.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

from lading.cli.main import main
from tests.unit.test_install_cli import Published, check_record, installed, pylock_text, snapshot
from tests.wheelmaker import make_wheel

ROOT = Path(__file__).resolve().parents[2]

# --- a server that misbehaves on purpose -----------------------------------------------------------------

#: What one request to a file gets: "ok", "reset" (RST after half the body), "stall" (half the body, then
#: silence past the client's timeout), "truncate" (half the body, then a clean close), "503", "429" (with
#: Retry-After: 1), "longer" (Content-Length 100 more than the body), "shorter" (100 less than the body).
FAULTS = ("ok", "reset", "stall", "truncate", "503", "429", "longer", "shorter")
STALL = 2.5  # seconds: longer than LADING_HTTP_TIMEOUT below


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection the test broke on purpose is not news


class FaultServer:
    """Serves files from ``root``; a file with a script answers its requests with the script's faults in
    turn (the last one repeats)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scripts: dict[str, list[str]] = {}
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, filename: str, faults: Sequence[str]) -> None:
        assert all(f in FAULTS for f in faults)
        with self._lock:
            self.scripts["/" + filename] = list(faults)

    def next_fault(self, path: str) -> str:
        with self._lock:
            self.seen.append(path)
            queue = self.scripts.get(path)
            if not queue:
                return "ok"
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                target = owner.root / path.lstrip("/")
                fault = owner.next_fault(path)
                if not target.is_file():
                    self._status(404)
                    return
                if fault in ("503", "429"):
                    self._status(int(fault), {"Retry-After": "1"} if fault == "429" else {})
                    return
                data = target.read_bytes()
                length = {"longer": len(data) + 100, "shorter": len(data) - 100}.get(fault, len(data))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(length))
                self.end_headers()
                half = data[: len(data) // 2]
                if fault == "ok" or fault == "shorter":
                    self.wfile.write(data)
                elif fault == "longer":
                    self.wfile.write(data)
                    self._hang_up()
                elif fault == "truncate":
                    self.wfile.write(half)
                    self._hang_up()
                elif fault == "reset":
                    self.wfile.write(half)
                    self.wfile.flush()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self._hang_up()
                elif fault == "stall":
                    self.wfile.write(half)
                    self.wfile.flush()
                    time.sleep(STALL)
                    self._hang_up()

            def _status(self, code: int, headers: Optional[dict[str, str]] = None) -> None:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _hang_up(self) -> None:
                self.close_connection = True
                try:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.connection.close()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[FaultServer]:
    root = tmp_path / "served"
    root.mkdir()
    server = FaultServer(root)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                 "LADING_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("LADING_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("LADING_HTTP_RETRIES", "2")


def publish(server: FaultServer, build: Path, name: str, version: str, blob: int = 40_000,
            modules: int = 3) -> Published:
    rng = random.Random(f"{name}-{version}")
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n".encode(),
             f"{name}/blob.bin": rng.randbytes(blob)}
    files.update({f"{name}/m{i}.py": f"X = {i}\n".encode() for i in range(modules)})
    wheel = make_wheel(build / f"{name}-{version}", name, version, files)
    served = server.root / wheel.name
    served.write_bytes(wheel.read_bytes())
    data = served.read_bytes()
    return Published(name, version, wheel.name, f"{server.url}/{wheel.name}", hashlib.sha256(data).hexdigest(),
                     len(data), served)


def write_lock(where: Path, release: Sequence[Published]) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    lock = where / "pylock.toml"
    lock.write_text(pylock_text([{"name": p.name, "version": p.version, "files": (p,)} for p in release]))
    return lock


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def lading(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def assert_clear_failure(ran: Ran) -> None:
    """Exit 1, one ``error:`` paragraph with a hint, no traceback and no bug report."""
    assert ran.code == 1, (ran.code, ran.err)
    assert "Traceback" not in ran.err and "lading bug" not in ran.err, ran.err
    assert ran.err.lstrip().startswith("error:"), ran.err
    assert "\n\n" not in ran.err.strip(), ran.err
    assert len(ran.err) < 3000, ran.err


def matches(venv: Path, release: Sequence[Published]) -> None:
    assert installed(venv) == {p.name: p.version for p in release}
    for p in release:
        check_record(venv, p.name)


def cache_verifies(cache: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lading", "cache", "verify", "--cache-dir", str(cache)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# --- 1. HTTP faults ----------------------------------------------------------------------------------------

#: scenario -> (faults the upgraded wheel's URL answers in turn, whether the install must succeed)
SCENARIOS: dict[str, tuple[tuple[str, ...], bool]] = {
    "reset-then-ok": (("reset", "ok"), True),
    "reset-always": (("reset",), False),
    "stall-then-ok": (("stall", "ok"), True),
    "stall-always": (("stall",), False),
    "truncated-then-ok": (("truncate", "ok"), True),
    "truncated-always": (("truncate",), False),
    "503-then-ok": (("503", "503", "ok"), True),
    "503-always": (("503",), False),
    "429-retry-after-then-ok": (("429", "ok"), True),
    "content-length-larger-then-ok": (("longer", "ok"), True),
    "content-length-larger-always": (("longer",), False),
    "content-length-smaller-always": (("shorter",), False),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_http_faults_end_in_success_after_retries_or_a_clear_error_and_an_unchanged_venv(
    faulty: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str
) -> None:
    faults, succeeds = SCENARIOS[scenario]
    build = tmp_path / "build"
    old = [publish(faulty, build, "alpha", "1.0"), publish(faulty, build, "beta", "1.0")]
    new = [publish(faulty, build, "alpha", "2.0"), publish(faulty, build, "beta", "2.0")]
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    first = lading(capsys, "install", str(write_lock(tmp_path / "old", old)), "--venv", str(venv),
                   "--cache-dir", str(cache), "-q")
    assert first.code == 0, first.err
    before = snapshot(venv)
    faulty.script(new[1].filename, faults)
    started = time.monotonic()
    ran = lading(capsys, "install", str(write_lock(tmp_path / "new", new)), "--venv", str(venv),
                 "--cache-dir", str(cache), "-q")
    elapsed = time.monotonic() - started
    requests = faulty.seen.count("/" + new[1].filename)
    if succeeds:
        assert ran.code == 0, ran.err
        assert "Traceback" not in ran.err
        matches(venv, new)
        assert requests >= 2, "the fault was retried"
        if scenario.startswith("429"):
            assert elapsed >= 0.9, "Retry-After was honoured"
    else:
        assert_clear_failure(ran)
        assert "beta" in ran.err and new[1].filename in ran.err
        assert snapshot(venv) == before, "a failed upgrade leaves the venv exactly as it was"
        matches(venv, old)
    assert elapsed < 20
    cache_verifies(cache)
    # nothing half-downloaded stays in the cache under the upgraded wheel's hash unless it verified
    kept = list(cache.glob(f"archives-v1/*/{new[1].sha256}/{new[1].filename}"))
    if kept:
        assert hashlib.sha256(kept[0].read_bytes()).hexdigest() == new[1].sha256


def test_http_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lading.index.http import HttpClient

    client = HttpClient(environ={"LADING_HTTP_TIMEOUT": "1.5", "LADING_HTTP_RETRIES": "0"})
    assert client.retries == 0
    assert client._pool.connection_pool_kw["timeout"].read_timeout == 1.5
    junk = HttpClient(environ={"LADING_HTTP_TIMEOUT": "soon", "LADING_HTTP_RETRIES": "-3"})
    assert junk.retries == 5 and junk._pool.connection_pool_kw["timeout"].read_timeout == 30.0


# --- 2. disk full ------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (root only; skipped where mounting is not allowed)."""
    where = tmp_path / "small"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.mark.parametrize("full", ["cache", "venv"])
def test_a_full_disk_is_a_clear_error_and_the_environment_is_the_old_one(
    faulty: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], small_disk: Path, full: str
) -> None:
    build = tmp_path / "build"
    old = [publish(faulty, build, "alpha", "1.0", blob=20_000)]
    # random bytes do not compress: together these need more than the 2 MB the small disk has
    new = [publish(faulty, build, "alpha", "2.0", blob=900_000), publish(faulty, build, "beta", "2.0", blob=900_000),
           publish(faulty, build, "gamma", "2.0", blob=900_000)]
    venv = small_disk / "venv" if full == "venv" else tmp_path / "venv"
    cache = small_disk / "cache" if full == "cache" else tmp_path / "cache"
    first = lading(capsys, "install", str(write_lock(tmp_path / "old", old)), "--venv", str(venv),
                   "--cache-dir", str(cache), "-q", "--no-compile")
    assert first.code == 0, first.err
    before = snapshot(venv)
    ran = lading(capsys, "install", str(write_lock(tmp_path / "new", new)), "--venv", str(venv),
                 "--cache-dir", str(cache), "-q", "--no-compile")
    assert_clear_failure(ran)
    assert "disk full" in ran.err.lower(), ran.err
    assert str(small_disk) in ran.err, "the message names the full directory"
    assert "free" in ran.err.lower(), "and says what to do next"
    after = snapshot(venv)
    if after != before:  # the new environment is acceptable, a mixture is not
        matches(venv, new)
    else:
        matches(venv, old)
    cache_verifies(cache)


# --- 3. four processes, one cache ------------------------------------------------------------------------


def test_four_processes_sharing_one_cache_install_overlapping_locks_correctly(
    faulty: FaultServer, tmp_path: Path
) -> None:
    build = tmp_path / "build"
    pool = {name: publish(faulty, build, name, "1.0", blob=150_000, modules=20)
            for name in ("p0", "p1", "p2", "p3", "p4", "p5")}
    # each lock shares packages with the others: p0 is in all four, the rest overlap in pairs
    picks = [("p0", "p1", "p2"), ("p0", "p2", "p3"), ("p0", "p3", "p4"), ("p0", "p4", "p5", "p1")]
    locks = [write_lock(tmp_path / f"lock{i}", [pool[n] for n in names]) for i, names in enumerate(picks)]
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "LADING_")) and k != "VIRTUAL_ENV"}
    env.update(PIP_CONFIG_FILE=os.devnull, PYTHONPATH=str(ROOT / "src"))
    for attempt in ("cold", "warm"):
        venvs = [tmp_path / f"venv-{attempt}-{i}" for i in range(4)]
        processes = [subprocess.Popen([sys.executable, "-m", "lading", "install", str(lock), "--venv", str(venv),
                                       "--cache-dir", str(cache), "-q"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env)
                     for lock, venv in zip(locks, venvs)]
        for process in processes:
            _out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
        for names, venv in zip(picks, venvs):
            matches(venv, [pool[n] for n in names])
    cache_verifies(cache)
    for p in pool.values():
        assert len(list(cache.glob(f"archives-v1/*/{p.sha256}/{p.filename}"))) == 1
        assert faulty.seen.count("/" + p.filename) == 1, "each file was downloaded once for all four"
