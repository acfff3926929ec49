"""uv.lock reader: graph walk into per-package markers, sources, forks, conflicts, freshness."""

# The inline locks keep uv's one-line inline tables, as uv writes them, so lines run long.
# ruff: noqa: E501

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.pylock import PackageArchive, PackageDirectory, PackageVcs
from packaging.tags import sys_tags

from lading.errors import LockFormatError, SelectionError
from lading.locks import uvlock
from lading.model import GroupRequest, Lock, Target
from lading.select import select
from tests.conftest import materialize, real_fixtures

INDEX = "https://example.invalid/simple"
FILES = "https://files.example.invalid/packages"


def h(c: str) -> str:
    return "sha256:" + c * 64


def target(python: str) -> Target:
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    env.update(
        python_version=".".join(python.split(".")[:2]),
        python_full_version=python,
        sys_platform="linux",
        platform_system="Linux",
        os_name="posix",
    )
    return Target(name=f"py{python}", environment=env, tags=tuple(sys_tags()))


def wheel(name: str, version: str, c: str, tag: str = "py3-none-any") -> str:
    return (
        f'    {{ url = "{FILES}/{name}-{version}-{tag}.whl", hash = "{h(c)}", size = 1234, '
        f'upload-time = "2024-08-26T20:19:40.945Z" }},\n'
    )


def registry(name: str, version: str, c: str, *, extra: str = "") -> str:
    """A registry package with one pure wheel and an sdist (selectable on any target)."""
    return (
        f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {{ registry = "{INDEX}" }}\n'
        f"{extra}"
        f'sdist = {{ url = "{FILES}/{name}-{version}.tar.gz", hash = "{h(c)}", size = 99 }}\n'
        f"wheels = [\n{wheel(name, version, c)}]\n\n"
    )


APP = f"""version = 1
revision = 3
requires-python = ">=3.9"
resolution-markers = [
    "python_full_version >= '3.10'",
    "python_full_version < '3.10'",
]

[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "numpy", version = "2.0.2", source = {{ registry = "{INDEX}" }}, marker = "python_full_version < '3.10'" }},
    {{ name = "numpy", version = "2.2.6", source = {{ registry = "{INDEX}" }}, marker = "python_full_version >= '3.10'" }},
    {{ name = "requests" }},
]

[package.optional-dependencies]
cli = [
    {{ name = "httpx", extra = ["socks"] }},
    {{ name = "rich" }},
]

[package.dev-dependencies]
dev = [
    {{ name = "pytest" }},
]

[package.metadata]
requires-dist = [
    {{ name = "httpx", extras = ["socks"], marker = "extra == 'cli'" }},
    {{ name = "numpy", specifier = ">=2" }},
    {{ name = "requests", specifier = ">=2.31" }},
    {{ name = "rich", marker = "python_full_version >= '3.9' and extra == 'cli'", specifier = ">=13" }},
]
provides-extras = ["cli"]

[package.metadata.requires-dev]
dev = [{{ name = "pytest", specifier = ">=8" }}]

[[package]]
name = "colorama"
version = "0.4.6"
source = {{ registry = "{INDEX}" }}
sdist = {{ url = "{FILES}/colorama-0.4.6.tar.gz", hash = "{h('c')}", size = 27697, upload-time = "2022-10-25T02:36:22.414Z" }}
wheels = [
{wheel("colorama", "0.4.6", "d", "py2.py3-none-any")}]

[[package]]
name = "exceptiongroup"
version = "1.2.2"
source = {{ registry = "{INDEX}" }}
wheels = [
{wheel("exceptiongroup", "1.2.2", "e")}]

{registry("h2", "4.1.0", "1")}{registry("httpx", "0.27.0", "2", extra='''dependencies = [
    { name = "idna" },
]
''')}[package.optional-dependencies]
http2 = [
    {{ name = "h2" }},
]
socks = [
    {{ name = "socksio" }},
]

{registry("idna", "3.7", "3")}{registry("iniconfig", "2.0.0", "4")}[[package]]
name = "numpy"
version = "2.0.2"
source = {{ registry = "{INDEX}" }}
resolution-markers = [
    "python_full_version < '3.10'",
]
sdist = {{ url = "{FILES}/numpy-2.0.2.tar.gz", hash = "{h('5')}", size = 18902015, upload-time = "2024-08-26T20:19:40.945Z" }}
wheels = [
{wheel("numpy", "2.0.2", "6", "cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64")}]

[[package]]
name = "numpy"
version = "2.2.6"
source = {{ registry = "{INDEX}" }}
resolution-markers = [
    "python_full_version >= '3.10'",
]
sdist = {{ url = "{FILES}/numpy-2.2.6.tar.gz", hash = "{h('7')}", size = 20276440, upload-time = "2025-05-17T22:38:04.611Z" }}
wheels = [
{wheel("numpy", "2.2.6", "8", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")}]

{registry("pygments", "2.18.0", "9")}[[package]]
name = "pytest"
version = "8.3.2"
source = {{ registry = "{INDEX}" }}
dependencies = [
    {{ name = "colorama", marker = "sys_platform == 'win32'" }},
    {{ name = "exceptiongroup", marker = "python_full_version < '3.11'" }},
    {{ name = "iniconfig" }},
]
sdist = {{ url = "{FILES}/pytest-8.3.2.tar.gz", hash = "{h('a')}", size = 1427980 }}
wheels = [
{wheel("pytest", "8.3.2", "b")}]

{registry("requests", "2.32.3", "f", extra='''dependencies = [
    { name = "idna" },
    { name = "urllib3" },
]
''')}{registry("rich", "13.7.1", "0", extra='''dependencies = [
    { name = "pygments" },
]
''')}{registry("socksio", "1.0.0", "1")}{registry("urllib3", "2.2.2", "2")}"""


