"""requirements.txt as pip-compile, ``uv pip compile`` and ``uv export`` write it; plain pin lists.

A requirements file is a lock only when every entry is an exact pin with hashes; other entries
stay packages (so ``show`` can list them) with a ``deploy-error`` finding each. Index entries are
known by version and hash only, so their files are looked up on the index later (``PendingFiles``).
"""

from __future__ import annotations

import configparser
import functools
import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

from packaging.markers import (
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.pylock import Package, PackageArchive, PackageDirectory, PackageVcs, Pylock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lading import _fs
from lading._fs import file_url_path
from lading._toml import parse_toml, read_text
from lading.errors import LadingError, LockFormatError
from lading.locks import graph
from lading.locks.staleness import Freshness
from lading.model import (
    Finding,
    Index,
    Lock,
    Origin,
    PendingFiles,
    Source,
    expand_vars,
    pending_placeholder,
)

VCS_SCHEMES = ("git", "hg", "svn", "bzr")
ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")

_COMMENT = re.compile(r"(^|\s+)#.*$")
_HASH = re.compile(r"^([A-Za-z0-9_]+):([0-9A-Fa-f]+)$")
_COMMIT = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
_HINT = "regenerate the file (pip-compile --generate-hashes, uv export, uv pip compile)"

#: Options that take a value, by every spelling pip accepts; the value is the canonical long name.
_VALUE_OPTIONS = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-e": "--editable",
    "--editable": "--editable",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--no-binary": "--no-binary",
    "--only-binary": "--only-binary",
    "--use-feature": "--use-feature",
}
_FLAG_OPTIONS = (
    "--no-index",
    "--pre",
    "--prefer-binary",
    "--require-hashes",
    "--no-require-hashes",
    "--all-releases",
    "--only-final",
)
_REQUIREMENT_OPTIONS = ("--hash", "--config-settings", "-C", "--global-option")


@dataclass(frozen=True)
class _Line:
    file: Path
    number: int
    text: str

    @property
    def where(self) -> str:
        return f"line {self.number}"


@dataclass
class _Entry:
    """One requirement line, before it becomes a package."""

    line: _Line
    name: NormalizedName
    requirement: str
    specifier: SpecifierSet
    marker: Optional[Marker]
    extras: tuple[str, ...]
    hashes: list[str]
    location: Optional[str] = None  # URL or path of a direct reference
    editable: bool = False


@dataclass
class _Parsed:
    """Everything a requirements file and its includes say."""

    entries: list[_Entry] = field(default_factory=list)
    constraints: list[_Entry] = field(default_factory=list)
    index_url: Optional[str] = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    trusted_hosts: list[str] = field(default_factory=list)
    no_binary: list[str] = field(default_factory=list)
    only_binary: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    includes: list[Path] = field(default_factory=list)


