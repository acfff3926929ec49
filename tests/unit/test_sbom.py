"""CycloneDX SBOMs: of a lock (``lading sbom``) and of an installed environment (what artifacts carry).

Documents are checked with the CycloneDX project's own schema validator (cyclonedx-python-lib)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lading.artifacts.sbom import dumps, environment_sbom
from lading.cli.main import main
from lading.install.paths import InstallPaths
from tests.unit.test_install_cli import Index, pkg, site_packages, write_lock

pytestmark = pytest.mark.usefixtures("isolated_config")


def valid_cyclonedx(doc: str) -> None:
    validation = pytest.importorskip("cyclonedx.validation.json", reason="cyclonedx-python-lib[json-validation]")
    schema = pytest.importorskip("cyclonedx.schema")
    error = validation.JsonStrictValidator(schema.SchemaVersion.V1_6).validate_str(doc)
    assert error is None, str(error)


def sbom(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["sbom", *args]) == 0
    out: str = capsys.readouterr().out
    return out


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def test_lock_sbom_lists_each_selected_package_with_its_artifact_hash_and_url(
    local_index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = local_index.wheel("alpha", "1.0")
    b = local_index.wheel("beta", "2.5")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "3.1"\n', encoding="utf-8")
    write_lock(project, [pkg(a), pkg(b)])
    text = sbom(capsys, str(project))
    valid_cyclonedx(text)
    doc = json.loads(text)
    assert doc["metadata"]["component"] == {"type": "application", "name": "shop", "version": "3.1"}
    components = by_name(doc)
    assert set(components) == {"alpha", "beta"}
    assert components["alpha"]["purl"] == "pkg:pypi/alpha@1.0"
    assert components["alpha"]["hashes"] == [{"alg": "SHA-256", "content": a.sha256}]
    assert components["beta"]["externalReferences"][0]["url"] == b.url


def test_lock_sbom_is_byte_identical_across_runs_and_dated_only_by_source_date_epoch(
    local_index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    write_lock(project, [pkg(local_index.wheel("alpha", "1.0"))])
    first, second = sbom(capsys, str(project)), sbom(capsys, str(project))
    assert first == second
    assert "timestamp" not in json.loads(first)["metadata"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = json.loads(sbom(capsys, str(project)))
    assert dated["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
    assert dated["serialNumber"] != json.loads(first)["serialNumber"]


def test_hash_only_lock_records_every_hash_it_accepts(
    local_index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(
        "alpha==1.0 --hash=sha256:" + "a" * 64 + " --hash=sha256:" + "b" * 64 + "\n", encoding="utf-8")
    text = sbom(capsys, str(project))
    valid_cyclonedx(text)
    properties = by_name(json.loads(text))["alpha"]["properties"]
    assert [p["value"] for p in properties] == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]


def dist_info(site: Path, name: str, version: str, *headers: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *headers]
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (info / "RECORD").write_text(f"{name}-{version}.dist-info/METADATA,,\n", encoding="utf-8")


def test_environment_sbom_reads_licences_and_links_only_installed_requirements(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    dist_info(site, "web", "1.0", "Summary: the app", "License-Expression: MIT OR Apache-2.0",
              "Requires-Dist: db>=2", "Requires-Dist: extra-only; extra == 'x'")
    dist_info(site, "db", "2.1", "Classifier: License :: OSI Approved :: BSD License")
    paths = InstallPaths(site, site, tmp_path / "bin", tmp_path, tmp_path / "include")
    doc = environment_sbom(paths, "web", "1.0", {"db": {"sha256": "c" * 64}})
    text = dumps(doc).decode()
    valid_cyclonedx(text)
    components = by_name(doc)
    assert components["web"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert components["db"]["licenses"] == [{"license": {"name": "BSD License"}}]
    assert components["db"]["hashes"] == [{"alg": "SHA-256", "content": "c" * 64}]
    edges = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    assert edges == {"pkg:pypi/web@1.0": ["pkg:pypi/db@2.1"], "pkg:pypi/db@2.1": []}


def test_environment_sbom_of_a_real_install_names_every_installed_distribution(
    local_index: Index, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    alpha = local_index.wheel("alpha", "1.0", requires=["beta"])
    write_lock(project, [pkg(alpha), pkg(local_index.wheel("beta", "2.5"))])
    venv = tmp_path / "venv"
    assert main(["install", str(project), "--venv", str(venv), "--no-compile",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    site = site_packages(venv)
    doc = environment_sbom(InstallPaths(site, site, venv / "bin", venv, venv / "include"), "proj", "0")
    assert {(c["name"], c["version"]) for c in doc["components"]} == {("alpha", "1.0"), ("beta", "2.5")}
    edges = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    assert edges["pkg:pypi/alpha@1.0"] == ["pkg:pypi/beta@2.5"]
