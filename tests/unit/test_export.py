"""Export writers: the same locked set as pylock.toml, requirements.txt and Pipfile.lock."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker, default_environment
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
)
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import NormalizedName
from packaging.version import Version

from lading.errors import LadingError
from lading.export import bake_groups, resolve_atoms, to_pipfile_lock, to_pylock, to_requirements
from lading.locks import pylock as pylock_reader
from lading.model import (
    GroupRequest,
    Index,
    Lock,
    Origin,
    PendingFiles,
    Selection,
    Target,
    pending_placeholder,
)
from lading.select import resolve_groups, select

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

INDEX = "https://example.invalid/simple"
OTHER_INDEX = "https://other.example.invalid/simple"
FILES = "https://files.example.invalid/packages"
UPLOADED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


# --- building locks by hand ------------------------------------------------------------------


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def wheel(filename: str, *, local: bool = False) -> PackageWheel:
    if local:
        return PackageWheel(
            name=filename, path=f"dist/{filename}", hashes={"sha256": digest(filename)}
        )
    return PackageWheel(
        name=filename,
        url=f"{FILES}/{filename}",
        upload_time=UPLOADED,
        size=len(filename) * 100,
        hashes={"sha256": digest(filename)},
    )


def sdist(filename: str) -> PackageSdist:
    return PackageSdist(
        name=filename,
        url=f"{FILES}/{filename}",
        size=1234,
        hashes={"sha256": digest(filename), "sha512": sha512(filename)},
    )


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def package(
    name: str, version: Optional[str] = None, marker: Optional[str] = None, **kw: Any
) -> Package:
    return Package(
        name=NormalizedName(name),
        version=Version(version) if version else None,
        marker=Marker(marker) if marker else None,
        **kw,
    )


def make_lock(
    tmp_path: Path,
    packages: list[Package],
    *,
    groups: tuple[str, ...] = (),
    extras: tuple[str, ...] = (),
    dev_groups: frozenset[str] = frozenset(),
    indexes: tuple[Index, ...] = (Index(INDEX),),
    pending: Optional[dict[int, PendingFiles]] = None,
    requires_python: Optional[str] = ">=3.9",
    name: str = "uv.lock",
) -> Lock:
    path = tmp_path / "project" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pylock = Pylock(
        lock_version=Version("1.0"),
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        extras=[NormalizedName(x) for x in extras],
        dependency_groups=list(groups),
        default_groups=[],
        created_by="uv",
        packages=packages,
    )
    return Lock(
        path=path,
        format="uv",
        pylock=pylock,
        origins=tuple(Origin(path, f"package[{i}] ({p.name})") for i, p in enumerate(packages)),
        indexes=indexes,
        pending=pending or {},
        dev_groups=dev_groups,
    )


def project_lock(tmp_path: Path) -> Lock:
    """A lock with everything an export has to carry: splits, groups, extras, direct sources."""
    return make_lock(
        tmp_path,
        [
            package(
                "certifi", "2024.1.1", index=INDEX,
                wheels=[wheel("certifi-2024.1.1-py3-none-any.whl")],
                sdist=sdist("certifi-2024.1.1.tar.gz"),
            ),
            package(
                "numpy", "2.0.0", 'python_version >= "3.10"', index=INDEX,
                requires_python=SpecifierSet(">=3.10"),
                wheels=[
                    wheel("numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
                    wheel("numpy-2.0.0-cp311-cp311-win_amd64.whl"),
                ],
                sdist=sdist("numpy-2.0.0.tar.gz"),
            ),
            package(
                "numpy", "1.26.4", 'python_version < "3.10"', index=INDEX,
                wheels=[wheel("numpy-1.26.4-cp39-cp39-manylinux_2_17_x86_64.whl")],
            ),
            package(
                "pytest", "8.0.0", "'dev' in dependency_groups", index=INDEX,
                wheels=[wheel("pytest-8.0.0-py3-none-any.whl")],
            ),
            package(
                "colorama", "0.4.6", "sys_platform == 'win32' and 'dev' in dependency_groups",
                index=OTHER_INDEX,
                wheels=[wheel("colorama-0.4.6-py2.py3-none-any.whl")],
            ),
            package(
                "rich", "13.0.0", "'cli' in extras", index=INDEX,
                wheels=[wheel("rich-13.0.0-py3-none-any.whl")],
            ),
            package(
                "sphinx", "7.0.0", "'docs' in dependency_groups", index=INDEX,
                wheels=[wheel("sphinx-7.0.0-py3-none-any.whl")],
            ),
            package("mylib", directory=PackageDirectory(path="libs/mylib", editable=True)),
            package(
                "direct", "1.0",
                archive=PackageArchive(
                    url=f"{FILES}/direct-1.0.tar.gz", hashes={"sha256": digest("direct")}
                ),
            ),
            package(
                "vcspkg",
                vcs=PackageVcs(
                    type="git", url="https://git.example.invalid/o/vcspkg.git",
                    requested_revision="v1", commit_id="a" * 40, subdirectory="pkg",
                ),
            ),
            package(
                "localwheel", "0.1",
                wheels=[wheel("localwheel-0.1-py3-none-any.whl", local=True)],
            ),
        ],
        groups=("dev", "docs"),
        extras=("cli",),
        dev_groups=frozenset({"dev"}),
        indexes=(Index(INDEX), Index(OTHER_INDEX, name="other")),
    )


def target(name: str, sys_platform: str, machine: str, python: tuple[int, int]) -> Target:
    env = dict(default_environment())
    full = f"{python[0]}.{python[1]}.4"
    env.update(
        sys_platform=sys_platform,
        platform_machine=machine,
        python_version=f"{python[0]}.{python[1]}",
        python_full_version=full,
        implementation_name="cpython",
        platform_python_implementation="CPython",
        platform_system={"linux": "Linux", "win32": "Windows"}[sys_platform],
        os_name={"linux": "posix", "win32": "nt"}[sys_platform],
    )
    platforms = {
        ("linux", "x86_64"): ["manylinux_2_17_x86_64", "linux_x86_64"],
        ("win32", "AMD64"): ["win_amd64"],
    }[(sys_platform, machine)]
    tags: list[Tag] = [
        *cpython_tags(python, platforms=platforms),
        *compatible_tags(python, platforms=platforms),
    ]
    return Target(name=name, environment=env, tags=tuple(tags))


LINUX311 = target("linux-3.11", "linux", "x86_64", (3, 11))
WIN311 = target("win-3.11", "win32", "AMD64", (3, 11))
LINUX39 = target("linux-3.9", "linux", "x86_64", (3, 9))
TARGETS = [LINUX311, WIN311, LINUX39]

REQUESTS = [
    GroupRequest(),
    GroupRequest(dev=True),
    GroupRequest(groups=("docs",)),
    GroupRequest(extras=("cli",)),
    GroupRequest(dev=True, extras=("cli",), groups=("docs",)),
]


def fingerprint(selection: Selection, lock: Lock) -> set[tuple[str, str, str]]:
    """What a selection installs, independent of where the lock file lives."""
    out = set()
    for s in selection.selected:
        source = s.source
        if isinstance(source, (PackageWheel, PackageSdist)):
            where = source.filename
        elif isinstance(source, PackageDirectory):
            where = str((lock.path.parent / source.path).resolve())
        elif isinstance(source, PackageVcs):
            where = f"{source.url}@{source.commit_id}#{source.subdirectory}"
        else:
            assert isinstance(source, PackageArchive)
            where = source.url or str((lock.path.parent / (source.path or "")).resolve())
        out.add((str(s.package.name), str(s.package.version), where))
    return out


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- baking groups and extras into markers ---------------------------------------------------

ENV_ATOMS = [
    'sys_platform == "linux"',
    'sys_platform == "win32"',
    'python_version >= "3.10"',
    'python_full_version < "3.11.2"',
    'platform_machine == "x86_64"',
    'implementation_name != "pypy"',
]
GROUP_NAMES = ["dev", "Docs", "lint_tools"]
EXTRA_NAMES = ["cli", "GUI"]
SET_ATOMS = [
    *(f"'{g}' in dependency_groups" for g in GROUP_NAMES),
    *(f"'{g}' not in dependency_groups" for g in GROUP_NAMES),
    *(f"'{x}' in extras" for x in EXTRA_NAMES),
    *(f"'{x}' not in extras" for x in EXTRA_NAMES),
]


def marker_texts() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(ENV_ATOMS + SET_ATOMS)
    return st.recursive(
        leaves,
        lambda inner: st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"
        ),
        max_leaves=8,
    )


environments = st.fixed_dictionaries({
    "sys_platform": st.sampled_from(["linux", "win32", "darwin"]),
    "python_full_version": st.sampled_from(["3.9.1", "3.10.0", "3.11.1", "3.11.7", "3.12.3"]),
    "platform_machine": st.sampled_from(["x86_64", "arm64"]),
    "implementation_name": st.sampled_from(["cpython", "pypy"]),
}).map(lambda e: {**e, "python_version": ".".join(e["python_full_version"].split(".")[:2])})


def evaluate_baked(baked: object, env: dict[str, str]) -> bool:
    if baked is None:
        return True
    if baked is False:
        return False
    assert isinstance(baked, Marker)
    # "requirement" context: a left-over group or extra atom would fail here, as pip would.
    return baked.evaluate(env, context="requirement")


@settings(max_examples=400, deadline=None)
@given(
    text=marker_texts(),
    env=environments,
    groups=st.frozensets(st.sampled_from([*GROUP_NAMES, "docs", "other"])),
    extras=st.frozensets(st.sampled_from([*EXTRA_NAMES, "gui", "other"])),
)
def test_bake_groups_agrees_with_packaging_lock_file_evaluation(
    text: str, env: dict[str, str], groups: frozenset[str], extras: frozenset[str]
) -> None:
    marker = Marker(text)
    full = {**default_environment(), **env}
    expected = marker.evaluate({**full, "dependency_groups": groups, "extras": extras}, "lock_file")
    baked = bake_groups(marker, groups, extras)
    assert evaluate_baked(baked, full) == expected
    if isinstance(baked, Marker):
        assert "dependency_groups" not in str(baked) and "extras" not in str(baked)


@settings(max_examples=300, deadline=None)
@given(
    text=marker_texts(),
    env=environments,
    groups=st.frozensets(st.sampled_from(GROUP_NAMES)),
    extras=st.frozensets(st.sampled_from(EXTRA_NAMES)),
)
def test_deciding_requested_extras_only_keeps_the_rest_selectable(
    text: str, env: dict[str, str], groups: frozenset[str], extras: frozenset[str]
) -> None:
    # What the pylock export does: requested extras become true, everything else stays a marker,
    # and an installer starting from no extras must reach the same answer.
    marker = Marker(text)
    full = {**default_environment(), **env}
    wanted = {x.lower() for x in extras}
    expected = marker.evaluate({**full, "dependency_groups": groups, "extras": extras}, "lock_file")
    baked = resolve_atoms(
        marker, lambda kind, name: True if kind == "extra" and name in wanted else None
    )
    if baked is None or baked is False:
        got = baked is None
    else:
        nothing: frozenset[str] = frozenset()
        got = baked.evaluate({**full, "dependency_groups": groups, "extras": nothing}, "lock_file")
    assert got == expected


def test_bake_keeps_environment_part_and_drops_unrequested_groups() -> None:
    marker = Marker(
        "(sys_platform == 'win32' and 'dev' in dependency_groups) or ('cli' in extras)"
    )
    assert bake_groups(marker, {"dev"}, set()) == Marker('sys_platform == "win32"')
    assert bake_groups(marker, set(), {"cli"}) is None
    assert bake_groups(marker, set(), set()) is False
    assert bake_groups(None, set(), set()) is None


def test_bake_normalizes_group_names_like_packaging() -> None:
    assert bake_groups(Marker("'Lint_Tools' in dependency_groups"), {"lint-tools"}, ()) is None
    assert bake_groups(Marker("'GUI' in extras"), (), {"gui"}) is None


def test_bake_treats_metadata_extra_comparison_as_extras_membership() -> None:
    assert bake_groups(Marker('extra == "cli"'), (), {"cli"}) is None
    assert bake_groups(Marker('extra != "cli"'), (), {"cli"}) is False
    assert bake_groups(Marker('extra == "cli" and os_name == "nt"'), (), ()) is False


def test_bake_refuses_set_variable_outside_membership_test(tmp_path: Path) -> None:
    lock = make_lock(tmp_path, [
        package("odd", "1.0", "extras == 'cli'", wheels=[wheel("odd-1.0-py3-none-any.whl")]),
    ])
    with pytest.raises(LadingError) as info:
        to_requirements(lock, groups=frozenset(), extras=frozenset(), selection=None)
    assert info.value.package == "odd 1.0"
    assert info.value.field == "package[0] (odd).marker"


# --- pylock.toml -----------------------------------------------------------------------------


def export_pylock(
    lock: Lock, request: GroupRequest, out: Path, target: Optional[Target] = None
) -> Path:
    groups, extras = resolve_groups(lock, request)
    selection = select(lock, target, request) if target is not None else None
    text = to_pylock(lock, groups=groups, extras=extras, selection=selection, output_dir=out.parent)
    Pylock.from_dict(tomllib.loads(text)).validate()
    return write(out, text)


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: repr(r))
@pytest.mark.parametrize("where", TARGETS, ids=lambda t: t.name)
def test_multi_use_pylock_selects_what_the_source_lock_selects(
    tmp_path: Path, request_: GroupRequest, where: Target
) -> None:
    lock = project_lock(tmp_path)
    out = export_pylock(lock, request_, tmp_path / "out" / "deploy" / "pylock.toml")
    exported = pylock_reader.read(out)
    # Installed as pip installs a pylock: default groups, no extras.
    assert fingerprint(select(exported, where), exported) == fingerprint(
        select(lock, where, request_), lock
    )


def test_multi_use_pylock_keeps_unrequested_groups_and_extras_selectable(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    out = export_pylock(lock, GroupRequest(dev=True), tmp_path / "pylock.toml")
    data = tomllib.loads(out.read_text())
    assert data["default-groups"] == ["dev"]
    assert data["dependency-groups"] == ["docs"]
    assert data["extras"] == ["cli"]
    exported = pylock_reader.read(out)
    wider = GroupRequest(dev=True, groups=("docs",), extras=("cli",))
    assert fingerprint(select(exported, LINUX311, wider), exported) == fingerprint(
        select(lock, LINUX311, wider), lock
    )


def test_multi_use_pylock_bakes_requested_extras_into_markers(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    out = export_pylock(lock, GroupRequest(extras=("cli",)), tmp_path / "pylock.toml")
    data = tomllib.loads(out.read_text())
    rich = next(p for p in data["packages"] if p["name"] == "rich")
    assert "marker" not in rich
    assert data["extras"] == []
    assert data["tool"]["lading"] == {"source": "uv.lock", "source-format": "uv", "extras": ["cli"]}


def test_pylock_layout_follows_pep_751_example(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    text = export_pylock(lock, GroupRequest(), tmp_path / "pylock.toml").read_text()
    keys = [m.group(1) for m in re.finditer(r"^([a-z-]+) = ", text, re.MULTILINE)][:7]
    assert keys == [
        "lock-version", "requires-python", "extras", "dependency-groups", "default-groups",
        "created-by", "name",
    ]
    data = tomllib.loads(text)
    assert data["created-by"] == "lading"
    certifi = data["packages"][0]
    assert list(certifi)[:3] == ["name", "version", "index"]
    assert certifi["wheels"][0]["upload-time"] == UPLOADED
    assert certifi["sdist"]["hashes"]["sha512"]
    # wheels as an array of inline tables, one per line
    assert re.search(r"^wheels = \[\n    \{ ?name = ", text, re.MULTILINE)
    assert """marker = 'python_version >= "3.10"'""" in text
    numpy = [p for p in data["packages"] if p["name"] == "numpy"]
    assert [p["marker"] for p in numpy] == ['python_version >= "3.10"', 'python_version < "3.10"']
    assert numpy[0]["requires-python"] == ">=3.10"
    colorama = next(p for p in data["packages"] if p["name"] == "colorama")
    assert colorama["index"] == OTHER_INDEX


def test_pylock_paths_are_rewritten_relative_to_output_folder(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    out = export_pylock(lock, GroupRequest(), tmp_path / "out" / "deploy" / "pylock.toml")
    data = tomllib.loads(out.read_text())
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["mylib"]["directory"] == {"path": "../../project/libs/mylib", "editable": True}
    local = by_name["localwheel"]["wheels"][0]["path"]
    assert local == "../../project/dist/localwheel-0.1-py3-none-any.whl"
    original = lock.path.parent / "dist" / "localwheel-0.1-py3-none-any.whl"
    assert (out.parent / local).resolve() == original.resolve()
    vcs = by_name["vcspkg"]["vcs"]
    assert vcs == {
        "type": "git", "url": "https://git.example.invalid/o/vcspkg.git",
        "requested-revision": "v1", "commit-id": "a" * 40, "subdirectory": "pkg",
    }


def test_pylock_in_the_lock_folder_keeps_paths(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    out = export_pylock(lock, GroupRequest(), lock.path.parent / "pylock.toml")
    data = tomllib.loads(out.read_text())
    mylib = next(p for p in data["packages"] if p["name"] == "mylib")
    assert mylib["directory"]["path"] == "libs/mylib"


@pytest.mark.parametrize("where", TARGETS, ids=lambda t: t.name)
def test_single_use_pylock_pins_target_and_chosen_artifacts(tmp_path: Path, where: Target) -> None:
    lock = project_lock(tmp_path)
    request = GroupRequest(dev=True)
    out = export_pylock(lock, request, tmp_path / "pylock.toml", target=where)
    data = tomllib.loads(out.read_text())
    assert all("marker" not in p for p in data["packages"])
    [environment] = data["environments"]
    assert Marker(environment).evaluate(dict(where.environment))
    others = [t for t in TARGETS if t is not where]
    assert not any(Marker(environment).evaluate(dict(t.environment)) for t in others)
    assert all(len(p.get("wheels", [])) <= 1 for p in data["packages"])
    exported = pylock_reader.read(out)
    assert fingerprint(select(exported, where), exported) == fingerprint(
        select(lock, where, request), lock
    )
    assert data["tool"]["lading"]["target"] == where.name


def test_pylock_refuses_incomplete_lock(tmp_path: Path) -> None:
    lock = make_lock(
        tmp_path,
        [package("six", "1.16.0", archive=pending_placeholder())],
        pending={0: PendingFiles(hashes=("sha256:" + digest("six"),))},
    )
    with pytest.raises(LadingError) as info:
        to_pylock(lock, groups=frozenset(), extras=frozenset(), selection=None, output_dir=tmp_path)
    assert info.value.package == "six 1.16.0"
    assert "lading.index.complete" in (info.value.hint or "")


def test_pylock_refuses_name_only_wheel(tmp_path: Path) -> None:
    lock = make_lock(tmp_path, [
        package(
            "six", "1.16.0",
            wheels=[PackageWheel(name="six-1.16.0-py2.py3-none-any.whl", hashes={})],
        ),
    ])
    with pytest.raises(LadingError) as info:
        to_pylock(lock, groups=frozenset(), extras=frozenset(), selection=None, output_dir=tmp_path)
    assert info.value.field == "package[0] (six).wheels[0]"


# --- requirements.txt ------------------------------------------------------------------------


def requirement_blocks(text: str) -> dict[str, list[str]]:
    """Logical lines (continuations joined) of a requirements file, keyed by their first word."""
    joined = text.replace("\\\n", " ")
    blocks: dict[str, list[str]] = {}
    for line in joined.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key = re.split(r"[ =@;]", line.strip(), maxsplit=1)[0]
        blocks.setdefault(key, []).append(" ".join(line.split()))
    return blocks


def test_requirements_has_every_hash_and_environment_markers(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    text = to_requirements(
        lock, groups=frozenset({"dev"}), extras=frozenset(), selection=None,
        index_url=INDEX, extra_index_urls=[OTHER_INDEX],
    )
    assert text.startswith("# generated by lading from uv.lock\n")
    blocks = requirement_blocks(text)
    assert blocks["--index-url"] == [f"--index-url {INDEX}"]
    assert blocks["--extra-index-url"] == [f"--extra-index-url {OTHER_INDEX}"]
    numpy = blocks["numpy"]
    assert numpy[0].startswith('numpy==1.26.4 ; python_version < "3.10" --hash=sha256:')
    assert numpy[1].startswith('numpy==2.0.0 ; python_version >= "3.10" --hash=sha256:')
    for filename in (
        "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "numpy-2.0.0-cp311-cp311-win_amd64.whl",
        "numpy-2.0.0.tar.gz",
    ):
        assert f"--hash=sha256:{digest(filename)}" in numpy[1]
    assert "--hash=sha512:" in numpy[1]
    assert blocks["colorama"] == [
        'colorama==0.4.6 ; sys_platform == "win32" '
        f'--hash=sha256:{digest("colorama-0.4.6-py2.py3-none-any.whl")}'
    ]
    assert blocks["pytest"][0].startswith("pytest==8.0.0 --hash=")
    assert "rich" not in blocks and "sphinx" not in blocks
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "dependency_groups" not in body and "extras" not in body
    names = [k for k in blocks if not k.startswith("-")]
    assert names == sorted(names)


def test_requirements_direct_sources(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    text = to_requirements(lock, groups=frozenset(), extras=frozenset(), selection=None)
    blocks = requirement_blocks(text)
    project = lock.path.parent.resolve()
    assert blocks["-e"] == [f"-e {(project / 'libs' / 'mylib').as_uri()}"]
    assert blocks["direct"] == [
        f"direct @ {FILES}/direct-1.0.tar.gz --hash=sha256:{digest('direct')}"
    ]
    assert blocks["vcspkg"] == [
        f"vcspkg @ git+https://git.example.invalid/o/vcspkg.git@{'a' * 40}#subdirectory=pkg"
    ]
    wheel_name = "localwheel-0.1-py3-none-any.whl"
    assert blocks["localwheel"] == [
        f"localwheel @ {(project / 'dist' / wheel_name).as_uri()} "
        f"--hash=sha256:{digest(wheel_name)}"
    ]
    assert "--index-url" not in text


def test_requirements_from_hash_only_lock_uses_pending_hashes(tmp_path: Path) -> None:
    lock = make_lock(
        tmp_path,
        [
            package("six", "1.16.0", archive=pending_placeholder()),
            package("idna", "3.7", "sys_platform == 'linux'", archive=pending_placeholder()),
        ],
        pending={
            0: PendingFiles(hashes=("sha256:" + digest("six-a"), "sha256:" + digest("six-b"))),
            1: PendingFiles(hashes=()),
        },
    )
    blocks = requirement_blocks(
        to_requirements(lock, groups=frozenset(), extras=frozenset(), selection=None)
    )
    assert blocks["six"] == [
        "six==1.16.0 " + " ".join(sorted(f"--hash=sha256:{digest(x)}" for x in ("six-a", "six-b")))
    ]
    assert blocks["idna"] == ['idna==3.7 ; sys_platform == "linux"']


def test_requirements_leaves_out_hashes_pip_refuses(tmp_path: Path) -> None:
    lock = make_lock(tmp_path, [
        package("six", "1.16.0", wheels=[PackageWheel(
            name="six-1.16.0-py2.py3-none-any.whl", url=f"{FILES}/six-1.16.0-py2.py3-none-any.whl",
            hashes={"sha256": digest("six"), "blake2b": "ab" * 32, "md5": "cd" * 16},
        )]),
    ])
    text = to_requirements(lock, groups=frozenset(), extras=frozenset(), selection=None)
    assert "blake2b" not in text and "md5" not in text
    assert f"--hash=sha256:{digest('six')}" in text


@pytest.mark.parametrize("where", [LINUX311, WIN311], ids=lambda t: t.name)
def test_requirements_for_a_target_lists_selection_without_markers(
    tmp_path: Path, where: Target
) -> None:
    lock = project_lock(tmp_path)
    request = GroupRequest(dev=True, extras=("cli",))
    selection = select(lock, where, request)
    groups, extras = resolve_groups(lock, request)
    text = to_requirements(lock, groups=groups, extras=extras, selection=selection)
    blocks = requirement_blocks(text)
    assert " ; " not in text
    assert {k for k in blocks if not k.startswith("-")} == {
        s.package.name for s in selection.selected if s.package.name != "mylib"
    }
    [numpy] = blocks["numpy"]
    chosen = next(s.source for s in selection.selected if s.package.name == "numpy")
    assert isinstance(chosen, PackageWheel)
    assert numpy == f"numpy==2.0.0 --hash=sha256:{digest(chosen.filename)}"
    assert ("colorama" in blocks) == (where is WIN311)


def test_requirements_is_read_by_pip_as_written(tmp_path: Path) -> None:
    req_file = pytest.importorskip("pip._internal.req.req_file")
    session_module = pytest.importorskip("pip._internal.network.session")
    lock = project_lock(tmp_path)
    (lock.path.parent / "libs" / "mylib").mkdir(parents=True)
    (lock.path.parent / "libs" / "mylib" / "pyproject.toml").write_text("[project]\nname='mylib'\n")
    text = to_requirements(lock, groups=frozenset({"dev"}), extras=frozenset(), selection=None)
    path = write(tmp_path / "requirements.txt", text)
    parsed = list(req_file.parse_requirements(str(path), session=session_module.PipSession()))
    by_name: dict[str, list[Any]] = {}
    for req in parsed:
        by_name.setdefault(req.requirement.split(" ")[0].split("=")[0], []).append(req)
    numpy_new = next(r for r in by_name["numpy"] if "2.0.0" in r.requirement)
    assert numpy_new.requirement.startswith('numpy==2.0.0; python_version >= "3.10"') or \
        numpy_new.requirement.startswith('numpy==2.0.0 ; python_version >= "3.10"')
    assert len(numpy_new.options["hashes"]["sha256"]) == 3
    assert len(numpy_new.options["hashes"]["sha512"]) == 1
    editable = [r for r in parsed if r.is_editable]
    assert len(editable) == 1 and editable[0].requirement.endswith("libs/mylib")
    lines = requirement_blocks(text)
    assert len(parsed) == sum(len(v) for k, v in lines.items() if not k.startswith("-")) + 1


# --- Pipfile.lock ----------------------------------------------------------------------------


def test_pipfile_lock_shape_and_categories(tmp_path: Path) -> None:
    lock = make_lock(
        tmp_path,
        [
            package("certifi", "2024.1.1", index=INDEX,
                    wheels=[wheel("certifi-2024.1.1-py3-none-any.whl")],
                    sdist=sdist("certifi-2024.1.1.tar.gz")),
            package("pytest", "8.0.0", "'develop' in dependency_groups", index=INDEX,
                    wheels=[wheel("pytest-8.0.0-py3-none-any.whl")]),
            package("colorama", "0.4.6",
                    "sys_platform == 'win32' and 'develop' in dependency_groups",
                    index=OTHER_INDEX, wheels=[wheel("colorama-0.4.6-py2.py3-none-any.whl")]),
            package("idna", "3.7", "python_version < '3.12' or 'docs' in dependency_groups",
                    index=INDEX, wheels=[wheel("idna-3.7-py3-none-any.whl")]),
            package("sphinx", "7.0.0", "'docs' in dependency_groups", index=INDEX,
                    wheels=[wheel("sphinx-7.0.0-py3-none-any.whl")]),
            package("rich", "13.0.0", "'cli' in extras", index=INDEX,
                    wheels=[wheel("rich-13.0.0-py3-none-any.whl")]),
        ],
        groups=("develop", "docs"),
        extras=("cli",),
        dev_groups=frozenset({"develop"}),
        indexes=(Index(INDEX), Index(OTHER_INDEX, name="private", verify_ssl=False)),
        requires_python=None,
        name="Pipfile.lock",
    )
    text = to_pipfile_lock(
        lock, groups=frozenset({"develop", "docs"}), extras=frozenset(),
        output_dir=lock.path.parent,
    )
    assert text.endswith("}\n")
    data = json.loads(text)
    assert text == json.dumps(data, indent=4, sort_keys=True) + "\n"
    assert data["_meta"] == {
        "hash": {"sha256": ""},
        "pipfile-spec": 6,
        "requires": {},
        "sources": [
            {"name": "pypi", "url": INDEX, "verify_ssl": True},
            {"name": "private", "url": OTHER_INDEX, "verify_ssl": False},
        ],
    }
    assert set(data) == {"_meta", "default", "develop", "docs"}
    assert set(data["default"]) == {"certifi", "idna"}
    assert data["default"]["certifi"] == {
        "hashes": sorted([
            f"sha256:{digest('certifi-2024.1.1-py3-none-any.whl')}",
            f"sha256:{digest('certifi-2024.1.1.tar.gz')}",
            f"sha512:{sha512('certifi-2024.1.1.tar.gz')}",
        ]),
        "version": "==2024.1.1",
    }
    assert data["default"]["idna"]["markers"] == "python_version < '3.12'"
    assert set(data["develop"]) == {"pytest", "colorama"}
    assert data["develop"]["colorama"]["markers"] == "sys_platform == 'win32'"
    assert data["develop"]["colorama"]["index"] == "private"
    assert "index" not in data["develop"]["pytest"]
    assert set(data["docs"]) == {"idna", "sphinx"}
    assert "markers" not in data["docs"]["idna"]


def test_pipfile_lock_without_dev_has_empty_develop_and_hash_given(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    text = to_pipfile_lock(
        lock, groups=frozenset(), extras=frozenset({"cli"}), output_dir=lock.path.parent,
        pipfile_hash="ab" * 32,
        selection=select(lock, LINUX311, GroupRequest(extras=("cli",))),
    )
    data = json.loads(text)
    assert data["_meta"]["hash"] == {"sha256": "ab" * 32}
    assert data["_meta"]["requires"] == {"python_version": "3.11"}
    assert data["develop"] == {}
    assert "rich" in data["default"] and "pytest" not in data["default"]
    assert data["default"]["numpy"]["version"] == "==2.0.0"
    assert data["default"]["mylib"] == {"path": "./libs/mylib", "editable": True}
    assert data["default"]["vcspkg"] == {"git": "https://git.example.invalid/o/vcspkg.git",
                                         "ref": "a" * 40, "subdirectory": "pkg"}
    assert data["default"]["direct"] == {"file": f"{FILES}/direct-1.0.tar.gz",
                                         "hashes": [f"sha256:{digest('direct')}"]}
    assert data["default"]["localwheel"]["path"] == "./dist/localwheel-0.1-py3-none-any.whl"
    assert all("markers" not in e for e in data["default"].values())


def test_pipfile_lock_refuses_two_versions_of_one_package(tmp_path: Path) -> None:
    lock = project_lock(tmp_path)
    with pytest.raises(LadingError) as info:
        to_pipfile_lock(lock, groups=frozenset(), extras=frozenset(), output_dir=tmp_path)
    assert info.value.package == "numpy 1.26.4"
    assert "--python" in (info.value.hint or "")


def test_pipfile_lock_requires_python_only_when_exact(tmp_path: Path) -> None:
    lock = make_lock(
        tmp_path, [package("six", "1.16.0", wheels=[wheel("six-1.16.0-py2.py3-none-any.whl")])],
        requires_python="==3.11.*",
    )
    data = json.loads(to_pipfile_lock(lock, groups=(), extras=(), output_dir=tmp_path))
    assert data["_meta"]["requires"] == {"python_version": "3.11"}


# --- pip installs the exports (offline, with wheels built here) ------------------------------


def build_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel, enough for pip to install."""
    import base64
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in files.items():
            archive.writestr(member, content)
            raw = hashlib.sha256(content.encode()).digest()
            encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            record.append(f"{member},sha256={encoded},{len(content)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def pip_version() -> Optional[Version]:
    try:
        from pip import __version__
    except ImportError:  # pragma: no cover
        return None
    return Version(__version__)


def installed(folder: Path) -> set[str]:
    return {p.name[: -len(".dist-info")] for p in folder.glob("*.dist-info")}


@pytest.mark.skipif(
    (pip_version() or Version("0")) < Version("26.1"), reason="needs pip >= 26.1 (pylock support)"
)
def test_pip_installs_exactly_the_selected_set_from_both_exports(tmp_path: Path) -> None:
    import subprocess

    project = tmp_path / "project"
    specs = [
        ("alpha", "1.0", None, "url"),
        ("beta", "1.0", "'dev' in dependency_groups", "path"),
        ("gamma", "1.0", "'cli' in extras", "url"),
        ("delta", "1.0", "sys_platform == 'nonesuch'", "url"),
        ("eps", "2.0", f"python_version >= '{sys.version_info[0]}.{sys.version_info[1]}'", "url"),
        ("eps", "1.0", f"python_version < '{sys.version_info[0]}.{sys.version_info[1]}'", "url"),
        ("zeta", "1.0", "'docs' in dependency_groups", "path"),
    ]
    packages = []
    for name, version, marker, kind in specs:
        built = build_wheel(project / "wheels", name, version)
        file_hash = {"sha256": hashlib.sha256(built.read_bytes()).digest().hex()}
        where = {"url": built.as_uri()} if kind == "url" else {"path": f"wheels/{built.name}"}
        packages.append(package(
            name, version, marker,
            wheels=[PackageWheel(name=built.name, hashes=file_hash, **where)],
        ))
    lock = make_lock(tmp_path, packages, groups=("dev", "docs"), extras=("cli",),
                     dev_groups=frozenset({"dev"}), indexes=(), requires_python=None)
    request = GroupRequest(dev=True, extras=("cli",))
    groups, extras = resolve_groups(lock, request)
    here = Target("here", default_environment(), tuple(sys_tags()))
    chosen = select(lock, here, request).selected
    expected = {f"{s.package.name}-{s.package.version}" for s in chosen}
    assert expected == {"alpha-1.0", "beta-1.0", "gamma-1.0", "eps-2.0"}

    out = tmp_path / "out"
    pylock_file = write(out / "pylock.toml",
                        to_pylock(lock, groups=groups, extras=extras, output_dir=out))
    requirements_file = write(out / "requirements.txt",
                              to_requirements(lock, groups=groups, extras=extras))
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check"]
    subprocess.run([*pip, "--target", str(tmp_path / "a"), "-r", str(pylock_file)], check=True)
    subprocess.run(
        [*pip, "--no-deps", "--require-hashes", "--find-links", str(project / "wheels"),
         "--target", str(tmp_path / "b"), "-r", str(requirements_file)],
        check=True,
    )
    assert installed(tmp_path / "a") == expected
    assert installed(tmp_path / "b") == expected


def test_pipfile_lock_from_hash_only_and_name_only_locks_needs_no_index(tmp_path: Path) -> None:
    lock = make_lock(
        tmp_path,
        [
            package("six", "1.16.0", archive=pending_placeholder()),
            package("idna", "3.7", "'dev' in dependency_groups", index=OTHER_INDEX, wheels=[
                PackageWheel(name="idna-3.7-py3-none-any.whl", hashes={"sha256": digest("idna")}),
            ]),
        ],
        pending={0: PendingFiles(hashes=("sha256:" + digest("six"),))},
        groups=("dev",),
        dev_groups=frozenset({"dev"}),
        indexes=(),
    )
    data = json.loads(to_pipfile_lock(lock, groups={"dev"}, extras=(), output_dir=tmp_path))
    assert data["default"] == {"six": {"hashes": [f"sha256:{digest('six')}"], "version": "==1.16.0"}}
    # its index is the only (so the first) source: pipenv uses it without an "index" key
    assert data["develop"] == {"idna": {"hashes": [f"sha256:{digest('idna')}"], "version": "==3.7"}}
    assert data["_meta"]["sources"] == [{"name": "pypi", "url": OTHER_INDEX, "verify_ssl": True}]
