"""lading.index: index configuration, the simple-API client, and completing locks from an index."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

import pytest
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from lading.errors import IndexError_, LadingError
from lading.index import config as config_module
from lading.index.complete import HashMismatch, Indexes, complete
from lading.index.config import IndexConfig, default_indexes, redact
from lading.index.http import HttpClient
from lading.index.simple import ProjectNotFound, ProjectPage, SimpleIndex
from lading.locks import read
from lading.model import GroupRequest, Index, Lock, Origin, PendingFiles, Target, pending_placeholder
from lading.select import select
from tests.conftest import RealFixture, materialize, real_fixtures
from tests.unit._httpserver import (
    HTML,
    JSON,
    FileSpec,
    LocalServer,
    Reply,
    html_page,
    json_page,
    serving,
    write_tree_index,
)

WHEEL = FileSpec("demo-1.0-py3-none-any.whl", "../../files/demo-1.0-py3-none-any.whl", b"wheel")
WHEEL_CP = FileSpec(
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    "../../files/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    b"binary wheel",
)
SDIST = FileSpec("demo-1.0.tar.gz", "../../files/demo-1.0.tar.gz", b"sdist")
OLD = FileSpec("demo-0.9-py3-none-any.whl", "../../files/demo-0.9-py3-none-any.whl", b"old")
DEMO = (OLD, WHEEL, WHEEL_CP, SDIST)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with no pip configuration of the host in sight."""
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_FILES", ())
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "xdg")}


def quick_client(environ: Optional[Mapping[str, str]] = None, retries: int = 3) -> HttpClient:
    return HttpClient(retries=retries, backoff_factor=0.0, timeout=5.0, environ=environ or {})


def make_lock(tmp_path: Path, packages: list[Package], **kwargs: object) -> Lock:
    pylock = Pylock(lock_version=Version("1.0"), created_by="test", packages=packages)
    origins = tuple(
        Origin(tmp_path / "Pipfile.lock", f"default.{p.name} ({p.name} {p.version})")
        for p in packages
    )
    return Lock(
        path=tmp_path / "Pipfile.lock",
        format="pipfile",
        pylock=pylock,
        origins=origins,
        **kwargs,  # type: ignore[arg-type]
    )


def pending_package(
    name: str = "demo", version: str = "1.0", index: Optional[str] = None
) -> Package:
    return Package(
        name=canonicalize_name(name),
        version=Version(version),
        archive=pending_placeholder(),
        index=index,
    )


# --- configuration ----------------------------------------------------------------------------


