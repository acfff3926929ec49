"""``lading build venv``: a venv for a prefix, packed reproducibly, that runs where it is unpacked.

The project is hermetic: ``hello-app`` (a pyproject.toml built by a stdlib-only in-tree backend, with a
console script) depends on ``tinydep``, a wheel made here and served from an index on 127.0.0.1; the lock
is a hashed requirements.txt beside the pyproject.toml, so staging builds the project itself. The
tarball is built with Debian's /usr/bin/python3 and run inside a debootstrap'd Debian root (chroot,
no network) where the same interpreter lives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import subprocess
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from lading.artifacts.venvpack import normalise_bytecode
from lading.cli.main import main
from tests import debian_root
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index
from tests.wheelmaker import make_wheel

DEBIAN_PYTHON = "/usr/bin/python3"
EPOCH = 315532800

BACKEND = '''\
"""A stdlib-only PEP 517 backend for lading's artifact tests: packs hello_app with its console script."""
import base64, hashlib, json, os, zipfile

with open("project.json") as _handle:  # hooks run in the source tree
    CONFIG = json.load(_handle)
STEM = "hello_app-" + CONFIG["version"]


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _files():
    meta = ("Metadata-Version: 2.1\\nName: hello-app\\nVersion: %s\\nSummary: %s\\n"
            "Author-email: Hello Team <hello@example.org>\\nLicense-Expression: MIT\\n"
            "Requires-Dist: tinydep==1.0\\n\\n" % (CONFIG["version"], CONFIG["summary"]))
    return {"METADATA": meta.encode(), "entry_points.txt": b"[console_scripts]\\nhello-app = hello_app:main\\n",
            "WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, STEM + ".dist-info"))
    for name, data in _files().items():
        with open(os.path.join(metadata_directory, STEM + ".dist-info", name), "wb") as handle:
            handle.write(data)
    return STEM + ".dist-info"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    members = []
    for name in sorted(os.listdir("hello_app")):
        if name.endswith(".py"):
            with open(os.path.join("hello_app", name), "rb") as handle:
                members.append(("hello_app/" + name, handle.read()))
    members += [(STEM + ".dist-info/" + k, v) for k, v in sorted(_files().items())]
    record = "".join("%s,%s,%d\\n" % (p, _hash(d), len(d)) for p, d in members)
    members.append((STEM + ".dist-info/RECORD", (record + STEM + ".dist-info/RECORD,,\\n").encode()))
    wheel = STEM + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as archive:
        for path, data in members:
            archive.writestr(zipfile.ZipInfo(path, (2020, 2, 2, 0, 0, 0)), data)
    return wheel
'''

APP = '''\
import sys

import tinydep


def main():
    print(tinydep.GREETING, "from", sys.prefix)
    return 0
'''


@dataclass(frozen=True)
class HelloProject:
    """The hermetic project and the index serving its dependency."""

    directory: Path
    index_url: str

    def cli(self, kind: str, *args: str, cache: Path) -> list[str]:
        return ["build", kind, str(self.directory), "--index-url", self.index_url, "--cache-dir", str(cache),
                "-q", *args]


def write_project(directory: Path, index_root: Path, *, version: str = "1.0.0rc1",
                  summary: str = "Says hello from a packed venv", extra_wheels: Sequence[Path] = ()) -> Path:
    """hello-app at ``directory`` with a hashed requirements.txt naming tinydep (served from ``index_root``)."""
    wheel = make_wheel(index_root / "files", "tinydep", "1.0",
                       {"tinydep/__init__.py": b"GREETING = 'hello from tinydep'\n"})
    write_tree_index(index_root / "simple", "tinydep",
                     [FileSpec(wheel.name, f"../../files/{wheel.name}", wheel.read_bytes())])
    (directory / "hello_app").mkdir(parents=True)
    (directory / "_backend").mkdir()
    (directory / "_backend" / "hello_backend.py").write_text(BACKEND)
    (directory / "hello_app" / "__init__.py").write_text(APP)
    (directory / "project.json").write_text(json.dumps({"version": version, "summary": summary}))
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "hello_backend"\nbackend-path = ["_backend"]\n\n'
        f'[project]\nname = "hello-app"\nversion = "{version}"\ndependencies = ["tinydep==1.0"]\n\n'
        '[project.scripts]\nhello-app = "hello_app:main"\n'
    )
    lines = [f"tinydep==1.0 --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"]
    for extra in extra_wheels:
        name, version_, *_ = extra.name.split("-")
        lines.append(f"{name}=={version_} --hash=sha256:{hashlib.sha256(extra.read_bytes()).hexdigest()}")
    (directory / "requirements.txt").write_text("\n".join(lines) + "\n")
    return directory


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture(scope="module")
def hello(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> HelloProject:
    base = tmp_path_factory.mktemp("hello")
    server.serve_tree(base / "index")
    return HelloProject(write_project(base / "project", base / "index"), f"{server.url}/simple")


def needs_debian_python() -> None:
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"{DEBIAN_PYTHON} (the Debian root's interpreter) is not on this machine")


@dataclass(frozen=True)
class BuiltTarball:
    path: Path
    again: Path  # the same build with a fresh cache


@pytest.fixture(scope="module")
def tarball(hello: HelloProject, tmp_path_factory: pytest.TempPathFactory) -> BuiltTarball:
    needs_debian_python()
    out = tmp_path_factory.mktemp("venv-out")
    paths = []
    for i in (1, 2):
        target = out / f"run{i}" / "app.tar.gz"
        code = main(hello.cli("venv", "-o", str(target), "--prefix", "/opt/app", "--python", DEBIAN_PYTHON,
                              cache=out / f"cache{i}"))
        assert code == 0
        paths.append(target)
    return BuiltTarball(paths[0], paths[1])


def read_members(path: Path) -> dict[str, tuple[tarfile.TarInfo, Optional[bytes]]]:
    found = {}
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            found[member.name] = (member, handle.read() if handle else None)
    return found


def test_venv_tarball_runs_its_entry_point_at_the_prefix_in_a_debian_root_without_network(
        tarball: BuiltTarball, tmp_path: Path) -> None:
    why = debian_root.unavailable()
    if why:
        pytest.skip(why)
    root = debian_root.debian_root(tmp_path / "root")
    subprocess.run(["tar", "-xzf", str(tarball.path), "-C", str(root)], check=True)  # as the README says
    before = sorted(p.relative_to(root) for p in (root / "opt" / "app").rglob("*"))
    ran = debian_root.chroot_run(root, "/opt/app/bin/hello-app")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "hello from tinydep from /opt/app"
    # the activate script works too, and python -c sees the venv
    ran = debian_root.chroot_run(root, "/bin/sh", "-c", ". /opt/app/bin/activate && python -c "
                                 "'import sys, hello_app; print(sys.prefix, hello_app.__file__)'")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["/opt/app", "/opt/app/lib/python3.11/site-packages/hello_app/__init__.py"]
    # every module had valid bytecode: Python wrote nothing into the prefix
    assert sorted(p.relative_to(root) for p in (root / "opt" / "app").rglob("*")) == before


def test_venv_tarball_is_byte_identical_when_built_again_with_a_fresh_cache(tarball: BuiltTarball) -> None:
    assert tarball.path.read_bytes() == tarball.again.read_bytes()
    assert sorted(p.name for p in tarball.path.parent.iterdir()) == ["app.tar.gz"]  # nothing else in -o's dir


def test_tarball_sits_under_the_prefix_and_names_no_build_directory(tarball: BuiltTarball) -> None:
    found = read_members(tarball.path)
    assert all(name == "opt/app" or name.startswith("opt/app/") for name in found)
    for name, (member, data) in found.items():
        assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (0, 0, "", "", EPOCH)
        if data is not None:
            assert b".build" not in data and str(tarball.path.parent).encode() not in data, name
    script = found["opt/app/bin/hello-app"]
    assert script[1] is not None and script[1].startswith(b"#!/opt/app/bin/python\n")
    assert script[0].mode == 0o755
    activate = found["opt/app/bin/activate"][1]
    assert activate is not None and b'\nVIRTUAL_ENV=/opt/app\n' in activate
    cfg = found["opt/app/pyvenv.cfg"][1]
    assert cfg is not None and b"home = /usr/bin\n" in cfg
    assert found["opt/app/bin/python3"][0].linkname == DEBIAN_PYTHON
    sbom = found.get("opt/app/lading-sbom.cdx.json")
    if sbom is not None:  # written once lading.artifacts.sbom is there
        assert sbom[1] is not None
        names = {c["name"] for c in json.loads(sbom[1])["components"]}
        assert {"hello-app", "tinydep"} <= names


def test_packed_bytecode_is_valid_for_the_packed_mtimes_and_records_match(tarball: BuiltTarball) -> None:
    found = read_members(tarball.path)
    site = "opt/app/lib/python3.11/site-packages"
    pycs = [n for n in found if n.endswith(".pyc")]
    assert sorted(pycs) == [f"{site}/hello_app/__pycache__/__init__.cpython-311.pyc",
                            f"{site}/tinydep/__pycache__/__init__.cpython-311.pyc"]
    for name in pycs:
        data = found[name][1]
        assert data is not None
        flags, mtime, size = struct.unpack("<III", data[4:16])
        source = name.replace("__pycache__/", "").replace(".cpython-311.pyc", ".py")
        assert (flags, mtime, size) == (0, EPOCH, len(found[source][1] or b""))
    # every RECORD line with a hash matches the packed file (the rewritten pycs included)
    checked = 0
    for name in found:
        if not name.endswith(".dist-info/RECORD"):
            continue
        for line in (found[name][1] or b"").decode().splitlines():
            path, digest, _ = line.rsplit(",", 2)
            if not digest:
                continue
            member = os.path.normpath(f"{site}/{path}")
            data = found[member][1]
            assert data is not None
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}", member
            checked += 1
    assert checked >= 8


def test_source_date_epoch_sets_every_mtime(hello: HelloProject, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    needs_debian_python()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "app.tar"
    assert main(hello.cli("venv", "-o", str(out), "--prefix", "/srv/hello", "--python", DEBIAN_PYTHON,
                          cache=tmp_path / "cache")) == 0
    found = read_members(out)
    assert {m.mtime for m, _ in found.values()} == {1700000000}
    pyc = found["srv/hello/lib/python3.11/site-packages/tinydep/__pycache__/__init__.cpython-311.pyc"][1]
    assert pyc is not None and struct.unpack("<I", pyc[8:12]) == (1700000000,)


def test_relative_prefix_is_a_usage_error_and_writes_nothing(hello: HelloProject, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(hello.cli("venv", "-o", str(out / "app.tar.gz"), "--prefix", "opt/app", cache=tmp_path / "c"))
    assert code == 2
    assert "not an absolute path" in capsys.readouterr().err
    assert not out.exists()


def test_a_lock_without_a_wheel_for_the_target_is_a_clear_error(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    needs_debian_python()
    index = tmp_path / "index"
    with serving() as server:
        server.serve_tree(index)
        foreign = make_wheel(index / "files", "winonly", "2.0", tag="cp311-cp311-win_amd64")
        write_tree_index(index / "simple", "winonly",
                         [FileSpec(foreign.name, f"../../files/{foreign.name}", foreign.read_bytes())])
        project = write_project(tmp_path / "project", index, extra_wheels=[foreign])
        out = tmp_path / "out"
        out.mkdir()
        code = main(["build", "venv", str(project), "--index-url", f"{server.url}/simple", "--cache-dir",
                     str(tmp_path / "cache"), "-o", str(out / "app.tar.gz"), "--prefix", "/opt/app",
                     "--python", DEBIAN_PYTHON])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "package winonly 2.0" in err and "no file for this target" in err and "hint:" in err
    assert list(out.iterdir()) == []  # no tarball, no leftover staging directory


def test_bytecode_normalisation_leaves_stale_and_hash_based_pycs_alone(tmp_path: Path) -> None:
    import py_compile
    import sys

    tag = sys.implementation.cache_tag
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("good", "stale", "hashed", "nopyc"):
        (lib / f"{name}.py").write_text(f"NAME = {name!r}\n")
    py_compile.compile(str(lib / "good.py"), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    py_compile.compile(str(lib / "stale.py"), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    py_compile.compile(str(lib / "hashed.py"), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    (lib / "stale.py").write_text("NAME = 'changed since'\n")
    good = lib / "__pycache__" / f"good.{tag}.pyc"
    linked = tmp_path / "cache-copy.pyc"
    os.link(good, linked)  # the staged pyc is a hard link into a cache: it must not change in place
    original = good.read_bytes()
    rewritten, lacking = normalise_bytecode(lib, str(tag), EPOCH)
    assert rewritten == {good}
    assert sorted(p.name for p in lacking) == ["nopyc.py", "stale.py"]
    assert good.read_bytes()[8:12] == struct.pack("<I", EPOCH)
    assert good.read_bytes()[12:] == original[12:]
    assert linked.read_bytes() == original


def test_help_documents_the_base_interpreter(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "venv", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "must exist at the same path" in text
