"""Choosing the install destination, interpreter introspection of install paths, venv creation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from lading.errors import UsageError
from lading.install import scheme
from lading.install.paths import InstallPaths
from lading.install.scheme import DestinationError, DestinationOptions, resolve_destination
from lading.install.venv import create_venv, is_venv
from lading.target import Interpreter, current_interpreter, interpreter, target_for

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
DEBIAN_PYTHON = Path("/usr/bin/python3")


def _pyenv(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python"))
    if not found:
        pytest.skip(f"no pyenv Python {version} here")
    return found[-1]


# What the interpreter itself says, with site enabled (the introspection runs with -S).
_ASK = r"""
import json, sys, sysconfig, site
base = sys.argv[1]
keys = ["installed_base", "base", "installed_platbase", "platbase", "prefix", "exec_prefix", "userbase"]
get = getattr(sysconfig, "get_preferred_scheme", None)
in_venv = sys.prefix != sys.base_prefix
if in_venv:
    name = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
else:
    name = get("prefix") if get else "posix_prefix"
print(json.dumps({
    "prefix": sys.prefix,
    "cache_tag": sys.implementation.cache_tag,
    "paths": sysconfig.get_paths(),
    "for_prefix": sysconfig.get_paths(scheme=name, vars={k: base for k in keys}),
    "site": site.getsitepackages(),
}))
"""


def _ask(python: Path, base: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-I", "-c", _ASK, str(base)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _opts(**values: object) -> DestinationOptions:
    return DestinationOptions(**values)  # type: ignore[arg-type]


# --- introspection --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.9", "3.11", "3.13"])
def test_interpreter_paths_match_its_own_sysconfig(tmp_path: Path, version: str) -> None:
    python = _pyenv(version)
    found = interpreter(str(python))
    told = _ask(python, tmp_path / "pfx")
    paths = told["paths"]
    assert isinstance(paths, dict)
    assert found.paths.purelib == Path(paths["purelib"])
    assert found.paths.platlib == Path(paths["platlib"])
    assert found.paths.scripts == Path(paths["scripts"])
    assert found.paths.data == Path(paths["data"])
    assert found.cache_tag == told["cache_tag"] == f"cpython-{version.replace('.', '')}"
    assert found.version == tuple(int(p) for p in version.split("."))
    assert not found.is_venv
    assert found.prefix == Path(str(told["prefix"]))
    for_prefix = told["for_prefix"]
    assert isinstance(for_prefix, dict)
    mine = found.for_prefix(tmp_path / "pfx")
    assert mine.purelib == Path(for_prefix["purelib"])
    assert mine.scripts == Path(for_prefix["scripts"])
    assert mine.data == Path(for_prefix["data"])


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_venv_interpreter_is_seen_as_a_venv_despite_no_site(tmp_path: Path, version: str) -> None:
    venv = tmp_path / "env"
    create_venv(_pyenv(version), venv)
    found = interpreter(str(venv / "bin" / "python"))
    told = _ask(venv / "bin" / "python", tmp_path)
    assert found.is_venv
    assert found.prefix == venv == Path(str(told["prefix"]))
    assert [str(found.paths.purelib)] == told["site"]
    assert found.paths.scripts == venv / "bin"
    assert found.paths.headers == venv / "include" / "site" / f"python{version}"
    assert found.externally_managed is None


def test_debian_python_reports_pep668_marker_and_local_scheme() -> None:
    if not (DEBIAN_PYTHON.exists() and list(Path("/usr/lib").glob("python3.*/EXTERNALLY-MANAGED"))):
        pytest.skip("no externally managed system python here")
    found = interpreter(str(DEBIAN_PYTHON))
    assert found.externally_managed is not None
    assert "[externally-managed]" in found.externally_managed
    assert found.paths.purelib == Path(f"/usr/local/lib/python{found.version_text}/dist-packages")
    # pip --prefix on Debian's python uses the posix_local scheme too.
    assert found.for_prefix(Path("/opt/x")).purelib == Path(
        f"/opt/x/local/lib/python{found.version_text}/dist-packages"
    )


def test_current_interpreter_in_process_equals_subprocess_answer() -> None:
    here = current_interpreter()
    there = interpreter(sys.executable)
    assert here.paths == there.paths
    assert (here.prefix, here.is_venv, here.cache_tag) == (there.prefix, there.is_venv, there.cache_tag)


def test_malformed_install_facts_are_a_target_error() -> None:
    from lading import _introspect
    from lading.errors import TargetError
    from lading.target import parse_facts, parse_interpreter

    data = _introspect.facts()
    facts = parse_facts(data, sys.executable)
    data["install"]["paths"] = "nope"
    with pytest.raises(TargetError, match=r"install\.paths"):
        parse_interpreter(data, sys.executable, facts)
    del data["install"]
    with pytest.raises(TargetError, match="install"):
        parse_interpreter(data, sys.executable, facts)


# --- --prefix / --target ----------------------------------------------------------------------------


def test_target_dir_follows_pip(tmp_path: Path) -> None:
    dest = resolve_destination(_opts(target=tmp_path / "t"), tmp_path, {})
    root = tmp_path / "t"
    assert dest.kind == "target"
    assert dest.paths.purelib == dest.paths.platlib == dest.paths.data == root
    assert dest.paths.scripts == root / "bin"
    assert dest.paths.headers == root / "include" / "python"
    assert not root.exists()  # nothing made before the install itself


def test_prefix_with_python(tmp_path: Path) -> None:
    python = _pyenv("3.13")
    dest = resolve_destination(_opts(prefix=tmp_path / "p", python=str(python)), tmp_path, {})
    assert dest.kind == "prefix"
    assert dest.paths.purelib == tmp_path / "p" / "lib" / "python3.13" / "site-packages"
    assert dest.paths.scripts == tmp_path / "p" / "bin"
    assert dest.interpreter.cache_tag == "cpython-313"


def test_two_destinations_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--venv and --prefix"):
        resolve_destination(_opts(venv=tmp_path / "v", prefix=tmp_path / "p"), tmp_path, {})


# --- --python -----------------------------------------------------------------------------------------


def _managed(found: Interpreter) -> Interpreter:
    return replace(
        found,
        is_venv=False,
        externally_managed="[externally-managed]\nError=Use apt, please.\n  Really.\n",
    )


def test_externally_managed_python_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    managed = _managed(current_interpreter())
    monkeypatch.setattr(scheme, "interpreter", lambda python: managed)
    with pytest.raises(DestinationError) as caught:
        resolve_destination(_opts(python="python3"), tmp_path, {})
    assert "externally managed" in caught.value.why
    assert "Use apt, please. Really." in caught.value.why
    assert caught.value.hint and "--break-system-packages" in caught.value.hint
    dest = resolve_destination(_opts(python="python3", break_system_packages=True), tmp_path, {})
    assert dest.kind == "python"
    assert dest.paths == managed.paths


def test_real_debian_python_is_refused() -> None:
    if not (DEBIAN_PYTHON.exists() and list(Path("/usr/lib").glob("python3.*/EXTERNALLY-MANAGED"))):
        pytest.skip("no externally managed system python here")
    with pytest.raises(DestinationError, match="externally managed"):
        resolve_destination(_opts(python=str(DEBIAN_PYTHON)), Path.cwd(), {})


def test_python_of_a_venv_installs_into_that_venv(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(_pyenv("3.11"), venv)
    dest = resolve_destination(_opts(python=str(venv / "bin" / "python")), tmp_path, {})
    assert dest.kind == "python"
    assert dest.root == venv
    assert dest.paths.purelib == venv / "lib" / "python3.11" / "site-packages"


def test_prefix_and_target_skip_the_pep668_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    managed = _managed(current_interpreter())
    monkeypatch.setattr(scheme, "interpreter", lambda python: managed)
    assert resolve_destination(_opts(python="py", prefix=tmp_path / "p"), tmp_path, {}).kind == "prefix"
    assert resolve_destination(_opts(python="py", target=tmp_path / "t"), tmp_path, {}).kind == "target"


# --- venvs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.9", "3.11", "3.13"])
def test_missing_venv_is_created_and_works(tmp_path: Path, version: str) -> None:
    python = _pyenv(version)
    venv = tmp_path / "new env"
    dest = resolve_destination(_opts(venv=venv, python=str(python)), tmp_path, {})
    assert dest.created and dest.kind == "venv" and is_venv(venv)
    assert "created" in dest.description
    assert dest.interpreter.executable == venv / "bin" / "python"
    assert dest.interpreter.origin is not None
    told = _ask(venv / "bin" / "python", tmp_path)
    assert Path(str(told["prefix"])) == venv
    assert told["site"] == [str(dest.paths.purelib)]
    assert dest.paths.purelib.is_dir()
    # The derived interpreter equals what the new venv says about itself.
    asked = interpreter(str(venv / "bin" / "python"))
    assert (asked.paths, asked.prefix, asked.cache_tag, asked.is_venv) == (
        dest.interpreter.paths,
        dest.interpreter.prefix,
        dest.interpreter.cache_tag,
        True,
    )
    assert target_for(dest.interpreter).tags == target_for(asked).tags
    # Activation: the activate script puts the venv's python first on PATH.
    bash = shutil.which("bash")
    if bash:
        done = subprocess.run(
            [bash, "-c", f'source "{venv}/bin/activate" && python -c "import sys; print(sys.prefix)"'],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(venv)


def test_existing_venv_is_synced_not_recreated(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(_pyenv("3.11"), venv)
    config = (venv / "pyvenv.cfg").stat().st_mtime_ns
    dest = resolve_destination(_opts(venv=venv), tmp_path, {})
    assert not dest.created
    assert dest.interpreter.version == (3, 11)
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == config


def test_existing_venv_made_from_the_running_python_is_known_without_asking_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "env"
    create_venv(Path(sys.executable), venv)
    asked = interpreter(str(venv / "bin" / "python"))  # what the venv's own python says
    asked_tags = target_for(asked).tags

    def no_subprocess(executable: str) -> object:
        raise AssertionError(f"{executable} was asked")

    monkeypatch.setattr("lading.target._run_introspection", no_subprocess)
    monkeypatch.setattr("lading.target._RAW", {})
    dest = resolve_destination(_opts(venv=venv), tmp_path, {})
    assert not dest.created and dest.interpreter.executable == venv / "bin" / "python"
    assert dest.paths == asked.paths
    assert dest.interpreter.cache_tag == asked.cache_tag and dest.interpreter.version == asked.version
    assert target_for(dest.interpreter).tags == asked_tags


def test_existing_venv_whose_config_names_another_version_is_asked(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(Path(sys.executable), venv)
    config = venv / "pyvenv.cfg"
    config.write_text(config.read_text() + "version_info = 3.11.7.final.0\n")
    assert scheme._made_from_this_python(venv, venv / "bin" / "python") is None
    dest = resolve_destination(_opts(venv=venv), tmp_path, {})
    assert dest.interpreter.origin is None  # asked in a subprocess


def test_existing_venv_with_another_python_is_refused(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(_pyenv("3.11"), venv)
    with pytest.raises(DestinationError, match="--python asks for"):
        resolve_destination(_opts(venv=venv, python=str(_pyenv("3.13"))), tmp_path, {})


def test_directory_that_is_not_a_venv_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine")
    with pytest.raises(DestinationError, match="not a virtual environment") as caught:
        resolve_destination(_opts(venv=tmp_path / "stuff"), tmp_path, {})
    assert caught.value.file == str(tmp_path / "stuff")
    assert caught.value.field == "--venv"
    assert (tmp_path / "stuff" / "notes.txt").read_text() == "mine"


def test_empty_directory_becomes_a_venv(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    dest = resolve_destination(_opts(venv=tmp_path / "empty"), tmp_path, {})
    assert dest.created and is_venv(tmp_path / "empty")


def test_half_made_venv_is_repaired(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")  # killed right after pyvenv.cfg
    dest = resolve_destination(_opts(venv=venv, python=str(_pyenv("3.11"))), tmp_path, {})
    assert dest.created
    assert (venv / "bin" / "python").exists()


def test_dry_run_plans_a_venv_without_making_it(tmp_path: Path) -> None:
    dest = resolve_destination(_opts(venv=tmp_path / "v", create=False), tmp_path, {})
    assert dest.missing and not dest.created
    assert not (tmp_path / "v").exists()
    here = current_interpreter()
    assert dest.paths == here.for_venv(tmp_path / "v")
    assert dest.interpreter.cache_tag == here.cache_tag


# --- no destination option ------------------------------------------------------------------------


def test_active_venv_is_used(tmp_path: Path) -> None:
    venv = tmp_path / "active"
    create_venv(_pyenv("3.11"), venv)
    (tmp_path / "project" / ".venv").mkdir(parents=True)
    dest = resolve_destination(_opts(), tmp_path / "project", {"VIRTUAL_ENV": str(venv)})
    assert dest.root == venv and not dest.created
    assert not is_venv(tmp_path / "project" / ".venv")


def test_stale_virtual_env_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DestinationError, match="not a venv") as caught:
        resolve_destination(_opts(), tmp_path, {"VIRTUAL_ENV": str(tmp_path / "gone")})
    assert caught.value.field == "VIRTUAL_ENV"


def test_project_venv_is_used_when_present(tmp_path: Path) -> None:
    create_venv(_pyenv("3.11"), tmp_path / ".venv")
    dest = resolve_destination(_opts(), tmp_path, {})
    assert dest.root == tmp_path / ".venv" and not dest.created


def test_project_venv_is_created_when_missing_never_the_system(tmp_path: Path) -> None:
    dest = resolve_destination(_opts(), tmp_path, {})
    assert dest.kind == "venv" and dest.created
    assert dest.root == tmp_path / ".venv"
    assert "project's venv" in dest.description and "created" in dest.description
    assert dest.paths.purelib.is_relative_to(tmp_path / ".venv")


def test_install_paths_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dest = resolve_destination(_opts(target=Path("rel")), Path("."), {})
    assert isinstance(dest.paths, InstallPaths)
    assert all(p.is_absolute() for p in (dest.paths.purelib, dest.paths.scripts, dest.paths.headers))
