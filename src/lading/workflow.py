"""The workflow commands (``add``, ``remove``, ``upgrade``, ``outdated``): edit, re-lock, report.

Each command is the same few steps: edit the manifest's text with :mod:`lading.edit` (everything outside
the edited entry stays as it was), write it atomically, re-lock minimally (the pins of the existing lock
are preferred, so only what must move moves), write the lock, and report what changed in it. When the
new lock cannot be resolved, the manifest is put back byte for byte before the error is raised.

Project kinds: a manifest with a lock beside it (pyproject.toml ``[project]`` or ``[tool.poetry]``
-> pylock.toml; requirements.in -> requirements.txt in pip-compile's form; Pipfile -> Pipfile.lock),
or a plain pinned requirements.txt with no manifest (PipFlow's layout), where the file IS the lock:
every entry is an exact pin, new packages (and the dependencies they bring) are added pinned, sorted
when the file is sorted, with ``--hash`` lines when the file has them (or ``--hashes`` is given).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lading.errors import LadingError, UsageError
from lading.manifest import Manifest, find_manifest, read_manifest, read_requirements_in
from lading.model import Lock, Target

if TYPE_CHECKING:
    from lading.buildconfig import BuildCommand
    from lading.installer import InstallResult
    from lading.resolve.lock import Change
    from lading.resolve.provider import Offer

#: Version of the ``--json`` reports of add, remove, upgrade and outdated.
REPORT_VERSION = 1
#: ``[tool.lading] add-bound`` when not set.
DEFAULT_BOUND = "lower-bound"
PINNED = "pinned"


# --- the project ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """The file the commands edit and the lock they keep beside it."""

    folder: Path
    manifest: Path  # for a plain pinned requirements.txt: the file itself
    kind: str  # "pyproject", "poetry", "requirements", "pipfile" or "pinned"
    lock: Path
    lock_format: str  # "pylock", "requirements" or "pipfile-lock"

    @property
    def is_pinned(self) -> bool:
        return self.kind == PINNED


def find_project(path: Path) -> Project:
    """The project at ``path``: a manifest, a plain requirements.txt, or a directory holding one."""
    path = Path(path)
    if path.is_file() and path.suffix == ".txt":
        source = path.with_suffix(".in")
        if source.is_file():
            return _manifest_project(source)
        return Project(path.parent, path, PINNED, path, "requirements")
    if path.is_dir():
        pinned = path / "requirements.txt"
        try:
            manifest_path = find_manifest(path)
        except LadingError:
            if pinned.is_file():
                return Project(path, pinned, PINNED, pinned, "requirements")
            raise
        project = _manifest_project(manifest_path)
        if project.kind in ("pyproject", "poetry") and pinned.is_file() and not _has_requirements(project):
            # A pyproject.toml for tool settings or metadata only: the pinned file is what the project uses.
            return Project(path, pinned, PINNED, pinned, "requirements")
        return project
    return _manifest_project(find_manifest(path))


def _has_requirements(project: Project) -> bool:
    manifest = read_manifest(project.manifest)
    return any(True for _ in manifest.all_requirements())


def _manifest_project(path: Path) -> Project:
    manifest = read_manifest(path)
    folder = path.parent
    if manifest.kind == "requirements":
        return Project(folder, path, "requirements", path.with_suffix(".txt"), "requirements")
    if manifest.kind == "pipfile":
        pylock = folder / "pylock.toml"
        if pylock.is_file() and not (folder / "Pipfile.lock").is_file():
            return Project(folder, path, "pipfile", pylock, "pylock")
        return Project(folder, path, "pipfile", folder / "Pipfile.lock", "pipfile-lock")
    return Project(folder, path, manifest.kind, folder / "pylock.toml", "pylock")


# --- settings --------------------------------------------------------------------------------------------


def _lading_settings(folder: Path) -> Mapping[str, object]:
    from lading._toml import load_toml

    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    tool = load_toml(pyproject).get("tool")
    settings = tool.get("lading") if isinstance(tool, dict) else None
    return settings if isinstance(settings, dict) else {}


def add_bound_style(folder: Path) -> str:
    """``[tool.lading] add-bound`` of the project's pyproject.toml (``lower-bound`` when not set)."""
    from lading.edit import STYLES

    value = _lading_settings(folder).get("add-bound", DEFAULT_BOUND)
    if not isinstance(value, str) or value not in STYLES:
        raise UsageError(
            f"add-bound is {value!r}", file=folder / "pyproject.toml", field="tool.lading.add-bound",
            hint="use one of: " + ", ".join(STYLES),
        )
    return value


