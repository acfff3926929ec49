"""The simple repository API (PEP 503 HTML, PEP 691 JSON): one project page -> its files.

:class:`SimpleIndex` is a :class:`PageSource` that fetches each project page at most once per run
and can fetch many in parallel, through an on-disk :class:`~lading.index.httpcache.PageCache` when
given one; tests and callers can supply any other :class:`PageSource`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union, overload
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name

from lading._once import Once
from lading.errors import IndexError_
from lading.index.config import redact
from lading.index.http import Fetched, HttpClient, NotFound

if TYPE_CHECKING:
    from lading.index.httpcache import PageCache

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_JSON_TYPES = frozenset({"application/vnd.pypi.simple.v1+json"})
_HTML_TYPES = frozenset({"application/vnd.pypi.simple.v1+html", "text/html"})

DEFAULT_WORKERS = 8


class ProjectNotFound(NotFound):
    """The index has no page for the project."""


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project page; ``hashes`` are ``{algorithm: hex}``, ``url`` absolute."""

    filename: str
    url: str
    hashes: Mapping[str, str] = field(default_factory=dict)
    requires_python: Optional[str] = None
    yanked: bool = False
    size: Optional[int] = None
    yanked_reason: Optional[str] = None
    upload_time: Optional[datetime] = None
    #: Hashes of the file's core metadata (PEP 658/714): ``{}`` if unhashed, None if not offered.
    core_metadata: Optional[Mapping[str, str]] = None

    def __repr__(self) -> str:
        url = redact(self.url)
        return f"IndexFile({self.filename!r}, url={url!r}, hashes={dict(self.hashes)!r})"


@dataclass(frozen=True)
class ProjectPage:
    name: str  # canonical (PEP 503) name
    #: A tuple, or for HTML pages a :class:`LazyFiles` (each file built when first read).
    files: Sequence[IndexFile]
    url: str = ""  # where the page was read, for messages (redact before showing)


class PageSource(Protocol):
    """Anything that can list a project's files: a live index, a cache, a test double."""

    @property
    def url(self) -> str: ...

    def get(self, project: str) -> ProjectPage:
        """The project's page; raises :class:`ProjectNotFound` if the index does not know it."""
        ...


def project_url(base: str, project: str) -> str:
    return f"{base.rstrip('/')}/{canonicalize_name(project)}/"


class SimpleIndex:
    """A simple-API index; each page is fetched once per instance, even across threads.

    ``cache``: pages go through this on-disk cache (fresh pages need no request, stale ones a
    conditional one). ``offline``: only stored pages are read (:class:`OfflineMiss` otherwise).
    ``name`` (the lock's name for the index) and ``primary`` say which environment variables give
    its credentials when its URL has none (see :meth:`HttpClient.remember_index`).
    """

    def __init__(
        self,
        url: str,
        client: Optional[HttpClient] = None,
        *,
        workers: int = DEFAULT_WORKERS,
        cache: Optional[PageCache] = None,
        offline: bool = False,
        name: Optional[str] = None,
        primary: bool = False,
    ) -> None:
        self._client = client if client is not None else HttpClient(max_connections=workers)
        # The credentials stay in the client; this object and its messages know the bare URL.
        self.url = self._client.remember_index(url, name=name, primary=primary)
        self._cache = cache
        self._offline = offline
        self._workers = workers
        self._pages: Once[str, ProjectPage] = Once()

    def __repr__(self) -> str:
        return f"SimpleIndex({redact(self.url)!r})"

    def get(self, project: str) -> ProjectPage:
        name = canonicalize_name(project)
        return self._pages.get(name, partial(self._fetch, name))

    def prefetch(self, projects: Iterable[str]) -> None:
        """Fetch pages in parallel so later :meth:`get` calls are answered from memory.

        Failures are kept for the later :meth:`get` of that project, which re-raises them.
        """
        wanted = sorted({canonicalize_name(p) for p in projects})
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            for future in [pool.submit(self.get, name) for name in wanted]:
                future.exception()

    def _fetch(self, name: str) -> ProjectPage:
        url = project_url(self.url, name)
        try:
            if self._cache is not None:
                fetched = self._cache.fetch(self._client, url, accept=ACCEPT, offline=self._offline)
            elif self._offline and urlsplit(url).scheme.lower() != "file":
                from lading.index.httpcache import OfflineMiss

                raise OfflineMiss(
                    f"offline, and no page cache to read {redact(url)} from",
                    package=name,
                    hint="run online, or give the files with --find-links",
                )
            else:
                fetched = self._client.fetch(url, accept=ACCEPT)
        except NotFound:
            raise ProjectNotFound(
                f"project {name!r} not found on {redact(self.url)}",
                package=name,
                hint="check the package name and that this index serves it (stale mirror?)",
            ) from None
        try:
            discard = partial(self._cache.discard, url, ACCEPT) if self._cache is not None else None
            return parse_page(fetched, name, on_bad=discard)
        except IndexError_:
            if self._cache is not None:  # a bad page must not be served again from disk
                self._cache.discard(url, ACCEPT)
            raise


