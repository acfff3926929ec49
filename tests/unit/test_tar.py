"""The deterministic tar writer: same tree, same bytes, whatever the mtimes, modes, owners and links say."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from lading.artifacts import _tar
from lading.errors import LadingError


def make_tree(root: Path, *, mtime: int, file_mode: int, exec_mode: int, dir_mode: int, hardlink: bool) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "pkg").mkdir(parents=True)
    (root / "bin" / "tool").write_text("#!/bin/sh\necho tool\n")
    (root / "lib" / "pkg" / "__init__.py").write_text("X = 1\n")
    (root / "lib" / "pkg" / "data.txt").write_text("data\n")
    (root / "lib" / "a-b").write_text("sorts before a/ by bytes, after it by components\n")
    os.symlink("/usr/bin/python3", root / "bin" / "python3")
    os.symlink("python3", root / "bin" / "python")
    os.symlink("lib", root / "lib64")
    copy = root / "lib" / "pkg" / "copy.py"
    if hardlink:
        os.link(root / "lib" / "pkg" / "__init__.py", copy)
    else:
        shutil.copyfile(root / "lib" / "pkg" / "__init__.py", copy)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(dir_mode)
        elif path.name == "tool":
            path.chmod(exec_mode)
        else:
            path.chmod(file_mode)
        os.utime(path, (mtime, mtime))
    root.chmod(dir_mode)
    return root


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        return archive.getmembers()


def test_same_tree_gives_same_bytes_whatever_mtimes_modes_and_hard_links(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", mtime=1_000_000_000, file_mode=0o600, exec_mode=0o700, dir_mode=0o700,
                    hardlink=True)
    two = make_tree(tmp_path / "two", mtime=1_700_000_000, file_mode=0o664, exec_mode=0o775, dir_mode=0o775,
                    hardlink=False)
    for compression in ("none", "gz", "xz"):
        first = _tar.tar_bytes(one, compression, prefix="opt/app", mtime=315532800)  # type: ignore[arg-type]
        second = _tar.tar_bytes(two, compression, prefix="opt/app", mtime=315532800)  # type: ignore[arg-type]
        assert first == second, compression
    assert _tar.tar_bytes(one, prefix="opt/app", mtime=315532801) != _tar.tar_bytes(one, prefix="opt/app")


def test_entries_are_sorted_owned_by_root_with_one_mtime_and_normal_modes(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", mtime=1_600_000_000, file_mode=0o600, exec_mode=0o700, dir_mode=0o700,
                     hardlink=True)
    found = members(_tar.tar_bytes(tree, prefix="opt/app", mtime=42))
    assert [m.name for m in found] == [
        "opt/app", "opt/app/bin", "opt/app/bin/python", "opt/app/bin/python3", "opt/app/bin/tool",
        "opt/app/lib", "opt/app/lib/a-b", "opt/app/lib/pkg", "opt/app/lib/pkg/__init__.py",
        "opt/app/lib/pkg/copy.py", "opt/app/lib/pkg/data.txt", "opt/app/lib64",
    ]
    for member in found:
        assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (0, 0, "", "", 42)
    modes = {m.name.rsplit("/", 1)[-1]: (m.type, m.mode) for m in found}
    assert modes["bin"] == (tarfile.DIRTYPE, 0o755)
    assert modes["tool"] == (tarfile.REGTYPE, 0o755)
    assert modes["data.txt"] == (tarfile.REGTYPE, 0o644)
    # the hard link is stored as a second regular file, not as a link to another member
    assert modes["copy.py"] == (tarfile.REGTYPE, 0o644)
    links = {m.name: m.linkname for m in found if m.issym()}
    assert links == {"opt/app/bin/python": "python3", "opt/app/bin/python3": "/usr/bin/python3",
                     "opt/app/lib64": "lib"}


def test_prefix_parents_and_relative_layouts(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    (tree / "x").mkdir(parents=True)
    (tree / "x" / "f").write_text("f")
    with_parents = [m.name for m in members(_tar.tar_bytes(tree, prefix="opt/venvs/app", parents=True))]
    assert with_parents[:3] == ["opt", "opt/venvs", "opt/venvs/app"]
    relative = [m.name for m in members(_tar.tar_bytes(tree))]
    assert relative == ["x", "x/f"]
    dotted = io.BytesIO(_tar.tar_bytes(tree, prefix="."))
    with tarfile.open(fileobj=dotted) as archive:
        assert archive.getnames() == [".", "./x", "./x/f"]


def test_gzip_and_xz_streams_carry_no_time_or_name(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "f").write_text("f")
    data = _tar.tar_bytes(tree, "gz", prefix="opt/app")
    assert data[:2] == b"\x1f\x8b"
    assert data[3] & 0x08 == 0  # FNAME flag clear: no file name stored
    assert data[4:8] == b"\0\0\0\0"  # MTIME 0
    assert gzip.decompress(data) == _tar.tar_bytes(tree, prefix="opt/app")
    assert lzma.decompress(_tar.tar_bytes(tree, "xz")) == _tar.tar_bytes(tree)


def test_pack_writes_through_a_temporary_file_and_gnu_tar_restores_the_tree(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", mtime=1_600_000_000, file_mode=0o600, exec_mode=0o700, dir_mode=0o700,
                     hardlink=True)
    out = tmp_path / "out" / "app.tar.gz"
    written = _tar.pack(tree, out, prefix="opt/app", mtime=315532800)
    assert sorted(p.name for p in out.parent.iterdir()) == ["app.tar.gz"]
    assert written.entries == 12 and written.size == out.stat().st_size
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is not installed")
    into = tmp_path / "x"
    into.mkdir()
    subprocess.run(["tar", "-xzf", str(out), "-C", str(into)], check=True)
    app = into / "opt" / "app"
    assert (app / "bin" / "tool").stat().st_mode & 0o777 == 0o755
    assert (app / "lib" / "pkg" / "data.txt").stat().st_mtime == 315532800
    assert os.readlink(app / "bin" / "python3") == "/usr/bin/python3"
    assert (app / "lib" / "pkg" / "copy.py").read_text() == "X = 1\n"


def test_devices_fifos_and_sockets_are_refused(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    tree.mkdir()
    os.mkfifo(tree / "fifo")
    with pytest.raises(LadingError, match="neither a file"):
        _tar.tar_bytes(tree)


def test_source_date_epoch_and_output_names() -> None:
    assert _tar.source_date_epoch({}) == 315532800
    assert _tar.source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    with pytest.raises(LadingError, match="SOURCE_DATE_EPOCH"):
        _tar.source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})
    assert _tar.compression_for(Path("a.tar.gz")) == "gz"
    assert _tar.compression_for(Path("a.tgz")) == "gz"
    assert _tar.compression_for(Path("a.tar.xz")) == "xz"
    assert _tar.compression_for(Path("a.tar")) == "none"
    with pytest.raises(LadingError, match="which archive"):
        _tar.compression_for(Path("a.zip"))
