"""Mutations of real fixture locks and manifests, and the harness that runs lading over them.

Shared by ``tests/unit/test_reader_robustness.py`` (hypothesis draws the choices, and shrinks) and
``scripts/fuzz_readers.py`` (a seeded :class:`random.Random` draws them, which is far cheaper per input).
Every choice a mutation makes goes through a :class:`Chooser`, so both drive the very same mutations.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import random
import signal
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, TypeVar

from packaging.markers import default_environment
from packaging.tags import sys_tags

from lading import soundness
from lading._toml import parse_toml
from lading.errors import LadingError
from lading.locks import read
from lading.locks.staleness import freshness
from lading.model import GroupRequest, Target
from lading.select import select
from tests.conftest import RealFixture, materialize, real_fixtures, target_for

T = TypeVar("T")
R = TypeVar("R")

MANIFESTS = ("pyproject.toml", "Pipfile", "requirements.in")
#: Files a requirements mutation may name with -r / -c, besides the lock itself.
INCLUDED = ("missing.txt", "other.txt", "sub/nested.txt")

FIXTURES = real_fixtures()
FORMATS = sorted({str(f.expected["format"]) for f in FIXTURES})

HERE = Target(name="this interpreter", environment={k: str(v) for k, v in default_environment().items()},
              tags=tuple(sys_tags()))
TARGETS = (HERE, target_for("3.9.18", HERE))
REQUESTS = (GroupRequest(), GroupRequest(dev=True), GroupRequest(all_groups=True, all_extras=True))


# --- values a mutation can put somewhere ------------------------------------------------------------

NASTY = (
    "", " ", "0", "-1", "1.0.0.0.0.0.0.0", "1..0", "v1", "1.0-", "1.0+local", "1.*", "==", ">=", "===1", "~=1",
    ">=1,<", "not a version", "python_version >", "python_version > '3' and", "extra == ", "extra == 'x'",
    "sys_platform == 'linux' or", "(", ")", "'", '"', "python_version in '3.11'", "platform_release >= '5'",
    "python_full_version >= 'x'", "implementation_name == 'cpython' and os_name != 'nt'",
    "'dev' in dependency_groups", "sha256:", "sha256:zz", "md5:00", "sha256", "abc:def:ghi",
    "../../../nonexistent", "/nonexistent/abs", "file:///nonexistent", "file:", "git+https://example.invalid/r.git@",
    "git+https://example.invalid/r.git@main#subdirectory=", "https://", "https://example.invalid/x.whl",
    "https://example.invalid/pkg-1.0-py3-none-any.whl#sha256=00", "x-1.0-py3-none-any.whl", "x.tar.gz", "::",
    "\x00", "\u202e", "\U0001d518\U0001d52b", "${HOME}", "${LADING_UNSET_VAR}", "${", ".", "..", "*", "é", "\n",
    "\\", "[", "name[", "name[extra", "a b", "-", "_", "main", "dev", "default", "develop", "sha256:" + "0" * 64,
    "cp311-cp311-manylinux_2_17_x86_64", ">=3.8", "<2", "!=3.*", "3.11", "2.0.0", "poetry", "uv",
)

#: Keys the formats use, so an added or renamed key lands where some reader looks.
KEYS = (
    "name", "version", "marker", "markers", "python", "extras", "extra", "optional", "groups", "group", "source",
    "sources", "dependency-groups", "dev-dependencies", "optional-dependencies", "include-group", "editable", "path",
    "url", "git", "ref", "rev", "tag", "branch", "subdirectory", "develop", "default", "index", "hash", "hashes",
    "content-hash", "content_hash", "requires-python", "requires_python", "metadata", "files", "wheels", "sdist",
    "dependencies", "package", "packages", "lock-version", "lock_version", "targets", "strategy", "_meta",
    "requires", "pipfile-spec", "sha256", "resolution-markers", "manifest", "members", "requirements", "specifier",
    "project", "tool", "poetry", "pdm", "uv", "virtual", "directory", "registry", "dev", "main", "category",
    "priority", "file", "filename", "upload-time", "size", "revision", "environments", "created-by", "vcs",
    "archive", "commit-id", "requested-revision", "resolved_reference", "reference", "type", "verify_ssl",
)

BYTE_INSERTS = (b"\n", b"\\", b"[", b"]", b"\"", b"'", b"=", b",", b"{", b"}", b"#", b"\x00",
                b"\xff", b"\xc3", b";", b"@", b"\n[[package]]\n", b"\n[metadata]\n")
BYTE_SETS = b"0123456789.=<>!~;'\"[]{},\n\\ az"

REQUIREMENT_LINES = (
    "--index-url", "--index-url https://example.invalid/simple", "-i", "-i ${LADING_UNSET_VAR}",
    "--extra-index-url", "--extra-index-url not-a-url", "--find-links", "-f ./nowhere", "--no-index",
    "--trusted-host", "--no-binary :all:", "--only-binary", "--pre", "--prefer-binary", "--require-hashes",
    "--config-settings", "--global-option=x", "--unknown-option", "--", "-", "-x",
    "--hash", "--hash=", "--hash=sha256:", "--hash=sha256:zz", "--hash=md5:00", "--hash=:", "--hash=sha256",
    "    --hash=sha256:" + "0" * 64, "    --hash=sha256:" + "0" * 64 + " \\",
    "idna==3.7 --hash=sha256:", "idna==3.7 --hash", "idna==3.7 --hash=nope:nope \\",
    "\\", "idna==3.7 \\", "-r missing.txt", "-r requirements.txt", "-c requirements.txt", "-r other.txt",
    "-r sub/nested.txt", "-r", "-c", "-r /", "-r .", "-r ./", "--requirement=missing.txt", "-e", "-e .",
    "-e ./nowhere", "-e git+https://example.invalid/r.git#egg=r", "-e file:///nonexistent",
    "r @ git+https://example.invalid/r.git@", "pkg @ file:///nonexistent/pkg-1.0.tar.gz", "pkg @", "@",
    "./local-1.0-py3-none-any.whl", "https://example.invalid/x-1.0.tar.gz", "pkg==1.0 ; python_version >",
    "pkg==1.0 ; extra == 'x'", "pkg[extra==1.0", "pkg===1", "pkg==1.*", "pkg>=1,<", "pkg==", "==1.0", "pkg",
    "pkg==1.0;", "pkg==not.a.version", "# comment", "#", "", " ", "\t", "\x0c", "pkg==1.0 # comment \\",
    "x" * 10_000, "é" * 500, "${HOME}/x", "pkg==1.0 --install-option=x", "idna==3.7\r", "\u202e",
)


# --- where the choices come from ---------------------------------------------------------------------


class Unwritable(Exception):
    """The mutated document cannot be serialized (tomlkit's limits); not an input worth testing."""


class Chooser(Protocol):
    """Every choice a mutation makes; hypothesis or a seeded random generator answers."""

    def integer(self, low: int, high: int, label: str) -> int: ...

    def choice(self, options: Sequence[T], label: str) -> T: ...

    def boolean(self, label: str) -> bool: ...

    def value(self, allow_none: bool, label: str) -> Any:
        """A nested TOML/JSON value: scalars, lists and tables, a few leaves at most."""

    def text(self, max_size: int, label: str) -> str: ...

    def binary(self, low: int, high: int, label: str) -> bytes: ...

    def note(self, message: str) -> None: ...

    def mutated(self, at: tuple[Any, ...]) -> None:
        """Record a structural place a mutation changed (for checking the error names its field)."""


_UNICODE_SAMPLES = "é🐍ßΩ\u202e\u200b\ufeff\U0001d518\x7f\x0b\x85\u2028漢"


@dataclass
class RandomChooser:
    """The choices from a seeded generator: cheap, reproducible by seed, no shrinking."""

    rng: random.Random
    notes: list[str] = field(default_factory=list)
    places: list[tuple[Any, ...]] = field(default_factory=list)

    def integer(self, low: int, high: int, label: str) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: Sequence[T], label: str) -> T:
        return options[self.rng.randrange(len(options))]

    def boolean(self, label: str) -> bool:
        return self.rng.random() < 0.5

    def _char(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return chr(self.rng.randint(0x20, 0x7E))
        if roll < 0.7:
            return chr(self.rng.randint(0, 0x1F))
        if roll < 0.85:
            return self.choice(_UNICODE_SAMPLES, "char")
        while True:
            code = self.rng.randint(0x80, 0x10FFFF)
            if not 0xD800 <= code <= 0xDFFF:
                return chr(code)

    def text(self, max_size: int, label: str) -> str:
        return "".join(self._char() for _ in range(self.rng.randint(0, max_size)))

    def binary(self, low: int, high: int, label: str) -> bytes:
        return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(low, high)))

    def _scalar(self, allow_none: bool) -> Any:
        kinds = ["int", "float", "bool", "text", "nasty", "nasty", "long", "wide"]
        kinds += ["none"] if allow_none else ["datetime", "date", "time"]
        kind = self.choice(kinds, "scalar")
        if kind == "int":
            return self.choice([0, 1, -1, 2**63 - 1, -(2**63), self.rng.randint(-(2**63), 2**63 - 1)], "int")
        if kind == "float":
            return self.choice([0.0, -0.0, 1.5, float("inf"), float("-inf"), 1e308, self.rng.uniform(-1e9, 1e9)],
                               "float")
        if kind == "bool":
            return self.boolean("bool")
        if kind == "text":
            return self.text(20, "text")
        if kind == "nasty":
            return self.choice(NASTY, "nasty")
        if kind == "long":
            return "x" * 100_000
        if kind == "wide":
            return "é🐍" * 20_000
        if kind == "none":
            return None
        if kind == "datetime":
            return dt.datetime(2024, 1, 2, 3, 4, 5)
        if kind == "date":
            return dt.date(2024, 1, 2)
        return dt.time(3, 4, 5)

    def _key(self) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.choice(KEYS, "key")
        if roll < 0.75:
            return self.choice(NASTY[:20], "key")
        return self.text(8, "key")

    def value(self, allow_none: bool, label: str) -> Any:
        leaves = [6]

        def build(depth: int) -> Any:
            if depth > 2 or leaves[0] <= 1 or self.rng.random() < 0.6:
                leaves[0] -= 1
                return self._scalar(allow_none)
            if self.boolean("list"):
                return [build(depth + 1) for _ in range(self.rng.randint(0, 3))]
            return {self._key(): build(depth + 1) for _ in range(self.rng.randint(0, 3))}

        return build(0)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def mutated(self, at: tuple[Any, ...]) -> None:
        self.places.append(at)


