"""``lading export --to nix``: the generated files are read by the real Nix evaluator (Debian's nix-bin).

No nixpkgs is available here, so the expression is evaluated with small stand-ins written in Nix for the
arguments ``default.nix`` takes (``pkgs.fetchurl`` and ``python.pkgs.buildPythonPackage`` returning their
arguments, ``python.withPackages`` returning the list). That checks the expression's structure with the
real evaluator: every attribute, every URL and hash as Nix reads them, the dependency references, the
override fixed point.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

import pytest
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

from lading import locks
from lading.cli.main import main
from lading.export import nix
from lading.select import select
from lading.target import resolve_target
from tests.conftest import materialize, real_fixtures
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index

NIX = shutil.which("nix-instantiate")
pytestmark = pytest.mark.skipif(NIX is None, reason="nix-instantiate is not installed (Debian: nix-bin)")

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


# --- running Nix ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nix_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Nix without a daemon and without touching /nix: store, state, logs and config in a temp dir."""
    root = tmp_path_factory.mktemp("nix")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root / "home"),
        "NIX_STORE_DIR": str(root / "store"),
        "NIX_STATE_DIR": str(root / "state"),
        "NIX_LOG_DIR": str(root / "log"),
        "NIX_CONF_DIR": str(root / "conf"),
        "NIX_PATH": "",
    }


def run_nix(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*args], env=dict(env), capture_output=True, text=True, timeout=120, check=False)


def parse_all(env: Mapping[str, str], directory: Path) -> None:
    for name in nix.FILES:
        result = run_nix(env, "nix-instantiate", "--parse", str(directory / name))
        assert result.returncode == 0, f"{name}: {result.stderr}"


STUB = """
let
  python = rec {
    pythonVersion = PYVERSION;
    pkgs = {
      buildPythonPackage = a: a // { type = "stub-package"; };
      setuptools = { pname = "setuptools"; };
      wheel = { pname = "wheel"; };
    };
    withPackages = f: { type = "stub-env"; paths = f pkgs; };
  };
  pkgs = {
    fetchurl = a: a // { fetched = true; };
    stdenv = { isLinux = true; cc.cc.lib = { pname = "libstdc++"; }; };
    autoPatchelfHook = { pname = "autoPatchelfHook"; };
  };
  result = import DEFAULT { inherit pkgs python; };
  show = p: {
    inherit (p) pname version format doCheck;
    src = if builtins.isAttrs p.src then { inherit (p.src) url hash; name = p.src.name or null; }
          else { path = toString p.src; };
    deps = map (d: d.pname) p.propagatedBuildInputs;
    nativeBuildInputs = map (d: d.pname) (p.nativeBuildInputs or [ ]);
    buildInputs = map (d: d.pname) (p.buildInputs or [ ]);
    checkRuntimeDeps = !(p.dontCheckRuntimeDeps or false);
  };
in {
  packages = builtins.mapAttrs (n: show) result.packages;
  names = builtins.attrNames result.packages;
  env = map (p: p.pname) result.paths;
  envType = result.type;
}
"""


def evaluate(env: Mapping[str, str], directory: Path, python_version: str = HERE) -> dict[str, Any]:
    """``default.nix`` evaluated strictly to JSON with the stand-in pkgs/python."""
    stub = directory.parent / f"{directory.name}-stub.nix"
    stub.write_text(
        STUB.replace("PYVERSION", json.dumps(python_version))
        .replace("DEFAULT", f"(/. + {nix.string(str(directory / 'default.nix'))})"),
        encoding="utf-8",
    )
    result = run_nix(env, "nix-instantiate", "--eval", "--strict", "--json", str(stub))
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    data["stderr"] = result.stderr
    return data


def build_sources(env: Mapping[str, str], directory: Path) -> dict[str, Path]:
    """``nix-build`` every package's ``src`` with Nix's built-in fetchurl; the store path of each."""
    expression = directory.parent / f"{directory.name}-fetch.nix"
    expression.write_text(
        "let\n"
        f"  generated = import (/. + {nix.string(str(directory / 'packages.nix'))}) {{\n"
        "    fetchurl = import <nix/fetchurl.nix>; buildPythonPackage = a: a; };\n"
        "  packages = let self = generated self; in self;\n"
        "in builtins.mapAttrs (name: p: p.src) packages\n",
        encoding="utf-8",
    )
    names = json.loads(run_nix(env, "nix-instantiate", "--eval", "--json", "-E",
                               f"builtins.attrNames (import {expression})").stdout)
    result = run_nix({**env, "NIX_CONFIG": "substituters =\nsandbox = false\nbuild-users-group ="},
                     "nix-build", "--no-out-link", str(expression))
    assert result.returncode == 0, result.stderr
    paths = result.stdout.split()
    assert len(paths) == len(names), result.stdout
    return dict(zip(names, map(Path, paths)))


