"""``lading lock``: resolving manifests against a local index on 127.0.0.1 into one multi-use lock."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from lading.cache import Cache
from lading.cli.main import main
from lading.index.http import HttpClient
from lading.index.simple import SimpleIndex
from lading.manifest import read_manifest
from lading.model import Lock, Target
from lading.resolve import ResolutionError
from lading.resolve.buildreqs import cache_wheel_getter
from lading.resolve.lock import changes, lock_manifest
from lading.resolve.metadata import LockMetadata
from lading.resolve.targets import lock_target, short_target
from lading.target import current
from tests.unit._httpserver import JSON, FileSpec, LocalServer, json_page, serving, write_tree_index
from tests.wheelmaker import make_sdist, make_wheel, metadata_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "LADING_INDEX_URL", "LADING_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "env-cache"))


@dataclass(frozen=True)
class Release:
    version: str
    requires: Sequence[str] = ()
    requires_python: Optional[str] = None
    yanked: Optional[str] = None
    tags: Sequence[str] = ("py3-none-any",)
    metadata_file: bool = True
    sdist: bool = False
    wheel: bool = True


class LocalIndex:
    """Projects published into a tree the local server serves: HTML pages, or JSON ones (with sizes)."""

    def __init__(self, server: LocalServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.files = root / "files"
        server.serve_tree(root)

    @property
    def url(self) -> str:
        return f"{self.server.url}/simple"

    def publish(self, name: str, *releases: Release, pages: str = "html") -> None:
        specs = []
        for release in releases:
            made: list[Path] = []
            if release.wheel:
                for tag in release.tags:
                    wheel = make_wheel(self.files, name, release.version, requires=release.requires, tag=tag)
                    if release.metadata_file:
                        meta = metadata_text(name, release.version, release.requires)
                        wheel.with_name(wheel.name + ".metadata").write_bytes(meta)
                    made.append(wheel)
            if release.sdist:
                made.append(make_sdist(self.files, name, release.version, requires=release.requires))
            for path in made:
                specs.append(FileSpec(
                    path.name, f"../../files/{path.name}", path.read_bytes(),
                    requires_python=release.requires_python, yanked=release.yanked,
                ))
        if pages == "json":
            self.server.add(f"/simple/{name}/", json_page(name, specs), content_type=JSON)
        else:
            write_tree_index(self.root / "simple", name, specs)


@pytest.fixture
def index(server: LocalServer, tmp_path: Path) -> LocalIndex:
    return LocalIndex(server, tmp_path / "index")


def project(tmp_path: Path, text: str, name: str = "pyproject.toml") -> Path:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pyproject(tmp_path: Path, *dependencies: str, extra: str = "") -> Path:
    listed = ", ".join(json.dumps(d) for d in dependencies)
    return project(tmp_path, f'[project]\nname = "demo"\nversion = "1.0"\ndependencies = [{listed}]\n{extra}')


def lock(
    index: LocalIndex,
    tmp_path: Path,
    manifest_path: Path,
    *,
    targets: Optional[Sequence[Target]] = None,
    previous: Optional[Lock] = None,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
) -> Lock:
    client = HttpClient(retries=0)
    with LockMetadata(client, cache_wheel_getter(Cache(tmp_path / "cache"), client)) as metadata:
        return lock_manifest(
            read_manifest(manifest_path),
            targets or [current()],
            sources=[SimpleIndex(index.url, client)],
            metadata=metadata,
            previous=previous,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
        )


def versions(result: Lock) -> dict[str, str]:
    return {str(p.name): str(p.version) for p in result.packages}


def markers(result: Lock) -> dict[str, Optional[str]]:
    return {f"{p.name} {p.version}": (str(p.marker) if p.marker else None) for p in result.packages}


def lading(*args: str) -> int:
    return main(list(args))


# --- resolution ----------------------------------------------------------------------------------------


def test_newest_versions_with_every_file_hashed(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["helper>=1"]), Release("2.0", ["helper>=2"], sdist=True))
    index.publish("helper", Release("1.0"), Release("2.0"), Release("2.5"), pages="json")
    result = lock(index, tmp_path, pyproject(tmp_path, "app"))
    assert versions(result) == {"app": "2.0", "helper": "2.5"}
    app, helper = result.packages
    assert app.marker is None
    assert app.sdist is not None and app.sdist.name == "app-2.0.tar.gz"
    assert app.sdist.hashes["sha256"] and app.sdist.url and app.sdist.url.startswith(index.server.url)
    assert [w.name for w in app.wheels or ()] == ["app-2.0-py3-none-any.whl"]
    assert app.index == index.url
    # JSON pages give sizes; HTML pages do not, and lading does not guess them.
    helper_wheel = (helper.wheels or ())[0]
    assert helper_wheel.size == (index.files / "helper-2.5-py3-none-any.whl").stat().st_size
    assert (app.wheels or ())[0].size is None


def test_conflict_is_explained_by_chains_and_ranges(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("left", Release("1.0", ["shared<2"]))
    index.publish("right", Release("1.0", ["shared>=2"]))
    index.publish("shared", Release("1.0"), Release("2.0"))
    path = pyproject(tmp_path, "left", "right")
    with pytest.raises(ResolutionError) as caught:
        lock(index, tmp_path, path)
    text = str(caught.value)
    assert "pyproject.toml (target " in text
    assert "-> left 1.0 requires 'shared<2'" in text
    assert "-> right 1.0 requires 'shared>=2'" in text
    assert "shared: versions for" in text and "2.0, 1.0" in text
    assert caught.value.file == str(path)


def test_conflict_exits_1_from_the_command(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.publish("left", Release("1.0", ["shared<2"]))
    index.publish("right", Release("1.0", ["shared>=2"]))
    index.publish("shared", Release("1.0"), Release("2.0"))
    path = pyproject(tmp_path, "left", "right")
    assert lading("lock", str(path), "--index-url", index.url) == 1
    err = capsys.readouterr().err
    assert "requires 'shared<2'" in err and "Traceback" not in err
    assert not (path.parent / "pylock.toml").exists()


def test_markers_exclude_requirements_for_the_target(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["winonly; sys_platform == 'win32'", "helper"]))
    index.publish("helper", Release("1.0"))
    linux = short_target("cp311-manylinux_x86_64")
    assert linux is not None
    result = lock(index, tmp_path, pyproject(tmp_path, "app", "other; python_version < '3'"), targets=[linux])
    assert versions(result) == {"app": "1.0", "helper": "1.0"}


def test_groups_and_extras_become_markers_and_main_wins(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["speedups; extra == 'fast'"]))
    index.publish("speedups", Release("1.0"))
    index.publish("pytest", Release("8.0", ["pluggy"]))
    index.publish("pluggy", Release("1.5"))
    index.publish("orjson", Release("3.0"))
    path = pyproject(
        tmp_path, "app", "pluggy",
        extra='[project.optional-dependencies]\njson = ["orjson"]\n'
        '[dependency-groups]\ntest = ["pytest", "app[fast]"]\n',
    )
    result = lock(index, tmp_path, path)
    assert markers(result) == {
        "app 1.0": None,
        "orjson 3.0": '"json" in extras',
        "pluggy 1.5": None,  # main needs it, so the group's need adds no condition
        "pytest 8.0": '"test" in dependency_groups',
        "speedups 1.0": '"test" in dependency_groups',  # only app[fast], only in the group
    }
    assert list(result.pylock.dependency_groups or ()) == ["test"]
    assert list(result.pylock.extras or ()) == ["json"]


def test_project_self_reference_adds_its_extras(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("orjson", Release("3.0"))
    path = pyproject(
        tmp_path,
        extra='[project.optional-dependencies]\njson = ["orjson"]\n[dependency-groups]\ndev = ["demo[json]"]\n',
    )
    assert markers(lock(index, tmp_path, path)) == {
        "orjson 3.0": '"dev" in dependency_groups or "json" in extras'
    }


def test_yanked_releases_are_skipped_unless_pinned(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("lib", Release("1.0"), Release("2.0", yanked="broken"))
    assert versions(lock(index, tmp_path, pyproject(tmp_path, "lib"))) == {"lib": "1.0"}
    pinned = lock(index, tmp_path, pyproject(tmp_path, "lib==2.0"))
    assert versions(pinned) == {"lib": "2.0"}
    assert [w.name for w in pinned.packages[0].wheels or ()] == ["lib-2.0-py3-none-any.whl"]


def test_requires_python_of_files_and_of_the_project(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("lib", Release("1.0"), Release("2.0", requires_python=">=99"))
    assert versions(lock(index, tmp_path, pyproject(tmp_path, "lib"))) == {"lib": "1.0"}
    path = pyproject(tmp_path, "lib")
    path.write_text(path.read_text().replace('version = "1.0"', 'version = "1.0"\nrequires-python = ">=99"'))
    with pytest.raises(ResolutionError, match="outside requires-python >=99") as caught:
        lock(index, tmp_path, path)
    assert caught.value.field == "requires-python"


def test_metadata_from_pep658_files_or_from_the_wheel(
    index: LocalIndex, server: LocalServer, tmp_path: Path
) -> None:
    index.publish("app", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0", ["leaf"], metadata_file=False))
    index.publish("leaf", Release("1.0"))
    assert versions(lock(index, tmp_path, pyproject(tmp_path, "app"))) == {
        "app": "1.0", "helper": "1.0", "leaf": "1.0"
    }
    # Not advertised, so asked for on the side while a range read of the wheel answers (the host is
    # not known to serve them yet); helper has none: its wheel alone answers.
    assert server.hits("/files/app-1.0-py3-none-any.whl.metadata") == 1
    assert server.hits("/files/helper-1.0-py3-none-any.whl.metadata") == 1
    assert server.hits("/files/helper-1.0-py3-none-any.whl") == 1


def test_hosts_are_asked_for_unadvertised_metadata_files_only_while_they_serve_them() -> None:
    from lading.resolve.metadata import ASK, PROBE, SKIP, _UnadvertisedFiles

    serving, mirror, never = _UnadvertisedFiles(), _UnadvertisedFiles(), _UnadvertisedFiles()
    assert serving.way("h") == PROBE  # unknown: range reads answer, the host is asked on the side
    for _ in range(3):
        serving.found("h")
    assert serving.way("h") == ASK and serving.way("other") == PROBE
    for answered in (True, False, True, True, True):
        (mirror.found if answered else mirror.missed)("h")
    assert mirror.way("h") == ASK  # one miss in five asks is worth it
    mirror.missed("h")
    mirror.missed("h")
    assert mirror.way("h") == SKIP  # three in seven is not
    never.missed("h")
    never.missed("h")
    assert never.way("h") == PROBE
    never.missed("h")
    assert never.way("h") == SKIP


def test_sdist_only_package_is_locked_with_its_sdist_after_a_metadata_build(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.publish("onlysource", Release("1.0", ["leaf"], sdist=True, wheel=False))
    index.publish("leaf", Release("1.0"))
    path = pyproject(tmp_path, "onlysource")
    assert lading("lock", str(path), "--index-url", index.url) == 0
    from lading.locks import read

    result = read(path.parent / "pylock.toml")
    assert versions(result) == {"leaf": "1.0", "onlysource": "1.0"}
    source = next(p for p in result.packages if p.name == "onlysource")
    assert source.sdist is not None and source.sdist.name == "onlysource-1.0.tar.gz" and not source.wheels


def test_sdist_only_without_builder_is_a_clear_error(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("onlysource", Release("1.0", sdist=True, wheel=False))
    with pytest.raises(ResolutionError, match="no builder is available") as caught:
        lock(index, tmp_path, pyproject(tmp_path, "onlysource"))
    assert caught.value.package == "onlysource 1.0"


# --- several targets -----------------------------------------------------------------------------------


def test_targets_merge_with_markers_only_where_they_differ(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("common", Release("1.0"))
    index.publish("native", Release("1.0", tags=(
        "cp311-cp311-manylinux_2_17_x86_64", "cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64",
    ), sdist=True))
    index.publish("lib", Release("1.0"), Release("2.0", requires_python=">=3.12"))
    path = pyproject(tmp_path, "common", "native", "lib", "uvloop; sys_platform != 'darwin'")
    index.publish("uvloop", Release("0.19"))
    linux = lock_target("cp311-manylinux_x86_64")
    mac = lock_target("cp312-macosx_arm64")
    result = lock(index, tmp_path, path, targets=[linux, mac])
    linux_marker = 'sys_platform == "linux" and platform_machine == "x86_64" and python_version == "3.11"'
    mac_marker = 'sys_platform == "darwin" and platform_machine == "arm64" and python_version == "3.12"'
    assert markers(result) == {
        "common 1.0": None,
        "lib 1.0": linux_marker,
        "lib 2.0": mac_marker,
        "native 1.0": None,
        "uvloop 0.19": linux_marker,
    }
    native = next(p for p in result.packages if p.name == "native")
    assert sorted(w.name or "" for w in native.wheels or ()) == [
        "native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "native-1.0-cp312-cp312-macosx_11_0_arm64.whl",
    ]
    assert native.sdist is not None


def test_same_platform_targets_differ_by_python_version_only(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("lib", Release("1.0"), Release("2.0", requires_python=">=3.12"))
    result = lock(index, tmp_path, pyproject(tmp_path, "lib"), targets=[
        lock_target("cp311-manylinux_x86_64"), lock_target("cp312-manylinux_x86_64"),
    ])
    assert markers(result) == {"lib 1.0": 'python_version == "3.11"', "lib 2.0": 'python_version == "3.12"'}


def test_short_target_names_and_unknown_ones() -> None:
    mac = short_target("cp312-macosx_arm64")
    assert mac is not None and mac.environment["sys_platform"] == "darwin"
    assert str(mac.tags[0]).startswith("cp312-cp312-macosx_14_0_arm64")
    linux = short_target("cp311-manylinux_2_17_aarch64")
    assert linux is not None and any(str(t) == "cp311-abi3-manylinux2014_aarch64" for t in linux.tags)
    assert short_target("not-a-target") is None
    with pytest.raises(Exception, match="unknown platform 'solaris_sparc'"):
        short_target("cp311-solaris_sparc")


# --- minimal change --------------------------------------------------------------------------------------


def test_existing_pins_are_kept_unless_upgraded(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"))
    path = pyproject(tmp_path, "app")
    first = lock(index, tmp_path, path)
    index.publish("app", Release("1.0", ["helper"]), Release("1.1", ["helper"]))
    index.publish("helper", Release("1.0"), Release("2.0"))
    kept = lock(index, tmp_path / "again", path, previous=first)
    assert versions(kept) == {"app": "1.0", "helper": "1.0"}
    assert changes(first, kept) == []
    one = lock(index, tmp_path / "one", path, previous=first, upgrade_packages=["helper"])
    assert versions(one) == {"app": "1.0", "helper": "2.0"}
    assert [str(c) for c in changes(first, one)] == ["~ helper 1.0 -> 2.0 (upgraded)"]
    everything = lock(index, tmp_path / "all", path, previous=first, upgrade=True)
    assert versions(everything) == {"app": "1.1", "helper": "2.0"}


def test_a_pin_that_no_longer_fits_moves(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("helper", Release("1.0"), Release("2.0"))
    first = lock(index, tmp_path, pyproject(tmp_path, "helper<2"))
    index.publish("extra", Release("1.0"))
    again = lock(index, tmp_path / "c", pyproject(tmp_path, "helper>=2", "extra"), previous=first)
    assert versions(again) == {"extra": "1.0", "helper": "2.0"}
    assert [str(c) for c in changes(first, again)] == ["+ extra 1.0", "~ helper 1.0 -> 2.0 (upgraded)"]


# --- the command ----------------------------------------------------------------------------------------


def test_requirements_in_locks_into_requirements_txt_with_hashes(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.publish("app", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"), Release("2.0"))
    path = project(tmp_path, "app\nhelper<2 ; python_version >= '3'\n", name="requirements.in")
    assert lading("lock", str(path.parent), "--index-url", index.url) == 0
    out = capsys.readouterr().out
    assert "+ app 1.0" in out and "+ helper 1.0" in out
    text = (path.parent / "requirements.txt").read_text()
    assert "app==1.0 \\\n    --hash=sha256:" in text
    assert "helper==1.0 \\\n    --hash=sha256:" in text
    assert "from requirements.in" in text
    # the written file is itself a lock lading reads, and its pins are kept on the next run
    index.publish("app", Release("1.0", ["helper"]), Release("1.5", ["helper"]))
    assert lading("lock", str(path.parent), "--index-url", index.url, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["changes"] == []
    assert {p["name"]: p["version"] for p in report["packages"]} == {"app": "1.0", "helper": "1.0"}
    assert lading("lock", str(path.parent), "--index-url", index.url, "-P", "app") == 0
    assert "~ app 1.0 -> 1.5 (upgraded)" in capsys.readouterr().out


def test_pylock_output_is_read_back_and_selected(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"))
    index.publish("pytest", Release("8.0"))
    path = pyproject(tmp_path, "app", extra='[dependency-groups]\ntest = ["pytest"]\n')
    assert lading("lock", str(path), "--index-url", index.url) == 0
    from lading.locks import read
    from lading.model import GroupRequest
    from lading.select import select

    result = read(path.parent / "pylock.toml")
    plain = select(result, current(), GroupRequest())
    assert sorted(str(s.package.name) for s in plain.selected) == ["app", "helper"]
    grouped = select(result, current(), GroupRequest(groups=("test",)))
    assert sorted(str(s.package.name) for s in grouped.selected) == ["app", "helper", "pytest"]
    text = (path.parent / "pylock.toml").read_text()
    assert 'manifest = "pyproject.toml"' in text


def test_pipfile_lock_output_passes_verify_deploy(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.publish("app-main", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"))
    index.publish("pytest", Release("8.0"))
    path = project(tmp_path, f"""\
        [[source]]
        name = "local"
        url = "{index.url}"
        verify_ssl = false

        [packages]
        App_Main = "*"

        [dev-packages]
        pytest = "*"
        """, name="Pipfile")
    assert lading("lock", str(path), "--to", "pipfile-lock") == 0
    data = json.loads((path.parent / "Pipfile.lock").read_text())
    assert set(data["default"]) == {"app-main", "helper"}
    assert set(data["develop"]) == {"pytest"}
    assert data["_meta"]["sources"] == [{"name": "local", "url": index.url, "verify_ssl": False}]
    assert data["default"]["app-main"]["version"] == "==1.0" and data["default"]["app-main"]["hashes"]
    capsys.readouterr()
    assert lading("verify", str(path.parent / "Pipfile.lock"), "--deploy") == 0, capsys.readouterr()
    pipenv = REPO / ".tools-venv" / "pipenv" / "bin" / "pipenv"
    if pipenv.exists():
        done = subprocess.run(
            [str(pipenv), "verify"], cwd=path.parent, capture_output=True, text=True,
            env={**os.environ, "PIPENV_IGNORE_VIRTUALENVS": "1", "PIPENV_VERBOSITY": "-1"}, timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_target_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = pyproject(tmp_path, "app")
    assert lading("lock", str(path), "--target", "nowhere", "--index-url", "http://127.0.0.1:9/simple") == 2
    assert "neither a known name nor a platform spec file" in capsys.readouterr().err


def test_direct_reference_is_refused_with_the_field(index: LocalIndex, tmp_path: Path) -> None:
    path = pyproject(tmp_path, "thing @ https://example.invalid/thing-1.0.tar.gz")
    with pytest.raises(ResolutionError, match="direct reference") as caught:
        lock(index, tmp_path, path)
    assert caught.value.field == "main[0]"


def test_target_spec_file_from_lading_target(index: LocalIndex, tmp_path: Path) -> None:
    spec = tmp_path / "here.json"
    assert lading("target", "-o", str(spec)) == 0
    index.publish("lib", Release("1.0"))
    path = pyproject(tmp_path, "lib")
    assert lading("lock", str(path), "--index-url", index.url, "--target", str(spec)) == 0
    assert "lib" in (path.parent / "pylock.toml").read_text()


def test_constraints_limit_versions_without_adding_packages(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("app", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"), Release("2.0"))
    index.publish("unused", Release("1.0"))
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "constraints.txt").write_text("helper<2\nunused==1.0\n")
    path = project(tmp_path, "-c constraints.txt\napp\n", name="requirements.in")
    assert versions(lock(index, tmp_path, path)) == {"app": "1.0", "helper": "1.0"}


def test_static_sdist_metadata_is_read_without_a_build(tmp_path: Path) -> None:
    import io
    import tarfile

    from lading.resolve.metadata import static_sdist_metadata

    def sdist(name: str, pkg_info: str) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as archive:
            data = pkg_info.encode()
            info = tarfile.TarInfo("demo-1.0/PKG-INFO")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return path

    final = sdist("a.tar.gz", "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nRequires-Dist: leaf>=1\n\n")
    found = static_sdist_metadata(final)
    assert found is not None and found.requires_dist == ("leaf>=1",)
    dynamic = sdist("b.tar.gz", "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nDynamic: Requires-Dist\n\n")
    assert static_sdist_metadata(dynamic) is None
    old = sdist("c.tar.gz", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
    assert static_sdist_metadata(old) is None


def test_metadata_files_are_kept_on_disk_for_the_next_run(
    index: LocalIndex, server: LocalServer, tmp_path: Path
) -> None:
    from lading.index.httpcache import PageCache

    index.publish("app", Release("1.0"))
    path = pyproject(tmp_path, "app")
    pages = PageCache(tmp_path / "http")
    for _ in range(2):
        client = HttpClient(retries=0)
        with LockMetadata(client, cache_wheel_getter(Cache(tmp_path / "cache"), client), pages=pages) as meta:
            lock_manifest(read_manifest(path), [current()], sources=[SimpleIndex(index.url, client)], metadata=meta)
    assert server.hits("/files/app-1.0-py3-none-any.whl.metadata") == 1
