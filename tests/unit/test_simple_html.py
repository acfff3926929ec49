"""The quick reading of simple-API HTML pages agrees with html.parser, and wheel names with packaging."""

from __future__ import annotations

from typing import Optional

import pytest
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, NormalizedName, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from lading.index import simple
from lading.index.simple import IndexFile, parse_html
from lading.resolve.lock import _wheel_name_version, _wheel_tags

BASE = "https://example.invalid/simple/demo/"


def slow(text: str, page_url: str = BASE) -> tuple[IndexFile, ...]:
    parser = simple._AnchorParser()
    parser.feed(text)
    parser.close()
    base = simple.urljoin(page_url, parser.base) if parser.base else page_url
    return tuple(simple._html_file(attrs, label, base) for attrs, label in parser.anchors)


#: The shape of the pages most indexes write: read without a tokenizer (simple._usual_anchors).
USUAL = """<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.1">
    <title>Links for demo</title>
  </head>
  <body>
    <h1>Links for demo</h1>
    <a href="https://files.example.invalid/packages/ab/demo-1.0-py3-none-any.whl#sha256=AB12" \
data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=cd" data-core-metadata="sha256=cd" \
data-upload-time="2024-01-01T00:00:00.000000Z">demo-1.0-py3-none-any.whl</a><br />
    <a href="../../files/demo-1.0.tar.gz#sha256=ef&amp;x" data-yanked="">demo-1.0.tar.gz</a><br />
    <a href="demo-2.0.tar.gz#sha256=01" data-yanked="broken &amp; bad" >demo&#45;2.0.tar.gz</a><br />
    <a href="demo%2B3.0.tar.gz"></a>
  </body>
</html>
"""

PAGES = {
    "plain": """<!DOCTYPE html><html><body><h1>Links for demo</h1>
<a href="https://files.example.invalid/demo-1.0.tar.gz#sha256=AB12"
 data-requires-python="&gt;=3.8,&lt;4">demo-1.0.tar.gz</a><br />
<a href="../../f/demo-1.1-py3-none-any.whl#sha256=cd" data-yanked
 data-core-metadata="sha256=ef">demo-1.1-py3-none-any.whl</a><br/>
<a href="demo-1.2.tar.gz" data-yanked="broken &amp; bad">demo-1.2.tar.gz</a>
</body></html>""",
    "case, quoting and spacing": """<A HREF='x/demo-1.0.zip#md5=00' DATA-REQUIRES-PYTHON = ">=3"
  >demo-1.0.zip</A ><a href=demo-2.0.tar.gz data-dist-info-metadata=true>demo-2.0.tar.gz</a>
<a data-yanked="" href="demo-3.0.tar.gz">  demo-3.0.tar.gz  </a><a>no href</a><a href="">empty</a>""",
    "base and label from the URL": """<html><head><base href="https://mirror.example.invalid/pkgs/"></head>
<a href="demo-1.0-py3-none-any.whl?x=1#sha256=aa"></a><a href="https://h.example.invalid/a/demo%2B1.tar.gz"></a>""",
    "entities in labels and values": """<a href="demo-1.0.tar.gz#sha256=&#x61;b"
 data-yanked="&quot;why&quot;">demo&#45;1.0.tar.gz</a>""",
    "markup inside an anchor (full parser)": """<a href="demo-1.0.tar.gz"><span>demo-1.0.tar.gz</span></a>
<a href="d-2.tar.gz">d-2.tar.gz""",
    "comments and scripts (full parser)": """<!-- <a href="hidden-1.0.tar.gz">hidden</a> -->
<script>var s = '<a href="nope.tar.gz">x</a>';</script><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>""",
    "unclosed last anchor": """<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>
<a href="demo-2.0.tar.gz">demo-2.0.tar.gz""",
    "usual": USUAL,
    "usual but for a second href": USUAL + """<a href="demo-4.0.tar.gz" data-x="1" href="">demo-4.0.tar.gz</a>""",
    "usual but for single quotes": USUAL + """<a href='demo-4.0.tar.gz'>demo-4.0.tar.gz</a>""",
    "usual but for an empty href": USUAL + """<a href="">nothing</a>""",
    "usual but for an upper-case name": USUAL + """<a href="demo-4.0.tar.gz" Data-Yanked="">demo-4.0.tar.gz</a>""",
    "usual but for a bare attribute": USUAL + """<a href="demo-4.0.tar.gz" data-yanked>demo-4.0.tar.gz</a>""",
    "usual but for a base": """<base href="https://mirror.example.invalid/x/">""" + USUAL,
}
UNUSUAL = [name for name in PAGES if name.startswith("usual but")]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_quick_html_reading_agrees_with_html_parser(name: str) -> None:
    text = PAGES[name]
    assert parse_html(text, BASE) == slow(text)
    assert parse_html(text, BASE)  # every page has at least one file


