"""``lading build deb``: a Debian package holding the application's venv under ``/opt/venvs/<name>``.

No debhelper and no ``dpkg-deb``: the package is written directly (an ar archive of ``debian-binary``,
``control.tar.gz`` and ``data.tar.xz``) from a staging tree, with the deterministic tar writer, so the
same lock gives the same bytes. What goes in:

- ``/opt/venvs/<name>/``: the venv, built for that path (:mod:`lading.artifacts.venvpack`), bytecode
  compiled and valid after unpacking, the SBOM as ``lading-sbom.cdx.json``;
- ``/usr/bin/<script>``: symbolic links to the project's own scripts in the venv (not its dependencies',
  unless asked for with ``scripts_of``);
- ``/usr/share/doc/<name>/copyright`` (each distribution's license as its metadata declares it) and
  ``changelog.gz``; ``/usr/share/lintian/overrides/<name>`` for what is inherent to a venv in /opt;
- ``DEBIAN/control`` (Package, Version, Architecture from the wheels' tags, Maintainer, Installed-Size,
  Depends on the Python the venv was built with plus ``--depends``, Section, Priority, Homepage,
  Description from the project's metadata) and ``md5sums``; a ``postrm`` only when some module has no
  bytecode (then Python may write ``__pycache__`` files at run time that dpkg does not know about).

The venv's ``bin/python`` links to the base interpreter by absolute path, so the package is built with
the Debian system Python (``/usr/bin/python3``) by default and depends on that Python's minor version.
"""

from __future__ import annotations

import email.parser
import gzip
import hashlib
import io
import os
import re
import shutil
import tempfile
import textwrap
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, Optional, Union

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lading.artifacts import _tar
from lading.artifacts.venvpack import Prepared, Source, prepare, scripts_of
from lading.errors import LadingError, UsageError
from lading.install.installed import InstalledDist
from lading.progress import Progress

INSTALL_ROOT = "/opt/venvs"
DEFAULT_PYTHON = "/usr/bin/python3"
_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_VERSION = re.compile(r"(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*")
_MAIL = re.compile(r"[^<>@\s]+@[^<>@\s]+")
_MACHINES = {
    "x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "i386", "i486": "i386",
    "i586": "i386", "i686": "i386", "armv7l": "armhf", "armv6l": "armel", "ppc64le": "ppc64el", "ppc64": "ppc64",
    "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64el", "loongarch64": "loong64",
}


@dataclass(frozen=True)
class DebOptions:
    source: Source
    output_dir: Path
    name: Optional[str] = None  # default: the project's name
    version: Optional[str] = None  # default: the project's version, in Debian's syntax
    maintainer: Optional[str] = None  # default: DEBFULLNAME/DEBEMAIL, else the project's metadata
    depends: tuple[str, ...] = ()
    section: str = "misc"
    scripts_of: tuple[str, ...] = ()  # distributions whose scripts are linked into /usr/bin besides the project
    epoch: Optional[int] = None  # default: SOURCE_DATE_EPOCH, else 1980-01-01


@dataclass(frozen=True)
class BuiltDeb:
    path: Path
    size: int
    sha256: str
    package: str
    version: str
    architecture: str
    control: str
    links: tuple[str, ...]  # /usr/bin names
    maintainer_scripts: tuple[str, ...]
    prepared: Prepared
    notes: tuple[str, ...]
    seconds: float


# --- names and versions --------------------------------------------------------------------------------------


def debian_name(name: str) -> str:
    """A Debian package name for a Python project name: lower case, ``_`` and other signs become ``-``."""
    candidate = re.sub(r"[^a-z0-9+.-]+", "-", name.lower()).strip("-.+")
    if not _NAME.fullmatch(candidate):
        raise UsageError(f"{name!r} cannot be made a Debian package name", field="--name",
                         hint="give --name with lower-case letters, digits and '+-.' (at least two characters)")
    return candidate


