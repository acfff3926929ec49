"""Byte-exact edits of TOML text: tomlkit finds where things are, the text is changed by hand.

tomlkit round-trips a document exactly but re-lays out what it inserts (new tables without blank lines,
appended array items losing the array's spacing, a final newline added). So it is used only to parse and
to locate: a value is swapped for a unique token, and the token's offset in tomlkit's output is the
value's offset in the original text. Every edit is then a splice of the original text, and is checked by
parsing the result and comparing it with the data the edit should give.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

import tomlkit
import tomlkit.exceptions
import tomlkit.items
from tomlkit.container import Container, OutOfOrderTableProxy
from tomlkit.toml_document import TOMLDocument

from lading._toml import parse_toml
from lading.edit._common import EditError, PathLike, insert_block
from lading.errors import LockFormatError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_HINT = "edit this entry by hand, or report the layout as a lading bug"


def parse(text: str, file: PathLike) -> TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise LockFormatError(
            f"malformed TOML: {exc}", file=file, hint="fix the file so it parses, then run the command again"
        ) from exc


def plain(text: str, file: PathLike) -> dict[str, Any]:
    from pathlib import Path

    return parse_toml(text, Path(str(file)))


def lookup(doc: Any, keys: Sequence[str]) -> Any:
    """The item at a key path, or None when any step is missing."""
    node = doc
    for key in keys:
        if not isinstance(node, (dict, Container, OutOfOrderTableProxy)) or key not in node:
            return None
        node = node[key]
    return node


def _token(text: str) -> str:
    n = 0
    while True:
        token = f"lading-edit-token-{n}"
        if token not in text:
            return token
        n += 1


def value_span(text: str, keys: Sequence[str], file: PathLike) -> tuple[int, int]:
    """Where the value at ``keys`` (a key path from the document root) is written in ``text``."""
    doc = parse(text, file)
    parent = lookup(doc, keys[:-1])
    item = lookup(doc, keys)
    if parent is None or item is None:
        raise EditError("nothing at " + ".".join(keys), file=file, field=".".join(keys), hint=_HINT)
    old = item.as_string()
    token = _token(text)
    parent[keys[-1]] = token
    out = tomlkit.dumps(doc)
    at = out.find(f'"{token}"')
    if at < 0 or out[:at] != text[:at] or text[at : at + len(old)] != old:
        raise EditError("cannot locate the value in the text", file=file, field=".".join(keys), hint=_HINT)
    return at, at + len(old)


def table_end(text: str, keys: Sequence[str], file: PathLike) -> int:
    """The line start where a new key of the table at ``keys`` goes: after its last key/value line."""
    doc = parse(text, file)
    table = lookup(doc, keys)
    if table is None:
        raise EditError("no table " + ".".join(keys), file=file, field=".".join(keys), hint=_HINT)
    last = [k for k, v in table.items() if not isinstance(v, tomlkit.items.Table)]
    if last:
        _, end = value_span(text, [*keys, last[-1]], file)
        return line_end(text, end)
    token = _token(text)
    table.append(token, 1)
    out = tomlkit.dumps(doc)
    at = out.find(f"{token} = 1")
    start = out.rfind("\n", 0, at) + 1
    if at < 0:
        raise EditError("cannot locate the table in the text", file=file, field=".".join(keys), hint=_HINT)
    if out[:start] == text[:start]:
        return start
    if start == len(text) + 1 and out[: start - 1] == text:
        return len(text)
    raise EditError("cannot locate the table in the text", file=file, field=".".join(keys), hint=_HINT)


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_end(text: str, pos: int) -> int:
    """The start of the next line after ``pos`` (or the end of the text)."""
    at = text.find("\n", pos)
    return len(text) if at < 0 else at + 1


def attached_comments_start(text: str, start: int, floor: int) -> int:
    """Move a line start up over comment lines that sit between two entries (they describe the next one).

    Comments right under a header, an opening bracket or a blank line are section comments: kept above.
    """
    pos = start
    while pos > floor:
        prev = line_start(text, pos - 1)
        if prev < floor or not text[prev:pos].strip().startswith("#"):
            break
        pos = prev
    if pos == start or pos <= floor:
        return start
    before = text[line_start(text, pos - 1) : pos].strip()
    if not before or before.startswith("[") or before.endswith("["):
        return start
    return pos


# --- strings --------------------------------------------------------------------------------------------


def string_style(raws: Sequence[str]) -> str:
    """The quote the other entries use: a single quote only when every string entry uses one."""
    strings = [r for r in raws if r[:1] in ("'", '"')]
    if strings and all(r.startswith("'") for r in strings):
        return "'"
    return '"'


def render_string(value: str, quote: str) -> str:
    if quote == "'" and "'" not in value and "\n" not in value and "\r" not in value:
        return "'" + value + "'"
    return tomlkit.string(value).as_string()


def render_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else tomlkit.string(key).as_string()


def render_value(value: Any, quote: str) -> str:
    """A value as one line of TOML (strings, bools, string lists and inline tables of those)."""
    if isinstance(value, str):
        return render_string(value, quote)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v, quote) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render_key(k)} = {render_value(v, quote)}" for k, v in value.items()) + "}"
    return str(tomlkit.item(value).as_string())


# --- arrays ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    start: int
    end: int
    comma: Optional[int]  # offset of the comma after the element, if any


def _skip_string(text: str, i: int) -> int:
    for delim in ('"""', "'''", '"', "'"):
        if text.startswith(delim, i):
            j = i + len(delim)
            while j < len(text):
                if delim[0] == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(delim, j):
                    j += len(delim)
                    # a multi-line string may end with up to two extra quotes
                    while len(delim) == 3 and j < len(text) and text[j] == delim[0]:
                        j += 1
                    return j
                j += 1
            return j
    return i + 1


