"""What every manifest editor shares: reading one requirement as text, moving lower bounds, line endings.

Requirements are kept as the user wrote them wherever possible: ``packaging`` validates them, but its
``str()`` sorts specifiers and rewrites marker quotes, so edits work on the text's own pieces instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from lading.errors import LadingError, UsageError

PathLike = Union[str, Path]

STYLES = ("lower-bound", "exact", "compatible")


class EditError(LadingError):
    """A manifest cannot be edited as asked (the entry is absent, the layout is one lading will not rewrite)."""


_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_SPEC_SEP = re.compile(r"(\s*,\s*)")
_PEP440_CLAUSE = re.compile(r"^(\s*)(===|~=|==|!=|<=|>=|<|>)(\s*)(\S+?)(\s*)$")
# Poetry joins constraints with commas or spaces, allows a space after the operator and a bare version.
_POETRY_CLAUSE = re.compile(r"(\^|~=|~|===|==|!=|<=|>=|<|>|=)?(\s*)([0-9A-Za-z][0-9A-Za-z.*+!_-]*|\*)")


@dataclass(frozen=True)
class ReqText:
    """One PEP 508 requirement, split into the pieces of its own text."""

    text: str  # as written, surrounding whitespace removed
    name: str
    key: NormalizedName
    extras: tuple[str, ...]
    spec: str  # the version clauses as written (without parentheses); "" when none
    spec_span: tuple[int, int]  # where ``spec`` sits in ``text`` (an empty span where one would go)
    url: Optional[str]
    marker: str  # the text after ';', stripped; "" when none
    requirement: Requirement

    def rendered(self, *, spec: Optional[str] = None, marker_quote: Optional[str] = None) -> str:
        """The requirement written out again, with a new specifier and/or marker quotes swapped."""
        out = self.name
        if self.extras:
            out += "[" + ",".join(self.extras) + "]"
        if self.url is not None:
            out += " @ " + self.url
        else:
            out += self.spec if spec is None else spec
        if self.marker:
            sep = " ; " if self.url is not None else "; "
            out += sep + swap_marker_quotes(self.marker, marker_quote)
        return out


def parse_requirement(text: str, *, file: Optional[PathLike], field: Optional[str] = None) -> ReqText:
    """Split a requirement into its pieces; a bad one raises a UsageError naming where it came from."""
    stripped = text.strip()
    try:
        req = Requirement(stripped)
    except InvalidRequirement as exc:
        raise UsageError(
            f"not a valid requirement {stripped!r}: {exc}",
            file=file,
            field=field,
            hint="write it as PEP 508 says, e.g. 'rich>=13' or 'httpx[http2]>=0.27; python_version >= \"3.9\"'",
        ) from exc
    match = _NAME.match(stripped)
    if match is None:  # pragma: no cover - packaging accepted it, so it starts with a name
        raise UsageError(f"not a valid requirement {stripped!r}", file=file, field=field)
    name = match.group(1)
    pos = match.end()
    extras: tuple[str, ...] = ()
    rest = stripped[pos:]
    lead = len(rest) - len(rest.lstrip())
    if rest.lstrip().startswith("["):
        close = stripped.index("]", pos)
        extras = tuple(e.strip() for e in stripped[pos + lead + 1 : close].split(",") if e.strip())
        pos = close + 1
    marker = str(req.marker) if req.marker is not None else ""
    url: Optional[str] = None
    spec = ""
    spec_span = (pos, pos)
    if req.url is not None:
        url = req.url
        semi = re.search(r"\s;", stripped[pos:])
        if semi is not None:
            marker = stripped[pos + semi.end() :].strip()
    else:
        semi_at = stripped.find(";", pos)
        end = len(stripped) if semi_at < 0 else semi_at
        if semi_at >= 0:
            marker = stripped[semi_at + 1 :].strip()
        region = stripped[pos:end]
        start = pos + len(region) - len(region.lstrip())
        stop = pos + len(region.rstrip())
        if start < stop and stripped[start] == "(" and stripped[stop - 1] == ")":
            start += 1
            stop -= 1
            start += len(stripped[start:stop]) - len(stripped[start:stop].lstrip())
            stop = start + len(stripped[start:stop].rstrip())
        if start < stop:
            spec = stripped[start:stop]
            spec_span = (start, stop)
    return ReqText(
        text=stripped,
        name=name,
        key=canonicalize_name(name),
        extras=extras,
        spec=spec,
        spec_span=spec_span,
        url=url,
        marker=marker,
        requirement=req,
    )


def requirement_key(text: str) -> Optional[NormalizedName]:
    """The canonical name of a requirement string, or None when it is not one (a URL, an include)."""
    try:
        return canonicalize_name(Requirement(text.strip()).name)
    except InvalidRequirement:
        return None


def swap_marker_quotes(marker: str, quote: Optional[str]) -> str:
    """Use ``quote`` for the marker's strings when that needs no escaping in the surrounding TOML string."""
    if quote is None:
        return marker
    other = "'" if quote == '"' else '"'
    if other in marker and quote not in marker:
        return marker.replace(other, quote)
    return marker


