"""``lading install`` end to end: wheels and sdists built in the test, served from an index on 127.0.0.1,
locks (pylock.toml, requirements.txt with hashes, poetry.lock) written by hand, ``lading.cli.main.main``
in-process against real venvs made by the standard library."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from packaging.tags import sys_tags

from lading.cli.main import main
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index
from tests.unit.test_sdist import TINYBACKEND, project_files, write_sdist
from tests.wheelmaker import make_wheel, sdist_members

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
TAG = sys.implementation.cache_tag

# --- the local index and lock writers -------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    name: str  # project
    version: str
    filename: str
    url: str
    sha256: str
    size: int
    path: Path  # the served copy

    @property
    def kind(self) -> str:
        return "wheel" if self.filename.endswith(".whl") else "sdist"


@dataclass
class Index:
    """A PEP 503 tree served from 127.0.0.1: ``/simple/<project>/`` and ``/files/<filename>``."""

    server: LocalServer
    root: Path
    pages: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def simple(self) -> str:
        return f"{self.server.url}/simple"

    def publish(self, archive: Path, project: str, version: str) -> Published:
        files = self.root / "files"
        files.mkdir(parents=True, exist_ok=True)
        served = files / archive.name
        if archive != served:
            shutil.copyfile(archive, served)
        self.pages.setdefault(project, [])
        if served not in self.pages[project]:
            self.pages[project].append(served)
        specs = [FileSpec(p.name, f"../../files/{p.name}", p.read_bytes()) for p in self.pages[project]]
        write_tree_index(self.root / "simple", project, specs)
        data = served.read_bytes()
        return Published(project, version, served.name, f"{self.server.url}/files/{served.name}",
                         hashlib.sha256(data).hexdigest(), len(data), served)

    def wheel(self, name: str, version: str, files: Optional[Mapping[str, bytes]] = None,
              **kwargs: Any) -> Published:
        built = make_wheel(self.root / "build", name, version, files, **kwargs)
        return self.publish(built, name, version)


def pylock_text(packages: Sequence[Mapping[str, Any]], *, extra_top: str = "") -> str:
    """A pylock.toml written by hand; each package: name, version, and one of wheels / sdist / directory."""
    out = ['lock-version = "1.0"', 'created-by = "tests"', 'requires-python = ">=3.9"', extra_top, ""]
    for package in packages:
        out.append("[[packages]]")
        out.append(f'name = "{package["name"]}"')
        if package.get("version"):
            out.append(f'version = "{package["version"]}"')
        if package.get("marker"):
            out.append(f"marker = {json.dumps(package['marker'])}")
        directory = package.get("directory")
        if directory is not None:
            editable = "true" if directory.get("editable") else "false"
            out.append(f'directory = {{path = "{directory["path"]}", editable = {editable}}}')
        for file in package.get("files", ()):
            sha = package.get("hashes", {}).get(file.filename, file.sha256)
            table = f'{{name = "{file.filename}", url = "{file.url}", hashes = {{sha256 = "{sha}"}}}}'
            if file.kind == "sdist":
                out.append(f"sdist = {table}")
        wheels = [f for f in package.get("files", ()) if f.kind == "wheel"]
        for file in wheels:
            sha = package.get("hashes", {}).get(file.filename, file.sha256)
            out.append("[[packages.wheels]]")
            out.append(f'name = "{file.filename}"')
            out.append(f'url = "{file.url}"')
            out.append(f'hashes = {{sha256 = "{sha}"}}')
        out.append("")
    return "\n".join(out)


def pkg(*files: Published, **extra: Any) -> dict[str, Any]:
    return {"name": files[0].name, "version": files[0].version, "files": files, **extra}


def requirements_text(*files: Published, unhashed: Sequence[str] = ()) -> str:
    by_release: dict[tuple[str, str], list[str]] = {}
    for f in files:
        by_release.setdefault((f.name, f.version), []).append(f.sha256)
    lines = []
    for (name, version), hashes in by_release.items():
        lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes))
    lines += list(unhashed)
    return "\n".join(lines) + "\n"


# --- running and inspecting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.out)
        return data


class Lading:
    def __init__(self, capsys: pytest.CaptureFixture[str], cache: Path) -> None:
        self.capsys = capsys
        self.cache = cache

    def __call__(self, *args: str, cache: bool = True) -> Ran:
        self.capsys.readouterr()
        argv = ["install", *args]
        if cache and "--cache-dir" not in args:
            argv += ["--cache-dir", str(self.cache)]
        code = main(argv)
        captured = self.capsys.readouterr()
        assert "Traceback" not in captured.err and "lading bug" not in captured.err, captured.err
        return Ran(code, captured.out, captured.err)

    def ok(self, *args: str, **kwargs: Any) -> Ran:
        ran = self(*args, **kwargs)
        assert ran.code == 0, ran.err
        return ran


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def site_packages(venv: Path) -> Path:
    found = glob.glob(str(venv / "lib" / "python3.*" / "site-packages"))
    assert len(found) == 1, found
    return Path(found[0])


def installed(venv: Path) -> dict[str, str]:
    """name -> version of every distribution in the venv, as the venv's own importlib.metadata sees it."""
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version "
            "for d in m.distributions()}))")
    out = subprocess.run([str(venv_python(venv)), "-I", "-c", code], capture_output=True, text=True, check=True)
    data: dict[str, str] = json.loads(out.stdout)
    return data


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root: (mode, sha256 or link target); directories as ('dir')."""
    out: dict[str, tuple[int, str]] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        st = path.lstat()
        if path.is_symlink():
            out[rel] = (st.st_mode, "-> " + os.readlink(path))
        elif path.is_dir():
            out[rel] = (st.st_mode, "dir")
        else:
            out[rel] = (st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def record_of(venv: Path, name: str) -> tuple[Path, list[tuple[str, str, str]]]:
    sp = site_packages(venv)
    dist_infos = [p for p in sp.glob("*.dist-info") if p.name.split("-")[0].lower() == name.replace("-", "_")]
    assert len(dist_infos) == 1, (name, list(sp.glob("*.dist-info")))
    rows = [tuple(line.rsplit(",", 2)) for line in (dist_infos[0] / "RECORD").read_text().splitlines() if line]
    return dist_infos[0], [(r[0], r[1], r[2]) for r in rows]


def check_record(venv: Path, name: str) -> list[str]:
    """Every RECORD row's file exists with the recorded hash and size; returns the paths (relative to site)."""
    import base64

    dist_info, rows = record_of(venv, name)
    sp = dist_info.parent
    for path, digest, size in rows:
        full = (sp / path).resolve() if not os.path.isabs(path) else Path(path)
        assert full.is_file(), (name, path)
        if digest:
            alg, _, value = digest.partition("=")
            data = full.read_bytes()
            got = base64.urlsafe_b64encode(hashlib.new(alg, data).digest()).rstrip(b"=").decode()
            assert got == value, (name, path)
            assert int(size) == len(data), (name, path)
        else:
            assert path.endswith("RECORD"), (name, path)
    return [r[0] for r in rows]


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def index(server: LocalServer, tmp_path: Path) -> Index:
    root = tmp_path / "index"
    server.serve_tree(root)
    return Index(server, root)


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pip configuration, no active venv, and a cache of the test's own."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                 "LADING_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "env-cache"))


