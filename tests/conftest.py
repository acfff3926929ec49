"""Shared test helpers: the real-tool fixtures, with their index placeholders filled in from configuration."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from lading.model import Target

REAL = Path(__file__).parent / "fixtures" / "real"


def index_values() -> dict[str, str]:
    """The values behind the fixtures' placeholders: the configured index, else pip's default.

    The fixtures were generated against pip's default index; its file host comes from pip too, so no host
    name is written in the repository.
    """
    from pip._internal.models.index import PyPI

    return {
        "@@INDEX_URL@@": PyPI.simple_url.rstrip("/"),
        "@@FILES_URL@@": "https://" + PyPI.file_storage_domain,
        "@@INDEX_HOST_URL@@": PyPI.url.rstrip("/"),
    }


@dataclass(frozen=True)
class RealFixture:
    project: str
    tool: str
    directory: Path
    expected: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.project}/{self.tool}"

    @property
    def lock_path(self) -> Path:
        return self.directory / str(self.expected["lock"])


def real_fixtures() -> list[RealFixture]:
    found = []
    for expected in sorted(REAL.glob("*/*/expected.json")):
        data = json.loads(expected.read_text())
        found.append(RealFixture(expected.parent.parent.name, expected.parent.name, expected.parent, data))
    return found


def materialize(fixture: RealFixture, into: Path) -> RealFixture:
    """Copy a fixture to ``into`` with its placeholders replaced, as the tool originally wrote it."""
    values = index_values()
    target = into / fixture.project / fixture.tool
    shutil.copytree(fixture.directory, target)
    for path in target.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            replaced = text
            for key, value in values.items():
                replaced = replaced.replace(key, value)
            if replaced != text:
                path.write_text(replaced, encoding="utf-8")
    expected = json.loads((target / "expected.json").read_text())
    return RealFixture(fixture.project, fixture.tool, target, expected)


@pytest.fixture
def here() -> Target:
    return Target(
        name="this interpreter",
        environment=dict(default_environment()),
        tags=tuple(sys_tags()),
    )


def target_for(python_full_version: str, base: Target) -> Target:
    """The running target with another Python version in its markers (tags unchanged)."""
    major_minor = ".".join(python_full_version.split(".")[:2])
    env = dict(base.environment)
    env.update(python_version=major_minor, python_full_version=python_full_version,
               implementation_version=python_full_version)
    return Target(name=f"python {python_full_version}", environment=env, tags=base.tags)


@pytest.fixture
def write(tmp_path: Path) -> Iterator[Any]:
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    yield _write
