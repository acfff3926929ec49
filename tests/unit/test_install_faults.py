"""Faults: ``lading install`` killed with SIGKILL at many moments and run again, and two installs sharing one
cache at once. After every re-run the environment equals the lock (names, versions, every RECORD file present
with its hash) and ``lading cache verify`` passes.

The index is a throttled HTTP server on 127.0.0.1 so downloads take a measurable time; the kill moments are
spread over the duration of one uninterrupted install measured first, so they land in venv creation,
download, unpack, compile and link whatever the machine's speed.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_install_cli import Published, check_record, installed, pylock_text
from tests.wheelmaker import make_wheel

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 16 * 1024
PAUSE = 0.01  # per chunk: about 1.6 MB/s per connection


class Throttled:
    """Serves files from a directory in small chunks with pauses (a slow mirror)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        root = self.root

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = root / self.path.lstrip("/").split("?")[0]
                if not target.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = target.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for start in range(0, len(data), CHUNK):
                        self.wfile.write(data[start:start + CHUNK])
                        self.wfile.flush()
                        time.sleep(PAUSE)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Throttled]:
    root = tmp_path / "served"
    root.mkdir()
    server = Throttled(root)
    try:
        yield server
    finally:
        server.close()


def module_source(i: int) -> bytes:
    body = "".join(f"def f{j}(x):\n    return [x * {j} for _ in range({j})]\n\n" for j in range(30))
    return f'"""module {i}"""\n{body}VALUE = {i}\n'.encode()


def publish_release(server: Throttled, build: Path, version: str, count: int = 6, modules: int = 40,
                    blob: int = 120_000) -> list[Published]:
    """``count`` wheels of version ``version``: ``modules`` modules each (bytecode to compile) and a blob of
    random bytes (to download)."""
    rng = random.Random(f"{version}")
    out = []
    for n in range(count):
        name = f"pkg{n}"
        files = {f"{name}/__init__.py": f"__version__ = {version!r}\n".encode()}
        files.update({f"{name}/m{i}.py": module_source(i) for i in range(modules)})
        files[f"{name}/blob.bin"] = rng.randbytes(blob)
        wheel = make_wheel(build / version, name, version, files,
                           entry_points={"console_scripts": {f"{name}-cli": f"{name}:main"}})
        served = server.root / wheel.name
        served.write_bytes(wheel.read_bytes())
        data = served.read_bytes()
        out.append(Published(name, version, wheel.name, f"{server.url}/{wheel.name}",
                             hashlib.sha256(data).hexdigest(), len(data), served))
    return out


def write_lock(where: Path, release: Sequence[Published]) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    lock = where / "pylock.toml"
    lock.write_text(pylock_text([{"name": p.name, "version": p.version, "files": (p,)} for p in release]))
    return lock


