"""What a project asks for, before resolution: pyproject.toml, requirements.in, Pipfile.

Every manifest kind is read into one :class:`Manifest`: the main requirements, the dependency
groups, the extras (the project's optional dependencies), constraints, the indexes it names and the
Python versions it supports. Requirements are :class:`packaging.requirements.Requirement` objects,
markers kept (they are evaluated per target by the resolver); group and extra membership is not a
marker but the mapping a requirement sits in.

* ``pyproject.toml``: ``[project]`` dependencies, optional-dependencies and ``requires-python``;
  ``[dependency-groups]`` (PEP 735, with ``include-group``); ``[tool.poetry]`` dependencies, groups,
  legacy dev-dependencies (group ``dev``) and extras, Poetry's constraint syntax turned into PEP 440;
  ``[[tool.poetry.source]]`` / ``[[tool.uv.index]]`` as indexes; ``[tool.lading] targets``.
* ``requirements.in`` (or any requirements file): lines, ``-r`` includes, ``-c`` constraints,
  ``--index-url`` / ``--extra-index-url`` (read by :mod:`lading.locks.requirements`).
* ``Pipfile``: ``[packages]`` (main), ``[dev-packages]`` (group ``develop``, as pipenv's category),
  custom categories (groups), ``[[source]]``, ``[requires] python_version``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from lading._toml import load_toml
from lading.errors import LadingError, LockFormatError
from lading.model import Index

ManifestKind = Literal["pyproject", "poetry", "requirements", "pipfile"]

#: Pipfile tables that are not package categories.
PIPFILE_NOT_CATEGORIES = frozenset({"source", "requires", "pipenv", "scripts", "packages", "dev-packages"})
#: The group pipenv's ``[dev-packages]`` becomes (the name of its Pipfile.lock category).
PIPFILE_DEV_GROUP = "develop"
#: The group Poetry's legacy ``[tool.poetry.dev-dependencies]`` becomes.
POETRY_DEV_GROUP = "dev"


class ManifestError(LockFormatError):
    """A manifest cannot be read: malformed, or it asks for something lading cannot resolve."""


@dataclass(frozen=True)
class Manifest:
    """The requirements of a project; groups and extras keyed by normalized name."""

    path: Path
    kind: ManifestKind
    requires_python: Optional[SpecifierSet] = None
    main: tuple[Requirement, ...] = ()
    groups: Mapping[str, tuple[Requirement, ...]] = field(default_factory=dict)
    extras: Mapping[str, tuple[Requirement, ...]] = field(default_factory=dict)
    constraints: tuple[Requirement, ...] = ()
    indexes: tuple[Index, ...] = ()
    #: The project's own name (pyproject.toml), so ``proj[extra]`` inside an extra is understood.
    name: Optional[NormalizedName] = None
    #: ``[tool.lading] targets``: target names or platform spec paths (relative to the manifest).
    targets: tuple[str, ...] = ()
    #: The groups ``--dev`` means (``develop`` for a Pipfile, ``dev`` for Poetry).
    dev_groups: frozenset[str] = frozenset()

    def all_requirements(self) -> Iterable[Requirement]:
        yield from self.main
        for requirements in self.groups.values():
            yield from requirements
        for requirements in self.extras.values():
            yield from requirements


MANIFEST_NAMES = ("pyproject.toml", "requirements.in", "Pipfile")


def find_manifest(path: Path) -> Path:
    """The manifest at ``path``: the file itself, or the first of :data:`MANIFEST_NAMES` in the folder."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise LadingError(f"{path}: no such file or directory", hint="give a manifest or a project directory")
    for name in ("Pipfile", "requirements.in", "pyproject.toml"):
        candidate = path / name
        if candidate.is_file() and (name != "pyproject.toml" or _declares_dependencies(candidate)):
            return candidate
    raise LadingError(
        f"{path} holds no manifest ({', '.join(MANIFEST_NAMES)} with dependencies)",
        file=path,
        hint="give the manifest's path, or create one",
    )


def _declares_dependencies(path: Path) -> bool:
    try:
        data = load_toml(path)
    except LadingError:
        return True  # reading it again reports what is wrong
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    return "project" in data or "dependency-groups" in data or isinstance(poetry, dict)


