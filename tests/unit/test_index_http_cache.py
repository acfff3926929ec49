"""The on-disk cache of simple-API pages, and credentials for indexes from the environment.

Every test runs against a local server that records requests (``tests/unit/_httpserver.py``);
"another run" is a fresh :class:`SimpleIndex` / :class:`Indexes` over the same cache directory.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

import pytest

from lading import installer
from lading.cache import Cache
from lading.cli.main import main
from lading.errors import IndexError_
from lading.index import complete as complete_module
from lading.index import config as config_module
from lading.index.complete import Indexes, complete
from lading.index.config import IndexConfig, env_credentials, env_name
from lading.index.http import HttpClient
from lading.index.httpcache import MAGIC, OfflineMiss, PageCache, Stored, cache_key, is_fresh
from lading.index.simple import ACCEPT, ProjectPage, SimpleIndex
from lading.install.scheme import DestinationOptions
from lading.locks import read
from lading.model import Lock
from tests.unit._httpserver import JSON, FileSpec, LocalServer, Reply, json_page

DEMO = FileSpec("demo-1.0-py3-none-any.whl", "../../files/demo-1.0-py3-none-any.whl", b"demo wheel")
OTHER = FileSpec("other-2.0-py3-none-any.whl", "../../files/other-2.0-py3-none-any.whl", b"other")
SECRET = "s3cr3t-Token-9f2"
USER = "ci-robot"


class CheckingServer(LocalServer):
    """A :class:`LocalServer` that honours ``If-None-Match`` / ``If-Modified-Since`` (answering 304
    with no body) and, when ``required`` is set for a path prefix, refuses (401) requests without
    exactly that ``Authorization`` header."""

    def __init__(self) -> None:
        self.required: dict[str, str] = {}
        self.answered: list[tuple[str, int]] = []
        super().__init__()

    def reply_for(self, path: str, accept: str) -> Reply:
        seen = next(r for r in reversed(self.requests) if r.path == path)
        for prefix, header in self.required.items():
            if path.startswith(prefix) and seen.headers.get("authorization") != header:
                return self._answer(path, Reply(401, b"who are you?", "text/plain"))
        reply = super().reply_for(path, accept)
        etag = reply.headers.get("ETag")
        modified = reply.headers.get("Last-Modified")
        matches = (etag is not None and seen.headers.get("if-none-match") == etag) or (
            modified is not None and seen.headers.get("if-modified-since") == modified
        )
        if reply.status == 200 and matches:
            kept = {k: v for k, v in reply.headers.items() if k in ("ETag", "Cache-Control", "Date")}
            reply = Reply(304, b"", reply.content_type, kept)
        return self._answer(path, reply)

    def _answer(self, path: str, reply: Reply) -> Reply:
        self.answered.append((path, reply.status))
        return reply


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def server() -> Iterator[CheckingServer]:
    running = CheckingServer()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LADING_INDEX_URL", "LADING_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "LADING_CACHE_DIR", "VIRTUAL_ENV",
        "NETRC", "LADING_INDEX_USERNAME", "LADING_INDEX_PASSWORD", "http_proxy", "https_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_FILES", ())
    monkeypatch.setattr(config_module, "pip_default_index", lambda: None)
    monkeypatch.setattr(
        complete_module, "HttpClient", functools.partial(HttpClient, retries=0, backoff_factor=0.0, timeout=5.0)
    )


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client(environ: Optional[Mapping[str, str]] = None) -> HttpClient:
    return HttpClient(retries=0, backoff_factor=0.0, timeout=5.0, environ=environ or {})


def serve_page(server: LocalServer, project: str = "demo", *, headers: Optional[Mapping[str, str]] = None,
               files: tuple[FileSpec, ...] = (DEMO,), prefix: str = "/simple") -> str:
    server.add(f"{prefix}/{project}/", json_page(project, files), content_type=JSON, headers=headers)
    return f"{prefix}/{project}/"


def run_once(server: LocalServer, cache: PageCache, project: str = "demo", *,
             offline: bool = False, environ: Optional[Mapping[str, str]] = None) -> ProjectPage:
    """One "run": a new index object (no in-memory pages) over the shared disk cache."""
    return SimpleIndex(server.url + "/simple", client(environ), cache=cache, offline=offline).get(project)


def every_file(root: Path) -> Iterator[Path]:
    yield from (p for p in root.rglob("*") if p.is_file())


# --- freshness ------------------------------------------------------------------------------------


def test_a_fresh_page_is_served_from_disk_with_no_request(tmp_path: Path, server: CheckingServer) -> None:
    path = serve_page(server, headers={"Cache-Control": "max-age=600", "ETag": '"v1"'})
    clock = Clock()
    pages = PageCache(tmp_path / "http-v1", clock=clock)
    first = run_once(server, pages)
    clock.now += 599
    second = run_once(server, pages)
    assert server.hits(path) == 1, "the second run asks nothing while max-age holds"
    assert second.files == first.files
    assert second.files[0].url == server.url + "/files/demo-1.0-py3-none-any.whl"

    clock.now += 2  # now past max-age: revalidated, not downloaded again
    assert run_once(server, pages).files == first.files
    assert server.hits(path) == 2
    assert server.answered[-1] == (path, 304)


def test_age_counts_against_max_age(tmp_path: Path, server: CheckingServer) -> None:
    path = serve_page(server, headers={"Cache-Control": "max-age=100", "Age": "90", "ETag": '"a"'})
    clock = Clock()
    pages = PageCache(tmp_path, clock=clock)
    run_once(server, pages)
    clock.now += 5
    run_once(server, pages)
    assert server.hits(path) == 1
    clock.now += 10  # 90 + 15 > 100
    run_once(server, pages)
    assert server.hits(path) == 2


def test_s_maxage_and_expires_give_a_lifetime_too() -> None:
    def stored(headers: Mapping[str, str]) -> Stored:
        return Stored("http://127.0.0.1/simple/x/", ACCEPT, "http://127.0.0.1/simple/x/", headers, 0.0, b"")

    assert is_fresh(stored({"cache-control": "s-maxage=60"}), 30.0)
    assert not is_fresh(stored({"cache-control": "s-maxage=60"}), 61.0)
    expiring = {"date": "Mon, 01 Jan 2024 00:00:00 GMT", "expires": "Mon, 01 Jan 2024 00:10:00 GMT"}
    assert is_fresh(stored(expiring), 599.0)
    assert not is_fresh(stored(expiring), 601.0)
    assert not is_fresh(stored({}), 0.0), "no lifetime given: always revalidate"
    assert not is_fresh(stored({"cache-control": "max-age=600, no-cache"}), 1.0)
    assert not is_fresh(stored({"cache-control": "max-age=bogus"}), 0.0)


def test_a_stale_page_is_revalidated_with_if_none_match_and_a_304_reuses_the_body(
    tmp_path: Path, server: CheckingServer
) -> None:
    path = serve_page(server, headers={"ETag": '"rev-7"', "Cache-Control": "max-age=0"})
    clock = Clock()
    pages = PageCache(tmp_path, clock=clock)
    first = run_once(server, pages)
    clock.now += 50
    second = run_once(server, pages)
    assert server.hits(path) == 2
    assert server.requests[-1].headers["if-none-match"] == '"rev-7"'
    assert "if-none-match" not in server.requests[0].headers
    assert server.answered == [(path, 200), (path, 304)], "the second answer carried no body"
    assert second == first
    refreshed = pages.load(server.url + path, ACCEPT)
    assert refreshed is not None and refreshed.received == clock.now, "a 304 refreshes the stored time"


def test_last_modified_is_revalidated_with_if_modified_since(tmp_path: Path, server: CheckingServer) -> None:
    stamp = "Tue, 02 Jan 2024 03:04:05 GMT"
    path = serve_page(server, headers={"Last-Modified": stamp})
    pages = PageCache(tmp_path)
    first = run_once(server, pages)
    assert run_once(server, pages) == first
    assert server.requests[-1].headers["if-modified-since"] == stamp
    assert server.answered[-1] == (path, 304)


def test_a_changed_page_replaces_the_stored_one(tmp_path: Path, server: CheckingServer) -> None:
    serve_page(server, headers={"ETag": '"1"', "Cache-Control": "no-cache"})
    pages = PageCache(tmp_path)
    assert [f.filename for f in run_once(server, pages).files] == [DEMO.filename]
    newer = FileSpec("demo-1.1-py3-none-any.whl", "../../files/demo-1.1-py3-none-any.whl", b"1.1")
    serve_page(server, headers={"ETag": '"2"', "Cache-Control": "no-cache"}, files=(DEMO, newer))
    assert [f.filename for f in run_once(server, pages).files] == [DEMO.filename, newer.filename]
    assert [f.filename for f in run_once(server, pages, offline=True).files] == [DEMO.filename, newer.filename]


def test_no_cache_pages_are_stored_but_always_revalidated(tmp_path: Path, server: CheckingServer) -> None:
    path = serve_page(server, headers={"Cache-Control": "no-cache, max-age=600", "ETag": '"x"'})
    pages = PageCache(tmp_path)
    run_once(server, pages)
    run_once(server, pages)
    assert server.hits(path) == 2
    assert server.answered[-1] == (path, 304)


def test_no_store_pages_are_never_written(tmp_path: Path, server: CheckingServer) -> None:
    path = serve_page(server, headers={"Cache-Control": "no-store, max-age=600", "ETag": '"x"'})
    pages = PageCache(tmp_path / "http-v1")
    run_once(server, pages)
    run_once(server, pages)
    assert server.hits(path) == 2
    assert "if-none-match" not in server.requests[-1].headers
    assert list(every_file(tmp_path)) == []


def test_a_page_turning_no_store_removes_the_stored_copy(tmp_path: Path, server: CheckingServer) -> None:
    serve_page(server, headers={"Cache-Control": "max-age=0"})
    pages = PageCache(tmp_path)
    run_once(server, pages)
    assert len(list(every_file(tmp_path))) == 1
    serve_page(server, headers={"Cache-Control": "no-store"})
    run_once(server, pages)
    assert list(every_file(tmp_path)) == []


# --- offline --------------------------------------------------------------------------------------


def test_offline_uses_a_stale_page_and_asks_nothing(tmp_path: Path, server: CheckingServer) -> None:
    path = serve_page(server, headers={"Cache-Control": "max-age=1"})
    clock = Clock()
    pages = PageCache(tmp_path, clock=clock)
    first = run_once(server, pages)
    clock.now += 86400 * 365
    assert run_once(server, pages, offline=True) == first
    assert server.hits(path) == 1


def test_offline_without_a_stored_page_says_so(tmp_path: Path, server: CheckingServer) -> None:
    with pytest.raises(OfflineMiss) as caught:
        run_once(server, PageCache(tmp_path), offline=True)
    assert "offline" in str(caught.value)
    assert "/simple/demo/" in str(caught.value)
    assert caught.value.hint
    assert server.requests == []


def test_offline_without_any_cache_is_a_miss_too(server: CheckingServer) -> None:
    with pytest.raises(OfflineMiss):
        SimpleIndex(server.url + "/simple", client(), offline=True).get("demo")
    assert server.requests == []


# --- damaged entries ------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "empty", "header-only", "other-url"])
def test_a_damaged_entry_is_ignored_and_fetched_again(
    tmp_path: Path, server: CheckingServer, damage: str
) -> None:
    path = serve_page(server, headers={"Cache-Control": "max-age=600", "ETag": '"e"'})
    serve_page(server, "other", files=(OTHER,), headers={"Cache-Control": "max-age=600"})
    pages = PageCache(tmp_path)
    first = run_once(server, pages)
    entry = pages.path(server.url + path, ACCEPT)
    data = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(data[:-3])
    elif damage == "flipped":
        entry.write_bytes(data[:-1] + bytes([data[-1] ^ 0x20]))
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff not a cache entry")
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "header-only":
        entry.write_bytes(MAGIC + b'{"url": 1}')
    else:  # a whole, valid entry of another page under this key
        run_once(server, pages, "other")
        entry.write_bytes(pages.path(server.url + "/simple/other/", ACCEPT).read_bytes())
    again = run_once(server, pages)
    assert again == first
    assert server.hits(path) == 2
    assert "if-none-match" not in server.requests[-1].headers, "nothing usable was stored"
    assert pages.load(server.url + path, ACCEPT) is not None, "the refetched page is stored again"


def test_a_stored_page_that_does_not_parse_is_dropped(tmp_path: Path, server: CheckingServer) -> None:
    path = "/simple/demo/"
    server.add(path, b"{not json", content_type=JSON, headers={"Cache-Control": "max-age=600"})
    pages = PageCache(tmp_path)
    with pytest.raises(IndexError_):
        run_once(server, pages)
    assert pages.load(server.url + path, ACCEPT) is None
    serve_page(server, headers={"Cache-Control": "max-age=600"})
    assert run_once(server, pages).files[0].filename == DEMO.filename


def test_an_unwritable_cache_only_costs_requests(tmp_path: Path, server: CheckingServer) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    path = serve_page(server, headers={"Cache-Control": "max-age=600"})
    pages = PageCache(blocker / "http-v1")
    run_once(server, pages)
    run_once(server, pages)
    assert server.hits(path) == 2


# --- keys, layout, concurrency --------------------------------------------------------------------


def test_the_key_is_the_url_without_credentials_and_the_accept_header() -> None:
    plain = "https://example.invalid/simple/demo/"
    assert cache_key(plain, ACCEPT) == cache_key("https://user:pw@example.invalid/simple/demo/", ACCEPT)
    assert cache_key(plain, ACCEPT) != cache_key(plain, "text/html")
    assert cache_key(plain, ACCEPT) != cache_key(plain.replace("demo", "other"), ACCEPT)


def test_entries_live_in_the_http_bucket_and_keep_only_caching_headers(
    tmp_path: Path, server: CheckingServer
) -> None:
    path = serve_page(server, headers={
        "Cache-Control": "max-age=60", "ETag": '"k"', "Set-Cookie": "session=abc", "X-Internal": "1",
    })
    cache = Cache(tmp_path / "cache")
    pages = PageCache.of(cache)
    SimpleIndex(server.url + "/simple", client(), cache=pages).get("demo")
    pages.flush()  # written behind the fetch
    key = cache_key(server.url + path, ACCEPT)
    entry = cache.http() / key[:2] / key
    assert entry.is_file()
    assert (cache.root / "CACHEDIR.TAG").is_file()
    header = json.loads(entry.read_bytes()[len(MAGIC):].split(b"\n", 1)[0])
    assert set(header["headers"]) == {"cache-control", "etag", "content-type", "date"}
    assert header["url"] == server.url + path
    assert not [p for p in every_file(cache.root) if p.name.startswith(".tmp-")]


def test_parallel_prefetch_stores_every_page_and_the_next_run_asks_nothing(
    tmp_path: Path, server: CheckingServer
) -> None:
    names = [f"p{i}" for i in range(24)]
    for name in names:
        spec = FileSpec(f"{name}-1.0-py3-none-any.whl", f"../../files/{name}-1.0-py3-none-any.whl", name.encode())
        serve_page(server, name, files=(spec,), headers={"Cache-Control": "max-age=600"})
    pages = PageCache(tmp_path)
    first = SimpleIndex(server.url + "/simple", client(), cache=pages, workers=8)
    first.prefetch(names)
    assert len(server.requests) == len(names)
    second = SimpleIndex(server.url + "/simple", client(), cache=pages, workers=8)
    second.prefetch(names)
    assert len(server.requests) == len(names)
    assert all(second.get(n).files == first.get(n).files for n in names)


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/simple/demo/"
    caches = [PageCache(tmp_path) for _ in range(4)]  # as separate processes would have
    bodies = [bytes([65 + i]) * (50_000 + i) for i in range(4)]
    seen: list[Optional[Stored]] = []
    stop = threading.Event()

    def write(i: int) -> None:
        for _ in range(40):
            caches[i].save(Stored(url, ACCEPT, url, {"etag": f'"{i}"'}, 1.0, bodies[i]))

    def read() -> None:
        while not stop.is_set():
            seen.append(caches[0].load(url, ACCEPT))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    loaded = [s for s in seen if s is not None]
    assert loaded, "the reader saw entries"
    assert all(s.body == bodies[int(s.headers["etag"].strip('"'))] for s in loaded)
    assert [p.name for p in every_file(tmp_path)] == [cache_key(url, ACCEPT)], "no temp files left"


# --- complete(): pages up front, in parallel, through the cache ------------------------------------


def pipfile_lock(directory: Path, sources: list[dict[str, Any]], packages: Mapping[str, Mapping[str, Any]]) -> Lock:
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "_meta": {"hash": {"sha256": "0" * 64}, "pipfile-spec": 6, "requires": {}, "sources": sources},
        "default": dict(packages),
        "develop": {},
    }
    path = directory / "Pipfile.lock"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return read(path)


def demo_lock(tmp_path: Path, index_url: str) -> Lock:
    return pipfile_lock(
        tmp_path / "proj",
        [{"name": "main", "url": index_url, "verify_ssl": True}],
        {
            "demo": {"hashes": [f"sha256:{DEMO.sha256}"], "version": "==1.0"},
            "other": {"hashes": [f"sha256:{OTHER.sha256}"], "version": "==2.0"},
        },
    )


def test_complete_prefetches_every_first_page_before_looking_anything_up(tmp_path: Path) -> None:
    events: list[str] = []
    lock = demo_lock(tmp_path, "https://example.invalid/simple")

    class Recording:
        url = "https://example.invalid/simple"

        def prefetch(self, projects: Any) -> None:
            events.append("prefetch " + ",".join(sorted(projects)))

        def get(self, project: str) -> ProjectPage:
            events.append(f"get {project}")
            spec = DEMO if project == "demo" else OTHER
            href = f"https://example.invalid/files/{spec.filename}"
            from lading.index.simple import IndexFile

            return ProjectPage(project, (IndexFile(spec.filename, href, {"sha256": spec.sha256}),))

    indexes = Indexes(IndexConfig(primary="https://example.invalid/simple"), lambda url: Recording())
    done = complete(lock, indexes)
    assert events[0] == "prefetch demo,other"
    assert sorted(events[1:]) == ["get demo", "get other"]
    assert not done.pending


def test_complete_with_a_cache_asks_nothing_on_the_second_run(tmp_path: Path, server: CheckingServer) -> None:
    demo = serve_page(server, headers={"Cache-Control": "max-age=600"})
    other = serve_page(server, "other", files=(OTHER,), headers={"Cache-Control": "max-age=600"})
    lock = demo_lock(tmp_path, server.url + "/simple")
    cache = Cache(tmp_path / "cache")
    config = IndexConfig(primary=server.url + "/simple")
    first = complete(lock, config, cache=cache, environ={})
    second = complete(lock, config, cache=cache, environ={})
    assert server.hits(demo) == 1 and server.hits(other) == 1
    assert first.packages == second.packages
    assert second.packages[0].wheels and second.packages[0].wheels[0].url == server.url + "/files/" + DEMO.filename
    stale_ok = complete(lock, config, cache=cache, offline=True, environ={})
    assert stale_ok.packages == first.packages


def test_the_installer_looks_pages_up_through_the_disk_cache(tmp_path: Path, server: CheckingServer) -> None:
    demo = serve_page(server, headers={"Cache-Control": "max-age=600"})
    serve_page(server, "other", files=(OTHER,), headers={"Cache-Control": "max-age=600"})
    lock = demo_lock(tmp_path, server.url + "/simple")
    options = installer.InstallOptions(
        path=lock.path, destination=DestinationOptions(venv=tmp_path / "venv"), dry_run=True,
        cache_dir=tmp_path / "cache",
    )
    environ = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    first = installer.run(options, environ=environ)
    assert server.hits(demo) == 1
    second = installer.run(options, environ=environ)
    assert server.hits(demo) == 1, "the second install asked the index nothing"
    assert [a.name for a in second.plan.to_install] == [a.name for a in first.plan.to_install]
    assert list((tmp_path / "cache" / "http-v1").rglob("*"))

    import dataclasses

    offline = installer.run(dataclasses.replace(options, offline=True), environ=environ)
    assert [s.source for s in offline.selection.selected] == [s.source for s in first.selection.selected]


# --- credentials from the environment ---------------------------------------------------------------


def test_env_name_upper_cases_and_replaces_what_is_not_a_letter_or_digit() -> None:
    assert env_name("my-private.repo") == "MY_PRIVATE_REPO"
    assert env_name("Corp Index 2") == "CORP_INDEX_2"
    assert env_name("ünï") == "_N_"


def test_env_credentials_prefer_the_named_variables_and_use_the_generic_ones_for_the_primary() -> None:
    environ = {
        "LADING_INDEX_USERNAME": "generic", "LADING_INDEX_PASSWORD": "g",
        "LADING_INDEX_CORP_USERNAME": "named", "LADING_INDEX_CORP_PASSWORD": "n",
        "LADING_INDEX_TOKENONLY_PASSWORD": "t",
    }
    assert env_credentials("corp", environ, primary=True) == ("named", "n")
    assert env_credentials("other", environ, primary=True) == ("generic", "g")
    assert env_credentials("other", environ, primary=False) is None
    assert env_credentials(None, environ, primary=False) is None
    assert env_credentials("tokenonly", environ) == ("", "t")


def test_env_credentials_are_sent_as_basic_auth_to_the_primary_index(
    tmp_path: Path, server: CheckingServer
) -> None:
    server.required["/simple/"] = basic(USER, SECRET)
    serve_page(server, headers={"Cache-Control": "max-age=600"})
    environ = {"LADING_INDEX_USERNAME": USER, "LADING_INDEX_PASSWORD": SECRET}
    page = SimpleIndex(server.url + "/simple", client(environ), primary=True).get("demo")
    assert page.files[0].filename == DEMO.filename
    assert server.answered == [("/simple/demo/", 200)]

    with pytest.raises(IndexError_) as refused:  # not the primary: the generic variables do not apply
        SimpleIndex(server.url + "/simple", client(environ)).get("demo")
    assert "401" in str(refused.value) and "LADING_INDEX_USERNAME" in (refused.value.hint or "")


def test_named_index_credentials_go_to_that_index_only(tmp_path: Path, server: CheckingServer) -> None:
    server.required["/private/"] = basic("deploy", SECRET)
    serve_page(server, headers={"Cache-Control": "max-age=600"})
    secret_pkg = FileSpec("hidden-3.0-py3-none-any.whl", "../../../files/hidden-3.0-py3-none-any.whl", b"h")
    serve_page(server, "hidden", files=(secret_pkg,), prefix="/private/simple")
    lock = pipfile_lock(
        tmp_path / "proj",
        [{"name": "main", "url": server.url + "/simple", "verify_ssl": True},
         {"name": "corp-private", "url": server.url + "/private/simple", "verify_ssl": True}],
        {
            "demo": {"hashes": [f"sha256:{DEMO.sha256}"], "version": "==1.0"},
            "hidden": {"hashes": [f"sha256:{secret_pkg.sha256}"], "version": "==3.0", "index": "corp-private"},
        },
    )
    environ = {"LADING_INDEX_CORP_PRIVATE_USERNAME": "deploy", "LADING_INDEX_CORP_PRIVATE_PASSWORD": SECRET}
    done = complete(lock, IndexConfig(primary=server.url + "/simple"), environ=environ)
    assert not done.pending
    by_path = {r.path: r.headers.get("authorization") for r in server.requests}
    assert by_path["/private/simple/hidden/"] == basic("deploy", SECRET)
    assert by_path["/simple/demo/"] is None, "the named index's credentials stay with it"


def test_url_credentials_win_over_the_environment_which_wins_over_netrc(
    tmp_path: Path, server: CheckingServer
) -> None:
    serve_page(server)
    host = server.url.split("://", 1)[1].split(":")[0]
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login from-netrc password n\n")
    netrc.chmod(0o600)
    env = {"NETRC": str(netrc), "LADING_INDEX_USERNAME": "from-env", "LADING_INDEX_PASSWORD": "e"}

    def sent(url: str, environ: Mapping[str, str]) -> Optional[str]:
        SimpleIndex(url, client(environ), primary=True).get("demo")
        return server.requests[-1].headers.get("authorization")

    with_userinfo = server.url.replace("://", "://from-url:u@") + "/simple"
    assert sent(with_userinfo, env) == basic("from-url", "u")
    assert sent(server.url + "/simple", env) == basic("from-env", "e")
    assert sent(server.url + "/simple", {"NETRC": str(netrc)}) == basic("from-netrc", "n")


def test_credentials_are_never_written_logged_or_shown(
    tmp_path: Path, server: CheckingServer, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.required["/simple/"] = basic(USER, SECRET)
    serve_page(server, headers={"Cache-Control": "max-age=0", "ETag": '"s"'})
    serve_page(server, "other", files=(OTHER,), headers={"Cache-Control": "no-cache"})
    lock = demo_lock(tmp_path, server.url + "/simple")
    monkeypatch.setenv("LADING_INDEX_USERNAME", USER)
    monkeypatch.setenv("LADING_INDEX_PASSWORD", SECRET)
    cache_dir = tmp_path / "home" / ".cache" / "lading"
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []

    # the library: online twice (store, then revalidate), then offline
    config = IndexConfig(primary=server.url + "/simple")
    done = complete(lock, config, cache=Cache(cache_dir))
    complete(lock, config, cache=Cache(cache_dir))
    complete(lock, config, cache=Cache(cache_dir), offline=True)
    outputs += [repr(done), repr(done.packages), repr(config)]
    assert ("/simple/demo/", 304) in server.answered

    # the command line, as text and JSON
    lock_path = str(lock.path)
    for argv in (["show", lock_path], ["show", lock_path, "--json"],
                 ["export", lock_path, "--to", "pylock"], ["export", lock_path, "--to", "requirements"]):
        assert main(argv) == 0
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
        assert "demo-1.0-py3-none-any.whl" in captured.out or argv[-1] == "requirements"

    # a refusal (wrong password) and its message
    monkeypatch.setenv("LADING_INDEX_PASSWORD", "wrong-" + SECRET)
    with pytest.raises(IndexError_) as refused:
        SimpleIndex(server.url + "/simple", HttpClient(retries=0), primary=True).get("fresh-project")
    outputs += [str(refused.value), refused.value.hint or ""]

    encoded = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    outputs += [r.getMessage() for r in caplog.records]
    for text in outputs:
        assert SECRET not in text and encoded not in text
    stored = list(every_file(cache_dir))
    assert any("http-v1" in p.parts for p in stored), "pages were stored"
    for path in [*stored, *every_file(tmp_path / "proj")]:
        data = path.read_bytes()
        assert SECRET.encode() not in data and encoded.encode() not in data, path
    assert all(r.headers.get("authorization") == basic(USER, SECRET) for r in server.requests[:-1])


def test_env_credentials_reach_files_on_the_index_host_but_not_other_indexes_there(
    server: CheckingServer,
) -> None:
    server.add("/files/demo.whl", b"wheel bytes", content_type="application/octet-stream")
    serve_page(server, prefix="/public/simple")
    environ = {"LADING_INDEX_USERNAME": USER, "LADING_INDEX_PASSWORD": SECRET}
    shared = client(environ)
    shared.remember_index(server.url + "/simple", primary=True)
    shared.remember_index(server.url + "/public/simple", name="public")
    shared.fetch(server.url + "/files/demo.whl", accept="*/*")
    shared.fetch(server.url + "/public/simple/demo/", accept=ACCEPT)
    sent = {r.path: r.headers.get("authorization") for r in server.requests}
    assert sent == {"/files/demo.whl": basic(USER, SECRET), "/public/simple/demo/": None}


def test_index_client_carries_every_index_credentials_for_downloads(
    tmp_path: Path, server: CheckingServer
) -> None:
    server.add("/files/hidden.whl", b"wheel bytes", content_type="application/octet-stream")
    lock = pipfile_lock(
        tmp_path / "proj",
        [{"name": "corp", "url": server.url + "/corp/simple", "verify_ssl": True}],
        {"demo": {"hashes": [f"sha256:{DEMO.sha256}"], "version": "==1.0"}},
    )
    environ = {"LADING_INDEX_CORP_USERNAME": "deploy", "LADING_INDEX_CORP_PASSWORD": SECRET}
    config = IndexConfig(primary="https://example.invalid/simple")  # --index-url elsewhere
    downloads = complete_module.index_client(config, lock, environ=environ)
    downloads.fetch(server.url + "/files/hidden.whl", accept="*/*")
    assert server.requests[-1].headers.get("authorization") == basic("deploy", SECRET)


def test_a_cache_written_behind_answers_from_memory_until_written_and_a_later_discard_wins(
    tmp_path: Path, server: CheckingServer
) -> None:
    path = serve_page(server, headers={"Cache-Control": "max-age=600"})
    cache = Cache(tmp_path / "cache")
    pages = PageCache.of(cache)
    url = server.url + path
    run_once(server, pages)
    assert pages.load(url, ACCEPT) is not None  # from memory or disk, never missing
    pages.flush()
    assert pages.path(url, ACCEPT).is_file()
    run_once(server, PageCache.of(cache))
    assert server.hits(path) == 1  # the written entry serves a new cache object
    pages.save(pages.load(url, ACCEPT))  # type: ignore[arg-type]
    pages.discard(url, ACCEPT)
    assert pages.load(url, ACCEPT) is None  # at once, though the removal is queued
    pages.flush()
    assert not pages.path(url, ACCEPT).exists()