# --- structural mutations -----------------------------------------------------------------------------

Place = tuple[Any, ...]


def _places(node: Any, at: Place = ()) -> Iterator[Place]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*at, i))


def _get(doc: Any, at: Place) -> Any:
    for step in at:
        doc = doc[step]
    return doc


def mutate_structure(doc: Any, choose: Chooser, allow_none: bool) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(choose.integer(1, 3, "mutations")):
        places = list(_places(doc))[1:]
        if not places:
            break
        if choose.boolean("away from file lists"):
            # Most of a lock is file entries; half the time aim at the structure around them.
            places = [p for p in places if not any(k in ("wheels", "files", "hashes") for k in p)] or places
        at = choose.choice(places, "place")
        parent, key = _get(doc, at[:-1]), at[-1]
        node = parent[key]
        op = choose.choice(["delete", "replace", "duplicate", "truncate", "string", "swap", "add", "rename"], "op")
        choose.mutated(at)
        if op == "add":
            # A new key beside this place (or inside it, when it is a table).
            table = node if isinstance(node, dict) else parent
            if isinstance(table, dict):
                new_key = choose.choice(KEYS, "key")
                table[new_key] = choose.value(allow_none, "value")
                choose.note(f"add {new_key!r} beside {at!r}: {short(table[new_key])}")
            continue
        if op == "rename":
            if isinstance(parent, dict):
                new_key = choose.choice(KEYS + NASTY[:20], "key")
                parent[new_key] = parent.pop(key)
                choose.note(f"rename {at!r} to {new_key!r}")
            continue
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = choose.value(allow_none, "value")
        elif op == "duplicate":
            # Duplicate the nearest list entry (usually a package entry) at or above this place.
            for depth in range(len(at), 0, -1):
                container = _get(doc, at[: depth - 1])
                if isinstance(container, list):
                    i = at[depth - 1]
                    container.insert(i, copy.deepcopy(container[i]))
                    break
        elif op == "truncate":
            for depth in range(len(at), -1, -1):
                container = _get(doc, at[:depth])
                if isinstance(container, list):
                    del container[choose.integer(0, len(container), "keep"):]
                    break
        elif op == "string":
            if isinstance(node, str):
                parent[key] = mutate_string(node, choose)
        else:  # swap: put another place's value here (a realistic value of the wrong kind)
            others = list(_places(doc))[1:]
            source = choose.choice(others, "from")
            parent[key] = copy.deepcopy(_get(doc, source))
        choose.note(f"{op} at {at!r}: {short(parent[key]) if _has(parent, key) else '(gone)'}")
    return doc


