"""Decide the ``dependency_groups`` / ``extras`` parts of a package marker ahead of installation.

A lock's package markers say which groups and extras need a package
(``'dev' in dependency_groups``).
Formats that cannot express groups (requirements.txt, an installer that only knows default groups)
need those parts decided for the groups and extras the user asked for, leaving only the environment
part (``sys_platform == "linux"``) to be evaluated where the file is installed.

``packaging`` offers no marker transformation API, so the parsed tree (``Marker._markers``: tuples
``(lhs, op, rhs)``, the strings ``"and"``/``"or"`` and nested lists) is read, the group and extra
leaves are replaced by constants, the constants are folded away and a marker is rebuilt from the
remaining leaves. Leaves are never re-interpreted: they are serialized back exactly as packaging
wrote them, so the result evaluates the environment exactly as the original did.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Callable, Literal, Optional, Union

from packaging._parser import Value, Variable
from packaging.markers import Marker
from packaging.utils import canonicalize_name

AtomKind = Literal["group", "extra"]

#: Given an atom's kind and (normalized) name: True/False to decide it, None to keep it.
Decide = Callable[[AtomKind, str], Optional[bool]]

#: ``None``: always needed; ``False``: never needed; a marker: needed where it holds.
Baked = Union[Marker, None, Literal[False]]

_SET_VARIABLES = {"dependency_groups": "group", "extras": "extra"}


class UnbakeableMarker(ValueError):
    """A marker uses ``extras``/``dependency_groups`` in a way that is not a membership test."""


@dataclass(frozen=True)
class _Leaf:
    text: str


@dataclass(frozen=True)
class _All:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Any:
    items: tuple[_Node, ...]


_Node = Union[bool, _Leaf, _All, _Any]


def bake_groups(
    marker: Optional[Marker],
    groups: Collection[str],
    extras: Collection[str],
) -> Baked:
    """Decide every group and extra atom: the requested ones hold, the others do not."""
    chosen_groups = {canonicalize_name(g) for g in groups}
    chosen_extras = {canonicalize_name(e) for e in extras}

    def decide(kind: AtomKind, name: str) -> bool:
        return name in (chosen_groups if kind == "group" else chosen_extras)

    return resolve_atoms(marker, decide)


def resolve_atoms(marker: Optional[Marker], decide: Decide) -> Baked:
    """The marker with the atoms ``decide`` settles replaced by their value, then simplified."""
    if marker is None:
        return None
    node = _fold(_tree(marker._markers, decide))
    if node is True:
        return None
    if node is False:
        return False
    return Marker(_text(node, nested=False))


def _tree(markers: Sequence[object], decide: Decide) -> _Node:
    # "and" binds tighter than "or": split on "or" into conjunctions, as packaging evaluates them.
    disjuncts: list[list[_Node]] = [[]]
    for item in markers:
        if item == "or":
            disjuncts.append([])
        elif item == "and":
            continue
        elif isinstance(item, list):
            disjuncts[-1].append(_tree(item, decide))
        elif isinstance(item, tuple):
            disjuncts[-1].append(_leaf(item, decide))
        else:  # pragma: no cover - packaging's tree holds nothing else
            raise UnbakeableMarker(f"unexpected marker element {item!r}")
    return _Any(tuple(_All(tuple(d)) for d in disjuncts))


def _leaf(item: tuple[object, ...], decide: Decide) -> _Node:
    lhs, op, rhs = item
    op_text = str(getattr(op, "value", op))
    if isinstance(rhs, Variable) and rhs.value in _SET_VARIABLES and isinstance(lhs, Value):
        if op_text not in ("in", "not in"):
            raise UnbakeableMarker(f"{rhs.value} can only be tested with 'in' / 'not in'")
        kind: AtomKind = "group" if rhs.value == "dependency_groups" else "extra"
        return _decided(decide(kind, canonicalize_name(lhs.value)), op_text == "in", item)
    # Markers written for package metadata (``extra == "x"``) mean the same as ``'x' in extras``.
    for var, val in ((lhs, rhs), (rhs, lhs)):
        if isinstance(var, Variable) and var.value == "extra" and isinstance(val, Value):
            if op_text not in ("==", "!="):
                raise UnbakeableMarker(f"extra is compared with '==' or '!=', not {op_text}")
            return _decided(decide("extra", canonicalize_name(val.value)), op_text == "==", item)
    for side in (lhs, rhs):
        if isinstance(side, Variable) and side.value in _SET_VARIABLES:
            raise UnbakeableMarker(f"{side.value} can only appear as in \"'name' in {side.value}\"")
    return _Leaf(_serialize(item))


def _decided(value: Optional[bool], positive: bool, item: tuple[object, ...]) -> _Node:
    if value is None:
        return _Leaf(_serialize(item))
    return value if positive else not value


def _serialize(item: tuple[object, ...]) -> str:
    return " ".join(part.serialize() for part in item)  # type: ignore[attr-defined]


def _fold(node: _Node) -> _Node:
    if isinstance(node, (bool, _Leaf)):
        return node
    conjunction = isinstance(node, _All)
    # In a conjunction True adds nothing and False decides; in a disjunction the other way round.
    neutral, absorbing = conjunction, not conjunction
    kept: list[_Node] = []
    for child in (_fold(c) for c in node.items):
        if child is absorbing:
            return absorbing
        if child is neutral:
            continue
        # Flatten same-kind nesting so the rebuilt marker does not grow parentheses on every pass.
        same_kind = isinstance(child, _All if conjunction else _Any)
        for part in child.items if same_kind else (child,):  # type: ignore[union-attr]
            if part not in kept:
                kept.append(part)
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    return _All(tuple(kept)) if conjunction else _Any(tuple(kept))


def _text(node: _Node, *, nested: bool) -> str:
    if isinstance(node, _Leaf):
        return node.text
    assert isinstance(node, (_All, _Any)), "constants are folded away before rendering"
    joiner = " and " if isinstance(node, _All) else " or "
    inner = joiner.join(_text(c, nested=True) for c in node.items)
    return f"({inner})" if nested else inner