@pytest.fixture
def app(tmp_path: Path) -> Lock:
    path = tmp_path / "uv.lock"
    path.write_text(APP, encoding="utf-8")
    return uvlock.read(path)


def chosen(lock: Lock, python: str, request: GroupRequest | None = None) -> dict[str, str]:
    selection = select(lock, target(python), request or GroupRequest())
    names = [str(s.package.name) for s in selection.selected]
    assert len(names) == len(set(names)), "a package was selected twice"
    return {str(s.package.name): str(s.package.version) for s in selection.selected}


def write(tmp_path: Path, text: str, name: str = "uv.lock") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ graph


def test_uv_main_dependencies_of_the_root_are_selected_without_groups(app: Lock) -> None:
    assert chosen(app, "3.12.4") == {
        "app": "0.1.0", "idna": "3.7", "numpy": "2.2.6", "requests": "2.32.3", "urllib3": "2.2.2",
    }


def test_uv_numpy_split_by_python_gives_one_version_per_target(app: Lock) -> None:
    assert chosen(app, "3.9.18")["numpy"] == "2.0.2"
    assert chosen(app, "3.12.4")["numpy"] == "2.2.6"
    assert chosen(app, "3.10.0")["numpy"] == "2.2.6"


def test_uv_root_extra_follows_the_requested_extra_of_a_dependency(app: Lock) -> None:
    with_cli = chosen(app, "3.12.4", GroupRequest(extras=("cli",)))
    assert {"rich", "pygments", "httpx", "socksio"} <= set(with_cli)
    # httpx's own http2 extra is requested by nobody: h2 is not reachable at all.
    assert "h2" not in {p.name for p in app.packages}
    assert app.extras == ("cli",)


def test_uv_dev_group_packages_carry_group_and_edge_markers(app: Lock) -> None:
    assert app.groups == ("dev",)
    assert app.dev_groups == frozenset({"dev"})
    assert app.default_groups == ()
    on_39 = chosen(app, "3.9.18", GroupRequest(dev=True))
    on_312 = chosen(app, "3.12.4", GroupRequest(dev=True))
    assert {"pytest", "iniconfig", "exceptiongroup"} <= set(on_39)
    assert "exceptiongroup" not in on_312
    assert "colorama" not in on_39  # win32 only
    win = target("3.12.4")
    env = {**win.environment, "sys_platform": "win32", "platform_system": "Windows"}
    on_windows = select(app, Target("win", env, win.tags), GroupRequest(dev=True))
    assert "colorama" in {s.package.name for s in on_windows.selected}
    assert "pytest" not in chosen(app, "3.12.4")