@pytest.fixture
def lading(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Lading:
    return Lading(capsys, tmp_path / "cache")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    where = tmp_path / "proj"
    where.mkdir()
    return where


def write_lock(project: Path, packages: Sequence[Mapping[str, Any]], name: str = "pylock.toml") -> Path:
    path = project / name
    path.write_text(pylock_text(packages), encoding="utf-8")
    return path


def run_py(venv: Path, code: str, **kwargs: Any) -> str:
    done = subprocess.run([str(venv_python(venv)), "-c", code], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, done.stderr
    out: str = done.stdout
    return out.strip()


def best_tag() -> str:
    tag = next(iter(sys_tags()))
    return f"{tag.interpreter}-{tag.abi}-{tag.platform}"


# --- wheels ---------------------------------------------------------------------------------------------


def test_pure_and_platlib_wheels_install_with_data_dirs_and_records(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    pure = index.wheel("alpha", "1.0", {"alpha/__init__.py": b"VALUE = 'alpha'\n"},
                       data={"data": {"share/alpha/notes.txt": b"notes\n"},
                             "headers": {"alpha.h": b"/* header */\n"},
                             "purelib": {"alpha_extra.py": b"EXTRA = 1\n"},
                             "scripts": {"alpha-tool": b"#!python\nimport alpha\nprint('tool', alpha.VALUE)\n"}})
    native = index.wheel("beta", "2.0", {"beta/__init__.py": b"from beta._impl import X\n",
                                         "beta/_impl.py": b"X = 2\n",
                                         f"beta/_speed{suffix}": b"\x7fELF not really\n"},
                         purelib=False, tag=best_tag(),
                         data={"platlib": {"beta_plat.py": b"PLAT = 1\n"}})
    lock = write_lock(project, [pkg(pure), pkg(native)])
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv))
    assert {k: v for k, v in installed(venv).items()} == {"alpha": "1.0", "beta": "2.0"}
    sp = site_packages(venv)
    assert (sp / "alpha_extra.py").is_file() and (sp / "beta_plat.py").is_file()
    assert (sp / "beta" / f"_speed{suffix}").read_bytes() == b"\x7fELF not really\n"
    assert (venv / "share" / "alpha" / "notes.txt").read_text() == "notes\n"
    headers = list(venv.glob("include/site/python3.*/alpha/alpha.h"))
    assert len(headers) == 1
    script = venv / "bin" / "alpha-tool"
    assert script.read_text().splitlines()[0] == f"#!{venv_python(venv)}"
    assert os.access(script, os.X_OK)
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout == "tool alpha\n"
    for name in ("alpha", "beta"):
        rows = check_record(venv, name)
        dist_info = record_of(venv, name)[0]
        assert (dist_info / "INSTALLER").read_text().strip() == "lading"
        assert not (dist_info / "REQUESTED").exists()  # index packages are not direct requirements
        assert not (dist_info / "direct_url.json").exists()
        assert any(r.endswith(f"_speed{suffix}") for r in rows) or name == "alpha"
    assert run_py(venv, "import alpha, beta, alpha_extra; print(alpha.VALUE, beta.X)") == "alpha 2"


def test_console_and_gui_entry_points_run_with_the_venv_python(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    tool = index.wheel("gamma", "1.0", {"gamma/__init__.py": b"", "gamma/cli.py":
                                        b"import sys\ndef main():\n    print('gamma', sys.executable)\n"
                                        b"    return 3\n"},
                       entry_points={"console_scripts": {"gamma": "gamma.cli:main"},
                                     "gui_scripts": {"gamma-gui": "gamma.cli:main"}})
    venv = tmp_path / "venv"
    lading.ok(str(write_lock(project, [pkg(tool)])), "--venv", str(venv))
    for script in ("gamma", "gamma-gui"):
        path = venv / "bin" / script
        assert path.read_text().splitlines()[0] == f"#!{venv_python(venv)}"
        assert path.stat().st_nlink == 1
        done = subprocess.run([str(path)], capture_output=True, text=True)
        assert done.returncode == 3
        assert done.stdout.strip() == f"gamma {venv_python(venv)}"
    rows = check_record(venv, "gamma")
    assert "../../../bin/gamma" in rows and "../../../bin/gamma-gui" in rows


# --- building: sdists and the project itself --------------------------------------------------------------


def publish_backend(index: Index) -> None:
    """tinybackend (a PEP 517 backend needing tinyhelper) on the index, as tests/unit/test_sdist.py makes it."""
    index.wheel("tinybackend", "1.0", {"tinybackend/__init__.py": TINYBACKEND.encode()},
                requires=["tinyhelper>=1.5"])
    for version in ("1.0", "2.0"):
        index.wheel("tinyhelper", version, {"tinyhelper/__init__.py": f"VERSION = {version!r}\n".encode()})


def test_sdist_only_package_is_built_through_its_backend_from_the_index_and_cached(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    publish_backend(index)
    sdist = write_sdist(tmp_path / "sdists", "delta-1.0", project_files("delta", "1.0"))
    published = index.publish(sdist, "delta", "1.0")
    lock = write_lock(project, [pkg(published)])
    venv = tmp_path / "venv"
    ran = lading.ok(str(lock), "--venv", str(venv), "--index-url", index.simple)
    assert installed(venv) == {"delta": "1.0"}, ran.err  # the build environment's packages stay out
    info = json.loads(run_py(venv, "import importlib.resources as r; print(r.files('delta')"
                                   ".joinpath('_build_info.json').read_text())"))
    assert info["helper"] == "2.0" and info["sees_test_venv"] is False
    check_record(venv, "delta")
    built = list((tmp_path / "cache").glob("built-v1/*/" + published.sha256 + "/*.whl"))
    assert len(built) == 1
    # a second venv reuses the built wheel: the index is not asked for the backend again
    before = index.server.hits("/simple/tinybackend/")
    lading.ok(str(lock), "--venv", str(tmp_path / "venv2"), "--index-url", index.simple)
    assert index.server.hits("/simple/tinybackend/") == before
    assert installed(tmp_path / "venv2") == {"delta": "1.0"}


def write_project(project: Path, name: str = "proj", version: str = "0.1", value: str = "one") -> None:
    members = sdist_members(name, version, {f"{name}/__init__.py": f"VALUE = {value!r}\n".encode()})
    for relative, data in members.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def project_lock(project: Path, index: Index, *, editable: bool = False) -> Path:
    dep = index.wheel("alpha", "1.0")
    return write_lock(project, [
        {"name": "proj", "version": "0.1", "directory": {"path": ".", "editable": editable}},
        pkg(dep),
    ])


def test_project_is_built_non_editable_by_default(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    write_project(project)
    lock = project_lock(project, index, editable=True)  # uv writes editable; lading installs it built
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv))
    assert installed(venv) == {"proj": "0.1", "alpha": "1.0"}
    dist_info, _ = record_of(venv, "proj")
    assert (dist_info / "REQUESTED").exists()
    direct = json.loads((dist_info / "direct_url.json").read_text())
    assert direct == {"url": project.resolve().as_uri(), "dir_info": {"editable": False}}
    check_record(venv, "proj")
    (project / "proj" / "__init__.py").write_text("VALUE = 'two'\n")
    assert run_py(venv, "import proj; print(proj.VALUE)", cwd=tmp_path) == "one"
    # a re-run rebuilds it (the tree may have changed without a version change)
    ran = lading.ok(str(lock), "--venv", str(venv), "-v")
    assert "reinstall  proj" in ran.out
    assert run_py(venv, "import proj; print(proj.VALUE)", cwd=tmp_path) == "two"


def test_project_editable_reflects_source_edits(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    write_project(project)
    lock = project_lock(project, index)
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--editable")
    assert run_py(venv, "import proj; print(proj.VALUE)", cwd=tmp_path) == "one"
    (project / "proj" / "__init__.py").write_text("VALUE = 'edited'\n")
    assert run_py(venv, "import proj; print(proj.VALUE)", cwd=tmp_path) == "edited"
    dist_info, _ = record_of(venv, "proj")
    assert json.loads((dist_info / "direct_url.json").read_text())["dir_info"] == {"editable": True}
    ran = lading.ok(str(lock), "--venv", str(venv), "--editable", "--dry-run")
    assert "unchanged  proj" in ran.out


def test_no_project_leaves_the_project_out(lading: Lading, index: Index, project: Path, tmp_path: Path) -> None:
    write_project(project)
    lock = project_lock(project, index)
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--no-project")
    assert installed(venv) == {"alpha": "1.0"}


# --- the plan: dry run, json, exact sync, upgrades -----------------------------------------------------


def releases(index: Index) -> dict[str, Published]:
    return {
        "a1": index.wheel("alpha", "1.0"), "a2": index.wheel("alpha", "2.0"),
        "b1": index.wheel("beta", "1.0"), "b2": index.wheel("beta", "2.0"),
        "c1": index.wheel("gamma", "1.0"), "d1": index.wheel("delta", "1.0"), "e1": index.wheel("eps", "1.0"),
    }


def test_dry_run_prints_every_kind_of_action_and_changes_nothing(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    venv = tmp_path / "venv"
    lock = write_lock(project, [pkg(r["a1"]), pkg(r["b2"])])
    ran = lading.ok(str(lock), "--venv", str(venv), "--dry-run")
    assert not venv.exists(), "a dry run creates no venv"
    assert "install    alpha 1.0" in ran.out and "install    beta 2.0" in ran.out
    assert "to be created" in ran.out and "(dry run)" in ran.out
    lading.ok(str(lock), "--venv", str(venv))
    # gamma is in the venv but not the lock (remove); delta gets reinstalled; eps is new
    lading.ok(str(write_lock(project, [pkg(r["a1"]), pkg(r["b2"]), pkg(r["c1"]), pkg(r["d1"])])),
              "--venv", str(venv))
    before = snapshot(venv)
    lock = write_lock(project, [pkg(r["a2"]), pkg(r["b1"]), pkg(r["d1"]), pkg(r["e1"])])
    ran = lading.ok(str(lock), "--venv", str(venv), "--dry-run", "--reinstall", "delta")
    lines = {line.split()[1]: line.split()[0] for line in ran.out.splitlines() if line.startswith("  ")}
    assert lines == {"alpha": "upgrade", "beta": "downgrade", "gamma": "remove", "delta": "reinstall",
                     "eps": "install"}
    assert "alpha 1.0 -> 2.0" in ran.out and "beta 2.0 -> 1.0" in ran.out
    assert snapshot(venv) == before
    data = json.loads(lading.ok(str(lock), "--venv", str(venv), "--dry-run", "--json").out)
    assert data["dry_run"] is True and data["outcome"] is None
    unchanged = write_lock(project, [pkg(r["a1"]), pkg(r["b2"]), pkg(r["c1"]), pkg(r["d1"])])
    ran = lading.ok(str(unchanged), "--venv", str(venv), "--dry-run")
    assert "unchanged  alpha 1.0" in ran.out and "would change: nothing" in ran.out


def test_json_report_is_versioned_with_plan_and_outcome(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    venv = tmp_path / "venv"
    lading.ok(str(write_lock(project, [pkg(r["a1"]), pkg(r["c1"])])), "--venv", str(venv))
    lock = write_lock(project, [pkg(r["a2"]), pkg(r["b1"])])
    data = lading.ok(str(lock), "--venv", str(venv), "--json").json()
    assert data["version"] == 1
    assert data["dry_run"] is False
    assert data["lock"]["path"] == str(lock) and data["lock"]["format"] == "pylock"
    assert data["destination"]["kind"] == "venv" and data["destination"]["root"] == str(venv)
    plan = {(a["action"], a["name"], a["installed"], a["locked"]) for a in data["plan"]}
    assert plan == {("upgrade", "alpha", "1.0", "2.0"), ("install", "beta", None, "1.0"),
                    ("remove", "gamma", "1.0", None)}
    assert data["outcome"]["counts"] == {"install": 1, "upgrade": 1, "downgrade": 0, "reinstall": 0,
                                         "remove": 1, "unchanged": 0}
    assert data["outcome"]["seconds"] >= 0
    assert installed(venv) == {"alpha": "2.0", "beta": "1.0"}


def test_exact_sync_removes_extras_and_inexact_keeps_them(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    extra = index.wheel("extra", "1.0", {"extra/__init__.py": b""}, data={"headers": {"x.h": b""}},
                        entry_points={"console_scripts": {"extra-tool": "extra:main"}})
    venv = tmp_path / "venv"
    lading.ok(str(write_lock(project, [pkg(r["a1"]), pkg(extra)])), "--venv", str(venv))
    lock = write_lock(project, [pkg(r["a1"])])
    lading.ok(str(lock), "--venv", str(venv), "--inexact")
    assert installed(venv) == {"alpha": "1.0", "extra": "1.0"}
    lading.ok(str(lock), "--venv", str(venv))
    assert installed(venv) == {"alpha": "1.0"}
    sp = site_packages(venv)
    assert not (sp / "extra").exists() and not (venv / "bin" / "extra-tool").exists()
    assert not list(venv.glob("include/site/*/extra"))


def test_upgrade_and_downgrade_follow_the_lock(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    old_only = index.wheel("beta", "3.0", {"beta/__init__.py": b"V = 3\n", "beta/only3.py": b""})
    venv = tmp_path / "venv"
    lading.ok(str(write_lock(project, [pkg(r["a1"]), pkg(old_only)])), "--venv", str(venv))
    ran = lading.ok(str(write_lock(project, [pkg(r["a2"]), pkg(r["b1"])])), "--venv", str(venv), "-v")
    assert "upgrade    alpha 1.0 -> 2.0" in ran.out and "downgrade  beta 3.0 -> 1.0" in ran.out
    assert installed(venv) == {"alpha": "2.0", "beta": "1.0"}
    assert not (site_packages(venv) / "beta" / "only3.py").exists()
    assert run_py(venv, "import alpha; print(alpha.__version__)") == "2.0"
    check_record(venv, "alpha")
    check_record(venv, "beta")


# --- --deploy ---------------------------------------------------------------------------------------------


def test_deploy_refuses_a_stale_lock(lading: Lading, index: Index, project: Path, tmp_path: Path) -> None:
    a1 = index.wheel("alpha", "1.0")
    (project / "requirements.txt").write_text(requirements_text(a1))
    (project / "requirements.in").write_text("alpha>=1\n")
    venv = tmp_path / "venv"
    lading.ok(str(project / "requirements.txt"), "--venv", str(venv), "--deploy", "--index-url", index.simple)
    assert installed(venv) == {"alpha": "1.0"}
    (project / "requirements.in").write_text("alpha>=1\nbeta\n")
    before = snapshot(venv)
    ran = lading(str(project / "requirements.txt"), "--venv", str(venv), "--deploy", "--index-url", index.simple)
    assert ran.code == 1
    assert "requirements.in" in ran.err and "beta" in ran.err and "out of date" in ran.err, ran.err
    assert snapshot(venv) == before
    # without --deploy the same lock installs
    lading.ok(str(project / "requirements.txt"), "--venv", str(venv), "--index-url", index.simple)


def test_a_package_without_a_file_for_this_target_is_an_error_not_a_gap(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    a1 = index.wheel("alpha", "1.0")
    foreign = index.wheel("beta", "1.0", tag="cp27-cp27m-win32", purelib=False)
    write_lock(project, [pkg(a1), pkg(foreign)])
    venv = tmp_path / "venv"
    ran = lading(str(project), "--venv", str(venv))
    assert ran.code == 1
    assert "beta 1.0" in ran.err and "no file for this target" in ran.err and foreign.filename in ran.err, ran.err
    assert installed(venv) == {}


def test_deploy_refuses_an_unhashed_requirement(lading: Lading, index: Index, project: Path, tmp_path: Path
                                               ) -> None:
    a1, b1 = index.wheel("alpha", "1.0"), index.wheel("beta", "1.0")
    (project / "requirements.txt").write_text(requirements_text(a1, unhashed=["beta==1.0"]))
    venv = tmp_path / "venv"
    ran = lading(str(project / "requirements.txt"), "--venv", str(venv), "--deploy", "--index-url", index.simple)
    assert ran.code == 1
    assert "beta" in ran.err and "hash" in ran.err
    assert installed(venv) == {} if venv.exists() else True
    assert not list(venv.glob("lib/python3.*/site-packages/*.dist-info"))
    del b1


def test_deploy_refuses_an_sdist_build_and_says_how_to_get_a_wheel(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    publish_backend(index)
    sdist = index.publish(write_sdist(tmp_path / "sdists", "delta-1.0", project_files("delta", "1.0")),
                          "delta", "1.0")
    lock = write_lock(project, [pkg(index.wheel("alpha", "1.0")), pkg(sdist)])
    venv = tmp_path / "venv"
    ran = lading(str(lock), "--venv", str(venv), "--deploy", "--index-url", index.simple)
    assert ran.code == 1
    assert "delta 1.0" in ran.err and "built from source" in ran.err
    assert "wheelhouse" in ran.err and "--find-links" in ran.err
    assert not list(venv.glob("lib/python3.*/site-packages/*.dist-info"))


def test_deploy_refuses_a_hash_only_lock_whose_only_file_is_an_sdist(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    publish_backend(index)
    sdist = index.publish(write_sdist(tmp_path / "sdists", "delta-1.0", project_files("delta", "1.0")),
                          "delta", "1.0")
    (project / "requirements.txt").write_text(requirements_text(sdist))
    venv = tmp_path / "venv"
    ran = lading(str(project / "requirements.txt"), "--venv", str(venv), "--deploy", "--index-url", index.simple)
    assert ran.code == 1
    assert "delta 1.0" in ran.err and "built from source" in ran.err, ran.err
    assert not list(venv.glob("lib/python3.*/site-packages/*.dist-info"))


# --- hashes, offline, find-links ---------------------------------------------------------------------------


def test_hash_mismatch_is_refused_and_leaves_the_environment_unchanged(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    venv = tmp_path / "venv"
    lading.ok(str(write_lock(project, [pkg(r["a1"]), pkg(r["c1"])])), "--venv", str(venv))
    before = snapshot(venv)
    wrong = "0" * 64
    lock = write_lock(project, [pkg(r["a2"]), pkg(r["b1"], hashes={r["b1"].filename: wrong})])
    ran = lading(str(lock), "--venv", str(venv))
    assert ran.code == 1
    assert "beta 1.0" in ran.err and r["b1"].url in ran.err
    assert wrong in ran.err and r["b1"].sha256 in ran.err
    assert str(r["b1"].size) in ran.err
    assert snapshot(venv) == before, "nothing from a failed batch is installed, nothing removed"
    assert installed(venv) == {"alpha": "1.0", "gamma": "1.0"}
    # the bytes that did not match are not in the cache under either hash
    assert not list((tmp_path / "cache").glob(f"archives-v1/*/{wrong}"))
    assert not list((tmp_path / "cache").glob(f"archives-v1/*/{r['b1'].sha256}"))


def test_packages_are_linked_while_others_unpack_but_never_from_a_failed_batch(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    # A new venv without bytecode: each package is linked as soon as its tree is unpacked, once every
    # download is verified. Warm the cache with alpha so its tree is ready before beta's download fails.
    r = releases(index)
    lading.ok(str(write_lock(project, [pkg(r["a1"])])), "--venv", str(tmp_path / "warm-up"), "--no-compile")
    venv = tmp_path / "venv"
    wrong = "0" * 64
    ran = lading(str(write_lock(project, [pkg(r["a1"]), pkg(r["b1"], hashes={r["b1"].filename: wrong})])),
                 "--venv", str(venv), "--no-compile")
    assert ran.code == 1 and "beta 1.0" in ran.err
    assert installed(venv) == {}, "alpha's tree was ready, but its batch failed"
    done = lading(str(write_lock(project, [pkg(r["a1"]), pkg(r["b1"]), pkg(r["c1"])])), "--venv", str(venv),
                  "--no-compile", "--json")
    assert done.code == 0
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}
    timings = json.loads(done.out)["outcome"]["timings"]
    assert "compile" not in timings, "the early-linking path ran"


def test_offline_with_a_warm_cache_works_and_a_cold_one_lists_what_is_missing(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    lock = write_lock(project, [pkg(r["a1"]), pkg(r["b1"])])
    lading.ok(str(lock), "--venv", str(tmp_path / "warm-up"))
    requests = len(index.server.requests)
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--offline")
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}
    assert len(index.server.requests) == requests
    cold = lading(str(lock), "--venv", str(tmp_path / "cold"), "--offline", "--cache-dir", str(tmp_path / "c2"))
    assert cold.code == 1
    assert r["a1"].filename in cold.err and r["b1"].filename in cold.err
    assert "offline" in cold.err
    assert len(index.server.requests) == requests
    assert not list((tmp_path / "cold").glob("lib/python3.*/site-packages/*.dist-info"))


def test_requirements_with_hashes_install_offline_from_find_links(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    r = releases(index)
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for key in ("a1", "b1"):
        shutil.copy(r[key].path, wheelhouse)
    (project / "requirements.txt").write_text(requirements_text(r["a1"], r["b1"]))
    venv = tmp_path / "venv"
    index.server.close()
    lading.ok(str(project / "requirements.txt"), "--venv", str(venv), "--offline", "--find-links", str(wheelhouse))
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}
    # a file in the wheelhouse whose bytes differ from the lock's hash is refused
    (wheelhouse / r["b1"].filename).write_bytes(r["b2"].path.read_bytes())
    ran = lading(str(project / "requirements.txt"), "--venv", str(tmp_path / "v2"), "--offline", "--find-links",
                 str(wheelhouse), "--cache-dir", str(tmp_path / "c2"))
    assert ran.code == 1 and "beta 1.0" in ran.err and r["b1"].sha256 in ran.err


def test_poetry_lock_files_are_found_on_the_index(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    a1, b1 = index.wheel("alpha", "1.0"), index.wheel("beta", "1.0")
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.poetry]
        name = "proj"
        version = "0.1.0"
        description = ""
        authors = []
        package-mode = false

        [tool.poetry.dependencies]
        python = ">=3.9"
        alpha = "*"
        beta = "*"
        """))
    lock_text = ""
    for f in (a1, b1):
        lock_text += textwrap.dedent(f"""\
            [[package]]
            name = "{f.name}"
            version = "{f.version}"
            description = ""
            optional = false
            python-versions = "*"
            groups = ["main"]
            files = [
                {{file = "{f.filename}", hash = "sha256:{f.sha256}"}},
            ]

            """)
    lock_text += '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\ncontent-hash = "0"\n'
    (project / "poetry.lock").write_text(lock_text)
    venv = tmp_path / "venv"
    lading.ok(str(project / "poetry.lock"), "--venv", str(venv), "--index-url", index.simple)
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}
    check_record(venv, "beta")


# --- destinations ----------------------------------------------------------------------------------------


def tool_wheel(index: Index) -> Published:
    return index.wheel("tool", "1.0", {"tool/__init__.py": b"def main():\n    print('tool ok')\n"},
                       entry_points={"console_scripts": {"tool": "tool:main"}},
                       data={"data": {"share/tool/readme.txt": b"readme\n"}})


def layout(root: Path) -> set[str]:
    """Installed files under root, without bytecode and the per-installer metadata files."""
    skip = ("INSTALLER", "RECORD", "REQUESTED", "direct_url.json")
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.name not in skip}


@pytest.mark.parametrize("flag", ["--prefix", "--target"])
def test_prefix_and_target_layouts_match_pips(
    lading: Lading, index: Index, project: Path, tmp_path: Path, flag: str
) -> None:
    published = tool_wheel(index)
    lock = write_lock(project, [pkg(published)])
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    lading.ok(str(lock), flag, str(ours))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "--no-compile", flag, str(theirs), str(published.path)],
                   check=True, capture_output=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull,
                                                         "PIP_FIND_LINKS": ""})
    assert layout(ours) == layout(theirs)
    sp = ours / "lib" / f"python{PY}" / "site-packages" if flag == "--prefix" else ours
    assert (sp / "tool" / "__init__.py").is_file()
    assert (ours / "bin" / "tool").read_text().splitlines()[0] == f"#!{sys.executable}"
    env = {**os.environ, "PYTHONPATH": str(sp)}
    done = subprocess.run([str(ours / "bin" / "tool")], capture_output=True, text=True, env=env, check=True)
    assert done.stdout == "tool ok\n"
    assert list(sp.glob(f"tool/__pycache__/__init__.{TAG}.pyc"))


def test_python_alone_refuses_an_externally_managed_interpreter(
    lading: Lading, index: Index, project: Path
) -> None:
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no system python3")
    stdlib = subprocess.run([str(system), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            capture_output=True, text=True).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").is_file():
        pytest.skip("the system python3 is not marked externally managed (PEP 668)")
    lock = write_lock(project, [pkg(index.wheel("alpha", "1.0"))])
    ran = lading(str(lock), "--python", str(system))
    assert ran.code == 1
    assert "externally managed" in ran.err and "--break-system-packages" in ran.err
    assert "EXTERNALLY-MANAGED" in ran.err
    # with the flag it is accepted (a dry run, so the system stays as it is)
    ran = lading.ok(str(lock), "--python", str(system), "--break-system-packages", "--dry-run", "--inexact")
    assert "install    alpha 1.0" in ran.out


# --- bytecode and link modes ------------------------------------------------------------------------------


def code_wheel(index: Index, name: str = "codepkg") -> Published:
    return index.wheel(name, "1.0", {f"{name}/__init__.py": b"from . import sub\nVALUE = sub.X + 1\n",
                                     f"{name}/sub/__init__.py": b"from .deep import X\n",
                                     f"{name}/sub/deep.py": b"X = 41\n",
                                     f"{name}_top.py": b"TOP = True\n"})


def pyc_state(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.pyc")}


def import_all(venv: Path, modules: Sequence[str]) -> None:
    run_py(venv, "; ".join(f"import {m}" for m in modules))


def check_bytecode(venv: Path, name: str) -> None:
    """pycs for the venv's interpreter tag are installed, in RECORD, and importing does not rewrite them."""
    sp = site_packages(venv)
    tag = run_py(venv, "import sys; print(sys.implementation.cache_tag)")
    rows = check_record(venv, name)
    sources = [r for r in rows if r.endswith(".py")]
    assert sources
    for source in sources:
        parent, _, stem = source.rpartition("/")
        pyc = f"{parent + '/' if parent else ''}__pycache__/{stem[:-3]}.{tag}.pyc"
        assert (sp / pyc).is_file(), pyc
        assert pyc in rows, pyc
    assert not [p for p in sp.rglob("*.pyc") if f".{tag}." not in p.name], "only the target tag"
    before = pyc_state(sp)
    modules = [s[:-3].replace("/", ".").removesuffix(".__init__") for s in sources]
    import_all(venv, modules)
    after = pyc_state(sp)
    assert after == before, "Python rewrote the installed bytecode: it was not valid for the sources"


def test_bytecode_is_installed_recorded_and_valid(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    lock = write_lock(project, [pkg(code_wheel(index))])
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv))
    check_bytecode(venv, "codepkg")
    assert run_py(venv, "import codepkg; print(codepkg.VALUE)") == "42"
    # a warm second venv links the cached bytecode: still valid
    lading.ok(str(lock), "--venv", str(tmp_path / "venv2"))
    check_bytecode(tmp_path / "venv2", "codepkg")


def test_no_compile_installs_no_bytecode(lading: Lading, index: Index, project: Path, tmp_path: Path) -> None:
    lock = write_lock(project, [pkg(code_wheel(index))])
    lading.ok(str(lock), "--venv", str(tmp_path / "warm"))  # the cache has bytecode; it must not come along
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--no-compile")
    sp = site_packages(venv)
    assert not list(sp.rglob("*.pyc")) and not list(sp.rglob("__pycache__"))
    assert not [r for r in check_record(venv, "codepkg") if r.endswith(".pyc")]


def test_a_later_run_with_bytecode_reinstalls_what_was_installed_without(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    lock = write_lock(project, [pkg(code_wheel(index))])
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--no-compile")
    assert not list(site_packages(venv).rglob("*.pyc"))
    lading.ok(str(lock), "--venv", str(venv))
    check_bytecode(venv, "codepkg")


def cache_inodes(cache: Path) -> set[tuple[int, int]]:
    return {(p.stat().st_dev, p.stat().st_ino) for p in cache.rglob("*") if p.is_file()}


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_link_modes_and_files_lading_writes_are_never_links_into_the_cache(
    lading: Lading, index: Index, project: Path, tmp_path: Path, mode: str
) -> None:
    write_project(project)
    lock = write_lock(project, [pkg(code_wheel(index)), pkg(tool_wheel(index)),
                                {"name": "proj", "version": "0.1", "directory": {"path": ".", "editable": False}}])
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--link-mode", mode)
    sp = site_packages(venv)
    inodes = cache_inodes(tmp_path / "cache")
    module = sp / "codepkg" / "sub" / "deep.py"
    pyc = next((sp / "codepkg" / "sub" / "__pycache__").glob("deep.*.pyc"))
    for path in (module, pyc):
        shared = (path.stat().st_dev, path.stat().st_ino) in inodes
        assert shared == (mode == "hardlink"), (path, mode)
        assert (path.stat().st_nlink >= 2) == (mode == "hardlink")
    written = [venv / "bin" / "tool"]
    for name in ("codepkg", "tool", "proj"):
        dist_info, _ = record_of(venv, name)
        written += [dist_info / "RECORD", dist_info / "INSTALLER"]
    written.append(record_of(venv, "proj")[0] / "direct_url.json")
    for path in written:
        assert path.stat().st_nlink == 1, path
        assert (path.stat().st_dev, path.stat().st_ino) not in inodes, path
    check_bytecode(venv, "codepkg")


PYENV_VERSIONS = ("3.9", "3.13")


def pyenv_python(version: str) -> Optional[Path]:
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", "python")))
    return Path(found[-1]) if found else None


@pytest.mark.parametrize("version", PYENV_VERSIONS)
def test_installs_into_other_interpreters(
    lading: Lading, index: Index, project: Path, tmp_path: Path, version: str
) -> None:
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no pyenv Python {version}")
    lock = write_lock(project, [pkg(code_wheel(index)), pkg(tool_wheel(index))])
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv), "--python", str(python))
    assert run_py(venv, "import sys; print('%d.%d' % sys.version_info[:2])") == version
    assert site_packages(venv).parent.name == f"python{version}"
    check_bytecode(venv, "codepkg")
    assert subprocess.run([str(venv / "bin" / "tool")], capture_output=True, text=True,
                          check=True).stdout == "tool ok\n"
    assert (venv / "bin" / "tool").read_text().splitlines()[0] == f"#!{venv_python(venv)}"
    # the same cache tree serves 3.11 too: its bytecode is kept per tag
    other = tmp_path / "venv311"
    lading.ok(str(lock), "--venv", str(other))
    check_bytecode(other, "codepkg")


# --- default destination and direct sources ----------------------------------------------------------------


def test_default_destination_is_the_active_venv_then_the_projects(
    lading: Lading, index: Index, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = write_lock(project, [pkg(index.wheel("alpha", "1.0"))])
    active = tmp_path / "active"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(active)], check=True)
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    lading.ok(str(project))
    assert installed(active) == {"alpha": "1.0"}
    assert not (project / ".venv").exists()
    monkeypatch.delenv("VIRTUAL_ENV")
    ran = lading.ok(str(project))
    assert installed(project / ".venv") == {"alpha": "1.0"}
    assert "the project's venv" in ran.out
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "not-a-venv"))
    (tmp_path / "not-a-venv").mkdir()
    ran = lading(str(lock))
    assert ran.code == 1 and "VIRTUAL_ENV" in ran.err


def test_url_and_path_archives_record_direct_url_and_requested(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    remote = index.wheel("alpha", "1.0")
    local = make_wheel(project / "wheels", "beta", "1.0")
    local_sha = hashlib.sha256(local.read_bytes()).hexdigest()
    text = pylock_text([]) + textwrap.dedent(f"""\
        [[packages]]
        name = "alpha"
        version = "1.0"
        archive = {{url = "{remote.url}", hashes = {{sha256 = "{remote.sha256}"}}}}

        [[packages]]
        name = "beta"
        version = "1.0"
        archive = {{path = "wheels/{local.name}", hashes = {{sha256 = "{local_sha}"}}}}
        """)
    lock = project / "pylock.toml"
    lock.write_text(text)
    venv = tmp_path / "venv"
    lading.ok(str(lock), "--venv", str(venv))
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0"}
    alpha, _ = record_of(venv, "alpha")
    beta, _ = record_of(venv, "beta")
    assert (alpha / "REQUESTED").exists() and (beta / "REQUESTED").exists()
    assert json.loads((alpha / "direct_url.json").read_text()) == {
        "url": remote.url, "archive_info": {"hash": f"sha256={remote.sha256}", "hashes": {"sha256": remote.sha256}}}
    assert json.loads((beta / "direct_url.json").read_text())["url"] == local.resolve().as_uri()
    # the same sources again: nothing to do
    ran = lading.ok(str(lock), "--venv", str(venv), "--dry-run")
    assert "would change: nothing" in ran.out


# --- credentials and progress ---------------------------------------------------------------------------


def test_credentials_are_never_printed_or_written(
    lading: Lading, index: Index, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-t0ken"
    alpha = index.wheel("alpha", "1.0")
    beta = index.wheel("beta", "1.0")
    authed = alpha.url.replace("http://", f"http://user:{secret}@")
    text = pylock_text([]) + textwrap.dedent(f"""\
        [[packages]]
        name = "alpha"
        version = "1.0"
        archive = {{url = "{authed}", hashes = {{sha256 = "{alpha.sha256}"}}}}
        """)
    (project / "pylock.toml").write_text(text)
    venv = tmp_path / "venv"
    ran = lading.ok(str(project / "pylock.toml"), "--venv", str(venv), "-v", "--json")
    assert secret not in ran.out + ran.err
    # requirements with hashes through an index given with ${VAR} credentials; a wrong hash fails loudly
    monkeypatch.setenv("INDEX_TOKEN", secret)
    (project / "requirements.txt").write_text(requirements_text(beta).replace(beta.sha256, "1" * 64))
    ran = lading(str(project / "requirements.txt"), "--venv", str(tmp_path / "v2"),
                 "--index-url", index.simple.replace("http://", "http://user:${INDEX_TOKEN}@"))
    assert ran.code == 1 and "beta" in ran.err
    assert secret not in ran.out + ran.err
    (project / "requirements.txt").write_text(requirements_text(beta))
    ran = lading.ok(str(project / "requirements.txt"), "--venv", str(tmp_path / "v2"), "-v",
                    "--index-url", index.simple.replace("http://", "http://user:${INDEX_TOKEN}@"))
    assert secret not in ran.out + ran.err
    for root in (venv, tmp_path / "v2", tmp_path / "cache"):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert secret.encode() not in path.read_bytes(), path


def test_progress_is_a_live_line_on_a_terminal_and_silent_in_pipes(
    index: Index, project: Path, tmp_path: Path
) -> None:
    import pty
    import select

    lock = write_lock(project, [pkg(index.wheel("alpha", "1.0")), pkg(index.wheel("beta", "1.0"))])
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
    env.update(PIP_CONFIG_FILE=os.devnull, TERM="xterm", PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    command = [sys.executable, "-m", "lading", "install", str(lock), "--cache-dir", str(tmp_path / "cache")]
    piped = subprocess.run([*command, "--venv", str(tmp_path / "v1")], capture_output=True, text=True, env=env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "" and "\r" not in piped.stdout
    assert piped.stdout.splitlines()[-1].startswith("2 install in ")
    parent, child = pty.openpty()
    process = subprocess.Popen([*command, "--venv", str(tmp_path / "v2"), "--cache-dir", str(tmp_path / "c2")],
                               stdout=subprocess.DEVNULL, stderr=child, env=env)
    os.close(child)
    seen = b""
    while True:
        ready, _, _ = select.select([parent], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(parent)
    assert process.wait(timeout=60) == 0
    assert b"\rdownloading 0/2" in seen and b"\rlinking 0/2" in seen, seen
    assert seen.endswith(b"\r"), "the live line is cleared at the end"
