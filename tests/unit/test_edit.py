"""Manifest editors: each test gives a whole manifest and asserts the whole text that comes back."""

from __future__ import annotations

import pytest
from packaging.version import Version

from lading import edit
from lading.edit import pipfile, pyproject, requirements
from lading.edit._common import raise_pep440, raise_poetry
from lading.errors import LadingError, UsageError

PY = "pyproject.toml"

PEP621 = """\
[project]
name = "demo"  # the name
version = "1.0"
dependencies = [
    # web
    "flask>=2.0",
    'requests >= 2.31',   # http
    "rich",
]

[project.optional-dependencies]
test = ['pytest>=7']

[dependency-groups]
dev = ["ruff>=0.5", "mypy"]

[tool.ruff]
line-length = 100
"""


def _only_changed(before: str, after: str, old: str, new: str) -> None:
    assert after == before.replace(old, new, 1)


# --- pyproject: [project] dependencies -----------------------------------------------------------------


def test_pyproject_add_sorted_insertion_keeps_comments_and_quotes() -> None:
    out = edit.add_requirement(PEP621, PY, "httpx[http2]>=0.27; python_version >= '3.9'")
    _only_changed(
        PEP621,
        out,
        "    'requests >= 2.31',",
        "    \"httpx[http2]>=0.27; python_version >= '3.9'\",\n    'requests >= 2.31',",
    )


def test_pyproject_add_marker_in_double_quotes_is_rewritten_to_avoid_escapes() -> None:
    out = edit.add_requirement(PEP621, PY, 'tomli>=2; python_version < "3.11"')
    _only_changed(PEP621, out, '    "rich",\n', '    "rich",\n    "tomli>=2; python_version < \'3.11\'",\n')


def test_pyproject_replace_in_place_keeps_own_quote_and_comment() -> None:
    out = edit.add_requirement(PEP621, PY, "Requests >= 2.32")
    _only_changed(PEP621, out, "'requests >= 2.31',", "'Requests>=2.32',")


def test_pyproject_add_first_goes_below_section_comment() -> None:
    out = edit.add_requirement(PEP621, PY, "aiohttp")
    _only_changed(PEP621, out, "    # web\n", '    # web\n    "aiohttp",\n')


def test_pyproject_unsorted_array_appends_one_per_line() -> None:
    text = '[project]\nname = "x"\ndependencies = [\n    "zope.interface",\n    "attrs",\n]\n'
    out = edit.add_requirement(text, PY, "click>=8")
    assert out == '[project]\nname = "x"\ndependencies = [\n    "zope.interface",\n    "attrs",\n    "click>=8",\n]\n'


def test_pyproject_single_quoted_array_gets_single_quotes() -> None:
    text = "[project]\nname = 'x'\ndependencies = ['attrs', 'zope.interface']\n"
    out = edit.add_requirement(text, PY, "click; sys_platform == 'win32'")
    assert out == (
        "[project]\nname = 'x'\ndependencies = ['attrs', 'click; sys_platform == \"win32\"', 'zope.interface']\n"
    )


def test_pyproject_inline_array_without_spaces_keeps_its_separator() -> None:
    text = '[project]\nname = "x"\ndependencies = ["b","a"]\n'
    assert edit.add_requirement(text, PY, "c") == '[project]\nname = "x"\ndependencies = ["b","a","c"]\n'


def test_pyproject_multiline_without_trailing_comma_and_with_comment() -> None:
    text = '[project]\nname = "x"\ndependencies = [\n    "b",\n    "c"  # last\n]\n'
    out = edit.add_requirement(text, PY, "d")
    assert out == '[project]\nname = "x"\ndependencies = [\n    "b",\n    "c",  # last\n    "d"\n]\n'


def test_pyproject_crlf_and_no_final_newline_are_kept() -> None:
    text = '[project]\r\nname = "x"\r\ndependencies = [\r\n    "a",\r\n    "c",\r\n]\r\n\r\n[tool.x]\r\ny = 1'
    out = edit.add_requirement(text, PY, "b")
    assert out == (
        '[project]\r\nname = "x"\r\ndependencies = [\r\n    "a",\r\n    "b",\r\n    "c",\r\n]\r\n\r\n[tool.x]\r\ny = 1'
    )