def cli(*argv: object) -> int:
    return main([str(a) for a in argv])


def sri(hex_digest: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(hex_digest)).decode()


# --- Nix syntax ------------------------------------------------------------------------------------


def test_strings_read_back_by_nix_exactly(tmp_path: Path, nix_env: dict[str, str]) -> None:
    texts = ["plain", "${HOME}", "$${x}", "$", "a\\b\\", 'say "hi"', "''${x}''", "line\nbreak\ttab\r",
             "ünïcode ✓", "https://127.0.0.1/f/${a}/x'y\"z\\w.whl?q=${b}#frag"]
    source = tmp_path / "strings.nix"
    source.write_text("[ " + " ".join(nix.string(t) for t in texts) + " ]", encoding="utf-8")
    result = run_nix(nix_env, "nix-instantiate", "--eval", "--strict", "--json", str(source))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == texts


def test_any_pep503_name_is_a_valid_attribute(tmp_path: Path, nix_env: dict[str, str]) -> None:
    names = ["requests", "1password", "0x", "or", "if", "in", "inherit", "rec", "let", "zope-interface",
             "a-b-c", "_private", "x9", "ruamel-yaml-clib"]
    source = tmp_path / "names.nix"
    body = " ".join(f"{nix.attribute(n)} = {nix.string(n)};" for n in names)
    refs = " ".join(f"s.{nix.attribute(n)}" for n in names)
    source.write_text(f"let s = {{ {body} }}; in [ {refs} ]", encoding="utf-8")
    result = run_nix(nix_env, "nix-instantiate", "--eval", "--strict", "--json", str(source))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == names
    assert nix.attribute("requests") == "requests"
    assert nix.attribute("1password") == '"1password"'
    assert nix.attribute("or") == '"or"'


def test_sri_hash_agrees_with_nix(nix_env: dict[str, str]) -> None:
    digest = hashlib.sha256(b"lading").hexdigest()
    result = run_nix(nix_env, "nix", "--extra-experimental-features", "nix-command", "hash", "to-sri",
                     f"sha256:{digest}")
    assert result.returncode == 0, result.stderr
    assert nix.sri({"sha256": digest}) == result.stdout.strip()
    sha512 = hashlib.sha512(b"lading").hexdigest()
    result = run_nix(nix_env, "nix", "--extra-experimental-features", "nix-command", "hash", "to-sri",
                     f"sha512:{sha512}")
    assert nix.sri({"sha512": sha512, "md5": "0" * 32}) == result.stdout.strip()
    assert nix.sri({"sha256": digest, "sha512": sha512}) == sri(digest)  # sha256 preferred
    assert nix.sri({"md5": "0" * 32}) is None


# --- a pylock.toml written here ----------------------------------------------------------------------