def debian_version(version: str) -> str:
    """A PEP 440 version in Debian's syntax, ordered the same way.

    ``1.0.0rc1`` -> ``1.0.0~rc1``, ``1.0.dev3`` -> ``1.0~~dev3``, ``1.0rc1.dev2`` -> ``1.0~rc1~dev2``,
    ``1.0.post2`` -> ``1.0+post2``, ``2!1.0`` -> ``2:1.0``, ``1.0+local.1`` -> ``1.0+local.1``.
    """
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise UsageError(f"the version {version!r} is not a PEP 440 version", field="--version",
                         hint="give --version in Debian's syntax") from None
    out = ".".join(str(part) for part in parsed.release)
    if parsed.pre is not None:
        out += f"~{parsed.pre[0]}{parsed.pre[1]}"
    if parsed.post is not None:
        out += f"+post{parsed.post}"
    if parsed.dev is not None:
        # a development release sorts before everything else with the same release (and pre-release)
        out += f"{'~' if parsed.pre is not None or parsed.post is not None else '~~'}dev{parsed.dev}"
    if parsed.local is not None:
        out += f"+{parsed.local}"
    if parsed.epoch:
        out = f"{parsed.epoch}:{out}"
    return out


def check_debian_version(version: str) -> str:
    if not _VERSION.fullmatch(version):
        raise UsageError(f"{version!r} is not a Debian version", field="--version",
                         hint="start with a digit; use letters, digits and '.+~-' (an epoch as 'N:')")
    return version


def architecture(dists: Iterable[InstalledDist], has_native_code: bool, machine: str) -> str:
    """``all`` when every wheel is pure (``Tag: ...-any``) and nothing native is inside; else the Debian name
    of the wheels' platform (``manylinux_2_17_x86_64`` -> ``amd64``) or of the build machine."""
    platforms: set[str] = set()
    for dist in dists:
        for tag in _wheel_tags(dist):
            platform = tag.rsplit("-", 1)[-1]
            if platform != "any":
                platforms.add(platform)
    arches = set()
    for platform in platforms:
        for known in sorted(_MACHINES, key=len, reverse=True):
            if platform.endswith("_" + known) or platform == known:
                arches.add(_MACHINES[known])
                break
        else:
            raise LadingError(f"no Debian architecture for the wheel platform {platform!r}",
                              hint="only Linux wheels can go into a .deb")
    if len(arches) > 1:
        raise LadingError(f"the wheels are for several architectures ({', '.join(sorted(arches))})",
                          hint="lock (or select) the wheels of one architecture")
    if arches:
        return arches.pop()
    if has_native_code:
        if machine not in _MACHINES:
            raise LadingError(f"no Debian architecture for the machine {machine!r}")
        return _MACHINES[machine]
    return "all"


def _wheel_tags(dist: InstalledDist) -> list[str]:
    try:
        text = (dist.dist_info / "WHEEL").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("tag:")]


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def libc_depends(dists: Iterable[InstalledDist], has_native_code: bool) -> Optional[str]:
    """``libc6 (>= 2.17)``: the newest glibc any native wheel needs (a wheel needs the oldest of its own
    manylinux tags); plain ``libc6`` for native code without a manylinux tag; None for pure Python."""
    needed: Optional[tuple[int, int]] = None
    native = has_native_code
    for dist in dists:
        own: Optional[tuple[int, int]] = None
        for tag in _wheel_tags(dist):
            platform = tag.rsplit("-", 1)[-1]
            if platform == "any":
                continue
            native = True
            found = re.match(r"manylinux_(\d+)_(\d+)_", platform)
            legacy = _LEGACY_MANYLINUX.get(platform.split("_", 1)[0])
            version = (int(found.group(1)), int(found.group(2))) if found else legacy
            if version is not None and (own is None or version < own):
                own = version
        if own is not None and (needed is None or own > needed):
            needed = own
    if needed is not None:
        return f"libc6 (>= {needed[0]}.{needed[1]})"
    return "libc6" if native else None


