"""``lading build zipapp`` and ``lading inspect``: wheels built in the test, served from 127.0.0.1, zipapps
run as real processes with a private unpack root (``LADING_PYZ_ROOT``)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from packaging.tags import sys_tags

from lading.artifacts import _bootstrap, zipapp
from lading.artifacts.zipapp import BUILD_JSON, iter_payload, payload_parts
from lading.progress import Progress
from tests.unit._httpserver import LocalServer, serving
from tests.unit.test_install_cli import Index, Published, pkg, pylock_text
from tests.wheelmaker import sdist_members

APP_CLI = b'''\
import json, os, sys
import dep


def main():
    print(json.dumps({"dep": dep.VALUE, "changed": getattr(dep, "CHANGED", False), "argv": sys.argv[1:],
                      "dep_file": dep.__file__, "cached": dep.__cached__, "sys_path": sys.path}))
    return 0


def native():
    from fastjson import _json
    print(json.dumps({"scanner": _json.make_scanner.__name__, "file": _json.__file__}))
    return 0
'''


def _pyenv(version: str) -> Optional[Path]:
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which(
        "pyenv") else ""
    for candidate in sorted(Path(root, "versions").glob(f"{version}.*")) if root else []:
        python = candidate / "bin" / "python3"
        if python.is_file():
            return python
    return None


@dataclass
class World:
    index: Index
    root: Path
    lock: Path  # a pylock.toml of app + dep (+ the native wheel)
    project: Path  # a project directory: pyproject.toml + pylock.toml naming the project itself
    cache: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("zipapp")
    with serving() as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIP_CONFIG_FILE", os.devnull)
        for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                     "SOURCE_DATE_EPOCH"):
            mp.delenv(name, raising=False)
        mp.setenv("LADING_CACHE_DIR", str(root / "env-cache"))
        index = _index(server, root)
        dep = index.wheel("dep", "1.0", {"dep/__init__.py": b"VALUE = 'dep-1.0'\n"},
                          entry_points={"console_scripts": {"dep-tool": "dep:main"}})
        app = index.wheel("app", "1.0", {"app/__init__.py": b"", "app/cli.py": APP_CLI}, requires=["dep"],
                          entry_points={"console_scripts": {"app": "app.cli:main", "app-native": "app.cli:native"}})
        import _json  # an extension module of this interpreter, shipped in a wheel of its own

        so = Path(_json.__file__)
        native = index.wheel("fastjson", "1.0", {"fastjson/__init__.py": b"", f"fastjson/{so.name}": so.read_bytes()},
                             purelib=False, tag=str(next(iter(sys_tags()))))
        lock = root / "app" / "pylock.toml"
        lock.parent.mkdir()
        lock.write_text(pylock_text([pkg(app), pkg(dep), pkg(native)]), encoding="utf-8")
        project = root / "proj"
        members = sdist_members("proj", "2.0", {"proj/__init__.py": b"import dep\n\ndef main():\n    print('proj', "
                                                b"dep.VALUE)\n"},
                                entry_points={"console_scripts": {"proj": "proj:main"}}, requires=["dep"])
        for name, data in members.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_bytes(data)
        (project / "pylock.toml").write_text(pylock_text(
            [{"name": "proj", "directory": {"path": "."}}, pkg(dep)]), encoding="utf-8")
        yield World(index, root, lock, project, root / "cache")


def _index(server: LocalServer, root: Path) -> Index:
    served = root / "index"
    server.serve_tree(served)
    return Index(server, served)


def lading(*args: str, env: Optional[Mapping[str, str]] = None, umask: int = 0o022) -> tuple[int, str, str]:
    """The CLI in a subprocess of this interpreter, with its own umask and environment."""
    ran = subprocess.run([sys.executable, "-m", "lading", *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, preexec_fn=lambda: os.umask(umask))
    assert "Traceback" not in ran.stderr and "lading bug" not in ran.stderr, ran.stderr
    return ran.returncode, ran.stdout, ran.stderr


def build(world: World, output: Path, *args: str, source: Optional[Path] = None,
          env: Optional[Mapping[str, str]] = None, umask: int = 0o022) -> Path:
    code, _, err = lading("build", "zipapp", str(source or world.lock), "-o", str(output),
                            "--cache-dir", str(world.cache), *args, env=env, umask=umask)
    assert code == 0, err
    return output


def run(app: Path, root: Path, *args: str, python: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    command = [python, str(app)] if python else [str(app)]
    return subprocess.run([*command, *args], capture_output=True, text=True,
                          env={**os.environ, "LADING_PYZ_ROOT": str(root)})


@pytest.fixture(scope="module")
def app_pyz(world: World) -> Path:
    return build(world, world.root / "out" / "app.pyz", "-c", "app")


def test_zipapp_runs_its_console_script_from_an_unpacked_cache(app_pyz: Path, tmp_path: Path) -> None:
    root = tmp_path / "pyz"
    ran = run(app_pyz, root, "hello", "--flag")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["dep"] == "dep-1.0" and data["argv"] == ["hello", "--flag"]
    (home,) = [p for p in root.iterdir() if p.is_dir()]
    assert (home / ".complete").is_file()
    assert Path(data["dep_file"]).is_relative_to(home / "site")
    # The site directory sits before the interpreter's own packages, the zipapp itself is off sys.path.
    assert str(app_pyz) not in data["sys_path"]
    assert data["sys_path"].index(str(home / "site")) < min(
        [i for i, p in enumerate(data["sys_path"]) if p.endswith("site-packages")] or [len(data["sys_path"])])


def test_bytecode_is_unchecked_hash_so_later_runs_import_it_without_compiling(app_pyz: Path, tmp_path: Path
                                                                              ) -> None:
    root = tmp_path / "pyz"
    assert run(app_pyz, root).returncode == 0
    (home,) = [p for p in root.iterdir() if p.is_dir()]
    pyc = Path(json.loads(run(app_pyz, root).stdout)["cached"])
    header = pyc.read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 1  # hash-based, not checked against the source
    # Changing the unpacked source does not matter: Python runs the shipped bytecode, and writes nothing.
    source = home / "site" / "dep" / "__init__.py"
    source.write_text("VALUE = 'dep-1.0'\nCHANGED = True\n")
    before = sorted(str(p) for p in home.rglob("*"))
    ran = run(app_pyz, root)
    assert json.loads(ran.stdout)["changed"] is False
    assert sorted(str(p) for p in home.rglob("*")) == before


def test_build_is_byte_identical_across_directories_umasks_and_caches(world: World, app_pyz: Path,
                                                                       tmp_path: Path) -> None:
    # Another output directory, another umask and a cold cache (whose files and pycs get other mtimes).
    other = tmp_path / "elsewhere" / "again.pyz"
    code, _, err = lading("build", "zipapp", str(world.lock), "-o", str(other), "-c", "app",
                          "--cache-dir", str(tmp_path / "cold-cache"), umask=0o077)
    assert code == 0, err
    third = build(world, tmp_path / "third.pyz", "-c", "app", umask=0o002)
    assert hashlib.sha256(other.read_bytes()).hexdigest() == hashlib.sha256(app_pyz.read_bytes()).hexdigest()
    assert third.read_bytes() == app_pyz.read_bytes()
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["again.pyz"]  # nothing but -o is left there
    assert other.stat().st_mode & 0o777 == 0o755
    with zipfile.ZipFile(app_pyz) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    members = list(iter_payload(app_pyz))
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(315532800, 0, 0, "", "")}
    assert {m.mode for m in members} <= {0o644, 0o755}
    assert not any(m.name.startswith("bin/") for m in members)


def test_source_date_epoch_dates_the_entries(world: World, tmp_path: Path) -> None:
    out = build(world, tmp_path / "dated.pyz", "-c", "app", env={"SOURCE_DATE_EPOCH": "1700000000"})
    with zipfile.ZipFile(out) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        assert json.loads(archive.read(BUILD_JSON))["created"] == "2023-11-14T22:13:20Z"
    assert {m.mtime for m in iter_payload(out)} == {1700000000}


def test_inspect_prints_the_embedded_lock_and_build_metadata(world: World, app_pyz: Path) -> None:
    code, out, err = lading("inspect", str(app_pyz))
    assert code == 0, err
    assert "entry point:   app.cli:main (console script app)" in out
    assert "content hash:  sha256:" in out and "created:       1980-01-01T00:00:00Z" in out
    assert "# .lading/pylock.toml" in out and 'name = "dep"' in out
    code, out, _ = lading("inspect", str(app_pyz), "--json")
    data = json.loads(out)
    assert data["build"]["entry_point"] == "app.cli:main"
    assert data["build"]["content_hash"].startswith("sha256:")
    assert {d["name"] for d in data["build"]["distributions"]} == {"app", "dep", "fastjson"}
    assert data["lock"]["member"] == ".lading/pylock.toml" and "[[packages]]" in data["lock"]["text"]
    assert {c["name"] for c in data["sbom"]["components"]} >= {"app", "dep", "fastjson"}
    with zipfile.ZipFile(app_pyz) as archive:
        payload = b"".join(archive.read(part) for part in payload_parts(app_pyz))
        main_py = archive.read("__main__.py").decode()
    assert data["build"]["content_hash"] == "sha256:" + hashlib.sha256(payload).hexdigest()
    assert hashlib.sha256(payload).hexdigest() in main_py
    code, _, err = lading("inspect", str(world.lock))
    assert code == 1 and "not a zipapp" in err


def test_unknown_console_script_is_a_clear_error_and_writes_nothing(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = lading("build", "zipapp", str(world.lock), "-o", str(out / "x.pyz"), "-c", "nope",
                          "--cache-dir", str(world.cache))
    assert code == 2
    assert "no console script named 'nope'" in err and "app (app: app.cli:main)" in err and "dep-tool" in err
    assert list(out.iterdir()) == []
    code, _, err = lading("build", "zipapp", str(world.lock), "-o", str(out / "x.pyz"),
                          "--cache-dir", str(world.cache))
    assert code == 2 and "which entry point?" in err and "app-native" in err
    code, _, err = lading("build", "zipapp", str(world.lock), "-o", str(out / "x.pyz"), "-e", "app.missing:main",
                          "--cache-dir", str(world.cache))
    assert code == 1 and "the module app.missing, which is not in the application" in err
    assert list(out.iterdir()) == []


def test_project_console_script_is_the_default_entry_point(world: World, tmp_path: Path) -> None:
    out = build(world, tmp_path / "proj.pyz", source=world.project)
    ran = run(out, tmp_path / "pyz")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "proj dep-1.0"


def test_native_extension_modules_are_unpacked_and_load(app_pyz: Path, world: World, tmp_path: Path) -> None:
    native = build(world, tmp_path / "native.pyz", "-c", "app-native")
    ran = run(native, tmp_path / "pyz")
    assert ran.returncode == 0, ran.stderr
    loaded = json.loads(ran.stdout)
    assert loaded["scanner"] == "Scanner"
    assert loaded["file"].startswith(str(tmp_path / "pyz")) and loaded["file"].endswith(".so")
    other = _pyenv("3.12" if sys.version_info[:2] != (3, 12) else "3.13")
    if other is None:
        pytest.skip("no second pyenv interpreter to run the zipapp with")
    ran = run(native, tmp_path / "pyz", python=str(other))
    assert ran.returncode == 1
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"was built for cpython {version} (it holds compiled extension modules)" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_pure_python_zipapp_runs_on_another_interpreter(world: World, tmp_path: Path) -> None:
    other = _pyenv("3.9")
    if other is None:
        pytest.skip("no pyenv 3.9 interpreter")
    pure = build(world, tmp_path / "pure.pyz", "-c", "proj", source=world.project)
    ran = run(pure, tmp_path / "pyz", python=str(other))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "proj dep-1.0"


def test_concurrent_first_runs_unpack_once(app_pyz: Path, tmp_path: Path) -> None:
    root = tmp_path / "pyz"
    env = {**os.environ, "LADING_PYZ_ROOT": str(root)}
    procs = [subprocess.Popen([str(app_pyz), str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for i in range(4)]
    results = [(*p.communicate(), p.returncode) for p in procs]
    assert all(code == 0 for _, _, code in results), results
    assert [json.loads(out)["argv"] for out, _, _ in results] == [["0"], ["1"], ["2"], ["3"]]
    leftovers = [p.name for p in root.iterdir() if not p.name.endswith(".lock")]
    assert len(leftovers) == 1  # one unpacked directory, no temporary ones


def test_bootstrap_runs_on_python_38(app_pyz: Path, tmp_path: Path) -> None:
    """The bootstrap itself is 3.8-compatible: it reports the payload's Python requirement, not a SyntaxError."""
    old = _pyenv("3.8")
    if old is None:
        pytest.skip("no pyenv 3.8 interpreter")
    ran = run(app_pyz, tmp_path / "pyz", python=str(old))
    assert ran.returncode == 1 and "was built for cpython" in ran.stderr, ran.stderr