NATIVE_TAG = str(next(iter(sys_tags())))


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def write_pylock(directory: Path, base_url: str = "http://127.0.0.1:9/files") -> Path:
    """app -> lib-b (native wheel) -> app (a cycle); app -> 1two (sdist only, odd URL); or (a keyword)."""
    odd_url = f'{base_url}/${{HOME}}/it\'s/"q"\\/1two-0.1.tar.gz'  # $, quotes and a backslash
    text = f"""\
lock-version = "1.0"
created-by = "tests"
requires-python = ">=3.9"

[[packages]]
name = "app"
version = "1.0"
dependencies = [{{name = "lib-b"}}, {{name = "1two"}}]
[[packages.wheels]]
name = "app-1.0-py3-none-any.whl"
url = "{base_url}/app-1.0-py3-none-any.whl"
hashes = {{sha256 = "{digest('app')}"}}

[[packages]]
name = "lib-b"
version = "2.0"
dependencies = [{{name = "app"}}]
[[packages.wheels]]
name = "lib_b-2.0-py3-none-any.whl"
url = "{base_url}/lib_b-2.0-py3-none-any.whl"
hashes = {{sha256 = "{digest('lib-b-any')}"}}
[[packages.wheels]]
name = "lib_b-2.0-{NATIVE_TAG}.whl"
url = "{base_url}/lib_b-2.0-{NATIVE_TAG}.whl"
hashes = {{sha256 = "{digest('lib-b-native')}", sha512 = "{hashlib.sha512(b'x').hexdigest()}"}}

[[packages]]
name = "1two"
version = "0.1"
sdist = {{name = "1two-0.1.tar.gz", url = {json.dumps(odd_url)}, hashes = {{sha256 = "{digest('1two')}"}}}}

[[packages]]
name = "or"
version = "3"
marker = "python_version >= '3'"
[[packages.wheels]]
name = "or-3-py3-none-any.whl"
url = "{base_url}/or-3-py3-none-any.whl"
hashes = {{sha256 = "{digest('or')}"}}

[[packages]]
name = "winonly"
version = "1"
marker = "sys_platform == 'win32'"
[[packages.wheels]]
name = "winonly-1-py3-none-any.whl"
url = "{base_url}/winonly-1-py3-none-any.whl"
hashes = {{sha256 = "{digest('winonly')}"}}
"""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pylock_export(tmp_path_factory: pytest.TempPathFactory, nix_env: dict[str, str]) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("pylock")
    lock = write_pylock(root / "proj")
    out = root / "proj" / "nix"
    assert cli("export", lock, "--to", "nix", "-o", out) == 0
    parse_all(nix_env, out)
    return out, evaluate(nix_env, out)


def test_pylock_exports_every_selected_file_with_its_url_and_hash(
    pylock_export: tuple[Path, dict[str, Any]]
) -> None:
    _, data = pylock_export
    packages = data["packages"]
    assert data["names"] == ["1two", "app", "lib-b", "or"]  # winonly: its marker is false here
    assert sorted(data["env"]) == ["1two", "app", "lib-b", "or"]
    assert data["envType"] == "stub-env"
    base = "http://127.0.0.1:9/files"
    assert packages["app"]["src"] == {"url": f"{base}/app-1.0-py3-none-any.whl", "hash": sri(digest("app")),
                                      "name": "app-1.0-py3-none-any.whl"}
    # the wheel for this interpreter's best tag, not the pure one
    assert packages["lib-b"]["src"]["url"] == f"{base}/lib_b-2.0-{NATIVE_TAG}.whl"
    assert packages["lib-b"]["src"]["hash"] == sri(digest("lib-b-native"))
    assert packages["1two"]["src"]["url"] == f'{base}/${{HOME}}/it\'s/"q"\\/1two-0.1.tar.gz'
    assert packages["1two"]["src"]["hash"] == sri(digest("1two"))
    assert packages["or"]["version"] == "3"


def test_wheels_install_as_wheels_and_sdists_build_with_a_build_system(
    pylock_export: tuple[Path, dict[str, Any]]
) -> None:
    _, data = pylock_export
    packages = data["packages"]
    assert packages["app"]["format"] == "wheel"
    assert packages["app"]["nativeBuildInputs"] == []
    assert packages["1two"]["format"] == "pyproject"
    assert packages["1two"]["nativeBuildInputs"] == ["setuptools", "wheel"]
    # compiled wheels get their library references patched; pure ones do not
    assert packages["lib-b"]["nativeBuildInputs"] == ["autoPatchelfHook"]
    assert packages["lib-b"]["buildInputs"] == ["libstdc++"]
    assert packages["app"]["buildInputs"] == []
    assert all(not p["doCheck"] for p in packages.values())


def test_dependency_edges_become_propagated_inputs_and_cycles_are_cut(
    pylock_export: tuple[Path, dict[str, Any]]
) -> None:
    out, data = pylock_export
    packages = data["packages"]
    deps = {name: sorted(p["deps"]) for name, p in packages.items()}
    # app -> lib-b -> app: the edge closing the cycle is dropped, with a comment saying so
    assert deps == {"1two": [], "app": ["1two", "lib-b"], "lib-b": [], "or": []}
    assert "left out to break a dependency cycle: app" in (out / "packages.nix").read_text()
    # nixpkgs' runtime dependency check would miss the cut edge: off for that package only
    assert {n for n, p in packages.items() if not p["checkRuntimeDeps"]} == {"lib-b"}


