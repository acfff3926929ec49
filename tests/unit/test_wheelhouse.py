"""``lading build wheelhouse``: wheels and sdists made in the test, served from an index on 127.0.0.1; the
project beside the lock is built with a stdlib-only in-tree backend. The acceptance test installs from the
wheelhouse three ways (lading, pip with hashes, pip from the static index) with the network cut off."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pytest
from packaging.tags import Tag

from lading._toml import load_toml
from lading.artifacts.wheelhouse import WheelhouseOptions, build
from lading.cli.main import main
from lading.errors import LadingError
from lading.model import Target
from lading.target import current
from tests.unit._httpserver import LocalServer, serving
from tests.unit.test_install_cli import Index, Published, requirements_text
from tests.wheelmaker import make_sdist, sdist_members

APP_CODE = b"import alpha, beta\n\ndef main():\n    print('app', alpha.__version__, beta.__version__)\n"
FOREIGN = Tag("cp399", "cp399", "linux_x86_64")  # a target no machine here is


@dataclass(frozen=True)
class World:
    index: Index
    alpha: Published  # a wheel for every Python
    alpha_foreign: Published  # another wheel of the same release, for FOREIGN only
    beta: Published  # an sdist only: built into a wheel by the wheelhouse
    project: Path  # app 1.0 (needs alpha and beta) with a hash-only requirements.txt beside it
    cache: Path


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                 "LADING_EXTRA_INDEX_URL", "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture(scope="module")
def world(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    index = Index(server, root / "index")
    server.serve_tree(index.root)
    alpha = index.wheel("alpha", "1.0")
    alpha_foreign = index.wheel("alpha", "1.0", tag=str(FOREIGN))
    beta = index.publish(make_sdist(root / "sdists", "beta", "2.0"), "beta", "2.0")
    project = root / "app"
    members = sdist_members("app", "1.0", {"app/__init__.py": APP_CODE}, requires=["alpha", "beta"],
                            entry_points={"console_scripts": {"app": "app:main"}})
    for relative, data in members.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_bytes(data)
    (project / "requirements.txt").write_text(requirements_text(alpha, alpha_foreign, beta), encoding="utf-8")
    return World(index, alpha, alpha_foreign, beta, project, root / "cache")


def wheelhouse(world: World, output: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["build", "wheelhouse", str(world.project), "-o", str(output), "--index-url", world.index.simple,
                 "--cache-dir", str(world.cache), "--json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    data: dict[str, Any] = json.loads(captured.out)
    return data


@pytest.fixture(scope="module")
def built(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelhouse for the running interpreter, shared by the tests that only read it."""
    output = tmp_path_factory.mktemp("out") / "wheelhouse"
    build(WheelhouseOptions(output=output, path=world.project, index_url=world.index.simple,
                            cache_dir=world.cache))
    return output


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, tuple[int, int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mode, int(p.stat().st_mtime), p.read_bytes() if p.is_file()
                                       else b"") for p in sorted(root.rglob("*"))}


# --- what a wheelhouse holds ----------------------------------------------------------------------------


def test_wheelhouse_holds_every_wheel_the_target_needs_with_the_sdist_and_project_built(
    built: Path, world: World
) -> None:
    names = sorted(p.name for p in built.iterdir())
    assert names == ["alpha-1.0-py3-none-any.whl", "app-1.0-py3-none-any.whl", "beta-2.0-py3-none-any.whl",
                     "pylock.toml", "requirements.txt", "sbom.cdx.json", "simple"]
    assert sha256(built / "alpha-1.0-py3-none-any.whl") == world.alpha.sha256  # the locked file, as it is
    assert not (built / world.alpha_foreign.filename).exists()  # not for this target
    for wheel in built.glob("*.whl"):
        assert wheel.stat().st_nlink == 1  # a copy, not a link into the cache
        assert wheel.stat().st_mode & 0o777 == 0o644


def test_wheelhouse_pylock_points_at_its_files_by_relative_path_with_hashes(built: Path, world: World) -> None:
    data = load_toml(built / "pylock.toml")
    packages = {p["name"]: p for p in data["packages"]}
    assert sorted(packages) == ["alpha", "app", "beta"]
    for package in packages.values():
        [wheel] = package["wheels"]
        path = built / wheel["path"]
        assert wheel["path"] == wheel["name"] and path.is_file()
        assert wheel["hashes"] == {"sha256": sha256(path)} and wheel["size"] == path.stat().st_size
    assert packages["beta"]["tool"]["lading"] == {"built-from": "sdist", "sdist-sha256": world.beta.sha256}
    assert packages["app"]["tool"]["lading"] == {"built-from": "directory"}
    assert "tool" not in packages["alpha"]
    assert data["tool"]["lading"]["wheelhouse"] == 1 and data["tool"]["lading"]["source"] == "requirements.txt"
    assert len(data["environments"]) == 1 and data["default-groups"] == []