def test_pyproject_missing_dependencies_key_is_added_to_project() -> None:
    text = '[project]\nname = "x"\nversion = "1"\n\n[tool.x]\ny = 1\n'
    out = edit.add_requirement(text, PY, "attrs>=23")
    assert out == '[project]\nname = "x"\nversion = "1"\ndependencies = [\n    "attrs>=23",\n]\n\n[tool.x]\ny = 1\n'


def test_pyproject_dynamic_dependencies_cannot_be_edited() -> None:
    text = '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
    with pytest.raises(LadingError, match="dynamic") as info:
        edit.add_requirement(text, PY, "attrs")
    assert info.value.file == PY and info.value.field == "project.dynamic"


def test_pyproject_invalid_requirement_names_file_and_field() -> None:
    with pytest.raises(UsageError) as info:
        edit.add_requirement(PEP621, PY, "not a requirement!")
    assert info.value.file == PY and info.value.field == "requirement"


def test_pyproject_malformed_toml_is_a_lading_error() -> None:
    with pytest.raises(LadingError, match="malformed TOML"):
        edit.add_requirement("[project\nname = 1\n", PY, "attrs")


def test_pyproject_duplicates_of_the_same_name_collapse_into_the_first() -> None:
    text = (
        '[project]\nname = "x"\n'
        'dependencies = [\n    "numpy<2; python_version < \'3.9\'",\n    "attrs",\n    "NumPy>=2",\n]\n'
    )
    out = edit.add_requirement(text, PY, "numpy>=2.1")
    assert out == '[project]\nname = "x"\ndependencies = [\n    "numpy>=2.1",\n    "attrs",\n]\n'


# --- pyproject: groups and extras -----------------------------------------------------------------------


def test_pyproject_group_inline_array_sorted_insertion_not_applied_when_unsorted() -> None:
    out = edit.add_requirement(PEP621, PY, "pytest-cov", group="dev")
    _only_changed(PEP621, out, 'dev = ["ruff>=0.5", "mypy"]', 'dev = ["ruff>=0.5", "mypy", "pytest-cov"]')


def test_pyproject_new_group_follows_sibling_layout() -> None:
    out = edit.add_requirement(PEP621, PY, "black", group="lint")
    _only_changed(PEP621, out, 'dev = ["ruff>=0.5", "mypy"]\n', 'dev = ["ruff>=0.5", "mypy"]\nlint = ["black"]\n')


def test_pyproject_new_dependency_groups_table_goes_at_the_end() -> None:
    text = '[project]\nname = "x"\ndependencies = []\n\n[tool.x]\ny = 1\n'
    out = edit.add_requirement(text, PY, "pytest>=8", group="dev")
    assert out == text + '\n[dependency-groups]\ndev = [\n    "pytest>=8",\n]\n'


def test_pyproject_optional_sorted_insert_single_quotes() -> None:
    out = edit.add_requirement(PEP621, PY, "hypothesis", optional="test")
    _only_changed(PEP621, out, "test = ['pytest>=7']", "test = ['hypothesis', 'pytest>=7']")


def test_pyproject_new_optional_table_goes_after_project() -> None:
    text = '[project]\nname = "x"\ndependencies = ["a"]\n\n[tool.x]\ny = 1\n'
    out = edit.add_requirement(text, PY, "coverage", optional="cov")
    assert out == (
        '[project]\nname = "x"\ndependencies = ["a"]\n\n[project.optional-dependencies]\n'
        'cov = [\n    "coverage",\n]\n\n[tool.x]\ny = 1\n'
    )


def test_pyproject_group_and_optional_together_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        edit.add_requirement(PEP621, PY, "x", group="a", optional="b")


# --- pyproject: remove ----------------------------------------------------------------------------------


def test_pyproject_remove_takes_the_line_and_its_comment() -> None:
    out = edit.remove_requirement(PEP621, PY, "Requests")
    _only_changed(PEP621, out, "    'requests >= 2.31',   # http\n", "")


def test_pyproject_remove_from_inline_array() -> None:
    out = edit.remove_requirement(PEP621, PY, "mypy", group="dev")
    _only_changed(PEP621, out, 'dev = ["ruff>=0.5", "mypy"]', 'dev = ["ruff>=0.5"]')
    out = edit.remove_requirement(PEP621, PY, "ruff", group="dev")
    _only_changed(PEP621, out, 'dev = ["ruff>=0.5", "mypy"]', 'dev = ["mypy"]')


