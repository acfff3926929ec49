"""Where a selection goes: this interpreter, another interpreter, or a machine a spec describes.

A :class:`~lading.model.Target` is a PEP 508 marker environment plus the wheel tags the target
accepts, best first. For another interpreter, ``_introspect.py`` runs inside it and reports raw
facts; the tags are then computed here with ``packaging.tags``'s public functions, because its
platform detection (glibc, musl, macOS version) only ever looks at the running process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import packaging
from packaging import tags as ptags
from packaging.markers import default_environment
from packaging.tags import Tag
from packaging.version import InvalidVersion, Version

from lading.errors import TargetError, UsageError
from lading.install.paths import InstallPaths
from lading.model import Target

#: The keys of a PEP 508 marker environment, all required in a platform spec.
MARKER_KEYS: tuple[str, ...] = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "platform_python_implementation",
    "python_version",
    "sys_platform",
)
SPEC_VERSION = 1
_TIMEOUT = 60.0
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
# packaging's own manylinux checks accept these architectures without looking at the ELF header.
_MANYLINUX_ARCHS = frozenset(
    {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"}
)
_ELF_I386 = 3
_ELF_ARM = 40


def _linux_tag_first() -> bool:
    # packaging 26.3 moved the native linux_<arch> tag ahead of manylinux/musllinux; follow the
    # installed packaging so that a target computed here equals its sys_tags().
    try:
        return Version(packaging.__version__) >= Version("26.3")
    except InvalidVersion:  # pragma: no cover - packaging's own version always parses
        return True


# --- this interpreter -----------------------------------------------------------------------------


def current() -> Target:
    """The interpreter running lading."""
    environment = {key: str(value) for key, value in default_environment().items()}
    return Target(
        name=_describe(environment, sys.executable),
        environment=environment,
        tags=tuple(ptags.sys_tags()),
        interpreter=sys.executable,
    )


def _describe(environment: Mapping[str, str], where: Optional[str]) -> str:
    text = (
        f"{environment['platform_python_implementation']} {environment['python_full_version']} "
        f"on {environment['sys_platform']} {environment['platform_machine']}"
    )
    return f"{text} ({where})" if where else text


# --- another interpreter --------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What ``_introspect.py`` reports, checked for shape."""

    executable: str
    environment: Mapping[str, str]
    version: tuple[int, int]
    implementation: str
    py_version_nodot: Optional[str]
    ext_suffix: Optional[str]
    py_debug: Optional[int]
    gil_disabled: bool
    with_pymalloc: Optional[int]
    has_gettotalrefcount: bool
    extension_suffixes: tuple[str, ...]
    sysconfig_platform: str
    pointer_bits: int
    glibc: Optional[tuple[int, int]]
    musl: Optional[tuple[int, int]]
    elf: Optional[Mapping[str, Any]]
    mac: Optional[Mapping[str, str]]
    emscripten: Optional[str]
    ios: Optional[Mapping[str, str]]
    android_api_level: Optional[int]


_CACHE: dict[tuple[str, int], Target] = {}
_RAW: dict[tuple[str, int], tuple[Any, Facts]] = {}


def from_interpreter(python: str) -> Target:
    """Introspect the interpreter PYTHON (a path, or a name on PATH) and compute its target."""
    key, _, facts = _introspected(python)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    target = Target(
        name=_describe(facts.environment, python),
        environment=dict(facts.environment),
        tags=tags_for(facts),
        interpreter=key[0],
    )
    _CACHE[key] = target
    return target


def interpreter(python: str) -> Interpreter:
    """Where PYTHON installs (prefix, scheme paths, cache tag, PEP 668), from the same single
    introspection run as :func:`from_interpreter` (both are cached per executable)."""
    key, data, facts = _introspected(python)
    return parse_interpreter(data, key[0], facts)


