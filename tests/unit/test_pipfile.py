"""Pipfile.lock: categories as groups, sources, unlocked entries, direct sources, Pipfile hash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from packaging.version import Version

from lading.errors import LockFormatError
from lading.locks import pipfile
from lading.model import GroupRequest, Target, pending_placeholder
from lading.select import select
from tests.conftest import materialize, real_fixtures

Write = Callable[[str, str], Path]

H1 = "sha256:" + "a1" * 32
H2 = "sha256:" + "b2" * 32
H3 = "sha256:" + "c3" * 32

PIPFILE = """\
[[source]]
url = "https://${PRIVATE_USER:-anon}@example.invalid/simple"
verify_ssl = true
name = "private"

[[source]]
url = "https://mirror.example.invalid/simple"
verify_ssl = false
name = "mirror"

[packages]
requests = {version = "*", index = "private"}
pywin32 = {version = "*", sys_platform = "== 'win32'"}

[dev-packages]
pytest = "*"

[docs]
sphinx = "*"

[requires]
python_version = "3.11"
"""


def lock_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "_meta": {
            "hash": {"sha256": "0" * 64},
            "pipfile-spec": 6,
            "requires": {"python_version": "3.11"},
            "sources": [
                {"name": "private", "url": "https://${PRIVATE_USER:-anon}@example.invalid/simple",
                 "verify_ssl": True},
                {"name": "mirror", "url": "https://mirror.example.invalid/simple",
                 "verify_ssl": False},
            ],
        },
        "default": {
            "requests": {"hashes": [H1, H2], "index": "private",
                         "markers": "python_version >= '3.8'", "version": "==2.32.3"},
            "idna": {"hashes": [H3], "version": "==3.10"},
            "pywin32": {"version": "*"},
        },
        "develop": {
            "pytest": {"hashes": [H1], "version": "==8.3.4"},
            "idna": {"hashes": [H3], "version": "==3.10"},
        },
        "docs": {
            "sphinx": {"hashes": [H2], "version": "==8.1.3", "markers": "python_version >= '3.10'"},
            "pytest": {"hashes": [H1], "version": "==8.3.4"},
        },
    }
    data.update(changes)
    return data


def write_lock(write: Write, data: dict[str, Any], pipfile_text: str | None = PIPFILE) -> Path:
    if pipfile_text is not None:
        write("Pipfile", pipfile_text)
    return write("Pipfile.lock", json.dumps(data, indent=4))


def names(selection: Any) -> dict[str, str]:
    return {s.package.name: str(s.package.version) for s in selection.selected}


def test_pipenv_categories_become_groups_and_develop_is_dev(write: Write, here: Target) -> None:
    lock = pipfile.read(write_lock(write, lock_data()))
    assert lock.format == "pipfile"
    assert lock.pylock.created_by == "pipenv"
    assert set(lock.groups) == {"develop", "docs"}
    assert lock.dev_groups == frozenset({"develop"})
    linux = Target("linux", {**here.environment, "sys_platform": "linux",
                             "python_version": "3.11"}, here.tags)
    assert names(select(lock, linux)) == {"requests": "2.32.3", "idna": "3.10"}
    assert names(select(lock, linux, GroupRequest(dev=True))) == {
        "requests": "2.32.3", "idna": "3.10", "pytest": "8.3.4"}
    assert "sphinx" in names(select(lock, linux, GroupRequest(groups=("docs",))))


def test_pipenv_package_in_two_categories_is_one_package_with_or_marker(write: Write) -> None:
    lock = pipfile.read(write_lock(write, lock_data()))
    pytest_packages = [p for p in lock.packages if p.name == "pytest"]
    assert len(pytest_packages) == 1
    marker = pytest_packages[0].marker
    assert marker is not None
    env = {"python_version": "3.11", "extras": frozenset()}
    for groups, wanted in [({"develop"}, True), ({"docs"}, True), (set(), False)]:
        context = {**env, "dependency_groups": groups}
        assert marker.evaluate(context, "lock_file") is wanted  # type: ignore[arg-type]
    # in default and develop: needed always, so no marker at all
    [idna] = [p for p in lock.packages if p.name == "idna"]
    assert idna.marker is None
    [sphinx] = [p for p in lock.packages if p.name == "sphinx"]
    assert sphinx.marker is not None
    for version, groups, wanted in [("3.11", {"docs"}, True), ("3.9", {"docs"}, False),
                                    ("3.11", {"develop"}, False)]:
        context = {"python_version": version, "extras": frozenset(), "dependency_groups": groups}
        assert sphinx.marker.evaluate(context, "lock_file") is wanted  # type: ignore[arg-type]


def test_pipenv_sources_keep_variables_and_index_names_map_to_urls(write: Write) -> None:
    lock = pipfile.read(write_lock(write, lock_data()))
    assert [(ix.name, ix.url, ix.verify_ssl) for ix in lock.indexes] == [
        ("private", "https://${PRIVATE_USER:-anon}@example.invalid/simple", True),
        ("mirror", "https://mirror.example.invalid/simple", False),
    ]
    assert lock.indexes[0].expanded({"PRIVATE_USER": "bob"}) == "https://bob@example.invalid/simple"
    [requests] = [p for p in lock.packages if p.name == "requests"]
    assert requests.index == "https://${PRIVATE_USER:-anon}@example.invalid/simple"
    [idna] = [p for p in lock.packages if p.name == "idna"]
    assert idna.index is None


def test_pipenv_hashes_become_pending_files(write: Write) -> None:
    lock = pipfile.read(write_lock(write, lock_data()))
    i = next(i for i, p in enumerate(lock.packages) if p.name == "requests")
    assert lock.packages[i].archive == pending_placeholder()
    assert lock.pending[i].hashes == (H1, H2)
    assert lock.packages[i].version == Version("2.32.3")
    assert "requests" in lock.origins[i].entry


def test_pipenv_unlocked_entry_takes_the_pipfile_marker_and_a_finding(
    write: Write, here: Target
) -> None:
    lock = pipfile.read(write_lock(write, lock_data()))
    i = next(i for i, p in enumerate(lock.packages) if p.name == "pywin32")
    assert lock.packages[i].version is None
    assert str(lock.packages[i].marker) == 'sys_platform == "win32"'
    assert lock.pending[i].hashes == ()
    [finding] = [f for f in lock.findings if f.package == "pywin32"]
    # harmless where the marker is false; install --deploy refuses it where the marker holds
    assert finding.severity == "warning"
    assert "restored from the Pipfile" in finding.message
    assert finding.message.startswith("not pinned")
    assert finding.field == "default.pywin32.version"
    windows = Target("win", {**here.environment, "sys_platform": "win32"}, here.tags)
    assert "pywin32" in names(select(lock, windows))
    linux = Target("linux", {**here.environment, "sys_platform": "linux"}, here.tags)
    assert "pywin32" not in names(select(lock, linux))


def test_pipenv_unlocked_entry_without_pipfile_stays_unconditional(write: Write) -> None:
    lock = pipfile.read(write_lock(write, lock_data(), pipfile_text=None))
    [pywin32] = [p for p in lock.packages if p.name == "pywin32"]
    assert pywin32.marker is None
    assert lock.manifest is None
    assert any(f.package == "pywin32" and "not pinned" in f.message for f in lock.findings)


def test_pipenv_pinned_entry_without_hashes_is_flagged(write: Write) -> None:
    data = lock_data()
    data["default"]["idna"] = {"version": "==3.10"}
    lock = pipfile.read(write_lock(write, data))
    [finding] = [f for f in lock.findings if f.package == "idna 3.10"]
    assert finding.message.startswith("not hashed")


def test_pipenv_direct_sources(write: Write) -> None:
    data = lock_data(default={
        "mylib": {"git": "git+https://example.invalid/org/mylib.git", "ref": "a" * 40,
                  "subdirectory": "src"},
        "local": {"editable": True, "path": "./packages/local"},
        "wheel": {"file": "https://example.invalid/files/wheel-1.0-py3-none-any.whl",
                  "hashes": [H1]},
        "archive": {"path": "./dist/archive-2.0.tar.gz", "hashes": [H2]},
    }, develop={}, docs={})
    lock = pipfile.read(write_lock(write, data, pipfile_text=None))
    by_name = {p.name: p for p in lock.packages}
    vcs = by_name["mylib"].vcs
    assert vcs is not None
    assert (vcs.type, vcs.url, vcs.commit_id, vcs.subdirectory) == (
        "git", "https://example.invalid/org/mylib.git", "a" * 40, "src")
    directory = by_name["local"].directory
    assert directory is not None and directory.path == "./packages/local" and directory.editable
    wheel = by_name["wheel"]
    assert wheel.archive is not None and wheel.archive.url.endswith(".whl")  # type: ignore[union-attr]
    assert wheel.archive.hashes == {"sha256": "a1" * 32}
    assert wheel.version == Version("1.0")
    archive = by_name["archive"].archive
    assert archive is not None and archive.path == "./dist/archive-2.0.tar.gz"
    assert lock.pending == {}
    assert not lock.findings


def test_pipenv_git_entry_without_ref_is_not_pinned(write: Write) -> None:
    data = lock_data(default={"mylib": {"git": "https://example.invalid/org/mylib.git"}},
                     develop={}, docs={})
    lock = pipfile.read(write_lock(write, data, pipfile_text=None))
    assert any("not pinned" in f.message and f.field == "default.mylib.ref" for f in lock.findings)


def test_pipenv_spec_5_is_refused_naming_the_field(write: Write) -> None:
    data = lock_data()
    data["_meta"]["pipfile-spec"] = 5
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, data))
    assert info.value.field == "_meta.pipfile-spec"
    assert "_meta.pipfile-spec" in str(info.value)
    assert str(info.value.file).endswith("Pipfile.lock")


def test_pipenv_malformed_json_names_the_position(write: Write) -> None:
    path = write("Pipfile.lock", '{"_meta": {"pipfile-spec": 6,}')
    with pytest.raises(LockFormatError) as info:
        pipfile.read(path)
    assert "malformed JSON at line 1" in str(info.value)


def test_pipenv_unknown_index_name_lists_the_sources(write: Write) -> None:
    data = lock_data()
    data["default"]["requests"]["index"] = "nowhere"
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, data))
    error = info.value
    assert error.package == "requests 2.32.3"
    assert error.field == "default.requests.index"
    assert "'nowhere'" in error.why
    assert "'private'" in (error.hint or "") and "'mirror'" in (error.hint or "")


@pytest.mark.parametrize("bad", ["sha256", "sha256:xyz", "", 12])
def test_pipenv_bad_hash_names_package_and_position(write: Write, bad: object) -> None:
    data = lock_data()
    data["default"]["idna"]["hashes"] = [H3, bad]
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, data))
    assert info.value.package == "idna 3.10"
    assert info.value.field == "default.idna.hashes[1]"


def test_pipenv_bad_version_and_marker_are_errors(write: Write) -> None:
    data = lock_data()
    data["default"]["idna"]["version"] = "==not a version"
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, data))
    assert info.value.field == "default.idna.version"
    data = lock_data()
    data["default"]["idna"]["markers"] = "python_version >>> '3'"
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, data))
    assert info.value.field == "default.idna.markers"


def test_pipenv_category_that_is_not_an_object_is_an_error(write: Write) -> None:
    with pytest.raises(LockFormatError) as info:
        pipfile.read(write_lock(write, lock_data(docs=["sphinx"])))
    assert info.value.field == "docs"


# --- freshness ---


def lock_for(write: Write, pipfile_text: str) -> Path:
    """A lock whose recorded hash is the one the Pipfile gives now (found through freshness)."""
    write("Pipfile", pipfile_text)
    digests = pipfile.pipfile_hashes(pipfile_toml(pipfile_text))
    assert digests
    data = lock_data()
    data["_meta"]["hash"]["sha256"] = next(iter(digests.values()))
    return write("Pipfile.lock", json.dumps(data))


def pipfile_toml(text: str) -> dict[str, Any]:
    from lading._toml import parse_toml

    return parse_toml(text, Path("Pipfile"))


def test_pipenv_freshness_flips_when_the_pipfile_changes(write: Write) -> None:
    path = lock_for(write, PIPFILE)
    fresh = pipfile.freshness(pipfile.read(path))
    assert fresh.checked and fresh.fresh, fresh
    assert fresh.manifest == path.parent / "Pipfile"
    write("Pipfile", PIPFILE.replace('pytest = "*"', 'pytest = ">=8"'))
    stale = pipfile.freshness(pipfile.read(path))
    assert stale.checked and not stale.fresh
    assert "_meta.hash.sha256 differs" in stale.differences[0]


def test_pipenv_freshness_ignores_scripts_but_not_custom_categories(write: Write) -> None:
    path = lock_for(write, PIPFILE)
    write("Pipfile", PIPFILE + '\n[scripts]\ntest = "pytest"\n')
    assert pipfile.freshness(pipfile.read(path)).fresh
    write("Pipfile", PIPFILE.replace('sphinx = "*"', 'sphinx = "*"\nfuro = "*"'))
    assert not pipfile.freshness(pipfile.read(path)).fresh


def test_pipenv_freshness_accepts_the_canonical_name_variant(write: Write) -> None:
    text = PIPFILE.replace('sphinx = "*"', 'Sphinx_Design = "*"')
    digests = pipfile.pipfile_hashes(pipfile_toml(text))
    assert digests is not None and len(set(digests.values())) == 2
    write("Pipfile", text)
    for digest in digests.values():
        data = lock_data()
        data["_meta"]["hash"]["sha256"] = digest
        path = write("Pipfile.lock", json.dumps(data))
        assert pipfile.freshness(pipfile.read(path)).fresh


def test_pipenv_freshness_injects_pips_default_source(write: Write) -> None:
    pytest.importorskip("pip")
    text = '[packages]\nidna = "*"\n'
    with_default = pipfile.pipfile_hashes(pipfile_toml(text))
    url = pipfile.default_index_url()
    assert url is not None and with_default is not None
    explicit = pipfile.pipfile_hashes(pipfile_toml(
        f'[[source]]\nname = "pypi"\nurl = "{url}"\nverify_ssl = true\n\n' + text))
    assert with_default == explicit


def test_pipenv_freshness_without_pipfile_or_hash_is_unchecked(write: Write) -> None:
    lock = pipfile.read(write_lock(write, lock_data(), pipfile_text=None))
    assert not pipfile.freshness(lock).checked
    data = lock_data()
    del data["_meta"]["hash"]
    lock = pipfile.read(write_lock(write, data))
    assert not pipfile.freshness(lock).checked


# --- real pipenv output ---

PIPENV_FIXTURES = [f for f in real_fixtures() if f.expected.get("format") == "pipfile"]


@pytest.mark.parametrize("fixture", PIPENV_FIXTURES, ids=[f.id for f in PIPENV_FIXTURES])
def test_pipenv_real_lock_selects_what_pipenv_installed(
    fixture: Any, tmp_path: Path, here: Target
) -> None:
    pytest.importorskip("pip")
    real = materialize(fixture, tmp_path)
    lock = pipfile.read(real.lock_path)
    assert names(select(lock, here)) == real.expected["installed"]
    result = pipfile.freshness(lock)
    assert result.checked and result.fresh, result
    manifest = real.directory / "Pipfile"
    manifest.write_text(manifest.read_text() + '\n[extra-things]\nidna = "*"\n')
    assert not pipfile.freshness(pipfile.read(real.lock_path)).fresh
