"""Editing the requirements of a pyproject.toml: PEP 621 arrays, PEP 735 groups and poetry's tables.

Text in, text out: only the entry being edited changes; comments, blank lines, quoting, key order and the
rest of the file stay byte for byte (see ``_tomltext``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import tomlkit.items
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lading.edit import _tomltext as tt
from lading.edit._common import (
    EditError,
    PathLike,
    ReqText,
    insert_block,
    line_ending,
    normalized_spec,
    parse_requirement,
    pins_by_key,
    raise_pep440,
    raise_poetry,
    requirement_key,
)
from lading.errors import LadingError, UsageError

Keys = tuple[str, ...]

_PROJECT_DEPS: Keys = ("project", "dependencies")
_POETRY: Keys = ("tool", "poetry")
_POETRY_DEPS: Keys = ("tool", "poetry", "dependencies")
_POETRY_DEV: Keys = ("tool", "poetry", "dev-dependencies")
_POETRY_EXTRAS: Keys = ("tool", "poetry", "extras")
# Keys of a poetry dependency table that a new requirement replaces; any other (source, optional,
# allow-prereleases, ...) is the user's and is kept.
_POETRY_REPLACED = frozenset(
    {"version", "extras", "markers", "python", "platform", "git", "rev", "branch", "tag", "url", "path",
     "subdirectory", "develop"}
)  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where requirements live: a PEP 508 array or a poetry table (``poetry``), and how it reads."""

    keys: Keys
    label: str
    poetry: bool = False


# --- finding the place ----------------------------------------------------------------------------------


def is_poetry(doc: Any) -> bool:
    """A poetry project keeps its dependencies under [tool.poetry] (no [project] dependencies)."""
    poetry = tt.lookup(doc, _POETRY)
    if not isinstance(poetry, dict):
        return False
    project = tt.lookup(doc, ("project",))
    if isinstance(project, dict) and "dependencies" in project:
        return False
    dynamic = project.get("dynamic", []) if isinstance(project, dict) else []
    return project is None or "dependencies" in poetry or "dependencies" in dynamic


def _match_key(table: Any, wanted: str) -> Optional[str]:
    if not isinstance(table, dict):
        return None
    key = canonicalize_name(wanted)
    return next((k for k in table if canonicalize_name(k) == key), None)


def _poetry_group(doc: Any, group: str) -> Keys:
    groups = tt.lookup(doc, (*_POETRY, "group"))
    existing = _match_key(groups, group)
    if existing is not None:
        return (*_POETRY, "group", existing, "dependencies")
    if canonicalize_name(group) == "dev" and isinstance(tt.lookup(doc, _POETRY_DEV), dict):
        return _POETRY_DEV
    return (*_POETRY, "group", group, "dependencies")


def place_for(doc: Any, file: PathLike, *, group: Optional[str], optional: Optional[str]) -> Place:
    if group is not None and optional is not None:
        raise UsageError("--group and --optional cannot be used together", file=file)
    if is_poetry(doc):
        if optional is not None:
            return Place(_POETRY_DEPS, "[tool.poetry.dependencies]", poetry=True)
        if group is not None:
            keys = _poetry_group(doc, group)
            return Place(keys, "[" + ".".join(keys) + "]", poetry=True)
        return Place(_POETRY_DEPS, "[tool.poetry.dependencies]", poetry=True)
    project = tt.lookup(doc, ("project",))
    if optional is not None:
        name = _match_key(tt.lookup(doc, ("project", "optional-dependencies")), optional) or optional
        return Place(("project", "optional-dependencies", name), f"[project.optional-dependencies] {name}")
    if group is not None:
        found = _match_key(tt.lookup(doc, ("dependency-groups",)), group)
        if found is None and isinstance(tt.lookup(doc, _POETRY), dict):
            keys = (*_POETRY, "group", group, "dependencies")
            if isinstance(tt.lookup(doc, keys), dict):
                return Place(keys, "[" + ".".join(keys) + "]", poetry=True)
        name = found or group
        return Place(("dependency-groups", name), f"[dependency-groups] {name}")
    if not isinstance(project, dict):
        raise EditError(
            "no [project] table to add dependencies to",
            file=file,
            field="project",
            hint="add a [project] table with a name and version (or use a poetry [tool.poetry] table)",
        )
    if "dependencies" not in project and "dependencies" in project.get("dynamic", []):
        raise EditError(
            "dependencies are dynamic (filled in by the build backend), so they cannot be edited here",
            file=file,
            field="project.dynamic",
            hint="add the requirement where the build backend reads it from",
        )
    return Place(_PROJECT_DEPS, "[project] dependencies")


