"""The base image's Python, and a local interpreter of the same version to stage the lock with.

The base's files are read from its layers (later layers win, whiteouts delete): ``python3`` on the
config's ``PATH`` (then ``/usr/local/bin/python3``, ``/usr/bin/python3``), followed through its symlinks
to ``pythonX.Y``, confirmed by ``<prefix>/lib/pythonX.Y/os.py``. The full version comes from the
config's ``PYTHON_VERSION`` (the official images set it), dpkg's status file, or the version string
inside the interpreter. The C library (glibc's version from ``libc.so.6``, or musl) and the config's
architecture give the platform tags; the target is otherwise that of a local interpreter of the same
``X.Y`` (``--python``, pyenv's versions, ``pythonX.Y`` on PATH), which also compiles the bytecode.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Optional

from lading.artifacts.oci.layout import BaseImage
from lading.errors import LadingError, UsageError
from lading.model import Target

#: an image config's ``architecture`` -> ``platform.machine()`` on such a machine
MACHINE = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_WANTED = re.compile(
    r"^(?:usr/(?:local/)?bin/python3(?:\.\d+)?"  # interpreters
    r"|(?:usr/)?(?:local/)?lib(?:64)?/(?:[^/]+-linux-gnu[^/]*/)?libc\.so\.6"  # glibc
    r"|(?:usr/)?lib/ld-musl-[^/]+\.so\.1"  # musl
    r"|var/lib/dpkg/status|etc/passwd|etc/group|etc/os-release)$"
)
_CONTENT_LIMIT = 64 * 1024 * 1024


@dataclass
class BaseFiles:
    """What lading needs to know of the base's file tree: kinds and link targets, a few contents."""

    kinds: dict[str, str] = field(default_factory=dict)  # path (no leading /) -> "file" | "dir" | "link"
    links: dict[str, str] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)

    def resolve(self, path: str, depth: int = 0) -> Optional[str]:
        """``path`` with every symlink on the way followed, inside the image; None when missing."""
        if depth > 40:
            return None
        parts = [p for p in path.strip("/").split("/") if p and p != "."]
        done = ""
        for i, part in enumerate(parts):
            if part == "..":
                done = posixpath.dirname(done)
                continue
            candidate = f"{done}/{part}" if done else part
            if self.kinds.get(candidate) == "link":
                target = self.links[candidate]
                joined = target if target.startswith("/") else posixpath.join("/" + done, target)
                rest = "/".join(parts[i + 1:])
                return self.resolve(posixpath.normpath(joined) + ("/" + rest if rest else ""), depth + 1)
            if candidate not in self.kinds:
                return None
            done = candidate
        return done

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None


def scan(image: BaseImage, layer_indexes: Optional[Iterable[int]] = None) -> BaseFiles:
    """Walk the base's layers in order, applying whiteouts; keep the contents of the files named above."""
    files = BaseFiles()
    for i in (range(len(image.layers)) if layer_indexes is None else layer_indexes):
        descriptor = image.layers[i]
        with image.blobs.open(descriptor.digest) as raw:
            _scan_layer(_decompressed(raw, descriptor.media_type, image.where), files, image.where)
    return files


def _decompressed(raw: IO[bytes], media_type: str, where: str) -> IO[bytes]:
    if media_type.endswith("+zstd"):
        raise LadingError("the base image has zstd-compressed layers, which lading cannot read yet", file=where,
                          hint="convert it: skopeo copy --dest-compress-format gzip ...")
    return raw


def _scan_layer(raw: IO[bytes], files: BaseFiles, where: str) -> None:
    try:
        archive = tarfile.open(fileobj=raw, mode="r|*")  # noqa: SIM115 - closed below
    except (tarfile.TarError, zlib.error, OSError, EOFError) as exc:
        raise LadingError(f"a layer of the base image cannot be read: {exc}", file=where) from None
    try:
        for member in archive:
            path = posixpath.normpath("/" + member.name).lstrip("/")
            if not path:
                continue
            head, name = posixpath.split(path)
            if name == ".wh..wh..opq":
                prefix = head + "/"
                for key in [k for k in files.kinds if k.startswith(prefix)]:
                    _forget(files, key)
                continue
            if name.startswith(".wh."):
                gone = posixpath.join(head, name[4:])
                for key in [k for k in files.kinds if k == gone or k.startswith(gone + "/")]:
                    _forget(files, key)
                continue
            parent = posixpath.dirname(path)
            while parent and parent not in files.kinds:  # tars need not list every directory
                files.kinds[parent] = "dir"
                parent = posixpath.dirname(parent)
            if member.issym():
                files.kinds[path] = "link"
                files.links[path] = member.linkname
            elif member.islnk():
                target = posixpath.normpath(member.linkname.lstrip("/"))
                files.kinds[path] = files.kinds.get(target, "file")
                if target in files.contents:
                    files.contents[path] = files.contents[target]
            elif member.isdir():
                files.kinds[path] = "dir"
            else:
                files.kinds[path] = "file"
                files.contents.pop(path, None)
                if member.isfile() and member.size <= _CONTENT_LIMIT and _WANTED.match(path):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        files.contents[path] = handle.read()
    except (tarfile.TarError, zlib.error, OSError, EOFError) as exc:
        raise LadingError(f"a layer of the base image cannot be read: {exc}", file=where) from None
    finally:
        archive.close()