def test_uv_package_markers_combine_groups_extras_and_edges(app: Lock) -> None:
    by_name = {str(p.name): p for p in app.packages}
    lock_env: dict[str, Any] = {**target("3.12.4").environment, "extras": frozenset(),
                                "dependency_groups": frozenset({"dev"})}
    colorama = by_name["colorama"].marker
    assert colorama is not None
    assert not colorama.evaluate(lock_env, context="lock_file")
    assert colorama.evaluate({**lock_env, "sys_platform": "win32"}, context="lock_file")
    assert not colorama.evaluate(
        {**lock_env, "sys_platform": "win32", "dependency_groups": frozenset()},
        context="lock_file",
    )
    assert by_name["requests"].marker is None
    assert by_name["idna"].marker is None  # main path wins over the cli path through httpx


def test_uv_registry_files_keep_index_hashes_sizes_and_upload_times(app: Lock) -> None:
    numpy = next(p for p in app.packages if p.name == "numpy")
    assert numpy.index == INDEX
    assert numpy.sdist is not None
    assert numpy.sdist.hashes == {"sha256": "5" * 64}
    assert numpy.sdist.size == 18902015
    assert numpy.sdist.upload_time == datetime(2024, 8, 26, 20, 19, 40, 945000, timezone.utc)
    [w] = numpy.wheels or []
    assert w.filename.startswith("numpy-2.0.2-cp39")
    assert app.indexes[0].url == INDEX
    assert app.pylock.requires_python is not None and "3.9.0" in app.pylock.requires_python


def test_uv_root_is_an_editable_directory_and_origins_name_the_array_index(app: Lock) -> None:
    root = app.packages[0]
    assert root.name == "app"
    assert root.directory == PackageDirectory(path=".", editable=True)
    assert str(app.origins[0]) == "uv.lock: package[0] (app 0.1.0)"
    numpy_origins = [o.entry for o, p in zip(app.origins, app.packages) if p.name == "numpy"]
    assert numpy_origins == ["package[7] (numpy 2.0.2)", "package[8] (numpy 2.2.6)"]
    assert app.pylock.created_by == "uv"
    assert len(app.origins) == len(app.packages)


SOURCES = f"""version = 1
revision = 2
requires-python = ">=3.9"

[[package]]
name = "attrs"
version = "23.2.0"
source = {{ git = "https://git.example.invalid/python-attrs/attrs?tag=23.2.0#{'a1' * 20}" }}

[[package]]
name = "lib"
version = "1.0.0"
source = {{ directory = "../lib" }}
dependencies = [
    {{ name = "subpkg" }},
]

[[package]]
name = "localpkg"
version = "0.3.0"
source = {{ path = "dist/localpkg-0.3.0-py3-none-any.whl" }}
wheels = [
    {{ filename = "localpkg-0.3.0-py3-none-any.whl", hash = "{h('3')}" }},
]

[[package]]
name = "plugin"
version = "0.2.0"
source = {{ editable = "plugins/plugin" }}

[[package]]
name = "six"
version = "1.17.0"
source = {{ url = "https://example.invalid/files/six-1.17.0-py2.py3-none-any.whl" }}
wheels = [
    {{ url = "https://example.invalid/files/six-1.17.0-py2.py3-none-any.whl", hash = "{h('6')}" }},
]

[[package]]
name = "subpkg"
version = "0.1.0"
source = {{ git = "https://git.example.invalid/o/mono.git?subdirectory=pkgs%2Fsub&branch=main#{'b2' * 20}" }}

[[package]]
name = "tarball"
version = "1.0"
source = {{ url = "https://example.invalid/files/tarball-1.0.tar.gz", subdirectory = "src" }}
sdist = {{ hash = "{h('7')}", size = 2048 }}

[[package]]
name = "tool"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "attrs" }},
    {{ name = "lib" }},
    {{ name = "localpkg" }},
    {{ name = "plugin" }},
    {{ name = "six" }},
    {{ name = "tarball" }},
]
"""