def parse_page(fetched: Fetched, name: str, *, on_bad: Optional[Callable[[], None]] = None) -> ProjectPage:
    """Decode a fetched project page by its content type; ``on_bad`` is called when a file of an HTML
    page read later turns out malformed (the page is then refused as if it had been read at once)."""
    content_type = fetched.content_type
    files: Sequence[IndexFile]
    try:
        if content_type in _JSON_TYPES:
            files = parse_json(fetched.body, fetched.url)
        elif content_type in _HTML_TYPES or not content_type:
            files = parse_html(fetched.body.decode("utf-8", errors="replace"), fetched.url, on_bad=on_bad)
        else:
            raise IndexError_(
                f"{redact(fetched.url)} answered {content_type!r}, not a simple-API page",
                package=name,
                hint="the index URL must point at a simple repository API (PEP 503/691)",
            )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexError_(
            f"cannot parse the project page {redact(fetched.url)}: {exc}",
            package=name,
            hint="the index served a malformed page; try again or use another index",
        ) from None
    return ProjectPage(name=name, files=files, url=fetched.url)


def parse_json(body: bytes, page_url: str) -> tuple[IndexFile, ...]:
    """A PEP 691 JSON page."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the JSON page is not an object")
    version = str(data.get("meta", {}).get("api-version", "1.0"))
    if not version.startswith("1."):
        raise ValueError(f"unsupported simple API version {version}")
    files = data.get("files")
    if not isinstance(files, list):
        raise ValueError("'files' is not a list")
    return tuple(_json_file(entry, page_url) for entry in files)


def _json_file(entry: Any, page_url: str) -> IndexFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
        raise ValueError(f"file entry without a filename: {entry!r:.80}")
    yanked = entry.get("yanked", False)
    hashes = entry.get("hashes") or {}
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    size = entry.get("size")
    return IndexFile(
        filename=entry["filename"],
        url=urljoin(page_url, str(entry["url"])),
        hashes={str(k): str(v).lower() for k, v in dict(hashes).items()},
        requires_python=entry.get("requires-python") or None,
        yanked=bool(yanked),
        yanked_reason=yanked if isinstance(yanked, str) else None,
        size=size if isinstance(size, int) else None,
        upload_time=_datetime(entry.get("upload-time")),
        core_metadata=_metadata_hashes(metadata),
    )


def _datetime(value: object) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # a display-only fact: an odd timestamp must not stop an install


def _metadata_hashes(value: object) -> Optional[Mapping[str, str]]:
    if value is None or value is False:
        return None
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str) and "=" in value:  # HTML attribute form: "sha256=<hex>"
        algorithm, _, digest = value.partition("=")
        return {algorithm: digest}
    return {}


def parse_html(text: str, page_url: str, *, on_bad: Optional[Callable[[], None]] = None) -> Sequence[IndexFile]:
    """A PEP 503 HTML page: every anchor is a file; the fragment carries its hash."""
    usual = _usual_anchors(text)
    if usual is not None:
        return LazyFiles(usual, page_url, page_url, on_bad, usual=True)
    scanned = _scan_anchors(text) if _plain_page(text) else None
    if scanned is not None:
        given_base, raw = scanned
        base = urljoin(page_url, given_base) if given_base else page_url
        return LazyFiles(raw, base, page_url, on_bad)
    # comments, scripts, CDATA: the full HTML parser knows what is not markup
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return tuple(_html_file(attrs, label, base) for attrs, label in parser.anchors)


class LazyFiles(Sequence[IndexFile]):
    """The files of a plain HTML page, each built from its anchor when first read.

    Pages of big projects list tens of thousands of files and a lock reads few of them closely:
    :meth:`names` gives every file name from the anchors' text alone, so callers pick the files they
    need by name (tags, version) before paying for their attributes.
    """

    __slots__ = ("_anchors", "_base", "_built", "_names", "_on_bad", "_page", "_usual")

    def __init__(
        self, anchors: Sequence[tuple[str, ...]], base: str, page_url: str,
        on_bad: Optional[Callable[[], None]] = None, *, usual: bool = False,
    ) -> None:
        # (attribute text, label), or for ``usual`` pages (see _usual_anchors) (href, attribute text, label)
        self._anchors = anchors
        self._usual = usual
        self._base = base
        self._page = page_url
        self._on_bad = on_bad
        self._built: list[Optional[IndexFile]] = [None] * len(anchors)
        self._names: Optional[list[str]] = None

    def __len__(self) -> int:
        return len(self._anchors)

    @overload
    def __getitem__(self, index: int) -> IndexFile: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[IndexFile, ...]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[IndexFile, tuple[IndexFile, ...]]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        built = self._built[index]
        if built is None:
            try:
                if self._usual:
                    href, attributes, label = self._anchors[index]
                    built = _html_file(_usual_attributes(href, attributes), _unescaped(label), self._base)
                else:
                    attributes, label = self._anchors[index]
                    built = _html_file(_attributes(attributes), label, self._base)
            except ValueError as exc:  # what parse_page reports for an eagerly read page
                if self._on_bad is not None:
                    self._on_bad()  # a bad page must not be served again from disk
                raise IndexError_(
                    f"cannot parse the project page {redact(self._page)}: {exc}",
                    hint="the index served a malformed page; try again or use another index",
                ) from None
            self._built[index] = built
        return built

    def __iter__(self) -> Iterator[IndexFile]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (LazyFiles, tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"LazyFiles({len(self)} files)"

    def facts(self, index: int) -> tuple[Optional[str], bool]:
        """(requires-python, yanked) of one file, as the built file would say, without building it."""
        built = self._built[index]
        if built is None and self._usual:
            found = _USUAL_ATTRIBUTE.findall(self._anchors[index][1])
            if found:
                attributes = dict(found)
                requires = attributes.get("data-requires-python")
                return (_unescaped(requires) if requires else None), "data-yanked" in attributes
            return None, False
        built = self[index]
        return built.requires_python, built.yanked

    def names(self) -> Sequence[str]:
        """Every file's name, in page order (as :attr:`IndexFile.filename` would give it)."""
        if self._names is None:
            labels = [anchor[-1] for anchor in self._anchors]
            if self._usual:
                labels = [_unescaped(label) if "&" in label else label for label in labels]
            self._names = [label.strip() or self[i].filename for i, label in enumerate(labels)]
        return self._names


