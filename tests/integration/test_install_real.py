"""``lading install`` of every real-tool fixture (tests/fixtures/real) from the real index: the venv then holds
exactly what the format's own tool installed (``expected.json``), as pip itself lists it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from lading.cli.main import main
from tests.conftest import RealFixture, materialize, real_fixtures
from tests.integration.conftest import installed

FIXTURES = real_fixtures()
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not FIXTURES, reason="no real-tool fixtures generated")]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the fixtures share most of their files, as a CI cache would."""
    return tmp_path_factory.mktemp("lading-cache")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_install_gives_exactly_what_the_tool_installed(
    fixture: RealFixture, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = materialize(fixture, tmp_path)
    venv = tmp_path / "venv"
    code = main(["install", str(copy.lock_path), "--venv", str(venv), "--no-project", "--cache-dir",
                 str(shared_cache), "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    got = installed(venv / "bin" / "python")
    expected = {canonicalize_name(k): v for k, v in copy.expected["installed"].items()}
    assert got == expected
    # a second run is a no-op: the plan finds everything in place
    capsys.readouterr()
    assert main(["install", str(copy.lock_path), "--venv", str(venv), "--no-project", "--cache-dir",
                 str(shared_cache), "--dry-run"]) == 0
    assert "would change: nothing" in capsys.readouterr().out