def _forget(files: BaseFiles, key: str) -> None:
    files.kinds.pop(key, None)
    files.links.pop(key, None)
    files.contents.pop(key, None)


# --- the base's interpreter ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BasePython:
    path: str  # what to run in the image (/usr/bin/python3.11): the venv's bin/python points here
    version: tuple[int, int]
    full_version: str
    architecture: str  # the config's (amd64)
    machine: str  # platform.machine() in the image (x86_64)
    glibc: Optional[tuple[int, int]]
    musl: Optional[tuple[int, int]]
    how: str  # how it was found, for the report

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def home(self) -> str:
        return posixpath.dirname(self.path)


def env_of(config: Mapping[str, object]) -> dict[str, str]:
    inner = config.get("config")
    values = inner.get("Env") if isinstance(inner, dict) else None
    out: dict[str, str] = {}
    for item in values if isinstance(values, list) else []:
        if isinstance(item, str) and "=" in item:
            key, _, value = item.partition("=")
            out[key] = value
    return out


def find_python(image: BaseImage, files: BaseFiles, override: Optional[str] = None) -> BasePython:
    env = env_of(image.config)
    architecture = image.architecture or "amd64"
    if override is not None:
        candidates = [(override, "--base-python")]
    else:
        dirs = [d for d in env.get("PATH", DEFAULT_PATH).split(":") if d.startswith("/")]
        candidates = [(f"{d.rstrip('/')}/python3", "PATH") for d in dirs]
        candidates += [("/usr/local/bin/python3", "default"), ("/usr/bin/python3", "default")]
    for candidate, how in candidates:
        resolved = files.resolve(candidate)
        if resolved is None or files.kinds.get(resolved) != "file":
            if override is not None:
                raise UsageError(f"{override} is not a file in the base image", field="--base-python")
            continue
        match = re.match(r"^python(\d+)\.(\d+)$", posixpath.basename(resolved))
        version: Optional[tuple[int, int]] = (int(match.group(1)), int(match.group(2))) if match else None
        prefix = posixpath.dirname(posixpath.dirname(resolved))
        if version is None:
            libs = sorted(k for k in files.kinds if re.match(rf"^{re.escape(prefix)}/lib/python3\.\d+/os\.py$", k))
            if len(libs) == 1:
                found = re.search(r"python(\d+)\.(\d+)/os\.py$", libs[0])
                assert found is not None
                version = (int(found.group(1)), int(found.group(2)))
        if version is None:
            continue
        if not files.exists(f"{prefix}/lib/python{version[0]}.{version[1]}/os.py"):
            if override is not None:
                raise LadingError(f"{override} has no standard library at {prefix}/lib/python{version[0]}."
                                  f"{version[1]}", field="--base-python")
            continue
        full = _full_version(version, env, files, resolved)
        glibc, musl = _libc(files)
        # the path as given (a name on PATH stays stable across patch releases), unless it is the bare
        # ``python3`` whose target may change: then the versioned file it points at
        path = candidate if re.search(r"python\d+\.\d+$", candidate) else "/" + resolved
        return BasePython(path, version, full, architecture, MACHINE.get(architecture, architecture), glibc, musl,
                          f"{how}: {candidate}")
    raise LadingError(
        "no Python interpreter found in the base image (looked for python3 on its PATH, "
        "/usr/local/bin/python3 and /usr/bin/python3)", file=image.where, field="--base",
        hint="choose a base image with Python 3, or name its interpreter with --base-python PATH",
    )