def test_pyproject_remove_last_without_trailing_comma_drops_the_previous_comma() -> None:
    text = '[project]\nname = "x"\ndependencies = [\n    "a",\n    "b"\n]\n'
    assert edit.remove_requirement(text, PY, "b") == '[project]\nname = "x"\ndependencies = [\n    "a"\n]\n'


def test_pyproject_remove_absent_says_where_it_is() -> None:
    with pytest.raises(LadingError) as info:
        edit.remove_requirement(PEP621, PY, "ruff")
    assert info.value.field == "[project] dependencies"
    assert info.value.hint is not None and "[dependency-groups] dev (--group dev)" in info.value.hint


# --- pyproject: poetry ----------------------------------------------------------------------------------

POETRY = """\
[tool.poetry]
name = "demo"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.9"
click = "^8.1"
requests = {version = "^2.31", source = "private"}  # internal mirror

[tool.poetry.group.dev.dependencies]
pytest = "^8.0"

[build-system]
requires = ["poetry-core"]
"""


def test_poetry_add_table_value_in_sorted_position() -> None:
    out = edit.add_requirement(POETRY, PY, "httpx[http2]>=0.27; python_version >= '3.10'")
    _only_changed(
        POETRY,
        out,
        "requests = {",
        'httpx = {version = ">=0.27", extras = ["http2"], markers = "python_version >= \'3.10\'"}\nrequests = {',
    )


def test_poetry_replace_keeps_source_and_comment() -> None:
    out = edit.add_requirement(POETRY, PY, "requests>=2.32")
    _only_changed(POETRY, out, 'requests = {version = "^2.31", source', 'requests = {version = ">=2.32", source')


def test_poetry_plain_add_is_a_string() -> None:
    out = edit.add_requirement(POETRY, PY, "zipp")
    _only_changed(POETRY, out, "  # internal mirror\n", '  # internal mirror\nzipp = "*"\n')


def test_poetry_group_existing_and_new() -> None:
    out = edit.add_requirement(POETRY, PY, "mypy>=1", group="dev")
    _only_changed(POETRY, out, 'pytest = "^8.0"\n', 'mypy = ">=1"\npytest = "^8.0"\n')
    out = edit.add_requirement(POETRY, PY, "sphinx", group="docs")
    _only_changed(
        POETRY, out, 'pytest = "^8.0"\n', 'pytest = "^8.0"\n\n[tool.poetry.group.docs.dependencies]\nsphinx = "*"\n'
    )


def test_poetry_legacy_dev_dependencies_table_is_used_for_dev() -> None:
    text = (
        '[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\npython = "^3.9"\n\n'
        '[tool.poetry.dev-dependencies]\npytest = "^7"\n'
    )
    out = edit.add_requirement(text, PY, "black", group="dev")
    assert out == text.replace('pytest = "^7"', 'black = "*"\npytest = "^7"')


def test_poetry_optional_marks_optional_and_lists_the_extra() -> None:
    out = edit.add_requirement(POETRY, PY, "rich>=13", optional="pretty")
    _only_changed(
        POETRY,
        out,
        "  # internal mirror\n",
        '  # internal mirror\nrich = {version = ">=13", optional = true}\n\n[tool.poetry.extras]\npretty = ["rich"]\n',
    )
    assert edit.remove_requirement(out, PY, "rich", optional="pretty") == POETRY.replace(
        "  # internal mirror\n", "  # internal mirror\n\n[tool.poetry.extras]\npretty = []\n"
    )


def test_poetry_remove_line() -> None:
    out = edit.remove_requirement(POETRY, PY, "click")
    _only_changed(POETRY, out, 'click = "^8.1"\n', "")
    with pytest.raises(LadingError) as info:
        edit.remove_requirement(POETRY, PY, "pytest")
    assert info.value.hint is not None and "--group dev" in info.value.hint


def test_poetry_with_project_dependencies_uses_pep621() -> None:
    text = '[project]\nname = "x"\ndependencies = ["a"]\n\n[tool.poetry]\npackage-mode = false\n'
    assert edit.add_requirement(text, PY, "b") == text.replace('["a"]', '["a", "b"]')


