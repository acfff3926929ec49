"""Fixtures shared by the unit tests that install from a local index (artifact builders, SBOMs...).

``test_install_cli`` defines the same fixtures for itself; a module's own definitions win over these."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit._httpserver import LocalServer, local_server  # noqa: F401  (a fixture)
from tests.unit.test_install_cli import Index


@pytest.fixture
def local_index(local_server: LocalServer, tmp_path: Path) -> Index:  # noqa: F811
    """A PEP 503 index on 127.0.0.1 that tests publish wheels and sdists to (``Index`` of test_install_cli)."""
    root = tmp_path / "index"
    local_server.serve_tree(root)
    return Index(local_server, root)


@pytest.fixture
def isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pip configuration, no active venv, and a cache of the test's own."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                 "LADING_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "env-cache"))