def _skip_value(text: str, i: int) -> int:
    if text[i] in "\"'":
        return _skip_string(text, i)
    if text[i] in "[{":
        depth = 0
        j = i
        while j < len(text):
            ch = text[j]
            if ch in "\"'":
                j = _skip_string(text, j)
                continue
            if ch == "#":
                j = line_end(text, j)
                continue
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return j
    j = i
    while j < len(text) and text[j] not in ",]#\r\n\t ":
        j += 1
    return j


def elements(array: str) -> list[Element]:
    """The elements of an array's text (``[`` ... ``]``), with their spans and commas."""
    found: list[Element] = []
    i = 1
    while i < len(array):
        ch = array[i]
        if ch in " \t\r\n":
            i += 1
        elif ch == "#":
            i = line_end(array, i)
        elif ch == "]":
            break
        elif ch == ",":
            if found:
                found[-1] = Element(found[-1].start, found[-1].end, i)
            i += 1
        else:
            end = _skip_value(array, i)
            found.append(Element(i, end, None))
            i = end
    return found


def _rest_of_line_empty(array: str, pos: int) -> Optional[int]:
    """If only a comma, spaces and a comment follow ``pos`` on its line: the next line's start."""
    j = pos
    while j < len(array) and array[j] in " \t,":
        j += 1
    if j < len(array) and array[j] == "#":
        j = array.find("\n", j)
        j = len(array) if j < 0 else j
    if j < len(array) and array[j] == "\r":
        j += 1
    if j < len(array) and array[j] == "\n":
        return j + 1
    return None


def _alone(array: str, element: Element) -> bool:
    head = array[line_start(array, element.start) : element.start]
    after = element.comma + 1 if element.comma is not None else element.end
    return not head.strip() and _rest_of_line_empty(array, after) is not None


def array_replace(array: str, index: int, value: str) -> str:
    element = elements(array)[index]
    return array[: element.start] + value + array[element.end :]


def array_delete(array: str, index: int) -> str:
    items = elements(array)
    element = items[index]
    last = index == len(items) - 1
    if "\n" not in array and len(items) == 1:
        return "[]"
    if _alone(array, element):
        start = line_start(array, element.start)
        after = element.comma + 1 if element.comma is not None else element.end
        end = _rest_of_line_empty(array, after)
        assert end is not None
        out = array[:start] + array[end:]
        if last and element.comma is None and index > 0:
            prev = items[index - 1]
            if prev.comma is not None and _rest_of_line_empty(array, prev.comma + 1) is not None:
                out = out[: prev.comma] + out[prev.comma + 1 :]
        return out
    if element.comma is not None and index > 0 and _rest_of_line_empty(array, element.comma + 1) is not None:
        prev = items[index - 1]
        if prev.comma is not None and "\n" not in array[prev.comma : element.start]:
            # the last element of a line with others before it: take the space before it, keep the line break
            return array[: prev.comma + 1] + array[element.comma + 1 :]
    if not last or element.comma is not None or index == 0:
        end = element.comma + 1 if element.comma is not None else element.end
        while end < len(array) and array[end] in " \t":
            end += 1
        return array[: element.start] + array[end:]
    prev = items[index - 1]
    start = prev.comma if prev.comma is not None else prev.end
    return array[:start] + array[element.end :]