def all_places(doc: Any) -> list[Place]:
    """Every place a requirement can be listed, in the file's terms."""
    places = [Place(_PROJECT_DEPS, "[project] dependencies")]
    for name in tt.lookup(doc, ("project", "optional-dependencies")) or {}:
        places.append(Place(("project", "optional-dependencies", name), f"[project.optional-dependencies] {name}"))
    for name in tt.lookup(doc, ("dependency-groups",)) or {}:
        places.append(Place(("dependency-groups", name), f"[dependency-groups] {name}"))
    places.append(Place(_POETRY_DEPS, "[tool.poetry.dependencies]", poetry=True))
    places.append(Place(_POETRY_DEV, "[tool.poetry.dev-dependencies]", poetry=True))
    for name in tt.lookup(doc, (*_POETRY, "group")) or {}:
        keys = (*_POETRY, "group", name, "dependencies")
        places.append(Place(keys, "[" + ".".join(keys) + "]", poetry=True))
    return places


def _entries(doc: Any, place: Place) -> list[tuple[int, str, Optional[NormalizedName]]]:
    """(index or -1, key or text, canonical name) of every entry at ``place``."""
    value = tt.lookup(doc, place.keys)
    if place.poetry:
        if not isinstance(value, dict):
            return []
        return [(-1, k, None if k == "python" else canonicalize_name(k)) for k in value]
    if not isinstance(value, list):
        return []
    return [(i, v, requirement_key(v) if isinstance(v, str) else None) for i, v in enumerate(value)]


def _present_in(doc: Any, key: NormalizedName) -> list[str]:
    return [p.label for p in all_places(doc) if any(k == key for _, _, k in _entries(doc, p))]


def _hint_for(label: str) -> str:
    if label.startswith("[dependency-groups] "):
        return f"--group {label.split(' ', 1)[1]}"
    if label.startswith("[project.optional-dependencies] "):
        return f"--optional {label.split(' ', 1)[1]}"
    if ".group." in label:
        return "--group " + label.split(".group.", 1)[1].rsplit(".dependencies", 1)[0]
    if label == "[tool.poetry.dev-dependencies]":
        return "--group dev"
    return "no --group/--optional"


# --- PEP 508 arrays -------------------------------------------------------------------------------------


def _array_add(text: str, file: PathLike, keys: Keys, req: ReqText) -> str:
    doc = tt.parse(text, file)
    eol = line_ending(text)
    array = tt.lookup(doc, keys)
    entry = req.rendered(spec=normalized_spec(req.spec), marker_quote='"')
    if array is None:
        return _create_array(text, file, doc, keys, req, eol)
    field = ".".join(keys)
    if not isinstance(array, tomlkit.items.Array):
        raise EditError("is not an array of requirements", file=file, field=field, hint="fix the manifest by hand")
    start, end = tt.value_span(text, keys, file)
    source = text[start:end]
    items = tt.elements(source)
    raws = [source[e.start : e.end] for e in items]
    values: list[Any] = array.unwrap()
    names = [requirement_key(v) if isinstance(v, str) else None for v in values]
    quote = tt.string_style(raws)
    same = [i for i, k in enumerate(names) if k == req.key]
    wanted = list(values)
    if same:
        chosen = same[0]
        if len(same) > 1 and req.requirement.marker is not None:
            by_marker = [i for i in same if _marker_of(values[i]) == str(req.requirement.marker)]
            chosen = by_marker[0] if len(by_marker) == 1 else chosen
            same = [chosen] if len(by_marker) == 1 else same
        own_quote = raws[chosen][0] if raws[chosen][:1] in ("'", '"') else quote
        entry = req.rendered(spec=normalized_spec(req.spec), marker_quote=_inner_quote(own_quote))
        dropped = [i for i in same if i != chosen]
        for index in reversed(dropped):
            source = tt.array_delete(source, index)
        wanted = [v for i, v in enumerate(values) if i not in dropped]
        chosen -= sum(1 for i in dropped if i < chosen)
        source = tt.array_replace(source, chosen, tt.render_string(entry, own_quote))
        wanted[chosen] = entry
    else:
        entry = req.rendered(spec=normalized_spec(req.spec), marker_quote=_inner_quote(quote))
        present = [k for k in names if k is not None]
        index = len(values)
        if present == sorted(present):
            index = next((i for i, k in enumerate(names) if k is not None and k > req.key), len(values))
        source = tt.array_insert(source, index, tt.render_string(entry, quote), eol)
        wanted.insert(index, entry)
    out = text[:start] + source + text[end:]
    return tt.checked(text, out, file, lambda d: tt.set_path(d, keys, wanted), field)