def test_uv_direct_sources_become_vcs_archive_and_directory(tmp_path: Path) -> None:
    lock = uvlock.read(write(tmp_path, SOURCES))
    by_name = {str(p.name): p for p in lock.packages}
    assert "tool" not in by_name  # virtual root: walked, not installed
    assert set(by_name) == {"attrs", "lib", "localpkg", "plugin", "six", "subpkg", "tarball"}
    assert by_name["attrs"].vcs == PackageVcs(
        type="git", url="https://git.example.invalid/python-attrs/attrs",
        commit_id="a1" * 20, requested_revision="23.2.0",
    )
    assert by_name["subpkg"].vcs == PackageVcs(
        type="git", url="https://git.example.invalid/o/mono.git", commit_id="b2" * 20,
        requested_revision="main", subdirectory="pkgs/sub",
    )
    assert by_name["lib"].directory == PackageDirectory(path="../lib", editable=False)
    assert by_name["plugin"].directory == PackageDirectory(path="plugins/plugin", editable=True)
    assert by_name["localpkg"].archive == PackageArchive(
        path="dist/localpkg-0.3.0-py3-none-any.whl", hashes={"sha256": "3" * 64}
    )
    assert by_name["six"].archive == PackageArchive(
        url="https://example.invalid/files/six-1.17.0-py2.py3-none-any.whl",
        hashes={"sha256": "6" * 64},
    )
    assert by_name["tarball"].archive == PackageArchive(
        url="https://example.invalid/files/tarball-1.0.tar.gz", hashes={"sha256": "7" * 64},
        size=2048, subdirectory="src",
    )
    assert all(p.marker is None for p in lock.packages)
    assert lock.indexes == ()
    selected = select(lock, target("3.11.7")).selected
    assert {type(s.source) for s in selected} == {PackageVcs, PackageDirectory, PackageArchive}
    assert len(selected) == 7


WORKSPACE = f"""version = 1
revision = 1
requires-python = ">=3.10"

[manifest]
members = [
    "core",
    "web",
]

[[package]]
name = "core"
version = "0.1.0"
source = {{ editable = "packages/core" }}
dependencies = [
    {{ name = "idna" }},
]

[package.optional-dependencies]
fast = [
    {{ name = "orjson" }},
]

[[package]]
name = "helper"
version = "0.5.0"
source = {{ editable = "../helper" }}

[package.optional-dependencies]
extra-stuff = [
    {{ name = "unused" }},
]

{registry("idna", "3.7", "3")}{registry("orjson", "3.10.0", "4")}{registry("unused", "1.0", "5")}[[package]]
name = "web"
version = "0.2.0"
source = {{ editable = "packages/web" }}
dependencies = [
    {{ name = "core" }},
    {{ name = "helper" }},
]

[package.dev-dependencies]
test = [
    {{ name = "idna" }},
]
"""


def test_uv_workspace_members_are_all_roots_and_non_member_extras_stay_unreachable(
    tmp_path: Path,
) -> None:
    lock = uvlock.read(write(tmp_path, WORKSPACE))
    by_name = {str(p.name): p for p in lock.packages}
    assert set(by_name) == {"core", "helper", "idna", "orjson", "web"}
    assert by_name["core"].directory == PackageDirectory(path="packages/core", editable=True)
    assert lock.extras == ("fast",)
    assert lock.groups == ("test",)
    assert lock.dev_groups == frozenset()
    assert "orjson" not in chosen(lock, "3.11.7")
    assert "orjson" in chosen(lock, "3.11.7", GroupRequest(extras=("fast",)))


CONFLICTS = f"""version = 1
revision = 3
requires-python = ">=3.10"
resolution-markers = [
    "extra == 'extra-3-app-cpu' and extra != 'extra-3-app-gpu'",
    "extra != 'extra-3-app-cpu' and extra == 'extra-3-app-gpu'",
    "extra != 'extra-3-app-cpu' and extra != 'extra-3-app-gpu'",
]
conflicts = [[
    {{ package = "app", extra = "cpu" }},
    {{ package = "app", extra = "gpu" }},
]]

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}

[package.optional-dependencies]
cpu = [
    {{ name = "torchish", version = "2.0.0+cpu", source = {{ registry = "https://example.invalid/cpu/simple" }} }},
]
gpu = [
    {{ name = "torchish", version = "2.0.0+cu121", source = {{ registry = "https://example.invalid/gpu/simple" }}, marker = "extra == 'extra-3-app-gpu'" }},
]

{registry("filelock", "3.15.0", "1")}[[package]]
name = "torchish"
version = "2.0.0+cpu"
source = {{ registry = "https://example.invalid/cpu/simple" }}
resolution-markers = [
    "extra == 'extra-3-app-cpu' and extra != 'extra-3-app-gpu'",
]
dependencies = [
    {{ name = "filelock", marker = "extra == 'extra-3-app-cpu'" }},
]
wheels = [
    {{ url = "https://example.invalid/cpu/files/torchish-2.0.0+cpu-py3-none-any.whl", hash = "{h('a')}" }},
]

[[package]]
name = "torchish"
version = "2.0.0+cu121"
source = {{ registry = "https://example.invalid/gpu/simple" }}
resolution-markers = [
    "extra != 'extra-3-app-cpu' and extra == 'extra-3-app-gpu'",
]
wheels = [
    {{ url = "https://example.invalid/gpu/files/torchish-2.0.0+cu121-py3-none-any.whl", hash = "{h('b')}" }},
]
"""