def mutate_string(text: str, choose: Chooser) -> str:
    how = choose.choice(["nasty", "slice", "append", "prepend"], "string op")
    if how == "nasty":
        return choose.choice(NASTY, "string")
    if how == "slice":
        return text[choose.integer(0, len(text), "from"):choose.integer(0, len(text), "to")]
    if how == "append":
        return text + choose.choice(NASTY, "suffix")
    return choose.choice(NASTY, "prefix") + text


def _has(parent: Any, key: Any) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and key < len(parent)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def dump(doc: Any, is_json: bool) -> bytes:
    if is_json:
        return json.dumps(doc, indent=4).encode("utf-8")
    return toml_text(doc).encode("utf-8")


def toml_text(doc: dict[str, Any]) -> str:
    """TOML for a parsed document: top-level tables as [sections], arrays of tables as [[sections]].

    Much cheaper than tomlkit (whose cost dominated the fuzzing), and it writes every shape TOML has;
    a value TOML cannot hold (None) raises :class:`Unwritable`.
    """
    plain = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not _is_section(v)]
    lines = plain
    for key, value in doc.items():
        if isinstance(value, dict) and _is_section(value):
            lines += ["", f"[{_toml_key(key)}]", *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())]
        elif _is_section(value):
            for entry in value:
                lines += ["", f"[[{_toml_key(key)}]]",
                          *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items())]
    return "\n".join(lines) + "\n"