def _marker_of(value: Any) -> Optional[str]:
    try:
        marker = parse_requirement(str(value), file=None).requirement.marker
    except LadingError:
        return None
    return str(marker) if marker is not None else None


def _inner_quote(toml_quote: str) -> str:
    """Marker strings inside a TOML string use the other quote, so neither needs escaping."""
    return '"' if toml_quote == "'" else "'"


def _create_array(text: str, file: PathLike, doc: Any, keys: Keys, req: ReqText, eol: str) -> str:
    table_keys = keys[:-1]
    table = tt.lookup(doc, table_keys)
    # Siblings decide the layout: one-line arrays beside one-line arrays, else one entry per line.
    siblings = [v.as_string() for v in table.values() if isinstance(v, tomlkit.items.Array)] if table else []
    quote = tt.string_style([r for s in siblings for r in _raw_strings(s)])
    entry = req.rendered(spec=normalized_spec(req.spec), marker_quote=_inner_quote(quote))
    if siblings and all("\n" not in s for s in siblings):
        body = [f"{tt.render_key(keys[-1])} = [{tt.render_string(entry, quote)}]"]
    else:
        body = [f"{tt.render_key(keys[-1])} = [", "    " + tt.render_string(entry, quote) + ",", "]"]
    field = ".".join(keys)
    if isinstance(table, tomlkit.items.InlineTable):
        raise EditError(
            f"{'.'.join(table_keys)} is an inline table; lading adds keys only to [tables]",
            file=file,
            field=field,
            hint=f"add {keys[-1]} = [...] by hand, or write {'.'.join(table_keys)} as a [table]",
        )
    if isinstance(table, dict):
        pos = tt.table_end(text, table_keys, file)
        out = insert_block(text, pos, "".join(line + eol for line in body), eol)
    elif table_keys == ("project", "optional-dependencies"):
        pos = tt.table_end(text, ("project",), file)
        out = tt.new_table(text, pos, ".".join(table_keys), body, eol)
    else:
        out = tt.new_table(text, len(text), ".".join(tt.render_key(k) for k in table_keys), body, eol)
    return tt.checked(text, out, file, lambda d: tt.set_path(d, keys, [entry]), field)


def _raw_strings(array: str) -> list[str]:
    return [array[e.start : e.end] for e in tt.elements(array)]


def _array_remove(text: str, file: PathLike, keys: Keys, key: NormalizedName) -> str:
    doc = tt.parse(text, file)
    array = tt.lookup(doc, keys)
    values: list[Any] = array.unwrap() if isinstance(array, tomlkit.items.Array) else []
    same = [i for i, v in enumerate(values) if isinstance(v, str) and requirement_key(v) == key]
    if not same:
        return text
    start, end = tt.value_span(text, keys, file)
    source = text[start:end]
    for index in reversed(same):
        source = tt.array_delete(source, index)
    wanted = [v for i, v in enumerate(values) if i not in same]
    out = text[:start] + source + text[end:]
    return tt.checked(text, out, file, lambda d: tt.set_path(d, keys, wanted), ".".join(keys))


# --- poetry tables --------------------------------------------------------------------------------------


def _split_vcs(url: str) -> dict[str, Any]:
    """A ``git+`` URL as poetry's git table: ``git``, ``rev``, ``subdirectory``."""
    base, _, fragment = url[len("git+") :].partition("#")
    fields: dict[str, Any] = {}
    scheme, sep, rest = base.partition("://")
    path = rest if sep else base
    rev = None
    if "@" in path.rsplit("/", 1)[-1]:
        path, rev = path.rsplit("@", 1)
    fields["git"] = (scheme + sep if sep else "") + path
    if rev:
        fields["rev"] = rev
    for part in fragment.split("&"):
        if part.startswith("subdirectory="):
            fields["subdirectory"] = part.split("=", 1)[1]
    return fields