def read_manifest(path: Path) -> Manifest:
    """Read any manifest kind (chosen by file name; ``*.in``/``*.txt`` are requirements files)."""
    if path.suffix == ".toml":
        return read_pyproject(path)
    if path.name == "Pipfile":
        return read_pipfile(path)
    return read_requirements_in(path)


# --- shared ---------------------------------------------------------------------------------------


def _requirement(text: object, path: Path, where: str) -> Requirement:
    if not isinstance(text, str):
        raise ManifestError(
            f"expected a requirement string, found {text!r}", file=path, field=where,
            hint="write the requirement as a PEP 508 string such as 'requests>=2.31'",
        )
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise ManifestError(
            f"invalid requirement {text!r}: {exc}", file=path, field=where,
            hint="fix the requirement (PEP 508 syntax)",
        ) from None


def _table(data: Mapping[str, Any], key: str, path: Path, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ManifestError(f"expected a table, found {type(value).__name__}", file=path, field=where,
                            hint=f"fix {path.name}")
    return value


def _list(data: Mapping[str, Any], key: str, path: Path, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ManifestError(f"expected a list, found {type(value).__name__}", file=path, field=where,
                            hint=f"fix {path.name}")
    return value


_VALID_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


def _name(key: str, path: Path, where: str) -> str:
    """A group or extra name, normalized; one that is not a valid name could not be written in a marker."""
    name = canonicalize_name(key)
    if not _VALID_NAME.match(name):
        raise ManifestError(f"{key!r} is not a valid group or extra name", file=path, field=where,
                            hint="use letters, digits, '-', '_' and '.' only")
    return name


def _specifier(text: str, path: Path, where: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise ManifestError(f"invalid version range {text!r}: {exc}", file=path, field=where,
                            hint="write a PEP 440 range such as '>=3.9'") from None


# --- pyproject.toml -------------------------------------------------------------------------------


def read_pyproject(path: Path) -> Manifest:
    data = load_toml(path)
    project = _table(data, "project", path, "project")
    tool = _table(data, "tool", path, "tool")
    poetry = _table(tool, "poetry", path, "tool.poetry")
    lading = _table(tool, "lading", path, "tool.lading")
    uses_poetry = bool(poetry) and "dependencies" not in project

    requires_python: Optional[SpecifierSet] = None
    if isinstance(project.get("requires-python"), str):
        requires_python = _specifier(project["requires-python"], path, "project.requires-python")
    main = tuple(
        _requirement(text, path, f"project.dependencies[{i}]")
        for i, text in enumerate(_list(project, "dependencies", path, "project.dependencies"))
    )
    extras: dict[str, tuple[Requirement, ...]] = {}
    optional = _table(project, "optional-dependencies", path, "project.optional-dependencies")
    for extra, items in optional.items():
        where = f"project.optional-dependencies.{extra}"
        if not isinstance(items, list):
            raise ManifestError("expected a list of requirements", file=path, field=where, hint="fix pyproject.toml")
        extras[_name(extra, path, where)] = tuple(
            _requirement(text, path, f"{where}[{i}]") for i, text in enumerate(items)
        )
    groups = _dependency_groups(data, path)
    dev_groups: frozenset[str] = frozenset()
    name = project.get("name")
    if uses_poetry:
        poetry_main, poetry_python, poetry_extras = _poetry_dependencies(poetry, path)
        main = poetry_main
        requires_python = requires_python or poetry_python
        for extra, requirements in poetry_extras.items():
            extras[extra] = extras.get(extra, ()) + requirements
        name = name or poetry.get("name")
    if poetry:
        for group, requirements in _poetry_groups(poetry, path).items():
            groups[group] = groups.get(group, ()) + requirements
        if POETRY_DEV_GROUP in groups:
            dev_groups = frozenset({POETRY_DEV_GROUP})
    targets = _list(lading, "targets", path, "tool.lading.targets")
    for i, target in enumerate(targets):
        if not isinstance(target, str):
            raise ManifestError(f"expected a target name or spec path, found {target!r}", file=path,
                                field=f"tool.lading.targets[{i}]",
                                hint="write targets like 'cp311-manylinux_x86_64' or 'specs/prod.json'")
    return Manifest(
        path=path,
        kind="poetry" if uses_poetry else "pyproject",
        requires_python=requires_python,
        main=main,
        groups=groups,
        extras=extras,
        indexes=_pyproject_indexes(tool, poetry, path),
        name=canonicalize_name(name) if isinstance(name, str) else None,
        targets=tuple(targets),
        dev_groups=dev_groups,
    )


def _dependency_groups(data: Mapping[str, Any], path: Path) -> dict[str, tuple[Requirement, ...]]:
    """PEP 735 groups, ``include-group`` expanded (a cycle is an error)."""
    table = _table(data, "dependency-groups", path, "dependency-groups")
    by_name: dict[str, tuple[str, list[Any]]] = {}
    for key, items in table.items():
        if not isinstance(items, list):
            raise ManifestError("expected a list", file=path, field=f"dependency-groups.{key}",
                                hint="a dependency group is a list of requirements and {include-group = ...}")
        by_name[_name(key, path, f"dependency-groups.{key}")] = (key, items)

    def expand(group: str, stack: tuple[str, ...]) -> tuple[Requirement, ...]:
        key, items = by_name[group]
        found: list[Requirement] = []
        for i, item in enumerate(items):
            where = f"dependency-groups.{key}[{i}]"
            if isinstance(item, Mapping):
                included = item.get("include-group")
                if not isinstance(included, str) or set(item) != {"include-group"}:
                    raise ManifestError(f"expected {{include-group = \"name\"}}, found {dict(item)!r}",
                                        file=path, field=where, hint="fix pyproject.toml")
                target = canonicalize_name(included)
                if target not in by_name:
                    raise ManifestError(f"includes the group {included!r}, which is not defined", file=path,
                                        field=where, hint="define the group or remove the include")
                if target in stack:
                    chain = " -> ".join((*stack, target))
                    raise ManifestError(f"include cycle: {chain}", file=path, field=where,
                                        hint="remove one of the include-group entries")
                found.extend(expand(target, (*stack, target)))
            else:
                found.append(_requirement(item, path, where))
        return tuple(found)

    return {group: expand(group, (group,)) for group in by_name}


def _pyproject_indexes(tool: Mapping[str, Any], poetry: Mapping[str, Any], path: Path) -> tuple[Index, ...]:
    primary: list[Index] = []
    extra: list[Index] = []
    for i, source in enumerate(_list(poetry, "source", path, "tool.poetry.source")):
        if not isinstance(source, Mapping) or not isinstance(source.get("url"), str):
            raise ManifestError("expected a table with a url", file=path, field=f"tool.poetry.source[{i}]",
                                hint="fix pyproject.toml")
        name = source.get("name") if isinstance(source.get("name"), str) else None
        priority = source.get("priority", "primary")
        if priority in ("primary", "default") or source.get("default") is True:
            primary.append(Index(url=source["url"], name=name))
        elif priority == "supplemental" or source.get("secondary") is True:
            extra.append(Index(url=source["url"], name=name, extra=True))
        # explicit sources serve only the packages that name them: not searched for the rest
    uv = _table(tool, "uv", path, "tool.uv")
    listed: list[tuple[bool, Index]] = []
    for i, index in enumerate(_list(uv, "index", path, "tool.uv.index")):
        if not isinstance(index, Mapping) or not isinstance(index.get("url"), str):
            raise ManifestError("expected a table with a url", file=path, field=f"tool.uv.index[{i}]",
                                hint="fix pyproject.toml")
        if index.get("explicit") is True:
            continue  # only for the packages that name it
        name = index.get("name") if isinstance(index.get("name"), str) else None
        listed.append((index.get("default") is True, Index(url=index["url"], name=name)))
    # uv asks its listed indexes first and the default one last; lading asks the primary first.
    primary += [ix for default, ix in listed if default] + [ix for default, ix in listed if not default]
    ordered = primary + extra
    if not ordered:
        return ()
    first = ordered[0]
    rest = tuple(Index(url=ix.url, name=ix.name, extra=True) for ix in ordered[1:])
    return (Index(url=first.url, name=first.name), *rest)


def _poetry_dependencies(
    poetry: Mapping[str, Any], path: Path
) -> tuple[tuple[Requirement, ...], Optional[SpecifierSet], dict[str, tuple[Requirement, ...]]]:
    """Main requirements, the ``python`` range, and the extras (optional dependencies by extra)."""
    deps = _table(poetry, "dependencies", path, "tool.poetry.dependencies")
    optional_in: dict[NormalizedName, list[str]] = {}
    for extra, names in _table(poetry, "extras", path, "tool.poetry.extras").items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ManifestError("expected a list of dependency names", file=path,
                                field=f"tool.poetry.extras.{extra}", hint="fix pyproject.toml")
        for name in names:
            optional_in.setdefault(canonicalize_name(re.split(r"[\s\[<>=!~;]", name.strip())[0]), []).append(
                _name(extra, path, f"tool.poetry.extras.{extra}"))
    python: Optional[SpecifierSet] = None
    main: list[Requirement] = []
    extras: dict[str, list[Requirement]] = {}
    for name, value in deps.items():
        where = f"tool.poetry.dependencies.{name}"
        if canonicalize_name(name) == "python":
            if not isinstance(value, str):
                raise ManifestError("expected a version range", file=path, field=where, hint="fix pyproject.toml")
            python = _poetry_range(value, path, where)
            continue
        for requirement, optional in _poetry_entry(name, value, path, where):
            if optional:
                for extra in optional_in.get(canonicalize_name(name), []):
                    extras.setdefault(extra, []).append(requirement)
            else:
                main.append(requirement)
    return tuple(main), python, {k: tuple(v) for k, v in extras.items()}


def _poetry_groups(poetry: Mapping[str, Any], path: Path) -> dict[str, tuple[Requirement, ...]]:
    groups: dict[str, list[Requirement]] = {}
    dev = _table(poetry, "dev-dependencies", path, "tool.poetry.dev-dependencies")
    for name, value in dev.items():
        where = f"tool.poetry.dev-dependencies.{name}"
        groups.setdefault(POETRY_DEV_GROUP, []).extend(r for r, _ in _poetry_entry(name, value, path, where))
    tables = _table(poetry, "group", path, "tool.poetry.group")
    for group, table in tables.items():
        if not isinstance(table, Mapping):
            raise ManifestError("expected a table", file=path, field=f"tool.poetry.group.{group}",
                                hint="fix pyproject.toml")
        deps = _table(table, "dependencies", path, f"tool.poetry.group.{group}.dependencies")
        found = groups.setdefault(_name(group, path, f"tool.poetry.group.{group}"), [])
        for name, value in deps.items():
            where = f"tool.poetry.group.{group}.dependencies.{name}"
            found.extend(r for r, _ in _poetry_entry(name, value, path, where))
    for group, table in tables.items():
        if isinstance(table, Mapping):
            for included in table.get("include-groups", []) or []:
                if isinstance(included, str) and canonicalize_name(included) in groups:
                    groups[canonicalize_name(group)].extend(groups[canonicalize_name(included)])
    return {k: tuple(v) for k, v in groups.items()}


def _poetry_range(text: str, path: Path, where: str) -> SpecifierSet:
    from lading.locks.poetry import poetry_specifiers

    try:
        alternatives = poetry_specifiers(text)
    except (ValueError, Exception) as exc:  # poetry_specifiers raises ValueError (InvalidVersion is one)
        raise ManifestError(f"cannot read the version constraint {text!r}: {exc}", file=path, field=where,
                            hint="write a Poetry constraint such as '^1.2' or a PEP 440 range") from None
    if len(alternatives) != 1:
        raise ManifestError(
            f"the constraint {text!r} has alternatives ('||'), which a PEP 508 requirement cannot express",
            file=path, field=where, hint="write one range (lading lock does not resolve '||' constraints)",
        )
    return alternatives[0]


def _poetry_entry(name: str, value: object, path: Path, where: str) -> list[tuple[Requirement, bool]]:
    """One Poetry dependency as requirements (a list of tables gives several), each with ``optional``."""
    if isinstance(value, str):
        spec = _poetry_range(value, path, where)
        return [(_requirement(f"{name}{spec}", path, where), False)]
    if isinstance(value, list):
        found: list[tuple[Requirement, bool]] = []
        for i, item in enumerate(value):
            found.extend(_poetry_entry(name, item, path, f"{where}[{i}]"))
        return found
    if not isinstance(value, Mapping):
        raise ManifestError("expected a version constraint or a table", file=path, field=where,
                            hint="fix pyproject.toml")
    extras = value.get("extras", [])
    extras_text = f"[{','.join(str(x) for x in extras)}]" if isinstance(extras, list) and extras else ""
    markers: list[str] = []
    if isinstance(value.get("markers"), str):
        markers.append(f"({value['markers']})")
    if isinstance(value.get("python"), str):
        markers.append(f"({_python_marker(value['python'], path, f'{where}.python')})")
    if isinstance(value.get("platform"), str):
        platforms = [p for p in re.split(r"\s*\|\|?\s*", value["platform"].strip()) if p]
        markers.append("(" + " or ".join(f"sys_platform == '{p}'" for p in platforms) + ")")
    marker = f" ; {' and '.join(markers)}" if markers else ""
    optional = value.get("optional") is True
    for kind in ("git", "url", "path", "file"):
        location = value.get(kind)
        if isinstance(location, str):
            url = _direct_url(kind, location, value, path)
            return [(_requirement(f"{name}{extras_text} @ {url}{marker}", path, where), optional)]
    version = value.get("version", "*")
    if not isinstance(version, str):
        raise ManifestError("expected a version constraint", file=path, field=f"{where}.version",
                            hint="fix pyproject.toml")
    spec = _poetry_range(version, path, f"{where}.version")
    return [(_requirement(f"{name}{extras_text}{spec}{marker}", path, where), optional)]


def _python_marker(text: str, path: Path, where: str) -> str:
    from lading.locks.graph import to_marker
    from lading.locks.poetry import _python_condition

    marker = to_marker(_python_condition(text))
    if marker is None:
        return "python_version >= '0'"
    return str(marker)


def _direct_url(kind: str, location: str, value: Mapping[str, Any], path: Path) -> str:
    if kind == "git":
        ref = next((value[k] for k in ("rev", "tag", "branch") if isinstance(value.get(k), str)), None)
        url = f"git+{location}" + (f"@{ref}" if ref else "")
        if isinstance(value.get("subdirectory"), str):
            url += f"#subdirectory={value['subdirectory']}"
        return url
    if kind == "url":
        return location
    return (path.parent / location).resolve().as_uri()


# --- requirements.in ------------------------------------------------------------------------------


def read_requirements_in(path: Path) -> Manifest:
    from lading.locks.requirements import parse

    if not path.is_file():
        raise ManifestError("no such file", file=path, hint="give the requirements file to lock")
    parsed = parse(path)

    def convert(entries: Sequence[Any]) -> tuple[Requirement, ...]:
        found: list[Requirement] = []
        for entry in entries:
            where = entry.line.where if entry.line.file == path else f"{entry.line.file.name} {entry.line.where}"
            if entry.location is None:
                found.append(_requirement(entry.requirement, entry.line.file, where))
                continue
            extras = f"[{','.join(entry.extras)}]" if entry.extras else ""
            location = entry.location
            if "://" not in location and not location.startswith("file:"):
                location = (entry.line.file.parent / location.split("#", 1)[0]).resolve().as_uri()
            marker = f" ; {entry.marker}" if entry.marker is not None else ""
            found.append(_requirement(f"{entry.name}{extras} @ {location}{marker}", entry.line.file, where))
        return tuple(found)

    indexes = ([Index(url=parsed.index_url)] if parsed.index_url else []) + [
        Index(url=url, extra=True) for url in parsed.extra_index_urls
    ]
    return Manifest(
        path=path,
        kind="requirements",
        main=convert(parsed.entries),
        constraints=convert(parsed.constraints),
        indexes=tuple(indexes),
    )


# --- Pipfile --------------------------------------------------------------------------------------


def read_pipfile(path: Path) -> Manifest:
    data = load_toml(path)
    main = _pipfile_section(_table(data, "packages", path, "packages"), path, "packages")
    groups: dict[str, tuple[Requirement, ...]] = {}
    dev = _table(data, "dev-packages", path, "dev-packages")
    if dev:
        groups[PIPFILE_DEV_GROUP] = _pipfile_section(dev, path, "dev-packages")
    for key, value in data.items():
        if key in PIPFILE_NOT_CATEGORIES or not isinstance(value, Mapping):
            continue
        groups[_name(key, path, key)] = _pipfile_section(value, path, key)
    requires = _table(data, "requires", path, "requires")
    requires_python: Optional[SpecifierSet] = None
    if isinstance(requires.get("python_full_version"), str):
        requires_python = _specifier(f"=={requires['python_full_version']}", path, "requires.python_full_version")
    elif isinstance(requires.get("python_version"), str):
        requires_python = _specifier(f"=={requires['python_version']}.*", path, "requires.python_version")
    indexes: list[Index] = []
    for i, source in enumerate(_list(data, "source", path, "source")):
        if not isinstance(source, Mapping) or not isinstance(source.get("url"), str):
            raise ManifestError("expected a table with a url", file=path, field=f"source[{i}]", hint="fix the Pipfile")
        indexes.append(Index(
            url=source["url"],
            name=source.get("name") if isinstance(source.get("name"), str) else None,
            verify_ssl=source.get("verify_ssl") is not False,
            extra=i > 0,
        ))
    return Manifest(
        path=path,
        kind="pipfile",
        requires_python=requires_python,
        main=main,
        groups=groups,
        indexes=tuple(indexes),
        dev_groups=frozenset({PIPFILE_DEV_GROUP}) if PIPFILE_DEV_GROUP in groups else frozenset(),
    )


def _pipfile_section(section: Mapping[str, Any], path: Path, where: str) -> tuple[Requirement, ...]:
    return tuple(_pipfile_entry(name, value, path, f"{where}.{name}") for name, value in section.items())


def _pipfile_entry(name: str, value: object, path: Path, where: str) -> Requirement:
    if isinstance(value, str):
        spec = "" if value.strip() in ("*", "") else value.strip()
        return _requirement(f"{name}{spec}", path, where)
    if not isinstance(value, Mapping):
        raise ManifestError("expected a version string or a table", file=path, field=where, hint="fix the Pipfile")
    extras = value.get("extras", [])
    extras_text = f"[{','.join(str(x) for x in extras)}]" if isinstance(extras, list) and extras else ""
    try:
        from lading.locks.pipfile import pipfile_entry_marker  # only Pipfiles need the lock reader's rules

        condition = pipfile_entry_marker(value)
    except ValueError as exc:
        key = exc.args[1] if len(exc.args) > 1 else "markers"
        raise ManifestError(str(exc.args[0]), file=path, field=f"{where}.{key}", hint="fix the Pipfile") from exc
    marker = f" ; {condition}" if condition else ""
    for kind in ("git", "hg", "svn", "bzr"):
        location = value.get(kind)
        if isinstance(location, str):
            ref = value.get("ref")
            url = f"{kind}+{location}" + (f"@{ref}" if isinstance(ref, str) else "")
            if isinstance(value.get("subdirectory"), str):
                url += f"#subdirectory={value['subdirectory']}"
            return _requirement(f"{name}{extras_text} @ {url}{marker}", path, where)
    for kind in ("file", "path"):
        location = value.get(kind)
        if isinstance(location, str):
            url = location if "://" in location else (path.parent / location).resolve().as_uri()
            return _requirement(f"{name}{extras_text} @ {url}{marker}", path, where)
    version = value.get("version", "*")
    if not isinstance(version, str):
        raise ManifestError("expected a version string", file=path, field=f"{where}.version", hint="fix the Pipfile")
    spec = "" if version.strip() in ("*", "") else version.strip()
    return _requirement(f"{name}{extras_text}{spec}{marker}", path, where)


__all__ = [
    "MANIFEST_NAMES",
    "PIPFILE_DEV_GROUP",
    "POETRY_DEV_GROUP",
    "Manifest",
    "ManifestError",
    "ManifestKind",
    "find_manifest",
    "read_manifest",
    "read_pipfile",
    "read_pyproject",
    "read_requirements_in",
]
