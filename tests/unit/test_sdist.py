"""PEP 517/660 builds in an isolated environment lading installs itself, against a local index on 127.0.0.1.

The index serves ``tinybackend`` (a small PEP 517 backend, as a wheel built here) which depends on
``tinyhelper``; projects under test use it through ``[build-system]``. The backend records what it saw
(the helper's version, whether the test venv's packages were visible) into the wheel it builds.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import textwrap
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

import pytest

from lading.cache import Cache
from lading.errors import LadingError
from lading.index.http import HttpClient
from lading.install.link import Linker
from lading.install.paths import InstallPaths
from lading.install.sdist import (
    LEGACY_BACKEND,
    Builder,
    BuildError,
    BuildOptions,
    extract_sdist,
    needs_build,
    read_build_system,
    run_process,
    unpacked_tree,
)
from lading.install.wheel import install
from lading.model import PackageArchive, PackageDirectory, PackageSdist, PackageVcs, PackageWheel
from lading.resolve import ResolutionError
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index
from tests.wheelmaker import make_wheel

TINYBACKEND = '''\
"""A tiny PEP 517/660 backend for lading's tests: packs the project's package (named in tiny.json)."""
import base64, hashlib, importlib.util, json, os, sys, zipfile

import tinyhelper  # a dependency of the backend: the build environment holds the whole chain


def _config():
    with open("tiny.json") as handle:  # hooks run in the source tree
        return json.load(handle)


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return list(_config().get("extra_requires", []))


def get_requires_for_build_editable(config_settings=None):
    return list(_config().get("extra_requires", []))


def _write(directory, config, members):
    stem = config["name"] + "-" + config["version"]
    dist_info = stem + ".dist-info"
    members = list(members)
    members.append((dist_info + "/METADATA", ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n\\n"
                                              % (config["name"], config["version"])).encode()))
    members.append((dist_info + "/WHEEL", b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\n"
                                          b"Tag: py3-none-any\\n"))
    record = "".join("%s,%s,%d\\n" % (p, _hash(d), len(d)) for p, d in members) + dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    name = stem + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for path, data in members:
            archive.writestr(zipfile.ZipInfo(path, (2020, 2, 2, 0, 0, 0)), data)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    config = _config()
    for module in config.get("extra_requires", []):
        __import__(module)
    print("tinybackend: building", config["name"], "with settings", json.dumps(config_settings))
    if config.get("fail"):
        print("gcc: command not found", file=sys.stderr)
        raise RuntimeError("no compiler")
    members = []
    for root, dirs, files in os.walk(config["package"]):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for file in sorted(files):
            path = os.path.join(root, file)
            with open(path, "rb") as handle:
                members.append((path.replace(os.sep, "/"), handle.read()))
    info = {
        "helper": tinyhelper.VERSION,
        "sees_test_venv": importlib.util.find_spec("pytest") is not None,
        "config_settings": config_settings,
    }
    members.append((config["package"] + "/_build_info.json", json.dumps(info).encode()))
    return _write(wheel_directory, config, members)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    config = _config()
    return _write(wheel_directory, config, [("_" + config["package"] + ".pth", (os.getcwd() + "\\n").encode())])
'''


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def index_url(server: LocalServer, tmp_path: Path) -> str:
    """A local index with tinybackend 1.0 (needs tinyhelper>=1.5), tinyhelper 1.0 and 2.0, tinyextra 1.0."""
    root = tmp_path / "index"
    files = root / "files"
    published = {
        "tinybackend": [make_wheel(files, "tinybackend", "1.0", {"tinybackend/__init__.py": TINYBACKEND.encode()},
                                   requires=["tinyhelper>=1.5"])],
        "tinyhelper": [make_wheel(files, "tinyhelper", version, {"tinyhelper/__init__.py":
                                                                 f"VERSION = {version!r}\n".encode()})
                       for version in ("1.0", "2.0")],
        "tinyextra": [make_wheel(files, "tinyextra", "1.0")],
    }
    for project, wheels in published.items():
        specs = [FileSpec(w.name, f"../../files/{w.name}", w.read_bytes()) for w in wheels]
        write_tree_index(root / "simple", project, specs)
    server.serve_tree(root)
    return f"{server.url}/simple"


def project_files(
    name: str = "demo",
    version: str = "1.0",
    *,
    requires: Sequence[str] = ("tinybackend>=1",),
    backend: str = "tinybackend",
    extra: Optional[Mapping[str, Any]] = None,
    more: Optional[Mapping[str, str]] = None,
) -> dict[str, str]:
    config = {"name": name, "version": version, "package": name, **(extra or {})}
    pyproject = textwrap.dedent(
        f"""\
        [build-system]
        requires = {json.dumps(list(requires))}
        build-backend = "{backend}"

        [project]
        name = "{name}"
        version = "{version}"
        """
    )
    files = {
        "pyproject.toml": pyproject,
        "tiny.json": json.dumps(config),
        f"{name}/__init__.py": f"VALUE = {name!r}\n",
    }
    files.update(more or {})
    return files


def write_project(where: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = where / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return where


def write_sdist(directory: Path, stem: str, files: Mapping[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for relative, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{stem}/{relative}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


class Counting:
    def __init__(self) -> None:
        self.calls: list[Sequence[str]] = []

    def __call__(
        self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: Optional[float]
    ) -> tuple[int, str]:
        self.calls.append(command)
        return run_process(command, cwd=cwd, env=env, timeout=timeout)


def builder(tmp_path: Path, index_url: str, runner: Optional[Counting] = None, **options: Any) -> Builder:
    settings = BuildOptions(
        cache=Cache(tmp_path / "cache"), index_urls=(index_url,), client=HttpClient(retries=0), **options
    )
    return Builder(settings, sys.executable, runner=runner or run_process)


def wheel_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- needs_build and [build-system] -------------------------------------------------------------------


def test_needs_build_for_sdists_directories_and_vcs_but_not_wheels() -> None:
    assert not needs_build(PackageWheel(name="a-1.0-py3-none-any.whl", url="https://example.invalid/a.whl",
                                        path=None, hashes={"sha256": "0" * 64}))
    assert needs_build(PackageSdist(name="a-1.0.tar.gz", url="https://example.invalid/a-1.0.tar.gz",
                                    path=None, hashes={"sha256": "0" * 64}))
    assert needs_build(PackageDirectory(path=".", editable=True))
    assert needs_build(PackageVcs(type="git", url="https://example.invalid/a.git", commit_id="0" * 40))
    assert needs_build(PackageArchive(url="https://example.invalid/a-1.0.tar.gz", path=None, hashes={}))
    assert not needs_build(PackageArchive(url="https://example.invalid/a-1.0-py3-none-any.whl", path=None,
                                          hashes={}))
    assert not needs_build(PackageArchive(url=None, path=None, hashes={}))  # pending: decided later
    assert needs_build("a-1.0.zip")
    assert not needs_build(Path("a-1.0-py3-none-any.whl"))


def test_build_system_fallback_is_legacy_setuptools(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    system = read_build_system(tmp_path)
    assert (system.backend, system.declared) == (LEGACY_BACKEND, False)
    assert system.requires == ("setuptools>=40.8.0",)
    (tmp_path / "pyproject.toml").write_text("[build-system]\nrequires = ['setuptools>=64']\n")
    system = read_build_system(tmp_path)
    assert (system.backend, system.requires, system.declared) == (LEGACY_BACKEND, ("setuptools>=64",), True)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[build-system]\nbuild-backend = 'x'\n", "build-system.requires"),
        ("[build-system]\nrequires = 'x'\n", "build-system.requires"),
        ("[build-system]\nrequires = []\nbuild-backend = 'not valid!'\n", "build-system.build-backend"),
        ("[build-system]\nrequires = []\nbuild-backend = 'x'\nbackend-path = ['../out']\n",
         "build-system.backend-path[0]"),
    ],
)
def test_bad_build_system_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(BuildError) as caught:
        read_build_system(tmp_path, label="demo 1.0")
    assert caught.value.field == field
    assert caught.value.file == str(tmp_path / "pyproject.toml")
    assert caught.value.package == "demo 1.0"


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="not a Python project"):
        read_build_system(tmp_path)


# --- building -----------------------------------------------------------------------------------------


def test_sdist_is_built_in_isolation_and_cached_by_its_hash(tmp_path: Path, index_url: str) -> None:
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files(extra={"extra_requires": ["tinyextra"]}))
    runner = Counting()
    built = builder(tmp_path, index_url, runner).build_sdist(sdist)
    assert not built.cached
    assert (built.name, built.version, built.backend) == ("demo", "1.0", "tinybackend")
    assert built.path.parent == Cache(tmp_path / "cache").built(__import__("hashlib").sha256(
        sdist.read_bytes()).hexdigest())
    assert set(built.build_requirements) == {"tinybackend==1.0", "tinyhelper==2.0", "tinyextra==1.0"}
    info = json.loads(wheel_members(built.path)["demo/_build_info.json"])
    assert info["helper"] == "2.0"  # newest allowed
    assert info["sees_test_venv"] is False  # the venv running the tests is not visible to the build
    assert len(runner.calls) == 2  # get_requires_for_build_wheel, build_wheel
    assert runner.calls[0][1:3] == ["-I", "-S"]

    digest = built.path.parent.name
    again = builder(tmp_path, index_url, runner).build_sdist(sdist)
    assert again.cached
    assert again.path == built.path
    assert len(runner.calls) == 2  # served from the cache: no hook ran
    sdist.unlink()  # knowing the sdist's hash (from the lock) is enough for a cached build
    assert builder(tmp_path, index_url, runner).build_sdist(sdist, sha256=digest).path == built.path
    with pytest.raises(BuildError, match="the sdist does not exist"):
        builder(tmp_path, index_url, runner).build_sdist(sdist)


def test_built_wheel_installs_with_ladings_installer(tmp_path: Path, index_url: str) -> None:
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files())
    built = builder(tmp_path, index_url).build_sdist(sdist)
    cache = Cache(tmp_path / "cache")
    tree = unpacked_tree(cache, built.path)
    site = tmp_path / "site"
    paths = InstallPaths(purelib=site, platlib=site, scripts=site / "bin", data=site, headers=site / "include")
    install(tree, paths, interpreter=sys.executable, linker=Linker("copy"), requested=True)
    assert (site / "demo" / "__init__.py").read_text() == "VALUE = 'demo'\n"
    assert (site / "demo-1.0.dist-info" / "RECORD").is_file()


def test_project_directory_build_is_not_cached(tmp_path: Path, index_url: str) -> None:
    project = write_project(tmp_path / "project", project_files(name="app", version="2.0"))
    runner = Counting()
    make = builder(tmp_path, index_url, runner, config_settings={"mode": "fast"})
    first = make.build_directory(project, tmp_path / "out", name="app", version="2.0")
    assert first.path == tmp_path / "out" / "app-2.0-py3-none-any.whl"
    info = json.loads(wheel_members(first.path)["app/_build_info.json"])
    assert info["config_settings"] == {"mode": "fast"}
    make.build_directory(project, tmp_path / "out2")
    assert len(runner.calls) == 4
    assert not list((tmp_path / "cache").glob("built-v1/*/*"))


def test_editable_build_uses_pep660(tmp_path: Path, index_url: str) -> None:
    project = write_project(tmp_path / "project", project_files(name="app"))
    built = builder(tmp_path, index_url).build_directory(project, tmp_path / "out", editable=True)
    members = wheel_members(built.path)
    assert members["_app.pth"].decode().strip() == str(project)
    assert "app/__init__.py" not in members


def test_in_tree_backend_without_pep660_is_refused_for_editable(tmp_path: Path, index_url: str) -> None:
    backend = "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
    backend += "    raise SystemExit(3)\n"
    files = project_files(name="app", requires=(), backend="local_backend",
                          more={"_build/local_backend.py": backend})
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        'build-backend = "local_backend"', 'build-backend = "local_backend"\nbackend-path = ["_build"]'
    )
    project = write_project(tmp_path / "project", files)
    make = builder(tmp_path, index_url)
    with pytest.raises(BuildError, match="PEP 660") as caught:
        make.build_directory(project, tmp_path / "out", editable=True, label="app 1.0")
    assert caught.value.package == "app 1.0"
    # The in-tree backend is found through backend-path; SystemExit is a failure, not an exit.
    with pytest.raises(BuildError, match="SystemExit: 3"):
        make.build_directory(project, tmp_path / "out")


def test_failed_build_quotes_the_output_and_names_backend_and_package(tmp_path: Path, index_url: str) -> None:
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files(extra={"fail": True}))
    with pytest.raises(BuildError) as caught:
        builder(tmp_path, index_url).build_sdist(sdist)
    error = caught.value
    assert error.package == "demo 1.0"
    assert "building with tinybackend failed in build_wheel: RuntimeError: no compiler" in error.why
    assert "| gcc: command not found" in error.why
    assert "| tinybackend: building demo" in error.why
    assert error.hint is not None and "wheelhouse" in error.hint and "--deploy" in error.hint
    assert not list((tmp_path / "cache").glob("built-v1/*/*/*.whl"))


def test_missing_backend_module_names_the_field(tmp_path: Path, index_url: str) -> None:
    project = write_project(tmp_path / "project", project_files(backend="tinybackend.nothere"))
    with pytest.raises(BuildError) as caught:
        builder(tmp_path, index_url).build_directory(project, tmp_path / "out")
    assert caught.value.field == "build-system.build-backend"
    assert "tinybackend.nothere" in caught.value.why


def test_unsatisfiable_build_requirements_are_a_resolution_error(tmp_path: Path, index_url: str) -> None:
    project = write_project(tmp_path / "project", project_files(requires=("tinybackend>=1", "tinyhelper<1.5")))
    with pytest.raises(ResolutionError) as caught:
        builder(tmp_path, index_url).build_directory(project, tmp_path / "out", label="app 1.0")
    text = str(caught.value)
    assert "the requirements of the build of app 1.0 conflict" in text
    assert "the build of app 1.0 -> tinybackend 1.0 requires 'tinyhelper>=1.5'" in text
    assert "the build of app 1.0 requires 'tinyhelper<1.5'" in text
    assert "tinyhelper: versions with a wheel for this interpreter: 2.0, 1.0" in text
    assert caught.value.file == str(project / "pyproject.toml")


def test_legacy_project_asks_the_index_for_setuptools(tmp_path: Path, index_url: str) -> None:
    project = write_project(tmp_path / "project", {"setup.py": "from setuptools import setup\nsetup()\n"})
    with pytest.raises(ResolutionError, match="setuptools is not on"):
        builder(tmp_path, index_url).build_directory(project, tmp_path / "out")


def test_wrong_version_from_the_build_is_refused(tmp_path: Path, index_url: str) -> None:
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files(version="1.1"))
    with pytest.raises(BuildError, match=r"the build produced version 1\.1, the lock says 1\.0"):
        builder(tmp_path, index_url).build_sdist(sdist)


def test_offline_build_uses_find_links_only(tmp_path: Path, index_url: str, server: LocalServer) -> None:
    links = tmp_path / "links"
    for wheel in (tmp_path / "index" / "files").glob("*.whl"):
        (links / wheel.name).parent.mkdir(parents=True, exist_ok=True)
        (links / wheel.name).write_bytes(wheel.read_bytes())
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files())
    before = len(server.requests)
    built = builder(tmp_path, index_url, offline=True, find_links=(links,)).build_sdist(sdist)
    assert built.name == "demo"
    assert len(server.requests) == before


def test_hostile_sdist_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BuildError, match="outside the build directory"):
        extract_sdist(path, tmp_path / "out", label="evil 1.0")
    assert not (tmp_path / "escape.txt").exists()


def test_every_failure_is_a_lading_error(tmp_path: Path, index_url: str) -> None:
    path = tmp_path / "broken-1.0.tar.gz"
    path.write_bytes(b"not a tarball")
    with pytest.raises(LadingError, match="cannot unpack the sdist"):
        builder(tmp_path, index_url).build_sdist(path)


def test_one_sdist_entry_keeps_wheels_for_several_interpreters(tmp_path: Path, index_url: str) -> None:
    make = builder(tmp_path, index_url)
    cache = Cache(tmp_path / "cache")
    digest = "ab" * 32
    entry = cache.built(digest)
    foreign = make_wheel(tmp_path / "w", "demo", "1.0", tag="cp27-cp27m-win32")
    with cache.locked(entry):
        make._store(entry, foreign)
    assert cache.is_complete(entry)
    assert make.cached(digest) is None  # only a wheel for another interpreter so far
    mine = make_wheel(tmp_path / "w", "demo", "1.0")
    with cache.locked(entry):
        make._store(entry, mine)
    assert make.cached(digest) == entry / mine.name
    assert sorted(p.name for p in entry.iterdir() if not p.name.startswith(".")) == sorted([foreign.name, mine.name])


# --- against the real index -----------------------------------------------------------------------------


@pytest.mark.integration
def test_builds_the_flit_example_project_from_the_real_index(tmp_path: Path) -> None:
    from lading.errors import IndexError_
    from lading.index.config import default_indexes
    from lading.index.simple import SimpleIndex

    try:
        indexes = default_indexes(None, [], None)
        SimpleIndex(indexes.primary, HttpClient(retries=0)).get("flit-core")
    except IndexError_:
        pytest.skip("the package index is not reachable")
    project = Path(__file__).resolve().parents[2] / "examples" / "webapp"
    options = BuildOptions(cache=Cache(tmp_path / "cache"), index_urls=indexes.all())
    make = Builder(options, sys.executable)
    built = make.build_directory(project, tmp_path / "out", name="webapp", version="1.0.0")
    assert built.path.name == "webapp-1.0.0-py3-none-any.whl"
    assert any(r.startswith("flit-core==3.") for r in built.build_requirements)
    assert "webapp/__init__.py" in wheel_members(built.path)
    editable = make.build_directory(project, tmp_path / "editable", editable=True)
    assert any(name.endswith(".pth") for name in wheel_members(editable.path))



def _pyenv(version: str) -> Path:
    """A pyenv-installed interpreter of this minor version (the shims need a selected version; skip them)."""
    import os

    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob(f"{version}.*"), reverse=True):
        python = candidate / "bin" / f"python{version}"
        if python.is_file():
            return python
    pytest.skip(f"no pyenv Python {version} here")


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_builds_with_another_interpreter(tmp_path: Path, index_url: str, version: str) -> None:
    python = _pyenv(version)
    settings = BuildOptions(cache=Cache(tmp_path / "cache"), index_urls=(index_url,), client=HttpClient(retries=0))
    sdist = write_sdist(tmp_path / "dl", "demo-1.0", project_files(extra={"extra_requires": ["tinyextra"]}))
    built = Builder(settings, python).build_sdist(sdist)
    info = json.loads(wheel_members(built.path)["demo/_build_info.json"])
    assert (info["helper"], info["sees_test_venv"]) == ("2.0", False)
    project = write_project(tmp_path / "project", project_files(name="app"))
    assert Builder(settings, python).build_directory(project, tmp_path / "out", editable=True).path.is_file()