def poetry_value(req: ReqText, existing: Any, *, optional: bool = False) -> Union[str, dict[str, Any]]:
    """The value poetry writes for ``req``, keeping the user's own keys of an existing table."""
    new: dict[str, Any] = {}
    if req.url is not None:
        if req.url.startswith("git+"):
            new.update(_split_vcs(req.url))
        elif req.url.startswith("file:"):
            new["path"] = req.url[len("file://") :] if req.url.startswith("file://") else req.url[len("file:") :]
        else:
            new["url"] = req.url
    else:
        new["version"] = normalized_spec(req.spec) or "*"
    if req.extras:
        new["extras"] = list(req.extras)
    if req.marker:
        new["markers"] = req.marker
    if optional:
        new["optional"] = True
    result: dict[str, Any] = {}
    if isinstance(existing, dict):
        for key, value in existing.items():
            if key in new:
                result[key] = new[key]
            elif key not in _POETRY_REPLACED:
                result[key] = value
    for key, value in new.items():
        result.setdefault(key, value)
    if list(result) == ["version"]:
        return str(result["version"])
    return result


def _poetry_strings(table: Any) -> list[str]:
    if not isinstance(table, dict):
        return []
    return [v.as_string() for v in table.values() if isinstance(v, tomlkit.items.String)]


def poetry_table_add(
    text: str,
    file: PathLike,
    keys: Keys,
    name: str,
    key: NormalizedName,
    make: Any,
    *,
    anchor: Sequence[Keys] = (),
    skip: frozenset[str] = frozenset({"python"}),
) -> str:
    """Add or replace ``name`` in the table at ``keys``; ``make(existing)`` gives the value.

    Shared by poetry's tables and the Pipfile: same key per package, sorted insertion when sorted.
    """
    doc = tt.parse(text, file)
    eol = line_ending(text)
    table = tt.lookup(doc, keys)
    field = ".".join(keys)
    if table is not None and not isinstance(table, dict):
        raise EditError("is not a table", file=file, field=field, hint="fix the manifest by hand")
    quote = tt.string_style(_poetry_strings(table))
    plain_table = tt.get_path(tt.plain(text, file), keys) or {}
    existing_key = next((k for k in (table or {}) if k not in skip and canonicalize_name(k) == key), None)
    if existing_key is not None:
        value = make(plain_table.get(existing_key))
        start, end = tt.value_span(text, (*keys, existing_key), file)
        out = text[:start] + tt.render_value(value, quote) + text[end:]
        return tt.checked(text, out, file, lambda d: tt.set_path(d, (*keys, existing_key), value), field)
    value = make(None)
    line = f"{tt.render_key(name)} = {tt.render_value(value, quote)}"
    if table is None:
        pos = len(text)
        for candidate in anchor:
            if isinstance(tt.lookup(doc, candidate), dict):
                pos = tt.table_end(text, candidate, file)
                break
        out = tt.new_table(text, pos, ".".join(tt.render_key(k) for k in keys), [line], eol)
        return tt.checked(text, out, file, lambda d: tt.set_path(d, (*keys, name), value), field)
    if isinstance(table, tomlkit.items.InlineTable):
        raise EditError("is an inline table; lading adds keys only to [tables]", file=file, field=field)
    names = [
        (k, canonicalize_name(k)) for k, v in table.items() if k not in skip and not isinstance(v, tomlkit.items.Table)
    ]
    present = [n for _, n in names]
    after = next((k for k, n in names if n > key), None) if present == sorted(present) else None
    if after is not None:
        vstart, _ = tt.value_span(text, (*keys, after), file)
        start = tt.line_start(text, vstart)
        indent = text[start : start + len(text[start:vstart]) - len(text[start:vstart].lstrip(" \t"))]
        start = tt.attached_comments_start(text, start, 0)
        out = text[:start] + indent + line + eol + text[start:]
    else:
        out = insert_block(text, tt.table_end(text, keys, file), line + eol, eol)
    return tt.checked(text, out, file, lambda d: tt.set_path(d, (*keys, name), value), field)