def test_uv_conflict_encoded_root_extras_become_extras_markers(tmp_path: Path) -> None:
    lock = uvlock.read(write(tmp_path, CONFLICTS))
    assert chosen(lock, "3.11.7") == {}
    cpu = chosen(lock, "3.11.7", GroupRequest(extras=("cpu",)))
    assert cpu == {"torchish": "2.0.0+cpu", "filelock": "3.15.0"}
    assert chosen(lock, "3.11.7", GroupRequest(extras=("gpu",))) == {"torchish": "2.0.0+cu121"}
    assert [ix.url for ix in lock.indexes] == [
        INDEX, "https://example.invalid/cpu/simple", "https://example.invalid/gpu/simple",
    ]
    # uv refuses both extras together; so does the selection, instead of installing both.
    with pytest.raises(SelectionError):
        select(lock, target("3.11.7"), GroupRequest(extras=("cpu", "gpu")))


def test_uv_conflict_marker_of_a_non_member_is_refused(tmp_path: Path) -> None:
    text = CONFLICTS.replace(
        "{ name = \"filelock\", marker = \"extra == 'extra-3-app-cpu'\" }",
        "{ name = \"filelock\", marker = \"extra == 'extra-5-other-cpu'\" }",
    )
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, text))
    assert info.value.package == "torchish 2.0.0+cpu"
    assert info.value.field == "package[2].dependencies[0].marker"
    assert "extra-5-other-cpu" in info.value.why


def test_uv_conflict_group_marker_becomes_dependency_groups(tmp_path: Path) -> None:
    text = f"""version = 1
revision = 3
requires-python = ">=3.10"

[[package]]
name = "proj"
version = "1.0"
source = {{ editable = "." }}

[package.dev-dependencies]
lint = [
    {{ name = "idna", marker = "extra == 'group-4-proj-lint'" }},
]

{registry("idna", "3.7", "3")}"""
    lock = uvlock.read(write(tmp_path, text))
    idna = next(p for p in lock.packages if p.name == "idna")
    assert idna.marker is not None and "dependency_groups" in str(idna.marker)
    assert "extra ==" not in str(idna.marker)
    assert "idna" in chosen(lock, "3.11.7", GroupRequest(groups=("lint",)))
    assert "idna" not in chosen(lock, "3.11.7")


def test_uv_script_lock_walks_manifest_requirements(tmp_path: Path) -> None:
    text = f"""version = 1
revision = 3
requires-python = ">=3.12"

[manifest]
requirements = [
    {{ name = "idna" }},
    {{ name = "rich", marker = "sys_platform == 'win32'" }},
]

{registry("idna", "3.7", "3")}{registry("rich", "13.7.1", "4")}"""
    lock = uvlock.read(write(tmp_path, text))
    assert chosen(lock, "3.12.4") == {"idna": "3.7"}


# ----------------------------------------------------------------------------------- bad inputs


def test_uv_version_2_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, APP.replace("version = 1\n", "version = 2\n", 1)))
    assert info.value.field == "version"
    assert info.value.file == str(tmp_path / "uv.lock")
    assert "2" in info.value.why and info.value.hint


def test_uv_missing_name_names_package_and_field(tmp_path: Path) -> None:
    text = APP.replace('name = "colorama"\n', "", 1)
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, text))
    assert info.value.field == "package[1].name"
    assert info.value.package == "? 0.4.6" or "0.4.6" in str(info.value.package)


def test_uv_dependency_on_a_package_not_in_the_lock(tmp_path: Path) -> None:
    text = APP.replace('{ name = "pygments" }', '{ name = "pygmentz" }')
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, text))
    assert info.value.package == "rich 13.7.1"
    assert info.value.field is not None and info.value.field.startswith("package[")
    assert info.value.field.endswith("dependencies[0].name")
    assert "pygmentz" in info.value.why


