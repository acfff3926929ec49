"""Write a lock's selection for one target as a Nix expression (the idea of pypi2nix, with a lock as input).

Three files go into the output directory:

``packages.nix``
    ``{ fetchurl, buildPythonPackage, ... }: self: { <name> = buildPythonPackage { ... }; ... }``: one
    attribute per selected package. A wheel is installed as a wheel (``format = "wheel"``), an sdist or a
    source tree is built through its PEP 517 backend (``format = "pyproject"``). Both spellings are
    accepted by nixpkgs' Python builders old and new (``pyproject = true`` and ``build-system`` /
    ``dependencies`` are newer aliases of the same thing). Files are fetched with ``fetchurl`` and the
    lock's own hash in SRI form; ``propagatedBuildInputs`` are the lock's dependency edges between the
    selected packages (``self.<dep>``), so overriding a package reaches everything that needs it.
``overrides.nix``
    ``{ pkgs, python }: self: super: { }``, for what a lock cannot know (native build inputs, another
    build backend, patches). Written only when missing: it is the user's file.
``default.nix``
    ``{ pkgs ? import <nixpkgs> { }, python ? ..., overrides ? import ./overrides.nix }``: the package set
    is ``packages.nix`` extended by the overrides (a fixed point, so ``self`` sees overridden packages),
    and the result is ``python.withPackages`` over the set, with ``.packages`` and ``.python`` attached.

The selection is made for one target (``lading.select.select``): per package the best wheel for the
target's tags, else the sdist, exactly as ``lading install`` would choose.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from packaging.markers import InvalidMarker, Marker
from packaging.pylock import PackageArchive, PackageDirectory, PackageSdist, PackageVcs, PackageWheel
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from lading.errors import LadingError, UsageError
from lading.export._common import absolute
from lading.model import Lock, Selected, Selection

FILES = ("default.nix", "packages.nix", "overrides.nix")

#: Nix keywords: an attribute with such a name must be quoted.
_KEYWORDS = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")
#: The characters Nix allows in a store path name (and so in ``fetchurl``'s ``name``).
_STORE_NAME = re.compile(r"[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*")
#: Hashes Nix's fetchers take in SRI form, preferred first.
_SRI = ("sha256", "sha512")
#: Directory entries left out of a local source tree copied into the store.
_SKIPPED_IN_TREES = (".git", ".hg", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", ".nox")

# ------------------------------------------------------------------------------------------ nix syntax


def string(text: str) -> str:
    """A Nix double-quoted string literal holding ``text`` exactly (``\\``, ``"`` and ``$`` escaped)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def attribute(name: str) -> str:
    """``name`` as a Nix attribute name: bare when it is an identifier, quoted otherwise."""
    if _IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return string(name)


def comment(text: str) -> str:
    """A one-line comment body: no line breaks can end the comment early."""
    return " ".join(text.split())


def sri(hashes: Mapping[str, str]) -> Optional[str]:
    """The lock's hash as an SRI string (``sha256-<base64>``), sha256 first; None when there is none."""
    for algorithm in _SRI:
        value = hashes.get(algorithm)
        if value is None:
            continue
        try:
            digest = binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            continue
        return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"
    return None


# ------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class NixPackage:
    """One attribute of ``packages.nix``."""

    name: str  # canonical (PEP 503) name: the attribute
    version: str
    kind: str  # "wheel" | "sdist" | "directory" | "vcs"
    src: str  # a Nix expression
    native: bool = False  # a wheel with compiled code (not ``-any``)
    dependencies: tuple[str, ...] = ()
    dependencies_known: bool = True
    dropped_cycle: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NixExport:
    """The texts of the output files, and what the CLI should tell the user."""

    files: Mapping[str, str]
    packages: tuple[NixPackage, ...]
    warnings: tuple[str, ...] = field(default=())


def to_nix(lock: Lock, selection: Selection, *, output_dir: Path) -> NixExport:
    """The Nix files for ``selection`` (made from ``lock``); ``output_dir`` is where they will live.

    Every selected file must have a URL or a path: complete name-only locks first (``lading.index.complete``).
    """
    environment = dict(selection.target.environment)
    edges, edges_known = dependency_edges(lock, selection, environment)
    names = {str(canonicalize_name(s.package.name)) for s in selection.selected}
    warnings: list[str] = []
    built: list[NixPackage] = []
    for selected in selection.selected:
        name = str(canonicalize_name(selected.package.name))
        deps = tuple(sorted(d for d in edges.get(name, ()) if d in names and d != name))
        built.append(_package(lock, selected, name, deps, edges_known, output_dir))
    built = _break_cycles(sorted(built, key=lambda p: p.name))
    for package in built:
        if package.dropped_cycle:
            warnings.append(
                f"package {package.name}: dependency cycle with {', '.join(package.dropped_cycle)}: "
                "left out of its propagatedBuildInputs (the environment still holds every package)"
            )
    if not edges_known:
        warnings.append(
            f"{lock.path.name} records no dependency edges: propagatedBuildInputs are left empty and "
            "nixpkgs' runtime dependency check is turned off; the environment lists every package"
        )
    header = _header(lock, selection)
    files = {
        "default.nix": _default_nix(header, selection),
        "packages.nix": _packages_nix(header, built, edges_known),
        "overrides.nix": OVERRIDES,
    }
    return NixExport(files=files, packages=tuple(built), warnings=tuple(warnings))


def write(export: NixExport, directory: Path) -> list[Path]:
    """Write the files into ``directory`` (each through a temporary file and a rename).

    ``overrides.nix`` is the user's: written only when missing, never replaced. Returns what was written.
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(
            "the Nix output is a directory, and this is a file",
            file=directory,
            hint="give -o a directory (default: ./nix); it receives default.nix, packages.nix, overrides.nix",
        )
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        path = directory / name
        if name == "overrides.nix" and (path.exists() or path.is_symlink()):
            continue
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(export.files[name])
            os.chmod(temporary, 0o644)
            if name == "overrides.nix":
                # A link, not a rename: a file that appeared meanwhile is never replaced.
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    continue
                finally:
                    os.unlink(temporary)
            else:
                os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(path)
    return written


# ------------------------------------------------------------------------------------------- packages


def _package(
    lock: Lock, selected: Selected, name: str, deps: tuple[str, ...], deps_known: bool, output_dir: Path,
) -> NixPackage:
    position = next(i for i, p in enumerate(lock.packages) if p is selected.package)
    where = lock.origins[position].entry if position < len(lock.origins) else None
    version = selected.version or "0"
    source = selected.source

    def fail(why: str, hint: str) -> LadingError:
        return LadingError(why, file=lock.path, package=lock.describe(position), field=where, hint=hint)

    if isinstance(source, PackageDirectory):
        notes = ("installed from its source tree, not editable (Nix builds are immutable)",) if source.editable \
            else ()
        src = _tree(absolute(lock, source.path), output_dir, name)
        return NixPackage(name, version, "directory", src, dependencies=deps, dependencies_known=deps_known,
                          notes=notes)
    if isinstance(source, PackageVcs):
        if source.type != "git":
            raise fail(f"a {source.type} source cannot be fetched by Nix's builtins",
                       "replace it by a released version, or define the package in overrides.nix")
        if source.url is None or source.commit_id is None:
            raise fail("a git source needs a URL and a commit to be fetched reproducibly",
                       "lock the git dependency at a commit (every lock tool records one)")
        src = f"builtins.fetchGit {{ url = {string(source.url)}; rev = {string(source.commit_id)}; allRefs = true; }}"
        if source.subdirectory:
            src = f'"${{{src}}}/{_escape_in_string(source.subdirectory)}"'
        return NixPackage(name, version, "vcs", src, dependencies=deps, dependencies_known=deps_known)
    if isinstance(source, (PackageWheel, PackageSdist, PackageArchive)):
        location = source.url or source.path
        if location is None:
            raise fail("the file has neither a URL nor a path",
                       "look the files up on the index first (lading export does, given --index-url)")
        filename = _filename(source)
        is_wheel = filename.endswith(".whl")
        native = is_wheel and not _pure(filename)
        if source.url is None:
            assert source.path is not None
            src = _local_path(absolute(lock, source.path), output_dir)
        else:
            digest = sri(source.hashes)
            if digest is None:
                raise fail(
                    "the lock records no sha256 or sha512 for this file, and Nix's fetchurl needs one",
                    "re-create the lock with hashes (pip-compile --generate-hashes, uv, poetry do)",
                )
            fetch = [f"url = {string(source.url)};", f"hash = {string(digest)};"]
            if _STORE_NAME.fullmatch(filename):
                fetch.append(f"name = {string(filename)};")
            src = "fetchurl { " + " ".join(fetch) + " }"
        return NixPackage(name, version, "wheel" if is_wheel else "sdist", src, native=native, dependencies=deps,
                          dependencies_known=deps_known)
    raise fail(f"unsupported source {type(source).__name__}", "report this lock to lading")


def _filename(source: Union[PackageWheel, PackageSdist, PackageArchive]) -> str:
    if isinstance(source, (PackageWheel, PackageSdist)) and source.filename:
        return source.filename
    location = source.url or source.path or ""
    return location.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _pure(filename: str) -> bool:
    try:
        tags = parse_wheel_filename(filename)[3]
    except Exception:  # an unparsable name: assume it needs patching, which is harmless for pure code
        return False
    return all(tag.platform == "any" for tag in tags)


def _escape_in_string(text: str) -> str:
    return string(text)[1:-1]


def _relative(target: Path, output_dir: Path) -> str:
    try:
        return Path(os.path.relpath(target, os.path.abspath(output_dir))).as_posix()
    except ValueError:  # another drive
        return target.as_posix()


def _local_path(target: Path, output_dir: Path) -> str:
    """A Nix path value for a file or directory, relative to the generated file's own directory."""
    relative = _relative(target, output_dir)
    if os.path.isabs(relative):
        return f"(/. + {string(relative)})"
    return f"(./. + {string('/' + relative)})"


def _tree(target: Path, output_dir: Path, name: str) -> str:
    """A local source tree copied into the store without VCS data, virtualenvs and the Nix output itself."""
    skipped = " ".join(string(s) for s in _SKIPPED_IN_TREES)
    return (
        f"builtins.path {{ path = {_local_path(target, output_dir)}; name = {string(name + '-source')}; "
        f"filter = path: type: path != toString ./. && !(builtins.elem (baseNameOf path) [ {skipped} ]); }}"
    )


def _break_cycles(packages: list[NixPackage]) -> list[NixPackage]:
    """Drop the edges that close a cycle (a derivation cannot depend on itself), in a stable order."""
    by_name = {p.name: p for p in packages}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    dropped: dict[str, list[str]] = {}

    def visit(name: str) -> None:
        state[name] = 1
        for dep in by_name[name].dependencies:
            if state.get(dep) == 1:
                dropped.setdefault(name, []).append(dep)
            elif dep not in state:
                visit(dep)
        state[name] = 2

    for package in packages:
        if package.name not in state:
            visit(package.name)
    result = []
    for package in packages:
        cut = dropped.get(package.name)
        if cut:
            package = NixPackage(
                package.name, package.version, package.kind, package.src, package.native,
                tuple(d for d in package.dependencies if d not in cut), package.dependencies_known,
                tuple(sorted(cut)), package.notes,
            )
        result.append(package)
    return result


# --------------------------------------------------------------------------------- dependency edges

_Edge = tuple[str, frozenset[str]]  # (canonical name, extras requested)


def dependency_edges(
    lock: Lock, selection: Selection, environment: Mapping[str, str],
) -> tuple[dict[str, set[str]], bool]:
    """Per selected package, the names it depends on (extras' dependencies included); and whether the
    lock records edges at all (requirements.txt and Pipfile.lock do not)."""
    versions = {str(canonicalize_name(s.package.name)): s.version for s in selection.selected}
    nodes: Optional[dict[tuple[str, str], list[_Edge]]]
    if lock.format == "pylock":
        nodes = _pylock_nodes(lock)
    elif lock.format in ("uv", "poetry", "pdm"):
        try:
            nodes = _raw_nodes(lock, versions, environment)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            nodes = None  # a lock read once already; if its raw form surprises us, edges are unknown
    else:
        nodes = None
    if nodes is None:
        return {}, False
    result: dict[str, set[str]] = {}
    for name in versions:
        found: set[str] = set()
        seen: set[tuple[str, str]] = set()
        todo: list[tuple[str, str]] = [(name, "")]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for dep, extras in nodes.get(node, ()):
                found.add(dep)
                todo.extend((dep, extra) for extra in extras)
        found.discard(name)
        result[name] = found
    return result, True


def _pylock_nodes(lock: Lock) -> Optional[dict[tuple[str, str], list[_Edge]]]:
    if not any(p.dependencies for p in lock.packages):
        return None
    nodes: dict[tuple[str, str], list[_Edge]] = {}
    for package in lock.packages:
        edges = nodes.setdefault((str(canonicalize_name(package.name)), ""), [])
        for dep in package.dependencies or ():
            dep_name = dep.get("name")
            if isinstance(dep_name, str):
                edges.append((str(canonicalize_name(dep_name)), frozenset()))
    return nodes


def _raw_nodes(
    lock: Lock, versions: Mapping[str, Optional[str]], environment: Mapping[str, str],
) -> dict[tuple[str, str], list[_Edge]]:
    from lading._toml import load_toml

    data = load_toml(lock.path)
    raw = data.get("package", [])
    nodes: dict[tuple[str, str], list[_Edge]] = {}
    for table in raw if isinstance(raw, list) else ():
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            continue
        name = str(canonicalize_name(table["name"]))
        version = table.get("version")
        if name not in versions or (version is not None and versions[name] not in (None, str(version))):
            continue  # another version of a forked package, or not selected
        if lock.format == "uv":
            _uv_node(table, name, nodes, environment)
        elif lock.format == "poetry":
            _poetry_node(table, name, nodes, environment)
        else:
            _pdm_node(table, name, nodes, environment)
    return nodes


def _holds(marker: Any, environment: Mapping[str, str]) -> bool:
    """Whether an edge marker can hold on the target; an unreadable one is kept (an extra edge is harmless)."""
    if not isinstance(marker, str) or not marker.strip():
        return True
    try:
        return Marker(marker).evaluate({**environment, "extra": ""})
    except (InvalidMarker, Exception):
        return True


def _uv_node(table: Mapping[str, Any], name: str, nodes: dict[tuple[str, str], list[_Edge]],
             environment: Mapping[str, str]) -> None:
    def edges(items: Any) -> list[_Edge]:
        out = []
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and isinstance(item.get("name"), str) and _holds(item.get("marker"), environment):
                extras = item.get("extra", [])
                out.append((str(canonicalize_name(item["name"])),
                            frozenset(str(canonicalize_name(x)) for x in extras if isinstance(x, str))))
        return out

    nodes.setdefault((name, ""), []).extend(edges(table.get("dependencies")))
    optional = table.get("optional-dependencies", {})
    for extra, items in (optional.items() if isinstance(optional, dict) else ()):
        nodes.setdefault((name, str(canonicalize_name(extra))), []).extend(edges(items))


def _requirement_edge(text: str, environment: Mapping[str, str]) -> Optional[_Edge]:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        # poetry writes ``name (>=1.0) ; marker``: keep the name and the extras
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", text)
        if match is None:
            return None
        marker = text.split(";", 1)[1] if ";" in text else None
        if not _holds(marker, environment):
            return None
        extras = {x.strip() for x in (match.group(2) or "").split(",") if x.strip()}
        return str(canonicalize_name(match.group(1))), frozenset(str(canonicalize_name(x)) for x in extras)
    if requirement.marker is not None and not _holds(str(requirement.marker), environment):
        return None
    return (str(canonicalize_name(requirement.name)),
            frozenset(str(canonicalize_name(x)) for x in requirement.extras))


def _poetry_node(table: Mapping[str, Any], name: str, nodes: dict[tuple[str, str], list[_Edge]],
                 environment: Mapping[str, str]) -> None:
    base = nodes.setdefault((name, ""), [])
    dependencies = table.get("dependencies", {})
    for dep_name, value in (dependencies.items() if isinstance(dependencies, dict) else ()):
        constraints: Sequence[Any] = value if isinstance(value, list) else [value]
        for constraint in constraints:
            if isinstance(constraint, dict):
                if constraint.get("optional") or not _holds(constraint.get("markers"), environment):
                    continue
                extras = constraint.get("extras", [])
            else:
                extras = []
            base.append((str(canonicalize_name(dep_name)),
                         frozenset(str(canonicalize_name(x)) for x in extras if isinstance(x, str))))
            break
    extras_table = table.get("extras", {})
    for extra, items in (extras_table.items() if isinstance(extras_table, dict) else ()):
        node = nodes.setdefault((name, str(canonicalize_name(extra))), [])
        for item in items if isinstance(items, list) else ():
            edge = _requirement_edge(item, environment) if isinstance(item, str) else None
            if edge is not None:
                node.append(edge)


def _pdm_node(table: Mapping[str, Any], name: str, nodes: dict[tuple[str, str], list[_Edge]],
              environment: Mapping[str, str]) -> None:
    extras = table.get("extras", [])
    keys: Iterable[str] = [str(canonicalize_name(x)) for x in extras if isinstance(x, str)] if isinstance(
        extras, list) and extras else [""]
    edges = []
    for item in table.get("dependencies", []) if isinstance(table.get("dependencies"), list) else ():
        edge = _requirement_edge(item, environment) if isinstance(item, str) else None
        if edge is not None:
            edges.append(edge)
    for key in keys:
        nodes.setdefault((name, key), []).extend(edges)


# --------------------------------------------------------------------------------------------- texts


def _header(lock: Lock, selection: Selection) -> str:
    groups = ", ".join(sorted(selection.groups)) or "none"
    extras = ", ".join(sorted(selection.extras)) or "none"
    return (
        f"# Generated by lading from {comment(lock.path.name)} ({lock.format}) for "
        f"{comment(describe_target(selection))}.\n"
        f"# Groups: {comment(groups)}; extras: {comment(extras)}.\n"
        "# Regenerate with `lading export --to nix`; put your changes in overrides.nix, not here.\n"
    )


def describe_target(selection: Selection) -> str:
    """The target in words, without the interpreter's path (the files must not depend on where lading ran)."""
    env = selection.target.environment
    implementation = {"cpython": "CPython", "pypy": "PyPy"}.get(env.get("implementation_name", ""), "Python")
    version = env.get("python_full_version") or env.get("python_version", "?")
    return f"{implementation} {version} on {env.get('sys_platform', '?')} {env.get('platform_machine', '?')}"


def _default_nix(header: str, selection: Selection) -> str:
    environment = selection.target.environment
    version = environment.get("python_version", "")
    if environment.get("implementation_name") == "cpython" and re.fullmatch(r"3\.\d+", version):
        default_python = f"pkgs.python{version.replace('.', '')} or pkgs.python3"
    else:
        default_python = "pkgs.python3"
    return header + f"""#
# nix-build                        builds the environment: python.withPackages over every package
# nix-build -A packages.NAME       builds one package
# nix-build --arg python 'PYTHON'  uses another interpreter (the wheels were chosen for Python {version})
{{ pkgs ? import <nixpkgs> {{ }}
, python ? {default_python}
, overrides ? import ./overrides.nix
}}:
let
  # The fixed point of the generated set extended by the overrides: `self` is the final set.
  fix = f: let x = f x; in x;
  extends = overlay: f: self: let super = f self; in super // overlay self super;

  expected = {string(version)};
  actual = python.pythonVersion or expected;
  checked = if actual == expected then python else builtins.trace
    "warning: lading chose these files for Python ${{expected}}, but the interpreter is Python ${{actual}}"
    python;

  generated = import ./packages.nix {{
    inherit (pkgs) fetchurl;
    inherit (checked.pkgs) buildPythonPackage;
    # The build backend of an sdist is not in the lock: setuptools is assumed (set another in overrides.nix).
    buildSystem = [ checked.pkgs.setuptools checked.pkgs.wheel ];
    # Wheels with compiled code get their library references fixed on Linux.
    nativeWheel =
      if pkgs.stdenv.isLinux or false then {{
        nativeBuildInputs = [ pkgs.autoPatchelfHook ];
        buildInputs = [ pkgs.stdenv.cc.cc.lib ];
      }} else {{ }};
  }};

  packages = fix (extends (overrides {{ inherit pkgs; python = checked; }}) generated);

  environment = checked.withPackages (_: builtins.filter (p: p != null) (builtins.attrValues packages));
in
environment // {{ inherit packages; python = checked; }}
"""


def _packages_nix(header: str, packages: Sequence[NixPackage], edges_known: bool) -> str:
    lines = [header.rstrip("\n"), "{ fetchurl, buildPythonPackage, buildSystem ? [ ], nativeWheel ? { }, ... }:",
             "self:", "{"]
    if not edges_known:
        lines.append("  # The lock records no dependency edges: propagatedBuildInputs are empty and the runtime")
        lines.append("  # dependency check is off; the environment holds every package, so imports work.")
    for package in packages:
        lines.extend(_package_lines(package, edges_known))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _package_lines(package: NixPackage, edges_known: bool) -> list[str]:
    attrs = [
        f"pname = {string(package.name)};",
        f"version = {string(package.version)};",
        f'format = "{"wheel" if package.kind == "wheel" else "pyproject"}";',
        f"src = {package.src};",
    ]
    if package.kind != "wheel":
        attrs.append("nativeBuildInputs = buildSystem;")
    deps = " ".join(f"self.{attribute(d)}" for d in package.dependencies)
    attrs.append(f"propagatedBuildInputs = [ {deps} ];" if deps else "propagatedBuildInputs = [ ];")
    if not edges_known or package.dropped_cycle:
        # nixpkgs checks a package's requirements against its inputs: not possible without them
        attrs.append("dontCheckRuntimeDeps = true;")
    attrs.append("doCheck = false;")
    lines = [f"  {attribute(package.name)} = buildPythonPackage ({{"]
    for note in package.notes:
        lines.append(f"    # {comment(note)}")
    if package.dropped_cycle:
        lines.append(f"    # left out to break a dependency cycle: {comment(', '.join(package.dropped_cycle))}")
    lines.extend(f"    {a}" for a in attrs)
    lines.append("  }" + (" // nativeWheel);" if package.native else ");"))
    return lines


OVERRIDES = """\
# Your changes to the packages lading generated (packages.nix). lading writes this file only when it is
# missing and never replaces it, so edits here survive `lading export --to nix`.
#
# self: the final package set (with these overrides); super: the generated set. Examples:
#
#   psycopg2 = super.psycopg2.overridePythonAttrs (old: {
#     nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.postgresql.pg_config ];
#     buildInputs = (old.buildInputs or [ ]) ++ [ pkgs.postgresql ];
#   });
#   # an sdist built with another backend than setuptools:
#   mypkg = super.mypkg.overridePythonAttrs (old: {
#     nativeBuildInputs = [ python.pkgs.hatchling ];
#   });
#   # use nixpkgs' own build of a package instead:
#   numpy = python.pkgs.numpy;
{ pkgs, python }:
self: super: {
}
"""


__all__ = ["FILES", "NixExport", "NixPackage", "attribute", "sri", "string", "to_nix", "write"]