def target_for(found: Interpreter) -> Target:
    """The target of an install destination's interpreter; a venv made by lading shares its
    origin's markers and tags, so its origin's (cached) introspection answers for it."""
    if found.origin is None:
        return from_interpreter(str(found.executable))
    base = current() if str(found.origin) == sys.executable else from_interpreter(str(found.origin))
    return replace(
        base,
        name=_describe(base.environment, str(found.executable)),
        interpreter=str(found.executable),
    )


def current_interpreter() -> Interpreter:
    """The interpreter running lading, observed in-process (no subprocess)."""
    from lading import _introspect

    data = _introspect.facts()
    executable = sys.executable
    return parse_interpreter(data, executable, parse_facts(data, executable))


def _introspected(python: str) -> tuple[tuple[str, int], Any, Facts]:
    executable = _locate(python)
    try:
        mtime = os.stat(executable).st_mtime_ns
    except OSError as exc:
        raise TargetError(
            f"cannot be read: {exc.strerror}", file=executable, field="--python"
        ) from exc
    key = (executable, mtime)
    cached = _RAW.get(key)
    if cached is None:
        data = _run_introspection(executable)
        cached = (data, parse_facts(data, executable))
        _RAW[key] = cached
    return key, cached[0], cached[1]


# --- where an interpreter installs ----------------------------------------------------------------

_LAYOUT_KEYS = ("purelib", "platlib", "scripts", "data", "include")


@dataclass(frozen=True)
class Interpreter:
    """A live interpreter as an install destination: what it is and where its files go.

    ``paths`` is its own scheme (a venv's, or the system one); the ``*_layout`` mappings are scheme
    paths relative to a base directory, so that ``--prefix``, ``--target`` and a venv that does not
    exist yet can be placed without asking the interpreter again.
    """

    executable: Path
    version: tuple[int, int]
    full_version: str
    implementation: str
    cache_tag: Optional[str]
    prefix: Path
    base_prefix: Path
    is_venv: bool
    stdlib: Path
    paths: InstallPaths
    externally_managed: Optional[str]  # the PEP 668 marker's text; None when not marked (or a venv)
    prefix_layout: Mapping[str, str]
    home_layout: Mapping[str, str]
    venv_layout: Mapping[str, str]
    scripts_suffix: str = ""
    origin: Optional[Path] = None  # for a venv lading just made: the interpreter it was made from


    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def describe(self) -> str:
        name = "CPython" if self.implementation == "cpython" else self.implementation
        return f"{name} {self.full_version} ({self.executable})"

    def for_prefix(self, prefix: Path) -> InstallPaths:
        """pip's ``--prefix PREFIX``: this interpreter's prefix scheme with PREFIX as its base."""
        return _paths_from_layout(self.prefix_layout, prefix, headers_site=None)

    def for_target(self, target: Path) -> InstallPaths:
        """pip's ``--target DIR``: libraries straight into DIR, the rest of a ``--home`` scheme below it."""
        home = _paths_from_layout(self.home_layout, target, headers_site=None)
        return InstallPaths(
            purelib=target, platlib=target, scripts=home.scripts, data=target, headers=home.headers
        )

    def for_venv(self, venv: Path) -> InstallPaths:
        """The scheme of a venv at VENV made from this interpreter."""
        return _paths_from_layout(self.venv_layout, venv, headers_site=(venv, self.version_text))

    def venv_interpreter(self, venv: Path) -> Interpreter:
        """This interpreter as seen from a venv at VENV made from it (no need to ask it again)."""
        paths = self.for_venv(venv)
        name = f"python{self.scripts_suffix}"
        return Interpreter(
            executable=paths.scripts / name,
            version=self.version,
            full_version=self.full_version,
            implementation=self.implementation,
            cache_tag=self.cache_tag,
            prefix=venv,
            base_prefix=self.base_prefix,
            is_venv=True,
            stdlib=self.stdlib,
            paths=paths,
            externally_managed=None,
            prefix_layout=self.venv_layout,
            home_layout=self.home_layout,
            venv_layout=self.venv_layout,
            scripts_suffix=self.scripts_suffix,
            origin=self.executable,
        )


