"""Editing requirements files line by line: ``requirements.in`` and plain pinned ``requirements.txt``.

Comments, blank lines, options (``-r``, ``--index-url``, ...) and continuation lines stay as they are.
An entry is a logical line (physical lines joined by a trailing backslash) plus the indented comment lines
under it (pip-compile's ``# via`` annotations), so a pinned entry with its ``--hash`` lines moves as one.
A file whose entries are sorted by name keeps them sorted; otherwise new entries go after the last one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional, Union

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lading.edit._common import (
    EditError,
    PathLike,
    ReqText,
    insert_block,
    line_ending,
    normalized_spec,
    parse_requirement,
    parse_version,
    pins_by_key,
    raise_pep440,
)
from lading.errors import UsageError

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION_CUT = re.compile(r"\s+--?[A-Za-z]")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_HASH_LINE = re.compile(r"^([ \t]+)--hash[= ]")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


@dataclass(frozen=True)
class Line:
    """One logical line of a requirements file."""

    start: int  # offset of its first character
    end: int  # offset after its last line break (or the end of the text)
    first: str  # its first physical line, without the line break
    kind: str  # "requirement", "option", "comment", "blank" or "other"
    key: Optional[NormalizedName] = None
    requirement: str = ""  # the requirement text as written on the first physical line
    requirement_at: int = 0  # where it starts in ``first``
    hashed: bool = False
    indented: bool = False  # an indented comment: an annotation of the entry above

    @property
    def continued(self) -> bool:
        return self.first.rstrip().endswith("\\") and not _COMMENT.search(self.first)


@dataclass(frozen=True)
class FileStyle:
    """What a requirements file looks like, so new entries can match it."""

    sorted: bool  # entries ordered by canonical name
    pinned: bool  # every entry an exact ``==`` pin (a lock, as PipFlow keeps it)
    hashed: bool  # entries carry ``--hash`` options
    eol: str


def _physical(text: str) -> list[tuple[int, int, str]]:
    """(start, end including the break, content without the break) of each physical line."""
    lines = []
    for match in re.finditer(r"[^\n]*\n|[^\n]+$", text):
        content = match.group(0).rstrip("\n")
        if content.endswith("\r"):
            content = content[:-1]
        lines.append((match.start(), match.end(), content))
    return lines


def parse_lines(text: str) -> list[Line]:
    physical = _physical(text)
    out: list[Line] = []
    i = 0
    while i < len(physical):
        start, end, first = physical[i]
        j = i
        joined = first
        while joined.rstrip().endswith("\\") and not _COMMENT.search(physical[j][2]) and j + 1 < len(physical):
            j += 1
            joined = joined.rstrip()[:-1] + " " + physical[j][2]
        end = physical[j][1]
        out.append(_classify(start, end, first, joined))
        i = j + 1
    return out


def _classify(start: int, end: int, first: str, joined: str) -> Line:
    stripped = first.strip()
    if not stripped:
        return Line(start, end, first, "blank")
    if stripped.startswith("#"):
        return Line(start, end, first, "comment", indented=first[:1] in (" ", "\t"))
    hashed = "--hash" in joined
    if stripped.startswith("-"):
        egg = _EGG.search(joined)
        if stripped.startswith(("-e", "--editable")) and egg:
            return Line(start, end, first, "option", key=canonicalize_name(egg.group(1)))
        return Line(start, end, first, "option")
    body = _COMMENT.sub("", first).rstrip()
    if body.endswith("\\"):
        body = body[:-1].rstrip()
    cut = _OPTION_CUT.search(body)
    if cut is not None:
        body = body[: cut.start()]
    at = len(first) - len(first.lstrip())
    try:
        key = canonicalize_name(Requirement(body.strip()).name)
    except InvalidRequirement:
        egg = _EGG.search(joined)
        if egg is None:
            return Line(start, end, first, "other")
        return Line(start, end, first, "other", key=canonicalize_name(egg.group(1)))
    return Line(start, end, first, "requirement", key, body.strip(), at, hashed)


def style(text: str) -> FileStyle:
    """How the file's entries are written (sorted, exact pins, hashes, line endings)."""
    lines = parse_lines(text)
    entries = [line for line in lines if line.kind == "requirement"]
    keys = [line.key for line in entries if line.key is not None]
    pinned = bool(entries) and all(_is_pin(line.requirement) for line in entries)
    return FileStyle(
        sorted=keys == sorted(keys),
        pinned=pinned,
        hashed=any(line.hashed for line in entries),
        eol=line_ending(text),
    )


def _is_pin(requirement: str) -> bool:
    try:
        specs = list(Requirement(requirement).specifier)
    except InvalidRequirement:  # pragma: no cover - only parsed requirements get here
        return False
    return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version


def _block_end(lines: Sequence[Line], index: int) -> int:
    """The end of entry ``index`` with the indented comment lines (annotations) under it."""
    end = lines[index].end
    for line in lines[index + 1 :]:
        if line.kind != "comment" or not line.indented:
            break
        end = line.end
    return end


def _insert_at(text: str, lines: Sequence[Line], key: NormalizedName) -> int:
    entries = [i for i, line in enumerate(lines) if line.kind == "requirement" and line.key is not None]
    if not entries:
        return len(text)
    keys = [lines[i].key or "" for i in entries]
    if keys == sorted(keys):
        after = next((i for i in entries if (lines[i].key or "") > key), None)
        if after is not None:
            return _attached_start(lines, after)
    last = max(i for i, line in enumerate(lines) if line.kind in ("requirement", "other") or line.key is not None)
    return _block_end(lines, last)