def python_depends(base: str, version: tuple[int, int]) -> Optional[str]:
    """The Debian dependency that provides the venv's base interpreter, or None when it is not Debian's."""
    major, minor = version
    if base in (f"/usr/bin/python{major}", "/usr/bin/python"):
        return f"python{major} (>= {major}.{minor}~), python{major} (<< {major}.{minor + 1})"
    if base == f"/usr/bin/python{major}.{minor}":
        return f"python{major}.{minor}"
    return None


def metadata(dist: InstalledDist) -> Message:
    try:
        with open(dist.dist_info / "METADATA", encoding="utf-8", errors="replace") as handle:
            return email.parser.HeaderParser().parse(handle)
    except OSError:
        return Message()


def maintainer_from(environ: Mapping[str, str], meta: Optional[Message]) -> Optional[str]:
    """``Name <mail>`` from DEBFULLNAME/DEBEMAIL (as Debian's tools read them), else the project's metadata."""
    mail = environ.get("DEBEMAIL", "").strip()
    if mail:
        if "<" in mail:
            return mail
        name = environ.get("DEBFULLNAME", "").strip()
        return f"{name} <{mail}>" if name else mail
    if meta is None:
        return None
    for name_field, mail_field in (("Maintainer", "Maintainer-email"), ("Author", "Author-email")):
        value = (meta.get(mail_field) or "").split(",")[0].strip()
        if not value:
            continue
        found = _MAIL.search(value)
        if found is None:
            continue
        person = value[: value.find("<")].strip().strip('"') if "<" in value else ""
        person = person or (meta.get(name_field) or "").strip() or found.group(0).split("@")[0]
        return f"{person} <{found.group(0)}>"
    return None


def check_maintainer(value: str) -> str:
    if not re.fullmatch(r"[^<>\n]+ <[^<>@\s]+@[^<>@\s]+>", value.strip()):
        raise UsageError(f"{value!r} is not 'Full Name <address>'", field="--maintainer",
                         hint="for example --maintainer 'Jane Doe <jane@example.org>'")
    return value.strip()


# --- control files -------------------------------------------------------------------------------------------


def description(summary: str, body: Sequence[str]) -> str:
    """The Description field: a synopsis line and an extended description (lines start with a space)."""
    lines = [f"Description: {summary}"]
    for i, paragraph in enumerate(body):
        if i:
            lines.append(" .")
        lines += [f" {line}" for line in textwrap.wrap(paragraph, 78)]
    return "\n".join(lines)


def synopsis(summary: str, package: str) -> str:
    text = " ".join(summary.split()).rstrip(".")
    if not text:
        return f"Python application {package}"
    if len(text) > 79:
        text = text[:76].rstrip() + "..."
    return text


def control_text(fields: Sequence[tuple[str, str]]) -> str:
    return "".join(f"{key}: {value}\n" if key != "Description" else value + "\n" for key, value in fields)


def installed_size(root: Path) -> int:
    """In KiB as dpkg-gencontrol counts: each file rounded up to a KiB, one per directory and link."""
    total = 0
    for member in _tar.walk(root):
        total += (member.size + 1023) // 1024 if member.kind == "file" else 1
    return total