def _paths_from_layout(
    layout: Mapping[str, str], base: Path, headers_site: Optional[tuple[Path, str]]
) -> InstallPaths:
    def where(key: str) -> Path:
        return base / layout[key]

    # pip puts a venv's headers in <venv>/include/site/pythonX.Y (the base interpreter's include dir
    # is not the venv's); ``headers`` is the directory a distribution's header dir goes into.
    headers = (
        headers_site[0] / "include" / "site" / f"python{headers_site[1]}"
        if headers_site
        else where("include")
    )
    return InstallPaths(
        purelib=where("purelib"),
        platlib=where("platlib"),
        scripts=where("scripts"),
        data=where("data"),
        headers=headers,
    )


def parse_interpreter(data: Any, executable: str, facts: Facts) -> Interpreter:
    """The ``install`` part of the introspection answer, checked for shape like :func:`parse_facts`."""

    def fail(field: str, why: str) -> TargetError:
        return TargetError(
            f"unexpected introspection answer: install.{field}: {why}",
            file=executable,
            field="--python",
            hint="report this with the interpreter's `python -VV` output",
        )

    install = data.get("install") if isinstance(data, dict) else None
    if not isinstance(install, dict):
        raise fail("(top)", "missing or not an object")

    def text(key: str, optional: bool = False) -> Optional[str]:
        value = install.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise fail(key, "expected a non-empty string")
        return value

    def layout(key: str) -> dict[str, str]:
        value = install.get(key)
        if not isinstance(value, dict):
            raise fail(key, "expected an object")
        for name in _LAYOUT_KEYS:
            if not isinstance(value.get(name), str):
                raise fail(f"{key}.{name}", "missing or not a string")
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}

    paths = layout("paths")
    prefix = Path(str(text("prefix")))
    is_venv = install.get("is_venv") is True
    headers = (
        prefix / "include" / "site" / f"python{facts.version[0]}.{facts.version[1]}"
        if is_venv
        else Path(paths["include"])
    )
    marker = install.get("externally_managed")
    return Interpreter(
        executable=Path(facts.executable),
        version=facts.version,
        full_version=str(text("python_full_version")),
        implementation=facts.implementation,
        cache_tag=text("cache_tag", optional=True),
        prefix=prefix,
        base_prefix=Path(str(text("base_prefix"))),
        is_venv=is_venv,
        stdlib=Path(str(text("stdlib"))),
        paths=InstallPaths(
            purelib=Path(paths["purelib"]),
            platlib=Path(paths["platlib"]),
            scripts=Path(paths["scripts"]),
            data=Path(paths["data"]),
            headers=headers,
        ),
        externally_managed=marker if isinstance(marker, str) and not is_venv else None,
        prefix_layout=layout("prefix_layout"),
        home_layout=layout("home_layout"),
        venv_layout=layout("venv_layout"),
        scripts_suffix=str(install.get("scripts_suffix") or ""),
    )


def _locate(python: str) -> str:
    hint = "give the path of a Python executable, or a name on PATH such as python3.12"
    if os.sep in python or (os.altsep and os.altsep in python):
        candidate = Path(python).expanduser()
        if not candidate.exists():
            raise TargetError("interpreter not found", file=python, field="--python", hint=hint)
        if candidate.is_dir():
            raise TargetError(
                "is a directory, not an interpreter",
                file=python,
                field="--python",
                hint="give the python executable, e.g. .venv/bin/python",
            )
        if not os.access(candidate, os.X_OK):
            raise TargetError("is not executable", file=python, field="--python", hint=hint)
        return str(candidate.absolute())
    found = shutil.which(python)
    if found is None:
        raise TargetError("interpreter not found on PATH", file=python, field="--python", hint=hint)
    return found


