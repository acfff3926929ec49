"""lading.cache: layout, atomic publication, locks, info/prune/clean/verify and `lading cache`."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from lading.cache import (
    ARCHIVES,
    COMPLETE_MARKER,
    WHEELS,
    Cache,
    CacheError,
    default_cache_dir,
    file_sha256,
)
from lading.cli import cache as cache_cli


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_archive(cache: Cache, data: bytes, filename: str = "demo-1.0-py3-none-any.whl") -> Path:
    final = cache.archive(sha(data), filename)
    with cache.locked(final), cache.staging(ARCHIVES) as temp:
        (temp / filename).write_bytes(data)
        cache.publish(temp, final.parent)
    return final


def put_tree(cache: Cache, key: str, files: dict[str, bytes]) -> Path:
    """An unpacked wheel tree with a correct RECORD."""
    final = cache.unpacked(key)
    with cache.locked(final), cache.staging(WHEELS) as temp:
        rows = []
        for name, data in files.items():
            (temp / name).parent.mkdir(parents=True, exist_ok=True)
            (temp / name).write_bytes(data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{name},sha256={digest},{len(data)}")
        (temp / "demo-1.0.dist-info").mkdir(exist_ok=True)
        rows.append("demo-1.0.dist-info/RECORD,,")
        (temp / "demo-1.0.dist-info" / "RECORD").write_text("\n".join(rows) + "\n")
        cache.publish(temp, final)
    return final


def age(path: Path, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(path, (when, when))


# --- location and layout ---------------------------------------------------------------------------


def test_cache_dir_precedence_cli_then_variable_then_xdg_then_home(tmp_path: Path) -> None:
    env = {"LADING_CACHE_DIR": str(tmp_path / "var"), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "HOME": str(tmp_path / "home")}
    assert default_cache_dir(str(tmp_path / "cli"), env) == tmp_path / "cli"
    assert default_cache_dir(None, env) == tmp_path / "var"
    del env["LADING_CACHE_DIR"]
    assert default_cache_dir(None, env) == tmp_path / "xdg" / "lading"
    del env["XDG_CACHE_HOME"]
    assert default_cache_dir(None, env) == tmp_path / "home" / ".cache" / "lading"


def test_layout_is_versioned_buckets_sharded_by_sha256(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = "ab" + "0" * 62
    assert cache.archive(key, "x-1-py3-none-any.whl") == tmp_path / "archives-v1" / "ab" / key / "x-1-py3-none-any.whl"
    assert cache.unpacked(key) == tmp_path / "wheels-v1" / "ab" / key
    assert cache.built(key) == tmp_path / "built-v1" / "ab" / key
    assert cache.lock_path(cache.archive(key, "f.whl")) == tmp_path / "archives-v1" / "ab" / f"{key}.lock"
    assert cache.pyc_marker(cache.unpacked(key), "cpython-311").name == ".lading-pyc-cpython-311"
    assert Cache.key_of(cache.archive(key, "f.whl")) == key
    assert Cache.key_of(cache.unpacked(key)) == key


@pytest.mark.parametrize("bad", ["../evil.whl", "a/b.whl", ".lading-ok", ""])
def test_archive_refuses_file_names_that_escape_the_entry(tmp_path: Path, bad: str) -> None:
    with pytest.raises(CacheError):
        Cache(tmp_path).archive("ab" * 32, bad)


# --- atomic publication ----------------------------------------------------------------------------


def test_published_entry_is_complete_and_no_temp_is_left(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    path = put_archive(cache, b"wheel bytes")
    assert path.read_bytes() == b"wheel bytes"
    assert cache.is_complete(path) and cache.is_complete(path.parent)
    assert not [p for p in (tmp_path / ARCHIVES).iterdir() if p.name.startswith(".tmp-")]
    assert (tmp_path / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_entry_without_marker_is_not_served_and_is_replaced(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    data = b"content"
    half = cache.archive(sha(data), "f.whl")
    half.parent.mkdir(parents=True)
    half.write_bytes(b"cont")  # what a killed older writer could leave
    assert not cache.is_complete(half)
    path = put_archive(cache, data, "f.whl")
    assert path.read_bytes() == data and cache.is_complete(path)


def test_publish_keeps_the_existing_complete_entry_and_drops_the_new_copy(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    first = put_archive(cache, b"same")
    inode = first.stat().st_ino
    second = put_archive(cache, b"same")
    assert second == first and second.stat().st_ino == inode


def test_staging_dir_is_removed_when_the_build_fails(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    with pytest.raises(RuntimeError), cache.staging(WHEELS) as temp:
        (temp / "half").write_bytes(b"x")
        raise RuntimeError("unpack failed")
    assert list((tmp_path / WHEELS).iterdir()) == []


def test_same_content_under_a_second_file_name_is_linked_not_downloaded(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    first = put_archive(cache, b"data", "a.whl")
    with cache.locked(first):
        other = cache.add_name(sha(b"data"), "b.whl")
    assert other is not None and other.read_bytes() == b"data" and cache.is_complete(other)
    assert first.exists()


# --- locks -----------------------------------------------------------------------------------------


def test_locked_excludes_other_threads_on_the_same_entry(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    entry = cache.unpacked("cd" * 32)
    inside = 0
    overlap = []

    def work() -> None:
        nonlocal inside
        with cache.locked(entry):
            inside += 1
            overlap.append(inside)
            time.sleep(0.05)
            inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == [1, 1, 1, 1]


def test_lock_file_removed_while_held_does_not_let_two_holders_in(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    entry = cache.unpacked("ef" * 32)
    lock_file = cache.lock_path(entry)
    got = threading.Event()
    waited = threading.Event()

    def other() -> None:
        with cache.locked(entry, on_wait=waited.set):
            got.set()
            time.sleep(0.1)

    with cache.locked(entry):
        thread = threading.Thread(target=other)
        thread.start()
        assert waited.wait(2)
        lock_file.unlink()  # what prune does to a lock whose entry is gone
    thread.join()
    assert got.is_set()
    # the waiter noticed its file was orphaned and locked the new one
    assert lock_file.exists()


def test_prune_and_clean_wait_for_a_process_using_the_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    put_archive(cache, b"x")
    waited = threading.Event()
    result: list[int] = []

    def clean() -> None:
        result.append(len(cache.clean(on_wait=waited.set)))

    with cache.using():
        thread = threading.Thread(target=clean)
        thread.start()
        assert waited.wait(2)
        assert (tmp_path / ARCHIVES).exists()  # still waiting
    thread.join(5)
    assert result and not (tmp_path / ARCHIVES).exists()


# --- info / prune / clean / verify -----------------------------------------------------------------


def test_info_counts_entries_and_sizes_per_bucket(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    put_archive(cache, b"a" * 100, "a.whl")
    put_archive(cache, b"b" * 50, "b.whl")
    put_tree(cache, sha(b"a" * 100), {"demo/__init__.py": b"x = 1\n"})
    (tmp_path / WHEELS / ".tmp-leftover").mkdir()
    info = cache.info()
    by_name = {b.name: b for b in info.buckets}
    assert by_name[ARCHIVES].entries == 2
    assert by_name[ARCHIVES].size == 150
    assert by_name[WHEELS].entries == 1 and by_name[WHEELS].temporary == 1
    assert info.size == sum(b.size for b in info.buckets)


def test_info_of_a_missing_cache_is_empty(tmp_path: Path) -> None:
    info = Cache(tmp_path / "nothing").info()
    assert not info.exists and info.size == 0


def test_prune_removes_leftovers_incomplete_and_unused_entries_only(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    old = put_archive(cache, b"old", "old.whl")
    age(old.parent / COMPLETE_MARKER, 40)
    age(old.parent, 40)
    kept_old = put_archive(cache, b"kept", "kept.whl")
    age(kept_old.parent / COMPLETE_MARKER, 40)
    age(kept_old.parent, 40)
    recent = put_archive(cache, b"recent", "recent.whl")
    incomplete = cache.unpacked("aa" * 32)
    incomplete.mkdir(parents=True)
    stale_temp = tmp_path / ARCHIVES / ".tmp-stale"
    stale_temp.mkdir()
    age(stale_temp, 1)
    fresh_temp = tmp_path / ARCHIVES / ".tmp-working"
    fresh_temp.mkdir()
    (tmp_path / "archives-v0").mkdir()

    removed = cache.prune(older_than_days=30, keep={sha(b"kept")})

    reasons = {r.path: r.reason for r in removed}
    assert reasons[old.parent] == "unused for 30 days"
    assert reasons[incomplete] == "incomplete entry"
    assert reasons[stale_temp] == "temporary leftover"
    assert reasons[tmp_path / "archives-v0"] == "bucket of another lading version"
    assert not old.parent.exists() and not incomplete.exists() and not stale_temp.exists()
    assert recent.exists() and kept_old.exists() and fresh_temp.exists()
    assert not cache.lock_path(old).exists()  # its lock went with it
    assert cache.lock_path(recent).exists()


def test_using_an_entry_keeps_it_from_prune(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    path = put_archive(cache, b"used")
    age(path.parent / COMPLETE_MARKER, 40)
    age(path.parent, 40)
    cache.mark_used(path)
    assert cache.prune(older_than_days=30) == []


def test_clean_removes_everything(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    put_archive(cache, b"x")
    put_tree(cache, sha(b"x"), {"m.py": b""})
    removed = cache.clean()
    assert {r.path.name for r in removed} >= {ARCHIVES, WHEELS}
    assert cache.info().size == 0


def test_verify_accepts_an_intact_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    put_archive(cache, b"x")
    put_tree(cache, sha(b"x"), {"demo/__init__.py": b"x = 1\n"})
    assert cache.verify() == []


def test_verify_reports_archive_whose_bytes_do_not_hash_to_its_key(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    path = put_archive(cache, b"original")
    path.write_bytes(b"tampered")
    problems = cache.verify()
    assert [p.path for p in problems] == [path]
    assert file_sha256(path) in problems[0].what


def test_verify_reports_tree_files_missing_or_changed_through_a_link(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    tree = put_tree(cache, "bb" * 32, {"demo/a.py": b"a = 1\n", "demo/b.py": b"b = 2\n"})
    (tree / "demo" / "a.py").write_bytes(b"a = 9\n")  # same size, other content
    (tree / "demo" / "b.py").unlink()
    what = {p.path.name: p.what for p in cache.verify()}
    assert "content differs" in what["a.py"]
    assert "missing" in what["b.py"]


# --- `lading cache` --------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lading")
    cache_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_cli_dir_prints_the_chosen_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "c"))
    assert cli(["cache", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c")
    assert cli(["cache", "dir", "--cache-dir", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "d")


def test_cli_info_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    put_archive(Cache(tmp_path), b"z" * 2048)
    assert cli(["cache", "info", "--cache-dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["size"] == 2048
    assert {b["name"]: b["entries"] for b in data["buckets"]}[ARCHIVES] == 1
    assert cli(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ARCHIVES in out and "2.0 KiB" in out


def test_cli_prune_and_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = Cache(tmp_path)
    put_archive(cache, b"one", "one.whl")
    assert cli(["cache", "prune", "--cache-dir", str(tmp_path), "--older-than", "0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in data["removed"]] == [sha(b"one")]
    put_archive(cache, b"two", "two.whl")
    assert cli(["cache", "clean", "--cache-dir", str(tmp_path)]) == 0
    assert "removed" in capsys.readouterr().out
    assert cache.info().size == 0


def test_cli_verify_exits_1_on_problems_and_can_remove_them(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cache = Cache(tmp_path)
    good = put_archive(cache, b"good", "good.whl")
    bad = put_archive(cache, b"bad", "bad.whl")
    assert cli(["cache", "verify", "--cache-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    bad.write_bytes(b"worse")
    assert cli(["cache", "verify", "--cache-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert str(bad) in out and "1 problem" in out
    assert cli(["cache", "verify", "--cache-dir", str(tmp_path), "--remove-broken"]) == 1
    assert not bad.parent.exists() and good.exists()
    assert cli(["cache", "verify", "--cache-dir", str(tmp_path)]) == 0


def test_fetch_unpack_publish_then_verify_catches_a_tree_changed_through_a_link(tmp_path: Path) -> None:
    from lading.fetch import Download, fetch_all
    from lading.install.wheel import unpack
    from tests.wheelmaker import make_wheel

    wheel = make_wheel(tmp_path / "dist", "demo", "1.0", {"demo/__init__.py": b"VALUE = 1\n"})
    cache = Cache(tmp_path / "cache")
    download = Download.of(wheel.name, {"sha256": file_sha256(wheel)}, path=wheel, label="demo 1.0")
    archive = fetch_all([download], cache, None, offline=True)[download]
    tree = cache.unpacked(Cache.key_of(archive))
    with cache.locked(tree), cache.staging(WHEELS) as temp:
        unpack(archive, temp / "t")
        cache.publish(temp / "t", tree)
    assert cache.is_complete(tree) and cache.verify() == []
    (tree / "demo" / "__init__.py").write_bytes(b"VALUE = 2\n")  # what an edit through a hardlink does
    assert [p.path.name for p in cache.verify()] == ["__init__.py"]