# --- pyproject: bump ------------------------------------------------------------------------------------


def test_pyproject_bump_raises_lower_bounds_everywhere() -> None:
    out = edit.set_lower_bounds(
        PEP621, PY, {"flask": "3.0.3", "requests": "2.32.3", "rich": "13.7.1", "mypy": "1.10", "pytest": "8.2"}
    )
    assert out == PEP621.replace('"flask>=2.0"', '"flask>=3.0.3"').replace(
        "'requests >= 2.31'", "'requests >= 2.32.3'"
    ).replace('"rich",', '"rich>=13.7.1",').replace('"mypy"]', '"mypy>=1.10"]').replace("'pytest>=7'", "'pytest>=8.2'")


def test_pyproject_bump_keeps_exact_pins_markers_and_upper_bounds() -> None:
    text = (
        '[project]\nname = "x"\ndependencies = [\n    "a==1.0",\n    "b[x]>=1,<3; python_version >= \\"3.9\\"",\n'
        '    "c~=1.2",\n    "d<5",\n    "e @ https://example.invalid/e-1.0.tar.gz",\n]\n'
    )
    out = edit.set_lower_bounds(text, PY, {"a": "1.5", "b": "2.1", "c": "1.6.2", "d": "4.0", "e": "1.0"})
    assert out == (
        '[project]\nname = "x"\ndependencies = [\n    "a==1.0",\n    "b[x]>=2.1,<3; python_version >= \\"3.9\\"",\n'
        '    "c~=1.6",\n    "d>=4.0,<5",\n    "e @ https://example.invalid/e-1.0.tar.gz",\n]\n'
    )


def test_poetry_bump_caret_tilde_and_tables() -> None:
    pins = {"click": "8.1.7", "requests": "2.32.3", "pytest": "8.2.1", "python": "3.12"}
    out = edit.set_lower_bounds(POETRY, PY, pins)
    assert out == POETRY.replace('"^8.1"', '"^8.1.7"').replace('"^2.31"', '"^2.32.3"').replace('"^8.0"', '"^8.2.1"')


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("^1.2", "1.5.3", "^1.5.3"),
        ("^0.2", "0.2.5", "^0.2.5"),
        ("^0", "0.3.1", None),
        ("~1.2", "1.2.9", "~1.2.9"),
        ("~=1.2", "1.4.1", "~=1.4"),
        ("1.2.3", "1.2.3", None),
        ("*", "2.0", ">=2.0"),
        (">= 1.2, <2", "1.9", ">= 1.9, <2"),
        ("^1.0 || ^2.0", "2.1", None),
    ],
)
def test_raise_poetry_constraints(spec: str, version: str, expected: object) -> None:
    assert raise_poetry(spec, Version(version)) == expected


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=1.0", "1.4", ">=1.4"),
        (">=2.0", "1.4", None),
        (">1.0", "1.4", ">=1.4"),
        ("~=1.2.0", "1.2.7", "~=1.2.7"),
        ("==1.*", "1.4", None),
        ("!=1.3, <2", "1.4", ">=1.4, !=1.3, <2"),
        ("", "1.4", ">=1.4"),
    ],
)
def test_raise_pep440_specifiers(spec: str, version: str, expected: object) -> None:
    assert raise_pep440(spec, Version(version)) == expected


# --- default specifier ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "style", "expected"),
    [
        ("2.31.0", "lower-bound", ">=2.31"),
        ("2.31.0", "exact", "==2.31.0"),
        ("2.31.0", "compatible", "~=2.31"),
        ("0.0.5", "lower-bound", ">=0.0.5"),
        ("2.0.0rc1", "lower-bound", ">=2.0.0rc1"),
        ("5", "lower-bound", ">=5"),
        ("5", "compatible", "~=5.0"),
        ("1!2.3.4", "lower-bound", ">=1!2.3"),
        ("1.2.post1", "lower-bound", ">=1.2"),
    ],
)
def test_default_specifier(version: str, style: str, expected: str) -> None:
    assert edit.default_specifier(version, style) == expected


def test_default_specifier_rejects_unknown_style_and_bad_version() -> None:
    with pytest.raises(UsageError):
        edit.default_specifier("1.0", "loose")
    with pytest.raises(UsageError):
        edit.default_specifier("not a version")


# --- requirements files ---------------------------------------------------------------------------------