def md5sums(root: Path) -> str:
    lines = []
    for member in _tar.walk(root):
        if member.kind != "file":
            continue
        digest = hashlib.md5(usedforsecurity=False)  # what dpkg's md5sums file holds
        with open(root / member.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {member.path}\n")
    return "".join(lines)


def changelog(package: str, version: str, maintainer: str, epoch: int, lock: str) -> bytes:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    t = time.gmtime(epoch)
    date = f"{days[t.tm_wday]}, {t.tm_mday:02d} {months[t.tm_mon - 1]} {t.tm_year} " \
           f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    text = (f"{package} ({version}) unstable; urgency=medium\n\n"
            f"  * Built by lading from {lock}.\n\n"
            f" -- {maintainer}  {date}\n")
    return gzip_bytes(text.encode("utf-8"))


def gzip_bytes(data: bytes) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return raw.getvalue()


def copyright_text(dists: Sequence[InstalledDist], run_at: str) -> str:
    lines = [
        f"This package holds a Python virtual environment at {run_at} built by lading.",
        "The distributions in it and their licenses, as their own metadata declares them (the license",
        "texts the distributions ship are in their .dist-info directories):",
        "",
    ]
    for dist in dists:
        lines.append(f"{dist.project_name} {dist.version}: {license_of(metadata(dist))}")
    return "\n".join(lines) + "\n"


def license_of(meta: Message) -> str:
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    if classifiers:
        return ", ".join(classifiers)
    text = (meta.get("License") or "").strip().splitlines()
    if text and text[0].strip() and text[0].strip().upper() != "UNKNOWN":
        return text[0].strip()[:100]
    return "not declared"


LINTIAN_OVERRIDES = """\
# The application lives in a Python virtual environment under /opt/venvs, as dh-virtualenv's packages do:
# its libraries are private to it and must not collide with Debian's own python3-* packages.
dir-or-file-in-opt
# The bytecode is compiled when the package is built and is valid for the files as dpkg unpacks them, so
# Python never writes into the venv at run time and dpkg -r removes everything the package installed.
package-installs-python-bytecode
package-installs-python-pycache-dir
"""

LINTIAN_NATIVE = """\
# The venv holds the wheels' own compiled extensions and the libraries they bundle (manylinux wheels),
# byte for byte as published (their RECORD hashes them): the versions the lock pins, private to this venv.
embedded-library
unstripped-binary-or-object
"""

POSTRM = """\
#!/bin/sh
# Python writes bytecode at run time for the modules that had none when the package was built; dpkg
# does not know those files, so they are removed here with the directories dpkg had to leave.
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
    if [ -d {venv} ]; then
        find {venv} -depth -type d -name __pycache__ -exec rm -rf {{}} +
        find {venv} -depth -type d -empty -delete
    fi
    # dpkg could not remove the parent while the venv was still there
    rmdir --ignore-fail-on-non-empty {parent} 2>/dev/null || true
fi
exit 0
"""


# --- the ar archive ------------------------------------------------------------------------------------------


def write_ar(stream: IO[bytes], members: Sequence[tuple[str, Union[bytes, Path]]], mtime: int) -> None:
    """A System V ar archive as dpkg writes it: names padded to 16, mode 100644, owner 0, even padding.

    A member is given as bytes or as a file to copy (the data member of a large venv is not held in memory).
    """
    stream.write(b"!<arch>\n")
    for name, content in members:
        size = len(content) if isinstance(content, bytes) else content.stat().st_size
        stream.write(f"{name:<16}{mtime:<12}{0:<6}{0:<6}{0o100644:<8o}{size:<10}`\n".encode("ascii"))
        if isinstance(content, bytes):
            stream.write(content)
        else:
            with open(content, "rb") as handle:
                shutil.copyfileobj(handle, stream, 1 << 20)
        if size % 2:
            stream.write(b"\n")


# --- building ------------------------------------------------------------------------------------------------


def project_name_before_staging(source: Source) -> Optional[str]:
    """The project's name, read before anything is installed (the venv's path depends on it)."""
    from lading import locks
    from lading._toml import load_toml
    from lading.locks.detect import find

    found = find(source.path, source.lock)
    pyproject = found.path.parent / "pyproject.toml"
    if pyproject.is_file():
        data = load_toml(pyproject)
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return str(project["name"])
        poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
        if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
            return str(poetry["name"])
    lock = locks.read(found.path, found.format)
    for i, package in enumerate(lock.pylock.packages):
        if lock.is_project(i):
            return str(package.name)
    return None


def build_deb(options: DebOptions, progress: Optional[Progress] = None,
              environ: Optional[Mapping[str, str]] = None) -> BuiltDeb:
    env = os.environ if environ is None else environ
    started = time.monotonic()
    epoch = options.epoch if options.epoch is not None else _tar.source_date_epoch(env)
    if options.maintainer is not None:
        check_maintainer(options.maintainer)
    if options.version is not None:
        check_debian_version(options.version)
    for depends in options.depends:
        if not depends.strip() or "\n" in depends:
            raise UsageError(f"{depends!r} is not a dependency", field="--depends")
    raw_name = options.name or project_name_before_staging(options.source)
    if raw_name is None:
        raise UsageError("the lock does not name a project, so the package has no name", field="--name",
                         hint="give --name (and --version)")
    package = debian_name(raw_name)
    run_at = f"{INSTALL_ROOT}/{package}"
    output_dir = Path(os.path.abspath(options.output_dir))
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError("the output is not a directory", file=output_dir, field="-o",
                         hint="-o names the directory the .deb is written into")
    output_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".lading-deb-", suffix=".build", dir=output_dir))
    try:
        root = work / "root"
        venv = root / run_at.lstrip("/")
        venv.parent.mkdir(parents=True)
        prepared = prepare(options.source, venv, Path(run_at), epoch=epoch, progress=progress, environ=env,
                           name=package, version=options.version)
        if progress is not None:
            progress.phase("packing", 1)
        built = _assemble(options, prepared, package, run_at, root, work, output_dir, epoch, env, started)
        if progress is not None:
            progress.advance(items=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return built


def _assemble(options: DebOptions, prepared: Prepared, package: str, run_at: str, root: Path, work: Path,
              output_dir: Path, epoch: int, env: Mapping[str, str], started: float) -> BuiltDeb:
    staged = prepared.staged
    project = prepared.project
    meta = metadata(project) if project is not None else None
    notes: list[str] = []
    if options.version is not None:
        version = options.version
    elif project is not None:
        version = debian_version(project.version)
    else:
        raise UsageError("the lock does not name a project, so the package has no version", field="--version",
                         hint="give --version")
    maintainer = options.maintainer or maintainer_from(env, meta)
    if maintainer is None:
        raise UsageError("no maintainer: the project's metadata names no author e-mail and DEBEMAIL is unset",
                         field="--maintainer", hint="give --maintainer 'Full Name <address>'")
    check_maintainer(maintainer)

    # /usr/bin links to the project's scripts (and those of --scripts-of distributions)
    scripts_dir = staged.scripts
    wanted = [project] if project is not None else []
    by_name = {d.name: d for d in prepared.dists}
    for extra in options.scripts_of:
        dist = by_name.get(canonicalize_name(extra))
        if dist is None:
            raise UsageError(f"{extra} is not installed in the venv", field="--scripts-of",
                             hint="name a distribution the lock selects")
        wanted.append(dist)
    links: list[str] = []
    for dist in wanted:
        for script in scripts_of(dist, scripts_dir):
            if script.startswith(("python", "activate", "Activate")) or script in links:
                continue
            links.append(script)
    if wanted and not links:
        notes.append("the project installs no scripts: nothing is linked into /usr/bin")
    bin_dir = root / "usr" / "bin"
    for script in sorted(links):
        bin_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(f"{run_at}/bin/{script}", bin_dir / script)

    # documentation and lintian overrides
    doc = root / "usr" / "share" / "doc" / package
    doc.mkdir(parents=True)
    _write(doc / "copyright", copyright_text(prepared.dists, run_at).encode("utf-8"))
    native = "-" not in version
    lock_name = staged.result.found.path.name
    _write(doc / ("changelog.gz" if native else "changelog.Debian.gz"),
           changelog(package, version, maintainer, epoch, lock_name))
    has_native = any(m.kind == "file" and (m.path.endswith(".so") or ".so." in m.path) for m in _tar.walk(root))
    overrides = LINTIAN_OVERRIDES + (LINTIAN_NATIVE if has_native else "")
    lintian = root / "usr" / "share" / "lintian" / "overrides"
    lintian.mkdir(parents=True)
    _write(lintian / package, overrides.encode("utf-8"))

    interpreter = staged.result.destination.interpreter
    arch = architecture(prepared.dists, has_native,
                        staged.result.selection.target.environment.get("platform_machine", ""))
    depends = []
    python = python_depends(prepared.base_interpreter, interpreter.version)
    if python is None:
        notes.append(f"the venv's base interpreter {prepared.base_interpreter} is not Debian's python3: "
                     "no dependency on it is declared, and it must exist at that path where the package "
                     "is installed (build with --python /usr/bin/python3 for Debian's)")
    else:
        depends.append(python)
    libc = libc_depends(prepared.dists, has_native)
    if libc is not None:
        depends.append(libc)
    depends += [d.strip() for d in options.depends]

    summary = (meta.get("Summary") if meta is not None else None) or ""
    homepage = _homepage(meta)
    contents = ", ".join(f"{d.project_name} {d.version}" for d in prepared.dists)
    what = f"{project.project_name} {project.version}" if project is not None else package
    body = [
        f"{what} with the Python packages it needs, in a virtual environment at {run_at} "
        f"(Python {interpreter.full_version}), built by lading from {lock_name}.",
        f"Contents: {contents}.",
    ]
    fields: list[tuple[str, str]] = [
        ("Package", package), ("Version", version), ("Architecture", arch), ("Maintainer", maintainer),
        ("Installed-Size", str(installed_size(root))),
    ]
    if depends:
        fields.append(("Depends", ", ".join(depends)))
    fields += [("Section", options.section), ("Priority", "optional")]
    if homepage:
        fields.append(("Homepage", homepage))
    fields.append(("Description", description(synopsis(summary, package), body)))
    control = control_text(fields)

    control_dir = work / "control"
    control_dir.mkdir()
    _write(control_dir / "control", control.encode("utf-8"))
    _write(control_dir / "md5sums", md5sums(root).encode("utf-8"))
    scripts: list[str] = []
    if prepared.missing_bytecode:
        _write(control_dir / "postrm", POSTRM.format(venv=run_at, parent=INSTALL_ROOT).encode("utf-8"), mode=0o755)
        scripts.append("postrm")

    control_tar = _tar.tar_bytes(control_dir, "gz", prefix=".", mtime=epoch)
    data_file = work / "data.tar.xz"
    with open(data_file, "wb") as handle, _tar.compressed(handle, "xz") as out:
        _tar.write_tar(root, out, prefix=".", mtime=epoch)
    filename = f"{package}_{version.split(':', 1)[-1]}_{arch}.deb"
    target = output_dir / filename
    fd, temporary = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=output_dir)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as handle:
            write_ar(handle, [("debian-binary", b"2.0\n"), ("control.tar.gz", control_tar),
                              ("data.tar.xz", data_file)], epoch)
        with open(temporary, "rb") as reader:
            for block in iter(lambda: reader.read(1 << 20), b""):
                digest.update(block)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return BuiltDeb(
        path=target, size=target.stat().st_size, sha256=digest.hexdigest(), package=package, version=version,
        architecture=arch, control=control, links=tuple(sorted(links)), maintainer_scripts=tuple(scripts),
        prepared=prepared, notes=tuple(notes), seconds=round(time.monotonic() - started, 3),
    )


def _homepage(meta: Optional[Message]) -> Optional[str]:
    if meta is None:
        return None
    page = (meta.get("Home-page") or "").strip()
    if page.startswith(("http://", "https://")):
        return page
    for url in meta.get_all("Project-URL") or []:
        label, _, value = url.partition(",")
        if label.strip().lower().replace("-", "").replace(" ", "") in ("homepage", "home", "source") \
                and value.strip().startswith(("http://", "https://")):
            return value.strip()
    return None


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.write_bytes(data)
    os.chmod(path, mode)


__all__ = [
    "DEFAULT_PYTHON",
    "INSTALL_ROOT",
    "BuiltDeb",
    "DebOptions",
    "architecture",
    "build_deb",
    "check_debian_version",
    "check_maintainer",
    "debian_name",
    "debian_version",
    "libc_depends",
    "maintainer_from",
    "md5sums",
    "python_depends",
    "write_ar",
]
