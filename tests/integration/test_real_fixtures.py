"""The locks that real tools wrote (tests/fixtures/real): lading selects what the tool's own installer
installed, its exports install the same set through pip, and verify --deploy notices a changed manifest.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from lading.cli.main import main
from tests.conftest import RealFixture, materialize, real_fixtures
from tests.integration.conftest import fresh_venv, installed, pip_command

FIXTURES = real_fixtures()
pytestmark = pytest.mark.skipif(not FIXTURES, reason="no real-tool fixtures generated")


def ids(fixtures: list[RealFixture]) -> list[str]:
    return [f.id for f in fixtures]


@pytest.fixture
def fixture_copy(request: pytest.FixtureRequest, tmp_path: Path) -> RealFixture:
    fixture: RealFixture = request.param
    return materialize(fixture, tmp_path)


def show_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    code = main(["show", *args, "--json", "--offline"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    result: dict[str, object] = json.loads(captured.out)
    return result


def project_names(fixture: RealFixture, report: dict[str, object]) -> set[str]:
    """The project itself (a directory source): the tools' installs above leave it out."""
    return {str(p["name"]) for p in report["packages"]  # type: ignore[attr-defined]
            if p["artifact"]["kind"] == "directory"}


def selected_versions(fixture: RealFixture, report: dict[str, object]) -> dict[str, str]:
    own = project_names(fixture, report)
    return {str(p["name"]): str(p["version"]) for p in report["packages"]  # type: ignore[attr-defined]
            if p["name"] not in own}