def table_remove(text: str, file: PathLike, keys: Keys, key: NormalizedName, skip: frozenset[str]) -> str:
    """Remove every key of canonical name ``key`` (with its whole line) from the table at ``keys``."""
    doc = tt.parse(text, file)
    table = tt.lookup(doc, keys)
    if not isinstance(table, dict):
        return text
    for name in [k for k in table if k not in skip and canonicalize_name(k) == key]:
        if isinstance(table, tomlkit.items.InlineTable):
            raise EditError("is an inline table; lading removes keys only from [tables]", file=file)
        start, end = tt.value_span(text, (*keys, name), file)
        out = tt.delete_lines(text, tt.line_start(text, start), tt.line_end(text, end))

        def drop(d: dict[str, Any], name: str = name) -> None:
            tt.delete_path(d, (*keys, name))

        text = tt.checked(text, out, file, drop, ".".join(keys))
    return text


# --- public API -----------------------------------------------------------------------------------------


def add_requirement(
    text: str,
    path: PathLike,
    requirement: str,
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
) -> str:
    """Add ``requirement`` (or replace the entry of the same name in place) and return the new text.

    ``[project] dependencies`` by default; ``[dependency-groups] <group>`` with ``group``;
    ``[project.optional-dependencies] <optional>`` with ``optional``; a poetry project's tables instead.
    """
    req = parse_requirement(requirement, file=path, field="requirement")
    doc = tt.parse(text, path)
    place = place_for(doc, path, group=group, optional=optional)
    if not place.poetry:
        return _array_add(text, path, place.keys, req)
    anchor: list[Keys] = []
    if place.keys != _POETRY_DEPS:
        groups = tt.lookup(doc, (*_POETRY, "group")) or {}
        anchor = [(*_POETRY, "group", g, "dependencies") for g in reversed(list(groups))]
        anchor += [_POETRY_DEPS, _POETRY]
    else:
        anchor = [_POETRY]
    out = poetry_table_add(
        text,
        path,
        place.keys,
        req.name,
        req.key,
        lambda existing: poetry_value(req, existing, optional=optional is not None),
        anchor=anchor,
    )
    if optional is None:
        return out
    return _poetry_extra_add(out, path, optional, req)


def _poetry_extra_add(text: str, file: PathLike, extra: str, req: ReqText) -> str:
    doc = tt.parse(text, file)
    extras = tt.lookup(doc, _POETRY_EXTRAS)
    name = _match_key(extras, extra)
    if name is not None:
        listed = tt.lookup(doc, (*_POETRY_EXTRAS, name))
        if isinstance(listed, list) and any(requirement_key(str(v)) == req.key for v in listed):
            return text
        return _array_add(text, file, (*_POETRY_EXTRAS, name), parse_requirement(req.name, file=file))
    eol = line_ending(text)
    quote = tt.string_style(
        [v.as_string() for vs in (extras or {}).values() if isinstance(vs, list) for v in vs if hasattr(v, "as_string")]
    )
    line = f"{tt.render_key(extra)} = [{tt.render_string(req.name, quote)}]"
    if isinstance(extras, dict):
        out = insert_block(text, tt.table_end(text, _POETRY_EXTRAS, file), line + eol, eol)
    else:
        out = tt.new_table(text, tt.table_end(text, _POETRY_DEPS, file), "tool.poetry.extras", [line], eol)
    return tt.checked(text, out, file, lambda d: tt.set_path(d, (*_POETRY_EXTRAS, extra), [req.name]), "extras")


def remove_requirement(
    text: str,
    path: PathLike,
    name: str,
    *,
    group: Optional[str] = None,
    optional: Optional[str] = None,
) -> str:
    """Remove every entry named ``name`` (any spelling) from the chosen place; absent: an error saying where it is."""
    key = canonicalize_name(parse_requirement(name, file=path, field="name").name)
    doc = tt.parse(text, path)
    place = place_for(doc, path, group=group, optional=optional)
    poetry_extra = place.poetry and optional is not None
    if poetry_extra:
        extras = tt.lookup(doc, _POETRY_EXTRAS)
        extra = _match_key(extras, optional or "")
        listed = tt.lookup(doc, (*_POETRY_EXTRAS, extra)) if extra is not None else None
        if extra is None or not any(requirement_key(str(v)) == key for v in listed or []):
            raise _absent(doc, path, name, key, f"[tool.poetry.extras] {optional}")
        out = _array_remove(text, path, (*_POETRY_EXTRAS, extra), key)
        others = tt.lookup(tt.parse(out, path), _POETRY_EXTRAS) or {}
        if any(requirement_key(str(v)) == key for vs in others.values() for v in vs):
            return out
        return table_remove(out, path, _POETRY_DEPS, key, frozenset({"python"}))
    if not any(k == key for _, _, k in _entries(doc, place)):
        raise _absent(doc, path, name, key, place.label)
    if place.poetry:
        return table_remove(text, path, place.keys, key, frozenset({"python"}))
    return _array_remove(text, path, place.keys, key)