def test_uv_malformed_toml(tmp_path: Path) -> None:
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, APP[:300] + "\n[[package]\nname = "))
    assert info.value.file == str(tmp_path / "uv.lock")
    assert "TOML" in info.value.why


def test_uv_bad_hash_and_bad_upload_time_name_the_artifact(tmp_path: Path) -> None:
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, APP.replace(h("e"), "sha256-nothex", 1)))
    assert info.value.package == "exceptiongroup 1.2.2"
    assert info.value.field == "package[2].wheels[0].hash"
    text = APP.replace('upload-time = "2022-10-25T02:36:22.414Z"', 'upload-time = "yesterday"')
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, text))
    assert info.value.field == "package[1].sdist.upload-time"


def test_uv_missing_hash_is_a_deploy_finding(tmp_path: Path) -> None:
    lock = uvlock.read(write(tmp_path, APP.replace(f', hash = "{h("e")}"', "", 1)))
    [finding] = [f for f in lock.findings if f.package == "exceptiongroup 1.2.2"]
    assert finding.severity == "deploy-error"
    assert finding.field == "package[2].wheels[0]"


def test_uv_ambiguous_dependency_without_version_is_refused(tmp_path: Path) -> None:
    text = APP.replace(
        f'{{ name = "numpy", version = "2.0.2", source = {{ registry = "{INDEX}" }}, ', '{ name = "numpy", '
    )
    with pytest.raises(LockFormatError) as info:
        uvlock.read(write(tmp_path, text))
    assert info.value.package == "app 0.1.0"
    assert info.value.field == "package[0].dependencies[0]"


def test_uv_supported_markers_become_pylock_environments(tmp_path: Path) -> None:
    text = APP.replace(
        'requires-python = ">=3.9"\n',
        'requires-python = ">=3.9"\nsupported-markers = [\n    "sys_platform == \'linux\'",\n]\n',
        1,
    )
    lock = uvlock.read(write(tmp_path, text))
    assert [str(m) for m in lock.pylock.environments or []] == ['sys_platform == "linux"']
    assert "numpy" in chosen(lock, "3.12.4")
    linux = target("3.12.4")
    mac = Target("mac", {**linux.environment, "sys_platform": "darwin"}, linux.tags)
    with pytest.raises(SelectionError):
        select(lock, mac)


def test_uv_newer_revision_is_read(tmp_path: Path) -> None:
    lock = uvlock.read(write(tmp_path, APP.replace("revision = 3", "revision = 5")))
    assert lock.meta["revision"] == 5
    assert "numpy" in chosen(lock, "3.12.4")


def test_uv_revision_1_without_upload_times_and_revision_absent(tmp_path: Path) -> None:
    text = APP.replace("revision = 3\n", "")
    lock = uvlock.read(write(tmp_path, text))
    assert lock.meta["revision"] == 0
    assert len(lock.packages) > 5


def test_parse_timestamp_accepts_uv_forms() -> None:
    assert uvlock.parse_timestamp("2025-03-19T20:10:01.071Z") == datetime(
        2025, 3, 19, 20, 10, 1, 71000, timezone.utc
    )
    assert uvlock.parse_timestamp("2024-02-02T16:30:06.5Z") == datetime(
        2024, 2, 2, 16, 30, 6, 500000, timezone.utc
    )
    assert uvlock.parse_timestamp("2024-02-02T16:30:06+02:00") == datetime(
        2024, 2, 2, 14, 30, 6, tzinfo=timezone.utc
    )
    assert uvlock.parse_timestamp("2024-02-30T16:30:06Z") is None
    assert uvlock.parse_timestamp("soon") is None


# ------------------------------------------------------------------------------------ freshness

PYPROJECT = """[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = [
    "requests>=2.31",
    "numpy>=2",
]

[project.optional-dependencies]
cli = [
    "rich>=13; python_version >= '3.9'",
    "httpx[socks]",
]

[dependency-groups]
dev = ["pytest>=8"]
"""


def fresh_lock(tmp_path: Path, pyproject: str = PYPROJECT) -> Lock:
    write(tmp_path, pyproject, "pyproject.toml")
    return uvlock.read(write(tmp_path, APP))