def check_build(folder: Path) -> list[BuildCommand]:
    """``--build``: the configured builds as ``lading build`` command lines, checked before anything changes."""
    from lading.buildconfig import build_commands
    from lading.cli.main import build_parser

    pyproject = folder / "pyproject.toml"
    commands = build_commands(pyproject, _lading_settings(folder))
    if not commands:
        raise UsageError(
            "nothing to build is configured", file=pyproject, field="--build",
            hint="configure [tool.lading.image] or [tool.lading.build.<kind>] (wheelhouse, zipapp, venv, deb) "
            "in pyproject.toml, or drop --build",
        )
    parser = build_parser()
    for command in commands:
        try:
            parser.parse_args(list(command.argv))
        except UsageError as exc:
            raise UsageError(f"[{command.field}] does not make a valid command ({command.describe()}): {exc.why}",
                             file=pyproject, field=command.field,
                             hint="the keys are the long options of `lading build "
                             f"{command.kind}` (see its --help); output = the -o value") from None
    return commands


# --- options and results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexOptions:
    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # --target specs; default: [tool.lading] targets, else this interpreter


@dataclass(frozen=True)
class Outcome:
    """What a command did: the manifest edits (human lines) and what moved in the lock."""

    project: Project
    edits: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    lock: Optional[Lock] = None  # None with --no-lock
    notes: tuple[str, ...] = ()

    def report(self, command: str) -> dict[str, object]:
        return {
            "version": REPORT_VERSION,
            "command": command,
            "manifest": str(self.project.manifest),
            "kind": self.project.kind,
            "lock": str(self.project.lock) if self.lock is not None else None,
            "edits": list(self.edits),
            "changes": [
                {"name": c.name, "change": c.kind, "before": list(c.before), "after": list(c.after)}
                for c in self.changes
            ],
            "notes": list(self.notes),
        }


# --- writing files ---------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, keeping the file's mode."""
    mode: Optional[int] = None
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def _read_text(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LadingError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path,
                          hint="save the file as UTF-8") from None


@contextlib.contextmanager
def restoring(path: Path, original: bytes) -> Iterator[None]:
    """Put ``path`` back to ``original`` (byte for byte) when the block fails, and say so in the error."""
    try:
        yield
    except BaseException as exc:
        changed = not path.is_file() or path.read_bytes() != original
        if changed:
            write_atomic(path, original)
        if changed and isinstance(exc, LadingError):
            note = f"{path.name} was left as it was"
            exc.hint = f"{exc.hint}; {note}" if exc.hint else note
        raise


# --- resolving -------------------------------------------------------------------------------------------


