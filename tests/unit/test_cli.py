"""The command line end to end: ``lading.cli.main.main([...])`` over locks written in the test, with every
index served from 127.0.0.1 (no network), checking exit codes, stdout/stderr and the ``--json`` reports."""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock

import lading
from lading._toml import parse_toml
from lading.cli.main import main
from lading.index import config as config_module
from lading.index.http import HttpClient
from lading.locks import requirements as requirements_reader
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index

# The package re-exports the function ``complete`` under the module's name.
complete_module = importlib.import_module("lading.index.complete")

# --- fixtures and helpers ---------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel(name: str, version: str, tag: str = "py3-none-any", content: bytes | None = None) -> FileSpec:
    filename = f"{name}-{version}-{tag}.whl"
    return FileSpec(filename, f"../../files/{filename}", content or f"wheel {filename}".encode())


def sdist(name: str, version: str) -> FileSpec:
    filename = f"{name}-{version}.tar.gz"
    return FileSpec(filename, f"../../files/{filename}", f"sdist {filename}".encode())


DEMO_WHEEL = wheel("demo", "1.0")
DEMO_SDIST = sdist("demo", "1.0")
# On the index but not in any lock: must never be chosen.
DEMO_UNLOCKED = wheel("demo", "1.0", "cp311-cp311-manylinux_2_17_x86_64", b"not in the lock")
HELPER_WHEEL = wheel("helper", "2.0")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration of the host, no real index, no slow retries."""
    for name in (
        "LADING_INDEX_URL", "LADING_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE", "XDG_CONFIG_HOME", "VIRTUAL_ENV", "NETRC", "http_proxy", "https_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_FILES", ())
    # pip's default index would be the real registry: point it at a port nobody listens on.
    nowhere = f"http://127.0.0.1:{closed_port()}/simple"
    monkeypatch.setattr(config_module, "pip_default_index", lambda: nowhere)
    monkeypatch.setattr(
        complete_module, "HttpClient", functools.partial(HttpClient, retries=1, backoff_factor=0.0, timeout=5.0)
    )


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def index(tmp_path: Path, server: LocalServer) -> str:
    """A simple index with demo (wheel, sdist and a wheel no lock names) and helper; its URL."""
    root = tmp_path / "index"
    write_tree_index(root / "simple", "demo", [DEMO_WHEEL, DEMO_UNLOCKED, DEMO_SDIST])
    write_tree_index(root / "simple", "helper", [HELPER_WHEEL])
    server.serve_tree(root)
    return server.url + "/simple"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def hashed_requirements(directory: Path, extra_lines: str = "") -> Path:
    return write(directory / "requirements.txt", extra_lines + (
        "demo==1.0 \\\n"
        f"    --hash=sha256:{DEMO_WHEEL.sha256} \\\n"
        f"    --hash=sha256:{DEMO_SDIST.sha256}\n"
        f"helper==2.0 ; python_version >= \"3\" --hash=sha256:{HELPER_WHEEL.sha256}\n"
    ))


def pipfile_lock(directory: Path, source_url: str, *, per_package_index: bool = False) -> Path:
    demo: dict[str, Any] = {
        "hashes": [f"sha256:{DEMO_WHEEL.sha256}", f"sha256:{DEMO_SDIST.sha256}"],
        "version": "==1.0",
    }
    if per_package_index:
        demo["index"] = "local"
    data = {
        "_meta": {
            "hash": {"sha256": "0" * 64},
            "pipfile-spec": 6,
            "requires": {},
            "sources": [{"name": "local", "url": source_url, "verify_ssl": False}],
        },
        "default": {"demo": demo},
        "develop": {"helper": {"hashes": [f"sha256:{HELPER_WHEEL.sha256}"], "version": "==2.0"}},
    }
    return write(directory / "Pipfile.lock", json.dumps(data, indent=4))


def by_name(report: Any) -> dict[str, Any]:
    return {p["name"]: p for p in report["packages"]}


# A multi-use pylock.toml: groups, an extra, and platform-specific packages and wheels.
FILES = "https://example.invalid/files"
WHEELS = {
    "base-win": "base-1.0-cp311-cp311-win_amd64.whl",
    "base-any": "base-1.0-py3-none-any.whl",
    "devtool": "devtool-2.0-py3-none-any.whl",
    "sphinx": "sphinx-8.0-py3-none-any.whl",
    "speedup": "speedup-0.3-py3-none-any.whl",
    "pywin": "pywin-306-cp311-cp311-win_amd64.whl",
    "uvloop": "uvloop-0.21-py3-none-any.whl",
}
H = {key: sha256(filename.encode()) for key, filename in WHEELS.items()}


def _package(name: str, version: str, marker: str | None, *wheels: str) -> str:
    lines = ["[[packages]]", f'name = "{name}"', f'version = "{version}"']
    if marker is not None:
        lines.append(f'marker = "{marker}"')
    lines.append("wheels = [")
    for key in wheels:
        filename = WHEELS[key]
        lines.append(f'  {{name = "{filename}", url = "{FILES}/{filename}", hashes = {{sha256 = "{H[key]}"}}}},')
    lines.append("]")
    return "\n".join(lines) + "\n"


PYLOCK = "\n".join([
    'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\nextras = ["fast"]\n'
    'dependency-groups = ["dev", "docs"]\ndefault-groups = []\n',
    _package("base", "1.0", None, "base-win", "base-any"),
    _package("devtool", "2.0", "'dev' in dependency_groups", "devtool"),
    _package("sphinx", "8.0", "'docs' in dependency_groups", "sphinx"),
    _package("speedup", "0.3", "'fast' in extras", "speedup"),
    _package("pywin", "306", "sys_platform == 'win32'", "pywin"),
    _package("uvloop", "0.21", "sys_platform != 'win32'", "uvloop"),
])


@pytest.fixture
def multi_use(tmp_path: Path) -> Path:
    return write(tmp_path / "proj" / "pylock.toml", PYLOCK)


def linux_spec(cli: Any, path: Path) -> Path:
    """The spec of this interpreter, made a Linux x86_64 one so the test does not depend on the host."""
    assert cli("target", "-o", path).code == 0
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["marker_environment"].update(sys_platform="linux", os_name="posix", platform_system="Linux",
                                      platform_machine="x86_64")
    spec["compatible_tags"] = ["cp311-cp311-manylinux_2_17_x86_64", "py3-none-manylinux_2_17_x86_64",
                               "py3-none-any"]
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


# --- show: index look-ups ---------------------------------------------------------------------------


def test_show_requirements_finds_the_hashed_wheel_on_the_index(
    tmp_path: Path, cli: Any, index: str, server: LocalServer
) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    spec = linux_spec(cli, tmp_path / "linux.json")
    table = cli("show", lock, "--index-url", index, "--platform", spec)
    assert table.code == 0, table.err
    assert DEMO_WHEEL.filename in table.out
    assert DEMO_UNLOCKED.filename not in table.out
    assert "index-lookup" not in table.out

    report = cli("show", lock, "--index-url", index, "--platform", spec, "--json").json()
    demo = by_name(report)["demo"]["artifact"]
    assert demo["kind"] == "wheel"
    assert demo["filename"] == DEMO_WHEEL.filename
    assert demo["url"].startswith(server.url + "/")
    assert demo["hashes"] == {"sha256": DEMO_WHEEL.sha256}
    assert by_name(report)["helper"]["artifact"]["filename"] == HELPER_WHEEL.filename
    assert server.hits("/simple/demo/") >= 1


def test_show_pipfile_lock_uses_the_index_its_sources_name(
    tmp_path: Path, cli: Any, index: str, server: LocalServer
) -> None:
    lock = pipfile_lock(tmp_path / "proj", index)
    result = cli("show", lock, "--json")
    assert result.code == 0, result.err
    demo = by_name(result.json())["demo"]
    assert demo["artifact"]["kind"] == "wheel"
    assert demo["artifact"]["filename"] == DEMO_WHEEL.filename
    assert demo["artifact"]["url"].startswith(server.url + "/")
    assert "helper" not in by_name(result.json()), "develop is not selected without --dev"
    assert [s["name"] for s in result.json()["skipped"]] == ["helper"]


def test_show_offline_reports_hashes_and_asks_no_index(
    tmp_path: Path, cli: Any, index: str, server: LocalServer
) -> None:
    lock = pipfile_lock(tmp_path / "proj", index)
    result = cli("show", lock, "--offline", "--json")
    assert result.code == 0, result.err
    artifact = by_name(result.json())["demo"]["artifact"]
    assert artifact["kind"] == "index-lookup"
    assert sorted(artifact["hashes"]) == sorted(
        [f"sha256:{DEMO_WHEEL.sha256}", f"sha256:{DEMO_SDIST.sha256}"]
    )
    assert server.requests == []

    table = cli("show", lock, "--offline")
    assert table.code == 0
    assert "index-lookup" in table.out
    assert "(by hash, 2 known)" in table.out


@pytest.mark.parametrize("fmt", ["requirements", "pipfile"])
def test_show_with_an_unreachable_index_warns_and_shows_hashes(tmp_path: Path, cli: Any, fmt: str) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}/simple"
    if fmt == "requirements":
        lock = hashed_requirements(tmp_path / "proj", f"--index-url {nowhere}\n")
    else:
        lock = pipfile_lock(tmp_path / "proj", nowhere)
    result = cli("show", lock)
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert any("showing hashes only" in line for line in warnings), result.err
    assert "Traceback" not in result.err
    assert "index-lookup" in result.out
    assert "(by hash, 2 known)" in result.out


def test_show_index_url_option_beats_the_lock_source(
    tmp_path: Path, cli: Any, index: str
) -> None:
    lock = pipfile_lock(tmp_path / "proj", f"http://127.0.0.1:{closed_port()}/simple")
    result = cli("show", lock, "--index-url", index, "--json")
    assert result.code == 0, result.err
    assert by_name(result.json())["demo"]["artifact"]["filename"] == DEMO_WHEEL.filename
    assert "warning" not in result.err


def test_show_honours_lading_index_url(
    tmp_path: Path, cli: Any, index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    before = cli("show", lock, "--json")
    assert by_name(before.json())["demo"]["artifact"]["kind"] == "index-lookup"  # default index is down

    monkeypatch.setenv("LADING_INDEX_URL", index)
    after = cli("show", lock, "--json")
    assert after.code == 0, after.err
    assert by_name(after.json())["demo"]["artifact"]["filename"] == DEMO_WHEEL.filename


def _authorized(server: LocalServer) -> bool:
    return any(r.headers.get("authorization", "").startswith("Basic ") for r in server.requests)


@pytest.mark.parametrize("how", ["option", "environment", "pipfile-source", "pipfile-package-index",
                                 "requirements-line"])
def test_credentials_in_index_urls_are_never_printed(
    tmp_path: Path, cli: Any, index: str, server: LocalServer, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    secret_url = index.replace("http://", "http://user:s3cr3t@")
    project = tmp_path / "proj"
    argv: list[str] = []
    if how == "option":
        lock = hashed_requirements(project)
        argv = ["--index-url", secret_url]
    elif how == "environment":
        lock = hashed_requirements(project)
        monkeypatch.setenv("LADING_INDEX_URL", secret_url)
    elif how == "requirements-line":
        lock = hashed_requirements(project, f"--index-url {secret_url}\n")
    else:
        lock = pipfile_lock(project, secret_url, per_package_index=how == "pipfile-package-index")

    for extra in ([], ["--json"], ["--offline"], ["--offline", "--json"]):
        result = cli("show", lock, *argv, *extra)
        assert result.code == 0, result.err
        assert "s3cr3t" not in result.out + result.err, (extra, result.out, result.err)
        if "--json" in extra and "--offline" not in extra:
            assert by_name(result.json())["demo"]["artifact"]["filename"] == DEMO_WHEEL.filename
    assert _authorized(server), "the credentials are used, only not shown"


def test_credentials_of_an_unreachable_index_are_not_in_the_warning(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    result = cli("show", lock, "--index-url", f"http://user:s3cr3t@127.0.0.1:{closed_port()}/simple")
    assert result.code == 0
    assert "showing hashes only" in result.err
    assert "s3cr3t" not in result.out + result.err


def test_show_warns_about_a_missing_index_only_when_it_needs_one(
    tmp_path: Path, cli: Any, multi_use: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "pip_default_index", lambda: None)
    complete_lock = cli("show", multi_use)
    assert complete_lock.code == 0, complete_lock.err
    assert complete_lock.err == ""

    hash_only = cli("show", hashed_requirements(tmp_path / "reqs"))
    assert hash_only.code == 0, hash_only.err
    assert "warning: no package index configured" in hash_only.err
    assert "index-lookup" in hash_only.out
    assert cli("show", tmp_path / "reqs", "--offline").err == ""


# --- show --json schema -----------------------------------------------------------------------------


def test_show_json_schema(tmp_path: Path, cli: Any, multi_use: Path) -> None:
    result = cli("show", multi_use, "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert list(report) == ["version", "lock", "target", "groups", "extras", "packages", "skipped",
                            "findings"]
    assert report["version"] == 1
    assert report["lock"]["format"] == "pylock"
    assert report["packages"] and report["skipped"]
    for package in report["packages"]:
        assert set(package) == {"name", "version", "artifact", "source"}
        assert isinstance(package["artifact"]["kind"], str)
        assert isinstance(package["source"]["kind"], str)
    for skipped in report["skipped"]:
        assert set(skipped) == {"name", "version", "reason", "detail"}
        assert skipped["reason"] in ("marker", "group", "no-compatible-artifact")


# --- selection flags on a multi-use pylock.toml -----------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), {"base", "uvloop"}),
        (("--dev",), {"base", "uvloop", "devtool"}),
        (("--group", "docs"), {"base", "uvloop", "sphinx"}),
        (("--group", "docs", "--group", "dev"), {"base", "uvloop", "sphinx", "devtool"}),
        (("--extra", "fast"), {"base", "uvloop", "speedup"}),
        (("--all-extras",), {"base", "uvloop", "speedup"}),
        (("--all-groups",), {"base", "uvloop", "devtool", "sphinx"}),
    ],
)
def test_selection_flags_choose_groups_and_extras(
    tmp_path: Path, cli: Any, multi_use: Path, flags: tuple[str, ...], expected: set[str]
) -> None:
    spec = linux_spec(cli, tmp_path / "linux.json")
    result = cli("show", multi_use, "--platform", spec, "--json", *flags)
    assert result.code == 0, result.err
    report = result.json()
    assert set(by_name(report)) == expected
    reasons = {s["name"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"base", "devtool", "sphinx", "speedup", "pywin", "uvloop"} - expected
    assert reasons["pywin"] == "marker"
    assert all(reason == "group" for name, reason in reasons.items() if name != "pywin")


@pytest.mark.parametrize(("flag", "name", "known"), [("--group", "nope", "dev, docs"),
                                                     ("--extra", "nope", "fast")])
def test_unknown_group_or_extra_is_a_usage_error(
    cli: Any, multi_use: Path, flag: str, name: str, known: str
) -> None:
    result = cli("show", multi_use, flag, name)
    assert result.code == 2
    assert repr(name) in result.err
    assert known in result.err
    assert result.out == ""


# --- targets ----------------------------------------------------------------------------------------


def test_target_spec_of_this_interpreter_selects_like_plain_show(
    tmp_path: Path, cli: Any, multi_use: Path
) -> None:
    spec = tmp_path / "spec.json"
    written = cli("target", "-o", spec)
    assert written.code == 0, written.err
    assert spec.is_file()
    plain = cli("show", multi_use, "--json", "--all-groups").json()
    via_spec = cli("show", multi_use, "--json", "--all-groups", "--platform", spec).json()
    assert via_spec["packages"] == plain["packages"]
    assert via_spec["skipped"] == plain["skipped"]


def test_windows_spec_selects_windows_packages_and_wheels(tmp_path: Path, cli: Any, multi_use: Path) -> None:
    spec = tmp_path / "win.json"
    assert cli("target", "-o", spec).code == 0
    data = json.loads(spec.read_text(encoding="utf-8"))
    data["name"] = "windows box"
    data["marker_environment"].update(sys_platform="win32", os_name="nt", platform_system="Windows",
                                      platform_machine="AMD64")
    data["compatible_tags"] = ["cp311-cp311-win_amd64", "py3-none-win_amd64", "py3-none-any"]
    spec.write_text(json.dumps(data), encoding="utf-8")

    result = cli("show", multi_use, "--platform", spec, "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["target"]["name"] == "windows box"
    packages = by_name(report)
    assert set(packages) == {"base", "pywin"}
    assert packages["base"]["artifact"]["filename"] == "base-1.0-cp311-cp311-win_amd64.whl"
    assert packages["pywin"]["artifact"]["filename"] == "pywin-306-cp311-cp311-win_amd64.whl"
    assert {s["name"]: s["reason"] for s in report["skipped"]}["uvloop"] == "marker"

    linux = cli("show", multi_use, "--platform", linux_spec(cli, tmp_path / "linux.json"), "--json").json()
    assert by_name(linux)["base"]["artifact"]["filename"] == "base-1.0-py3-none-any.whl"


def test_python_and_platform_together_is_a_usage_error(tmp_path: Path, cli: Any, multi_use: Path) -> None:
    spec = linux_spec(cli, tmp_path / "linux.json")
    result = cli("show", multi_use, "--python", sys.executable, "--platform", spec)
    assert result.code == 2
    assert "--python" in result.err and "--platform" in result.err
    assert result.out == ""


# --- export -----------------------------------------------------------------------------------------


def test_export_pylock_of_a_hash_only_requirements_file_looks_files_up(
    tmp_path: Path, cli: Any, index: str, server: LocalServer
) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    out = tmp_path / "out" / "pylock.toml"
    result = cli("export", lock, "--to", "pylock", "--index-url", index, "-o", out)
    assert result.code == 0, result.err
    pylock = Pylock.from_dict(parse_toml(out.read_text(encoding="utf-8"), out))
    packages = {str(p.name): p for p in pylock.packages}
    assert set(packages) == {"demo", "helper"}
    demo = packages["demo"]
    assert str(demo.version) == "1.0"
    assert [(w.filename, w.url, dict(w.hashes)) for w in demo.wheels or ()] == [
        (DEMO_WHEEL.filename, f"{server.url}/files/{DEMO_WHEEL.filename}", {"sha256": DEMO_WHEEL.sha256})
    ]
    assert demo.sdist is not None
    assert (demo.sdist.url, dict(demo.sdist.hashes)) == (
        f"{server.url}/files/{DEMO_SDIST.filename}", {"sha256": DEMO_SDIST.sha256}
    )
    helper = packages["helper"]
    assert [dict(w.hashes) for w in helper.wheels or ()] == [{"sha256": HELPER_WHEEL.sha256}]
    assert str(helper.marker) == 'python_version >= "3"'
    assert sorted(p.name for p in out.parent.iterdir()) == ["pylock.toml"], "no temporary file left"


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    lock = requirements_reader.read(path)
    return {
        p.name: (str(p.version), frozenset(lock.pending[i].hashes) if i in lock.pending else frozenset())
        for i, p in enumerate(lock.packages)
    }


def test_export_requirements_round_trips_a_requirements_file(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    out = tmp_path / "out" / "requirements.txt"
    result = cli("export", lock, "--to", "requirements", "-o", out)
    assert result.code == 0, result.err
    assert _pins(out) == _pins(lock)
    assert _pins(out)["demo"] == ("1.0", frozenset({f"sha256:{DEMO_WHEEL.sha256}",
                                                    f"sha256:{DEMO_SDIST.sha256}"}))
    assert sorted(p.name for p in out.parent.iterdir()) == ["requirements.txt"]


def test_export_requirements_of_a_pylock_keeps_versions_hashes_and_markers(
    tmp_path: Path, cli: Any, multi_use: Path
) -> None:
    out = tmp_path / "out" / "requirements.txt"
    result = cli("export", multi_use, "--to", "requirements", "-o", out)
    assert result.code == 0, result.err
    back = requirements_reader.read(out)
    pins = _pins(out)
    assert pins == {
        "base": ("1.0", frozenset({f"sha256:{H['base-win']}", f"sha256:{H['base-any']}"})),
        "pywin": ("306", frozenset({f"sha256:{H['pywin']}"})),
        "uvloop": ("0.21", frozenset({f"sha256:{H['uvloop']}"})),
    }
    markers = {p.name: str(p.marker) if p.marker else None for p in back.packages}
    assert markers == {"base": None, "pywin": 'sys_platform == "win32"', "uvloop": 'sys_platform != "win32"'}


def test_export_pipfile_lock_shape(tmp_path: Path, cli: Any, index: str) -> None:
    lock = hashed_requirements(tmp_path / "proj", f"--index-url {index}\n")
    result = cli("export", lock, "--to", "pipfile-lock")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) >= {"_meta", "default", "develop"}
    assert data["_meta"]["pipfile-spec"] == 6
    assert [s["url"] for s in data["_meta"]["sources"]] == [index]
    assert set(data["default"]) == {"demo", "helper"}
    demo = data["default"]["demo"]
    assert demo["version"] == "==1.0"
    assert sorted(demo["hashes"]) == sorted([f"sha256:{DEMO_WHEEL.sha256}", f"sha256:{DEMO_SDIST.sha256}"])
    assert Marker(data["default"]["helper"]["markers"]) == Marker('python_version >= "3"')


def test_export_that_fails_creates_no_output_file(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "pylock.toml"
    nowhere = f"http://127.0.0.1:{closed_port()}/simple"
    result = cli("export", lock, "--to", "pylock", "--index-url", nowhere, "-o", out)
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert list(out_dir.iterdir()) == []

    usage = cli("export", lock, "--to", "requirements", "--group", "nope", "-o", out)
    assert usage.code == 2
    assert list(out_dir.iterdir()) == []


def test_export_output_replaces_an_existing_file(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    out = tmp_path / "out" / "requirements.txt"
    write(out, "old content\n")
    assert cli("export", lock, "--to", "requirements", "-o", out).code == 0
    assert "old content" not in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["requirements.txt"]


# --- verify -----------------------------------------------------------------------------------------


def test_verify_sound_lock_exits_0(cli: Any, multi_use: Path) -> None:
    result = cli("verify", multi_use)
    assert result.code == 0, result.out + result.err
    assert "sound" in result.out


def test_verify_hashed_requirements_exits_0(tmp_path: Path, cli: Any) -> None:
    result = cli("verify", hashed_requirements(tmp_path / "proj"))
    assert result.code == 0, result.out + result.err


def test_verify_refuses_md5_in_a_pylock(tmp_path: Path, cli: Any) -> None:
    text = PYLOCK.replace(f'sha256 = "{H["uvloop"]}"', 'md5 = "0123456789abcdef0123456789abcdef"')
    lock = write(tmp_path / "proj" / "pylock.toml", text)
    result = cli("verify", lock)
    assert result.code == 1
    assert "not a supported hash" in result.out
    assert "uvloop" in result.out


@pytest.mark.parametrize("fmt", ["requirements", "pipfile"])
def test_verify_refuses_md5_in_a_hash_only_lock(tmp_path: Path, cli: Any, fmt: str) -> None:
    md5 = "md5:0123456789abcdef0123456789abcdef"
    if fmt == "requirements":
        lock = write(tmp_path / "proj" / "requirements.txt", f"demo==1.0 --hash={md5}\n")
    else:
        lock = pipfile_lock(tmp_path / "proj", "https://example.invalid/simple")
        data = json.loads(lock.read_text(encoding="utf-8"))
        data["default"]["demo"]["hashes"] = [md5]
        lock.write_text(json.dumps(data), encoding="utf-8")
    result = cli("verify", lock)
    assert result.code == 1
    assert "not a supported hash" in result.out + result.err


def test_verify_refuses_an_unhashed_requirement(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj", "plain==3.0\n")
    result = cli("verify", lock)
    assert result.code == 1
    assert "not hashed" in result.out or "no hash" in result.out
    assert "plain" in result.out


def test_verify_deploy_reports_a_requirement_the_lock_does_not_pin(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    write(lock.parent / "requirements.in", "demo\nhelper\nmissingpkg>=1\n")
    assert cli("verify", lock).code == 0, "sound, and freshness is only checked with --deploy"
    result = cli("verify", "--deploy", lock)
    assert result.code == 1
    assert "out of date" in result.out
    assert "missingpkg" in result.out

    write(lock.parent / "requirements.in", "demo\nhelper\n")
    fresh = cli("verify", "--deploy", lock)
    assert fresh.code == 0, fresh.out + fresh.err
    assert "up to date" in fresh.out


def test_verify_json_report(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj", "plain==3.0\n")
    write(lock.parent / "requirements.in", "demo\nhelper\nplain\nmissingpkg\n")
    result = cli("verify", "--deploy", "--json", lock)
    assert result.code == 1
    report = result.json()
    assert {"ok", "sound", "problems", "freshness"} <= set(report)
    assert report["ok"] is False and report["sound"] is False
    assert [p["package"] for p in report["problems"]] == ["plain 3.0"]
    assert report["freshness"]["checked"] is True and report["freshness"]["fresh"] is False
    assert any("missingpkg" in d for d in report["freshness"]["differences"])

    good = cli("verify", "--json", hashed_requirements(tmp_path / "good"))
    assert good.code == 0
    assert good.json()["ok"] is True and good.json()["problems"] == [] and good.json()["freshness"] is None


# --- finding the lock -------------------------------------------------------------------------------


def test_directory_with_several_locks_says_which_it_took(tmp_path: Path, cli: Any) -> None:
    project = tmp_path / "proj"
    write(project / "pylock.toml", PYLOCK)
    hashed_requirements(project)
    result = cli("show", project, "--offline")
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if line.startswith("lading: ")]
    assert len(notes) == 1
    assert "using pylock.toml" in notes[0] and "requirements.txt" in notes[0] and "prefers" in notes[0]
    assert "(pylock)" in result.out.splitlines()[0]

    other = cli("show", project, "--lock", project / "requirements.txt", "--offline")
    assert other.code == 0, other.err
    assert "(requirements)" in other.out.splitlines()[0]
    assert "using" not in other.err

    report = cli("show", project, "--offline", "--json")
    assert "using pylock.toml" in report.json()["lock"]["note"]


def test_directory_without_a_lock_is_a_usage_error(tmp_path: Path, cli: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("show", empty)
    assert result.code == 2
    for name in ("pylock.toml", "uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.txt"):
        assert name in result.err
    assert "--lock" in result.err


# --- process-level behaviour ------------------------------------------------------------------------


def test_python_m_lading_version() -> None:
    done = subprocess.run([sys.executable, "-m", "lading", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lading {lading.__version__}"


def _program(code: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``code`` (which ends in calling the program's entry) in a new interpreter, stdout to a pipe."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False, cwd=tmp_path)


def test_the_program_exits_with_mains_code_and_its_whole_output(tmp_path: Path, cli: Any) -> None:
    lock = hashed_requirements(tmp_path / "proj")
    expected = cli("export", lock, "--to", "requirements")
    assert expected.code == 0 and "--hash=sha256:" in expected.out
    done = subprocess.run([sys.executable, "-m", "lading", "export", str(lock), "--to", "requirements"],
                          capture_output=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == expected.out
    missing = subprocess.run([sys.executable, "-m", "lading", "show", str(tmp_path / "nowhere")],
                             capture_output=True, timeout=60, check=False)
    assert missing.returncode == cli("show", tmp_path / "nowhere").code == 2
    assert b"no such file" in missing.stderr


def test_the_program_runs_exit_handlers_and_flushes_buffered_output(tmp_path: Path) -> None:
    done = _program(
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n"
        "sys.stdout.write('x' * 200000)  # more than a pipe holds, still in the buffer when main returns\n"
        "sys.argv = ['lading', 'show', 'nowhere']\n"
        "from lading.cli.main import entry\n"
        "entry()\n",
        tmp_path,
    )
    assert done.returncode == 2  # a usage error, as main() says
    assert done.stdout == b"x" * 200000
    assert done.stderr.endswith(b"handler ran\n")


def test_the_program_waits_for_a_thread_still_running(tmp_path: Path) -> None:
    done = _program(
        "import sys, threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread finished', flush=True))).start()\n"
        "sys.argv = ['lading', 'show', 'nowhere']\n"
        "from lading.cli.main import entry\n"
        "entry()\n",
        tmp_path,
    )
    assert done.returncode == 2  # a usage error, as main() says
    assert done.stdout == b"thread finished\n"


def test_unexpected_exception_is_one_line_bug_report(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> Any:
        raise RuntimeError("reader exploded")

    monkeypatch.setattr(requirements_reader, "read", broken)
    result = cli("show", hashed_requirements(tmp_path / "proj"))
    assert result.code == 70
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("lading bug: RuntimeError: reader exploded")
    assert "Traceback" not in result.err
    assert result.out == ""


@pytest.mark.parametrize("argv", [(), ("show", "--no-such-option"), ("nosuchcommand",)])
def test_usage_errors_exit_2(cli: Any, argv: Sequence[str]) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert "Traceback" not in result.err
