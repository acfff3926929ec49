"""Reading manifests (pyproject.toml, Poetry, requirements.in, Pipfile) into requirement sets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lading.manifest import ManifestError, find_manifest, read_manifest


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def texts(requirements: object) -> list[str]:
    return [str(r) for r in requirements]  # type: ignore[attr-defined]


def test_pyproject_reads_dependencies_extras_and_groups_with_includes(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "Demo_App"
        requires-python = ">=3.10"
        dependencies = ["flask>=3", "gunicorn; sys_platform != 'win32'"]
        [project.optional-dependencies]
        Fast = ["orjson>=3"]
        [dependency-groups]
        test = ["pytest>=8", {include-group = "lint"}]
        lint = ["ruff"]
        [tool.lading]
        targets = ["cp311-manylinux_x86_64", "specs/mac.json"]
        """)
    manifest = read_manifest(path)
    assert manifest.kind == "pyproject"
    assert manifest.name == "demo-app"
    assert str(manifest.requires_python) == ">=3.10"
    assert texts(manifest.main) == ["flask>=3", 'gunicorn; sys_platform != "win32"']
    assert texts(manifest.extras["fast"]) == ["orjson>=3"]
    assert texts(manifest.groups["test"]) == ["pytest>=8", "ruff"]
    assert texts(manifest.groups["lint"]) == ["ruff"]
    assert manifest.targets == ("cp311-manylinux_x86_64", "specs/mac.json")


def test_include_group_cycle_names_the_chain(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "x"
        [dependency-groups]
        a = [{include-group = "b"}]
        b = [{include-group = "a"}]
        """)
    with pytest.raises(ManifestError, match="include cycle: a -> b -> a") as caught:
        read_manifest(path)
    assert caught.value.field == "dependency-groups.b[0]"


def test_invalid_requirement_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "x"
        dependencies = ["ok", "bad >= >= 1"]
        """)
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert caught.value.field == "project.dependencies[1]"
    assert caught.value.file == str(path)


def test_poetry_constraints_become_pep440_with_markers_groups_and_extras(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [tool.poetry]
        name = "svc"
        [tool.poetry.dependencies]
        python = "^3.10"
        requests = "^2.31"
        attrs = "~23.1"
        uvloop = {version = ">=0.19", markers = "sys_platform != 'win32'"}
        orjson = {version = "*", optional = true}
        rich = {version = "^13", python = ">=3.11"}
        [tool.poetry.extras]
        speed = ["orjson"]
        [tool.poetry.dev-dependencies]
        black = "24.1.0"
        [tool.poetry.group.test.dependencies]
        pytest = {version = "^8.0", extras = ["testing"]}
        [[tool.poetry.source]]
        name = "internal"
        url = "https://example.invalid/simple"
        """)
    manifest = read_manifest(path)
    assert manifest.kind == "poetry"
    assert str(manifest.requires_python) == "<4,>=3.10"
    by_name = {r.name: r for r in manifest.main}
    assert str(by_name["requests"].specifier) == "<3,>=2.31"
    assert str(by_name["attrs"].specifier) == "<23.2,>=23.1"
    assert str(by_name["uvloop"].marker) == 'sys_platform != "win32"'
    assert str(by_name["rich"].marker) == 'python_version >= "3.11"'
    assert "orjson" not in by_name
    assert texts(manifest.extras["speed"]) == ["orjson"]
    assert texts(manifest.groups["dev"]) == ["black==24.1.0"]
    assert texts(manifest.groups["test"]) == ["pytest[testing]<9,>=8.0"]
    assert manifest.dev_groups == frozenset({"dev"})
    assert [ix.url for ix in manifest.indexes] == ["https://example.invalid/simple"]


def test_poetry_alternatives_are_refused_with_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [tool.poetry]
        name = "svc"
        [tool.poetry.dependencies]
        numpy = "^1.20 || ^2.0"
        """)
    with pytest.raises(ManifestError, match=r"alternatives \('\|\|'\)") as caught:
        read_manifest(path)
    assert caught.value.field == "tool.poetry.dependencies.numpy"


def test_requirements_in_follows_includes_constraints_and_direct_references(tmp_path: Path) -> None:
    write(tmp_path / "base.in", "click>=8\n")
    write(tmp_path / "pins.txt", "click<9\n")
    path = write(tmp_path / "requirements.in", """\
        # services
        --index-url https://example.invalid/simple
        -r base.in
        -c pins.txt
        flask[async]>=3.0 ; python_version >= "3.9"
        local @ https://example.invalid/files/local-1.0.tar.gz
        """)
    manifest = read_manifest(path)
    assert manifest.kind == "requirements"
    assert texts(manifest.main) == [
        "click>=8",
        'flask[async]>=3.0; python_version >= "3.9"',
        "local @ https://example.invalid/files/local-1.0.tar.gz",
    ]
    assert texts(manifest.constraints) == ["click<9"]
    assert [ix.url for ix in manifest.indexes] == ["https://example.invalid/simple"]


def test_pipfile_categories_marker_keys_and_sources(tmp_path: Path) -> None:
    path = write(tmp_path / "Pipfile", """\
        [[source]]
        name = "pypi"
        url = "https://example.invalid/simple"
        verify_ssl = true

        [packages]
        requests = "*"
        flask = {version = ">=3", extras = ["async"], sys_platform = "!= 'win32'"}
        pywin32 = {version = "*", markers = "os_name == 'nt'"}

        [dev-packages]
        pytest = ">=8"

        [docs]
        sphinx = "*"

        [requires]
        python_version = "3.11"
        """)
    manifest = read_manifest(path)
    assert manifest.kind == "pipfile"
    assert texts(manifest.main) == [
        "requests",
        'flask[async]>=3; sys_platform != "win32"',
        'pywin32; os_name == "nt"',
    ]
    assert texts(manifest.groups["develop"]) == ["pytest>=8"]
    assert texts(manifest.groups["docs"]) == ["sphinx"]
    assert str(manifest.requires_python) == "==3.11.*"
    assert manifest.dev_groups == frozenset({"develop"})
    assert manifest.indexes[0].name == "pypi"


def test_pipfile_bad_entry_names_field(tmp_path: Path) -> None:
    path = write(tmp_path / "Pipfile", "[packages]\nrequests = 3\n")
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert caught.value.field == "packages.requests"


def test_find_manifest_prefers_pipfile_then_requirements_in(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    write(tmp_path / "requirements.in", "flask\n")
    assert find_manifest(tmp_path).name == "requirements.in"
    write(tmp_path / "Pipfile", "[packages]\n")
    assert find_manifest(tmp_path).name == "Pipfile"
    (tmp_path / "Pipfile").unlink()
    (tmp_path / "requirements.in").unlink()
    with pytest.raises(Exception, match="holds no manifest"):
        find_manifest(tmp_path)


def test_group_names_that_cannot_be_written_in_a_marker_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "x"
        [dependency-groups]
        "it's" = ["ruff"]
        """)
    with pytest.raises(ManifestError, match="not a valid group or extra name") as caught:
        read_manifest(path)
    assert caught.value.field == "dependency-groups.it's"