def lading_command(lock: Path, venv: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lading", "install", str(lock), "--venv", str(venv), "--cache-dir", str(cache),
            "-q", *extra]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "LADING_")) and k != "VIRTUAL_ENV"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def run_to_end(command: Sequence[str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=120)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def kill_after(command: Sequence[str], delay: float) -> bool:
    """Start the install and SIGKILL it (and its workers) after ``delay`` s; True if it was still running."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment(),
                               start_new_session=True)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only lading and its compile workers
        process.wait(timeout=30)
        return True


def check_matches_lock(venv: Path, release: Sequence[Published]) -> None:
    assert installed(venv) == {p.name: p.version for p in release}
    for p in release:
        rows = check_record(venv, p.name)
        assert any(r.endswith(f"{p.name}/blob.bin") for r in rows)
        assert any(r.endswith(".pyc") for r in rows)
        assert f"../../../bin/{p.name}-cli" in rows


def check_cache(cache: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lading", "cache", "verify", "--cache-dir", str(cache)],
                          capture_output=True, text=True, env=environment(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_killed_installs_are_repaired_by_running_again(slow_server: Throttled, tmp_path: Path) -> None:
    old = publish_release(slow_server, tmp_path / "build", "1.0")
    new = publish_release(slow_server, tmp_path / "build", "2.0")
    old_lock, new_lock = write_lock(tmp_path / "old", old), write_lock(tmp_path / "new", new)
    # one uninterrupted cold install measures how long an install takes here
    duration = run_to_end(lading_command(new_lock, tmp_path / "reference", tmp_path / "reference-cache"))
    check_matches_lock(tmp_path / "reference", new)
    killed = 0
    fractions = (0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95)
    for n, fraction in enumerate(fractions):
        venv, cache = tmp_path / f"venv{n}", tmp_path / f"cache{n}"
        upgrade = n % 2 == 1
        if upgrade:
            # the kill lands in an upgrade: old versions being removed while new ones are linked
            run_to_end(lading_command(old_lock, venv, cache))
            check_matches_lock(venv, old)
        command = lading_command(new_lock, venv, cache)
        killed += kill_after(command, duration * fraction)
        run_to_end(command)
        check_matches_lock(venv, new)
        check_cache(cache)
    assert killed >= len(fractions) - 2, "the kills should land while lading runs"


def partially_installed(venv: Path, release: Sequence[Published]) -> bool:
    """Some package's files are in place without its RECORD, or only some RECORDs are written."""
    site = list(venv.glob("lib/python3.*/site-packages"))
    if not site:
        return False
    records = sum(1 for p in release if list(site[0].glob(f"{p.name}-*.dist-info/RECORD")))
    files = sum(1 for p in release if (site[0] / p.name).exists())
    return 0 < records < len(release) or files > records


def test_kill_while_linking_from_a_warm_cache(slow_server: Throttled, tmp_path: Path) -> None:
    """Warm cache (unpacked, compiled): an install is mostly linking; kills land in it, mid-package."""
    release = publish_release(slow_server, tmp_path / "build", "1.0", count=10, modules=150, blob=1000)
    lock = write_lock(tmp_path / "lock", release)
    cache = tmp_path / "cache"
    run_to_end(lading_command(lock, tmp_path / "warm", cache))
    duration = run_to_end(lading_command(lock, tmp_path / "measure", cache))
    partial = 0
    for n, fraction in enumerate((0.45, 0.55, 0.65, 0.72, 0.8, 0.87, 0.94)):
        venv = tmp_path / f"venv{n}"
        run_to_end(lading_command(lock, venv, cache))
        # reinstalling everything: each package is removed by its RECORD, then linked again
        kill_after(lading_command(lock, venv, cache, *[f"--reinstall=pkg{i}" for i in range(10)]),
                   duration * fraction)
        partial += partially_installed(venv, release)
        run_to_end(lading_command(lock, venv, cache))  # the same command as the first install
        check_matches_lock(venv, release)
    check_cache(cache)
    assert partial >= 1, "no kill landed while packages were being linked"


def test_two_processes_sharing_one_cache_both_install_correctly(slow_server: Throttled, tmp_path: Path) -> None:
    release = publish_release(slow_server, tmp_path / "build", "1.0")
    lock = write_lock(tmp_path / "lock", release)
    cache = tmp_path / "cache"
    for attempt in range(2):  # cold, then both at once again against the warm cache
        venvs = [tmp_path / f"venv-{attempt}-{i}" for i in range(2)]
        processes = [subprocess.Popen(lading_command(lock, venv, cache), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=environment()) for venv in venvs]
        for process in processes:
            _out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
        for venv in venvs:
            check_matches_lock(venv, release)
    check_cache(cache)
    # every archive was stored once, under its hash
    for p in release:
        assert len(list(cache.glob(f"archives-v1/*/{p.sha256}/{p.filename}"))) == 1


# --- interruptions at exact points (in-process, deterministic) -----------------------------------------------


def interrupted_then_rerun(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: Throttled, owner: Any, attribute: str, hook: Any
) -> None:
    """Install, then re-install everything with ``owner.attribute`` patched to stop the run (as a kill would) right
    after it ran, then run the plain command again: the environment must equal the lock."""
    from lading.cli.main import main

    release = publish_release(server, tmp_path / "build", "1.0", count=3, modules=3, blob=100)
    lock = write_lock(tmp_path / "lock", release)
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    for name in ("VIRTUAL_ENV", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    command = ["install", str(lock), "--venv", str(venv), "--cache-dir", str(cache), "-q"]
    assert main(command) == 0
    with monkeypatch.context() as patched:
        original = getattr(owner, attribute)
        patched.setattr(owner, attribute, hook(original))
        assert main([*command, *[f"--reinstall={p.name}" for p in release]]) == 130  # interrupted
    assert main(command) == 0
    check_matches_lock(venv, release)


def test_interrupted_uninstall_of_a_reinstall_is_redone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slow_server: Throttled
) -> None:
    """Stopped after a distribution's files were removed but before its dist-info: the next run must not
    take it for installed."""

    def hook(original: Any) -> Any:
        def stop(*args: Any, **kwargs: Any) -> Any:
            original(*args, **kwargs)
            raise KeyboardInterrupt

        return stop

    from lading.install import uninstall

    interrupted_then_rerun(monkeypatch, tmp_path, slow_server, uninstall, "_remove_bytecode", hook)


def test_interrupted_install_after_the_metadata_is_redone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slow_server: Throttled
) -> None:
    """Stopped once a distribution's METADATA is in place but before its RECORD: the next run reinstalls it
    (it must know the half-made dist-info as lading's own)."""

    def hook(original: Any) -> Any:
        def stop(self: Any, pairs: Any, jobs: int = 1) -> Any:
            original(self, pairs, jobs)
            if any(str(dst).endswith(".dist-info/METADATA") for _src, dst in pairs):
                raise KeyboardInterrupt

        return stop

    from lading.install.link import Linker

    interrupted_then_rerun(monkeypatch, tmp_path, slow_server, Linker, "link_all", hook)