@pytest.mark.parametrize("fixture_copy", FIXTURES, ids=ids(FIXTURES), indirect=True)
def test_show_selects_what_the_tools_own_installer_installed(
    fixture_copy: RealFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    report = show_json(capsys, str(fixture_copy.lock_path))
    expected = {canonicalize_name(k): v for k, v in fixture_copy.expected["installed"].items()}
    assert selected_versions(fixture_copy, report) == expected


PY39 = [f for f in FIXTURES if "installed_py39" in f.expected]


@pytest.mark.parametrize("fixture_copy", PY39, ids=ids(PY39), indirect=True)
def test_show_for_python_39_picks_the_older_side_of_a_split(
    fixture_copy: RealFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from glob import glob

    pythons = sorted(glob(str(Path.home() / ".pyenv/versions/3.9.*/bin/python")))
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
        pythons = sorted(glob(f"{root}/versions/3.9.*/bin/python")) or pythons
    except FileNotFoundError:
        pass
    if not pythons:
        pytest.skip("no Python 3.9 interpreter (pyenv) on this machine")
    report = show_json(capsys, str(fixture_copy.lock_path), "--python", pythons[-1])
    expected = {canonicalize_name(k): v for k, v in fixture_copy.expected["installed_py39"].items()}
    assert selected_versions(fixture_copy, report) == expected


def _stale_manifest(fixture: RealFixture) -> Path:
    """Add a dependency none of the fixtures locks to the manifest beside the lock, as a user would."""
    import tomlkit

    d = fixture.directory
    if fixture.expected["lock"] == "Pipfile.lock":
        doc = tomlkit.parse((d / "Pipfile").read_text())
        doc.setdefault("packages", tomlkit.table())["tabulate"] = "*"
        (d / "Pipfile").write_text(tomlkit.dumps(doc))
        return d / "Pipfile"
    if fixture.expected["lock"].endswith(".txt"):
        with (d / "requirements.in").open("a") as handle:
            handle.write("\ntabulate>=0.9\n")
        return d / "requirements.in"
    pyproject = d / "pyproject.toml"
    doc = tomlkit.parse(pyproject.read_text())
    if "project" in doc and "dependencies" in doc["project"]:
        doc["project"]["dependencies"].append("tabulate>=0.9")
    else:
        doc["tool"]["poetry"]["dependencies"]["tabulate"] = ">=0.9"
    pyproject.write_text(tomlkit.dumps(doc))
    return pyproject


def _has_manifest(fixture: RealFixture) -> bool:
    fmt = fixture.expected.get("format")
    if fmt == "pylock":
        return False  # PEP 751 records no manifest hash
    if fmt == "requirements":
        return (fixture.directory / "requirements.in").exists()  # uv export output has no .in
    return True


#: Locks the real tool wrote with a remote artifact it did not hash: verify must call them unsound.
#: poetry 1.1 records `six = []` in [metadata.files] for a direct URL dependency.
UNSOUND_AS_WRITTEN = {"split/poetry11": "six"}

CHECKABLE = [f for f in FIXTURES if _has_manifest(f)]
UNCHECKABLE = [f for f in FIXTURES if not _has_manifest(f)]


def verify_json(capsys: pytest.CaptureFixture[str], lock: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["verify", "--deploy", "--json", lock])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fixture_copy", CHECKABLE, ids=ids(CHECKABLE), indirect=True)
def test_verify_deploy_passes_fresh_and_fails_after_the_manifest_gains_a_dependency(
    fixture_copy: RealFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = str(fixture_copy.lock_path)
    code, report = verify_json(capsys, lock)
    assert report["freshness"] == {**report["freshness"], "checked": True, "fresh": True}  # type: ignore[dict-item]
    unsound = UNSOUND_AS_WRITTEN.get(fixture_copy.id)
    if unsound:
        assert code == 1 and not report["sound"]
        assert any(unsound in str(p["package"]) for p in report["problems"])  # type: ignore[attr-defined]
    else:
        assert code == 0, report["problems"]
    manifest = _stale_manifest(fixture_copy)
    capsys.readouterr()
    assert main(["verify", "--deploy", lock]) == 1
    out = capsys.readouterr().out
    assert "out of date" in out and manifest.name in out


@pytest.mark.parametrize("fixture_copy", UNCHECKABLE, ids=ids(UNCHECKABLE), indirect=True)
def test_verify_deploy_accepts_a_sound_lock_without_manifest_and_says_freshness_was_not_checked(
    fixture_copy: RealFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["verify", "--deploy", str(fixture_copy.lock_path)]) == 0
    assert "not checked" in capsys.readouterr().err


@pytest.mark.integration
@pytest.mark.parametrize("fixture_copy", FIXTURES, ids=ids(FIXTURES), indirect=True)
def test_pylock_export_installs_the_same_set_through_pip(
    fixture_copy: RealFixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pip = pip_command()
    report = show_json(capsys, str(fixture_copy.lock_path))
    own = project_names(fixture_copy, report)
    out = tmp_path / "export" / "pylock.toml"
    if fixture_copy.id in UNSOUND_AS_WRITTEN:
        assert main(["export", str(fixture_copy.lock_path), "--to", "pylock", "-o", str(out)]) == 1
        assert UNSOUND_AS_WRITTEN[fixture_copy.id] in capsys.readouterr().err and not out.exists()
        return
    assert main(["export", str(fixture_copy.lock_path), "--to", "pylock", "--no-project", "-o", str(out)]) == 0
    python = fresh_venv(tmp_path / "venv")
    subprocess.run([*pip, "--python", str(python), "install", "-q", "--no-input", "-r", str(out)],
                   check=True, cwd=out.parent)
    got = {k: v for k, v in installed(python).items() if k not in own}
    expected = {canonicalize_name(k): v for k, v in fixture_copy.expected["installed"].items()}
    assert got == expected


@pytest.mark.integration
@pytest.mark.parametrize("fixture_copy", FIXTURES, ids=ids(FIXTURES), indirect=True)
def test_requirements_export_installs_the_same_set_with_require_hashes(
    fixture_copy: RealFixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pip = pip_command()
    report = show_json(capsys, str(fixture_copy.lock_path))
    own = project_names(fixture_copy, report)
    out = tmp_path / "requirements.txt"
    assert main(["export", str(fixture_copy.lock_path), "--to", "requirements", "-o", str(out)]) == 0
    text = out.read_text()
    # the project itself is a local directory: pip cannot hash it, so it is installed apart
    text = "\n".join(line for line in text.splitlines() if not re.match(r"^(-e )?\.(/)?(\s|$)", line))
    lines = [ln for ln in text.splitlines() if not any(
        ln.startswith(f"{name} @ ") or ln.startswith("-e ") for name in own)]
    out.write_text("\n".join(lines) + "\n")
    python = fresh_venv(tmp_path / "venv")
    done = subprocess.run([*pip, "--python", str(python), "install", "-q", "--no-input", "--no-deps",
                           "--require-hashes", "-r", str(out)], capture_output=True, text=True)
    if fixture_copy.id in UNSOUND_AS_WRITTEN:
        # the tool left a remote file unhashed: pip's hash-checking mode refuses it, as it must
        assert done.returncode != 0 and UNSOUND_AS_WRITTEN[fixture_copy.id] in done.stderr
        return
    assert done.returncode == 0, done.stderr
    got = {k: v for k, v in installed(python).items() if k not in own}
    expected = {canonicalize_name(k): v for k, v in fixture_copy.expected["installed"].items()}
    assert got == expected