def test_the_environment_is_made_for_the_python_the_files_were_chosen_for(
    pylock_export: tuple[Path, dict[str, Any]], nix_env: dict[str, str]
) -> None:
    out, data = pylock_export
    text = (out / "default.nix").read_text()
    assert f"python ? pkgs.python{HERE.replace('.', '')} or pkgs.python3" in text
    assert "{ pkgs ? import <nixpkgs> { }" in text
    assert "warning" not in data["stderr"]
    other = evaluate(nix_env, out, python_version="3.7")
    assert f"chose these files for Python {HERE}, but the interpreter is Python 3.7" in other["stderr"]


def test_output_is_reproducible_and_names_no_local_paths(tmp_path: Path) -> None:
    lock = write_pylock(tmp_path / "proj")
    first, second = tmp_path / "a" / "nix", tmp_path / "b" / "out"
    assert cli("export", lock, "--to", "nix", "-o", first) == 0
    assert cli("export", lock, "--to", "nix", "-o", second) == 0
    for name in nix.FILES:
        text = (first / name).read_text()
        assert text == (second / name).read_text()
        assert str(tmp_path) not in text
        assert sys.executable not in text
    assert sorted(p.name for p in first.iterdir()) == sorted(nix.FILES)  # no temporary files left


def test_overrides_file_is_never_replaced_and_takes_effect(tmp_path: Path, nix_env: dict[str, str]) -> None:
    lock = write_pylock(tmp_path / "proj")
    out = tmp_path / "nix"
    assert cli("export", lock, "--to", "nix", "-o", out) == 0
    generated = (out / "overrides.nix").read_text()
    assert "self: super: {" in generated
    mine = """{ pkgs, python }:
self: super: {
  # a newer app, and a replacement for the sdist
  app = super.app // { version = "1.1"; };
  "1two" = { pname = "1two"; version = "from-nixpkgs"; format = "wheel"; src = { url = "u"; hash = "h"; };
             propagatedBuildInputs = [ ]; doCheck = false; };
}
"""
    (out / "overrides.nix").write_text(mine, encoding="utf-8")
    assert cli("export", lock, "--to", "nix", "-o", out) == 0
    assert (out / "overrides.nix").read_text() == mine
    data = evaluate(nix_env, out)
    assert data["packages"]["app"]["version"] == "1.1"
    assert data["packages"]["1two"]["version"] == "from-nixpkgs"
    assert data["packages"]["or"]["version"] == "3"  # untouched packages stay the generated ones


# --- a target other than this interpreter ----------------------------------------------------------


def spec_for(tmp_path: Path, *, tags: list[str], **environment: str) -> Path:
    spec = tmp_path / "spec.json"
    assert cli("target", "-o", spec) == 0
    data = json.loads(spec.read_text(encoding="utf-8"))
    data["name"] = "the other box"
    data["marker_environment"].update(environment)
    data["compatible_tags"] = tags
    spec.write_text(json.dumps(data), encoding="utf-8")
    return spec


def test_platform_spec_selects_files_and_packages_for_that_machine(
    tmp_path: Path, nix_env: dict[str, str]
) -> None:
    lock = write_pylock(tmp_path / "proj")
    spec = spec_for(tmp_path, tags=["cp312-cp312-win_amd64", "py3-none-any"], sys_platform="win32",
                    os_name="nt", platform_system="Windows", platform_machine="AMD64",
                    python_version="3.12", python_full_version="3.12.4")
    out = tmp_path / "nix"
    assert cli("export", lock, "--to", "nix", "--platform", spec, "-o", out) == 0
    parse_all(nix_env, out)
    data = evaluate(nix_env, out, python_version="3.12")
    assert data["names"] == ["1two", "app", "lib-b", "or", "winonly"]
    assert data["packages"]["lib-b"]["src"]["url"].endswith("/lib_b-2.0-py3-none-any.whl")
    assert data["packages"]["lib-b"]["nativeBuildInputs"] == []
    assert "python ? pkgs.python312 or pkgs.python3" in (out / "default.nix").read_text()
    assert "CPython 3.12.4 on win32 AMD64" in (out / "packages.nix").read_text()


# --- locks naming files by hash only: looked up on a local index ----------------------------------


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