def read(path: Path) -> Lock:
    parsed = parse(path)
    root = path.parent
    chosen: list[tuple[_Entry, Source, Optional[Version], bool]] = []
    findings: list[Finding] = []
    constraint_pins = _constraint_pins(parsed.constraints)
    for entry in parsed.entries:
        source, version, is_pending, notes = _resolve(entry, root, constraint_pins)
        findings.extend(notes)
        _add(chosen, entry, source, version, is_pending)

    packages: list[Package] = []
    origins: list[Origin] = []
    pending: dict[int, PendingFiles] = {}
    extras: dict[str, list[str]] = {}
    for i, (entry, source, version, is_pending) in enumerate(chosen):
        packages.append(Package(
            name=entry.name,
            version=version,
            marker=entry.marker,
            vcs=source if isinstance(source, PackageVcs) else None,
            directory=source if isinstance(source, PackageDirectory) else None,
            archive=source if isinstance(source, PackageArchive) else None,
        ))
        label = f"{entry.name} {version}" if version else str(entry.name)
        place = entry.line.where if entry.line.file == path else (
            f"{entry.line.file.name} {entry.line.where}"
        )
        origins.append(Origin(path, f"{place} ({label})"))
        if is_pending:
            pending[i] = PendingFiles(hashes=tuple(entry.hashes))
        if entry.extras:
            extras[entry.name] = list(entry.extras)

    indexes = ([Index(url=parsed.index_url)] if parsed.index_url else []) + [
        Index(url=url, extra=True) for url in parsed.extra_index_urls
    ]
    pylock = Pylock(
        lock_version=Version("1.0"),
        created_by=_creator(path),
        dependency_groups=[],
        default_groups=[],
        extras=[],
        packages=packages,
    )
    return Lock(
        path=path,
        format="requirements",
        pylock=pylock,
        origins=tuple(origins),
        indexes=tuple(indexes),
        pending=pending,
        findings=tuple(findings),
        manifest=manifest_of(path),
        meta={
            # Without --index-url the default index comes first and lock.indexes holds extras only.
            "index_url": parsed.index_url,
            "extra_index_urls": list(parsed.extra_index_urls),
            "no_index": "--no-index" in parsed.flags,
            "find_links": list(parsed.find_links),
            "trusted_hosts": list(parsed.trusted_hosts),
            "no_binary": list(parsed.no_binary),
            "only_binary": list(parsed.only_binary),
            "options": list(parsed.flags),
            "includes": [str(p) for p in parsed.includes],
            "extras": extras,
        },
    )


def manifest_of(path: Path) -> Optional[Path]:
    """``requirements.txt`` is compiled from ``requirements.in`` (``dev-requirements.in``, ...)."""
    if path.suffix != ".txt":
        return None
    candidate = path.with_suffix(".in")
    return candidate if candidate.is_file() else None


def _creator(path: Path) -> str:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2048]
    except OSError:  # pragma: no cover - the file was just read
        return "pip"
    if "pip-compile" in head:
        return "pip-tools"
    if "uv export" in head or "uv pip compile" in head:
        return "uv"
    return "pip"


# --- parsing ---


def parse(path: Path) -> _Parsed:
    parsed = _Parsed()
    _parse_file(path, parsed, constraint=False, stack=())
    return parsed


def _parse_file(path: Path, parsed: _Parsed, *, constraint: bool, stack: tuple[Path, ...]) -> None:
    parsed.includes.append(path)
    text = read_text(path)
    if "\x00" in text:
        # No requirement, option or path can hold one; left in, it reaches the OS as a path.
        number = text.count("\n", 0, text.index("\x00")) + 1
        raise LockFormatError(
            f"line {number} contains a NUL character",
            file=path,
            hint="this is not a text requirements file, or it is damaged; re-create it",
        )
    for line in logical_lines(path, text):
        if line.text.startswith("-"):
            _option_line(line, parsed, constraint=constraint, stack=(*stack, path.resolve()))
        else:
            entry = _requirement_line(line, line.text, editable=False)
            (parsed.constraints if constraint else parsed.entries).append(entry)