def _indent_of(array: str, element: Element) -> str:
    head = array[line_start(array, element.start) : element.start]
    return head if not head.strip() else "    "


def array_insert(array: str, index: int, value: str, eol: str) -> str:
    """Insert ``value`` (already TOML text) before element ``index`` (== len: append), in the array's style."""
    items = elements(array)
    if not items:
        if "\n" in array:
            first = array.index("\n") + 1
            return array[:first] + "    " + value + "," + eol + array[first:]
        return "[" + value + "]"
    if index < len(items):
        element = items[index]
        if "\n" in array and _alone(array, element):
            start = attached_comments_start(array, line_start(array, element.start), 0)
            return array[:start] + _indent_of(array, element) + value + "," + eol + array[start:]
        sep = ", "
        if len(items) > 1:
            ref = items[index - 1] if index > 0 else items[0]
            nxt = items[index] if index > 0 else items[1]
            between = array[ref.end : nxt.start]
            if "\n" not in between:
                sep = between
        return array[: element.start] + value + sep + array[element.start :]
    last = items[-1]
    if "\n" in array and _alone(array, last):
        after = last.comma + 1 if last.comma is not None else last.end
        end = _rest_of_line_empty(array, after)
        assert end is not None
        line = _indent_of(array, last) + value + ("," if last.comma is not None else "") + eol
        out = array[:end] + line + array[end:]
        if last.comma is None:
            out = out[: last.end] + "," + out[last.end :]
        return out
    sep = ", "
    if len(items) > 1:
        between = array[items[-2].end : items[-1].start]
        if "\n" not in between:
            sep = between
    if last.comma is not None:
        gap = sep[sep.index(",") + 1 :] if "," in sep else " "
        return array[: last.comma + 1] + gap + value + "," + array[last.comma + 1 :]
    return array[: last.end] + sep + value + array[last.end :]


# --- checking -------------------------------------------------------------------------------------------


def checked(before: str, after: str, file: PathLike, expect: Callable[[dict[str, Any]], None], what: str) -> str:
    """Return ``after`` if it parses to ``before``'s data changed by ``expect`` (and nothing else)."""
    wanted = copy.deepcopy(plain(before, file))
    expect(wanted)
    try:
        got = plain(after, file)
    except LockFormatError as exc:
        raise EditError(f"editing {what} would break the file: {exc.why}", file=file, hint=_HINT) from exc
    if got != wanted:
        raise EditError(f"editing {what} would change more than intended", file=file, hint=_HINT)
    return after


def set_path(data: dict[str, Any], keys: Sequence[str], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def get_path(data: Any, keys: Sequence[str]) -> Any:
    node = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def delete_path(data: dict[str, Any], keys: Sequence[str]) -> None:
    node = data
    for key in keys[:-1]:
        node = node[key]
    del node[keys[-1]]


def delete_lines(text: str, start: int, end: int) -> str:
    """Remove whole lines ``[start, end)``; at the end of a file without a final newline, keep it without."""
    if end >= len(text) and not text.endswith("\n") and start > 0:
        cut = start - 2 if text[start - 2 : start] == "\r\n" else start - 1
        return text[:cut]
    return text[:start] + text[end:]


def new_table(text: str, pos: int, header: str, body: Sequence[str], eol: str) -> str:
    """Insert ``[header]`` with ``body`` lines at line start ``pos``, separated from its neighbours by a blank line."""
    block = eol + "[" + header + "]" + eol + "".join(line + eol for line in body)
    if pos >= len(text):
        if not text.strip():
            return block.lstrip("\r\n")
        if text.endswith(eol + eol) or text.endswith("\n\n"):
            block = block[len(eol) :]
        return insert_block(text, len(text), block, eol)
    if text[pos:].lstrip(" \t")[:1] not in ("\n", "\r"):
        block += eol
    return text[:pos] + block + text[pos:]