def test_hash_only_requirements_are_looked_up_on_the_index(
    tmp_path: Path, server: LocalServer, nix_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    demo_wheel = FileSpec("demo-1.0-py3-none-any.whl", "../../files/demo-1.0-py3-none-any.whl", b"demo wheel")
    demo_sdist = FileSpec("demo-1.0.tar.gz", "../../files/demo-1.0.tar.gz", b"demo sdist")
    helper_sdist = FileSpec("helper-2.0.tar.gz", "../../files/helper-2.0.tar.gz", b"helper sdist")
    root = tmp_path / "index"
    write_tree_index(root / "simple", "demo", [demo_wheel, demo_sdist])
    write_tree_index(root / "simple", "helper", [helper_sdist])
    server.serve_tree(root)
    lock = tmp_path / "proj" / "requirements.txt"
    lock.parent.mkdir()
    lock.write_text(
        f"demo==1.0 --hash=sha256:{demo_wheel.sha256} --hash=sha256:{demo_sdist.sha256}\n"
        f"helper==2.0 --hash=sha256:{helper_sdist.sha256}\n",
        encoding="utf-8",
    )
    out = tmp_path / "nix"
    capsys.readouterr()
    assert cli("export", lock, "--to", "nix", "--index-url", f"{server.url}/simple", "-o", out) == 0
    assert "records no dependency edges" in capsys.readouterr().err
    parse_all(nix_env, out)
    data = evaluate(nix_env, out)
    packages = data["packages"]
    assert packages["demo"]["src"]["url"] == f"{server.url}/files/demo-1.0-py3-none-any.whl"
    assert packages["demo"]["src"]["hash"] == sri(demo_wheel.sha256)
    assert packages["demo"]["format"] == "wheel"
    assert packages["helper"]["src"]["url"] == f"{server.url}/files/helper-2.0.tar.gz"
    assert packages["helper"]["src"]["hash"] == sri(helper_sdist.sha256)
    assert packages["helper"]["format"] == "pyproject"
    # no edges in a requirements file: none invented, and nixpkgs' runtime check is turned off
    assert all(p["deps"] == [] and not p["checkRuntimeDeps"] for p in packages.values())
    assert "records no dependency edges" in (out / "packages.nix").read_text()

    # A real Nix build of every src, with Nix's own fetchurl (<nix/fetchurl.nix>, no nixpkgs needed):
    # the fixed-output derivations download from the local index and Nix checks the SRI hashes.
    built = build_sources(nix_env, out)
    assert set(built) == {"demo", "helper"}
    assert built["demo"].name.endswith("-demo-1.0-py3-none-any.whl")
    assert built["demo"].read_bytes() == demo_wheel.content
    assert built["helper"].read_bytes() == helper_sdist.content


def test_unhashed_url_is_refused_with_the_package_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n[[packages]]\nname = "bare"\nversion = "1"\n'
        '[[packages.wheels]]\nname = "bare-1-py3-none-any.whl"\nurl = "http://127.0.0.1:9/bare-1-py3-none-any.whl"\n'
        'hashes = {md5 = "00000000000000000000000000000000"}\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    code = cli("export", lock, "--to", "nix", "-o", tmp_path / "nix")
    err = capsys.readouterr().err
    assert code != 0
    assert "bare" in err and "Traceback" not in err
    assert not (tmp_path / "nix" / "packages.nix").exists()


# --- real locks ----------------------------------------------------------------------------------

REAL = {f.id: f for f in real_fixtures()}


@pytest.mark.parametrize("fixture_id", ["basic/uv", "split/uv", "basic/pip-lock", "split/pip-lock",
                                        "basic/uv-export-pylock"])
def test_real_lock_round_trips_every_url_and_hash(
    fixture_id: str, tmp_path: Path, nix_env: dict[str, str]
) -> None:
    if fixture_id not in REAL:
        pytest.skip(f"no fixture {fixture_id}")
    fixture = materialize(REAL[fixture_id], tmp_path)
    out = tmp_path / "nix"
    assert cli("export", fixture.lock_path, "--to", "nix", "--no-project", "-o", out) == 0
    parse_all(nix_env, out)
    data = evaluate(nix_env, out)

    lock = locks.read(fixture.lock_path)
    from lading.model import GroupRequest

    selection = select(lock, resolve_target(None, None), GroupRequest(no_project=True))
    expected = {}
    for selected in selection.selected:
        source: Any = selected.source
        expected[str(canonicalize_name(selected.package.name))] = {
            "url": source.url, "hash": sri(source.hashes["sha256"]), "version": selected.version,
        }
    got = {name: {"url": p["src"]["url"], "hash": p["src"]["hash"], "version": p["version"]}
           for name, p in data["packages"].items()}
    assert got == expected
    assert expected, "the fixture selects nothing here"
    installed: Optional[Mapping[str, str]] = fixture.expected.get("installed")
    if installed and fixture.expected.get("python", "").startswith(HERE):
        assert {n: p["version"] for n, p in got.items()} == dict(installed)


def write_uv_lock(directory: Path) -> Path:
    """proj -> a; a -> w on Windows only (an edge marker), a -> b[fast]; b's extra fast -> c."""
    base = "http://127.0.0.1:9/files"

    def package(name: str, extra: str = "") -> str:
        wheel = f"{name}-1.0-py3-none-any.whl"
        return (f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
                f'source = {{ registry = "http://127.0.0.1:9/simple" }}\n{extra}'
                f'wheels = [{{ url = "{base}/{wheel}", hash = "sha256:{digest(name)}" }}]\n')

    text = "\n".join([
        'version = 1\nrevision = 2\nrequires-python = ">=3.9"\n',
        '[[package]]\nname = "proj"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "a" }, { name = "w", marker = "sys_platform == \'win32\'" }]\n',
        package("a", 'dependencies = [{ name = "w", marker = "sys_platform == \'win32\'" }, '
                     '{ name = "b", extra = ["fast"] }]\n'),
        package("b") + '[package.optional-dependencies]\nfast = [{ name = "c" }]\n',
        package("c"),
        package("w"),
    ])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "uv.lock").write_text(text, encoding="utf-8")
    return directory / "uv.lock"