class Session:
    """The index client, caches and metadata of one command: locks, offers and dependencies."""

    def __init__(self, manifest: Manifest, options: IndexOptions) -> None:
        from lading.cli.lock import _indexes

        self.manifest = manifest
        self.options = options
        self.primary, self.extra = _indexes(manifest, options.index_url, options.extra_index_urls)
        self._stack = contextlib.ExitStack()
        self._finders: dict[str, object] = {}
        self._targets: Optional[list[Target]] = None

    def __enter__(self) -> Session:
        from lading.cache import Cache, default_cache_dir
        from lading.index.http import HttpClient
        from lading.index.httpcache import PageCache
        from lading.index.simple import SimpleIndex
        from lading.resolve.buildreqs import cache_wheel_getter
        from lading.resolve.metadata import LockMetadata, sdist_builder

        cache = Cache(default_cache_dir())
        client = HttpClient(max_connections=16)
        pages = PageCache.of(cache)
        urls = (self.primary, *self.extra)
        self.sources = [SimpleIndex(url, client, cache=pages, primary=i == 0, workers=16) for i, url in enumerate(urls)]
        build = sdist_builder(cache, urls, client)

        workers = min(32, (os.cpu_count() or 4) * 4)
        self.metadata = self._stack.enter_context(
            LockMetadata(client, cache_wheel_getter(cache, client), build=build, workers=workers, pages=pages)
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def targets(self) -> list[Target]:
        from lading.cli.lock import _targets

        if self._targets is None:
            self._targets = _targets(self.manifest, self.options.targets)
        return self._targets

    def lock(
        self,
        manifest: Manifest,
        *,
        previous: Optional[Lock],
        upgrade: bool = False,
        upgrade_packages: Sequence[str] = (),
        lock_path: Optional[Path] = None,
    ) -> Lock:
        from lading.model import Index
        from lading.resolve.lock import lock_manifest

        lock = lock_manifest(manifest, self.targets(), sources=self.sources, metadata=self.metadata,
                             previous=previous, upgrade=upgrade, upgrade_packages=upgrade_packages,
                             lock_path=lock_path)
        indexes = manifest.indexes or (Index(url=self.primary, name="pypi" if manifest.kind == "pipfile" else None),
                                       *(Index(url=u, extra=True) for u in self.extra))
        return replace(lock, indexes=indexes)

    def offers(self, name: str, target: Target) -> tuple[Offer, ...]:
        """What the indexes offer ``target`` (its wheels or an sdist, its Python), newest first."""
        from lading.resolve.lock import LockFinder

        finder = self._finders.get(target.name)
        if not isinstance(finder, LockFinder):
            finder = LockFinder(self.sources, target)
            self._finders[target.name] = finder
        return finder.offers(name)

    def newest(self, name: str, *, prereleases: bool = False) -> Optional[Version]:
        """The newest release any target can use (yanked ones skipped; pre-releases only when asked or alone)."""
        found: list[Version] = []
        for target in self.targets():
            found.extend(o.version for o in self.offers(name, target) if not o.yanked)
        return newest_of(found, prereleases=prereleases)

    def requires(
        self, name: str, version: Version, target: Target, extras: frozenset[str] = frozenset()
    ) -> Optional[list[tuple[NormalizedName, frozenset[str]]]]:
        """The dependencies of ``name version`` on ``target`` (with ``extras``); None when it is not offered."""
        from lading.resolve.provider import parse_requirement

        offer = next((o for o in self.offers(name, target) if o.version == version), None)
        if offer is None:
            return None
        found: list[tuple[NormalizedName, frozenset[str]]] = []
        for line in self.metadata.metadata(offer).requires_dist:
            dependency = parse_requirement(line, target.environment, extras=("", *sorted(extras)),
                                           package=f"{name} {version}")
            if dependency is not None:
                found.append((dependency.name, frozenset(dependency.extras)))
        return found


def newest_of(versions: Sequence[Version], *, prereleases: bool = False) -> Optional[Version]:
    finals = [v for v in versions if prereleases or not v.is_prerelease]
    chosen = finals or list(versions)
    return max(chosen) if chosen else None


def locked_versions(lock: Lock) -> dict[NormalizedName, list[Version]]:
    """Per project, the versions a lock holds (several when targets differ), lowest first."""
    found: dict[NormalizedName, list[Version]] = {}
    for package in lock.packages:
        if package.version is None:
            continue
        listed = found.setdefault(canonicalize_name(package.name), [])
        if package.version not in listed:
            listed.append(package.version)
    return {name: sorted(versions) for name, versions in found.items()}


def _previous(project: Project, manifest: Manifest) -> Optional[Lock]:
    from lading import locks
    from lading.cli.lock import _previous as previous_for

    if project.is_pinned:
        return locks.read(project.lock)
    return previous_for(manifest, project.lock)


def _write_lock(project: Project, lock: Lock, manifest: Manifest) -> None:
    from lading.cli.lock import render

    groups = tuple(manifest.groups) if project.lock_format == "pipfile-lock" else ()
    text = render(lock, manifest, project.lock_format, project.lock, groups=groups)
    _write_text(project.lock, text)


def _changes(previous: Optional[Lock], lock: Lock) -> tuple[Change, ...]:
    from lading.resolve.lock import changes

    return tuple(changes(previous, lock))


# --- requests on the command line ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One ``PKG[extras][spec]`` of the command line."""

    text: str
    requirement: Requirement

    @property
    def key(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)

    @property
    def bare(self) -> bool:
        return not self.requirement.specifier and self.requirement.url is None

    def with_spec(self, spec: str) -> str:
        from lading.edit._common import parse_requirement

        return parse_requirement(self.text, file=None, field="requirement").rendered(spec=spec)


def parse_requests(texts: Sequence[str]) -> list[Request]:
    found: list[Request] = []
    for text in texts:
        try:
            found.append(Request(text.strip(), Requirement(text.strip())))
        except InvalidRequirement as exc:
            raise UsageError(f"not a valid requirement {text!r}: {exc}", field="PKG",
                             hint="write it as PEP 508 says, e.g. 'rich', 'rich>=13' or 'httpx[http2]'") from None
    keys = [r.key for r in found]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise UsageError(f"{twice[0]} is named twice", field="PKG", hint="name each package once")
    return found


# --- add ---------------------------------------------------------------------------------------------------


def add(
    project: Project,
    texts: Sequence[str],
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
    lock: bool = True,
    hashes: bool = False,
    options: IndexOptions = IndexOptions(),
) -> Outcome:
    """Add requirements to the manifest, then re-lock (the added packages may move to their newest version)."""
    requests = parse_requests(texts)
    if not requests:
        raise UsageError("nothing to add", field="PKG", hint="name at least one package")
    if project.is_pinned:
        if group is not None or optional is not None:
            raise UsageError("a plain requirements.txt has no groups or extras", file=project.manifest,
                             field="--group" if group is not None else "--optional",
                             hint="use a pyproject.toml or a second requirements file for them")
        if not lock:
            raise UsageError("the requirements.txt is itself the lock; --no-lock does not apply",
                             file=project.manifest, field="--no-lock", hint="drop --no-lock")
        return _add_pinned(project, requests, hashes=hashes, options=options)
    from lading import edit

    style = add_bound_style(project.folder)
    original, text = _read_text(project.manifest)
    edited = text
    for request in requests:
        edited = edit.add_requirement(edited, project.manifest, request.text, group=group, optional=optional)
    if not lock:
        manifest = read_manifest(project.manifest)
        with Session(manifest, options) as session:
            chosen = {r.key: session.newest(r.requirement.name, prereleases=_wants_pre(r)) for r in requests if r.bare}
        final, lines = _bounded(project, edited, requests, chosen, style, group=group, optional=optional)
        _write_text(project.manifest, final)
        return Outcome(project, edits=tuple(lines), notes=("not locked (--no-lock)",))
    with restoring(project.manifest, original):
        _write_text(project.manifest, edited)
        manifest = read_manifest(project.manifest)
        with Session(manifest, options) as session:
            previous = _previous(project, manifest)
            new = session.lock(manifest, previous=previous, upgrade_packages=[r.key for r in requests],
                               lock_path=project.lock)
            versions = locked_versions(new)
            chosen = {}
            for request in requests:
                if request.bare:
                    held = versions.get(request.key)
                    chosen[request.key] = held[0] if held else session.newest(
                        request.requirement.name, prereleases=_wants_pre(request))
        final, lines = _bounded(project, edited, requests, chosen, style, group=group, optional=optional)
        if final != edited:
            _write_text(project.manifest, final)
            manifest = read_manifest(project.manifest)
        _write_lock(project, new, manifest)
    return Outcome(project, edits=tuple(lines), changes=_changes(previous, new), lock=new)


def _wants_pre(request: Request) -> bool:
    return any(Version(s.version).is_prerelease for s in request.requirement.specifier if "*" not in s.version)


def _bounded(
    project: Project,
    text: str,
    requests: Sequence[Request],
    chosen: Mapping[NormalizedName, Optional[Version]],
    style: str,
    *,
    group: Optional[str],
    optional: Optional[str],
) -> tuple[str, list[str]]:
    """The manifest text with each bare request given its default specifier, and one line per request."""
    from lading import edit

    where = _place(project, group, optional)
    lines: list[str] = []
    for request in requests:
        written = request.text
        version = chosen.get(request.key)
        if request.bare and version is not None:
            written = request.with_spec(edit.default_specifier(version, style))
            text = edit.add_requirement(text, project.manifest, written, group=group, optional=optional)
        lines.append(f"added {written!r} to {where}")
    return text, lines


def _place(project: Project, group: Optional[str], optional: Optional[str]) -> str:
    name = project.manifest.name
    if optional is not None:
        return f"{name} (extra {optional})"
    if group is not None:
        return f"{name} (group {group})"
    return name


# --- plain pinned requirements.txt -------------------------------------------------------------------------


def _pin_hashes(lock: Lock, name: NormalizedName, version: Version) -> list[str]:
    """``sha256:<hex>`` of every file the lock has for ``name version`` (another algorithm when no sha256)."""
    found: list[str] = []
    for package in lock.packages:
        if canonicalize_name(package.name) != name or package.version != version:
            continue
        every: list[Mapping[str, str]] = [dict(w.hashes or {}) for w in package.wheels or ()]
        if package.sdist is not None:
            every.append(dict(package.sdist.hashes or {}))
        for digests in every:
            algorithm = "sha256" if "sha256" in digests else next(iter(sorted(digests)), None)
            if algorithm is not None:
                entry = f"{algorithm}:{digests[algorithm]}"
                if entry not in found:
                    found.append(entry)
    return found


@dataclass(frozen=True)
class _Entry:
    name: str  # as written, with extras: ``requests[socks]``
    key: NormalizedName
    version: Optional[Version]
    marker: Optional[str]
    hashed: bool
    extras: frozenset[str] = field(default_factory=frozenset)


def pinned_entries(text: str) -> dict[NormalizedName, _Entry]:
    """The entries of a requirements file by name (the first one of a name)."""
    from lading.edit.requirements import parse_lines

    found: dict[NormalizedName, _Entry] = {}
    for line in parse_lines(text):
        if line.kind != "requirement" or line.key is None or line.key in found:
            continue
        try:
            req = Requirement(line.requirement)
        except InvalidRequirement:  # pragma: no cover - parse_lines parsed it
            continue
        specs = list(req.specifier)
        version: Optional[Version] = None
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            with contextlib.suppress(ValueError):
                version = Version(specs[0].version)
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        found[line.key] = _Entry(
            name=req.name + extras, key=line.key, version=version,
            marker=str(req.marker) if req.marker is not None else None, hashed=line.hashed,
            extras=frozenset(canonicalize_name(x) for x in req.extras),
        )
    return found


def write_pins(
    text: str,
    path: Path,
    lock: Lock,
    *,
    moving: Sequence[str] = (),
    hashes: Optional[bool] = None,
    names: Optional[Mapping[NormalizedName, str]] = None,
    markers: Optional[Mapping[NormalizedName, str]] = None,
) -> str:
    """``text`` with every package of ``lock`` pinned: new ones added, changed versions replaced.

    Entries the lock does not hold (their marker excludes every target) stay as written; ``moving`` are
    rewritten even at the same version (their request may have changed), with ``names`` (extras) and
    ``markers`` as requested; ``hashes`` True: every entry the lock holds gets ``--hash`` lines; None: as
    the file does.
    """
    from lading.edit.requirements import add_pinned

    entries = pinned_entries(text)
    rewrite = {canonicalize_name(n) for n in moving}
    versions = locked_versions(lock)
    locked_markers: dict[NormalizedName, Optional[str]] = {}
    for package in lock.packages:
        locked_markers.setdefault(canonicalize_name(package.name), str(package.marker) if package.marker else None)
    for key in sorted(versions):
        held = versions[key]
        if len(held) > 1:
            raise LadingError(
                f"the targets need different versions of {key} ({', '.join(map(str, held))}), which a plain "
                "requirements.txt cannot hold", file=path, package=key,
                hint="lock for one target (--target), or keep a manifest (requirements.in) and lock from it",
            )
        version = held[0]
        entry = entries.get(key)
        if (entry is not None and entry.version == version and key not in rewrite
                and not (hashes and not entry.hashed)):
            continue
        name = (names or {}).get(key) or (entry.name if entry is not None else key)
        marker = (markers or {}).get(key) or (entry.marker if entry is not None else locked_markers.get(key))
        digests = _pin_hashes(lock, key, version)
        use = hashes if hashes else (entry.hashed if entry is not None else None)
        if use is None and not any(e.hashed for e in entries.values()) and entries:
            use = False
        text = add_pinned(text, path, name, version, digests, marker, use_hashes=use)
    return text


def _pinned_manifest(project: Project, *, loosen: bool) -> Manifest:
    """The pinned file read as a requirements manifest; ``loosen``: its pins become bare names (for upgrades)."""
    manifest = read_requirements_in(project.manifest)
    if not loosen:
        return manifest
    main = tuple(_loosened(r) for r in manifest.main)
    return replace(manifest, main=main)


def _loosened(req: Requirement) -> Requirement:
    if req.url:
        return req
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f" ; {req.marker}" if req.marker is not None else ""
    return Requirement(f"{req.name}{extras}{marker}")


def _add_pinned(project: Project, requests: Sequence[Request], *, hashes: bool, options: IndexOptions) -> Outcome:
    from lading import locks

    original, text = _read_text(project.manifest)
    base = _pinned_manifest(project, loosen=False)
    added = {r.key for r in requests}
    main = tuple(r for r in base.main if canonicalize_name(r.name) not in added)
    manifest = replace(base, main=main + tuple(r.requirement for r in requests))
    previous = locks.read(project.manifest)
    with Session(manifest, options) as session:
        new = session.lock(manifest, previous=previous, upgrade_packages=sorted(added), lock_path=project.lock)
    versions = locked_versions(new)
    missing = [r for r in requests if r.key not in versions]
    with restoring(project.manifest, original):
        final = write_pins(text, project.manifest, new, moving=sorted(added), hashes=hashes or None,
                           names={r.key: _request_name(r) for r in requests},
                           markers={r.key: str(r.requirement.marker) for r in requests if r.requirement.marker})
        for request in missing:  # its marker excludes every target: nothing to pin, the request is kept
            final = _add_line(final, project.manifest, request.text)
        _write_text(project.manifest, final)
        after = locks.read(project.manifest)
    lines = [f"pinned {_request_name(r)}=={versions[r.key][0]} in {project.manifest.name}"
             for r in requests if r.key in versions]
    lines += [f"added {r.text!r} to {project.manifest.name} (not for these targets: left unpinned)" for r in missing]
    return Outcome(project, edits=tuple(lines), changes=_changes(previous, after), lock=after)


def _add_line(text: str, path: Path, requirement: str) -> str:
    from lading import edit

    return edit.add_requirement(text, path, requirement)


def _request_name(request: Request) -> str:
    req = request.requirement
    return req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")


# --- remove ------------------------------------------------------------------------------------------------


def remove(
    project: Project,
    names: Sequence[str],
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
    lock: bool = True,
    options: IndexOptions = IndexOptions(),
) -> Outcome:
    """Remove requirements from the manifest, then re-lock (pins nothing needs any more drop out)."""
    if not names:
        raise UsageError("nothing to remove", field="PKG", hint="name at least one package")
    keys = [canonicalize_name(_plain_name(n)) for n in names]
    if project.is_pinned:
        if group is not None or optional is not None:
            raise UsageError("a plain requirements.txt has no groups or extras", file=project.manifest,
                             field="--group" if group is not None else "--optional")
        return _remove_pinned(project, keys, options=options)
    from lading import edit

    original, text = _read_text(project.manifest)
    edited = text
    for name in names:
        edited = edit.remove_requirement(edited, project.manifest, _plain_name(name), group=group, optional=optional)
    where = _place(project, group, optional)
    lines = [f"removed {_plain_name(n)!r} from {where}" for n in names]
    if not lock:
        _write_text(project.manifest, edited)
        return Outcome(project, edits=tuple(lines), notes=("not locked (--no-lock)",))
    with restoring(project.manifest, original):
        _write_text(project.manifest, edited)
        manifest = read_manifest(project.manifest)
        with Session(manifest, options) as session:
            previous = _previous(project, manifest)
            new = session.lock(manifest, previous=previous, lock_path=project.lock)
        _write_lock(project, new, manifest)
    return Outcome(project, edits=tuple(lines), changes=_changes(previous, new), lock=new)


def _plain_name(text: str) -> str:
    try:
        return Requirement(text.strip()).name
    except InvalidRequirement:
        raise UsageError(f"not a package name {text!r}", field="PKG", hint="name the package as it is written "
                         "in the manifest") from None


def orphans(graph: Mapping[NormalizedName, set[NormalizedName]], removed: set[NormalizedName]) -> set[NormalizedName]:
    """Entries only the removed ones needed (transitively), which a pinned file no longer has a reason to hold."""
    gone = set(removed)
    reachable: set[NormalizedName] = set()
    queue = list(removed)
    while queue:
        for dep in graph.get(queue.pop(), set()):
            if dep not in reachable and dep not in removed:
                reachable.add(dep)
                queue.append(dep)
    changed = True
    while changed:
        changed = False
        for candidate in sorted(reachable - gone):
            needed = any(candidate in deps for owner, deps in graph.items() if owner not in gone)
            if not needed:
                gone.add(candidate)
                changed = True
    return gone - removed


def _remove_pinned(project: Project, keys: Sequence[NormalizedName], *, options: IndexOptions) -> Outcome:
    from lading import edit, locks

    original, text = _read_text(project.manifest)
    entries = pinned_entries(text)
    absent = [k for k in keys if k not in entries]
    if absent:
        raise UsageError(f"{absent[0]!r} is not in {project.manifest.name}", file=project.manifest,
                         package=absent[0], hint="check the spelling")
    previous = locks.read(project.manifest)
    manifest = _pinned_manifest(project, loosen=False)
    with Session(manifest, options) as session:
        graph = _pinned_graph(session, entries, project.manifest)
    removed = set(keys)
    needed = sorted((owner, dep) for owner, deps in graph.items() if owner not in removed
                    for dep in deps if dep in removed)
    if needed:
        owner, dep = needed[0]
        raise LadingError(
            f"{dep} is still needed by {owner} {entries[owner].version}", file=project.manifest, package=dep,
            hint=f"remove {owner} too, or keep {dep}; {project.manifest.name} was left as it was",
        )
    dropped = orphans(graph, removed)
    edited = text
    for key in [*keys, *sorted(dropped)]:
        edited = edit.remove_requirement(edited, project.manifest, entries[key].name)
    with restoring(project.manifest, original):
        _write_text(project.manifest, edited)
        after = locks.read(project.manifest)
    lines = [f"removed {entries[k].name!r} from {project.manifest.name}" for k in keys]
    lines += [f"removed {entries[k].name!r} from {project.manifest.name} (only needed by what was removed)"
              for k in sorted(dropped)]
    return Outcome(project, edits=tuple(lines), changes=_changes(previous, after), lock=after)


def _pinned_graph(
    session: Session, entries: Mapping[NormalizedName, _Entry], path: Path
) -> dict[NormalizedName, set[NormalizedName]]:
    """Who needs whom among a pinned file's entries, on every target (extras followed as asked for)."""
    graph: dict[NormalizedName, set[NormalizedName]] = {key: set() for key in entries}
    for target in session.targets():
        environment = dict(target.environment)
        wanted = {key: set(entry.extras) for key, entry in entries.items()}
        done: dict[NormalizedName, frozenset[str]] = {}
        changed = True
        while changed:
            changed = False
            for key, entry in entries.items():
                extras = frozenset(wanted[key])
                if done.get(key) == extras or entry.version is None:
                    continue
                done[key] = extras
                if entry.marker is not None and not _marker_holds(entry.marker, environment):
                    continue
                found = session.requires(key, entry.version, target, extras)
                for dep, dep_extras in found or ():
                    if dep in entries and dep != key:
                        graph[key].add(dep)
                        if not dep_extras <= wanted[dep]:
                            wanted[dep] |= dep_extras
                            changed = True
    return graph


def _marker_holds(marker: str, environment: Mapping[str, str]) -> bool:
    from packaging.markers import Marker

    try:
        return Marker(marker).evaluate(dict(environment))
    except Exception:  # a marker lading cannot evaluate: assume it holds (keeps its edges)
        return True


# --- upgrade -----------------------------------------------------------------------------------------------


def upgrade(
    project: Project,
    names: Sequence[str] = (),
    *,
    bump: bool = False,
    hashes: bool = False,
    options: IndexOptions = IndexOptions(),
) -> Outcome:
    """Move the lock to the newest allowed versions (of ``names``, or of everything when none are given)."""
    from lading import locks

    keys = [canonicalize_name(_plain_name(n)) for n in names]
    everything = not keys
    original, text = _read_text(project.manifest)
    manifest = _pinned_manifest(project, loosen=True) if project.is_pinned else read_manifest(project.manifest)
    with Session(manifest, options) as session:
        previous = _previous(project, manifest)
        known = set(locked_versions(previous)) if previous is not None else set()
        known |= {canonicalize_name(r.name) for r in manifest.all_requirements()}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise UsageError(f"{unknown[0]!r} is neither in the lock nor in {project.manifest.name}",
                             field="PKG", package=unknown[0], hint="check the spelling, or `lading add` it")
        new = session.lock(manifest, previous=previous, upgrade=everything, upgrade_packages=keys,
                           lock_path=project.lock)
    notes: list[str] = []
    lines: list[str] = []
    if project.is_pinned:
        if bump:
            notes.append(f"--bump: {project.manifest.name} pins exact versions, which are the bounds")
        with restoring(project.manifest, original):
            final = write_pins(text, project.manifest, new, hashes=hashes or None)
            if final != text:
                _write_text(project.manifest, final)
            after = locks.read(project.manifest)
        return Outcome(project, changes=_changes(previous, after), lock=after, notes=tuple(notes))
    if hashes:
        notes.append(f"--hashes: {project.lock.name} always carries hashes")
    with restoring(project.manifest, original):
        if bump:
            final = bumped(project.manifest, text, manifest, new, keys)
            if final != text:
                before = manifest
                _write_text(project.manifest, final)
                manifest = read_manifest(project.manifest)
                lines = raised_lines(before, manifest)
        _write_lock(project, new, manifest)
    return Outcome(project, edits=tuple(lines), changes=_changes(previous, new), lock=new, notes=tuple(notes))


def bumped(path: Path, text: str, manifest: Manifest, lock: Lock, keys: Sequence[NormalizedName]) -> str:
    """``upgrade --bump``: the manifest text with each direct requirement's lower bound at its locked version."""
    from lading import edit

    versions = locked_versions(lock)
    direct = {canonicalize_name(r.name) for r in manifest.all_requirements()}
    chosen = [k for k in (keys or sorted(direct)) if k in direct and k in versions]
    # The lowest locked version: a bound above what one target locked would make that target's lock stale.
    return edit.set_lower_bounds(text, path, {k: versions[k][0] for k in chosen})


def raised_lines(before: Manifest, after: Manifest) -> list[str]:
    """One line per requirement whose range changed between two readings of a manifest."""

    def ranges(manifest: Manifest) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for requirement in manifest.all_requirements():
            found.setdefault(canonicalize_name(requirement.name), []).append(str(requirement.specifier))
        return found

    old, new = ranges(before), ranges(after)
    return [
        f"raised {name} to {', '.join(repr(s) for s in new[name])} in {after.path.name}"
        for name in sorted(new) if new[name] != old.get(name)
    ]


# --- outdated ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    locked: tuple[Version, ...]
    allowed: tuple[Version, ...]  # what `upgrade --all` would lock (empty: it would drop the package)
    latest: Optional[Version]  # the newest release for the targets, whatever the manifest allows

    @property
    def outdated(self) -> bool:
        if not self.locked:
            return False
        held = max(self.locked)
        return bool(self.allowed and max(self.allowed) > held) or (self.latest is not None and self.latest > held)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "locked": [str(v) for v in self.locked],
            "allowed": [str(v) for v in self.allowed],
            "latest": str(self.latest) if self.latest is not None else None,
            "outdated": self.outdated,
        }