def file_names(files: Sequence[IndexFile]) -> Sequence[str]:
    """The names of a page's files, without building each file where the page can avoid it."""
    return files.names() if isinstance(files, LazyFiles) else [f.filename for f in files]


def file_facts(files: Sequence[IndexFile], index: int) -> tuple[Optional[str], bool]:
    """(requires-python, yanked) of ``files[index]``, without building the file where the page can avoid it."""
    if isinstance(files, LazyFiles):
        return files.facts(index)
    file = files[index]
    return file.requires_python, file.yanked


def _plain_page(text: str) -> bool:
    if "<!--" in text or "<![" in text:
        return False
    lowered = text.lower()
    return "<script" not in lowered and "<style" not in lowered


# Index pages are tens of thousands of near-identical anchors (tens of MB for the biggest projects):
# html.parser's character-level tokenizer was most of a lock's CPU time. These expressions read the
# same things (tag names and attribute names case-insensitively, quoted or bare values, entities)
# from a page without comments, raw-text elements or markup inside an anchor (those go to html.parser).
_TAG = re.compile(
    r"""<(a|base)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>([^<]*)(?:(</a\s*>)|(?=(<)))?""", re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""([^\s/>"'=][^\s/=>]*)(\s*=+\s*("[^"]*"|'[^']*'|(?!['"])[^>\s]*))?""")

# The usual page (every index that writes PEP 503 pages from a template) is read by three scans in C:
# every anchor is ``<a href="..." name="value"...>label</a>`` with lower-case names, double quotes and
# no second href, and nothing else on the page needs the tokenizer (no comments, raw text or <base>).
# Counting the anchors proves every one was read; any other page goes to the general reading below.
_USUAL = re.compile(r"""<a href="([^"<>]+)"((?:\s+(?!href=)[a-z][a-z-]*="[^"<>]*")*)\s*>([^<]*)</a>""")
_USUAL_ATTRIBUTE = re.compile(r'([a-z][a-z-]*)="([^"<>]*)"')
_ANCHOR_START = re.compile(r"<a(?=[\s/>])", re.IGNORECASE)
_UNUSUAL = re.compile(r"<!--|<!\[|<script|<style|<base(?=[\s/>])", re.IGNORECASE)


def _usual_anchors(text: str) -> Optional[list[tuple[str, str, str]]]:
    """(href, attribute text, label) of every anchor of a usual page, else None."""
    if _UNUSUAL.search(text):
        return None
    anchors: list[tuple[str, str, str]] = _USUAL.findall(text)
    return anchors if len(anchors) == len(_ANCHOR_START.findall(text)) else None


def _usual_attributes(href: str, text: str) -> dict[str, Optional[str]]:
    found: dict[str, Optional[str]] = {name: _unescaped(value) for name, value in _USUAL_ATTRIBUTE.findall(text)}
    found["href"] = _unescaped(href)
    return found


def _unescaped(text: str) -> str:
    return html.unescape(text) if "&" in text else text


#: The usual anchor: a double-quoted, non-empty href first (then its attributes need no reading yet).
_HREF_FIRST = re.compile(r"""\s+href\s*=\s*"[^"]""", re.IGNORECASE)

_Anchors = list[tuple[str, str]]


def _scan_anchors(text: str) -> Optional[tuple[Optional[str], _Anchors]]:
    """(base href, anchors as (attribute text, label)) of a plain index page; None when it needs the
    full parser. Attributes are read here only when needed to know whether an anchor has an href."""
    base: Optional[str] = None
    anchors: _Anchors = []
    href_first = _HREF_FIRST.match
    for tag, attributes, label, closed, markup in _TAG.findall(text):
        if len(tag) == 4:  # base
            if base is None:
                base = _attributes(attributes).get("href")
            continue
        if not closed and markup:
            return None  # markup inside (or an unclosed) anchor
        first = href_first(attributes)
        # The common form is kept unread; anything else (a second href wins in HTML) is read now.
        if (first and "href" not in attributes[first.end():].lower()) or _attributes(attributes).get("href"):
            anchors.append((attributes, html.unescape(label) if "&" in label else label))
    return base, anchors


def _attributes(text: str) -> dict[str, Optional[str]]:
    found: dict[str, Optional[str]] = {}
    for name, assigned, value in _ATTRIBUTE.findall(text):
        if not assigned:
            found[name.lower()] = None
            continue
        if value[:1] in ("'", '"') and value[:1] == value[-1:] and len(value) > 1:
            value = value[1:-1]
        found[name.lower()] = html.unescape(value) if "&" in value else value
    return found


def _html_file(attrs: Mapping[str, Optional[str]], label: str, base: str) -> IndexFile:
    href = attrs.get("href") or ""
    # urljoin returns an absolute link as it is; skipping it matters on pages of thousands of files.
    absolute = href.startswith(("https://", "http://")) and "?" not in href and ";" not in href
    url, _, fragment = (href if absolute else urljoin(base, href)).partition("#")
    hashes: dict[str, str] = {}
    if "=" in fragment:
        algorithm, _, digest = fragment.partition("=")
        hashes[algorithm] = digest.lower()
    filename = label.strip() or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    yanked = "data-yanked" in attrs
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    has_metadata = "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs
    return IndexFile(
        filename=filename,
        url=url,
        hashes=hashes,
        # html.parser has already turned "&gt;=3.8" into ">=3.8".
        requires_python=attrs.get("data-requires-python") or None,
        yanked=yanked,
        yanked_reason=(attrs.get("data-yanked") or "") if yanked else None,
        core_metadata=_metadata_hashes(metadata if metadata is not None else has_metadata),
    )


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, Optional[str]], str]] = []
        self.base: Optional[str] = None
        self._open: Optional[dict[str, Optional[str]]] = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._finish()
            found = dict(attrs)
            if found.get("href"):
                self._open = found
                self._text = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._open is not None:
            self.anchors.append((self._open, "".join(self._text)))
        self._open = None
        self._text = []