def test_uv_edges_follow_markers_and_extras_for_the_target(tmp_path: Path, nix_env: dict[str, str]) -> None:
    lock = write_uv_lock(tmp_path / "proj")
    here_out, win_out = tmp_path / "here", tmp_path / "win"
    assert cli("export", lock, "--to", "nix", "-o", here_out) == 0
    spec = spec_for(tmp_path, tags=[str(t) for t in sys_tags()], sys_platform="win32", os_name="nt",
                    platform_system="Windows")
    assert cli("export", lock, "--to", "nix", "--platform", spec, "-o", win_out) == 0
    parse_all(nix_env, here_out)
    here, win = evaluate(nix_env, here_out), evaluate(nix_env, win_out)
    assert here["names"] == ["a", "b", "c"]
    assert win["names"] == ["a", "b", "c", "w"]
    # b[fast] brings c: the one who asked for the extra (a) propagates it
    assert {n: sorted(p["deps"]) for n, p in here["packages"].items()} == {"a": ["b", "c"], "b": [], "c": []}
    assert sorted(win["packages"]["a"]["deps"]) == ["b", "c", "w"]
    assert all(p["checkRuntimeDeps"] for p in here["packages"].values())
    for name, package in here["packages"].items():
        assert package["src"]["hash"] == sri(digest(name))


def test_poetry_lock_files_and_edges(
    tmp_path: Path, server: LocalServer, nix_env: dict[str, str]
) -> None:
    """poetry.lock names files without URLs (looked up on the index) and records edges with markers."""
    files = {n: FileSpec(f"{n}-1.0-py3-none-any.whl", f"../../files/{n}-1.0-py3-none-any.whl", n.encode())
             for n in ("alpha", "beta", "gamma")}
    root = tmp_path / "index"
    for name, spec in files.items():
        write_tree_index(root / "simple", name, [spec])
    server.serve_tree(root)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "proj"\nversion = "0.1.0"\ndescription = ""\nauthors = []\npackage-mode = false\n\n'
        '[tool.poetry.dependencies]\npython = ">=3.9"\nalpha = "*"\n', encoding="utf-8")
    deps = {
        "alpha": '[package.dependencies]\nbeta = ">=1"\n'
                 'gamma = {version = "*", markers = "sys_platform == \\"win32\\""}\n',
        "beta": "", "gamma": "",
    }
    text = ""
    for name, spec in files.items():
        text += (f'[[package]]\nname = "{name}"\nversion = "1.0"\ndescription = ""\noptional = false\n'
                 f'python-versions = "*"\ngroups = ["main"]\n'
                 + ('markers = "sys_platform == \\"win32\\""\n' if name == "gamma" else "")
                 + f'files = [\n    {{file = "{spec.filename}", hash = "sha256:{spec.sha256}"}},\n]\n\n'
                 + deps[name] + "\n")
    text += '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\ncontent-hash = "0"\n'
    (project / "poetry.lock").write_text(text, encoding="utf-8")
    out = tmp_path / "nix"
    assert cli("export", project / "poetry.lock", "--to", "nix", "--index-url", f"{server.url}/simple",
               "-o", out) == 0
    parse_all(nix_env, out)
    data = evaluate(nix_env, out)
    assert data["names"] == ["alpha", "beta"]  # gamma only on Windows
    assert data["packages"]["alpha"]["deps"] == ["beta"]
    for name in data["names"]:
        assert data["packages"][name]["src"]["url"] == f"{server.url}/files/{files[name].filename}"
        assert data["packages"][name]["src"]["hash"] == sri(files[name].sha256)


