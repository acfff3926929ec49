"""Run inside a target interpreter (``python -I -S -B -c <this text>``): print its facts as JSON.

Standard library only, and nothing newer than Python 3.8 can run (``from __future__ import
annotations`` keeps the type hints unevaluated), since it runs under whatever interpreter the user
names. lading turns the facts into markers and tags with ``packaging``; this script only observes.
"""

from __future__ import annotations

import json
import os
import platform
import struct
import subprocess
import sys
import sysconfig
from typing import Any, Optional

_PT_INTERP = 3


def _full_version(info: Any) -> str:
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def _config_var(name: str) -> Optional[object]:
    value = sysconfig.get_config_var(name)
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def _glibc_version() -> Optional[str]:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        text = None
    if not text:
        try:
            import ctypes

            process = ctypes.CDLL(None)
            get_version = process.gnu_get_libc_version
            get_version.restype = ctypes.c_char_p
            text = str(get_version().decode("ascii"))
        except Exception:
            return None
    parts = text.split()
    return parts[-1] if parts else None


def _elf(path: str) -> Optional[dict[str, Any]]:
    """The header facts packaging's manylinux/musllinux checks read from the executable."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return None
            capacity, encoding = bytearray(head[4:6])
            order = "<" if encoding == 1 else ">"
            if capacity == 1:
                fields = struct.unpack(order + "HHIIIIIHHHHHH", head[16:52])
                phoff, flags, phentsize, phnum = fields[4], fields[6], fields[8], fields[9]
                entry_format = order + "IIIIIIII"
            else:
                fields = struct.unpack(order + "HHIQQQIHHHHHH", head[16:64])
                phoff, flags, phentsize, phnum = fields[4], fields[6], fields[8], fields[9]
                entry_format = order + "IIQQQQQQ"
            machine = fields[1]
            interpreter = None
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                raw = f.read(struct.calcsize(entry_format))
                if len(raw) < struct.calcsize(entry_format):
                    break
                entry = struct.unpack(entry_format, raw)
                if entry[0] != _PT_INTERP:
                    continue
                offset, size = (entry[1], entry[4]) if capacity == 1 else (entry[2], entry[5])
                f.seek(offset)
                interpreter = f.read(size).rstrip(b"\0").decode("utf-8", "replace")
                break
    except (OSError, struct.error, ValueError):
        return None
    return {
        "capacity": 32 if capacity == 1 else 64,
        "encoding": "lsb" if encoding == 1 else "msb",
        "machine": machine,
        "flags": flags,
        "interpreter": interpreter,
    }


def _musl_version(elf: Optional[dict[str, Any]]) -> Optional[str]:
    loader = elf and elf.get("interpreter")
    if not loader or "musl" not in loader:
        return None
    try:
        process = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = process.communicate()
    except OSError:
        return None
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return None
    words = lines[1].split()
    if len(words) < 2 or words[0] != "Version":
        return None
    return words[1]


def _mac_version() -> dict[str, str]:
    release, _, machine = platform.mac_ver()
    if release.split(".")[:2] == ["10", "16"]:
        # Built against an old SDK, macOS reports 10.16; ask again without the compatibility shim.
        env = dict(os.environ)
        env["SYSTEM_VERSION_COMPAT"] = "0"
        try:
            out = subprocess.Popen(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                stdout=subprocess.PIPE,
                env=env,
            ).communicate()[0]
            release = out.decode("ascii", "replace").strip() or release
        except OSError:
            pass
    return {"release": release, "machine": machine}


_SENTINEL = os.path.join(os.path.abspath(os.sep), "lading-layout-base")
# What pip sets to its --prefix / --home value when it asks sysconfig for a scheme.
_BASE_KEYS = ("base", "platbase", "installed_base", "installed_platbase", "prefix", "exec_prefix", "userbase")
_MARKER_LIMIT = 65536


def _venv_prefix() -> Optional[str]:
    """The venv this interpreter belongs to, found as ``site`` would find it (we run with ``-S``)."""
    if sys.prefix != sys.base_prefix:
        return sys.prefix
    if hasattr(sys, "real_prefix"):  # pragma: no cover - legacy virtualenv < 20
        return sys.prefix
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    site_prefix = os.path.dirname(exe_dir)
    for candidate in (exe_dir, site_prefix):
        if os.path.isfile(os.path.join(candidate, "pyvenv.cfg")):
            return site_prefix
    return None


def _schemes() -> tuple[str, ...]:
    return tuple(sysconfig.get_scheme_names())


def _venv_scheme() -> str:
    # 3.11+ names it; before that the venv module hard-codes the prefix layout.
    if "venv" in _schemes():
        return "venv"
    return "nt" if os.name == "nt" else "posix_prefix"


def _preferred(key: str) -> Optional[str]:
    get = getattr(sysconfig, "get_preferred_scheme", None)
    if get is None:
        return None
    try:
        return str(get(key))
    except (KeyError, ValueError):
        return None


def _prefix_scheme(in_venv: bool) -> str:
    """The scheme pip uses for ``--prefix`` (pip's ``_infer_prefix``), as seen from inside the venv."""
    if in_venv:
        return _venv_scheme()
    name = _preferred("prefix")
    if name is None:
        available = _schemes()
        for candidate in (
            sys.implementation.name + "_" + os.name,
            sys.implementation.name,
            os.name + "_prefix",
            os.name,
        ):
            if candidate in available:
                name = candidate
                break
        else:
            name = "posix_prefix"
    # pip: a custom prefix never uses the framework layout of Apple's command line tools python.
    return "posix_prefix" if name == "osx_framework_library" else name


def _home_scheme() -> str:
    name = _preferred("home")
    if name is not None:
        return name
    candidate = os.name + "_home"
    return candidate if candidate in _schemes() else os.name


def _layout(scheme: str) -> dict[str, str]:
    """SCHEME's paths relative to its base (the --prefix / --home / venv dir), absolute if outside it."""
    variables = {key: _SENTINEL for key in _BASE_KEYS}
    paths = sysconfig.get_paths(scheme=scheme, vars=variables)
    result: dict[str, str] = {}
    for key, value in paths.items():
        relative = os.path.relpath(value, _SENTINEL)
        result[key] = value if relative.startswith(os.pardir) else relative
    return result


def _externally_managed(stdlib: str) -> Optional[str]:
    """The text of the PEP 668 marker beside the standard library, None when there is none."""
    try:
        with open(os.path.join(stdlib, "EXTERNALLY-MANAGED"), "rb") as f:
            return f.read(_MARKER_LIMIT).decode("utf-8", "replace")
    except OSError:
        return None


def install_facts() -> dict[str, Any]:
    """Where this interpreter installs: prefixes, venv-ness, scheme paths and layouts, PEP 668."""
    venv = _venv_prefix()
    if venv is not None and venv != sys.prefix:
        paths = sysconfig.get_paths(scheme=_venv_scheme(), vars={"base": venv, "platbase": venv})
        prefix = venv
    else:
        paths = sysconfig.get_paths()
        prefix = sys.prefix
    stdlib = sysconfig.get_paths()["stdlib"]
    return {
        "prefix": prefix,
        "base_prefix": sys.base_prefix,
        "is_venv": venv is not None,
        "cache_tag": sys.implementation.cache_tag,
        "python_full_version": platform.python_version(),
        "paths": paths,
        "stdlib": stdlib,
        "externally_managed": None if venv is not None else _externally_managed(stdlib),
        "prefix_scheme": _prefix_scheme(venv is not None),
        "prefix_layout": _layout(_prefix_scheme(venv is not None)),
        "home_layout": _layout(_home_scheme()),
        "venv_layout": _layout(_venv_scheme()),
        "scripts_suffix": ".exe" if os.name == "nt" else "",
    }


def facts() -> dict[str, Any]:
    implementation = sys.implementation
    system = platform.system()
    result: dict[str, Any] = {
        "executable": sys.executable,
        "marker_environment": {
            "implementation_name": implementation.name,
            "implementation_version": _full_version(implementation.version),
            "os_name": os.name,
            "platform_machine": platform.machine(),
            "platform_release": platform.release(),
            "platform_system": system,
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform,
        },
        "version_info": list(sys.version_info[:2]),
        "implementation_name": implementation.name,
        "py_version_nodot": _config_var("py_version_nodot"),
        "soabi": _config_var("SOABI"),
        "ext_suffix": _config_var("EXT_SUFFIX"),
        "py_debug": _config_var("Py_DEBUG"),
        "py_gil_disabled": _config_var("Py_GIL_DISABLED"),
        "with_pymalloc": _config_var("WITH_PYMALLOC"),
        "has_gettotalrefcount": hasattr(sys, "gettotalrefcount"),
        "extension_suffixes": _extension_suffixes(),
        "sysconfig_platform": sysconfig.get_platform(),
        "pointer_bits": struct.calcsize("P") * 8,
        "maxsize_64bit": sys.maxsize > 2**32,
        "glibc": None,
        "musl": None,
        "elf": None,
        "mac": None,
        "emscripten": _config_var("PYEMSCRIPTEN_PLATFORM_VERSION"),
        "ios": None,
        "android_api_level": None,
    }
    if system == "Linux":
        result["glibc"] = _glibc_version()
        elf = _elf(sys.executable)
        result["elf"] = elf
        result["musl"] = _musl_version(elf)
    elif system == "Darwin":
        result["mac"] = _mac_version()
    elif system == "iOS":
        result["ios"] = {
            "release": getattr(platform, "ios_ver")()[1],  # noqa: B009 - 3.13+ only
            "multiarch": getattr(implementation, "_multiarch", ""),
        }
    elif system == "Android":
        result["android_api_level"] = getattr(platform, "android_ver")().api_level  # noqa: B009
    result["install"] = install_facts()
    return result


def _extension_suffixes() -> list[str]:
    try:
        import importlib.machinery

        return list(importlib.machinery.EXTENSION_SUFFIXES)
    except ImportError:
        return []


def main() -> None:
    sys.stdout.write(json.dumps(facts()))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
