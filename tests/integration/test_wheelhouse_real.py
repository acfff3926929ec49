"""``lading build wheelhouse`` of the bundled example (examples/webapp, a hash-only requirements.txt from
pip-compile beside a flit project) against the real index, then installs from it with the network cut off."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lading.cli.main import main
from tests.integration.conftest import fresh_venv, installed, pip_command

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webapp"

pytestmark = pytest.mark.integration


def test_webapp_wheelhouse_installs_offline_with_lading_and_pip(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("unshare -n is not available here")
    project = tmp_path / "webapp"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".venv*"))
    out = tmp_path / "wheelhouse"
    assert main(["build", "wheelhouse", str(project), "-o", str(out), "-q",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert (out / "webapp-1.0.0-py3-none-any.whl").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "LADING_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
               LADING_CACHE_DIR=str(tmp_path / "fresh-cache"))
    pythons = [fresh_venv(tmp_path / f"v{i}") for i in range(3)]
    commands = [
        [sys.executable, "-m", "lading", "install", str(out), "--offline", "--find-links", str(out),
         "--venv", str(tmp_path / "v0")],
        [*pip_command(), "--python", str(pythons[1]), "install", "--no-index", "--find-links", str(out),
         "--require-hashes", "-r", str(out / "requirements.txt")],
        [*pip_command(), "--python", str(pythons[2]), "install", "--index-url", (out / "simple").as_uri(), "webapp"],
    ]
    for command in commands:
        done = subprocess.run(["unshare", "-n", *command], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    wanted = installed(pythons[1])
    assert "webapp" in wanted and "flask" in wanted
    for python in pythons:
        assert installed(python) == wanted
        subprocess.run([str(python), "-c", "import webapp, flask"], check=True)
