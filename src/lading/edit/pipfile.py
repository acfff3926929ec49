"""Editing a Pipfile: ``[packages]``, ``[dev-packages]`` and custom categories, byte for byte elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lading.edit import _tomltext as tt
from lading.edit._common import (
    EditError,
    PathLike,
    ReqText,
    normalized_spec,
    parse_requirement,
    pins_by_key,
    raise_pep440,
)
from lading.edit.pyproject import poetry_table_add, table_remove

#: Tables of a Pipfile that are not package categories.
NOT_CATEGORIES = frozenset({"source", "requires", "scripts", "pipenv"})
_NO_SKIP: frozenset[str] = frozenset()
# Keys a new requirement replaces; the rest (index, ...) are the user's and stay.
_REPLACED = frozenset(
    {"version", "extras", "markers", "git", "ref", "file", "path", "editable", "subdirectory"}
    | {
        "os_name",
        "sys_platform",
        "platform_machine",
        "platform_system",
        "python_version",
        "platform_python_implementation",
    }
)


def category_for(group: Optional[str]) -> str:
    """The Pipfile table for a ``--group``: none is ``packages``; ``dev`` (pipenv's ``develop``) is ``dev-packages``."""
    if group is None:
        return "packages"
    if canonicalize_name(group) in ("dev", "develop", "dev-packages"):
        return "dev-packages"
    return group


def categories(doc: Any) -> list[str]:
    return [k for k, v in doc.items() if k not in NOT_CATEGORIES and isinstance(v, dict)]


def pipfile_value(req: ReqText, existing: Any) -> Union[str, dict[str, Any]]:
    """What pipenv writes: ``"*"``, ``">=1.2"``, or an inline table when extras, markers or a source are given."""
    new: dict[str, Any] = {}
    if req.url is not None:
        if req.url.startswith("git+"):
            base, _, fragment = req.url[len("git+") :].partition("#")
            head, sep, tail = base.rpartition("@")
            if sep and "/" not in tail and "://" in head:
                new["git"], new["ref"] = head, tail
            else:
                new["git"] = base
            for part in fragment.split("&"):
                if part.startswith("subdirectory="):
                    new["subdirectory"] = part.split("=", 1)[1]
        elif req.url.startswith("file://"):
            new["path"] = req.url[len("file://") :]
        else:
            new["file"] = req.url
    else:
        new["version"] = normalized_spec(req.spec) or "*"
    if req.extras:
        new["extras"] = list(req.extras)
    if req.marker:
        new["markers"] = req.marker
    result: dict[str, Any] = {}
    if isinstance(existing, dict):
        for key, value in existing.items():
            if key in new:
                result[key] = new[key]
            elif key not in _REPLACED:
                result[key] = value
    for key, value in new.items():
        result.setdefault(key, value)
    if list(result) == ["version"]:
        return str(result["version"])
    return result


def add_requirement(text: str, path: PathLike, requirement: str, *, group: Optional[str] = None) -> str:
    """Add ``requirement`` to the category (``[packages]`` by default), replacing an entry of the same name."""
    req = parse_requirement(requirement, file=path, field="requirement")
    doc = tt.parse(text, path)
    category = category_for(group)
    anchor = [(c,) for c in reversed(categories(doc))]
    return poetry_table_add(
        text,
        path,
        (category,),
        req.name,
        req.key,
        lambda existing: pipfile_value(req, existing),
        anchor=anchor,
        skip=_NO_SKIP,
    )


def remove_requirement(text: str, path: PathLike, name: str, *, group: Optional[str] = None) -> str:
    """Remove every entry named ``name`` from the category; absent: an error saying where it is."""
    key = canonicalize_name(parse_requirement(name, file=path, field="name").name)
    doc = tt.parse(text, path)
    category = category_for(group)
    if key not in _keys(doc, category):
        where = [f"[{c}]" for c in categories(doc) if key in _keys(doc, c)]
        hint = "it is in " + ", ".join(where) if where else "it is not listed anywhere in this file"
        raise EditError(f"{name!r} is not in [{category}]", file=path, package=name, field=category, hint=hint)
    return table_remove(text, path, (category,), key, _NO_SKIP)


def _keys(doc: Any, category: str) -> set[NormalizedName]:
    table = tt.lookup(doc, (category,))
    return {canonicalize_name(k) for k in table} if isinstance(table, dict) else set()


def set_lower_bounds(text: str, path: PathLike, pins: Mapping[str, Union[str, Version]]) -> str:
    """Raise the lower bound of each named package, in every category, to its locked version."""
    targets = pins_by_key(pins, file=path)
    for category in categories(tt.parse(text, path)):
        table = tt.get_path(tt.plain(text, path), (category,)) or {}
        for name, value in table.items():
            target = targets.get(canonicalize_name(name))
            if target is None:
                continue
            text = _bump(text, path, (category, name), value, target)
    return text


def _bump(text: str, file: PathLike, keys: tuple[str, ...], value: Any, target: Version) -> str:
    if isinstance(value, str):
        where = keys
        spec = value
    elif isinstance(value, dict) and isinstance(value.get("version"), str):
        where = (*keys, "version")
        spec = value["version"]
    else:
        return text
    new_spec = ">=" + str(target) if spec.strip() in ("", "*") else raise_pep440(spec, target)
    if new_spec is None:
        return text
    start, end = tt.value_span(text, where, file)
    out = text[:start] + tt.render_string(new_spec, text[start]) + text[end:]
    return tt.checked(text, out, file, lambda d: tt.set_path(d, where, new_spec), ".".join(where))