def test_uv_freshness_fresh_when_recorded_requirements_match(tmp_path: Path) -> None:
    lock = fresh_lock(tmp_path)
    assert lock.manifest == tmp_path / "pyproject.toml"
    result = uvlock.freshness(lock)
    assert result.checked and result.fresh, result.differences
    assert result.method == "uv.lock recorded requirements vs pyproject.toml"


def test_uv_freshness_reports_added_removed_and_changed(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace('"requests>=2.31",', '"requests>=2.32",\n    "attrs>=23",')
    pyproject = pyproject.replace('"numpy>=2",\n', "")
    result = uvlock.freshness(fresh_lock(tmp_path, pyproject))
    assert not result.fresh
    assert "pyproject.toml adds dependency 'attrs>=23'" in result.differences
    assert "pyproject.toml removes dependency 'numpy>=2' (still in uv.lock)" in result.differences
    assert (
        "dependency 'requests' differs: uv.lock 'requests>=2.31', pyproject.toml 'requests>=2.32'"
        in result.differences
    )


def test_uv_freshness_groups_extras_and_requires_python(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace('requires-python = ">=3.9"', 'requires-python = ">=3.10"')
    pyproject = pyproject.replace('dev = ["pytest>=8"]', 'dev = ["pytest>=8", "ruff"]')
    pyproject = pyproject.replace("cli = [", 'color = ["termcolor"]\ncli = [')
    result = uvlock.freshness(fresh_lock(tmp_path, pyproject))
    assert "requires-python differs: lock '>=3.9', pyproject.toml '>=3.10'" in result.differences
    assert "pyproject.toml adds dependency (group 'dev') 'ruff'" in result.differences
    assert "pyproject.toml adds extra 'color'" in result.differences
    assert any("termcolor" in d for d in result.differences)


def test_uv_freshness_changed_marker_is_a_difference(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace("python_version >= '3.9'", "python_version >= '3.10'")
    result = uvlock.freshness(fresh_lock(tmp_path, pyproject))
    assert not result.fresh
    assert any("'rich'" in d for d in result.differences)


def test_uv_freshness_legacy_dev_dependencies_count_as_dev(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace('[dependency-groups]\ndev = ["pytest>=8"]',
                                  '[tool.uv]\ndev-dependencies = ["pytest>=8"]')
    assert uvlock.freshness(fresh_lock(tmp_path, pyproject)).fresh


def test_uv_freshness_without_manifest_is_not_checked(app: Lock) -> None:
    result = uvlock.freshness(app)
    assert not result.checked
    assert result.manifest is None


def test_uv_freshness_bad_pyproject_requirement_names_the_field(tmp_path: Path) -> None:
    lock = fresh_lock(tmp_path, PYPROJECT.replace('"numpy>=2"', '"numpy>>2"'))
    with pytest.raises(LockFormatError) as info:
        uvlock.freshness(lock)
    assert info.value.field == "project.dependencies[1]"
    assert info.value.file == str(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("python_version < '3.10'", "python_full_version < '3.10'", True),
        ("python_version >= '3.10'", "python_full_version >= '3.10'", True),
        ("python_version <= '3.10'", "python_full_version < '3.10'", False),
        ("sys_platform == 'win32' and python_version < '3.11'",
         "python_full_version < '3.11' and sys_platform == 'win32'", True),
        ("(python_version < '3.11') and extra == 'cli'",
         "python_full_version < '3.11' and extra == 'cli'", True),
        ("extra == 'cli'", "extra == 'other'", False),
        ("sys_platform == 'linux'", None, False),
    ],
)
def test_markers_equivalent(a: str, b: str | None, same: bool) -> None:
    assert uvlock.markers_equivalent(a, b) is same


# -------------------------------------------------------------------------------- real fixtures

REAL_UV = [f for f in real_fixtures() if f.expected.get("format") == "uv"]


@pytest.mark.parametrize("fixture", REAL_UV, ids=[f.id for f in REAL_UV])
def test_uv_real_fixture_selects_what_uv_sync_installed(fixture: Any, tmp_path: Path) -> None:
    real = materialize(fixture, tmp_path)
    lock = uvlock.read(real.lock_path)
    assert chosen(lock, "3.11.7") == real.expected["installed"]
    if "installed_py39" in real.expected:
        assert chosen(lock, real.expected["python_py39"]) == real.expected["installed_py39"]
    result = uvlock.freshness(lock)
    assert result.checked and result.fresh, result.differences
