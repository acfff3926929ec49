"""Turn a locked dependency graph (markers on edges) into one marker per package.

uv.lock and poetry.lock before 2.1 record markers on the edges between packages, not on the packages.
PEP 751 wants a marker per package. A package is needed when some path from a root reaches it with every
edge marker true, so its marker is the OR over paths of the AND of the edge markers on the path.

Conditions are kept in disjunctive normal form over *atoms* (normalised marker strings, evaluated only by
``packaging``): a set of clauses, each a set of atoms that must all hold. Absorption (a clause that is a
superset of another adds nothing) keeps them small, and because the atoms are finite the propagation
reaches a fixed point even on cyclic graphs.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Optional, TypeVar

from packaging.markers import InvalidMarker, Marker

from lading.errors import LockFormatError

Clause = frozenset[str]
Condition = frozenset[Clause]

ALWAYS: Condition = frozenset({frozenset()})
NEVER: Condition = frozenset()

N = TypeVar("N", bound=Hashable)


def atom(marker: Optional[str]) -> Condition:
    """The condition of one marker string (``None`` or empty: always)."""
    if marker is None or not marker.strip():
        return ALWAYS
    text = str(Marker(marker))
    return frozenset({frozenset({text})})


def both(a: Condition, b: Condition) -> Condition:
    return simplify(frozenset(x | y for x in a for y in b))


def either(a: Condition, b: Condition) -> Condition:
    return simplify(a | b)


def simplify(condition: Iterable[Clause]) -> Condition:
    clauses = sorted(set(condition), key=len)
    kept: list[Clause] = []
    for clause in clauses:
        if not any(k <= clause for k in kept):
            kept.append(clause)
    return frozenset(kept)


def propagate(
    roots: Mapping[N, Condition],
    edges: Mapping[N, Sequence[tuple[N, Condition]]],
) -> dict[N, Condition]:
    """The condition under which each node is reached from the roots (absent: never reached)."""
    reached: dict[N, Condition] = {}
    queue: deque[N] = deque()
    for node, condition in roots.items():
        reached[node] = either(reached.get(node, NEVER), condition)
        queue.append(node)
    while queue:
        node = queue.popleft()
        here = reached[node]
        for child, edge in edges.get(node, ()):
            before = reached.get(child, NEVER)
            after = either(before, both(here, edge))
            if after != before:
                reached[child] = after
                queue.append(child)
    return reached


def to_marker(condition: Condition) -> Optional[Marker]:
    """The marker of a condition; ``None`` when it always holds."""
    if frozenset() in condition:
        return None
    if not condition:
        raise ValueError("a never-reached package has no marker")
    ordered = sorted(sorted(clause) for clause in condition)
    if len(ordered) == 1:
        return Marker(_conjunction(ordered[0], nested=False))
    try:
        return Marker(" or ".join(_conjunction(clause, nested=True) for clause in ordered))
    except InvalidMarker as exc:  # pragma: no cover - atoms are valid markers, so their join is too
        raise ValueError(str(exc)) from exc


def _conjunction(clause: Sequence[str], *, nested: bool) -> str:
    if len(clause) == 1:
        return f"({clause[0]})" if nested else clause[0]
    inner = " and ".join(f"({a})" for a in clause)
    return f"({inner})" if nested else inner


def group_atom(group: str) -> Condition:
    return atom(f"'{_checked_name(group, 'dependency group')}' in dependency_groups")


def extra_atom(extra: str) -> Condition:
    return atom(f"'{_checked_name(extra, 'extra')}' in extras")


# PEP 685 extras and PEP 735 group names; anything else cannot be written into a marker string.
_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")


def _checked_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise LockFormatError(
            f"{name!r} is not a valid {what} name",
            hint="names are letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        )
    return name
