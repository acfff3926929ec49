"""A throw-away HTTP server on 127.0.0.1 for tests: canned responses per path, or a directory tree.

Wrap :func:`serving` in a fixture of the test module (importing the ``local_server`` fixture itself
works too, but linters then see every test parameter as a redefinition)::

    from tests.unit._httpserver import LocalServer, serving

    @pytest.fixture
    def server() -> Iterator[LocalServer]:
        with serving() as running:
            yield running

    def test_x(server: LocalServer) -> None:
        server.add("/simple/demo/", b"<a href='...'>...</a>", content_type="text/html")
        server.add_sequence("/flaky", [Reply(503), Reply(200, b"ok")])
        server.serve_tree(tmp_path)  # anything not routed is read from this directory
        ... server.url + "/simple" ...
        assert server.requests[-1].headers["accept"] ...

Page builders for the simple API (``html_page``, ``json_page``) are here too so every test writes
pages the same way.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

HTML = "application/vnd.pypi.simple.v1+html"
JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """A request the server received; header names in lower case."""

    path: str
    headers: Mapping[str, str]


class LocalServer:
    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._negotiated: dict[str, dict[str, Reply]] = {}
        self._tree: Optional[Path] = None
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "text/html",
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Answer ``path`` always with this reply."""
        data = body.encode() if isinstance(body, str) else body
        self.add_sequence(path, [Reply(status, data, content_type, dict(headers or {}))])

    def add_sequence(self, path: str, replies: Sequence[Reply]) -> None:
        """Answer ``path`` with these replies in turn; the last one repeats."""
        with self._lock:
            self._routes[path] = list(replies)

    def add_negotiated(self, path: str, by_type: Mapping[str, Reply]) -> None:
        """Answer ``path`` with the reply whose content type the ``Accept`` header ranks highest."""
        with self._lock:
            self._negotiated[path] = dict(by_type)

    def serve_tree(self, root: Path) -> None:
        """Serve files under ``root`` for unrouted paths; a directory answers its ``index.html``."""
        self._tree = root

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reply_for(self, path: str, accept: str) -> Reply:
        with self._lock:
            queue = self._routes.get(path)
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            negotiated = self._negotiated.get(path)
        if negotiated:
            return _negotiate(negotiated, accept)
        if self._tree is not None:
            target = (self._tree / path.lstrip("/")).resolve()
            if self._tree.resolve() in target.parents or target == self._tree.resolve():
                if target.is_dir():
                    target = target / "index.html"
                if target.is_file():
                    kind = "text/html" if target.suffix == ".html" else "application/octet-stream"
                    return Reply(200, target.read_bytes(), kind)
        return Reply(404, b"not found", "text/plain")


def _negotiate(by_type: Mapping[str, Reply], accept: str) -> Reply:
    ranked: list[tuple[float, str]] = []
    for item in accept.split(","):
        kind, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                q = float(param[2:])
        ranked.append((q, kind))
    for _, kind in sorted(ranked, key=lambda r: -r[0]):
        if kind in by_type:
            return by_type[kind]
    return Reply(406, b"not acceptable", "text/plain")


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            server.requests.append(Seen(path, {k.lower(): v for k, v in self.headers.items()}))
            reply = server.reply_for(path, self.headers.get("Accept", "*/*"))
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

    return Handler


@contextmanager
def serving() -> Iterator[LocalServer]:
    """A running server for the ``with`` block."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    with serving() as server:
        yield server


# --- simple-API page builders ---------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    """One file on a project page; ``href`` may be relative; ``content`` gives size and sha256."""

    filename: str
    href: str
    content: bytes = b""
    requires_python: Optional[str] = None
    yanked: Optional[str] = None  # None: not yanked; "" yanked without reason
    with_hash: bool = True

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def html_page(files: Sequence[FileSpec]) -> str:
    anchors = []
    for f in files:
        href = f.href + (f"#sha256={f.sha256}" if f.with_hash else "")
        attrs = f'href="{html.escape(href)}"'
        if f.requires_python is not None:
            attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
        if f.yanked is not None:
            attrs += f' data-yanked="{html.escape(f.yanked)}"'
        anchors.append(f"    <a {attrs}>{html.escape(f.filename)}</a><br/>")
    body = "\n".join(anchors)
    return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"


def json_page(name: str, files: Sequence[FileSpec]) -> str:
    entries = []
    for f in files:
        entry: dict[str, Any] = {
            "filename": f.filename,
            "url": f.href,
            "hashes": {"sha256": f.sha256} if f.with_hash else {},
            "size": len(f.content),
        }
        if f.requires_python is not None:
            entry["requires-python"] = f.requires_python
        if f.yanked is not None:
            entry["yanked"] = f.yanked or True
        entries.append(entry)
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": entries})


def write_tree_index(root: Path, project: str, files: Sequence[FileSpec]) -> Path:
    """A PEP 503 tree on disk: ``root/<project>/index.html`` plus the files at their hrefs."""
    page_dir = root / project
    page_dir.mkdir(parents=True, exist_ok=True)
    (page_dir / "index.html").write_text(html_page(files), encoding="utf-8")
    for f in files:
        if "://" not in f.href:
            target = (page_dir / f.href).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.content)
    return page_dir