def _run_introspection(executable: str) -> Any:
    script = resources.files("lading").joinpath("_introspect.py").read_text(encoding="utf-8")
    # -I: no user site, no PYTHON* variables, no script directory; -S: no site-packages (and no .pth
    # code); -B: write no bytecode anywhere.
    command = [executable, "-I", "-S", "-B", "-c", script]
    hint = "is this a Python 3.8+ interpreter? try running it with --version"
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise TargetError(
            f"did not answer within {_TIMEOUT:.0f} s", file=executable, field="--python", hint=hint
        ) from exc
    except OSError as exc:
        raise TargetError(
            f"cannot be run: {exc.strerror or exc}", file=executable, field="--python", hint=hint
        ) from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = err[-1] if err else f"exit status {done.returncode}"
        raise TargetError(
            f"introspection failed: {last}", file=executable, field="--python", hint=hint
        )
    try:
        return json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TargetError(
            "did not answer as a Python interpreter (no JSON facts)",
            file=executable,
            field="--python",
            hint=hint,
        ) from exc


def parse_facts(data: Any, executable: str) -> Facts:
    """Check the shape of the introspection answer; anything odd is a TargetError, never a crash."""

    def fail(field: str, why: str) -> TargetError:
        return TargetError(
            f"unexpected introspection answer: {field}: {why}",
            file=executable,
            field="--python",
            hint="report this with the interpreter's `python -VV` output",
        )

    if not isinstance(data, dict):
        raise fail("(top)", "not an object")

    def get(key: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
        value = data.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) and kind is int:
            raise fail(key, "expected a number")
        if not isinstance(value, kind):
            raise fail(
                key, f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}"
            )
        return value

    environment = get("marker_environment", dict)
    for key in MARKER_KEYS:
        if not isinstance(environment.get(key), str):
            raise fail(f"marker_environment.{key}", "missing or not a string")
    version = get("version_info", list)
    if len(version) < 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in version):
        raise fail("version_info", "expected [major, minor]")
    suffixes = get("extension_suffixes", list)
    elf = get("elf", dict, optional=True)
    return Facts(
        executable=get("executable", str),
        environment={k: environment[k] for k in MARKER_KEYS},
        version=(version[0], version[1]),
        implementation=get("implementation_name", str),
        py_version_nodot=_optional_str(data.get("py_version_nodot")),
        ext_suffix=_optional_str(data.get("ext_suffix")),
        py_debug=_optional_int(data.get("py_debug")),
        gil_disabled=bool(data.get("py_gil_disabled")),
        with_pymalloc=_optional_int(data.get("with_pymalloc")),
        has_gettotalrefcount=bool(data.get("has_gettotalrefcount")),
        extension_suffixes=tuple(str(s) for s in suffixes),
        sysconfig_platform=get("sysconfig_platform", str),
        pointer_bits=get("pointer_bits", int),
        glibc=_version_pair(data.get("glibc")),
        musl=_version_pair(data.get("musl")),
        elf=elf,
        mac=get("mac", dict, optional=True),
        emscripten=_optional_str(data.get("emscripten")),
        ios=get("ios", dict, optional=True),
        android_api_level=_optional_int(data.get("android_api_level")),
    )


def _optional_str(value: object) -> Optional[str]:
    return None if value is None else str(value)


def _optional_int(value: object) -> Optional[int]:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _version_pair(value: object) -> Optional[tuple[int, int]]:
    if not isinstance(value, str):
        return None
    match = re.match(r"(\d+)\.(\d+)", value)
    return (int(match.group(1)), int(match.group(2))) if match else None


# --- tags from facts ------------------------------------------------------------------------------