def test_wheelhouse_requirements_list_every_wheel_hash(built: Path) -> None:
    text = (built / "requirements.txt").read_text()
    for wheel in built.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        assert f"{name}=={version} \\\n    --hash=sha256:{sha256(wheel)}" in text


def test_wheelhouse_index_is_pep503_with_hash_fragments_and_pep691_json(built: Path) -> None:
    simple = built / "simple"
    root = (simple / "index.html").read_text()
    assert all(f'<a href="{n}/">{n}</a>' in root for n in ("alpha", "app", "beta"))
    assert json.loads((simple / "index.json").read_text())["projects"] == [
        {"name": "alpha"}, {"name": "app"}, {"name": "beta"}]
    wheel = built / "alpha-1.0-py3-none-any.whl"
    page = (simple / "alpha" / "index.html").read_text()
    assert f'href="../../{wheel.name}#sha256={sha256(wheel)}"' in page
    listing = json.loads((simple / "alpha" / "index.json").read_text())
    assert listing["meta"] == {"api-version": "1.1"} and listing["versions"] == ["1.0"]
    assert listing["files"] == [{"filename": wheel.name, "url": f"../../{wheel.name}",
                                 "hashes": {"sha256": sha256(wheel)}, "size": wheel.stat().st_size}]


def test_wheelhouse_index_says_requires_python_where_the_wheel_does(tmp_path: Path, world: World) -> None:
    index = world.index
    old = index.wheel("oldpy", "1.0", dist_info_files={"METADATA": b"Metadata-Version: 2.1\nName: oldpy\n"
                                                       b"Version: 1.0\nRequires-Python: >=3.8\n\n"})
    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text(requirements_text(old))
    out = tmp_path / "wh"
    build(WheelhouseOptions(output=out, path=project, index_url=index.simple, cache_dir=world.cache))
    assert 'data-requires-python="&gt;=3.8"' in (out / "simple" / "oldpy" / "index.html").read_text()
    assert json.loads((out / "simple" / "oldpy" / "index.json").read_text())["files"][0]["requires-python"] == ">=3.8"
    assert load_toml(out / "pylock.toml")["packages"][0]["requires-python"] == ">=3.8"


