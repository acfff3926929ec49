"""Reading pylock.toml and selecting from it: markers, groups, extras, splits, tags, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.tags import Tag

from lading.cli.main import main
from lading.errors import LockFormatError, SelectionError
from lading.locks import read
from lading.model import GroupRequest, Target
from lading.select import select
from tests.conftest import target_for

H = "a" * 64
PYLOCK = f"""
lock-version = "1.0"
requires-python = ">=3.8"
extras = ["fast"]
dependency-groups = ["dev", "docs"]
default-groups = []
created-by = "hand"

[[packages]]
name = "attrs"
version = "24.2.0"
wheels = [{{ url = "https://example.invalid/f/attrs-24.2.0-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}]

[[packages]]
name = "markupsafe"
version = "2.1.5"
marker = "python_version < '3.10'"
sdist = {{ url = "https://example.invalid/f/MarkupSafe-2.1.5.tar.gz", hashes = {{ sha256 = "{H}" }} }}

[[packages]]
name = "markupsafe"
version = "3.0.2"
marker = "python_version >= '3.10'"
wheels = [
  {{ url = "https://x.invalid/markupsafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.whl", hashes = {{ sha256 = "{H}" }} }},
  {{ url = "https://example.invalid/f/markupsafe-3.0.2-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }},
]

[[packages]]
name = "colorama"
version = "0.4.6"
marker = "sys_platform == 'win32'"
wheels = [{{ url = "https://example.invalid/f/colorama-0.4.6-py2.py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}]

[[packages]]
name = "pytest"
version = "8.3.3"
marker = "'dev' in dependency_groups"
wheels = [{{ url = "https://example.invalid/f/pytest-8.3.3-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}]

[[packages]]
name = "ujson"
version = "5.10.0"
marker = "'fast' in extras"
wheels = [{{ url = "https://example.invalid/f/ujson-5.10.0-cp39-cp39-win_amd64.whl", hashes = {{ sha256 = "{H}" }} }}]
"""


def names(selection) -> dict[str, str]:
    return {s.package.name: str(s.package.version) for s in selection.selected}


def test_default_selection_is_main_only_with_markers_applied(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    selection = select(lock, target_for("3.11.7", here))
    assert names(selection) == {"attrs": "24.2.0", "markupsafe": "3.0.2"}
    reasons = {s.package.name: s.reason for s in selection.skipped}
    assert reasons["pytest"] == "group"
    assert reasons["ujson"] == "group"
    assert reasons["colorama"] == "marker"


def test_python_version_split_picks_the_older_release_for_older_python(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    selection = select(lock, target_for("3.9.18", here))
    assert names(selection)["markupsafe"] == "2.1.5"
    [chosen] = [s for s in selection.selected if s.package.name == "markupsafe"]
    assert chosen.source.filename == "MarkupSafe-2.1.5.tar.gz"


def test_groups_and_extras_add_to_the_selection(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    selection = select(lock, target_for("3.11.7", here), GroupRequest(dev=True))
    assert "pytest" in names(selection)
    selection = select(lock, target_for("3.11.7", here), GroupRequest(extras=("fast",)))
    # ujson only has a Windows wheel: selected by markers, skipped for want of an artifact
    assert "ujson" not in names(selection)
    [skip] = [s for s in selection.skipped if s.package.name == "ujson"]
    assert skip.reason == "no-compatible-artifact"


def test_best_wheel_follows_the_target_tags(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    linux = Target("linux", dict(target_for("3.11.7", here).environment),
                   (Tag("cp311", "cp311", "manylinux_2_17_x86_64"), Tag("py3", "none", "any")))
    pure = Target("pure", dict(linux.environment), (Tag("py3", "none", "any"),))
    pick = {s.package.name: s.source.filename for s in select(lock, linux).selected}
    assert pick["markupsafe"].endswith("manylinux_2_17_x86_64.whl")
    pick = {s.package.name: s.source.filename for s in select(lock, pure).selected}
    assert pick["markupsafe"].endswith("py3-none-any.whl")


def test_unknown_group_is_an_error_listing_the_known_ones(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    with pytest.raises(SelectionError) as info:
        select(lock, here, GroupRequest(groups=("test",)))
    assert "dev, docs" in str(info.value)


def test_requires_python_of_the_lock_is_enforced(write, here: Target) -> None:
    lock = read(write("pylock.toml", PYLOCK))
    with pytest.raises(SelectionError) as info:
        select(lock, target_for("3.7.9", here))
    assert "pylock.toml" in str(info.value)


def test_default_groups_of_a_pylock_are_honoured(write, here: Target) -> None:
    text = PYLOCK.replace('default-groups = []', 'default-groups = ["docs"]').replace(
        "'dev' in dependency_groups", "'docs' in dependency_groups")
    lock = read(write("pylock.toml", text))
    assert "pytest" in names(select(lock, target_for("3.11.7", here)))


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda t: t.replace('lock-version = "1.0"', 'lock-version = "2.0"'), "lock-version"),
        (lambda t: t.replace('name = "attrs"', 'name = "Attrs_"'), "packages[0]"),
        (lambda t: t.replace("attrs-24.2.0-py3", "attrs-9.9.9-py3"), "attrs 24.2.0"),
        (lambda t: t.replace("python_version < '3.10'", "python_version <<< '3.10'"), "marker"),
        (lambda t: t + "\n[[packages]\n", "malformed TOML"),
        (lambda t: t.replace('created-by = "hand"', ""), "created-by"),
    ],
)
def test_bad_pylock_input_names_file_and_field(write, mutation, expected: str) -> None:
    path = write("pylock.toml", mutation(PYLOCK))
    with pytest.raises(LockFormatError) as info:
        read(path)
    message = str(info.value)
    assert "pylock.toml" in message and expected in message
    assert "hint:" in message


def test_show_json_lists_packages_and_skipped(write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("pylock.toml", PYLOCK)
    assert main(["show", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1
    by_name = {p["name"]: p for p in report["packages"]}
    assert by_name["attrs"]["artifact"]["kind"] == "wheel"
    assert by_name["attrs"]["artifact"]["filename"] == "attrs-24.2.0-py3-none-any.whl"
    assert {s["name"] for s in report["skipped"]} >= {"colorama", "pytest"}


def test_bad_input_exits_1_without_traceback(write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("pylock.toml", PYLOCK.replace('version = "24.2.0"', "version = 24"))
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and "pylock.toml" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["show", str(tmp_path / "nope")]) == 2
    assert main(["show", "--no-such-flag"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_directory_with_several_locks_says_which_it_took(write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("proj/pylock.toml", PYLOCK)
    write("proj/requirements.txt", "attrs==24.2.0\n")
    assert main(["show", str(path.parent)]) == 0
    err = capsys.readouterr().err
    assert "using pylock.toml" in err and "requirements.txt" in err and "--lock" in err


def test_verify_refuses_an_unsupported_hash(write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("pylock.toml", PYLOCK.replace(f'sha256 = "{H}" }} }}]\n\n[[packages]]\nname = "markupsafe"',
                                               f'md5 = "{H[:32]}" }} }}]\n\n[[packages]]\nname = "markupsafe"', 1))
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "package attrs 24.2.0" in out and "'md5:" in out and "not a supported hash" in out


def test_verify_passes_a_sound_lock(write, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(write("pylock.toml", PYLOCK)), "--deploy"]) == 0
    assert "sound" in capsys.readouterr().out
