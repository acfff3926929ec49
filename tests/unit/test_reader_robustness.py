"""Bad input never escapes as anything but a LadingError naming the file, and never hangs.

Every real fixture lock (and the manifest beside it) is mutated, structurally (parse, change one place,
write back) or byte by byte, then read, selected, checked for freshness and for soundness. Each step
must either succeed or raise a :class:`LadingError` that names the lock or the manifest.

The default run is short; ``LADING_FUZZ_EXAMPLES=5000`` runs a long one.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest
import tomlkit
from hypothesis import HealthCheck, event, given, note, reject, settings
from hypothesis import strategies as st
from packaging.markers import default_environment
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name
from packaging.version import Version

from lading import soundness
from lading._toml import parse_toml
from lading.errors import LadingError, LockFormatError, SelectionError
from lading.locks import read
from lading.locks.staleness import freshness
from lading.model import GroupRequest, Lock, Origin, Package, PackageWheel, Pylock, Target
from lading.select import select
from tests.conftest import RealFixture, materialize, real_fixtures, target_for

EXAMPLES = int(os.environ.get("LADING_FUZZ_EXAMPLES", "60"))
#: Seconds one example may take before it counts as a hang.
HANG_AFTER = float(os.environ.get("LADING_FUZZ_HANG_SECONDS", "20"))

MANIFESTS = ("pyproject.toml", "Pipfile", "requirements.in")
#: Files a requirements mutation may name with -r / -c, besides the lock itself.
INCLUDED = ("missing.txt", "other.txt", "sub/nested.txt")

FIXTURES = real_fixtures()
FORMATS = sorted({str(f.expected["format"]) for f in FIXTURES})

HERE = Target(name="this interpreter", environment=dict(default_environment()), tags=tuple(sys_tags()))
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


def _scalars(allow_none: bool) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = [
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=True),
        st.booleans(),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
        st.sampled_from(NASTY),
        st.just("x" * 100_000),
        st.just("é🐍" * 20_000),
    ]
    if allow_none:
        choices.append(st.none())  # JSON only; TOML has no null
    else:
        choices += [st.datetimes(), st.dates(), st.times()]  # TOML only; JSON has none
    return st.one_of(choices)


def _values(allow_none: bool) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(NASTY[:20]), st.text(max_size=8))
    return st.recursive(
        _scalars(allow_none),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=6,
    )


# --- structural mutations -----------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _places(node: Any, at: Path_ = ()) -> Iterator[Path_]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*at, i))


def _get(doc: Any, at: Path_) -> Any:
    for step in at:
        doc = doc[step]
    return doc


def _mutate_structure(doc: Any, data: st.DataObject, allow_none: bool) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        places = list(_places(doc))[1:]
        if not places:
            break
        if data.draw(st.booleans(), label="away from file lists"):
            # Most of a lock is file entries; half the time aim at the structure around them.
            places = [p for p in places if not any(k in ("wheels", "files", "hashes") for k in p)] or places
        at = data.draw(st.sampled_from(places), label="place")
        parent, key = _get(doc, at[:-1]), at[-1]
        node = parent[key]
        op = data.draw(st.sampled_from(
            ["delete", "replace", "duplicate", "truncate", "string", "swap", "add", "rename"]), label="op")
        if op == "add":
            # A new key beside this place (or inside it, when it is a table).
            table = node if isinstance(node, dict) else parent
            if isinstance(table, dict):
                new_key = data.draw(st.sampled_from(KEYS), label="key")
                table[new_key] = data.draw(_values(allow_none), label="value")
                note(f"add {new_key!r} beside {at!r}: {_short(table[new_key])}")
            continue
        if op == "rename":
            if isinstance(parent, dict):
                new_key = data.draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(NASTY[:20])), label="key")
                parent[new_key] = parent.pop(key)
                note(f"rename {at!r} to {new_key!r}")
            continue
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = data.draw(_values(allow_none), label="value")
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
                    del container[data.draw(st.integers(0, len(container)), label="keep"):]
                    break
        elif op == "string":
            if isinstance(node, str):
                parent[key] = data.draw(_string_mutations(node), label="string")
        else:  # swap: put another place's value here (a realistic value of the wrong kind)
            others = list(_places(doc))[1:]
            source = data.draw(st.sampled_from(others), label="from")
            parent[key] = copy.deepcopy(_get(doc, source))
        note(f"{op} at {at!r}: {_short(parent[key]) if _has(parent, key) else '(gone)'}")
    return doc


def _string_mutations(text: str) -> st.SearchStrategy[str]:
    cut = st.integers(0, len(text))
    return st.one_of(
        st.sampled_from(NASTY),
        st.builds(lambda a, b: text[a:b], cut, cut),
        st.builds(lambda s: text + s, st.sampled_from(NASTY)),
        st.builds(lambda s: s + text, st.sampled_from(NASTY)),
    )


def _has(parent: Any, key: Any) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and key < len(parent)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def _dump(doc: Any, is_json: bool) -> bytes:
    if is_json:
        return json.dumps(doc, indent=4).encode("utf-8")
    try:
        return tomlkit.dumps(doc).encode("utf-8")
    except Exception:  # tomlkit cannot write every shape (None, odd keys); that is not what is tested
        reject()


# --- byte-level mutations -----------------------------------------------------------------------------

def _mutate_bytes(blob: bytes, data: st.DataObject) -> bytes:
    out = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 4), label="byte mutations")):
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "set"]), label="byte op")
        pos = data.draw(st.integers(0, max(len(out) - 1, 0)), label="pos")
        if op == "flip" and out:
            out[pos] ^= 1 << data.draw(st.integers(0, 7), label="bit")
        elif op == "insert":
            out[pos:pos] = data.draw(st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from([b"\n", b"\\", b"[", b"]", b"\"", b"'", b"=", b",", b"{", b"}", b"#", b"\x00",
                                 b"\xff", b"\xc3", b";", b"@", b"\n[[package]]\n", b"\n[metadata]\n"]),
            ), label="bytes")
        elif op == "delete" and out:
            del out[pos:pos + data.draw(st.integers(1, 64), label="length")]
        elif op == "truncate":
            del out[pos:]
        elif op == "set" and out:
            out[pos] = data.draw(st.sampled_from(b"0123456789.=<>!~;'\"[]{},\n\\ az"), label="byte")
        note(f"{op} at byte {pos}")
    return bytes(out)


# --- requirements text mutations ----------------------------------------------------------------------

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


def _mutate_requirements(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 4), label="line mutations")):
        op = data.draw(st.sampled_from(["insert", "delete", "duplicate", "append", "replace", "eof"]), label="op")
        pos = data.draw(st.integers(0, len(lines)), label="line")
        line = data.draw(st.one_of(st.sampled_from(REQUIREMENT_LINES),
                                   st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)),
                         label="text")
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
        note(f"{op} line {pos}: {_short(line)}")
    return "\n".join(lines)


# --- the harness ----------------------------------------------------------------------------------------


def _named_step(what: str, action: Callable[[], object], named: set[str]) -> object:
    try:
        return action()
    except LadingError as exc:
        message = str(exc)
        assert any(name in message for name in named), f"{what}: error names none of {sorted(named)}: {message}"
        raise


class Hang(BaseException):  # a BaseException, so a reader's broad ``except Exception`` cannot swallow it
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"took longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exercise(lock_path: Path, named: set[str]) -> None:
    """Read, select, check freshness and soundness; only a LadingError naming one of ``named`` may escape."""
    def step(what: str, action: Callable[[], object]) -> object:
        return _named_step(what, action, named)

    try:
        lock = step("read", lambda: read(lock_path))
    except LadingError:
        event("read raised a LadingError")
        return
    event("read succeeded")
    assert lock is not None
    for target in TARGETS:
        for request in REQUESTS:
            with contextlib.suppress(LadingError):
                step("select", lambda t=target, r=request: select(lock, t, r))  # type: ignore[misc]
    with contextlib.suppress(LadingError):
        step("freshness", lambda: freshness(lock))  # type: ignore[arg-type]
    with contextlib.suppress(LadingError):
        step("soundness", lambda: soundness.check(lock))  # type: ignore[arg-type]


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


def _write_all(directory: Path, files: dict[str, bytes]) -> None:
    for name, blob in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)


def _run(fixture: RealFixture, files: dict[str, bytes], mutated: str, blob: bytes) -> None:
    lock_name = str(fixture.expected["lock"])
    named = {lock_name, *(m for m in MANIFESTS if m in files)}
    if mutated not in (lock_name, *MANIFESTS):
        named.add(mutated)
    if fixture.expected["format"] == "requirements":
        named.update(Path(p).name for p in INCLUDED)
    with tempfile.TemporaryDirectory() as raw:
        directory = Path(raw)
        _write_all(directory, {**files, mutated: blob})
        # Files -r lines may point at: one that includes the lock back (a cycle).
        (directory / "other.txt").write_text("-r requirements.txt\n-r other.txt\n", encoding="utf-8")
        (directory / "sub").mkdir(exist_ok=True)
        (directory / "sub" / "nested.txt").write_text("-r ../other.txt\n-r ../missing.txt\n", encoding="utf-8")
        with _deadline(HANG_AFTER):
            _exercise(directory / lock_name, named)


def _fixtures_of(fmt: str) -> list[str]:
    return [f.id for f in FIXTURES if f.expected["format"] == fmt]


def _structured(name: str, blob: bytes) -> tuple[Any, bool]:
    text = blob.decode("utf-8")
    if name.endswith(".lock") and text.lstrip().startswith("{"):
        return json.loads(text), True
    if name == "requirements.in" or name.endswith(".txt"):
        return None, False
    return parse_toml(text, Path(name)), False


def mutate_and_exercise(fmt: str, data: st.DataObject) -> None:
    """One example: pick a fixture of ``fmt`` and one of its files, mutate it, run everything over it."""
    fixture_id = data.draw(st.sampled_from(_fixtures_of(fmt)), label="fixture")
    fixture, files = originals()[fixture_id]
    lock_name = str(fixture.expected["lock"])
    candidates = [lock_name, *(m for m in MANIFESTS if m in files)]
    mutated = data.draw(st.sampled_from(candidates), label="file")
    blob = files[mutated]
    doc, is_json = _structured(mutated, blob)
    kinds = ["bytes"] + (["structure", "structure"] if doc is not None else ["lines", "lines"])
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind == "structure":
        blob = _dump(_mutate_structure(doc, data, allow_none=is_json), is_json)
    elif kind == "lines":
        blob = _mutate_requirements(blob.decode("utf-8"), data).encode("utf-8")
    else:
        blob = _mutate_bytes(blob, data)
    _run(fixture, files, mutated, blob)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_lock_or_manifest_reads_or_raises_a_lading_error_naming_it(fmt: str, data: st.DataObject) -> None:
    mutate_and_exercise(fmt, data)


def test_the_harness_accepts_an_unmutated_fixture() -> None:
    # The real fixtures read cleanly, so a failure above is the mutation's doing.
    for fixture, files in originals().values():
        lock_name = str(fixture.expected["lock"])
        with tempfile.TemporaryDirectory() as raw:
            _write_all(Path(raw), files)
            read(Path(raw) / lock_name)


def test_the_harness_catches_an_error_that_names_no_file() -> None:
    def fails() -> None:
        raise LadingError("no file named")

    with pytest.raises(AssertionError):
        _named_step("read", fails, {"pylock.toml"})


# --- regressions the fuzzing found, as plain tests ------------------------------------------------------


def _edited(tmp_path: Path, fixture_id: str, name: str, old: str, new: str) -> RealFixture:
    """A real fixture with one exact edit in one of its files (the edit must apply)."""
    [fixture] = [f for f in FIXTURES if f.id == fixture_id]
    real = materialize(fixture, tmp_path)
    path = real.directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return real


@pytest.mark.parametrize("fixture_id", ["basic/uv", "basic/poetry2", "basic/pdm"])
def test_a_wheel_whose_file_name_is_no_wheel_name_is_a_lock_error_naming_the_package(
    tmp_path: Path, fixture_id: str
) -> None:
    lock_name = {"uv": "uv.lock", "poetry2": "poetry.lock", "pdm": "pdm.lock"}[fixture_id.split("/")[1]]
    real = _edited(tmp_path, fixture_id, lock_name, "idna-3.20-py3-none-any.whl", "idna-3.20.manylinux.whl")
    with pytest.raises(LockFormatError) as info:
        read(real.lock_path)
    message = str(info.value)
    assert real.lock_path.name in message
    assert "package idna 3.20" in message
    assert "'idna-3.20.manylinux.whl' is not a valid wheel file name" in message


def test_a_wheel_url_that_names_no_file_is_a_lock_error_naming_the_package(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/uv", "uv.lock", "/idna-3.20-py3-none-any.whl", "/")
    with pytest.raises(LockFormatError) as info:
        read(real.lock_path)
    assert "uv.lock" in str(info.value)
    assert "package idna 3.20" in str(info.value)
    assert "a wheel has no file name" in info.value.why


def test_selecting_an_unvalidated_lock_with_a_bad_wheel_name_is_a_selection_error(tmp_path: Path) -> None:
    # Locks built outside lading.locks.read (index completion, tests) skip validation; select still
    # reports the package instead of leaking packaging's InvalidWheelFilename.
    lock = Lock(
        path=tmp_path / "pylock.toml",
        format="pylock",
        pylock=Pylock(
            lock_version=Version("1.0"), created_by="test",
            packages=[Package(name=canonicalize_name("idna"), version=Version("3.7"),
                              wheels=[PackageWheel(name="idna.whl", hashes={"sha256": "00"})])],
        ),
        origins=(Origin(tmp_path / "pylock.toml", "packages[0] (idna 3.7)"),),
    )
    with pytest.raises(SelectionError) as info:
        select(lock, HERE)
    assert "pylock.toml" in str(info.value)
    assert info.value.package == "idna 3.7"


def test_uv_freshness_with_a_recorded_marker_that_is_not_a_string_names_the_lock(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/uv", "uv.lock", """marker = "sys_platform == 'win32'", specifier""",
                   "marker = { a = 1 }, specifier")
    lock = read(real.lock_path)
    with pytest.raises(LockFormatError) as info:
        freshness(lock)
    assert "uv.lock" in str(info.value)
    assert info.value.field is not None and info.value.field.endswith(".marker")


def test_uv_freshness_with_an_extra_name_that_cannot_be_a_marker_value_names_pyproject(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/uv", "pyproject.toml", "[project.optional-dependencies]\ncolor =",
                   "[project.optional-dependencies]\n\"col'or\" =")
    with pytest.raises(LockFormatError) as info:
        freshness(read(real.lock_path))
    assert "pyproject.toml" in str(info.value)
    assert "is not a valid extra name" in info.value.why


def test_poetry_freshness_with_a_toml_date_in_the_dependencies_names_pyproject(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/poetry2", "pyproject.toml", "[tool.poetry]\n",
                   "[tool.poetry]\ndependencies = { when = 2024-01-02 }\n")
    with pytest.raises(LockFormatError) as info:
        freshness(read(real.lock_path))
    assert "pyproject.toml" in str(info.value)
    assert "content-hash" in info.value.why


def test_poetry_freshness_with_dependency_groups_not_a_table_names_pyproject(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/poetry2", "pyproject.toml", "[dependency-groups]\n", "[moved]\n")
    manifest = real.directory / "pyproject.toml"
    manifest.write_text("dependency-groups = [1, 2]\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(LockFormatError) as info:
        freshness(read(real.lock_path))
    assert "pyproject.toml" in str(info.value)
    assert info.value.field == "dependency-groups"


def test_a_requirements_file_with_a_nul_character_is_a_lock_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("idna==3.7\n./pkg\x00dir\n", encoding="utf-8")
    with pytest.raises(LockFormatError) as info:
        read(path)
    assert "requirements.txt" in str(info.value)
    assert "line 2 contains a NUL character" in info.value.why