def logical_lines(path: Path, text: str) -> Iterator[_Line]:
    """Join ``\\`` continuations and drop comments, remembering where each line starts."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        is_comment = bool(_COMMENT.match(raw)) and raw.lstrip().startswith("#")
        if raw.endswith("\\") and not is_comment:
            pending.append(raw[:-1])
            continue
        if not is_comment:
            pending.append(raw)
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if joined:
            yield _Line(path, start, joined)
    if pending:
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        if joined:
            yield _Line(path, start, joined)


def _fail(
    line: _Line, why: str, package: Optional[str] = None, hint: str = _HINT
) -> LockFormatError:
    return LockFormatError(why, file=line.file, package=package, field=line.where, hint=hint)


def _split_tokens(line: _Line) -> list[str]:
    try:
        return shlex.split(line.text, posix=True)
    except ValueError as exc:
        raise _fail(line, f"cannot split the line: {exc}") from exc


def _option_line(
    line: _Line, parsed: _Parsed, *, constraint: bool, stack: tuple[Path, ...]
) -> None:
    tokens = _split_tokens(line)
    option, value, rest = _take_option(tokens, line)
    if option in _FLAG_OPTIONS:
        if value is not None:
            raise _fail(line, f"{option} takes no value")
        parsed.flags.append(option)
        return
    if value is None:  # pragma: no cover - _take_option insists on a value
        raise _fail(line, f"{option} needs a value")
    if option == "--editable":
        if rest:
            raise _fail(line, f"unexpected text after the editable location: {' '.join(rest)!r}")
        entry = _requirement_line(line, value, editable=True)
        (parsed.constraints if constraint else parsed.entries).append(entry)
        return
    if rest:
        raise _fail(line, f"unexpected text after {option} {value}: {' '.join(rest)!r}")
    if option in ("--requirement", "--constraint"):
        is_constraint = constraint or option == "--constraint"
        _include(line, value, parsed, constraint=is_constraint, stack=stack)
    elif option == "--index-url":
        parsed.index_url = value
    elif option == "--extra-index-url":
        if value not in parsed.extra_index_urls:
            parsed.extra_index_urls.append(value)
    elif option == "--find-links":
        parsed.find_links.append(value)
    elif option == "--trusted-host":
        parsed.trusted_hosts.append(value)
    elif option == "--no-binary":
        parsed.no_binary.append(value)
    elif option == "--only-binary":
        parsed.only_binary.append(value)
    else:
        parsed.flags.append(f"{option}={value}")


def _take_option(tokens: Sequence[str], line: _Line) -> tuple[str, Optional[str], list[str]]:
    first = tokens[0]
    if first in _FLAG_OPTIONS:
        return first, None, list(tokens[1:])
    if "=" in first and first.startswith("--"):
        name, _, value = first.partition("=")
        if name in _VALUE_OPTIONS:
            return _VALUE_OPTIONS[name], value, list(tokens[1:])
        if name in _FLAG_OPTIONS:
            raise _fail(line, f"{name} takes no value")
    if first in _VALUE_OPTIONS:
        if len(tokens) < 2:
            raise _fail(line, f"{first} needs a value")
        return _VALUE_OPTIONS[first], tokens[1], list(tokens[2:])
    short = first[:2]
    if not first.startswith("--") and short in _VALUE_OPTIONS and len(first) > 2:
        return _VALUE_OPTIONS[short], first[2:], list(tokens[1:])
    raise _fail(
        line,
        f"unknown option {first!r}",
        hint="lading reads the options pip allows in requirements files",
    )


def _include(
    line: _Line, target: str, parsed: _Parsed, *, constraint: bool, stack: tuple[Path, ...]
) -> None:
    target = expand_vars(target)
    if "://" in target:
        raise _fail(line, f"including a remote file ({target}) is not supported",
                    hint="download it next to the requirements file and include it by path")
    included = line.file.parent / target
    key = included.resolve()
    if key in stack:
        chain = " -> ".join(p.name for p in (*stack, key))
        raise _fail(line, f"include cycle: {chain}", hint="remove one of the -r/-c lines")
    if not _fs.is_file(included):
        raise _fail(line, f"included file {target} not found", hint="check the -r/-c path")
    _parse_file(included, parsed, constraint=constraint, stack=stack)


def _requirement_line(line: _Line, text: str, *, editable: bool) -> _Entry:
    # Per-requirement options (--hash) follow the requirement, as in pip: the first token that
    # starts with "-" ends the requirement.
    words = text.split()
    cut = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
    if editable:
        cut = len(words)
    requirement_text = " ".join(words[:cut])
    options = words[cut:]
    hashes = _hash_options(line, options, requirement_text)
    if editable:
        return _direct_entry(line, requirement_text, hashes, editable=True)
    try:
        requirement = Requirement(requirement_text)
    except InvalidRequirement as exc:
        if _looks_like_location(requirement_text):
            return _direct_entry(line, requirement_text, hashes, editable=False)
        raise _fail(line, f"invalid requirement {requirement_text!r}: {exc}") from exc
    return _Entry(
        line=line,
        name=canonicalize_name(requirement.name),
        requirement=str(requirement),
        specifier=requirement.specifier,
        marker=requirement.marker,
        extras=tuple(sorted(requirement.extras)),
        hashes=hashes,
        location=requirement.url,
    )


def _hash_options(line: _Line, options: Sequence[str], requirement: str) -> list[str]:
    hashes: list[str] = []
    i = 0
    while i < len(options):
        word = options[i]
        name, eq, value = word.partition("=")
        if name not in _REQUIREMENT_OPTIONS:
            raise _fail(line, f"unknown option {word!r} after the requirement", package=requirement)
        if not eq:
            if i + 1 >= len(options):
                raise _fail(line, f"{name} needs a value", package=requirement)
            value = options[i + 1]
            i += 1
        i += 1
        if name != "--hash":
            continue
        match = _HASH.match(value)
        if not match:
            raise _fail(
                line,
                f"bad hash {value!r}: expected --hash=<algorithm>:<hex digest>",
                package=requirement,
            )
        text = f"{match.group(1).lower()}:{match.group(2).lower()}"
        if text not in hashes:
            hashes.append(text)
    return hashes


def _looks_like_location(text: str) -> bool:
    return "://" in text or text.startswith((".", "/", "~")) or "+" in text.split(":", 1)[0]


def _direct_entry(line: _Line, location: str, hashes: list[str], *, editable: bool) -> _Entry:
    """A bare URL or path (``-e .``, ``./dist/x.whl``, ``git+https://...#egg=x``)."""
    location, marker_text = _split_marker(location)
    try:
        marker = Marker(marker_text) if marker_text else None
    except Exception as exc:
        raise _fail(line, f"invalid marker {marker_text!r}: {exc}") from exc
    name, extras = _name_of(location, line)
    return _Entry(
        line=line,
        name=name,
        requirement=location,
        specifier=SpecifierSet(),
        marker=marker,
        extras=extras,
        hashes=hashes,
        location=location,
        editable=editable,
    )


def _split_marker(text: str) -> tuple[str, Optional[str]]:
    # pip: a marker after a URL or path needs "; " (a ";" may be part of a URL).
    if "; " in text:
        head, _, marker = text.partition("; ")
        return head.strip(), marker.strip()
    if " ;" in text:
        head, _, marker = text.partition(" ;")
        return head.strip(), marker.strip()
    return text.strip(), None


def _name_of(location: str, line: _Line) -> tuple[NormalizedName, tuple[str, ...]]:
    """The project name of a bare location: ``#egg=``, an artifact's file name, project metadata."""
    extras: tuple[str, ...] = ()
    path_part = location
    match = re.match(r"^(.*?)\[([^\]]*)\]$", location)
    if match and "://" not in location:
        path_part = match.group(1)
        extras = tuple(e.strip() for e in match.group(2).split(",") if e.strip())
    fragment = urlsplit(path_part).fragment if "#" in path_part else ""
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and value:
            egg = re.match(r"^([A-Za-z0-9._-]+)(?:\[([^\]]*)\])?", value)
            if egg:
                found = tuple(e.strip() for e in (egg.group(2) or "").split(",") if e.strip())
                return canonicalize_name(egg.group(1)), extras or found
    filename = unquote(urlsplit(path_part).path.rsplit("/", 1)[-1]) if "://" in path_part else (
        Path(path_part).name
    )
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[0], extras
        except InvalidWheelFilename:
            pass
    elif filename.endswith(ARCHIVE_SUFFIXES):
        try:
            return parse_sdist_filename(filename)[0], extras
        except InvalidSdistFilename:
            pass
    directory = _local_path(path_part, line.file.parent)
    if directory is not None and _fs.is_dir(directory):
        name = _project_name(directory)
        if name:
            return canonicalize_name(name), extras
    raise _fail(
        line,
        f"cannot tell the package name of {location!r}",
        hint="write 'name @ <url>' or add '#egg=<name>' to the URL",
    )


def _local_path(location: str, base: Path) -> Optional[Path]:
    if location.startswith("file:"):
        return file_url_path(urlsplit(location).path)
    if "://" in location or "+" in location.split(":", 1)[0]:
        return None
    return base / os.path.expanduser(location.split("#", 1)[0])


def _project_name(directory: Path) -> Optional[str]:
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = parse_toml(read_text(pyproject), pyproject)
        except LadingError:
            data = {}
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return str(project["name"])
        poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
        if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
            return str(poetry["name"])
    setup_cfg = directory / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            return parser.get("metadata", "name", fallback=None)
        except configparser.Error:
            return None
    return None


# --- entries to packages ---


def _constraint_pins(constraints: Sequence[_Entry]) -> dict[str, _Entry]:
    """Exact pins a -c file gives, by name, when they are unambiguous (one pin, no marker)."""
    pins: dict[str, list[_Entry]] = {}
    for entry in constraints:
        if _exact_version(entry) is not None and entry.location is None:
            pins.setdefault(entry.name, []).append(entry)
    return {name: found[0] for name, found in pins.items() if len(found) == 1}


def _exact_version(entry: _Entry) -> Optional[str]:
    specs = list(entry.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return specs[0].version


def _resolve(
    entry: _Entry, root: Path, constraint_pins: Mapping[str, _Entry]
) -> tuple[Source, Optional[Version], bool, list[Finding]]:
    """The entry's source, version, whether its files are pending, and what is wrong with it."""
    label = str(entry.name)
    notes: list[Finding] = []

    def note(message: str) -> None:
        notes.append(Finding(
            severity="deploy-error", file=entry.line.file, message=message,
            package=label, field=entry.line.where,
        ))

    if entry.location is not None:
        source, version, pinned = _direct_source(entry, root)
        label = f"{entry.name} {version}" if version else label
        if not pinned:
            note(f"not pinned: {entry.requirement} names no commit")
        if isinstance(source, PackageArchive) and not source.hashes:
            note(f"not hashed: {entry.requirement} has no --hash")
        return source, version, False, notes

    written = _exact_version(entry)
    if written is None:
        pin = constraint_pins.get(entry.name)
        pinned_by = _exact_version(pin) if pin is not None else None
        if pin is not None and pinned_by is not None and entry.specifier.contains(
            pinned_by, prereleases=True
        ):
            entry.hashes = entry.hashes or list(pin.hashes)
            written = pinned_by
    if written is None:
        note(f"not pinned: {entry.requirement!r} is not an exact '==' pin")
        if not entry.hashes:
            note("not hashed: no --hash")
        return pending_placeholder(), None, True, notes
    try:
        version = Version(written)
    except InvalidVersion:
        note(f"not pinned: {written!r} is not a version lading can compare")
        return pending_placeholder(), None, True, notes
    label = f"{entry.name} {version}"
    if not entry.hashes:
        note("not hashed: no --hash")
    return pending_placeholder(), version, True, notes


def _direct_source(entry: _Entry, root: Path) -> tuple[Source, Optional[Version], bool]:
    location = expand_vars(entry.location or "")
    scheme = location.split(":", 1)[0].lower()
    vcs = scheme.split("+", 1)[0] if "+" in scheme else None
    if vcs in VCS_SCHEMES:
        return _vcs_source(vcs, location)
    if location.startswith("file:") or "://" not in location:
        local = _local_path(location, entry.line.file.parent)
        assert local is not None
        shown = _as_written(location, local, entry.line.file.parent, root)
        fragment = _fragment(location)
        if entry.editable or _fs.is_dir(local) or not shown.lower().endswith(ARCHIVE_SUFFIXES):
            return PackageDirectory(
                path=shown, editable=entry.editable or None,
                subdirectory=fragment.get("subdirectory"),
            ), None, True
        return PackageArchive(
            path=shown, hashes=_archive_hashes(entry.hashes, fragment),
            subdirectory=fragment.get("subdirectory"),
        ), _artifact_version(shown), True
    fragment = _fragment(location)
    url = location.split("#", 1)[0]
    return PackageArchive(
        url=url, hashes=_archive_hashes(entry.hashes, fragment),
        subdirectory=fragment.get("subdirectory"),
    ), _artifact_version(url), True


def _vcs_source(vcs: str, location: str) -> tuple[Source, Optional[Version], bool]:
    fragment = _fragment(location)
    url = location.split("#", 1)[0][len(vcs) + 1:]
    parts = urlsplit(url)
    revision: Optional[str] = None
    if "@" in parts.path:
        head, _, revision = url.rpartition("@")
        url = head
    pinned = bool(revision and _COMMIT.match(revision))
    return PackageVcs(
        type=vcs,
        url=url,
        commit_id=revision or "",
        requested_revision=revision or None,
        subdirectory=fragment.get("subdirectory"),
    ), None, pinned


def _as_written(location: str, local: Path, base: Path, root: Path) -> str:
    """Paths stay as written, relative to the lock's directory when an include moved them."""
    if location.startswith("file:") or Path(location).is_absolute():
        return str(local)
    written = location.split("#", 1)[0]
    if base.resolve() == root.resolve():
        return written
    return os.path.relpath(base / written, root)


def _fragment(location: str) -> dict[str, str]:
    if "#" not in location:
        return {}
    return {
        key: value
        for key, _, value in (part.partition("=") for part in location.split("#", 1)[1].split("&"))
        if value
    }


def _archive_hashes(hashes: Sequence[str], fragment: Mapping[str, str]) -> dict[str, str]:
    digests: dict[str, str] = {}
    for text in hashes:
        algorithm, _, digest = text.partition(":")
        digests.setdefault(algorithm, digest)
    for algorithm, digest in fragment.items():
        if algorithm in ("sha256", "sha384", "sha512", "md5", "sha1", "sha224") and _HASH.match(
            f"{algorithm}:{digest}"
        ):
            digests.setdefault(algorithm, digest.lower())
    return digests


def _artifact_version(location: str) -> Optional[Version]:
    filename = unquote(location.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith(ARCHIVE_SUFFIXES):
            return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _add(
    chosen: list[tuple[_Entry, Source, Optional[Version], bool]],
    entry: _Entry,
    source: Source,
    version: Optional[Version],
    is_pending: bool,
) -> None:
    """Keep one package per distinct pin; two pins of a name need markers that tell them apart."""
    for i, (other, other_source, other_version, other_pending) in enumerate(chosen):
        if other.name != entry.name:
            continue
        same = other_version == version and repr(other_source) == repr(source)
        if same:
            other.hashes.extend(h for h in entry.hashes if h not in other.hashes)
            other.marker = _either(other.marker, entry.marker)
            chosen[i] = (other, other_source, other_version, other_pending)
            return
        if other.marker is None or entry.marker is None or str(other.marker) == str(entry.marker):
            first = f"{other.line.file.name} {other.line.where}"
            raise _fail(
                entry.line,
                f"{entry.name} is pinned twice: {_describe(version, source)} here and "
                f"{_describe(other_version, other_source)} at {first}, with no markers "
                "that tell them apart",
                package=str(entry.name),
                hint="keep one pin, or give each a marker for the environments it is meant for",
            )
    chosen.append((entry, source, version, is_pending))


def _either(a: Optional[Marker], b: Optional[Marker]) -> Optional[Marker]:
    if a is None or b is None:
        return None
    return graph.to_marker(graph.either(graph.atom(str(a)), graph.atom(str(b))))


def _describe(version: Optional[Version], source: Source) -> str:
    if version is not None:
        return f"=={version}"
    if isinstance(source, PackageVcs):
        return f"{source.url}@{source.commit_id}"
    if isinstance(source, (PackageArchive, PackageDirectory)):
        return str(getattr(source, "url", None) or source.path)
    return "an unpinned entry"  # pragma: no cover


# --- freshness ---


def freshness(lock: Lock) -> Freshness:
    manifest = lock.manifest
    if manifest is None or not manifest.is_file():
        return Freshness(checked=False, fresh=True, method="no requirements.in beside the lock")
    wanted = parse(manifest)
    compiled_for = _compile_environment(lock)
    differences: list[str] = []
    pins: dict[str, list[Package]] = {}
    for package in lock.packages:
        pins.setdefault(package.name, []).append(package)
    checks = [(e, False) for e in wanted.entries] + [(e, True) for e in wanted.constraints]
    for entry, is_constraint in checks:
        asked = f"{manifest.name} asks for {entry.requirement!r}"
        if entry.marker is not None and compiled_for is not None and not _holds(
            entry.marker, compiled_for
        ):
            continue  # the lock was compiled for one environment, where this line does not apply
        found = [
            p for p in pins.get(entry.name, [])
            if entry.marker is None or p.marker is None or _overlap(entry.marker, p.marker)
        ]
        if not found:
            # A line with a marker may rightly be absent: its environments are not the lock's.
            if not is_constraint and entry.marker is None:
                differences.append(f"{asked}, which the lock does not pin")
            continue
        for package in found:
            if package.version is None or entry.location is not None:
                continue
            if not entry.specifier.contains(package.version, prereleases=True):
                differences.append(f"{asked} but the lock pins {package.version}")
    return Freshness(
        checked=True,
        fresh=not differences,
        method="requirements.in satisfied by the pins",
        manifest=manifest,
        differences=tuple(differences),
    )


_COMPILED_WITH = re.compile(r"pip-compile with Python (\d+)\.(\d+)")


def _compile_environment(lock: Lock) -> Optional[dict[str, str]]:
    """pip-compile resolves for the interpreter it ran on, and says which in its header."""
    try:
        head = lock.path.read_text(encoding="utf-8", errors="replace")[:2048]
    except OSError:
        return None
    match = _COMPILED_WITH.search(head)
    if match is None:
        return None
    env = _environment()
    version = f"{match.group(1)}.{match.group(2)}"
    env.update(python_version=version, python_full_version=f"{version}.0")
    return env


@functools.lru_cache(maxsize=1)
def _sample_environments() -> tuple[dict[str, str], ...]:
    """Enough environments to tell whether two version/platform markers can hold together."""
    base = _environment()
    platforms = (
        ("linux", "Linux", "posix"), ("win32", "Windows", "nt"), ("darwin", "Darwin", "posix"),
    )
    samples = []
    for minor in [("2", "7")] + [("3", str(m)) for m in range(0, 17)]:
        version = ".".join(minor)
        for patch in ("0", "99"):
            for sys_platform, system, os_name in platforms:
                env = dict(base)
                env.update(
                    python_version=version, python_full_version=f"{version}.{patch}",
                    sys_platform=sys_platform, platform_system=system, os_name=os_name,
                )
                samples.append(env)
    return tuple(samples)


def _environment() -> dict[str, str]:
    return {key: str(value) for key, value in default_environment().items()}


def _holds(marker: Marker, environment: Mapping[str, str]) -> bool:
    try:
        return marker.evaluate(dict(environment))
    except (UndefinedComparison, UndefinedEnvironmentName):
        return True  # cannot tell: assume it applies, so a real difference is not hidden


def _overlap(a: Marker, b: Marker) -> bool:
    return any(_holds(a, env) and _holds(b, env) for env in _sample_environments())
