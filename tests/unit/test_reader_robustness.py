"""Bad input never escapes as anything but a LadingError naming the file, and never hangs.

Every real fixture lock (and the manifest beside it) is mutated, structurally (parse, change one place,
write back) or byte by byte, then read, selected, checked for freshness and for soundness. Each step
must either succeed or raise a :class:`LadingError` that names the lock or the manifest.

The mutations and the harness live in ``tests/fuzzing.py``; here hypothesis makes the choices (and
shrinks a failure). The default run is short; ``LADING_FUZZ_EXAMPLES=5000`` runs a long one, and
``scripts/fuzz_readers.py`` runs the same mutations from a seeded generator, 100,000 inputs per format.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, note, reject, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from lading import soundness
from lading.errors import LadingError, LockFormatError, SelectionError
from lading.locks import read
from lading.locks.staleness import freshness
from lading.model import Lock, Origin, Package, PackageWheel, Pylock
from lading.select import select
from tests.conftest import RealFixture, materialize
from tests.fuzzing import (
    FIXTURES,
    FORMATS,
    HERE,
    KEYS,
    NASTY,
    Unwritable,
    make_input,
    named_step,
    originals,
    run,
    write_all,
)

EXAMPLES = int(os.environ.get("LADING_FUZZ_EXAMPLES", "60"))
#: Seconds one example may take before it counts as a hang.
HANG_AFTER = float(os.environ.get("LADING_FUZZ_HANG_SECONDS", "20"))

T = TypeVar("T")


def _scalars(allow_none: bool) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = [
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=True),
        st.booleans(),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
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


class HypothesisChooser:
    """The mutations' choices drawn by hypothesis, so failures shrink and print their steps."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def integer(self, low: int, high: int, label: str) -> int:
        return self.data.draw(st.integers(low, high), label=label)

    def choice(self, options: Sequence[T], label: str) -> T:
        return self.data.draw(st.sampled_from(options), label=label)

    def boolean(self, label: str) -> bool:
        return self.data.draw(st.booleans(), label=label)

    def value(self, allow_none: bool, label: str) -> Any:
        return self.data.draw(_values(allow_none), label=label)

    def text(self, max_size: int, label: str) -> str:
        return self.data.draw(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=max_size),
                              label=label)

    def binary(self, low: int, high: int, label: str) -> bytes:
        return self.data.draw(st.binary(min_size=low, max_size=high), label=label)

    def note(self, message: str) -> None:
        note(message)

    def mutated(self, at: tuple[Any, ...]) -> None:
        pass


def mutate_and_exercise(fmt: str, data: st.DataObject) -> None:
    """One example: pick a fixture of ``fmt`` and one of its files, mutate it, run everything over it."""
    try:
        given_input = make_input(fmt, HypothesisChooser(data))
    except Unwritable:
        reject()
    outcome = run(given_input.fixture, given_input.files, given_input.file, given_input.blob, HANG_AFTER)
    event("read succeeded" if outcome.read else "read raised a LadingError")


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_lock_or_manifest_reads_or_raises_a_lading_error_naming_it(fmt: str, data: st.DataObject) -> None:
    mutate_and_exercise(fmt, data)


def test_the_harness_accepts_an_unmutated_fixture(tmp_path: Path) -> None:
    # The real fixtures read cleanly, so a failure above is the mutation's doing.
    for fixture, files in originals().values():
        directory = tmp_path / fixture.id
        directory.mkdir(parents=True)
        write_all(directory, files)
        read(directory / str(fixture.expected["lock"]))


def test_the_harness_catches_an_error_that_names_no_file() -> None:
    def fails() -> None:
        raise LadingError("no file named")

    with pytest.raises(AssertionError):
        named_step("read", fails, {"pylock.toml"})


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


#: A path component longer than any file system allows: ``Path.exists()`` raised OSError on it (< 3.12).
TOO_LONG = "x" * 300


def test_a_pdm_path_too_long_for_the_file_system_is_a_missing_directory_not_an_os_error(tmp_path: Path) -> None:
    real = _edited(tmp_path, "basic/pdm", "pdm.lock", 'name = "idna"\nversion = "3.20"\n',
                   f'name = "idna"\nversion = "3.20"\npath = "{TOO_LONG}"\n')
    lock = read(real.lock_path)
    problems = soundness.check(lock)
    assert any(p.message == f"directory {TOO_LONG!r} does not exist" for p in problems), problems


def test_a_pipfile_archive_path_too_long_for_the_file_system_is_a_missing_file_not_an_os_error(
    tmp_path: Path,
) -> None:
    real = _edited(tmp_path, "basic/pipenv", "Pipfile.lock", '"idna": {\n',
                   f'"idna": {{\n            "path": "{TOO_LONG}.tar.gz",\n')
    lock = read(real.lock_path)
    problems = soundness.check(lock)
    assert any(p.message.endswith("does not exist") and TOO_LONG in p.message for p in problems), problems


def test_a_requirements_include_too_long_for_the_file_system_is_a_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"idna==3.7\n-r {TOO_LONG}.txt\n", encoding="utf-8")
    with pytest.raises(LockFormatError) as info:
        read(path)
    assert "requirements.txt" in str(info.value)
    assert f"included file {TOO_LONG}.txt not found" in info.value.why


def test_a_requirements_path_too_long_for_the_file_system_reads_as_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"idna==3.7\n-e ./{TOO_LONG}#egg=local\n", encoding="utf-8")
    lock = read(path)
    assert any(p.message.endswith("does not exist") for p in soundness.check(lock))


def test_a_wheel_url_urllib_refuses_is_a_lock_error_naming_the_package(tmp_path: Path) -> None:
    # An unbalanced "[" in the host makes urllib raise ValueError("Invalid IPv6 URL") while naming the file.
    real = _edited(tmp_path, "basic/uv", "uv.lock", 'url = "https://', 'url = "https://[')
    with pytest.raises(LockFormatError) as info:
        read(real.lock_path)
    assert "uv.lock" in str(info.value)
    assert "is not a valid URL (Invalid IPv6 URL)" in info.value.why