IN = "# runtime\nflask>=2  # web\nrequests\n\n-r base.in\n"


def test_requirements_in_sorted_add_and_replace_keeps_inline_comment() -> None:
    path = "requirements.in"
    assert (
        edit.add_requirement(IN, path, "attrs>=23") == "# runtime\nattrs>=23\nflask>=2  # web\nrequests\n\n-r base.in\n"
    )
    assert edit.add_requirement(IN, path, "Flask >= 3") == "# runtime\nFlask>=3  # web\nrequests\n\n-r base.in\n"
    assert edit.add_requirement(IN, path, "zope") == "# runtime\nflask>=2  # web\nrequests\nzope\n\n-r base.in\n"


def test_requirements_unsorted_appends_after_last_entry() -> None:
    text = "zzz\naaa\n# trailing note\n"
    assert edit.add_requirement(text, "requirements.in", "mmm") == "zzz\naaa\nmmm\n# trailing note\n"


def test_requirements_comment_between_entries_stays_with_the_entry_below() -> None:
    text = "flask\n# pinned: bug 123\nrequests<2.30\n"
    out = edit.add_requirement(text, "requirements.in", "pytest")
    assert out == "flask\npytest\n# pinned: bug 123\nrequests<2.30\n"


def test_requirements_crlf_no_final_newline() -> None:
    assert edit.add_requirement("a\r\nc", "requirements.in", "d") == "a\r\nc\r\nd"
    assert edit.add_requirement("a\r\nc", "requirements.in", "b") == "a\r\nb\r\nc"
    assert edit.remove_requirement("a\r\nc", "requirements.in", "c") == "a"


def test_requirements_group_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        edit.add_requirement(IN, "requirements.in", "x", group="dev")


def test_requirements_remove_absent_is_an_error() -> None:
    with pytest.raises(LadingError, match="not in this file"):
        edit.remove_requirement(IN, "requirements.in", "django")


def test_requirements_bump() -> None:
    text = "flask>=2  # web\nrequests\nattrs==23.1\nclick[x] ; python_version >= '3.9'\n"
    pins = {"flask": "3.0.3", "requests": "2.32", "attrs": "23.2", "click": "8.1"}
    out = edit.set_lower_bounds(text, "requirements.in", pins)
    assert out == "flask>=3.0.3  # web\nrequests>=2.32\nattrs==23.1\nclick[x]>=8.1 ; python_version >= '3.9'\n"


COMPILED = """\
#
# This file is autogenerated by pip-compile
#
--index-url https://example.invalid/simple

certifi==2024.2.2 \\
    --hash=sha256:aaa
    # via requests
idna==3.6 \\
    --hash=sha256:bbb \\
    --hash=sha256:ccc
    # via requests
requests==2.31.0 \\
    --hash=sha256:ddd
    # via -r requirements.in
"""


def test_pinned_add_with_hashes_in_pip_compile_layout() -> None:
    out = requirements.add_pinned(COMPILED, "requirements.txt", "charset-normalizer", "3.3.2", ["sha256:fff", "eee"])
    _only_changed(
        COMPILED,
        out,
        "idna==3.6",
        "charset-normalizer==3.3.2 \\\n    --hash=sha256:eee \\\n    --hash=sha256:fff\nidna==3.6",
    )


def test_pinned_replace_moves_hash_block_as_unit_and_keeps_annotation() -> None:
    out = requirements.add_pinned(COMPILED, "requirements.txt", "IDNA", "3.7", ["sha256:111"])
    old = "idna==3.6 \\\n    --hash=sha256:bbb \\\n    --hash=sha256:ccc\n"
    _only_changed(COMPILED, out, old, "IDNA==3.7 \\\n    --hash=sha256:111\n")


def test_pinned_add_last_with_marker_and_remove_with_annotations() -> None:
    out = requirements.add_pinned(COMPILED, "requirements.txt", "zzz", "1", ["sha256:111"], 'python_version < "3.11"')
    assert out == COMPILED + 'zzz==1 ; python_version < "3.11" \\\n    --hash=sha256:111\n'
    out = edit.remove_requirement(COMPILED, "requirements.txt", "idna")
    old = "idna==3.6 \\\n    --hash=sha256:bbb \\\n    --hash=sha256:ccc\n    # via requests\n"
    _only_changed(COMPILED, out, old, "")


