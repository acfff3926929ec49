"""``lading add / remove / upgrade / outdated``: edit the manifest, re-lock minimally, against a local index."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lading.cli.main import main
from lading.locks import read
from lading.workflow import find_project, orphans, outdated_rows, pinned_entries
from tests.unit._httpserver import LocalServer, serving
from tests.unit.test_lock import LocalIndex, Release


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def index(server: LocalServer, tmp_path: Path) -> LocalIndex:
    return LocalIndex(server, tmp_path / "index")


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "LADING_INDEX_URL", "LADING_EXTRA_INDEX_URL",
                 "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "env-cache"))


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(textwrap.dedent(text).encode())
    return path


def lading(index: LocalIndex, *args: str) -> int:
    return main([*args, "--index-url", index.url])


def locked(path: Path) -> dict[str, str]:
    return {str(p.name): str(p.version) for p in read(path).packages}


def base_index(index: LocalIndex) -> None:
    index.publish("app", Release("1.0", ["helper>=1"]), Release("1.1", ["helper>=1"]))
    index.publish("helper", Release("1.0"), Release("2.0"), Release("2.5"))
    index.publish("rich", Release("13.7.1", ["pygments"]), Release("14.0.0", ["pygments"]))
    index.publish("pygments", Release("2.18.0"))
    index.publish("needs-new-helper", Release("1.0", ["helper>=3"]))


PYPROJECT = """\
    # the demo project
    [project]
    name = "demo"
    version = "1.0"
    dependencies = [
        # the web app
        'app == 1.0',  # pinned on purpose
    ]

    [tool.other]
    keep = "this"
    """


def pyproject_with_lock(index: LocalIndex, tmp_path: Path) -> Path:
    """A pyproject.toml locked while only app 1.0 and helper 1.0 existed; newer ones published after."""
    index.publish("app", Release("1.0", ["helper>=1"]))
    index.publish("helper", Release("1.0"))
    path = write(tmp_path, "pyproject.toml", PYPROJECT.replace("'app == 1.0'", "'app >= 1.0'"))
    assert lading(index, "lock", str(path)) == 0
    base_index(index)
    return path


# --- add ---------------------------------------------------------------------------------------------------


def test_add_writes_a_lower_bound_at_the_newest_version_and_keeps_other_pins(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    before = path.read_text()
    capsys.readouterr()
    assert lading(index, "add", "rich", "--project", str(path.parent)) == 0
    out = capsys.readouterr().out
    after = path.read_text()
    assert after == before.replace("    'app >= 1.0',  # pinned on purpose\n",
                                   "    'app >= 1.0',  # pinned on purpose\n    'rich>=14.0',\n")
    # app and helper stay where the old lock had them although newer versions exist
    assert locked(path.parent / "pylock.toml") == {
        "app": "1.0", "helper": "1.0", "pygments": "2.18.0", "rich": "14.0.0"
    }
    assert "added 'rich>=14.0' to pyproject.toml" in out
    assert "+ rich 14.0.0" in out and "+ pygments 2.18.0" in out
    assert "helper" not in out


def test_add_with_a_range_extras_and_marker_keeps_them_as_written(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    before = path.read_text()
    assert lading(index, "add", "rich[jupyter]<14 ; python_version >= '3'", "--project", str(path)) == 0
    old = "    'app >= 1.0',  # pinned on purpose\n"
    assert path.read_text() == before.replace(old, old + "    'rich[jupyter]<14; python_version >= \"3\"',\n")
    assert locked(path.parent / "pylock.toml")["rich"] == "13.7.1"


def test_add_to_a_group_and_to_an_extra(index: LocalIndex, tmp_path: Path) -> None:
    path = pyproject_with_lock(index, tmp_path)
    assert lading(index, "add", "pygments", "--group", "dev", "--project", str(path)) == 0
    assert lading(index, "add", "rich", "--optional", "fancy", "--project", str(path)) == 0
    text = path.read_text()
    assert text.endswith('[dependency-groups]\ndev = [\n    "pygments>=2.18",\n]\n')
    assert '[project.optional-dependencies]\nfancy = [\n    "rich>=14.0",\n]\n' in text
    assert text.startswith(textwrap.dedent(PYPROJECT).replace("'app == 1.0'", "'app >= 1.0'").split("[tool")[0])
    result = read(path.parent / "pylock.toml")
    markers = {str(p.name): str(p.marker) if p.marker else None for p in result.packages}
    assert markers["rich"] == '"fancy" in extras'
    assert markers["pygments"] == '"dev" in dependency_groups or "fancy" in extras'
    assert markers["app"] is None


def test_add_that_cannot_be_resolved_restores_the_manifest_byte_for_byte(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    text = PYPROJECT.replace("'app == 1.0'", "'app >= 1.0'").replace("\n", "\r\n")
    path.write_bytes(textwrap.dedent(text).encode())
    manifest_bytes = path.read_bytes()
    lock_bytes = (path.parent / "pylock.toml").read_bytes()
    capsys.readouterr()
    assert lading(index, "add", "needs-new-helper", "helper<2", "--project", str(path)) == 1
    err = capsys.readouterr().err
    assert path.read_bytes() == manifest_bytes
    assert (path.parent / "pylock.toml").read_bytes() == lock_bytes
    assert "requires 'helper>=3'" in err and "pyproject.toml was left as it was" in err
    assert "Traceback" not in err


def test_add_bound_style_is_configurable(index: LocalIndex, tmp_path: Path) -> None:
    path = pyproject_with_lock(index, tmp_path)
    path.write_text(path.read_text() + '\n[tool.lading]\nadd-bound = "compatible"\n')
    assert lading(index, "add", "rich", "--project", str(path)) == 0
    assert "'rich~=14.0'," in path.read_text()
    path.write_text(path.read_text().replace('"compatible"', '"exact"'))
    assert lading(index, "add", "pygments", "--project", str(path)) == 0
    assert "'pygments==2.18.0'," in path.read_text()
    path.write_text(path.read_text().replace('"exact"', '"loose"'))
    assert lading(index, "add", "helper", "--project", str(path)) == 2


def test_add_no_lock_edits_only(index: LocalIndex, tmp_path: Path) -> None:
    path = pyproject_with_lock(index, tmp_path)
    lock_bytes = (path.parent / "pylock.toml").read_bytes()
    assert lading(index, "add", "rich", "--no-lock", "--project", str(path)) == 0
    assert "'rich>=14.0'," in path.read_text()
    assert (path.parent / "pylock.toml").read_bytes() == lock_bytes


def test_add_to_poetry_project(index: LocalIndex, tmp_path: Path) -> None:
    base_index(index)
    text = """\
        [tool.poetry]
        name = "demo"
        version = "1.0"

        [tool.poetry.dependencies]
        python = "^3.9"
        app = "1.0"  # keep

        [build-system]
        requires = ["poetry-core"]
        """
    path = write(tmp_path, "pyproject.toml", text)
    assert lading(index, "add", "helper<2", "--project", str(path.parent)) == 0
    assert path.read_text() == textwrap.dedent(text).replace('app = "1.0"  # keep\n',
                                                             'app = "1.0"  # keep\nhelper = "<2"\n')
    assert locked(path.parent / "pylock.toml") == {"app": "1.0", "helper": "1.0"}


def test_add_to_requirements_in_updates_requirements_txt(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.publish("app", Release("1.0", ["helper>=1"]))
    index.publish("helper", Release("1.0"))
    path = write(tmp_path, "requirements.in", "# top\napp\n")
    assert lading(index, "lock", str(path)) == 0
    base_index(index)
    capsys.readouterr()
    assert lading(index, "add", "rich", "--project", str(path.parent)) == 0
    assert path.read_text() == "# top\napp\nrich>=14.0\n"
    assert locked(path.with_suffix(".txt")) == {"app": "1.0", "helper": "1.0", "pygments": "2.18.0",
                                                "rich": "14.0.0"}
    assert "rich==14.0.0 \\\n    --hash=sha256:" in path.with_suffix(".txt").read_text()


def test_add_to_pipfile_writes_pipfile_lock_that_verifies(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_index(index)
    text = f"""\
        [[source]]
        name = "local"
        url = "{index.url}"
        verify_ssl = false

        [packages]
        app = "==1.0"

        [dev-packages]
        """
    path = write(tmp_path, "Pipfile", text)
    assert main(["add", "helper", "--project", str(path.parent)]) == 0
    assert main(["add", "pygments", "--group", "dev", "--project", str(path.parent)]) == 0
    assert path.read_text() == textwrap.dedent(text).replace(
        'app = "==1.0"\n', 'app = "==1.0"\nhelper = ">=2.5"\n'
    ).replace("[dev-packages]\n", '[dev-packages]\npygments = ">=2.18"\n')
    data = json.loads((path.parent / "Pipfile.lock").read_text())
    assert set(data["default"]) == {"app", "helper"} and set(data["develop"]) == {"pygments"}
    capsys.readouterr()
    assert main(["verify", str(path.parent / "Pipfile.lock")]) == 0, capsys.readouterr()


def test_add_json_report_is_versioned(index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = pyproject_with_lock(index, tmp_path)
    capsys.readouterr()
    assert lading(index, "add", "rich", "--json", "--project", str(path)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1 and report["command"] == "add"
    assert report["edits"] == ["added 'rich>=14.0' to pyproject.toml"]
    assert {c["name"]: c["change"] for c in report["changes"]} == {"pygments": "added", "rich": "added"}


# --- every manifest kind: add, remove, upgrade, outdated ----------------------------------------------------

KINDS = {
    "pyproject": ("pyproject.toml", "pylock.toml",
                  '# demo\n[project]\nname = "demo"\nversion = "1.0"\ndependencies = [\n  "app>=1.0",  # web\n]\n'
                  '\n[tool.x]\ny = 1\n'),
    "poetry": ("pyproject.toml", "pylock.toml",
               '[tool.poetry]\nname = "demo"\nversion = "1.0"\n\n[tool.poetry.dependencies]\n'
               'python = ">=3.9"\napp = ">=1.0"  # web\n\n[tool.x]\ny = 1\n'),
    "requirements": ("requirements.in", "requirements.txt", "# top\napp>=1.0  # web\n\n# end\n"),
    "pinned": ("requirements.txt", "requirements.txt", "# top\napp==1.0\nhelper==1.0  # old\n"),
    "pipfile": ("Pipfile", "Pipfile.lock", '[packages]\napp = ">=1.0"  # web\n\n[requires]\n'),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_add_remove_upgrade_outdated(
    kind: str, index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, lock_name, text = KINDS[kind]
    index.publish("app", Release("1.0", ["helper>=1"]))
    index.publish("helper", Release("1.0"))
    path = write(tmp_path, name, text)
    lock_path = path.parent / lock_name
    if kind != "pinned":
        extra = ["--to", "pipfile-lock"] if kind == "pipfile" else []
        assert lading(index, "lock", str(path), *extra) == 0
    assert find_project(path.parent).kind == kind
    base_index(index)
    original = path.read_bytes()
    assert locked(lock_path) == {"app": "1.0", "helper": "1.0"}

    assert lading(index, "add", "rich", "--project", str(path.parent)) == 0
    added = path.read_text()
    assert added != text
    assert locked(lock_path) == {"app": "1.0", "helper": "1.0", "pygments": "2.18.0", "rich": "14.0.0"}
    # everything outside the new entry is as it was: taking its line out gives the original back
    # (a pinned file is the lock: the new dependency is pinned in it too)
    new = ("rich", "pygments") if kind == "pinned" else ("rich",)
    entry = [line for line in added.splitlines(keepends=True) if line.strip().lstrip("'\"").startswith(new)]
    assert len(entry) == len(new) and "".join(x for x in added.splitlines(keepends=True) if x not in entry) == text
    assert ("==14.0.0" if kind == "pinned" else "14.0") in entry[-1]

    assert lading(index, "remove", "rich", "--project", str(path.parent)) == 0
    assert path.read_bytes() == original
    assert locked(lock_path) == {"app": "1.0", "helper": "1.0"}

    capsys.readouterr()
    assert lading(index, "outdated", "--json", "--project", str(path.parent)) == 0
    rows = {p["name"]: p for p in json.loads(capsys.readouterr().out)["packages"]}
    assert rows["helper"]["latest"] == "2.5" and rows["helper"]["allowed"] == ["2.5"]
    assert rows["app"]["allowed"] == ["1.1"] and rows["app"]["locked"] == ["1.0"]

    assert lading(index, "upgrade", "helper", "--project", str(path.parent)) == 0
    assert locked(lock_path) == {"app": "1.0", "helper": "2.5"}
    assert "~ helper 1.0 -> 2.5 (upgraded)" in capsys.readouterr().out
    if kind == "pinned":
        assert path.read_text() == text.replace("helper==1.0", "helper==2.5")
    else:
        assert path.read_bytes() == original
    if kind == "pipfile":
        assert main(["verify", str(lock_path)]) == 0


# --- a plain pinned requirements.txt (the file is the lock) --------------------------------------------------


def test_pinned_add_pins_the_newest_version_that_fits_the_other_pins(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_index(index)
    index.publish("plugin", Release("1.0", ["helper<3"]), Release("2.0", ["helper>=2"]))
    path = write(tmp_path, "requirements.txt", "# pinned\napp==1.0\nhelper==1.0  # old on purpose\n")
    assert find_project(path.parent).kind == "pinned"
    assert lading(index, "add", "plugin", "rich", "--project", str(path.parent)) == 0
    assert path.read_text() == (
        "# pinned\napp==1.0\nhelper==1.0  # old on purpose\nplugin==1.0\npygments==2.18.0\nrich==14.0.0\n"
    )
    out = capsys.readouterr().out
    assert "pinned plugin==1.0 in requirements.txt" in out and "+ pygments 2.18.0" in out


def test_pinned_add_keeps_a_hashed_file_hashed_and_sorted(index: LocalIndex, tmp_path: Path) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.0\nhelper==1.0\n")
    assert lading(index, "add", "rich", "--hashes", "--project", str(path)) == 0
    text = path.read_text()
    for name in ("app==1.0", "helper==1.0", "pygments==2.18.0", "rich==14.0.0"):
        assert f"{name} \\\n    --hash=sha256:" in text
    entries = pinned_entries(text)
    assert list(entries) == sorted(entries) and all(e.hashed for e in entries.values())
    # a hashed file stays hashed without the flag
    index.publish("zzz", Release("1.0"))
    assert lading(index, "add", "zzz", "--project", str(path)) == 0
    assert "zzz==1.0 \\\n    --hash=sha256:" in path.read_text()


def test_pinned_add_conflicting_with_a_pin_leaves_the_file(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.0\nhelper==1.0\n")
    before = path.read_bytes()
    assert lading(index, "add", "needs-new-helper", "--project", str(path)) == 1
    assert path.read_bytes() == before
    assert "helper>=3" in capsys.readouterr().err


def test_pinned_remove_drops_pins_only_it_needed_and_refuses_needed_ones(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.0\nhelper==2.0\npygments==2.18.0\nrich==14.0.0\n")
    assert lading(index, "remove", "helper", "--project", str(path)) == 1
    assert "helper is still needed by app 1.0" in capsys.readouterr().err
    assert lading(index, "remove", "rich", "--project", str(path)) == 0
    assert path.read_text() == "app==1.0\nhelper==2.0\n"
    out = capsys.readouterr().out
    assert "- rich 14.0.0" in out and "- pygments 2.18.0" in out


def test_pinned_upgrade_moves_named_pins_only(index: LocalIndex, tmp_path: Path) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.0\nhelper==1.0\n")
    assert lading(index, "upgrade", "helper", "--project", str(path)) == 0
    assert path.read_text() == "app==1.0\nhelper==2.5\n"
    assert lading(index, "upgrade", "--all", "--hashes", "--project", str(path)) == 0
    text = path.read_text()
    assert "app==1.1 \\\n    --hash=sha256:" in text and "helper==2.5 \\\n    --hash=sha256:" in text


def test_pinned_outdated(index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.1\nhelper==1.0\n")
    capsys.readouterr()
    assert lading(index, "outdated", "--json", "--project", str(path)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1
    assert report["packages"] == [
        {"name": "helper", "locked": ["1.0"], "allowed": ["2.5"], "latest": "2.5", "outdated": True}
    ]


# --- remove ------------------------------------------------------------------------------------------------


def test_remove_drops_the_entry_and_pins_nothing_needs(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    assert lading(index, "add", "rich", "--project", str(path)) == 0
    with_rich = path.read_text()
    capsys.readouterr()
    assert lading(index, "remove", "rich", "--project", str(path)) == 0
    assert path.read_text() == with_rich.replace("    'rich>=14.0',\n", "")
    assert locked(path.parent / "pylock.toml") == {"app": "1.0", "helper": "1.0"}
    out = capsys.readouterr().out
    assert "- rich 14.0.0" in out and "- pygments 2.18.0" in out


def test_remove_of_an_absent_package_changes_nothing(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    before = path.read_bytes()
    assert lading(index, "remove", "nothere", "--project", str(path)) == 1
    assert path.read_bytes() == before
    assert "nothere" in capsys.readouterr().err


def test_remove_from_requirements_in(index: LocalIndex, tmp_path: Path) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.in", "app\n# pretty output\nrich\n")
    assert lading(index, "lock", str(path)) == 0
    assert "rich" in locked(path.with_suffix(".txt"))
    assert lading(index, "remove", "rich", "--project", str(path)) == 0
    assert path.read_text() == "app\n# pretty output\n"  # a comment line is not the entry's
    assert locked(path.with_suffix(".txt")) == {"app": "1.1", "helper": "2.5"}


# --- upgrade -----------------------------------------------------------------------------------------------


def test_upgrade_one_package_then_all_and_bump(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    before = path.read_text()
    capsys.readouterr()
    assert lading(index, "upgrade", "helper", "--project", str(path)) == 0
    assert locked(path.parent / "pylock.toml") == {"app": "1.0", "helper": "2.5"}
    assert "~ helper 1.0 -> 2.5 (upgraded)" in capsys.readouterr().out
    assert path.read_text() == before
    assert lading(index, "upgrade", "--all", "--bump", "--project", str(path)) == 0
    assert locked(path.parent / "pylock.toml") == {"app": "1.1", "helper": "2.5"}
    assert path.read_text() == before.replace("'app >= 1.0'", "'app >= 1.1'")
    out = capsys.readouterr().out
    assert "raised app to '>=1.1' in pyproject.toml" in out and "~ app 1.0 -> 1.1 (upgraded)" in out


def test_upgrade_of_an_unknown_package_is_a_usage_error(index: LocalIndex, tmp_path: Path) -> None:
    path = pyproject_with_lock(index, tmp_path)
    assert lading(index, "upgrade", "nothere", "--project", str(path)) == 2


# --- outdated ----------------------------------------------------------------------------------------------


def test_outdated_table_shows_allowed_and_latest(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    path.write_text(path.read_text().replace("'app >= 1.0'", "'app >= 1.0', 'helper<2'"))
    index.publish("helper", Release("1.0"), Release("1.5"), Release("2.0"), Release("2.5"),
                  Release("3.0", requires_python=">=99"), Release("3.1rc1"))
    capsys.readouterr()
    assert lading(index, "outdated", "--project", str(path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["package", "locked", "allowed", "latest"]
    assert [line.split() for line in lines[1:]] == [["app", "1.0", "1.1", "1.1"], ["helper", "1.0", "1.5", "2.5"]]
    assert lading(index, "outdated", "--json", "--all", "--project", str(path)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == 1 and [p["name"] for p in report["packages"]] == ["app", "helper"]


def test_outdated_without_a_lock_says_so(index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "pyproject.toml", PYPROJECT)
    assert lading(index, "outdated", "--project", str(path)) == 1
    assert "no lock to compare" in capsys.readouterr().err


# --- --build and --install ---------------------------------------------------------------------------------


def test_build_without_configuration_is_a_usage_error_and_changes_nothing(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    before = path.read_bytes()
    capsys.readouterr()
    assert lading(index, "add", "rich", "--build", "--project", str(path)) == 2
    assert "nothing to build is configured" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_build_configuration_that_is_not_a_valid_command_is_refused_before_anything_changes(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    path.write_text(path.read_text() + '\n[tool.lading.build.wheelhouse]\noutput = "wh"\nno-such-option = 1\n')
    before, lock_before = path.read_bytes(), (path.parent / "pylock.toml").read_bytes()
    capsys.readouterr()
    assert lading(index, "upgrade", "--build", "--project", str(path)) == 2
    err = capsys.readouterr().err
    assert "tool.lading.build.wheelhouse" in err and "--no-such-option" in err, err
    assert path.read_bytes() == before and (path.parent / "pylock.toml").read_bytes() == lock_before
    path.write_text(path.read_text().replace("[tool.lading.build.wheelhouse]", "[tool.lading.build.rocket]"))
    assert lading(index, "upgrade", "--build", "--project", str(path)) == 2
    assert "unknown artifact kind 'rocket'" in capsys.readouterr().err


def test_add_with_build_relocks_then_rebuilds_the_configured_wheelhouse(
    index: LocalIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject_with_lock(index, tmp_path)
    path.write_text(path.read_text() + '\n[tool.lading.build.wheelhouse]\noutput = "dist/wheelhouse"\n'
                    'no-project = true\n')
    capsys.readouterr()
    assert lading(index, "add", "rich", "--build", "--json", "--project", str(path)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["builds"] == [{"kind": "wheelhouse", "exit": 0,
                                 "argv": ["build", "wheelhouse", ".", "-o", "dist/wheelhouse", "--no-project"]}]
    wheels = sorted(p.name.split("-")[0] for p in (path.parent / "dist" / "wheelhouse").glob("*.whl"))
    assert wheels == sorted(locked(path.parent / "pylock.toml"))
    assert "rich" in wheels and "pygments" in wheels


def test_install_syncs_the_project_venv(
    index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base_index(index)
    monkeypatch.setenv("LADING_INDEX_URL", index.url)
    path = write(tmp_path, "requirements.txt", "helper==1.0\n")
    assert main(["add", "pygments", "--install", "--project", str(path)]) == 0
    venv = path.parent / ".venv"
    found = sorted(p.name for p in venv.glob("lib/python*/site-packages/*.dist-info"))
    assert found == ["helper-1.0.dist-info", "pygments-2.18.0.dist-info"]


# --- pure pieces -------------------------------------------------------------------------------------------


def key(name: str) -> NormalizedName:
    return canonicalize_name(name)


def test_orphans_are_what_only_the_removed_needed() -> None:
    graph = {key("web"): {key("http"), key("json")}, key("http"): {key("idna")}, key("cli"): {key("json")},
             key("json"): set(), key("idna"): set()}
    assert orphans(graph, {key("web")}) == {key("http"), key("idna")}
    assert orphans(graph, {key("cli")}) == set()


def test_outdated_rows_only_newer_unless_all() -> None:
    locked = {key("a"): [Version("1.0")], key("b"): [Version("2.0")]}
    allowed = {key("a"): [Version("1.0")], key("b"): [Version("2.0")]}
    latest = {key("a"): Version("1.5"), key("b"): Version("2.0")}
    assert [r.name for r in outdated_rows(locked, allowed, latest)] == ["a"]
    assert [r.name for r in outdated_rows(locked, allowed, latest, everything=True)] == ["a", "b"]


def test_find_project_kinds(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "requirements.txt").write_text("a==1\n")
    assert find_project(folder).kind == "pinned"
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert find_project(folder).kind == "pinned"  # metadata only: the pinned file is what the project uses
    (folder / "requirements.in").write_text("a\n")
    project = find_project(folder / "requirements.txt")
    assert project.kind == "requirements" and project.manifest.name == "requirements.in"


def test_pinned_add_of_a_pinned_package_moves_its_pin_in_place(index: LocalIndex, tmp_path: Path) -> None:
    base_index(index)
    path = write(tmp_path, "requirements.txt", "app==1.0\nhelper==1.0  # why\nzlast==1\n")
    index.publish("zlast", Release("1"))
    assert lading(index, "add", "helper<2.5", "--project", str(path)) == 0
    assert path.read_text() == "app==1.0\nhelper==2.0  # why\nzlast==1\n"