def outdated_rows(
    locked: Mapping[NormalizedName, Sequence[Version]],
    allowed: Mapping[NormalizedName, Sequence[Version]],
    latest: Mapping[NormalizedName, Optional[Version]],
    *,
    everything: bool = False,
) -> list[Row]:
    rows = [
        Row(name, tuple(locked[name]), tuple(allowed.get(name, ())), latest.get(name))
        for name in sorted(locked)
    ]
    return rows if everything else [r for r in rows if r.outdated]


@dataclass(frozen=True)
class Outdated:
    project: Project
    lock_path: Path
    rows: tuple[Row, ...]

    def report(self) -> dict[str, object]:
        return {
            "version": REPORT_VERSION,
            "manifest": str(self.project.manifest),
            "lock": str(self.lock_path),
            "packages": [r.as_dict() for r in self.rows],
        }


def outdated(project: Project, *, everything: bool = False, options: IndexOptions = IndexOptions()) -> Outdated:
    """Locked versions against what the manifest allows (``upgrade --all``) and the newest releases."""
    manifest = _pinned_manifest(project, loosen=True) if project.is_pinned else read_manifest(project.manifest)
    with Session(manifest, options) as session:
        previous = _previous(project, manifest)
        if previous is None:
            raise LadingError(f"{project.manifest.name} has no lock to compare", file=project.manifest,
                              hint="create one with `lading lock`")
        locked = locked_versions(previous)
        allowed = locked_versions(session.lock(manifest, previous=None, upgrade=True, lock_path=project.lock))
        latest = {name: session.newest(name, prereleases=any(v.is_prerelease for v in versions))
                  for name, versions in locked.items()}
    return Outdated(project, previous.path, tuple(outdated_rows(locked, allowed, latest, everything=everything)))


# --- install -----------------------------------------------------------------------------------------------


def install(project: Project) -> InstallResult:
    """``--install``: sync the project's environment from the lock, as ``lading install`` does by default."""
    from lading.installer import InstallOptions, run
    from lading.progress import for_stream

    return run(InstallOptions(path=project.folder, lock=project.lock), for_stream(sys.stderr, quiet=False),
               os.environ)


__all__ = [
    "REPORT_VERSION",
    "IndexOptions",
    "Outcome",
    "Outdated",
    "Project",
    "Row",
    "Session",
    "add",
    "add_bound_style",
    "bumped",
    "check_build",
    "find_project",
    "install",
    "newest_of",
    "orphans",
    "outdated",
    "outdated_rows",
    "parse_requests",
    "pinned_entries",
    "remove",
    "restoring",
    "upgrade",
    "write_atomic",
    "write_pins",
]