def test_pinned_plain_file_without_hashes() -> None:
    text = "attrs==23.2.0\nrequests==2.31.0\n"
    assert requirements.add_pinned(text, "requirements.txt", "click", "8.1.7", ["sha256:abc"]) == (
        "attrs==23.2.0\nclick==8.1.7\nrequests==2.31.0\n"
    )
    assert requirements.style(text).pinned and not requirements.style(text).hashed


def test_pinned_hashed_file_needs_hashes() -> None:
    with pytest.raises(UsageError):
        requirements.add_pinned(COMPILED, "requirements.txt", "x", "1")
    with pytest.raises(UsageError):
        requirements.add_pinned(COMPILED, "requirements.txt", "x", "1", ["sha256:not-hex"])


def test_requirements_style() -> None:
    assert requirements.style(COMPILED).hashed and requirements.style(COMPILED).sorted
    assert not requirements.style(IN).pinned


# --- Pipfile --------------------------------------------------------------------------------------------

PIPFILE = """\
[[source]]
url = "https://example.invalid/simple"
verify_ssl = true
name = "pypi"

[packages]
flask = "*"
requests = {version = ">=2.31", extras = ["socks"], index = "pypi"}

[dev-packages]
pytest = ">=8"

[requires]
python_version = "3.11"
"""


def test_pipfile_add_star_version_and_table() -> None:
    out = edit.add_requirement(PIPFILE, "Pipfile", "gunicorn")
    _only_changed(PIPFILE, out, "requests = {", 'gunicorn = "*"\nrequests = {')
    out = edit.add_requirement(PIPFILE, "Pipfile", "httpx[http2]>=0.27; sys_platform != 'win32'")
    _only_changed(
        PIPFILE,
        out,
        "requests = {",
        'httpx = {version = ">=0.27", extras = ["http2"], markers = "sys_platform != \'win32\'"}\nrequests = {',
    )


def test_pipfile_replace_keeps_index() -> None:
    out = edit.add_requirement(PIPFILE, "Pipfile", "requests>=2.32")
    old = '{version = ">=2.31", extras = ["socks"], index = "pypi"}'
    _only_changed(PIPFILE, out, old, '{version = ">=2.32", index = "pypi"}')


def test_pipfile_dev_and_custom_category() -> None:
    out = edit.add_requirement(PIPFILE, "Pipfile", "black", group="dev")
    _only_changed(PIPFILE, out, 'pytest = ">=8"\n', 'black = "*"\npytest = ">=8"\n')
    out = edit.add_requirement(PIPFILE, "Pipfile", "sphinx", group="docs")
    _only_changed(PIPFILE, out, 'pytest = ">=8"\n', 'pytest = ">=8"\n\n[docs]\nsphinx = "*"\n')


def test_pipfile_remove_and_absent() -> None:
    _only_changed(PIPFILE, edit.remove_requirement(PIPFILE, "Pipfile", "Flask"), 'flask = "*"\n', "")
    with pytest.raises(LadingError) as info:
        edit.remove_requirement(PIPFILE, "Pipfile", "pytest")
    assert info.value.hint == "it is in [dev-packages]"


def test_pipfile_bump() -> None:
    out = pipfile.set_lower_bounds(PIPFILE, "Pipfile", {"flask": "3.0", "requests": "2.32.3", "pytest": "8.2"})
    assert out == PIPFILE.replace('flask = "*"', 'flask = ">=3.0"').replace('">=2.31"', '">=2.32.3"').replace(
        'pytest = ">=8"', 'pytest = ">=8.2"'
    )


def test_pipfile_crlf_without_final_newline() -> None:
    text = '[packages]\r\nrequests = "*"'
    assert edit.add_requirement(text, "Pipfile", "urllib3") == '[packages]\r\nrequests = "*"\r\nurllib3 = "*"'
    assert edit.remove_requirement(text + '\r\nurllib3 = "*"', "Pipfile", "urllib3") == text


def test_pipfile_extras_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        edit.add_requirement(PIPFILE, "Pipfile", "x", optional="y")


def test_module_level_functions_match_dispatch() -> None:
    assert pyproject.add_requirement(PEP621, PY, "zzz") == edit.add_requirement(PEP621, PY, "zzz")