def _full_version(version: tuple[int, int], env: Mapping[str, str], files: BaseFiles, interpreter: str) -> str:
    short = f"{version[0]}.{version[1]}"
    declared = env.get("PYTHON_VERSION", "")
    if re.match(rf"^{re.escape(short)}\.\d+$", declared):
        return declared
    status = files.contents.get("var/lib/dpkg/status", b"").decode("utf-8", "replace")
    for stanza in status.split("\n\n"):
        if re.search(rf"^Package: (?:lib)?python{re.escape(short)}(?:-minimal)?$", stanza, re.M):
            found = re.search(rf"^Version: (?:\d+:)?({re.escape(short)}\.\d+)", stanza, re.M)
            if found:
                return found.group(1)
    data = files.contents.get(interpreter, b"")
    found_bytes = re.search(rb"\x00(" + re.escape(short).encode() + rb"\.\d+)\x00", data)
    if found_bytes:
        return found_bytes.group(1).decode()
    return short


def _libc(files: BaseFiles) -> tuple[Optional[tuple[int, int]], Optional[tuple[int, int]]]:
    for path, data in sorted(files.contents.items()):
        if path.endswith("libc.so.6"):
            banner = re.search(rb"release version (\d+)\.(\d+)", data)
            if banner:
                return (int(banner.group(1)), int(banner.group(2))), None
            symbols = [tuple(int(x) for x in m) for m in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)]
            if symbols:
                best = max(symbols)
                return (best[0], best[1]), None
    for path, data in sorted(files.contents.items()):
        if "ld-musl-" in path:
            found = re.search(rb"\x00(1)\.(\d+)\.\d+\x00", data)
            return None, (int(found.group(1)), int(found.group(2))) if found else (1, 2)
    return None, None


# --- a local interpreter and the target ------------------------------------------------------------------


def local_interpreter(version: tuple[int, int], python: Optional[str] = None,
                      environ: Optional[Mapping[str, str]] = None) -> str:
    """An interpreter here of the base's X.Y, to stage and compile with."""
    from lading.target import interpreter

    short = f"{version[0]}.{version[1]}"
    if python is not None:
        found = interpreter(python)
        if found.version != version:
            raise UsageError(f"--python {python} is Python {found.version_text}, the base image has {short}",
                             field="--python", hint=f"give a Python {short} interpreter")
        return str(found.executable)
    if sys.version_info[:2] == version:
        return sys.executable
    env = os.environ if environ is None else environ
    for root in _pyenv_roots(env):
        versions = Path(root) / "versions"
        if not versions.is_dir():
            continue
        matching = [p for p in versions.iterdir() if re.fullmatch(rf"{re.escape(short)}\.\d+", p.name)]
        for candidate in sorted(matching, key=lambda p: int(p.name.rsplit(".", 1)[1]), reverse=True):
            exe = candidate / "bin" / f"python{short}"
            if exe.is_file():
                return str(exe)
    which = shutil.which(f"python{short}", path=env.get("PATH"))
    if which:
        return which
    raise LadingError(
        f"the base image has Python {short}, and no Python {short} was found here to stage with",
        field="--base", hint=f"install Python {short} (pyenv install {short}) or name one with --python",
    )


def _pyenv_roots(env: Mapping[str, str]) -> list[str]:
    roots = [env["PYENV_ROOT"]] if env.get("PYENV_ROOT") else []
    pyenv = shutil.which("pyenv", path=env.get("PATH"))
    if pyenv:
        try:
            done = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=10)
            if done.returncode == 0 and done.stdout.strip():
                roots.append(done.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    roots.append(str(Path.home() / ".pyenv"))
    return list(dict.fromkeys(roots))


def base_target(base: BasePython, local: str) -> Target:
    """The target of the base's interpreter: the local one's facts with the base's version, machine and C
    library (so wheels are selected for the image, not for this machine)."""
    from lading import target as targets

    _key, _data, facts = targets._introspected(local)
    environment = dict(facts.environment)
    environment.update(python_full_version=base.full_version, implementation_version=base.full_version,
                       platform_machine=base.machine, platform_system="Linux", sys_platform="linux",
                       os_name="posix")
    facts = replace(facts, environment=environment, glibc=base.glibc, musl=base.musl,
                    sysconfig_platform=f"linux-{base.machine}", elf=facts.elf if base.machine ==
                    facts.environment.get("platform_machine") else None)
    tags = targets.tags_for(facts)
    name = f"CPython {base.full_version} on linux {base.machine} (base image {base.path})"
    return Target(name=name, environment=environment, tags=tags, interpreter=None)


__all__ = ["BaseFiles", "BasePython", "base_target", "env_of", "find_python", "local_interpreter", "scan"]
