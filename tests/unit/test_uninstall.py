"""Uninstalling by RECORD, and listing what an environment has installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pytest
from packaging.utils import canonicalize_name

from lading.install import InstallError
from lading.install.installed import InstalledDist, scan, scan_all
from lading.install.link import Linker
from lading.install.paths import InstallPaths
from lading.install.uninstall import uninstall
from lading.install.wheel import install, unpack
from tests.wheelmaker import make_wheel

TAG = sys.implementation.cache_tag


@pytest.fixture
def paths(tmp_path: Path) -> InstallPaths:
    env = tmp_path / "env"
    return InstallPaths(
        purelib=env / "lib" / "site-packages",
        platlib=env / "lib" / "site-packages",
        scripts=env / "bin",
        data=env,
        headers=env / "include" / "site",
    )


def put(
    tmp_path: Path,
    paths: InstallPaths,
    name: str,
    version: str = "1.0",
    files: Optional[dict[str, bytes]] = None,
    **options: object,
) -> InstalledDist:
    wheel = make_wheel(tmp_path / "wheels", name, version, files, **options)  # type: ignore[arg-type]
    tree = unpack(wheel, tmp_path / "cache" / wheel.name)
    return install(tree, paths, interpreter=sys.executable, linker=Linker("auto"), requested=True,
                   bytecode_tag=TAG)


def one(paths: InstallPaths, name: str) -> InstalledDist:
    return scan(paths)[canonicalize_name(name)]


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if not path.is_dir())


def test_uninstall_removes_every_file_pycs_the_dist_info_and_emptied_directories(
    tmp_path: Path, paths: InstallPaths
) -> None:
    dist = put(
        tmp_path,
        paths,
        "gone",
        files={"gone/__init__.py": b"", "gone/deep/er/mod.py": b"X = 1\n"},
        entry_points={"console_scripts": {"gone": "gone:main"}},
        data={"scripts": {"gone-tool": b"#!python\n"}, "data": {"share/gone/a.txt": b"a"}, "headers": {"g.h": b""}},
    )
    # Python would write pycs for any interpreter next to the sources; they go too.
    pycache = paths.purelib / "gone" / "deep" / "er" / "__pycache__"
    pycache.mkdir()
    (pycache / "mod.cpython-399.pyc").write_bytes(b"")
    (pycache / "mod.cpython-399.opt-1.pyc").write_bytes(b"")
    keep = paths.purelib / "unrelated.py"
    keep.write_text("")

    result = uninstall(dist, paths)

    assert files_under(paths.data) == [keep]
    assert not (paths.purelib / "gone").exists()
    assert not dist.dist_info.exists()
    assert paths.purelib.is_dir() and paths.scripts.is_dir(), "scheme directories themselves stay"
    assert Path(paths.purelib / "gone" / "deep" / "er" / "mod.py") in result.files
    assert pycache / "mod.cpython-399.pyc" in result.files
    assert scan(paths) == {}


def test_uninstall_keeps_files_of_other_distributions_in_shared_directories(
    tmp_path: Path, paths: InstallPaths
) -> None:
    first = put(tmp_path, paths, "ns-one", files={"ns/one/__init__.py": b""})
    put(tmp_path, paths, "ns-two", files={"ns/two/__init__.py": b""})
    uninstall(first, paths)
    assert not (paths.purelib / "ns" / "one").exists()
    assert (paths.purelib / "ns" / "two" / "__init__.py").is_file()
    assert set(scan(paths)) == {"ns-two"}


def test_a_record_pointing_outside_the_environment_is_refused_before_anything_is_removed(
    tmp_path: Path, paths: InstallPaths
) -> None:
    victim = tmp_path / "outside.txt"
    victim.write_text("precious")
    dist = put(tmp_path, paths, "sneaky")
    assert dist.record is not None
    with open(dist.record, "a") as handle:
        handle.write("../../../../outside.txt,,\n")
    scanned = one(paths, "sneaky")
    with pytest.raises(InstallError, match="outside") as caught:
        uninstall(scanned, paths)
    assert caught.value.field == "RECORD['../../../../outside.txt']"
    assert victim.read_text() == "precious"
    assert (paths.purelib / "sneaky" / "__init__.py").is_file(), "nothing was removed"
    assert dist.dist_info.is_dir()


def test_an_absolute_record_path_is_refused(tmp_path: Path, paths: InstallPaths) -> None:
    victim = tmp_path / "abs.txt"
    victim.write_text("x")
    dist = put(tmp_path, paths, "absolute")
    assert dist.record is not None
    with open(dist.record, "a") as handle:
        handle.write(f"{victim},,\n")
    with pytest.raises(InstallError, match="outside"):
        uninstall(one(paths, "absolute"), paths)
    assert victim.exists()


def test_files_already_gone_do_not_stop_an_uninstall(tmp_path: Path, paths: InstallPaths) -> None:
    dist = put(tmp_path, paths, "partial", files={"partial/__init__.py": b"", "partial/b.py": b""})
    (paths.purelib / "partial" / "b.py").unlink()  # as after an interrupted earlier uninstall
    uninstall(dist, paths)
    assert files_under(paths.data) == []


def test_without_record_only_an_interrupted_lading_install_can_be_removed(tmp_path: Path, paths: InstallPaths) -> None:
    dist = put(tmp_path, paths, "norecord")
    assert dist.record is not None
    dist.record.unlink()
    scanned = one(paths, "norecord")
    assert not scanned.complete and scanned.installed_by_lading
    uninstall(scanned, paths)
    assert not dist.dist_info.exists()

    other = put(tmp_path, paths, "foreign")
    assert other.record is not None
    other.record.unlink()
    (other.dist_info / "INSTALLER").write_text("pip\n")
    with pytest.raises(InstallError, match="no RECORD"):
        uninstall(one(paths, "foreign"), paths)


def test_scan_reads_name_version_installer_requested_and_direct_url(tmp_path: Path, paths: InstallPaths) -> None:
    put(tmp_path, paths, "Fancy.Name", "2.0.1")
    wheel = make_wheel(tmp_path / "wheels", "dep", "0.3")
    tree = unpack(wheel, tmp_path / "cache" / "dep")
    install(tree, paths, interpreter=sys.executable, linker=Linker("copy"), requested=False,
            direct_url={"url": "file:///w/dep-0.3-py3-none-any.whl", "archive_info": {}})
    found = scan(paths)
    assert sorted(found) == ["dep", "fancy-name"]
    fancy = found[canonicalize_name("fancy-name")]
    assert (fancy.project_name, fancy.version, fancy.installer, fancy.requested) == ("Fancy.Name", "2.0.1", "lading",
                                                                                     True)
    assert fancy.direct_url is None and fancy.complete
    dep = found[canonicalize_name("dep")]
    assert not dep.requested
    assert dep.direct_url == {"url": "file:///w/dep-0.3-py3-none-any.whl", "archive_info": {}}
    assert [entry.path for entry in dep.record_entries()][-1] == "dep-0.3.dist-info/RECORD"


def test_scan_reads_only_the_metadata_headers_and_prefers_complete_newest_duplicates(
    tmp_path: Path, paths: InstallPaths
) -> None:
    site = paths.purelib
    for version, record in (("1.0", True), ("3.0", False), ("2.0", True)):
        dist_info = site / f"dup-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: dup\nVersion: {version}\n\nVersion: 9.9 in the description\n"
        )
        if record:
            (dist_info / "RECORD").write_text("")
    (site / "empty.dist-info").mkdir()  # no METADATA: ignored
    (site / "bad-1.0.dist-info").mkdir()
    (site / "bad-1.0.dist-info" / "direct_url.json").write_text("{not json")
    (site / "bad-1.0.dist-info" / "METADATA").write_text("Name: bad\nVersion: 1.0\n")
    assert [d.version for d in scan_all(paths) if d.name == "dup"] == ["1.0", "2.0", "3.0"]
    found = scan(paths)
    assert found[canonicalize_name("dup")].version == "2.0"
    assert found[canonicalize_name("bad")].direct_url is None
    assert set(found) == {"dup", "bad"}


def test_upgrade_is_uninstall_then_install(tmp_path: Path, paths: InstallPaths) -> None:
    old = put(tmp_path, paths, "up", "1.0", files={"up/__init__.py": b"V = 1\n", "up/old_only.py": b""})
    uninstall(old, paths)
    new = put(tmp_path, paths, "up", "2.0", files={"up/__init__.py": b"V = 2\n"})
    assert not (paths.purelib / "up" / "old_only.py").exists()
    assert one(paths, "up").version == "2.0"
    assert json.dumps([e.path for e in new.written])  # plain data, ready for a --json report