def tags_for(facts: Facts) -> tuple[Tag, ...]:
    """The tags ``packaging.tags.sys_tags()`` would give inside that interpreter, best first."""
    platforms = list(platforms_for(facts))
    if not platforms:
        # packaging's tag functions fall back to the *running* platform on an empty list.
        raise TargetError(
            "no platform tags could be derived",
            file=facts.executable,
            field="--python",
            hint="report this with the interpreter's facts",
        )
    name = ptags.INTERPRETER_SHORT_NAMES.get(facts.implementation) or facts.implementation
    nodot = facts.py_version_nodot or f"{facts.version[0]}{facts.version[1]}"
    found: list[Tag] = []
    if name == "cp":
        found.extend(
            ptags.cpython_tags(
                python_version=facts.version, abis=cpython_abis(facts), platforms=platforms
            )
        )
    else:
        found.extend(
            ptags.generic_tags(
                interpreter=f"{name}{nodot}", abis=generic_abis(facts), platforms=platforms
            )
        )
    interpreter = "pp3" if name == "pp" else f"cp{nodot}" if name == "cp" else None
    found.extend(
        ptags.compatible_tags(
            python_version=facts.version, interpreter=interpreter, platforms=platforms
        )
    )
    return tuple(found)


def cpython_abis(facts: Facts) -> list[str]:
    """CPython's own ABI tags (cp311, cp313t, cp37m, cp311d + cp311), as packaging derives them."""
    version = facts.version
    nodot = f"{version[0]}{version[1]}"
    debug = threading = pymalloc = ""
    if facts.py_debug or (
        facts.py_debug is None
        and (facts.has_gettotalrefcount or "_d.pyd" in facts.extension_suffixes)
    ):
        debug = "d"
    if version >= (3, 13) and facts.gil_disabled:
        threading = "t"
    abis: list[str] = []
    if version < (3, 8):
        if facts.with_pymalloc or facts.with_pymalloc is None:
            pymalloc = "m"
    elif debug:
        # A debug build also loads regular extension modules.
        abis.append(f"cp{nodot}{threading}")
    abis.insert(0, f"cp{nodot}{threading}{debug}{pymalloc}")
    return abis


def generic_abis(facts: Facts) -> list[str]:
    """The ABI named by EXT_SUFFIX (pypy39_pp73, graalpy_38_native), as packaging reads it."""
    suffix = facts.ext_suffix
    if not suffix or not suffix.startswith("."):
        raise TargetError(
            f"invalid EXT_SUFFIX {suffix!r}",
            file=facts.executable,
            field="--python",
            hint="this interpreter's sysconfig is broken; report it",
        )
    parts = suffix.split(".")
    if len(parts) < 3:
        return cpython_abis(facts)
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        abi = "cp" + pieces[1] if len(pieces) > 1 and pieces[1] else ""
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize(abi)] if abi else []


def platforms_for(facts: Facts) -> Iterator[str]:
    system = facts.environment["platform_system"]
    is_32bit = facts.pointer_bits == 32
    if system == "Darwin":
        yield from _mac(facts, is_32bit)
    elif system == "iOS" and facts.ios:
        release = _version_pair(facts.ios.get("release")) or (0, 0)
        yield from ptags.ios_platforms(release, facts.ios.get("multiarch", ""))
    elif system == "Android" and facts.android_api_level is not None:
        abi = facts.sysconfig_platform.split("-")[-1]
        yield from ptags.android_platforms(facts.android_api_level, abi)
    elif system == "Linux":
        yield from _linux(facts, is_32bit)
    elif system == "Emscripten":
        if facts.emscripten:
            yield f"pyemscripten_{facts.emscripten}_wasm32"
        yield _normalize(facts.sysconfig_platform)
    else:
        yield _normalize(facts.sysconfig_platform)


def _mac(facts: Facts, is_32bit: bool) -> Iterator[str]:
    mac = facts.mac or {}
    version = _version_pair(mac.get("release"))
    arch = mac.get("machine") or facts.environment["platform_machine"]
    if version is None:
        yield _normalize(facts.sysconfig_platform)
        return
    if is_32bit:
        arch = "ppc" if arch.startswith("ppc") else "i386"
    yield from ptags.mac_platforms(version, arch)


