"""lading.fetch: parallel, hash-verified downloads into the cache, offline and find-links."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

from lading.cache import ARCHIVES, Cache
from lading.errors import LadingError
from lading.fetch import (
    BatchFailedError,
    Download,
    FetchError,
    HashMismatchError,
    OfflineMissingError,
    fetch_all,
)
from lading.index.http import HttpClient
from tests.unit._httpserver import LocalServer, Reply, serving

WHL = "flask-3.1.3-py3-none-any.whl"
ROOT = Path(__file__).resolve().parents[2]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def client(retries: int = 2) -> HttpClient:
    return HttpClient(retries=retries, backoff_factor=0.0, timeout=5.0, environ={})


def dl(base: str, filename: str, data: bytes, *, label: str = "", size: Optional[int] = -1,
       **hashes: str) -> Download:
    return Download.of(
        filename, hashes or {"sha256": sha(data)}, url=f"{base}/files/{filename}",
        size=len(data) if size == -1 else size, label=label or filename.split("-")[0] + " 1.0",
    )


def leftovers(cache: Cache) -> list[Path]:
    """Temp names anywhere in the archives bucket."""
    root = cache.root / ARCHIVES
    return [p for p in root.rglob(".tmp-*")] if root.exists() else []


def entries(cache: Cache) -> list[Path]:
    root = cache.root / ARCHIVES
    return [p for p in root.glob("*/*") if p.is_dir() and not p.name.startswith(".")] if root.exists() else []


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


# A server for what LocalServer cannot do: slow answers and bodies shorter than announced.


@dataclass
class Act:
    body: bytes
    delay: float = 0.0
    cut_at: Optional[int] = None  # send Content-Length of the whole body, then only this many bytes


class Scripted:
    def __init__(self) -> None:
        self.acts: dict[str, list[Act]] = {}
        self.hits: dict[str, int] = {}
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with owner._lock:
                    owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                    queue = owner.acts.get(self.path, [Act(b"", cut_at=None)])
                    act = queue.pop(0) if len(queue) > 1 else queue[0]
                    owner.active += 1
                    owner.peak = max(owner.peak, owner.active)
                try:
                    time.sleep(act.delay)
                    if self.path not in owner.acts:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(act.body)))
                    if act.cut_at is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(act.body if act.cut_at is None else act.body[: act.cut_at])
                    if act.cut_at is not None:
                        self.wfile.flush()
                        self.close_connection = True
                finally:
                    with owner._lock:
                        owner.active -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    running = Scripted()
    try:
        yield running
    finally:
        running.close()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def started(self, total_files: int, total_bytes: int) -> None:
        self.calls.append(("started", (total_files, total_bytes)))

    def advanced(self, size: int) -> None:
        self.calls.append(("advanced", size))

    def file_done(self, label: str) -> None:
        self.calls.append(("file_done", label))

    def finished(self) -> None:
        self.calls.append(("finished", None))


# --- downloading ------------------------------------------------------------------------------------


def test_downloads_run_in_parallel_and_land_verified_in_the_cache(scripted: Scripted, cache: Cache) -> None:
    files = {f"pkg{i}-1.0-py3-none-any.whl": bytes([i]) * (1000 + i) for i in range(4)}
    for name, data in files.items():
        scripted.acts[f"/files/{name}"] = [Act(data, delay=0.3)]
    downloads = [dl(scripted.url, name, data) for name, data in files.items()]
    progress = Recorder()
    result = fetch_all(downloads, cache, client(), jobs=4, progress=progress)
    assert scripted.peak >= 2
    for d in downloads:
        assert result[d] == cache.archive(sha(files[d.filename]), d.filename)
        assert result[d].read_bytes() == files[d.filename]
    assert progress.calls[0] == ("started", (4, sum(len(v) for v in files.values())))
    assert sum(v for k, v in progress.calls if k == "advanced") == sum(len(v) for v in files.values())
    assert sorted(v for k, v in progress.calls if k == "file_done") == sorted(d.label for d in downloads)
    assert progress.calls[-1] == ("finished", None)
    assert leftovers(cache) == []


def test_a_cached_file_is_not_downloaded_again(server: LocalServer, cache: Cache) -> None:
    data = b"wheel content"
    server.add(f"/files/{WHL}", data, content_type="application/octet-stream")
    download = dl(server.url, WHL, data)
    first = fetch_all([download], cache, client())[download]
    second = fetch_all([download], cache, client())[download]
    assert first == second
    assert server.hits(f"/files/{WHL}") == 1


def test_hash_mismatch_names_package_url_hashes_sizes_and_caches_nothing(server: LocalServer, cache: Cache) -> None:
    served = b"x" * 12000
    locked = b"y" * 12345
    server.add(f"/files/{WHL}", served, content_type="application/octet-stream")
    url = server.url.replace("http://", "http://alice:s3cret@") + f"/files/{WHL}"
    download = Download.of(WHL, {"sha256": sha(locked)}, url=url, size=len(locked), label="flask 3.1.3")
    with pytest.raises(HashMismatchError) as caught:
        fetch_all([download], cache, client())
    text = str(caught.value)
    assert text.startswith(
        f"package flask 3.1.3: {WHL} from http://alice:***@{server.url[7:]}/files/{WHL}: "
        f"expected sha256 {sha(locked)} (12345 bytes), got {sha(served)} (12000 bytes)"
    )
    assert "s3cret" not in text
    assert "stale mirror" in text or "truncated" in text
    assert "hint:" in text and "Next:" in text
    assert entries(cache) == [] and leftovers(cache) == []


def test_every_given_supported_hash_is_checked(server: LocalServer, cache: Cache) -> None:
    data = b"payload"
    server.add(f"/files/{WHL}", data, content_type="application/octet-stream")
    download = Download.of(WHL, {"sha256": sha(data), "sha512": "0" * 128}, url=f"{server.url}/files/{WHL}")
    with pytest.raises(HashMismatchError, match="expected sha512 0000"):
        fetch_all([download], cache, client())
    good = Download.of(WHL, {"sha256": sha(data), "sha512": hashlib.sha512(data).hexdigest()},
                       url=f"{server.url}/files/{WHL}")
    assert fetch_all([good], cache, client())[good].read_bytes() == data


def test_service_unavailable_is_retried_then_succeeds(server: LocalServer, cache: Cache) -> None:
    data = b"finally"
    server.add_sequence(f"/files/{WHL}", [Reply(503, b"busy"), Reply(503, b"busy"),
                                          Reply(200, data, "application/octet-stream")])
    download = dl(server.url, WHL, data)
    assert fetch_all([download], cache, client(retries=3))[download].read_bytes() == data
    assert server.hits(f"/files/{WHL}") == 3


def test_truncated_body_is_retried_then_succeeds(scripted: Scripted, cache: Cache) -> None:
    data = bytes(range(256)) * 64
    scripted.acts[f"/files/{WHL}"] = [Act(data, cut_at=1000), Act(data)]
    download = dl(scripted.url, WHL, data)
    progress = Recorder()
    path = fetch_all([download], cache, client(), progress=progress)[download]
    assert path.read_bytes() == data
    assert scripted.hits[f"/files/{WHL}"] == 2
    assert sum(v for k, v in progress.calls if k == "advanced") == len(data)  # the restart rewound
    assert leftovers(cache) == []


def test_body_always_truncated_is_reported_after_the_retries(scripted: Scripted, cache: Cache) -> None:
    data = b"z" * 5000
    scripted.acts[f"/files/{WHL}"] = [Act(data, cut_at=100)]
    download = dl(scripted.url, WHL, data, label="flask 3.1.3")
    with pytest.raises(FetchError, match="broke off after 100 of 5000 bytes") as caught:
        fetch_all([download], cache, client(retries=2))
    assert caught.value.package == "flask 3.1.3"
    assert scripted.hits[f"/files/{WHL}"] == 3
    assert entries(cache) == [] and leftovers(cache) == []


def test_missing_file_on_the_index_is_a_clear_error(server: LocalServer, cache: Cache) -> None:
    download = dl(server.url, WHL, b"gone")
    with pytest.raises(FetchError, match="404"):
        fetch_all([download], cache, client())


def test_a_failed_batch_reports_every_failure_and_keeps_what_arrived(server: LocalServer, cache: Cache) -> None:
    good = b"good"
    server.add("/files/good-1.0-py3-none-any.whl", good, content_type="application/octet-stream")
    server.add("/files/bad-1.0-py3-none-any.whl", b"evil", content_type="application/octet-stream")
    downloads = [
        dl(server.url, "good-1.0-py3-none-any.whl", good),
        dl(server.url, "bad-1.0-py3-none-any.whl", b"bad!"),
        dl(server.url, "gone-1.0-py3-none-any.whl", b"gone"),
    ]
    with pytest.raises(BatchFailedError) as caught:
        fetch_all(downloads, cache, client())
    failures = caught.value.failures
    assert len(failures) == 2
    assert {type(f) for f in failures} == {HashMismatchError, FetchError}
    assert "2 of 3 downloads failed" in str(caught.value)
    assert [e.name for e in entries(cache)] == [sha(good)]
    assert leftovers(cache) == []


# --- local sources, find-links, offline ------------------------------------------------------------


def test_local_paths_and_file_urls_are_copied_in_and_hashed(tmp_path: Path, cache: Cache) -> None:
    one = tmp_path / "one-1.0-py3-none-any.whl"
    one.write_bytes(b"one")
    two = tmp_path / "two-1.0.tar.gz"
    two.write_bytes(b"two")
    by_path = Download.of(one.name, {"sha256": sha(b"one")}, path=one)
    by_url = Download.of(two.name, {"sha256": sha(b"two")}, url=two.as_uri())
    result = fetch_all([by_path, by_url], cache, None, offline=True)
    assert result[by_path].read_bytes() == b"one" and result[by_url].read_bytes() == b"two"
    one.write_bytes(b"changed")
    other = Download.of(one.name, {"sha256": sha(b"one2")}, path=one, label="one 1.0")
    with pytest.raises(HashMismatchError, match=r"package one 1\.0"):
        fetch_all([other], cache, None, offline=True)


def test_download_without_sha256_is_cached_under_the_hash_it_has(server: LocalServer, cache: Cache) -> None:
    data = b"unhashed"
    server.add(f"/files/{WHL}", data, content_type="application/octet-stream")
    download = Download.of(WHL, {}, url=f"{server.url}/files/{WHL}")
    assert fetch_all([download], cache, client())[download] == cache.archive(sha(data), WHL)


def test_offline_error_lists_every_missing_file_and_the_next_step(tmp_path: Path, cache: Cache) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    downloads = [
        Download.of("flask-3.1.3-py3-none-any.whl", {"sha256": "a" * 64},
                    url="https://example.invalid/files/flask-3.1.3-py3-none-any.whl", label="flask 3.1.3"),
        Download.of("click-8.1.8-py3-none-any.whl", {"sha256": "b" * 64},
                    url="https://example.invalid/files/click-8.1.8-py3-none-any.whl", label="click 8.1.8"),
    ]
    with pytest.raises(OfflineMissingError) as caught:
        fetch_all(downloads, cache, None, offline=True, find_links=[wheelhouse])
    text = str(caught.value)
    assert "2 files are in neither the cache" in text
    for d in downloads:
        assert d.label in text and d.filename in text
        assert str(cache.archive(d.sha256 or "", d.filename)) in text
        assert str(wheelhouse / d.filename) in text
    assert "run the same install online once" in text and "--find-links" in text
    assert entries(cache) == []


def test_find_links_serves_offline_and_fills_the_cache(tmp_path: Path, cache: Cache) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / WHL).write_bytes(b"from the wheelhouse")
    download = Download.of(WHL, {"sha256": sha(b"from the wheelhouse")},
                           url=f"https://example.invalid/files/{WHL}", label="flask 3.1.3")
    path = fetch_all([download], cache, None, offline=True, find_links=[wheelhouse])[download]
    assert path == cache.archive(sha(b"from the wheelhouse"), WHL)
    (wheelhouse / WHL).unlink()
    assert fetch_all([download], cache, None, offline=True)[download] == path  # now from the cache


def test_find_links_file_with_another_hash_is_refused(tmp_path: Path, cache: Cache) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / WHL).write_bytes(b"impostor")
    download = Download.of(WHL, {"sha256": sha(b"real")}, url=f"https://example.invalid/files/{WHL}",
                           label="flask 3.1.3")
    with pytest.raises(HashMismatchError, match=re.escape(str(wheelhouse / WHL))):
        fetch_all([download], cache, None, offline=True, find_links=[wheelhouse.as_uri()])
    assert entries(cache) == []


# --- several processes -----------------------------------------------------------------------------

_FETCH_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lading.cache import Cache
    from lading.fetch import Download, fetch_all
    from lading.index.http import HttpClient

    cache_dir, url, filename, digest, size = sys.argv[1:6]
    d = Download.of(filename, {"sha256": digest}, url=url, size=int(size), label="big 1.0")
    client = HttpClient(retries=1, backoff_factor=0.0, timeout=20.0, environ={})
    path = fetch_all([d], Cache(Path(cache_dir)), client)[d]
    print(path)
    """
)