def _attached_start(lines: Sequence[Line], index: int) -> int:
    """Comment lines between two entries describe the one below them: a new entry goes above them."""
    first = index
    while first > 0 and lines[first - 1].kind == "comment" and not lines[first - 1].indented:
        first -= 1
    if first == index or first == 0 or lines[first - 1].kind not in ("requirement", "other"):
        return lines[index].start
    return lines[first].start


def _same(lines: Sequence[Line], key: NormalizedName) -> list[int]:
    return [i for i, line in enumerate(lines) if line.key == key and line.kind in ("requirement", "other", "option")]


def _replace_or_insert(text: str, path: PathLike, key: NormalizedName, block: str, marker: Optional[str]) -> str:
    """Put ``block`` (whole lines, ending with a line break) in place of the entries named ``key``, or add it."""
    lines = parse_lines(text)
    eol = line_ending(text)
    same = _same(lines, key)
    if not same:
        return insert_block(text, _insert_at(text, lines, key), block, eol)
    chosen = same[0]
    if len(same) > 1 and marker is not None:
        by_marker = [i for i in same if _marker_of(lines[i].requirement) == marker]
        if len(by_marker) == 1:
            chosen, same = by_marker[0], by_marker
    out = text
    for index in sorted(same, reverse=True):
        line = lines[index]
        if index == chosen:
            replacement = block
            comment = _COMMENT.search(line.first)
            if not line.continued and comment is not None and line.kind == "requirement" and "\\" not in block:
                replacement = block[: -len(eol)] + comment.group(0) + eol
            if not text[line.start : line.end].endswith("\n"):
                replacement = replacement[: -len(eol)]
            out = out[: line.start] + replacement + out[line.end :]
        else:
            out = _delete(out, line.start, _block_end(lines, index))
    return out


def _marker_of(requirement: str) -> Optional[str]:
    try:
        marker = Requirement(requirement).marker
    except InvalidRequirement:
        return None
    return str(marker) if marker is not None else None


def _delete(text: str, start: int, end: int) -> str:
    if end >= len(text) and not text.endswith("\n") and start > 0:
        return text[: start - 2 if text[start - 2 : start] == "\r\n" else start - 1]
    return text[:start] + text[end:]


def _render(req: ReqText) -> str:
    return req.rendered(spec=normalized_spec(req.spec))


def add_requirement(text: str, path: PathLike, requirement: str) -> str:
    """Add a requirement line (``requirements.in`` style), replacing the line of the same name in place."""
    req = parse_requirement(requirement, file=path, field="requirement")
    marker = str(req.requirement.marker) if req.requirement.marker is not None else None
    return _replace_or_insert(text, path, req.key, _render(req) + line_ending(text), marker)


def add_pinned(
    text: str,
    path: PathLike,
    name: str,
    version: Union[str, Version],
    hashes: Sequence[str] = (),
    marker: Optional[str] = None,
    *,
    use_hashes: Optional[bool] = None,
) -> str:
    """Write ``name==version`` (with ``--hash`` lines in pip-compile's layout when the file uses hashes).

    An existing entry of the same name is replaced as a unit, hash lines and all; its annotations stay.
    ``use_hashes`` None: hashes are written when the file has them (or has no entries yet and some are given).
    """
    key = canonicalize_name(parse_requirement(name, file=path, field="name").name)
    pinned = parse_version(version, file=path, package=name)
    eol = line_ending(text)
    current = style(text)
    lines = parse_lines(text)
    has_entries = any(line.kind == "requirement" for line in lines)
    if use_hashes is None:
        use_hashes = current.hashed or (not has_entries and bool(hashes))
    if use_hashes and not hashes:
        raise UsageError(
            f"no hashes for {name} {pinned}", file=path, package=f"{name} {pinned}", hint="the file is hashed"
        )
    head = f"{name}=={pinned}"
    if marker:
        head += " ; " + marker
    if not use_hashes:
        return _replace_or_insert(text, path, key, head + eol, marker)
    indent = next((m.group(1) for m in (_HASH_LINE.match(p[2]) for p in _physical(text)) if m), "    ")
    rendered = sorted(_hash_option(h, path, f"{name} {pinned}") for h in hashes)
    block = head + " \\" + eol + (" \\" + eol).join(indent + h for h in rendered) + eol
    return _replace_or_insert(text, path, key, block, marker)


def _hash_option(value: str, path: PathLike, package: str) -> str:
    algorithm, sep, digest = value.partition(":")
    if not sep:
        algorithm, digest = "sha256", value
    if not _HEX.match(digest) or not algorithm.isalnum():
        raise UsageError(f"not a hash {value!r}", file=path, package=package, hint="write hashes as sha256:<hex>")
    return f"--hash={algorithm}:{digest}"


def remove_requirement(text: str, path: PathLike, name: str) -> str:
    """Remove every entry named ``name`` (with its hash lines and annotations)."""
    key = canonicalize_name(parse_requirement(name, file=path, field="name").name)
    lines = parse_lines(text)
    same = _same(lines, key)
    if not same:
        raise EditError(f"{name!r} is not in this file", file=path, package=name, hint="check the spelling")
    for index in sorted(same, reverse=True):
        text = _delete(text, lines[index].start, _block_end(lines, index))
    return text


def set_lower_bounds(text: str, path: PathLike, pins: Mapping[str, Union[str, Version]]) -> str:
    """Raise each named requirement's lower bound to the locked version; exact pins stay as they are."""
    targets = pins_by_key(pins, file=path)
    for line in reversed(parse_lines(text)):
        if line.kind != "requirement" or line.key not in targets:
            continue
        req = parse_requirement(line.requirement, file=path)
        if req.url is not None:
            continue
        new_spec = raise_pep440(req.spec, targets[line.key])
        if new_spec is None:
            continue
        at = line.start + line.requirement_at
        start, end = at + req.spec_span[0], at + req.spec_span[1]
        text = text[:start] + new_spec + text[end:]
    return text