def _linux(facts: Facts, is_32bit: bool) -> Iterator[str]:
    linux = _normalize(facts.sysconfig_platform)
    if not linux.startswith("linux_"):
        yield linux
        return
    if is_32bit:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    glibc = facts.glibc if _manylinux_abi_ok(facts.elf, _archs(arch)) else None
    yield from linux_platforms(arch, glibc=glibc, musl=facts.musl)


def _archs(arch: str) -> list[str]:
    return ["armv8l", "armv7l"] if arch == "armv8l" else [arch]


def _manylinux_abi_ok(elf: Optional[Mapping[str, Any]], archs: Sequence[str]) -> bool:
    """packaging's check that a 32-bit interpreter really is i686 / hard-float ARM."""
    if "armv7l" in archs or "i686" in archs:
        if elf is None or elf.get("capacity") != 32 or elf.get("encoding") != "lsb":
            return False
        if "i686" in archs:
            return bool(elf.get("machine") == _ELF_I386)
        flags = elf.get("flags")
        if not isinstance(flags, int):
            return False
        return bool(
            elf.get("machine") == _ELF_ARM
            and flags & 0xFF000000 == 0x05000000
            and flags & 0x00000400 == 0x00000400
        )
    return any(arch in _MANYLINUX_ARCHS for arch in archs)


def linux_platforms(
    arch: str,
    glibc: Optional[tuple[int, int]] = None,
    musl: Optional[tuple[int, int]] = None,
) -> list[str]:
    """Platform tags of a Linux machine with this glibc or musl, in packaging's order.

    ``arch`` is the ``linux_<arch>`` suffix (``x86_64``, ``aarch64``, ``armv8l``...). manylinux goes
    down to glibc 2.5 on x86, 2.17 elsewhere, with the legacy manylinux1/2010/2014 aliases.
    """
    archs = _archs(arch)
    native = [f"linux_{a}" for a in archs]
    many = list(_manylinux(archs, glibc)) if glibc else []
    musllinux = (
        [f"musllinux_{musl[0]}_{minor}_{a}" for a in archs for minor in range(musl[1], -1, -1)]
        if musl
        else []
    )
    if _linux_tag_first():
        return native + many + musllinux
    return many + musllinux + native


def _manylinux(archs: Sequence[str], glibc: tuple[int, int]) -> Iterator[str]:
    oldest = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
    maxima = [glibc]
    # glibc promises compatibility across major versions; a future major's predecessor is assumed
    # to end at minor 50, as packaging assumes.
    maxima.extend((major, 50) for major in range(glibc[0] - 1, 1, -1))
    for arch in archs:
        for major, top in maxima:
            bottom = oldest[1] if major == oldest[0] else -1
            for minor in range(top, bottom, -1):
                yield f"manylinux_{major}_{minor}_{arch}"
                legacy = _LEGACY_MANYLINUX.get((major, minor))
                if legacy:
                    yield f"{legacy}_{arch}"


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


# --- platform spec files --------------------------------------------------------------------------


def to_spec(target: Target) -> dict[str, Any]:
    """A platform spec (JSON-ready) describing TARGET, for ``--platform`` on another machine."""
    missing = [key for key in MARKER_KEYS if key not in target.environment]
    if missing:
        raise TargetError(
            f"target {target.name} has no {missing[0]!r} marker value",
            field=f"marker_environment.{missing[0]}",
            hint="a spec needs every PEP 508 marker variable; write it from a live interpreter",
        )
    return {
        "version": SPEC_VERSION,
        "name": target.name,
        "marker_environment": {key: target.environment[key] for key in MARKER_KEYS},
        "compatible_tags": [str(tag) for tag in target.tags],
    }