def test_wheelhouse_sbom_lists_what_it_holds(built: Path) -> None:
    sbom = json.loads((built / "sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    names = sorted(c["name"] for c in sbom["components"])
    assert names == ["alpha", "app", "beta"]


# --- several targets, reproducibility, the output directory ----------------------------------------------


def test_wheelhouse_for_two_targets_holds_the_union_and_each_target_selects_its_own(
    tmp_path: Path, world: World
) -> None:
    here = current()
    foreign = Target(name="cp399 on linux", environment={**here.environment, "python_version": "3.99",
                                                         "python_full_version": "3.99.0"},
                     tags=(FOREIGN, Tag("py3", "none", "any")))
    out = tmp_path / "wh"
    result = build(WheelhouseOptions(output=out, path=world.project, targets=(here, foreign),
                                     index_url=world.index.simple, cache_dir=world.cache))
    assert {f.filename for f in result.files} >= {world.alpha.filename, world.alpha_foreign.filename}
    assert sha256(out / world.alpha_foreign.filename) == world.alpha_foreign.sha256
    data = load_toml(out / "pylock.toml")
    assert len(data["environments"]) == 2
    [alpha] = [p for p in data["packages"] if p["name"] == "alpha"]
    assert sorted(w["name"] for w in alpha["wheels"]) == sorted([world.alpha.filename, world.alpha_foreign.filename])
    text = (out / "requirements.txt").read_text()
    assert world.alpha.sha256 in text and world.alpha_foreign.sha256 in text


def test_hash_only_lock_is_looked_up_again_when_the_cache_holds_only_another_targets_file(
    tmp_path: Path, world: World
) -> None:
    here = current()
    native = world.index.wheel("gamma", "1.0", tag=f"{here.tags[0]}")
    foreign_only = world.index.wheel("gamma", "1.0", tag=str(FOREIGN))
    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text(requirements_text(native, foreign_only))
    foreign = Target(name="cp399 on linux", environment=dict(here.environment), tags=(FOREIGN,))
    cache = tmp_path / "cache"
    build(WheelhouseOptions(output=tmp_path / "for-foreign", path=project, targets=(foreign,),
                            index_url=world.index.simple, cache_dir=cache))
    build(WheelhouseOptions(output=tmp_path / "for-here", path=project, index_url=world.index.simple, cache_dir=cache))
    assert sorted(p.name for p in (tmp_path / "for-here").glob("*.whl")) == [native.filename]


def test_wheelhouse_is_byte_for_byte_reproducible(tmp_path: Path, world: World, built: Path) -> None:
    again = tmp_path / "again"
    build(WheelhouseOptions(output=again, path=world.project, index_url=world.index.simple, cache_dir=world.cache))
    assert tree(again) == tree(built)


def test_wheelhouse_refuses_a_lock_without_a_wheel_or_sdist_for_the_target(tmp_path: Path, world: World) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text(requirements_text(world.alpha))
    lock = project / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
        f'[[packages.wheels]]\nname = "{world.alpha_foreign.filename}"\nurl = "{world.alpha_foreign.url}"\n'
        f'hashes = {{sha256 = "{world.alpha_foreign.sha256}"}}\n'
    )
    out = tmp_path / "out" / "wh"
    with pytest.raises(LadingError) as caught:
        build(WheelhouseOptions(output=out, path=lock, cache_dir=world.cache))
    assert caught.value.package == "alpha 1.0"
    assert "no wheel for" in caught.value.why
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []  # nothing written


def test_wheelhouse_refuses_a_directory_it_did_not_build_and_replaces_an_earlier_wheelhouse(
    tmp_path: Path, world: World, built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code = main(["build", "wheelhouse", str(world.project), "-o", str(busy), "--index-url", world.index.simple,
                 "--cache-dir", str(world.cache)])
    err = capsys.readouterr().err
    assert code == 1 and "not a wheelhouse lading built" in err and "Traceback" not in err
    assert (busy / "notes.txt").read_text() == "mine"

    earlier = tmp_path / "earlier"
    shutil.copytree(built, earlier)
    (earlier / "stale-0.1-py3-none-any.whl").write_bytes(b"old")
    report = wheelhouse(world, earlier, capsys=capsys)
    assert not (earlier / "stale-0.1-py3-none-any.whl").exists()
    assert sorted(f["filename"] for f in report["files"]) == sorted(p.name for p in earlier.glob("*.whl"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary leftovers


def test_find_links_serves_a_hash_only_lock_whose_release_has_several_hashes(
    built: Path, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock's line for alpha lists two hashes (two wheels); the wheelhouse holds one of them."""
    lock = tmp_path / "requirements.txt"
    lock.write_text(requirements_text(world.alpha, world.alpha_foreign))
    assert world.alpha_foreign.sha256 in lock.read_text().splitlines()[0]  # one line, both hashes
    target = tmp_path / "target"
    capsys.readouterr()
    code = main(["install", str(lock), "--offline", "--find-links", str(built),
                 "--target", str(target), "--cache-dir", str(tmp_path / "empty-cache"), "--no-compile"])
    assert code == 0, capsys.readouterr().err
    assert (target / "alpha" / "__init__.py").is_file()


# --- acceptance: installs with the network cut off -------------------------------------------------------


def _unshare_reason() -> str:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    done = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return "" if done.returncode == 0 else f"unshare -n is not permitted here: {done.stderr.strip()}"


def offline(*command: Union[str, Path], env: Optional[dict[str, str]] = None) -> str:
    done = subprocess.run(["unshare", "-n", *map(str, command)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


def test_wheelhouse_installs_the_app_with_the_network_cut_off(built: Path, tmp_path: Path) -> None:
    reason = _unshare_reason()
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "LADING_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
               LADING_CACHE_DIR=str(tmp_path / "fresh-cache"))
    copied = tmp_path / "moved" / "wheelhouse"  # a wheelhouse is relocatable: copy it elsewhere first
    shutil.copytree(built, copied)
    pythons = [venv(tmp_path / f"v{i}") for i in range(3)]
    offline(sys.executable, "-m", "lading", "install", copied, "--offline", "--find-links", copied,
            "--venv", tmp_path / "v0", env=env)
    pip = (sys.executable, "-m", "pip")
    offline(*pip, "--python", pythons[1], "install", "--no-index", "--find-links", copied, "--require-hashes",
            "-r", copied / "requirements.txt", env=env)
    offline(*pip, "--python", pythons[2], "install", "--index-url", (copied / "simple").as_uri(), "app", env=env)
    for i in range(3):
        app = tmp_path / f"v{i}" / "bin" / "app"
        assert subprocess.run([str(app)], capture_output=True, text=True, check=True).stdout == "app 1.0 2.0\n"


def test_wheelhouse_cli_prints_a_summary(world: World, built: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["build", "wheelhouse", str(world.project), "-o", str(tmp_path / "wh"), "--index-url",
                 world.index.simple, "--cache-dir", str(world.cache)])
    out = capsys.readouterr().out
    assert code == 0
    assert "3 wheels" in out and "built app-1.0-py3-none-any.whl from its directory" in out
    assert "built beta-2.0-py3-none-any.whl from its sdist" in out

