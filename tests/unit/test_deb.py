"""``lading build deb``: a .deb that dpkg-deb reads, lintian accepts, dpkg installs into a real Debian root
(where the command runs without network) and removes without leaving anything behind; built twice, the
same bytes. The project is the hermetic ``hello-app`` of test_venvpack (local index on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.version import Version

from lading.artifacts.deb import (
    DebOptions,
    architecture,
    build_deb,
    check_maintainer,
    debian_name,
    debian_version,
    maintainer_from,
    python_depends,
)
from lading.artifacts.venvpack import Source
from lading.cli.main import main
from lading.errors import LadingError, UsageError
from lading.install.installed import InstalledDist
from tests import debian_root
from tests.unit.test_venvpack import DEBIAN_PYTHON, HelloProject, hello, needs_debian_python, server

__all__ = ["hello", "server"]  # module-scoped fixtures shared with test_venvpack

PACKAGE = "hello-app"


@dataclass(frozen=True)
class BuiltDebs:
    path: Path
    again: Path


@pytest.fixture(scope="module")
def deb(hello: HelloProject, tmp_path_factory: pytest.TempPathFactory) -> BuiltDebs:
    needs_debian_python()
    out = tmp_path_factory.mktemp("deb-out")
    built = []
    for i in (1, 2):
        code = main(hello.cli("deb", "-o", str(out / f"run{i}"), "--depends", "ca-certificates",
                              cache=out / f"cache{i}"))
        assert code == 0
        [path] = (out / f"run{i}").iterdir()
        built.append(path)
    return BuiltDebs(built[0], built[1])


def dpkg_deb(*args: str) -> str:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    return subprocess.run(["dpkg-deb", *args], check=True, capture_output=True, text=True).stdout


def test_dpkg_deb_reads_the_control_fields_and_contents(deb: BuiltDebs) -> None:
    assert deb.path.name == "hello-app_1.0.0~rc1_all.deb"
    fields = dict(
        line.split(": ", 1) for line in dpkg_deb("--field", str(deb.path)).splitlines() if ": " in line
    )
    assert fields["Package"] == PACKAGE
    assert fields["Version"] == "1.0.0~rc1"
    assert fields["Architecture"] == "all"
    assert fields["Maintainer"] == "Hello Team <hello@example.org>"
    assert fields["Depends"] == "python3 (>= 3.11~), python3 (<< 3.12), ca-certificates"
    assert fields["Description"] == "Says hello from a packed venv"
    assert int(fields["Installed-Size"]) > 0
    info = dpkg_deb("--info", str(deb.path))
    assert "md5sums" in info and "postrm" not in info  # no maintainer script: the bytecode is complete
    contents = {line.split()[5]: line for line in dpkg_deb("--contents", str(deb.path)).splitlines()}
    assert "./opt/venvs/hello-app/bin/hello-app" in contents
    assert "./opt/venvs/hello-app/lading-sbom.cdx.json" in contents or not Path(
        "src/lading/artifacts/sbom.py").exists()
    assert contents["./usr/bin/hello-app"].endswith("-> /opt/venvs/hello-app/bin/hello-app")
    assert "./usr/share/doc/hello-app/copyright" in contents
    assert not any(name.startswith("./usr/bin/") and "tinydep" in name for name in contents)
    for line in contents.values():
        assert " 0/0 " in line and " 1980-01-01 00:00 " in line


def test_lintian_reports_no_errors(deb: BuiltDebs) -> None:
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed")
    done = subprocess.run(["lintian", "--no-cfg", str(deb.path)], capture_output=True, text=True)
    errors = [line for line in done.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_deb_is_byte_identical_when_built_again_with_a_fresh_cache(deb: BuiltDebs) -> None:
    assert deb.path.read_bytes() == deb.again.read_bytes()
    assert [p.name for p in deb.path.parent.iterdir()] == [deb.path.name]  # nothing else in -o


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    why = debian_root.unavailable()
    if why:
        pytest.skip(why)
    yield debian_root.debian_root(tmp_path_factory.mktemp("debian") / "root")


_VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/lib/dpkg", "var/log", "var/cache", "root")


def listing(root: Path) -> dict[str, str]:
    """Every path of the root (outside dpkg's own state and scratch places) with its kind or link target."""
    found: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        if (relative != "." and relative.split(os.sep)[0] in _VOLATILE) or relative.startswith(_VOLATILE[5:]):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, root)
            found[key] = "-> " + os.readlink(path) if os.path.islink(path) else (
                "dir" if os.path.isdir(path) else "file")
    return found


def install_run_remove(root: Path, deb_path: Path) -> tuple[dict[str, str], dict[str, str], str]:
    before = listing(root)
    shutil.copyfile(deb_path, root / "tmp" / deb_path.name)
    done = debian_root.chroot_run(root, "dpkg", "-i", f"/tmp/{deb_path.name}")
    assert done.returncode == 0, done.stdout + done.stderr
    ran = debian_root.chroot_run(root, "hello-app")
    assert ran.returncode == 0, ran.stderr
    removed = debian_root.chroot_run(root, "dpkg", "-r", PACKAGE)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    (root / "tmp" / deb_path.name).unlink()
    return before, listing(root), ran.stdout