def _is_section(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_key(key: Any) -> str:
    return _toml_string(str(key))


def _toml_string(text: str) -> str:
    # JSON escapes are TOML escapes, except DEL, which TOML wants escaped and JSON leaves alone.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise Unwritable(f"TOML has no {type(value).__name__}")


# --- byte-level mutations -----------------------------------------------------------------------------

def mutate_bytes(blob: bytes, choose: Chooser) -> bytes:
    out = bytearray(blob)
    for _ in range(choose.integer(1, 4, "byte mutations")):
        op = choose.choice(["flip", "insert", "delete", "truncate", "set"], "byte op")
        pos = choose.integer(0, max(len(out) - 1, 0), "pos")
        if op == "flip" and out:
            out[pos] ^= 1 << choose.integer(0, 7, "bit")
        elif op == "insert":
            if choose.boolean("random bytes"):
                out[pos:pos] = choose.binary(1, 8, "bytes")
            else:
                out[pos:pos] = choose.choice(BYTE_INSERTS, "bytes")
        elif op == "delete" and out:
            del out[pos:pos + choose.integer(1, 64, "length")]
        elif op == "truncate":
            del out[pos:]
        elif op == "set" and out:
            out[pos] = choose.choice(BYTE_SETS, "byte")
        choose.note(f"{op} at byte {pos}")
    return bytes(out)


# --- requirements text mutations ----------------------------------------------------------------------


def mutate_requirements(text: str, choose: Chooser) -> str:
    lines = text.split("\n")
    for _ in range(choose.integer(1, 4, "line mutations")):
        op = choose.choice(["insert", "delete", "duplicate", "append", "replace", "eof"], "op")
        pos = choose.integer(0, len(lines), "line")
        line = choose.choice(REQUIREMENT_LINES, "line") if choose.boolean("known line") else choose.text(30, "line")
        if op == "insert":
            lines.insert(pos, line)
        elif op == "delete" and pos < len(lines):
            del lines[pos]
        elif op == "duplicate" and pos < len(lines):
            lines.insert(pos, lines[pos])
        elif op == "append" and pos < len(lines):
            lines[pos] = lines[pos] + " " + line
        elif op == "replace" and pos < len(lines):
            lines[pos] = line
        elif op == "eof":
            lines = [*lines[:pos], line + " \\"]  # continuation at EOF, file cut there
        choose.note(f"{op} line {pos}: {short(line)}")
    return "\n".join(lines)


# --- the harness ----------------------------------------------------------------------------------------


class UnnamedError(AssertionError):
    """A LadingError whose message names none of the files the input was made of."""

    def __init__(self, what: str, named: set[str], error: LadingError) -> None:
        super().__init__(f"{what}: error names none of {sorted(named)}: {error}")
        self.error = error


def named_step(what: str, action: Callable[[], R], named: set[str]) -> R:
    try:
        return action()
    except LadingError as exc:
        if not any(name in str(exc) for name in named):
            raise UnnamedError(what, named, exc) from exc
        raise


class Hang(BaseException):  # a BaseException, so a reader's broad ``except Exception`` cannot swallow it
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"took longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What one input did: whether read succeeded, and every LadingError a step raised (all named)."""

    read: bool = False
    errors: list[tuple[str, LadingError]] = field(default_factory=list)


def exercise(lock_path: Path, named: set[str]) -> Outcome:
    """Read, select, check freshness and soundness; only a LadingError naming one of ``named`` may escape."""
    outcome = Outcome()

    def step(what: str, action: Callable[[], R]) -> R:
        try:
            return named_step(what, action, named)
        except UnnamedError:
            raise
        except LadingError as exc:
            outcome.errors.append((what, exc))
            raise

    try:
        lock = step("read", lambda: read(lock_path))
    except LadingError:
        return outcome
    outcome.read = True
    for target in TARGETS:
        for request in REQUESTS:
            with contextlib.suppress(LadingError):
                step("select", functools.partial(select, lock, target, request))
    with contextlib.suppress(LadingError):
        step("freshness", lambda: freshness(lock))
    with contextlib.suppress(LadingError):
        step("soundness", lambda: soundness.check(lock))
    return outcome


Originals = dict[str, tuple[RealFixture, dict[str, bytes]]]


@functools.cache
def originals() -> Originals:
    """Every fixture's files with placeholders filled in, as bytes (kept out of hypothesis' reports)."""
    found: Originals = {}
    with tempfile.TemporaryDirectory() as raw:
        for fixture in FIXTURES:
            real = materialize(fixture, Path(raw))
            files = {p.name: p.read_bytes() for p in real.directory.iterdir() if p.is_file()}
            found[fixture.id] = (real, files)
    return found


def write_all(directory: Path, files: dict[str, bytes]) -> None:
    for name, blob in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)


