"""Unpacking wheels straight from the mapped archive, and the cold install's unpack queue."""

from __future__ import annotations

import os
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from lading.cache import Cache
from lading.install import WheelError
from lading.install.tree import UnpackQueue
from lading.install.wheel import MANIFEST_NAME, unpack
from lading.install.workers import ProcessWorkers, ThreadWorkers, Workers
from tests.wheelmaker import make_wheel, record_text, wheel_entries, write_zip, zip_info


def _recompressed(wheel: Path, out: Path, compress: dict[str, int]) -> Path:
    """``wheel`` rewritten with per-member compression (ZIP_STORED, ZIP_DEFLATED, ZIP_BZIP2, ...)."""
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = compress.get(info.filename.rpartition("/")[2], zipfile.ZIP_DEFLATED)
            target.writestr(copy, source.read(info))
    return out


def test_stored_deflated_and_bzip2_members_unpack_to_their_exact_bytes(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": b"",
        "pkg/stored.bin": os.urandom(3 << 20),  # several read chunks
        "pkg/deflated.txt": b"hello world\n" * 300_000,  # inflates to more than one chunk
        "pkg/other.bz": b"bzip2 " * 1000,
    }
    built = make_wheel(tmp_path / "src", "pkg", "1.0", files, executable=["pkg/deflated.txt"])
    wheel = _recompressed(built, tmp_path / built.name,
                          {"stored.bin": zipfile.ZIP_STORED, "other.bz": zipfile.ZIP_BZIP2})
    tree = unpack(wheel, tmp_path / "tree")
    for name, data in files.items():
        assert (tmp_path / "tree" / name).read_bytes() == data
    by_path = {f.path: f for f in tree.files}
    assert by_path["pkg/deflated.txt"].executable and os.access(tmp_path / "tree" / "pkg/deflated.txt", os.X_OK)
    assert by_path["pkg/stored.bin"].size == 3 << 20


def _patch(path: Path, old: bytes, new: bytes, *, which: int = 0) -> None:
    raw = path.read_bytes()
    at = -1
    for _ in range(which + 1):
        at = raw.index(old, at + 1)
    path.write_bytes(raw[:at] + new + raw[at + len(old):])


def test_a_local_header_naming_another_file_than_the_central_directory_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "twin", "1.0", {"twin/__init__.py": b"", "twin/aaa.py": b"x = 1\n"})
    _patch(wheel, b"twin/aaa.py", b"twin/bbb.py")  # the first occurrence is the local header
    dest = tmp_path / "tree"
    with pytest.raises(WheelError, match="local header names another file"):
        unpack(wheel, dest)
    assert not dest.exists()


def test_corrupt_compressed_data_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4000
    wheel = make_wheel(tmp_path, "broken", "1.0", {"broken/__init__.py": b"", "broken/blob.bin": payload})
    raw = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as opened:
        info = opened.getinfo("broken/blob.bin")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    raw[start : start + 64] = b"\xff" * 64
    wheel.write_bytes(bytes(raw))
    dest = tmp_path / "tree"
    with pytest.raises(WheelError, match=r"cannot be inflated|does not match its RECORD hash"):
        unpack(wheel, dest)
    assert not dest.exists()


def test_a_member_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    declared, _ = wheel_entries("grow", "1.0", {"grow/__init__.py": b"", "grow/big.txt": b"a" * 1000})
    entries, record = wheel_entries("grow", "1.0", {"grow/__init__.py": b"", "grow/big.txt": b"a" * 100_000})
    entries.append((zip_info(record), record_text(declared, record)))  # RECORD: 1,000 bytes
    wheel = write_zip(tmp_path / "grow-1.0-py3-none-any.whl", entries)
    raw = wheel.read_bytes()
    assert raw.count((100_000).to_bytes(4, "little")) == 2  # the local header and the central directory
    wheel.write_bytes(raw.replace((100_000).to_bytes(4, "little"), (1000).to_bytes(4, "little")))
    dest = tmp_path / "tree"
    with pytest.raises(WheelError, match="does not match its RECORD hash"):
        unpack(wheel, dest)
    assert not dest.exists()


def wait_for_file(path: Path) -> None:
    """A worker task that keeps its worker busy until ``path`` exists."""
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _busy(workers: Workers, gate: Path) -> Future[None]:
    busy: Future[None] = workers.submit(wait_for_file, gate)
    deadline = time.monotonic() + 10
    while not busy.running() and time.monotonic() < deadline:
        time.sleep(0.001)
    return busy


@pytest.fixture(params=["processes", "threads"])
def workers(request: pytest.FixtureRequest) -> Iterator[Workers]:
    started: Workers = ProcessWorkers(1) if request.param == "processes" else ThreadWorkers(1)
    yield started
    started.shutdown(cancel=True)


def test_the_unpack_queue_takes_the_largest_waiting_archive_first(tmp_path: Path, workers: Workers) -> None:
    wheels = {size: make_wheel(tmp_path, f"p{size}", "1.0", {f"p{size}/__init__.py": os.urandom(size)})
              for size in (10, 50_000, 5_000)}
    gate = tmp_path / "gate"
    busy = _busy(workers, gate)  # the one worker is busy until all three are queued
    queue = UnpackQueue(Cache(tmp_path / "cache"), workers)
    for size in (10, 50_000, 5_000):
        queue.put(f"p{size}", wheels[size])
    gate.touch()
    busy.result(timeout=10)
    trees = queue.finish()
    assert sorted(trees) == ["p10", "p5000", "p50000"]
    assert all((tree.root / key / "__init__.py").is_file() for key, tree in trees.items())
    made = sorted(trees, key=lambda key: (trees[key].root / MANIFEST_NAME).stat().st_mtime_ns)
    assert made == ["p50000", "p5000", "p10"]


def test_an_unpack_failure_is_raised_by_finish_and_no_tree_of_it_is_published(tmp_path: Path,
                                                                                workers: Workers) -> None:
    good = make_wheel(tmp_path, "good", "1.0")
    bad = make_wheel(tmp_path, "bad", "1.0", {"bad/__init__.py": b"x = 1\n"})
    _patch(bad, b"bad/__init__.py", b"bad/__evil__.py")  # local header no longer matches
    cache = Cache(tmp_path / "cache")
    queue = UnpackQueue(cache, workers)
    queue.put("bad", bad)
    queue.put("good", good)
    with pytest.raises(WheelError, match="local header") as raised:
        queue.finish()
    assert raised.value.package == "bad 1.0" and (raised.value.field or "").startswith("member ")
    published = [p for p in (cache.root / "wheels-v1").glob("*/*") if p.is_dir()]
    assert len(published) == 1 and (published[0] / "good" / "__init__.py").is_file()


def test_cancel_drops_waiting_archives_and_waits_for_the_running_one(tmp_path: Path, workers: Workers) -> None:
    gate = tmp_path / "gate"
    cache = Cache(tmp_path / "cache")
    busy = _busy(workers, gate)
    queue = UnpackQueue(cache, workers)
    queue.put("first", make_wheel(tmp_path, "first", "1.0"))
    queue.put("second", make_wheel(tmp_path, "second", "1.0"))
    threading.Timer(0.2, gate.touch).start()
    queue.cancel()  # both unpacks waited behind the busy worker: dropped
    assert busy.result(timeout=10) is None
    assert queue.finish() == {}
    assert not list((cache.root / "wheels-v1").glob("*/*"))