def test_usual_pages_are_read_without_the_tokenizer_and_others_are_not() -> None:
    assert simple._usual_anchors(USUAL) is not None
    assert [f.filename for f in parse_html(USUAL, BASE)] == [
        "demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0.tar.gz", "demo+3.0.tar.gz"
    ]
    for name in UNUSUAL:
        assert simple._usual_anchors(PAGES[name]) is None, name


def test_quick_html_reading_keeps_what_the_page_says() -> None:
    first, second, third = parse_html(PAGES["plain"], BASE)
    assert first.requires_python == ">=3.8,<4" and first.hashes == {"sha256": "ab12"}
    assert second.url == "https://example.invalid/f/demo-1.1-py3-none-any.whl"
    assert (second.yanked, second.yanked_reason, second.core_metadata) == (True, "", {"sha256": "ef"})
    assert (third.yanked_reason, third.url) == ("broken & bad", BASE + "demo-1.2.tar.gz")
    assert [f.filename for f in parse_html(PAGES["comments and scripts (full parser)"], BASE)] == ["demo-1.0.tar.gz"]


def parsed_wheel(filename: str) -> Optional[tuple[NormalizedName, Version, frozenset[Tag]]]:
    """A wheel name read as the lock finder reads it: cut at the third dash from the end, then its tag
    part and its name-version part, each by lading's cached readers."""
    parts = filename[:-4].rsplit("-", 3) if filename.endswith(".whl") else ()
    if len(parts) != 4:
        return None
    tags = _wheel_tags("-".join(parts[1:]))
    named = _wheel_name_version(parts[0]) if tags is not None else None
    return None if named is None or tags is None else (*named, tags)


def reference(filename: str) -> Optional[tuple[NormalizedName, Version, frozenset[Tag]]]:
    try:
        project, version, _, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return project, version, tags


@pytest.mark.parametrize("filename", [
    "demo-1.0-py3-none-any.whl",
    "Demo_Pkg-2.0.post1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "demo-1.0-1-py2.py3-none-any.whl",
    "demo-1.0-12abc-py3-none-any.whl",
    "demo-1.0-x1-py3-none-any.whl",
    "demo__x-1.0-py3-none-any.whl",
    "demo-not!a!version-py3-none-any.whl",
    "demo-1.0-py3-none.whl",
    "demo-1.0-py3--any.whl",
    "demo-1.0-1-2-py3-none-any.whl",
    "-1.0-py3-none-any.whl",
    "demo-1.0-py3-none-any.zip",
])
def test_wheel_names_are_read_as_packaging_reads_them(filename: str) -> None:
    assert parsed_wheel(filename) == reference(filename)


@pytest.mark.parametrize(("filename", "project"), [
    ("demo-1.0.tar.gz", "demo"),
    ("demo-1.0.zip", "demo"),
    ("Demo.Pkg-2.0.post1.tar.gz", "demo-pkg"),
    ("python-dateutil-2.9.0.post0.tar.gz", "python-dateutil"),
    ("demo-1.0.tar.bz2", "demo"),
    ("demo-not!a!version.tar.gz", "demo"),
    ("demo.tar.gz", "demo"),
    ("-1.0.tar.gz", "demo"),
    ("other-1.0.tar.gz", "demo"),
    ("demo-.zip", "demo"),
])
def test_sdist_names_are_read_as_packaging_reads_them(filename: str, project: str) -> None:
    from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename

    from lading.resolve.lock import sdist_version

    try:
        named, version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        expected = None
    else:
        expected = version if named == canonicalize_name(project) else None
    assert sdist_version(filename, canonicalize_name(project)) == expected