def normalized_spec(spec: str) -> str:
    """The specifier clauses as given, with the whitespace inside each clause removed."""
    return ",".join(re.sub(r"\s+", "", clause) for clause in spec.split(",") if clause.strip())


def parse_version(
    value: Union[str, Version], *, file: Optional[PathLike] = None, package: Optional[str] = None
) -> Version:
    if isinstance(value, Version):
        return value
    try:
        return Version(value)
    except InvalidVersion as exc:
        raise UsageError(f"not a valid version {value!r}", file=file, package=package) from exc


def default_specifier(version: Union[str, Version], style: str = "lower-bound") -> str:
    """The specifier ``add`` writes when none was given, from the newest version.

    ``lower-bound``: ``>=X.Y`` (the first two release components; the full version when those would
    admit far older releases, 0.0.x, or miss a pre-release); ``exact``: ``==X.Y.Z``;
    ``compatible``: ``~=X.Y``.
    """
    ver = parse_version(version)
    if style not in STYLES:
        raise UsageError(
            f"unknown specifier style {style!r}",
            field="specifier style",
            hint="use one of: " + ", ".join(STYLES),
        )
    if style == "exact":
        return "==" + str(ver)
    public = Version(ver.public)
    op = ">=" if style == "lower-bound" else "~="
    full = public.pre is not None or public.dev is not None or public.release[:2] == (0, 0)
    release = public.release if full else public.release[:2]
    if style == "compatible" and len(release) < 2:
        release = (release[0], 0)
    out = (f"{public.epoch}!" if public.epoch else "") + ".".join(str(p) for p in release)
    if full:
        if public.pre is not None:
            out += f"{public.pre[0]}{public.pre[1]}"
        if public.post is not None:
            out += f".post{public.post}"
        if public.dev is not None:
            out += f".dev{public.dev}"
    return op + out


# --- raising lower bounds -------------------------------------------------------------------------------


def _upper(op: str, release: tuple[int, ...]) -> Optional[Version]:
    """The exclusive upper bound implied by a compatible-release style operator."""
    if op == "~=":
        if len(release) < 2:
            return None
        head = list(release[:-1])
    elif op == "^":
        index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
        head = list(release[: index + 1])
    else:  # poetry "~"
        head = list(release[:2]) if len(release) >= 2 else list(release[:1])
    head[-1] += 1
    return Version(".".join(str(p) for p in head))


def _raised_compatible(op: str, current: Version, target: Version) -> Optional[str]:
    """The longest prefix of ``target`` that keeps the operator's upper bound and raises the lower one."""
    upper = _upper(op, current.release)
    if upper is None:
        return None
    smallest = 2 if op == "~=" else 1
    for size in range(len(target.release), smallest - 1, -1):
        text = ".".join(str(p) for p in target.release[:size])
        candidate = Version(text)
        if candidate <= current or candidate > target:
            continue
        if _upper(op, candidate.release) == upper:
            return text
    return None