def test_dpkg_installs_it_the_command_runs_offline_and_dpkg_r_removes_everything(deb: BuiltDebs,
                                                                                  root: Path) -> None:
    before, after, output = install_run_remove(root, deb.path)
    assert output.strip() == "hello from tinydep from /opt/venvs/hello-app"
    assert sorted(set(after) - set(before)) == []
    # dpkg also removes /opt when it is empty: base-files makes it in its postinst without listing it
    assert sorted(set(before) - set(after)) in ([], ["opt"])
    (root / "opt").mkdir(exist_ok=True)


def test_without_bytecode_a_postrm_removes_what_python_writes_at_run_time(hello: HelloProject, root: Path,
                                                                          tmp_path: Path) -> None:
    built = build_deb(DebOptions(
        source=Source(path=hello.directory, python=DEBIAN_PYTHON, index_url=hello.index_url,
                      cache_dir=tmp_path / "cache", compile=False),
        output_dir=tmp_path / "out",
    ))
    assert built.maintainer_scripts == ("postrm",)
    before, after, _ = install_run_remove(root, built.path)
    assert sorted(set(after) - set(before)) == []
    (root / "opt").mkdir(exist_ok=True)


@pytest.mark.parametrize(("pep440", "debian"), [
    ("1.0.0rc1", "1.0.0~rc1"), ("1.0", "1.0"), ("2.1b3", "2.1~b3"), ("1.0a1", "1.0~a1"),
    ("1.0.dev4", "1.0~~dev4"), ("1.0rc1.dev2", "1.0~rc1~dev2"), ("1.0.post2", "1.0+post2"),
    ("1.0.post2.dev1", "1.0+post2~dev1"), ("2!1.0", "2:1.0"), ("1.0+ubuntu.1", "1.0+ubuntu.1"),
])
def test_pep440_versions_become_debian_versions(pep440: str, debian: str) -> None:
    assert debian_version(pep440) == debian


def test_converted_versions_keep_their_order_for_dpkg() -> None:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    ordered = sorted(["1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1.dev1",
                      "1.0.post1", "1.0.1", "1!0.5"], key=Version)
    for low, high in zip(ordered, ordered[1:]):
        done = subprocess.run(["dpkg", "--compare-versions", debian_version(low), "lt", debian_version(high)])
        assert done.returncode == 0, (low, high, debian_version(low), debian_version(high))


def _dist(tmp_path: Path, name: str, tags: list[str]) -> InstalledDist:
    dist_info = tmp_path / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags))
    return InstalledDist(name=name, project_name=name, version="1.0", dist_info=dist_info)  # type: ignore[arg-type]


def test_architecture_comes_from_the_wheels_platform_tags(tmp_path: Path) -> None:
    pure = _dist(tmp_path, "pure", ["py3-none-any"])
    x86 = _dist(tmp_path, "native", ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"])
    arm = _dist(tmp_path, "arm", ["cp311-abi3-musllinux_1_1_aarch64"])
    assert architecture([pure], False, "x86_64") == "all"
    assert architecture([pure], True, "x86_64") == "amd64"  # native code outside any wheel's tags
    assert architecture([pure, x86], False, "x86_64") == "amd64"
    assert architecture([arm], False, "x86_64") == "arm64"
    with pytest.raises(LadingError, match="several architectures"):
        architecture([x86, arm], False, "x86_64")
    with pytest.raises(LadingError, match="no Debian architecture"):
        architecture([_dist(tmp_path, "mac", ["cp311-cp311-macosx_11_0_arm64x"])], False, "x86_64")


def test_depends_names_the_debian_python_the_venv_links_to() -> None:
    assert python_depends("/usr/bin/python3", (3, 11)) == "python3 (>= 3.11~), python3 (<< 3.12)"
    assert python_depends("/usr/bin/python3.12", (3, 12)) == "python3.12"
    assert python_depends("/root/.pyenv/versions/3.11.7/bin/python3.11", (3, 11)) is None


def test_names_and_maintainers() -> None:
    assert debian_name("Hello_World.App") == "hello-world.app"
    with pytest.raises(UsageError):
        debian_name("_")
    assert maintainer_from({"DEBEMAIL": "jane@example.org", "DEBFULLNAME": "Jane Doe"}, None) == \
        "Jane Doe <jane@example.org>"
    assert maintainer_from({}, None) is None
    with pytest.raises(UsageError, match="Full Name <address>"):
        check_maintainer("jane@example.org")


def test_bad_flags_are_usage_errors_before_any_work(hello: HelloProject, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(hello.cli("deb", "-o", str(out), "--maintainer", "nobody", cache=tmp_path / "c")) == 2
    assert "Full Name <address>" in capsys.readouterr().err
    assert main(hello.cli("deb", "-o", str(out), "--version", "v1", cache=tmp_path / "c")) == 2
    assert "not a Debian version" in capsys.readouterr().err
    assert not out.exists()