def _installed_wheel(index: Index, name: str) -> Published:
    """A wheel of a distribution installed here (the running lading's own dependencies), made in the test."""
    dist = importlib.metadata.distribution(name)
    files = {str(f): Path(str(f.locate())).read_bytes() for f in dist.files or ()
             if not str(f).endswith(".pyc") and ".dist-info/" not in str(f) and not str(f).startswith("..")}
    return index.wheel(dist.metadata["Name"], dist.version, files)


def test_lading_pyz_installs_a_lock_where_lading_is_not_installed(world: World, tmp_path: Path) -> None:
    """lading shipped as its own zipapp (what scripts/release makes, here from wheels built in the test):
    `python3 -I lading.pyz install` works with an interpreter that has no lading."""
    python = getattr(sys, "_base_executable", sys.executable)
    if subprocess.run([python, "-I", "-c", "import lading"], capture_output=True).returncode == 0:
        pytest.skip(f"{python} has lading installed; the test needs an interpreter without it")
    source = Path(__file__).resolve().parents[2] / "src" / "lading"
    own = {f"lading/{p.relative_to(source).as_posix()}": p.read_bytes() for p in sorted(source.rglob("*.py"))
           if "__pycache__" not in p.parts}
    deps = [_installed_wheel(world.index, n) for n in ("packaging", "resolvelib", "tomlkit", "urllib3")]
    lading_wheel = world.index.wheel("lading", "0.1.0", own, requires=[d.name for d in deps],
                                     entry_points={"console_scripts": {"lading": "lading.cli.main:main"}})
    release = tmp_path / "release" / "pylock.toml"
    release.parent.mkdir()
    release.write_text(pylock_text([pkg(lading_wheel), *(pkg(d) for d in deps)]), encoding="utf-8")
    pyz = build(world, tmp_path / "dist" / "lading.pyz", "-c", "lading", "--no-compile", source=release)
    tiny = tmp_path / "tiny" / "pylock.toml"
    tiny.parent.mkdir()
    dep = next(p for p in (world.index.root / "files").iterdir() if p.name.startswith("dep-1.0"))
    tiny.write_text(pylock_text([pkg(world.index.publish(dep, "dep", "1.0"))]), encoding="utf-8")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    ran = subprocess.run([python, "-I", str(pyz), "install", str(tiny), "--venv", str(tmp_path / "venv"),
                          "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True, cwd=cwd,
                         env={**env, "LADING_PYZ_ROOT": str(tmp_path / "pyz")})
    assert ran.returncode == 0, ran.stderr
    assert "1 install" in ran.stdout
    check = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c", "import dep; print(dep.VALUE)"],
                           capture_output=True, text=True)
    assert check.stdout.strip() == "dep-1.0"
    assert list(cwd.iterdir()) == []