def test_two_processes_fetching_one_file_into_one_cache_both_succeed(scripted: Scripted, cache: Cache) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    scripted.acts["/files/big-1.0-py3-none-any.whl"] = [Act(data, delay=0.5)]
    argv = [sys.executable, "-c", _FETCH_SCRIPT, str(cache.root), f"{scripted.url}/files/big-1.0-py3-none-any.whl",
            "big-1.0-py3-none-any.whl", sha(data), str(len(data))]
    env = {"PYTHONPATH": f"{ROOT / 'src'}", "PATH": "/usr/bin:/bin", "HOME": str(cache.root.parent)}
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    for proc, (_out, err) in zip(procs, outs):
        assert proc.returncode == 0, err.decode()
    paths = {out.decode().strip() for out, _ in outs}
    expected = cache.archive(sha(data), "big-1.0-py3-none-any.whl")
    assert paths == {str(expected)}
    assert expected.read_bytes() == data
    assert scripted.hits["/files/big-1.0-py3-none-any.whl"] == 1  # the second waited, then used the entry
    assert cache.verify() == [] and leftovers(cache) == []


def test_download_requires_a_location(cache: Cache) -> None:
    nowhere = Download.of(WHL, {"sha256": "c" * 64}, label="flask 3.1.3")
    with pytest.raises(LadingError, match="no URL or path"):
        fetch_all([nowhere], cache, None)