def _clause_edit(op: str, version_text: str, target: Version) -> tuple[str, Optional[str], Optional[str]]:
    """Classify one clause: ("exact"|"lower"|"other", new operator or None, new version text or None)."""
    if op in ("==", "===", "=", "") or "*" in version_text:
        return ("exact", None, None) if op in ("==", "===", "=", "") else ("other", None, None)
    if op in ("<", "<=", "!="):
        return "other", None, None
    try:
        current = Version(version_text)
    except InvalidVersion:
        return "exact", None, None  # unreadable: leave the whole requirement alone
    if op == ">=":
        return ("lower", None, str(target)) if current < target else ("lower", None, None)
    if op == ">":
        return ("lower", ">=", str(target)) if current < target else ("lower", None, None)
    return "lower", None, _raised_compatible(op, current, target)


def raise_pep440(spec: str, target: Version) -> Optional[str]:
    """``spec`` with its lower bound raised to ``target``; None when it stays as it is (exact pins)."""
    if not spec.strip():
        return ">=" + str(target)
    parts = _SPEC_SEP.split(spec)
    seen_lower = False
    changed = False
    for index in range(0, len(parts), 2):
        match = _PEP440_CLAUSE.match(parts[index])
        if match is None:
            return None
        lead, op, gap, version_text, tail = match.groups()
        kind, new_op, new_version = _clause_edit(op, version_text, target)
        if kind == "exact":
            return None
        if kind == "lower":
            seen_lower = True
        if new_op is not None or new_version is not None:
            parts[index] = lead + (new_op or op) + ("" if new_op else gap) + (new_version or version_text) + tail
            changed = True
    if not seen_lower:
        sep = parts[1] if len(parts) > 1 else ","
        return ">=" + str(target) + sep + spec
    return "".join(parts) if changed else None


def raise_poetry(spec: str, target: Version) -> Optional[str]:
    """The same for a poetry constraint (``^1.2``, ``~1.2``, ``>=1.2,<2``, ``1.2.3``, ``*``)."""
    stripped = spec.strip()
    if stripped in ("", "*"):
        return ">=" + str(target)
    if "|" in stripped:
        return None  # unions: no single lower bound to move
    pieces: list[tuple[int, int, str]] = []
    seen_lower = False
    for match in _POETRY_CLAUSE.finditer(spec):
        op = match.group(1) or ""
        version_text = match.group(3)
        if version_text == "*":
            continue
        kind, new_op, new_version = _clause_edit(op, version_text, target)
        if kind == "exact":
            return None
        if kind == "lower":
            seen_lower = True
        if new_op is not None or new_version is not None:
            replacement = (new_op or op) + ("" if new_op else match.group(2)) + (new_version or version_text)
            pieces.append((match.start(), match.end(), replacement))
    if not seen_lower:
        return ">=" + str(target) + "," + stripped
    if not pieces:
        return None
    out = spec
    for start, end, replacement in reversed(pieces):
        out = out[:start] + replacement + out[end:]
    return out


def raised_requirement(req: ReqText, target: Version) -> Optional[str]:
    """The requirement text with its lower bound raised (everything else as written), or None."""
    if req.url is not None:
        return None
    new_spec = raise_pep440(req.spec, target)
    if new_spec is None:
        return None
    start, end = req.spec_span
    return req.text[:start] + new_spec + req.text[end:]


def pins_by_key(pins: Mapping[str, Union[str, Version]], *, file: Optional[PathLike]) -> dict[NormalizedName, Version]:
    return {canonicalize_name(name): parse_version(v, file=file, package=name) for name, v in pins.items()}


# --- text -----------------------------------------------------------------------------------------------


def line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def insert_block(text: str, pos: int, block: str, eol: str) -> str:
    """Insert whole lines (``block`` ends with ``eol``) at a line start; at the end of a file that has no
    final newline, the block goes after a new line break and itself ends without one."""
    if pos >= len(text) and text and not text.endswith(("\n", "\r")):
        return text + eol + block[: -len(eol)] if block.endswith(eol) else text + eol + block
    return text[:pos] + block + text[pos:]