def run(fixture: RealFixture, files: dict[str, bytes], mutated: str, blob: bytes, hang_after: float) -> Outcome:
    lock_name = str(fixture.expected["lock"])
    named = {lock_name, *(m for m in MANIFESTS if m in files)}
    if mutated not in (lock_name, *MANIFESTS):
        named.add(mutated)
    if fixture.expected["format"] == "requirements":
        named.update(Path(p).name for p in INCLUDED)
    with tempfile.TemporaryDirectory() as raw:
        directory = Path(raw)
        write_all(directory, {**files, mutated: blob})
        # Files -r lines may point at: one that includes the lock back (a cycle).
        (directory / "other.txt").write_text("-r requirements.txt\n-r other.txt\n", encoding="utf-8")
        (directory / "sub").mkdir(exist_ok=True)
        (directory / "sub" / "nested.txt").write_text("-r ../other.txt\n-r ../missing.txt\n", encoding="utf-8")
        with deadline(hang_after):
            return exercise(directory / lock_name, named)


def fixtures_of(fmt: str) -> list[str]:
    return [f.id for f in FIXTURES if f.expected["format"] == fmt]


def structured(name: str, blob: bytes) -> tuple[Any, bool]:
    text = blob.decode("utf-8")
    if name.endswith(".lock") and text.lstrip().startswith("{"):
        return json.loads(text), True
    if name == "requirements.in" or name.endswith(".txt"):
        return None, False
    return parse_toml(text, Path(name)), False


@functools.cache
def _structured_cached(fixture_id: str, name: str) -> tuple[Any, bool]:
    _, files = originals()[fixture_id]
    return structured(name, files[name])


@dataclass(frozen=True)
class Input:
    """One mutated input: which fixture, which of its files, how it was mutated, and the bytes."""

    fixture: RealFixture
    files: dict[str, bytes]
    file: str
    kind: str
    blob: bytes


def make_input(fmt: str, choose: Chooser) -> Input:
    """Pick a fixture of ``fmt`` and one of its files, and mutate it (may raise :class:`Unwritable`)."""
    fixture_id = choose.choice(fixtures_of(fmt), "fixture")
    fixture, files = originals()[fixture_id]
    lock_name = str(fixture.expected["lock"])
    candidates = [lock_name, *(m for m in MANIFESTS if m in files)]
    mutated = choose.choice(candidates, "file")
    blob = files[mutated]
    doc, is_json = _structured_cached(fixture_id, mutated)
    kinds = ["bytes"] + (["structure", "structure"] if doc is not None else ["lines", "lines"])
    kind = choose.choice(kinds, "kind")
    if kind == "structure":
        blob = dump(mutate_structure(doc, choose, allow_none=is_json), is_json)
    elif kind == "lines":
        blob = mutate_requirements(blob.decode("utf-8"), choose).encode("utf-8")
    else:
        blob = mutate_bytes(blob, choose)
    return Input(fixture, files, mutated, kind, blob)


def field_matches(error: LadingError, places: Sequence[Place]) -> Optional[bool]:
    """Does the error's field point into one of the mutated places? None when no place is known."""
    if not places:
        return None
    if not error.field:
        return False
    where = error.field
    for at in places:
        # "package[3].wheels[0].hash" matches ("package", 3, "wheels", 0, "hash") at any depth of overlap
        keys = [str(k) for k in at if not isinstance(k, int)]
        if not keys or any(k in where for k in keys[:2]):
            return True
    return False
