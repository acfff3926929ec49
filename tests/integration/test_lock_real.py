"""``lading lock`` against the real index: the versions it picks equal ``uv pip compile``'s for the same target."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
from packaging.utils import canonicalize_name

from lading.cli.main import main
from tests.conftest import index_values

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".tools-venv" / "uv" / "bin" / "uv"
WEBAPP = REPO / "examples" / "webapp" / "requirements.in"
BASIC = REPO / "tests" / "fixtures" / "real" / "basic" / "uv" / "pyproject.toml"


def index_url() -> str:
    return index_values()["@@INDEX_URL@@"]


def ensure_uv() -> Path:
    """uv in the tools venv (the pin `scripts/make_fixtures.py` uses), installed on first use."""
    if not UV.exists():
        venv = UV.parent.parent
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "uv==0.13.8"],
                       check=True, timeout=600)
    return UV


def uv_versions(manifest: Path, *extra: str) -> dict[str, str]:
    ensure_uv()
    done = subprocess.run(
        [str(UV), "pip", "compile", str(manifest), "--index-url", index_url(), "--no-header", "--no-annotate",
         "--python", sys.executable, *extra],
        capture_output=True, text=True, cwd=manifest.parent, timeout=300,
        env={**os.environ, "UV_NO_CONFIG": "1"},
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def lading_versions(
    manifest: Path, capsys: pytest.CaptureFixture[str], *extra: str, groups: Optional[set[str]] = None
) -> dict[str, str]:
    capsys.readouterr()
    assert main(["lock", str(manifest), "--index-url", index_url(), "--json", *extra]) == 0
    report = json.loads(capsys.readouterr().out)
    found: dict[str, str] = {}
    for package in report["packages"]:
        found[package["name"]] = package["version"]
    return found


def copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copy(source, target)
    return target


def test_webapp_requirements_in_matches_uv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = copy(WEBAPP, tmp_path)
    ours = lading_versions(manifest, capsys)
    assert ours == uv_versions(manifest)
    text = (tmp_path / "requirements.txt").read_text()
    assert "flask==" in text and "--hash=sha256:" in text


def test_fixture_project_with_extras_and_groups_matches_uv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = copy(BASIC, tmp_path)
    ours = lading_versions(manifest, capsys)
    theirs = uv_versions(manifest, "--all-extras", "--group", "dev", "--group", "docs")
    assert ours == theirs
    lock = (tmp_path / "pylock.toml").read_text()
    assert "'dev' in dependency_groups" in lock or '"dev" in dependency_groups' in lock


def test_other_platform_target_matches_uv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = copy(WEBAPP, tmp_path)
    ours = lading_versions(manifest, capsys, "--target", "cp311-win_amd64", "-o", str(tmp_path / "win.txt"))
    theirs = uv_versions(manifest, "--python-platform", "x86_64-pc-windows-msvc", "--python-version", "3.11")
    assert ours == theirs
    assert "waitress" in ours and "gunicorn" not in ours
