from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def pip_command() -> list[str]:
    """pip >= 26.1 (reads pylock.toml), installed into the test venv by scripts/test."""
    from packaging.version import Version

    out = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True,
                         check=True).stdout
    if Version(out.split()[1]) < Version("26.1"):
        pytest.skip("pip >= 26.1 is needed to install pylock.toml (scripts/test installs it)")
    return [sys.executable, "-m", "pip"]


def fresh_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


def installed(python: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    out = subprocess.run(
        [*pip_command(), "--python", str(python), "list", "--format", "json",
         "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(out)
            if d["name"] not in ("pip", "setuptools", "wheel")}