def from_spec(path: Path) -> Target:
    """Read a platform spec; pex's complete-platform files (no version, no name) are accepted."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TargetError(
            "platform spec not found",
            file=path,
            field="--platform",
            hint="create one on the target machine with `lading target`",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot be read: {exc}", file=path, field="--platform") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TargetError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            file=path,
            hint=_SPEC_HINT,
        ) from exc
    return spec_target(data, path)


_SPEC_HINT = "re-create it on the target machine with `lading target --python PY > spec.json`"
_TAG_SHAPE = re.compile(r"^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$")
_SPEC_KEYS = frozenset({"version", "name", "marker_environment", "compatible_tags"})


def spec_target(data: Any, path: Path) -> Target:
    def fail(field: Optional[str], why: str) -> TargetError:
        return TargetError(why, file=path, field=field, hint=_SPEC_HINT)

    if not isinstance(data, dict):
        raise fail(None, "expected a JSON object")
    unknown = sorted(set(data) - _SPEC_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (expected {', '.join(sorted(_SPEC_KEYS))})")
    version = data.get("version", SPEC_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        raise fail("version", "expected an integer")
    if version != SPEC_VERSION:
        raise fail(
            "version", f"spec version {version} is not supported (lading reads {SPEC_VERSION})"
        )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "expected a non-empty string")
    environment = _spec_environment(data.get("marker_environment"), fail)
    tags = _spec_tags(data.get("compatible_tags"), fail)
    return Target(name=name, environment=environment, tags=tags, interpreter=None)


def _spec_environment(value: object, fail: Any) -> dict[str, str]:
    if value is None:
        raise fail("marker_environment", "missing")
    if not isinstance(value, dict):
        raise fail("marker_environment", "expected an object")
    for key in value:
        if key not in MARKER_KEYS:
            raise fail(f"marker_environment.{key}", "not a PEP 508 marker variable")
    for key in MARKER_KEYS:
        if key not in value:
            raise fail(f"marker_environment.{key}", "missing")
        if not isinstance(value[key], str):
            raise fail(f"marker_environment.{key}", "expected a string")
    full, short = value["python_full_version"], value["python_version"]
    if not re.match(r"^\d+\.\d+$", short):
        raise fail("marker_environment.python_version", f"{short!r} is not MAJOR.MINOR")
    if full != short and not full.startswith(short + "."):
        raise fail(
            "marker_environment.python_full_version",
            f"{full!r} does not match python_version {short!r}",
        )
    return {key: value[key] for key in MARKER_KEYS}


def _spec_tags(value: object, fail: Any) -> tuple[Tag, ...]:
    if value is None:
        raise fail("compatible_tags", "missing")
    if not isinstance(value, list):
        raise fail("compatible_tags", "expected an array of tag strings")
    if not value:
        raise fail("compatible_tags", "empty: no wheel could ever match")
    tags: list[Tag] = []
    seen: set[Tag] = set()
    for i, text in enumerate(value):
        field = f"compatible_tags[{i}]"
        if not isinstance(text, str):
            raise fail(field, "expected a string")
        if not _TAG_SHAPE.match(text):
            raise fail(field, f"{text!r} is not a wheel tag (INTERPRETER-ABI-PLATFORM)")
        try:
            parsed = ptags.parse_tag(text)
        except ValueError as exc:
            raise fail(field, f"{text!r} is not a wheel tag: {exc}") from exc
        if len(parsed) != 1:
            raise fail(
                field, f"{text!r} is a compressed tag set; list one tag per entry, best first"
            )
        [tag] = parsed
        if tag in seen:
            raise fail(field, f"{text!r} is listed twice")
        seen.add(tag)
        tags.append(tag)
    return tuple(tags)


# --- the command line's choice --------------------------------------------------------------------


def resolve_target(python: Optional[str], platform: Optional[Path]) -> Target:
    """``--python`` / ``--platform`` / neither (this interpreter)."""
    if python is not None and platform is not None:
        raise UsageError(
            "--python and --platform cannot be used together",
            field="--platform",
            hint="give an interpreter to introspect, or a spec describing the machine",
        )
    if python is not None:
        return from_interpreter(python)
    if platform is not None:
        return from_spec(platform)
    return current()