def write_pip_conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_config_cli_index_url_beats_every_other_source(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    conf = write_pip_conf(tmp_path / "pip.conf", "[global]\nindex-url = https://conf.invalid/simple\n")
    env = {
        **clean_env,
        "LADING_INDEX_URL": "https://lading.invalid/simple",
        "PIP_INDEX_URL": "https://pipenv.invalid/simple",
        "PIP_CONFIG_FILE": str(conf),
    }
    lock = make_lock(tmp_path, [], indexes=(Index("https://lock.invalid/simple", "lockidx"),))
    config = default_indexes("https://cli.invalid/simple", [], lock, env)
    assert (config.primary, config.where) == ("https://cli.invalid/simple", "--index-url")

    config = default_indexes(None, [], lock, env)
    assert (config.primary, config.where) == ("https://lading.invalid/simple", "LADING_INDEX_URL")

    del env["LADING_INDEX_URL"]
    config = default_indexes(None, [], lock, env)
    assert config.primary == "https://lock.invalid/simple"
    assert config.where.startswith("lock (Pipfile.lock _meta.sources[0]")

    config = default_indexes(None, [], None, env)
    assert (config.primary, config.where) == ("https://pipenv.invalid/simple", "PIP_INDEX_URL")

    del env["PIP_INDEX_URL"]
    config = default_indexes(None, [], None, env)
    assert config.primary == "https://conf.invalid/simple"
    assert config.where == f"pip.conf ({conf} global.index-url)"


def test_config_pip_conf_install_section_and_later_files_win(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    home = Path(clean_env["HOME"])
    write_pip_conf(home / ".pip" / "pip.conf", "[global]\nindex-url = https://legacy.invalid/s\n")
    user = write_pip_conf(
        home / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://user-global.invalid/s\n"
        "[install]\nindex-url = https://user-install.invalid/s\n"
        "extra-index-url =\n    https://x1.invalid/s\n    https://x2.invalid/s\n",
    )
    config = default_indexes(None, [], None, clean_env)
    assert config.primary == "https://user-install.invalid/s"
    assert config.where == f"pip.conf ({user} install.index-url)"
    assert config.extra == ("https://x1.invalid/s", "https://x2.invalid/s")

    venv = tmp_path / "venv"
    venv_conf = write_pip_conf(venv / "pip.conf", "[global]\nindex-url = https://venv.invalid/s\n")
    env = {**clean_env, "VIRTUAL_ENV": str(venv)}
    # pip merges each section over all files first: a later [global] does not beat an [install].
    assert default_indexes(None, [], None, env).primary == "https://user-install.invalid/s"
    venv_conf.write_text("[install]\nindex-url = https://venv.invalid/s\n")
    assert default_indexes(None, [], None, env).primary == "https://venv.invalid/s"


def test_config_pip_config_file_hides_user_files_and_devnull_disables_all(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    home = Path(clean_env["HOME"])
    write_pip_conf(home / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://u.invalid/s\n")
    env_file = write_pip_conf(tmp_path / "env.conf", "[global]\nextra-index-url = https://e.invalid/s\n")
    config = default_indexes(None, [], None, {**clean_env, "PIP_CONFIG_FILE": str(env_file)})
    assert config.where == "pip's default"
    assert config.extra == ("https://e.invalid/s",)

    config = default_indexes(None, [], None, {**clean_env, "PIP_CONFIG_FILE": os.devnull})
    assert config.where == "pip's default"
    assert config.extra == ()


def test_config_falls_back_to_pips_own_default_index(clean_env: dict[str, str]) -> None:
    from pip._internal.models.index import PyPI

    config = default_indexes(None, [], None, clean_env)
    assert config.primary == PyPI.simple_url
    assert config.where == "pip's default"


def test_config_without_pip_and_without_configuration_is_an_error(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "pip_default_index", lambda: None)
    with pytest.raises(IndexError_) as caught:
        default_indexes(None, [], None, clean_env)
    assert "no package index configured" in str(caught.value)
    assert "--index-url" in str(caught.value)


def test_config_extra_indexes_are_merged_in_order_without_duplicates(
    clean_env: dict[str, str],
) -> None:
    env = {
        **clean_env,
        "LADING_EXTRA_INDEX_URL": "https://b.invalid/s https://primary.invalid/s",
        "PIP_EXTRA_INDEX_URL": "https://c.invalid/s\nhttps://a.invalid/s",
    }
    config = default_indexes("https://primary.invalid/s", ["https://a.invalid/s"], None, env)
    assert config.extra == ("https://a.invalid/s", "https://b.invalid/s", "https://c.invalid/s")
    assert config.extra_where == (
        "--extra-index-url",
        "LADING_EXTRA_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
    )
    assert config.all()[0] == "https://primary.invalid/s"


def test_config_expands_variables_and_reports_unset_ones_without_secrets(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    lock = make_lock(
        tmp_path, [], indexes=(Index("https://me:${TOKEN}@${HOST:-idx.invalid}/simple"),)
    )
    config = default_indexes(None, [], lock, {**clean_env, "TOKEN": "s3cret"})
    assert config.primary == "https://me:s3cret@idx.invalid/simple"
    assert "s3cret" not in repr(config)

    lock = make_lock(tmp_path, [], indexes=(Index("https://me:hunter2@${NOPE}/simple"),))
    with pytest.raises(IndexError_) as caught:
        default_indexes(None, [], lock, clean_env)
    assert "NOPE" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:tok@host.invalid/simple", "https://user:***@host.invalid/simple"),
        ("https://tok@host.invalid:8443/simple", "https://***@host.invalid:8443/simple"),
        ("https://host.invalid/simple", "https://host.invalid/simple"),
        ("file:///srv/simple", "file:///srv/simple"),
    ],
)
def test_redact_hides_passwords_and_bare_tokens(url: str, shown: str) -> None:
    assert redact(url) == shown


# --- simple API client ------------------------------------------------------------------------


def test_simple_prefers_json_when_the_index_offers_both(server: LocalServer) -> None:
    server.add_negotiated(
        "/simple/demo/",
        {
            JSON: Reply(200, json_page("demo", [WHEEL, SDIST]).encode(), JSON),
            HTML: Reply(200, html_page([OLD]).encode(), HTML),
        },
    )
    page = SimpleIndex(server.url + "/simple", quick_client()).get("Demo")
    assert [f.filename for f in page.files] == [WHEEL.filename, SDIST.filename]
    assert page.files[0].url == server.url + "/files/demo-1.0-py3-none-any.whl"
    assert page.files[0].hashes == {"sha256": WHEEL.sha256}
    assert page.files[0].size == len(WHEEL.content)
    accept = server.requests[0].headers["accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")


def test_simple_reads_html_with_relative_links_hashes_yanked_and_requires_python(
    server: LocalServer,
) -> None:
    files = [
        FileSpec("demo-1.0.tar.gz", "/files/demo-1.0.tar.gz", b"x", requires_python=">=3.8,<4"),
        FileSpec("demo-1.1-py3-none-any.whl", "../../f/demo-1.1-py3-none-any.whl", b"y", yanked=""),
        FileSpec("demo-1.2.tar.gz", "https://files.invalid/demo-1.2.tar.gz", b"z", yanked="broken"),
        FileSpec("demo-1.3.tar.gz", "demo-1.3.tar.gz", b"w", with_hash=False),
    ]
    server.add("/root/simple/demo/", html_page(files), content_type=HTML)
    page = SimpleIndex(server.url + "/root/simple/", quick_client()).get("DEMO")
    first, second, third, fourth = page.files
    assert page.name == "demo"
    assert first.url == server.url + "/files/demo-1.0.tar.gz"
    assert first.requires_python == ">=3.8,<4"  # written as &gt;=3.8,&lt;4 in the page
    assert first.hashes == {"sha256": files[0].sha256}
    assert not first.yanked
    assert second.url == server.url + "/root/f/demo-1.1-py3-none-any.whl"
    assert (second.yanked, second.yanked_reason) == (True, "")
    assert (third.url, third.yanked_reason) == ("https://files.invalid/demo-1.2.tar.gz", "broken")
    assert fourth.url == server.url + "/root/simple/demo/demo-1.3.tar.gz"
    assert fourth.hashes == {}
    assert "&gt;=3.8" in html_page(files)  # the page really carried it escaped


def test_simple_retries_on_503_then_succeeds(server: LocalServer) -> None:
    server.add_sequence(
        "/simple/demo/",
        [
            Reply(503, b"busy", "text/plain", {"Retry-After": "0"}),
            Reply(503, b"busy", "text/plain"),
            Reply(200, html_page([WHEEL]).encode(), HTML),
        ],
    )
    page = SimpleIndex(server.url + "/simple", quick_client(retries=3)).get("demo")
    assert [f.filename for f in page.files] == [WHEEL.filename]
    assert server.hits("/simple/demo/") == 3


def test_simple_gives_up_after_retries_with_the_status(server: LocalServer) -> None:
    server.add("/simple/demo/", "down", status=503, content_type="text/plain")
    with pytest.raises(IndexError_) as caught:
        SimpleIndex(server.url + "/simple", quick_client(retries=2)).get("demo")
    assert "503" in str(caught.value)
    assert server.hits("/simple/demo/") == 3


def test_simple_unknown_project_is_a_clear_error(server: LocalServer) -> None:
    index = SimpleIndex(server.url + "/simple", quick_client())
    with pytest.raises(ProjectNotFound) as caught:
        index.get("No_Such.Project")
    message = str(caught.value)
    assert "'no-such-project' not found on" in message
    assert server.url + "/simple" in message
    assert "hint:" in message
    assert server.requests[0].path == "/simple/no-such-project/"


def test_simple_sends_url_credentials_and_never_shows_them(server: LocalServer) -> None:
    server.add("/simple/demo/", "no", status=401, content_type="text/plain")
    host = server.url.split("://")[1]
    index = SimpleIndex(f"http://alice:t0ken%21@{host}/simple", quick_client())
    assert "t0ken" not in repr(index)
    with pytest.raises(IndexError_) as caught:
        index.get("demo")
    assert "t0ken" not in str(caught.value)
    assert "refused access (401)" in str(caught.value)
    sent = server.requests[0].headers["authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == "alice:t0ken!"


def test_simple_unreachable_index_error_hides_credentials() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = SimpleIndex(f"http://bob:pa55w0rd@127.0.0.1:{port}/simple", quick_client(retries=0))
    with pytest.raises(IndexError_) as caught:
        index.get("demo")
    assert "cannot reach" in str(caught.value)
    assert "pa55w0rd" not in str(caught.value)


def test_simple_uses_netrc_credentials(server: LocalServer, tmp_path: Path) -> None:
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login carol password n3trc\n")
    (tmp_path / ".netrc").chmod(0o600)
    server.add("/simple/demo/", html_page([WHEEL]), content_type=HTML)
    client = quick_client({"HOME": str(tmp_path)})
    SimpleIndex(server.url + "/simple", client).get("demo")
    sent = server.requests[0].headers["authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == "carol:n3trc"


def test_simple_reads_a_file_index(tmp_path: Path) -> None:
    write_tree_index(tmp_path / "simple", "demo", [WHEEL, SDIST])
    page = SimpleIndex((tmp_path / "simple").as_uri(), quick_client()).get("Demo")
    assert [f.filename for f in page.files] == [WHEEL.filename, SDIST.filename]
    assert Path(page.files[0].url.removeprefix("file://")).read_bytes() == WHEEL.content
    with pytest.raises(ProjectNotFound):
        SimpleIndex((tmp_path / "simple").as_uri(), quick_client()).get("other")


def test_simple_fetches_each_page_once_even_when_prefetched_in_parallel(
    server: LocalServer,
) -> None:
    names = [f"p{i}" for i in range(12)]
    for name in names:
        spec = FileSpec(f"{name}-1.0.tar.gz", f"{name}-1.0.tar.gz", name.encode())
        server.add(f"/simple/{name}/", html_page([spec]), content_type=HTML)
    index = SimpleIndex(server.url + "/simple", quick_client(), workers=4)
    index.prefetch([*names, "P0", "missing"])
    pages = [index.get(name) for name in names]
    assert [p.files[0].filename for p in pages] == [f"{n}-1.0.tar.gz" for n in names]
    assert all(server.hits(f"/simple/{n}/") == 1 for n in names)
    with pytest.raises(ProjectNotFound):
        index.get("missing")
    assert server.hits("/simple/missing/") == 1


def test_simple_rejects_a_page_that_is_not_the_simple_api(server: LocalServer) -> None:
    server.add("/simple/demo/", "{}", content_type="application/json")
    with pytest.raises(IndexError_) as caught:
        SimpleIndex(server.url + "/simple", quick_client()).get("demo")
    assert "not a simple-API page" in str(caught.value)


# --- completion -------------------------------------------------------------------------------


def serve_demo(
    server: LocalServer,
    files: tuple[FileSpec, ...] = DEMO,
    path: str = "/simple",
    *,
    as_json: bool = False,
) -> str:
    if as_json:
        server.add(f"{path}/demo/", json_page("demo", files), content_type=JSON)
    else:
        server.add(f"{path}/demo/", html_page(files), content_type=HTML)
    return server.url + path


def test_complete_pending_hashes_become_the_matching_files(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    hashes = (f"sha256:{WHEEL.sha256}", f"sha256:{SDIST.sha256}", f"sha256:{OLD.sha256}")
    lock = make_lock(tmp_path, [pending_package()], pending={0: PendingFiles(hashes)})
    done = complete(lock, IndexConfig(primary=base))
    package = done.packages[0]
    assert done.pending == {}
    assert package.archive is None
    assert package.wheels is not None
    assert [(w.name, w.url, w.hashes) for w in package.wheels] == [
        (WHEEL.filename, server.url + "/files/" + WHEEL.filename, {"sha256": WHEEL.sha256})
    ]
    assert package.sdist is not None
    assert package.sdist.url == server.url + "/files/demo-1.0.tar.gz"
    assert package.index == base
    assert lock.pending  # the input lock is untouched


def test_complete_unhashed_pending_takes_every_file_of_the_version(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    lock = make_lock(tmp_path, [pending_package()], pending={0: PendingFiles(())})
    package = complete(lock, IndexConfig(primary=base)).packages[0]
    assert package.wheels is not None
    assert sorted(w.filename for w in package.wheels) == sorted(
        [WHEEL.filename, WHEEL_CP.filename]
    )
    assert package.sdist is not None and package.sdist.filename == SDIST.filename


def test_complete_pending_without_a_match_names_package_and_index(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    unknown = PendingFiles(("sha256:" + "0" * 64,))
    lock = make_lock(tmp_path, [pending_package()], pending={0: unknown})
    with pytest.raises(LadingError) as caught:
        complete(lock, IndexConfig(primary="http://user:sekrit@" + base.split("://")[1]))
    error = caught.value
    assert error.package == "demo 1.0"
    assert error.file == str(tmp_path / "Pipfile.lock")
    assert "locked hashes" in error.why
    assert server.url.split("://")[1] in error.why
    assert "sekrit" not in str(error)
    assert error.hint is not None and "mirror" in error.hint


def test_complete_named_files_get_urls_and_sizes(tmp_path: Path, server: LocalServer) -> None:
    base = serve_demo(server, as_json=True)
    package = Package(
        name=canonicalize_name("demo"),
        version=Version("1.0"),
        wheels=[PackageWheel(name=WHEEL.filename, hashes={"sha256": WHEEL.sha256})],
        sdist=PackageSdist(name=SDIST.filename, hashes={"sha256": SDIST.sha256}),
    )
    lock = make_lock(tmp_path, [package])
    done = complete(lock, IndexConfig(primary=base))
    wheel = done.packages[0].wheels[0]  # type: ignore[index]
    assert wheel.url == server.url + "/files/" + WHEEL.filename
    assert wheel.size == len(WHEEL.content)
    assert wheel.hashes == {"sha256": WHEEL.sha256}
    assert done.packages[0].sdist is not None
    assert done.packages[0].sdist.url == server.url + "/files/" + SDIST.filename
    assert done.findings == ()


def test_complete_named_file_with_another_hash_is_refused(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    wrong = "ab" * 32
    package = Package(
        name=canonicalize_name("demo"),
        version=Version("1.0"),
        wheels=[PackageWheel(name=WHEEL.filename, hashes={"sha256": wrong})],
    )
    with pytest.raises(HashMismatch) as caught:
        complete(make_lock(tmp_path, [package]), IndexConfig(primary=base))
    message = str(caught.value)
    assert WHEEL.filename in message and wrong in message and WHEEL.sha256 in message
    assert caught.value.package == "demo 1.0"


def test_complete_named_file_missing_from_the_index_is_left_out_with_a_warning(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    gone = "demo-1.0-cp39-cp39-win_amd64.whl"
    package = Package(
        name=canonicalize_name("demo"),
        version=Version("1.0"),
        wheels=[
            PackageWheel(name=gone, hashes={"sha256": "cd" * 32}),
            PackageWheel(name=WHEEL.filename, hashes={"sha256": WHEEL.sha256}),
        ],
    )
    done = complete(make_lock(tmp_path, [package]), IndexConfig(primary=base))
    assert [w.filename for w in done.packages[0].wheels or ()] == [WHEEL.filename]
    assert len(done.findings) == 1
    assert gone in done.findings[0].message and done.findings[0].severity == "warning"


def test_complete_only_touches_the_selected_positions(
    tmp_path: Path, server: LocalServer
) -> None:
    base = serve_demo(server)
    hashes = PendingFiles((f"sha256:{WHEEL.sha256}",))
    lock = make_lock(
        tmp_path, [pending_package(), pending_package("other")], pending={0: hashes, 1: hashes}
    )
    done = complete(lock, IndexConfig(primary=base), only={0})
    assert list(done.pending) == [1]
    assert done.packages[1] is lock.packages[1]
    assert server.hits("/simple/other/") == 0


def test_complete_falls_through_to_extra_indexes_and_honours_a_package_index(
    tmp_path: Path, server: LocalServer
) -> None:
    extra = serve_demo(server, path="/extra")
    private = serve_demo(server, files=(WHEEL,), path="/private")
    hashes = PendingFiles((f"sha256:{WHEEL.sha256}",))
    lock = make_lock(
        tmp_path,
        [pending_package(), pending_package(index=private)],
        pending={0: hashes, 1: hashes},
    )
    done = complete(
        lock, IndexConfig(primary=server.url + "/primary", extra=(extra,)), workers=1
    )
    assert done.packages[0].index == extra
    assert done.packages[1].index == private
    assert server.hits("/primary/demo/") == 1  # memoized across both packages
    assert server.hits("/private/demo/") == 1


def test_complete_skips_a_missing_file_index_with_a_warning(
    tmp_path: Path, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    base = serve_demo(server)
    missing = (tmp_path / "nowhere" / "simple").as_uri()
    local_tree = tmp_path / "tree"
    write_tree_index(local_tree, "demo", [WHEEL])
    lock = make_lock(
        tmp_path, [pending_package()], pending={0: PendingFiles((f"sha256:{SDIST.sha256}",))}
    )
    config = IndexConfig(primary=missing, extra=(local_tree.as_uri(), base))
    with caplog.at_level(logging.WARNING, logger="lading.index"):
        done = complete(lock, config)
    assert done.packages[0].sdist is not None
    assert "nowhere" in caplog.text and "does not exist" in caplog.text


def test_complete_accepts_any_page_source(tmp_path: Path) -> None:
    from lading.index.simple import IndexFile

    class Fake:
        def __init__(self, url: str) -> None:
            self.url = url
            self.asked: list[str] = []

        def get(self, project: str) -> ProjectPage:
            self.asked.append(project)
            listed = IndexFile(
                WHEEL.filename, "https://files.invalid/w.whl", {"sha256": WHEEL.sha256}
            )
            return ProjectPage(project, (listed,))

    opened: list[Fake] = []

    def open_index(url: str) -> Fake:
        opened.append(Fake(url))
        return opened[-1]

    upper = PendingFiles((f"SHA256:{WHEEL.sha256.upper()}",))  # as some tools write them
    lock = make_lock(tmp_path, [pending_package()], pending={0: upper})
    indexes = Indexes(IndexConfig(primary="https://idx.invalid/simple"), open_index)
    done = complete(lock, indexes)
    assert [w.url for w in done.packages[0].wheels or ()] == ["https://files.invalid/w.whl"]
    assert [f.asked for f in opened] == [["demo"]]


def test_complete_unpinned_pending_package_is_an_error(tmp_path: Path) -> None:
    package = Package(name=canonicalize_name("demo"), archive=pending_placeholder())
    lock = make_lock(tmp_path, [package], pending={0: PendingFiles(())})
    with pytest.raises(IndexError_) as caught:
        complete(lock, Indexes(IndexConfig(primary="https://idx.invalid/s"), lambda url: None))  # type: ignore[arg-type,return-value]
    assert "no exact version" in str(caught.value)


# --- against the real index (network) ---------------------------------------------------------


def _real_index_reachable() -> bool:
    from lading.index.config import pip_default_index

    url = pip_default_index()
    if url is None:
        return False
    try:
        SimpleIndex(url, quick_client(retries=0)).get("six")
    except IndexError_:
        return False
    return True


@pytest.mark.integration
@pytest.mark.parametrize("fixture", real_fixtures(), ids=lambda f: f.id)
def test_complete_real_locks_gives_every_selected_package_a_file(
    fixture: RealFixture, tmp_path: Path, here: Target
) -> None:
    if not _real_index_reachable():
        pytest.skip("the package index is not reachable")
    fixture = materialize(fixture, tmp_path)
    lock = read(fixture.lock_path)
    production = GroupRequest(no_project=True)  # the tools' installs leave the project itself out
    picked = {id(s.package) for s in select(lock, here, production).selected}
    chosen = {i for i, p in enumerate(lock.packages) if id(p) in picked}
    done = complete(lock, default_indexes(None, [], lock), only=chosen)
    selection = select(done, here, production)
    assert {str(s.package.name) for s in selection.selected} == set(fixture.expected["installed"])
    for selected in selection.selected:
        assert getattr(selected.source, "url", None) or getattr(selected.source, "path", None)
    assert not set(done.pending) & chosen
