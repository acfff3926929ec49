"""Link modes: clone, hardlink, copy and the auto fallback; nothing in the cache changes through a link."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from lading.install import InstallError
from lading.install.link import FICLONE, Linker, write_new
from lading.install.paths import InstallPaths
from lading.install.wheel import install, unpack
from tests.wheelmaker import make_wheel


def source(tmp_path: Path, name: str = "src.txt", data: bytes = b"cached content", mode: int = 0o755) -> Path:
    path = tmp_path / "cache" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_234_567_890_123_456_789))
    return path


def target(tmp_path: Path, name: str = "dst.txt") -> Path:
    (tmp_path / "env").mkdir(exist_ok=True)
    return tmp_path / "env" / name


def clone_works_here(tmp_path: Path) -> bool:
    if FICLONE is None:
        return False
    linker = Linker("clone")
    try:
        linker.link(source(tmp_path, "probe"), target(tmp_path, "probe"))
    except InstallError:
        return False
    return True


def test_hardlink_shares_the_inode(tmp_path: Path) -> None:
    src, dst = source(tmp_path), target(tmp_path)
    Linker("hardlink").link(src, dst)
    assert os.stat(dst).st_ino == os.stat(src).st_ino


def test_copy_is_a_new_inode_with_the_same_mtime_and_mode(tmp_path: Path) -> None:
    src, dst = source(tmp_path), target(tmp_path)
    Linker("copy").link(src, dst)
    before, after = os.stat(src), os.stat(dst)
    assert after.st_ino != before.st_ino
    assert after.st_mtime_ns == before.st_mtime_ns
    assert after.st_mode & 0o777 == 0o755
    assert dst.read_bytes() == b"cached content"


def test_copy_handles_empty_and_large_files(tmp_path: Path) -> None:
    big = os.urandom(3 << 20)
    for name, data in (("empty", b""), ("big", big)):
        Linker("copy").link(source(tmp_path, name, data), target(tmp_path, name))
        assert target(tmp_path, name).read_bytes() == data


def test_auto_settles_on_a_working_mode_and_keeps_it(tmp_path: Path) -> None:
    linker = Linker("auto")
    for index in range(3):
        linker.link(source(tmp_path, f"s{index}"), target(tmp_path, f"d{index}"))
    expected = "clone" if clone_works_here(tmp_path) else "hardlink"
    assert linker.mode == expected
    if expected == "hardlink":
        assert os.stat(target(tmp_path, "d2")).st_ino == os.stat(tmp_path / "cache" / "s2").st_ino


def test_forced_clone_on_a_file_system_without_reflinks_says_what_to_do(tmp_path: Path) -> None:
    if clone_works_here(tmp_path):
        pytest.skip("this file system supports reflinks")
    if FICLONE is None:
        pytest.skip("no FICLONE on this platform")
    with pytest.raises(InstallError, match="cannot clone") as caught:
        Linker("clone").link(source(tmp_path), target(tmp_path))
    assert caught.value.hint is not None and "--link-mode" in caught.value.hint
    assert not target(tmp_path).exists(), "a failed clone leaves no empty file behind"


def test_auto_falls_back_to_copy_across_file_systems(tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or not os.access(other, os.W_OK) or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second writable file system")
    with tempfile.TemporaryDirectory(dir=other) as elsewhere:
        src = source(tmp_path)
        dst = Path(elsewhere) / "dst"
        linker = Linker("auto")
        linker.link(src, dst)
        assert linker.mode == "copy"
        assert dst.read_bytes() == src.read_bytes()
        assert os.stat(dst).st_mtime_ns == os.stat(src).st_mtime_ns
        with pytest.raises(InstallError, match="one file system"):
            Linker("hardlink").link(src, Path(elsewhere) / "forced")


def test_an_existing_destination_is_replaced_without_writing_through_it(tmp_path: Path) -> None:
    old = source(tmp_path, "old", b"old version")
    new = source(tmp_path, "new", b"new version")
    dst = target(tmp_path)
    for mode in ("hardlink", "copy"):
        Linker("hardlink").link(old, dst)  # the environment holds a hardlink into the cache
        Linker(mode).link(new, dst)
        assert dst.read_bytes() == b"new version"
        assert old.read_bytes() == b"old version", f"{mode} wrote through the old link"
    assert not [p for p in dst.parent.iterdir() if p.name.endswith(".lading-tmp")]


def test_write_new_never_writes_through_a_hardlink(tmp_path: Path) -> None:
    cached = source(tmp_path)
    dst = target(tmp_path)
    os.link(cached, dst)
    write_new(dst, b"generated", 0o755)
    assert cached.read_bytes() == b"cached content"
    assert dst.read_bytes() == b"generated"
    assert os.stat(dst).st_mode & 0o777 == 0o755


def test_link_all_with_threads_places_every_file(tmp_path: Path) -> None:
    pairs = []
    for index in range(300):
        pairs.append((str(source(tmp_path, f"f{index}", str(index).encode())), str(target(tmp_path, f"f{index}"))))
    linker = Linker("auto")
    linker.link_all(pairs, jobs=4)
    for index in range(300):
        assert target(tmp_path, f"f{index}").read_bytes() == str(index).encode()


def test_unknown_mode_and_missing_source_are_install_errors(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="unknown link mode"):
        Linker("symlink")
    with pytest.raises(InstallError, match="cannot"):
        Linker("hardlink").link(tmp_path / "missing", target(tmp_path))


def test_files_lading_writes_into_an_environment_are_never_links_into_the_cache(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "linked",
        "1.0",
        entry_points={"console_scripts": {"linked": "linked:main"}},
        data={"scripts": {"tool": b"#!python\nprint(1)\n"}},
    )
    tree = unpack(wheel, tmp_path / "cache" / "tree")
    env = tmp_path / "env"
    paths = InstallPaths(env / "site", env / "site", env / "bin", env, env / "include")
    dist = install(tree, paths, interpreter=sys.executable, linker=Linker("hardlink"), requested=True,
                   direct_url={"url": "file:///x"})
    assert dist.record is not None
    module = paths.purelib / "linked" / "__init__.py"
    assert os.stat(module).st_ino == os.stat(tree.root / "linked" / "__init__.py").st_ino
    generated = [dist.record, paths.scripts / "linked", paths.scripts / "tool"]
    generated += [dist.dist_info / name for name in ("INSTALLER", "REQUESTED", "direct_url.json")]
    for path in generated:
        assert os.stat(path).st_nlink == 1, path
    cached = {path: path.read_bytes() for path in tree.root.rglob("*") if path.is_file()}
    for path in generated:
        with open(path, "ab") as handle:
            handle.write(b"# edited in the environment\n")
    assert {path: path.read_bytes() for path in tree.root.rglob("*") if path.is_file()} == cached
