"""Build tiny, valid wheels and sdists inside tests (no setuptools, flit or network).

``make_wheel`` writes a spec-conforming wheel (dist-info with METADATA, WHEEL, RECORD with sha256 and size,
optional entry_points.txt and ``.data`` directories). ``make_sdist`` writes an sdist whose pyproject.toml
points at a tiny stdlib-only PEP 517 backend shipped inside the sdist (``backend-path``), so a build needs
no network. ``zip_entries`` / ``record_text`` / ``write_zip`` are the low-level pieces for hostile wheels.

Archives are reproducible: fixed timestamps, sorted entries (dist-info last, RECORD very last).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import textwrap
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Union

DATE_TIME = (2020, 2, 2, 0, 0, 0)
EPOCH = 1580601600  # 2020-02-02T00:00:00Z

Entry = tuple[Union[str, zipfile.ZipInfo], bytes]


def normalize(name: str) -> str:
    """PEP 503 normalized name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_name(name: str) -> str:
    """The name as used in wheel file names and the dist-info directory (PEP 427 escaping)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def zip_info(name: str, *, mode: int = 0o644, kind: int = 0o100000) -> zipfile.ZipInfo:
    """A ZipInfo with a fixed date and unix permissions (``kind`` 0o120000 makes a symlink entry)."""
    info = zipfile.ZipInfo(name, date_time=DATE_TIME)
    info.external_attr = (kind | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    return info


def record_text(entries: Iterable[Entry], record_name: str) -> bytes:
    """RECORD lines (``path,sha256=...,size``) for the entries, plus the RECORD line with empty hash."""
    lines = []
    for name, data in entries:
        path = name.filename if isinstance(name, zipfile.ZipInfo) else name
        lines.append(f"{path},{record_hash(data)},{len(data)}")
    lines.append(f"{record_name},,")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_zip(path: Path, entries: Sequence[Entry]) -> Path:
    """Write entries in the given order (duplicates allowed, for hostile-wheel tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zip_info(name)
            archive.writestr(info, data)
    return path


def metadata_text(name: str, version: str, requires: Sequence[str] = (), summary: str = "test package") -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def wheel_text(purelib: bool, tag: str, generator: str = "wheelmaker 1.0") -> bytes:
    lines = ["Wheel-Version: 1.0", f"Generator: {generator}", f"Root-Is-Purelib: {'true' if purelib else 'false'}"]
    lines += [f"Tag: {one}" for one in expand_tag(tag)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def expand_tag(tag: str) -> list[str]:
    interpreters, abis, platforms = tag.split("-")
    return [
        f"{i}-{a}-{p}" for i in interpreters.split(".") for a in abis.split(".") for p in platforms.split(".")
    ]


def entry_points_text(entry_points: Mapping[str, Mapping[str, str]]) -> bytes:
    out = []
    for group in sorted(entry_points):
        out.append(f"[{group}]")
        out += [f"{key} = {value}" for key, value in sorted(entry_points[group].items())]
        out.append("")
    return "\n".join(out).encode("utf-8")


def wheel_entries(
    name: str,
    version: str,
    files: Optional[Mapping[str, bytes]] = None,
    *,
    entry_points: Optional[Mapping[str, Mapping[str, str]]] = None,
    data: Optional[Mapping[str, Mapping[str, bytes]]] = None,
    purelib: bool = True,
    tag: str = "py3-none-any",
    requires: Sequence[str] = (),
    executable: Iterable[str] = (),
    dist_info_files: Optional[Mapping[str, bytes]] = None,
) -> tuple[list[Entry], str]:
    """The members of a wheel (without RECORD) and the RECORD path; see ``make_wheel``."""
    stem = f"{dist_name(name)}-{version}"
    dist_info = f"{stem}.dist-info"
    if files is None:
        package = dist_name(name)
        files = {f"{package}/__init__.py": f"__version__ = {version!r}\n".encode()}
    executables = set(executable)
    entries: list[Entry] = []
    for path in sorted(files):
        entries.append((zip_info(path, mode=0o755 if path in executables else 0o644), files[path]))
    for key in sorted(data or {}):
        for path in sorted((data or {})[key]):
            full = f"{stem}.data/{key}/{path}"
            mode = 0o755 if key == "scripts" or full in executables else 0o644
            entries.append((zip_info(full, mode=mode), (data or {})[key][path]))
    meta: dict[str, bytes] = {
        "METADATA": metadata_text(name, version, requires),
        "WHEEL": wheel_text(purelib, tag),
    }
    if entry_points:
        meta["entry_points.txt"] = entry_points_text(entry_points)
    meta.update(dist_info_files or {})
    for filename in sorted(meta):
        entries.append((zip_info(f"{dist_info}/{filename}"), meta[filename]))
    return entries, f"{dist_info}/RECORD"


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Optional[Mapping[str, bytes]] = None,
    *,
    entry_points: Optional[Mapping[str, Mapping[str, str]]] = None,
    data: Optional[Mapping[str, Mapping[str, bytes]]] = None,
    purelib: bool = True,
    tag: str = "py3-none-any",
    requires: Sequence[str] = (),
    executable: Iterable[str] = (),
    dist_info_files: Optional[Mapping[str, bytes]] = None,
    build: Optional[str] = None,
) -> Path:
    """Write ``<directory>/<name>-<version>[-<build>]-<tag>.whl`` and return its path.

    ``files``: archive path -> bytes for the wheel root (default: ``<name>/__init__.py`` with ``__version__``).
    ``entry_points``: ``{"console_scripts": {"tool": "pkg.cli:main"}}``.
    ``data``: ``{"scripts": {"tool": b"#!python\\n..."}, "data": {"share/x.txt": b"..."}, "headers": ...,
    "purelib": ..., "platlib": ...}`` placed under ``<name>-<version>.data/<key>/``.
    ``purelib``: Root-Is-Purelib. ``tag``: compressed tag set, e.g. ``cp311-cp311-manylinux_2_17_x86_64``.
    ``executable``: archive paths stored with mode 0755 (``.data/scripts`` files always are).
    ``dist_info_files``: extra (or replacement) files in the dist-info directory.
    """
    entries, record = wheel_entries(
        name,
        version,
        files,
        entry_points=entry_points,
        data=data,
        purelib=purelib,
        tag=tag,
        requires=requires,
        executable=executable,
        dist_info_files=dist_info_files,
    )
    entries.append((zip_info(record), record_text(entries, record)))
    build_part = f"-{build}" if build else ""
    filename = f"{dist_name(name)}-{version}{build_part}-{tag}.whl"
    return write_zip(Path(directory) / filename, entries)


# --- sdists with an in-tree PEP 517 backend -------------------------------------------------------------------

_BACKEND = '''\
"""A tiny stdlib-only PEP 517/660 backend for tests: packs the listed top-level paths into a wheel."""
import base64, hashlib, json, os, tarfile, zipfile

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(_HERE, "wheelmaker.json")) as _f:
    CONFIG = json.load(_f)
_DIST = CONFIG["dist_name"]
_STEM = _DIST + "-" + CONFIG["version"]
_TIME = (2020, 2, 2, 0, 0, 0)


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return list(CONFIG["build_requires"])


def get_requires_for_build_editable(config_settings=None):
    return list(CONFIG["build_requires"])


def get_requires_for_build_sdist(config_settings=None):
    return []


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + CONFIG["name"], "Version: " + CONFIG["version"]]
    lines += ["Requires-Dist: " + r for r in CONFIG["requires"]]
    return ("\\n".join(lines) + "\\n\\n").encode()


def _dist_info_files():
    files = {
        "METADATA": _metadata(),
        "WHEEL": ("Wheel-Version: 1.0\\nGenerator: wheelmaker-backend\\nRoot-Is-Purelib: true\\n"
                  "Tag: py3-none-any\\n").encode(),
    }
    groups = CONFIG["entry_points"]
    if groups:
        text = ""
        for group in sorted(groups):
            text += "[" + group + "]\\n"
            for key in sorted(groups[group]):
                text += key + " = " + groups[group][key] + "\\n"
        files["entry_points.txt"] = text.encode()
    return files


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = _STEM + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for name, data in _dist_info_files().items():
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as f:
            f.write(data)
    return dist_info


def _write_wheel(directory, members):
    name = _STEM + "-py3-none-any.whl"
    dist_info = _STEM + ".dist-info"
    for key, data in sorted(_dist_info_files().items()):
        members.append((dist_info + "/" + key, data))
    record = "".join("%s,%s,%d\\n" % (path, _hash(data), len(data)) for path, data in members)
    record += dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=_TIME)
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    members = []
    for top in CONFIG["packages"]:
        base = os.path.join(_HERE, top)
        if os.path.isfile(base):
            with open(base, "rb") as f:
                members.append((top, f.read()))
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for file in sorted(files):
                full = os.path.join(root, file)
                with open(full, "rb") as f:
                    members.append((os.path.relpath(full, _HERE).replace(os.sep, "/"), f.read()))
    return _write_wheel(wheel_directory, members)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [("_" + _DIST + "_editable.pth", (_HERE + "\\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    name = _STEM + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        for root, dirs, files in os.walk(_HERE):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for file in sorted(files):
                full = os.path.join(root, file)
                archive.add(full, _STEM + "/" + os.path.relpath(full, _HERE).replace(os.sep, "/"))
    return name
'''


def sdist_members(
    name: str,
    version: str,
    files: Optional[Mapping[str, bytes]] = None,
    *,
    entry_points: Optional[Mapping[str, Mapping[str, str]]] = None,
    requires: Sequence[str] = (),
    build_requires: Sequence[str] = (),
) -> dict[str, bytes]:
    """The files of the sdist's project tree (relative paths, without the ``<name>-<version>/`` prefix)."""
    package = dist_name(name)
    if files is None:
        files = {f"{package}/__init__.py": f"__version__ = {version!r}\n".encode()}
    tops = sorted({path.split("/", 1)[0] for path in files})
    config = {
        "name": name,
        "dist_name": package,
        "version": version,
        "requires": list(requires),
        "build_requires": list(build_requires),
        "entry_points": {group: dict(values) for group, values in (entry_points or {}).items()},
        "packages": tops,
    }
    pyproject = textwrap.dedent(
        f"""\
        [build-system]
        requires = {json.dumps(list(build_requires))}
        build-backend = "wheelmaker_backend"
        backend-path = ["_backend"]

        [project]
        name = "{name}"
        version = "{version}"
        dependencies = {json.dumps(list(requires))}
        """
    )
    members = dict(files)
    members["pyproject.toml"] = pyproject.encode()
    members["wheelmaker.json"] = (json.dumps(config, indent=1, sort_keys=True) + "\n").encode()
    members["_backend/wheelmaker_backend.py"] = _BACKEND.encode()
    members["PKG-INFO"] = metadata_text(name, version, requires)
    return members


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    files: Optional[Mapping[str, bytes]] = None,
    *,
    entry_points: Optional[Mapping[str, Mapping[str, str]]] = None,
    requires: Sequence[str] = (),
    build_requires: Sequence[str] = (),
) -> Path:
    """Write ``<directory>/<name>-<version>.tar.gz`` built by a stdlib-only in-tree PEP 517/660 backend.

    ``files``: project-relative path -> bytes (default ``<name>/__init__.py``); every top-level entry of
    ``files`` is packed into the wheel. ``build_requires`` are returned by ``get_requires_for_build_wheel``
    and written in ``[build-system] requires`` (they are not imported by the backend).
    """
    members = sdist_members(
        name, version, files, entry_points=entry_points, requires=requires, build_requires=build_requires
    )
    stem = f"{dist_name(name)}-{version}"
    path = Path(directory) / f"{stem}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for relative in sorted(members):
            info = tarfile.TarInfo(f"{stem}/{relative}")
            info.size = len(members[relative])
            info.mtime = EPOCH
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(members[relative]))
    with open(path, "wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", mtime=EPOCH, filename="") as gz:
        gz.write(raw.getvalue())
    return path