def _file(tmp: Path, name: str, data: bytes, executable: bool = False) -> zipapp._File:
    path = tmp / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return zipapp._File(name, path, executable, len(data))


def test_payload_parts_are_cut_by_size_and_read_back_by_tarfile_and_the_bootstrap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipapp, "PART_BYTES", 3000)
    long_dir = "d" * 120
    files = [_file(tmp_path, name, data, name.endswith(".sh")) for name, data in [
        ("a/__init__.py", b"A = 1\n"), ("a/big.bin", bytes(range(256)) * 12), ("a/run.sh", b"#!/bin/sh\n"),
        (f"{long_dir}/{'e' * 96}.py", b"long = True\n"),  # ustar's prefix + name
        (f"{'f' * 150}/{'g' * 150}.txt", b"pax\n"),  # too long for ustar: a pax header
        ("z/\u00fcn\u00efc\u00f6de.txt", b"utf-8\n"),
    ]]
    files.sort(key=lambda f: f.name)
    parts = list(zipapp._parts(files, {"a/__init__.py": b"B = 2\n"}, 315532800))
    # A part closes at the first file that takes it to 3,000 bytes or more (headers and padding included).
    assert [count for _, count in parts] == [2, 3, 1]
    assert list(zipapp._parts(files, {"a/__init__.py": b"B = 2\n"}, 315532800)) == parts
    stored = {f"{zipapp.PAYLOAD_PREFIX}{i:04d}.tar.gz": zipapp._compress(data, 1, Progress(), count)
              for i, (data, count) in enumerate(parts)}
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in stored.items():
            out.writestr(name, data)
    read = [(m.name, m.mode, m.mtime, m.uid, m.uname) for m in iter_payload(archive)]
    assert [r[0] for r in read] == [f.name for f in files]
    assert {r[1:] for r in read} == {(0o644, 315532800, 0, ""), (0o755, 315532800, 0, "")}
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(archive) as outer:
        for name in stored:
            _bootstrap._unpack_part(outer, name, str(site), set())
    for f in files:
        expected = b"B = 2\n" if f.name == "a/__init__.py" else f.path.read_bytes()
        assert (site / f.name).read_bytes() == expected
        assert bool((site / f.name).stat().st_mode & 0o100) == f.executable


def test_bootstrap_writes_only_regular_files_with_clean_relative_names(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, 2 if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(b"x\n") if kind == tarfile.REGTYPE else None)
        add("../escaped")
        add("/tmp/absolute")
        add("ok/../../escaped-too")
        add("ok/link", tarfile.SYMTYPE, "/etc/passwd")
        add("ok/hard", tarfile.LNKTYPE, "../../escaped")
        add("ok/dir", tarfile.DIRTYPE)
        add("ok/" + "n" * 200 + "/" + "m" * 100)  # a pax path, kept
        add("ok/file")
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(".lading/payload/0000.tar.gz", buffer.getvalue())
    site = tmp_path / "root" / "site"
    site.mkdir(parents=True)
    with zipfile.ZipFile(archive) as outer:
        _bootstrap._unpack_part(outer, ".lading/payload/0000.tar.gz", str(site), set())
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["app.zip", "root/site/ok/file", f"root/site/ok/{'n' * 200}/{'m' * 100}"]
