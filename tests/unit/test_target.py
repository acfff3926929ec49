"""Targets: this interpreter, other interpreters (introspected), and platform spec files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import packaging
import pytest
from packaging.markers import default_environment
from packaging.tags import Tag, mac_platforms, sys_tags

from lading import _introspect, target
from lading.errors import TargetError, UsageError
from lading.model import Target
from lading.target import (
    from_interpreter,
    from_spec,
    linux_platforms,
    parse_facts,
    resolve_target,
    tags_for,
    to_spec,
)

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
PACKAGING_DIR = Path(packaging.__file__).parent


def _pyenv(version: str) -> Path:
    python = PYENV / version / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no pyenv Python {version} here")
    return python


def _in_interpreter(python: str, code: str, tmp_path: Path) -> Any:
    """Run CODE in PYTHON with this packaging importable (copied, so nothing else leaks in)."""
    lib = tmp_path / "lib"
    if not lib.exists():
        shutil.copytree(PACKAGING_DIR, lib / "packaging", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


_PACKAGING_VIEW = (
    "import json, packaging.tags, packaging.markers; "
    "print(json.dumps({'tags': [str(t) for t in packaging.tags.sys_tags()], "
    "'env': packaging.markers.default_environment()}))"
)


# --- live interpreters ----------------------------------------------------------------------------


def test_introspecting_this_interpreter_matches_packaging_in_process() -> None:
    target.__dict__["_CACHE"].clear()
    found = from_interpreter(sys.executable)
    assert found.tags == tuple(sys_tags())
    assert dict(found.environment) == default_environment()
    assert found.interpreter is not None


def test_current_is_this_interpreter() -> None:
    here = target.current()
    assert here.tags == tuple(sys_tags())
    assert dict(here.environment) == default_environment()
    assert here.python_version == f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.mark.parametrize("version", ["3.9.18", "3.13.0"])
def test_introspected_pyenv_cpython_matches_its_own_packaging(version: str, tmp_path: Path) -> None:
    python = _pyenv(version)
    found = from_interpreter(str(python))
    expected = _in_interpreter(str(python), _PACKAGING_VIEW, tmp_path)
    assert [str(t) for t in found.tags] == expected["tags"]
    assert dict(found.environment) == expected["env"]
    assert found.python_version == version.rsplit(".", 1)[0]


def test_introspected_pypy_matches_its_own_packaging(tmp_path: Path) -> None:
    pypy = shutil.which("pypy3")
    if pypy is None:
        pytest.skip("no pypy3 installed")
    found = from_interpreter(pypy)
    expected = _in_interpreter(pypy, _PACKAGING_VIEW, tmp_path)
    assert [str(t) for t in found.tags] == expected["tags"]
    assert dict(found.environment) == expected["env"]
    assert found.tags[0].interpreter.startswith("pp3")


def test_python_38_markers_and_best_tag(tmp_path: Path) -> None:
    python = _pyenv("3.8.18")
    found = from_interpreter(str(python))
    # packaging 26 no longer imports on 3.8, so compare with what 3.8 itself says.
    facts = subprocess.run(
        [
            str(python),
            "-c",
            "import platform, sys, json; print(json.dumps([platform.python_version(), "
            "sys.platform, platform.machine()]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    full, sys_platform, machine = json.loads(facts.stdout)
    assert found.environment["python_full_version"] == full == "3.8.18"
    assert found.environment["python_version"] == "3.8"
    assert found.environment["sys_platform"] == sys_platform
    assert found.environment["platform_machine"] == machine
    assert found.tags[0].interpreter == "cp38" and found.tags[0].abi == "cp38"
    assert Tag("cp38", "abi3", found.tags[0].platform) in found.tags
    assert Tag("py3", "none", "any") in found.tags


@pytest.mark.parametrize("version", ["3.6.15", "2.7.18"])
def test_too_old_python_is_a_target_error(version: str) -> None:
    python = _pyenv(version)
    with pytest.raises(TargetError) as caught:
        from_interpreter(str(python))
    assert caught.value.file == str(python)
    assert "3.8+" in (caught.value.hint or "")


def test_missing_interpreter_path(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not found") as caught:
        from_interpreter(str(tmp_path / "nope" / "python"))
    assert caught.value.field == "--python"


def test_missing_interpreter_name() -> None:
    with pytest.raises(TargetError, match="not found on PATH"):
        from_interpreter("python-does-not-exist-9.99")


def test_interpreter_that_is_not_executable(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    with pytest.raises(TargetError, match="not executable"):
        from_interpreter(str(fake))


def test_interpreter_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="directory"):
        from_interpreter(str(tmp_path))


def _script(tmp_path: Path, body: str, name: str = "python") -> Path:
    fake = tmp_path / name
    fake.write_text("#!/bin/sh\n" + body)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def test_program_that_is_not_python(tmp_path: Path) -> None:
    fake = _script(tmp_path, "echo hello\n")
    with pytest.raises(TargetError, match="did not answer as a Python interpreter") as caught:
        from_interpreter(str(fake))
    assert caught.value.file == str(fake)


def test_program_that_fails(tmp_path: Path) -> None:
    fake = _script(tmp_path, "echo 'boom: broken' >&2\nexit 3\n")
    with pytest.raises(TargetError, match="introspection failed: boom: broken"):
        from_interpreter(str(fake))


def test_program_that_answers_json_of_the_wrong_shape(tmp_path: Path) -> None:
    fake = _script(tmp_path, "echo '{\"marker_environment\": {}}'\n")
    with pytest.raises(TargetError, match=r"marker_environment\.implementation_name"):
        from_interpreter(str(fake))


def test_introspection_is_cached_per_path_and_mtime(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fake = _script(tmp_path, f'echo run >> "{log}"\nexec "{sys.executable}" "$@"\n')
    first = from_interpreter(str(fake))
    second = from_interpreter(str(fake))
    assert second is first
    assert log.read_text().count("run") == 1
    stat_ = fake.stat()
    os.utime(fake, ns=(stat_.st_atime_ns, stat_.st_mtime_ns + 1_000_000_000))
    third = from_interpreter(str(fake))
    assert log.read_text().count("run") == 2
    assert third.tags == first.tags


def test_introspection_runs_isolated_and_writes_no_bytecode(tmp_path: Path) -> None:
    args = tmp_path / "args"
    fake = _script(tmp_path, f'printf "%s\\n" "$1" "$2" "$3" > "{args}"\nexec "{sys.executable}" "$@"\n')
    from_interpreter(str(fake))
    assert args.read_text().split() == ["-I", "-S", "-B"]


# --- tags from facts (platforms lading does not run on) ------------------------------------------


def _facts(**changes: Any) -> dict[str, Any]:
    data = _introspect.facts()
    data.update(changes)
    return data


def test_free_threaded_cpython_gets_t_abi_and_no_abi3() -> None:
    data = _facts(version_info=[3, 13], py_version_nodot="313", py_gil_disabled=1, py_debug=0)
    data["marker_environment"] = {**data["marker_environment"], "python_version": "3.13"}
    tags = tags_for(parse_facts(data, "python3.13t"))
    assert tags[0].abi == "cp313t"
    assert all(t.abi != "abi3" for t in tags)


def test_debug_cpython_also_accepts_regular_abi() -> None:
    tags = tags_for(parse_facts(_facts(version_info=[3, 12], py_version_nodot="312", py_debug=1), "p"))
    abis = [t.abi for t in tags if t.interpreter == "cp312"]
    assert abis[0] == "cp312d"
    assert "cp312" in abis


def test_python_37_gets_pymalloc_abi() -> None:
    tags = tags_for(parse_facts(_facts(version_info=[3, 7], py_version_nodot="37", with_pymalloc=1), "p"))
    assert tags[0].abi == "cp37m"


def test_macos_arm64_uses_packaging_mac_platforms() -> None:
    data = _facts(
        mac={"release": "14.2", "machine": "arm64"},
        sysconfig_platform="macosx-11.0-arm64",
        glibc=None,
        elf=None,
    )
    data["marker_environment"] = {
        **data["marker_environment"],
        "platform_system": "Darwin",
        "sys_platform": "darwin",
        "platform_machine": "arm64",
    }
    tags = tags_for(parse_facts(data, "mac-python"))
    platforms = list(dict.fromkeys(t.platform for t in tags if t.platform != "any"))
    assert platforms == list(mac_platforms((14, 2), "arm64"))


def test_windows_platform_is_the_sysconfig_platform() -> None:
    data = _facts(
        sysconfig_platform="win-amd64",
        ext_suffix=".cp312-win_amd64.pyd",
        version_info=[3, 12],
        py_version_nodot="312",
        glibc=None,
        elf=None,
    )
    data["marker_environment"] = {
        **data["marker_environment"],
        "platform_system": "Windows",
        "sys_platform": "win32",
        "os_name": "nt",
    }
    tags = tags_for(parse_facts(data, "C:/Python312/python.exe"))
    assert tags[0] == Tag("cp312", "cp312", "win_amd64")
    assert {t.platform for t in tags} == {"win_amd64", "any"}


def test_pypy_abi_comes_from_ext_suffix() -> None:
    data = _facts(
        implementation_name="pypy",
        ext_suffix=".pypy310-pp73-x86_64-linux-gnu.so",
        version_info=[3, 10],
        py_version_nodot="310",
    )
    tags = tags_for(parse_facts(data, "pypy3.10"))
    assert tags[0].interpreter == "pp310"
    assert tags[0].abi == "pypy310_pp73"
    assert Tag("pp3", "none", "any") in tags


def test_32bit_interpreter_on_x86_64_kernel_needs_an_i386_elf() -> None:
    data = _facts(
        pointer_bits=32,
        sysconfig_platform="linux-x86_64",
        elf={"capacity": 64, "encoding": "lsb", "machine": 62, "flags": 0},
    )
    tags = tags_for(parse_facts(data, "python32"))
    assert {t.platform for t in tags} - {"any"} == {"linux_i686"}
    data["elf"] = {"capacity": 32, "encoding": "lsb", "machine": 3, "flags": 0}
    tags = tags_for(parse_facts(data, "python32"))
    assert "manylinux1_i686" in {t.platform for t in tags}


# --- linux platform lists -------------------------------------------------------------------------


def test_linux_platforms_equal_packaging_for_this_machine() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("linux only")
    facts = parse_facts(_introspect.facts(), sys.executable)
    if facts.glibc is None:
        pytest.skip("not glibc")
    arch = target._normalize(facts.sysconfig_platform).split("_", 1)[1]
    assert linux_platforms(arch, glibc=facts.glibc) == list(packaging.tags.platform_tags())


def test_manylinux_for_aarch64_stops_at_2_17_with_the_2014_alias() -> None:
    platforms = linux_platforms("aarch64", glibc=(2, 28))
    many = [p for p in platforms if p.startswith("manylinux")]
    assert many[0] == "manylinux_2_28_aarch64"
    assert many[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert "linux_aarch64" in platforms


def test_manylinux_for_x86_64_goes_down_to_manylinux1() -> None:
    platforms = linux_platforms("x86_64", glibc=(2, 17))
    many = [p for p in platforms if p.startswith("manylinux")]
    assert many[:2] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    assert "manylinux2010_x86_64" in many
    assert many[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]


def test_musllinux_tags_and_no_manylinux_without_glibc() -> None:
    platforms = linux_platforms("x86_64", musl=(1, 2))
    assert [p for p in platforms if p.startswith("musllinux")] == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
    ]
    assert not any(p.startswith("manylinux") for p in platforms)


def test_armv8l_also_accepts_armv7l() -> None:
    platforms = linux_platforms("armv8l", glibc=(2, 31))
    assert "linux_armv7l" in platforms
    assert "manylinux_2_17_armv7l" in platforms


# --- platform specs -------------------------------------------------------------------------------


def _write(tmp_path: Path, data: Any, name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_spec_round_trip(tmp_path: Path) -> None:
    here = target.current()
    spec = to_spec(here)
    assert spec["version"] == 1
    again = from_spec(_write(tmp_path, spec))
    assert again.tags == here.tags
    assert dict(again.environment) == dict(here.environment)
    assert again.name == here.name
    assert again.interpreter is None


def test_spec_of_an_incomplete_target_is_refused() -> None:
    env = dict(default_environment())
    del env["platform_release"]
    with pytest.raises(TargetError, match="platform_release"):
        to_spec(Target(name="half", environment=env, tags=(Tag("py3", "none", "any"),)))


def test_pex_style_spec_without_version_or_name(tmp_path: Path) -> None:
    spec = to_spec(target.current())
    del spec["version"], spec["name"]
    loaded = from_spec(_write(tmp_path, spec, "linux-x86_64.json"))
    assert loaded.name == "linux-x86_64"


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        (
            lambda s: s["marker_environment"].pop("sys_platform"),
            "marker_environment.sys_platform",
            "missing",
        ),
        (
            lambda s: s["marker_environment"].update(os_name=3),
            "marker_environment.os_name",
            "expected a string",
        ),
        (
            lambda s: s["marker_environment"].update(flavour="x"),
            "marker_environment.flavour",
            "not a PEP 508",
        ),
        (
            lambda s: s["marker_environment"].update(python_full_version="3.10.1"),
            "marker_environment.python_full_version",
            "does not match",
        ),
        (lambda s: s.pop("compatible_tags"), "compatible_tags", "missing"),
        (
            lambda s: s.update(compatible_tags="cp311-cp311-linux_x86_64"),
            "compatible_tags",
            "expected an array",
        ),
        (lambda s: s.update(compatible_tags=[]), "compatible_tags", "empty"),
        (
            lambda s: s["compatible_tags"].insert(1, "cp311-cp311"),
            "compatible_tags[1]",
            "not a wheel tag",
        ),
        (
            lambda s: s["compatible_tags"].insert(2, "cp311--any"),
            "compatible_tags[2]",
            "not a wheel tag",
        ),
        (lambda s: s["compatible_tags"].insert(0, 7), "compatible_tags[0]", "expected a string"),
        (
            lambda s: s["compatible_tags"].insert(0, "py2.py3-none-any"),
            "compatible_tags[0]",
            "compressed",
        ),
        (
            lambda s: s["compatible_tags"].append(s["compatible_tags"][0]),
            "compatible_tags[",
            "listed twice",
        ),
        (lambda s: s.update(version=2), "version", "not supported"),
        (lambda s: s.update(version="1"), "version", "expected an integer"),
        (lambda s: s.update(name=""), "name", "non-empty"),
        (lambda s: s.update(tags=[]), "tags", "unknown key"),
    ],
)
def test_invalid_spec_names_file_and_field(tmp_path: Path, change: Any, field: str, why: str) -> None:
    spec = to_spec(target.current())
    change(spec)
    path = _write(tmp_path, spec)
    with pytest.raises(TargetError) as caught:
        from_spec(path)
    assert caught.value.file == str(path)
    assert (caught.value.field or "").startswith(field)
    assert why in caught.value.why
    assert caught.value.hint


def test_spec_that_is_not_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "{not json")
    with pytest.raises(TargetError, match="malformed JSON at line 1"):
        from_spec(path)


def test_spec_that_is_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="expected a JSON object"):
        from_spec(_write(tmp_path, [1, 2]))


def test_missing_spec(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not found"):
        from_spec(tmp_path / "absent.json")


# --- choosing ----------------------------------------------------------------------------------


def test_resolve_target_refuses_both(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        resolve_target(sys.executable, tmp_path / "spec.json")


def test_resolve_target_defaults_to_this_interpreter() -> None:
    assert resolve_target(None, None).tags == tuple(sys_tags())


def test_resolve_target_reads_a_spec(tmp_path: Path) -> None:
    spec = to_spec(Target(name="tiny", environment=dict(default_environment()), tags=(Tag("py3", "none", "any"),)))
    chosen = resolve_target(None, _write(tmp_path, spec))
    assert chosen.name == "tiny"
    assert chosen.tags == (Tag("py3", "none", "any"),)


def test_resolve_target_introspects_python() -> None:
    chosen = resolve_target(sys.executable, None)
    assert chosen.interpreter is not None
    assert chosen.tags == tuple(sys_tags())