def test_project_source_tree_is_built_from_a_store_copy(tmp_path: Path, nix_env: dict[str, str]) -> None:
    project = tmp_path / "my project"  # a space: the path must be quoted in Nix
    lock = write_pylock(project)
    text = lock.read_text().replace(
        '[[packages]]\nname = "app"',
        '[[packages]]\nname = "proj"\nversion = "0.1"\ndirectory = {path = ".", editable = true}\n'
        'dependencies = [{name = "app"}]\n\n[[packages]]\nname = "app"', 1)
    lock.write_text(text, encoding="utf-8")
    out = project / "nix"
    assert cli("export", lock, "--to", "nix", "-o", out) == 0
    parse_all(nix_env, out)
    data = evaluate(nix_env, out)
    proj = data["packages"]["proj"]
    assert proj["format"] == "pyproject" and proj["deps"] == ["app"]
    assert proj["src"]["path"].startswith(nix_env["NIX_STORE_DIR"] + "/")
    assert proj["src"]["path"].endswith("-proj-source")
    packages_nix = (out / "packages.nix").read_text()
    assert 'path = (./. + "/..")' in packages_nix
    assert "not editable" in packages_nix
    assert cli("export", lock, "--to", "nix", "--no-project", "-o", tmp_path / "np") == 0
    assert "proj" not in evaluate(nix_env, tmp_path / "np")["names"]


def test_output_that_is_a_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = write_pylock(tmp_path / "proj")
    target = tmp_path / "taken"
    target.write_text("mine", encoding="utf-8")
    capsys.readouterr()
    assert cli("export", lock, "--to", "nix", "-o", target) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"


@pytest.mark.integration
@pytest.mark.parametrize("fixture_id", ["basic/poetry2", "basic/pipenv", "basic/pip-compile", "basic/pdm"])
def test_real_name_only_lock_is_completed_from_the_configured_index(
    fixture_id: str, tmp_path: Path, nix_env: dict[str, str]
) -> None:
    if fixture_id not in REAL:
        pytest.skip(f"no fixture {fixture_id}")
    fixture = materialize(REAL[fixture_id], tmp_path)
    out = tmp_path / "nix"
    assert cli("export", fixture.lock_path, "--to", "nix", "--no-project", "-o", out) == 0
    parse_all(nix_env, out)
    data = evaluate(nix_env, out)
    lock = locks.read(fixture.lock_path)
    recorded: dict[str, set[str]] = {}
    for i, package in enumerate(lock.packages):
        hashes = recorded.setdefault(str(canonicalize_name(package.name)), set())
        files: list[Any] = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
        for source in files:
            if "sha256" in source.hashes:
                hashes.add(sri(source.hashes["sha256"]))
        pending = lock.pending.get(i)
        for value in pending.hashes if pending else ():
            algorithm, _, hex_digest = value.partition(":")
            if algorithm == "sha256":
                hashes.add(sri(hex_digest))
    assert data["packages"]
    for name, package in data["packages"].items():
        assert package["src"]["url"].startswith(("http://", "https://"))
        assert package["src"]["hash"] in recorded[name], name
    installed: Optional[Mapping[str, str]] = fixture.expected.get("installed")
    if installed and fixture.expected.get("python", "").startswith(HERE):
        assert {n: p["version"] for n, p in data["packages"].items()} == dict(installed)