def _absent(doc: Any, file: PathLike, name: str, key: NormalizedName, label: str) -> EditError:
    where = _present_in(doc, key)
    if where:
        hint = "it is in " + "; ".join(f"{w} ({_hint_for(w)})" for w in where)
    else:
        hint = "it is not listed anywhere in this file"
    return EditError(f"{name!r} is not in {label}", file=file, package=name, field=label, hint=hint)


def set_lower_bounds(text: str, path: PathLike, pins: Mapping[str, Union[str, Version]]) -> str:
    """Raise each named requirement's lower bound to its locked version, everywhere in the file (``--bump``).

    ``>=X`` becomes ``>=Y``; ``~=``, ``^`` and ``~`` keep their upper bound; exact pins stay; a requirement
    with no lower bound gets ``>=Y``. Extras, markers and the text around the specifier are kept.
    """
    targets = pins_by_key(pins, file=path)
    for place in all_places(tt.parse(text, path)):
        text = _bump_place(text, path, place, targets)
    return text


def _bump_place(text: str, file: PathLike, place: Place, targets: Mapping[NormalizedName, Version]) -> str:
    doc = tt.parse(text, file)
    for index, entry, key in _entries(doc, place):
        if key is None or key not in targets:
            continue
        if place.poetry:
            text = _bump_poetry(text, file, place.keys, entry, targets[key])
        else:
            text = _bump_array_entry(text, file, place.keys, index, entry, targets[key])
    return text


def _bump_array_entry(text: str, file: PathLike, keys: Keys, index: int, value: str, target: Version) -> str:
    req = parse_requirement(value, file=file, field=f"{'.'.join(keys)}[{index}]")
    if req.url is not None:
        return text
    new_spec = raise_pep440(req.spec, target)
    if new_spec is None:
        return text
    lead = len(value) - len(value.lstrip())
    spec_start, spec_end = req.spec_span[0] + lead, req.spec_span[1] + lead
    new_value = value[:spec_start] + new_spec + value[spec_end:]
    start, end = tt.value_span(text, keys, file)
    source = text[start:end]
    element = tt.elements(source)[index]
    raw = source[element.start : element.end]
    delim = 3 if raw[:3] in ('"""', "'''") else 1
    if raw[delim : delim + spec_end] == value[:spec_end]:
        new_raw = raw[:delim] + value[:spec_start] + new_spec + raw[delim + spec_end :]
    else:
        new_raw = tt.render_string(new_value, raw[:1])
    source = tt.array_replace(source, index, new_raw)
    out = text[:start] + source + text[end:]

    def expect(d: dict[str, Any]) -> None:
        tt.get_path(d, keys)[index] = new_value

    return tt.checked(text, out, file, expect, ".".join(keys))


def _bump_poetry(text: str, file: PathLike, keys: Keys, name: str, target: Version) -> str:
    value = tt.get_path(tt.plain(text, file), (*keys, name))
    if isinstance(value, str):
        where: Keys = (*keys, name)
        spec = value
    elif isinstance(value, dict) and isinstance(value.get("version"), str):
        where = (*keys, name, "version")
        spec = value["version"]
    else:
        return text  # git, path, url or a list of constraints: no single lower bound to raise
    new_spec = raise_poetry(spec, target)
    if new_spec is None:
        return text
    start, end = tt.value_span(text, where, file)
    raw = text[start:end]
    out = text[:start] + tt.render_string(new_spec, raw[:1]) + text[end:]
    return tt.checked(text, out, file, lambda d: tt.set_path(d, where, new_spec), ".".join(where))
