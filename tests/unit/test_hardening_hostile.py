"""Hardening, hostile input: every case goes through ``lading install`` (or show/export/lock) end to end and
is refused with a one-paragraph ``error:`` (exit 1, no traceback), and nothing is written outside the
destination: the directory holding the venv and the cache gains only the venv and the cache, and no payload
file lands anywhere under it.

Decision on redirects: lading follows a redirect to another host and accepts the bytes only if they match
the lock's hash (the hash is the authority, wherever the bytes came from); different bytes are refused by
hash like any other mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import oci_base
from tests.unit._httpserver import FileSpec, LocalServer, html_page, serving
from tests.unit.test_install_cli import (
    Index,
    Lading,
    Published,
    installed,
    pkg,
    requirements_text,
    write_lock,
)
from tests.unit.test_sdist import project_files
from tests.unit.test_wheel_install import _hostile, _patch_declared_size
from tests.wheelmaker import Entry, make_wheel, zip_info

PAYLOAD = "pwned-by-hostile"  # every hostile member's name holds this, so a stray one is found by name

# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def other_server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture
def index(server: LocalServer, tmp_path: Path) -> Index:
    root = tmp_path / "index"
    server.serve_tree(root)
    return Index(server, root)


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "VIRTUAL_ENV", "LADING_INDEX_URL",
                 "LADING_EXTRA_INDEX_URL", "LADING_INDEX_USERNAME", "LADING_INDEX_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LADING_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LADING_HTTP_RETRIES", "0")


@pytest.fixture
def lading(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Lading:
    return Lading(capsys, tmp_path / "cache")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    where = tmp_path / "proj"
    where.mkdir()
    return where


def refused(ran: Any, *words: str) -> None:
    """Exit 1 with one ``error:`` paragraph (a LadingError), naming what it should."""
    assert ran.code == 1, (ran.code, ran.err)
    assert "Traceback" not in ran.err and "lading bug" not in ran.err, ran.err
    assert ran.err.lstrip().startswith("error:"), ran.err
    assert "\n\n" not in ran.err.strip(), ran.err
    for word in words:
        assert word.lower() in ran.err.lower(), (word, ran.err)


def nothing_stray(tmp_path: Path, before: set[str]) -> None:
    """The parent of the venv and the cache gained at most those two; no payload file exists anywhere
    outside the served index and the build directories."""
    after = {p.name for p in tmp_path.iterdir()}
    assert after - before <= {"venv", "cache"}, after - before
    for path in tmp_path.rglob(f"*{PAYLOAD}*"):
        relative = path.relative_to(tmp_path).parts
        assert relative[0] in ("index", "build", "sdists", "hostile"), path
    # the parent of tmp_path (shared by every test of the session) never gets a payload either
    assert not list(tmp_path.parent.glob(f"*{PAYLOAD}*"))


# --- wheels -----------------------------------------------------------------------------------------------


def _add(name: str, data: bytes = b"x", **info: int) -> Callable[[list[Entry]], list[Entry]]:
    return lambda entries: [(zip_info(name, **info), data), *entries]


def _tamper(entries: list[Entry]) -> list[Entry]:
    return [(n, b"tampered" if str(getattr(n, "filename", n)).endswith(".py") else d) for n, d in entries]


WHEELS: dict[str, tuple[dict[str, Any], str]] = {
    "member ../": (dict(mutate=_add(f"../{PAYLOAD}")), "'..'"),
    "member a/../../": (dict(mutate=_add(f"evil/../../../{PAYLOAD}")), "'..'"),
    "member absolute path": (dict(mutate=_add(f"/tmp/{PAYLOAD}")), "absolute"),
    "member drive letter": (dict(mutate=_add(f"C:/{PAYLOAD}")), "absolute"),
    "member symlink out": (dict(mutate=_add(f"evil/{PAYLOAD}", b"/etc/passwd", mode=0o777, kind=0o120000)),
                           "symbolic link"),
    "member device file": (dict(mutate=_add(f"evil/{PAYLOAD}", b"", mode=0o666, kind=0o020000)), "special file"),
    "RECORD disagrees with files": (dict(mutate=_tamper, record_after=True), "RECORD"),
    "duplicate entries": (dict(mutate=lambda e: [*e, e[0]]), "twice"),
    ".dist-info name not matching": (dict(mutate=lambda e: e, dist_name="other"), "does not match"),
    "entry-point name is a path": (
        dict(mutate=lambda e: e, entry_points={"console_scripts": {f"../../{PAYLOAD}": "evil:main"}}),
        "not a plain file name"),
}


def _serve(index: Index, wheel: Path) -> Published:
    return index.publish(wheel, "evil", "1.0")


@pytest.mark.parametrize("case", sorted(WHEELS))
def test_hostile_wheels_are_refused_by_install_and_nothing_lands_outside(
    lading: Lading, index: Index, project: Path, tmp_path: Path, case: str
) -> None:
    options, message = WHEELS[case]
    (tmp_path / "hostile").mkdir()
    wheel = _hostile(tmp_path / "hostile", **options)
    before = {p.name for p in tmp_path.iterdir()}
    ran = lading(str(write_lock(project, [pkg(_serve(index, wheel))])), "--venv", str(tmp_path / "venv"))
    refused(ran, "evil 1.0", message.strip("'"))
    nothing_stray(tmp_path, before | {"index"})
    assert not list((tmp_path / "venv").glob("lib/python3.*/site-packages/evil*"))


@pytest.mark.parametrize("kind", ["declared size", "compression ratio"])
def test_zip_bombs_are_refused_before_inflating(
    lading: Lading, index: Index, project: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "declared size":
        wheel = make_wheel(tmp_path / "hostile", "evil", "1.0", {"evil/__init__.py": b"",
                                                                  f"evil/{PAYLOAD}.bin": b"\0" * 1000})
        _patch_declared_size(wheel, f"evil/{PAYLOAD}.bin", 0xFFFFFF00)
    else:  # really compressed: 40 MB of zeros in about 40 kB
        wheel = make_wheel(tmp_path / "hostile", "evil", "1.0", {"evil/__init__.py": b"",
                                                                  f"evil/{PAYLOAD}.bin": b"\0" * (40 << 20)})
        assert wheel.stat().st_size < 1 << 20
    before = {p.name for p in tmp_path.iterdir()}
    ran = lading(str(write_lock(project, [pkg(_serve(index, wheel))])), "--venv", str(tmp_path / "venv"))
    refused(ran, "evil 1.0")
    assert "zip bomb" in ran.err or "times" in ran.err, ran.err
    nothing_stray(tmp_path, before | {"index"})


# --- sdists (an sdist-only lock: lading builds it, after unpacking it safely) ----------------------------


def _hostile_sdist(where: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    where.mkdir(parents=True, exist_ok=True)
    path = where / "evil-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for relative, text in sorted(project_files("evil", "1.0").items()):
            raw = text.encode()
            info = tarfile.TarInfo(f"evil-1.0/{relative}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data) if data else None)
    return path


def _tar(name: str, kind: bytes, *, link: str = "", data: bytes = b"") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, data


SDISTS: dict[str, tuple[tarfile.TarInfo, bytes, str]] = {
    name: (*_tar(*args, **kwargs), message)  # type: ignore[arg-type]
    for name, args, kwargs, message in [
        ("tar member ../", (f"evil-1.0/../../{PAYLOAD}", tarfile.REGTYPE), {"data": b"x"}, "outside"),
        ("tar member absolute", (f"/tmp/{PAYLOAD}", tarfile.REGTYPE), {"data": b"x"}, "outside"),
        ("tar device file", (f"evil-1.0/{PAYLOAD}", tarfile.CHRTYPE), {}, "special file"),
        ("tar fifo", (f"evil-1.0/{PAYLOAD}", tarfile.FIFOTYPE), {}, "special file"),
        ("tar symlink out", (f"evil-1.0/{PAYLOAD}", tarfile.SYMTYPE), {"link": "/etc/passwd"}, "link"),
        ("tar hardlink out", (f"evil-1.0/{PAYLOAD}", tarfile.LNKTYPE), {"link": "../../../etc/passwd"}, "link"),
    ]
}


@pytest.mark.parametrize("case", sorted(SDISTS))
def test_hostile_sdists_are_refused_before_building(
    lading: Lading, index: Index, project: Path, tmp_path: Path, case: str
) -> None:
    member, data, message = SDISTS[case]
    sdist = _hostile_sdist(tmp_path / "sdists", member, data)
    before = {p.name for p in tmp_path.iterdir()}
    published = index.publish(sdist, "evil", "1.0")
    ran = lading(str(write_lock(project, [pkg(published)])), "--venv", str(tmp_path / "venv"),
                 "--index-url", index.simple)
    refused(ran, "evil 1.0", message)
    nothing_stray(tmp_path, before | {"index"})


# --- hashes -----------------------------------------------------------------------------------------------


def test_a_wheel_with_one_byte_changed_is_refused_by_hash(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    good = index.wheel("alpha", "1.0", {"alpha/__init__.py": b"X = 1\n"})
    lock = write_lock(project, [pkg(good)])
    raw = bytearray(good.path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    good.path.write_bytes(bytes(raw))
    before = {p.name for p in tmp_path.iterdir()}
    ran = lading(str(lock), "--venv", str(tmp_path / "venv"))
    refused(ran, "alpha 1.0", good.sha256, hashlib.sha256(bytes(raw)).hexdigest())
    nothing_stray(tmp_path, before)
    assert not list((tmp_path / "cache").glob("archives-v1/*/*/alpha*"))


def test_a_lock_hash_for_another_file_is_refused(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    alpha, beta = index.wheel("alpha", "1.0"), index.wheel("beta", "1.0")
    lock = write_lock(project, [pkg(alpha, hashes={alpha.filename: beta.sha256})])
    ran = lading(str(lock), "--venv", str(tmp_path / "venv"))
    refused(ran, "alpha 1.0", beta.sha256, alpha.sha256)
    assert not (tmp_path / "venv").exists() or not list((tmp_path / "venv").glob("lib/*/site-packages/alpha*"))


def test_a_redirect_to_another_host_is_followed_only_to_the_locked_bytes(
    lading: Lading, index: Index, project: Path, tmp_path: Path, other_server: LocalServer
) -> None:
    real = index.wheel("alpha", "1.0", {"alpha/__init__.py": b"X = 'real'\n"})
    fake = make_wheel(tmp_path / "build" / "fake", "alpha", "1.0", {"alpha/__init__.py": b"X = 'fake'\n"})
    other_server.add("/same.whl", real.path.read_bytes(), content_type="application/octet-stream")
    other_server.add("/different.whl", fake.read_bytes(), content_type="application/octet-stream")
    for target in ("different", "same"):
        index.server.add(f"/redirect/{target}/{real.filename}", b"", status=302,
                         headers={"Location": f"{other_server.url}/{target}.whl"})
    moved = Published(real.name, real.version, real.filename,
                      f"{index.server.url}/redirect/different/{real.filename}", real.sha256, real.size, real.path)
    ran = lading(str(write_lock(project, [pkg(moved)])), "--venv", str(tmp_path / "venv"))
    refused(ran, "alpha 1.0", real.sha256, hashlib.sha256(fake.read_bytes()).hexdigest())
    assert other_server.hits("/different.whl") == 1
    same = Published(real.name, real.version, real.filename,
                     f"{index.server.url}/redirect/same/{real.filename}", real.sha256, real.size, real.path)
    lading.ok(str(write_lock(project, [pkg(same)])), "--venv", str(tmp_path / "venv"))
    assert installed(tmp_path / "venv") == {"alpha": "1.0"}


# --- indexes ----------------------------------------------------------------------------------------------


def test_a_page_listing_another_projects_file_is_not_taken(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    beta = index.wheel("beta", "1.0")
    # the page of alpha lists beta's wheel; the lock's hash for alpha is that wheel's hash
    index.server.add("/simple/alpha/", html_page([FileSpec(beta.filename, beta.url, beta.path.read_bytes())]))
    (project / "requirements.txt").write_text(f"alpha==1.0 --hash=sha256:{beta.sha256}\n")
    ran = lading(str(project / "requirements.txt"), "--venv", str(tmp_path / "venv"), "--index-url", index.simple)
    refused(ran, "alpha", "1.0")
    assert not list((tmp_path / "venv").glob("lib/*/site-packages/beta*"))


def test_a_yanked_file_is_installed_only_with_a_warning_as_the_lock_pins_it(
    lading: Lading, index: Index, project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alpha = index.wheel("alpha", "1.0")
    index.server.add("/simple/alpha/", html_page([FileSpec(alpha.filename, alpha.url, alpha.path.read_bytes(),
                                                           yanked="broken release")]))
    (project / "requirements.txt").write_text(requirements_text(alpha))
    ran = lading(str(project / "requirements.txt"), "--venv", str(tmp_path / "venv"), "--index-url", index.simple)
    # PEP 592: an exact pin (and a lock's hash is the most exact one) may install a yanked file, never silently.
    # The warning goes through logging (stderr on the command line; pytest's handler here).
    assert ran.code == 0, ran.err
    said = ran.err + caplog.text
    assert "yanked" in said and alpha.filename in said and "broken release" in said, said


def test_a_page_with_thousands_of_links_is_still_fast(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    alpha = index.wheel("alpha", "1.0")
    noise = [FileSpec(f"alpha-0.{i}-py3-none-any.whl", f"{index.server.url}/files/alpha-0.{i}-py3-none-any.whl",
                      str(i).encode()) for i in range(5000)]
    page = html_page([*noise, FileSpec(alpha.filename, alpha.url, alpha.path.read_bytes())])
    index.server.add("/simple/alpha/", page)
    (project / "requirements.txt").write_text(requirements_text(alpha))
    started = time.monotonic()
    lading.ok(str(project / "requirements.txt"), "--venv", str(tmp_path / "venv"), "--index-url", index.simple,
              "--no-compile")
    assert time.monotonic() - started < 2.0
    assert installed(tmp_path / "venv") == {"alpha": "1.0"}


def test_data_requires_python_excluding_the_target_is_refused(
    lading: Lading, index: Index, project: Path, tmp_path: Path
) -> None:
    alpha = index.wheel("alpha", "1.0")
    index.server.add("/simple/alpha/", html_page([FileSpec(alpha.filename, alpha.url, alpha.path.read_bytes(),
                                                           requires_python="<3")]))
    (project / "requirements.txt").write_text(requirements_text(alpha))
    ran = lading(str(project / "requirements.txt"), "--venv", str(tmp_path / "venv"), "--index-url", index.simple)
    refused(ran, "alpha", "python")
    assert not list((tmp_path / "venv").glob("lib/*/site-packages/alpha*"))


def pipfile_lock(private: str, public: str, *entries: tuple[str, str, str]) -> str:
    default = {name: {"version": f"=={version}", "hashes": [f"sha256:{sha}"], "index": "private"}
               for name, version, sha in entries}
    return json.dumps({
        "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {},
                  "sources": [{"name": "public", "url": public, "verify_ssl": False},
                              {"name": "private", "url": private, "verify_ssl": False}]},
        "default": default, "develop": {},
    })


def test_dependency_confusion_a_package_pinned_to_one_index_is_never_taken_from_another(
    lading: Lading, index: Index, project: Path, tmp_path: Path, other_server: LocalServer
) -> None:
    internal = index.wheel("internal", "1.0", {"internal/__init__.py": b"WHO = 'private'\n"})
    # the public index lists a same-named file under the same filename
    impostor = make_wheel(tmp_path / "build" / "impostor", "internal", "1.0",
                          {"internal/__init__.py": b"WHO = 'public'\n"})
    other_server.add(f"/files/{impostor.name}", impostor.read_bytes(), content_type="application/octet-stream")
    other_server.add("/simple/internal/", html_page([FileSpec(impostor.name, f"{other_server.url}/files/"
                                                              f"{impostor.name}", impostor.read_bytes())]))
    public = f"{other_server.url}/simple"
    (project / "Pipfile.lock").write_text(pipfile_lock(index.simple, public,
                                                       ("internal", "1.0", internal.sha256)))
    lading.ok(str(project / "Pipfile.lock"), "--venv", str(tmp_path / "venv"), "--no-compile")
    assert installed(tmp_path / "venv") == {"internal": "1.0"}
    assert other_server.hits("/simple/internal/") == 0 and other_server.hits(f"/files/{impostor.name}") == 0
    # the private index losing the file does not send lading to the public one, even with its hash
    (project / "Pipfile.lock").write_text(pipfile_lock(
        index.simple, public, ("internal", "1.0", hashlib.sha256(impostor.read_bytes()).hexdigest())))
    ran = lading(str(project / "Pipfile.lock"), "--venv", str(tmp_path / "venv2"), "--cache-dir",
                 str(tmp_path / "cache2"))
    refused(ran, "internal")
    assert other_server.hits("/simple/internal/") == 0 and other_server.hits(f"/files/{impostor.name}") == 0


def test_dependency_confusion_with_a_poetry_source(
    lading: Lading, index: Index, project: Path, tmp_path: Path, other_server: LocalServer
) -> None:
    internal = index.wheel("internal", "1.0")
    other_server.add("/simple/internal/", html_page([FileSpec(internal.filename, f"{other_server.url}/x.whl",
                                                              internal.path.read_bytes())]))
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.poetry]
        name = "proj"
        version = "0.1.0"
        description = ""
        authors = []
        package-mode = false

        [tool.poetry.dependencies]
        python = ">=3.9"
        internal = {{version = "*", source = "private"}}

        [[tool.poetry.source]]
        name = "public"
        url = "{other_server.url}/simple"
        priority = "primary"

        [[tool.poetry.source]]
        name = "private"
        url = "{index.simple}"
        priority = "explicit"
        """))
    (project / "poetry.lock").write_text(textwrap.dedent(f"""\
        [[package]]
        name = "internal"
        version = "1.0"
        description = ""
        optional = false
        python-versions = "*"
        groups = ["main"]
        files = [
            {{file = "{internal.filename}", hash = "sha256:{internal.sha256}"}},
        ]

        [package.source]
        type = "legacy"
        url = "{index.simple}"
        reference = "private"

        [metadata]
        lock-version = "2.1"
        python-versions = ">=3.9"
        content-hash = "0"
        """))
    lading.ok(str(project / "poetry.lock"), "--venv", str(tmp_path / "venv"), "--no-compile")
    assert installed(tmp_path / "venv") == {"internal": "1.0"}
    assert other_server.hits("/simple/internal/") == 0 and other_server.hits("/x.whl") == 0


# --- credentials ------------------------------------------------------------------------------------------


def test_credentials_never_appear_in_outputs_or_written_files(
    lading: Lading, index: Index, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from lading.cli.main import main

    secrets = {"url": "urlTok3n-9f8e7d", "env": "envTok3n-1a2b3c", "netrc": "netrcTok3n-4d5e6f"}
    forms = set()
    for value in secrets.values():
        forms |= {value, base64.b64encode(f"user:{value}".encode()).decode(),
                  base64.b64encode(value.encode()).decode().rstrip("=")}
    alpha = index.wheel("alpha", "1.0", {"alpha/__init__.py": b"", "alpha/__main__.py": b"print('alpha ran')\n"})
    home = tmp_path / "home"
    home.mkdir()
    host = index.server.url.split("://")[1].split(":")[0]
    (home / ".netrc").write_text(f"machine {host} login user password {secrets['netrc']}\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LADING_INDEX_USERNAME", "user")
    monkeypatch.setenv("LADING_INDEX_PASSWORD", secrets["env"])
    (project / "requirements.txt").write_text(requirements_text(alpha))
    authed = index.simple.replace("http://", f"http://user:{secrets['url']}@")
    outputs: list[str] = []

    def run(*argv: str) -> int:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
        assert "Traceback" not in captured.err and "lading bug" not in captured.err, captured.err
        return code

    req = str(project / "requirements.txt")
    exported = tmp_path / "exports"
    exported.mkdir()
    for url in (authed, index.simple):  # a URL with a token, then env/.netrc credentials alone
        for fmt in ("pylock", "requirements", "pipfile-lock"):
            run("export", req, "--to", fmt, "--index-url", url)
            run("export", req, "--to", fmt, "--index-url", url, "-o", str(exported / f"{fmt}-{len(outputs)}"))
        run("show", req, "--index-url", url)
        run("show", req, "--index-url", url, "--json")
        assert run("install", req, "--venv", str(tmp_path / "venv"), "--index-url", url, "-v", "--json",
                   "--cache-dir", str(tmp_path / "cache")) == 0
        # a failing install's message too
        (project / "bad.txt").write_text(requirements_text(alpha).replace(alpha.sha256, "1" * 64))
        assert run("install", str(project / "bad.txt"), "--venv", str(tmp_path / "venv-bad"), "--index-url", url,
                   "--cache-dir", str(tmp_path / "cache")) == 1
    # artifacts built from the same lock, through the same index: their files and their messages
    artifacts = tmp_path / "artifacts"
    for n, url in enumerate((authed, index.simple)):
        cache = ["--index-url", url, "--cache-dir", str(tmp_path / f"artifact-cache-{n}")]
        assert run("build", "wheelhouse", req, "-o", str(artifacts / f"wh-{n}"), *cache) == 0
        assert run("build", "zipapp", req, "-o", str(artifacts / f"app-{n}.pyz"), "-e", "alpha", *cache) == 0
        assert run("build", "venv", req, "-o", str(artifacts / f"venv-{n}.tar.gz"), "--prefix", "/opt/alpha",
                   "--python", sys.executable, *cache) == 0
        assert run("build", "deb", req, "-o", str(artifacts / f"deb-{n}"), "--name", "alpha-app", "--version",
                   "1.0", "--maintainer", "Ops <ops@example.invalid>", "--python", sys.executable, *cache) == 0
        assert run("export", req, "--to", "nix", "-o", str(artifacts / f"nix-{n}"), "--index-url", url) == 0
        assert run("sbom", req, "-o", str(artifacts / f"sbom-{n}.json")) == 0
        run("inspect", str(artifacts / f"app-{n}.pyz"))
        if oci_base.unavailable() is None:  # an image: its layers and its config
            assert run("build", "image", req, "--base", f"oci:{oci_base.base_layout()}:{oci_base.TAG}", "-o",
                       str(artifacts / f"image-{n}"), "--tag", "alpha:1", "--entrypoint", "python3 -m alpha",
                       *cache) == 0
        # the zipapp's payload as its own bootstrap unpacks it, whatever its packing
        unpacked = subprocess.run([sys.executable, str(artifacts / f"app-{n}.pyz")], capture_output=True, text=True,
                                  env={**os.environ, "LADING_PYZ_ROOT": str(artifacts / f"pyz-root-{n}")})
        assert unpacked.returncode == 0 and "alpha ran" in unpacked.stdout, unpacked.stderr
        assert any((artifacts / f"pyz-root-{n}").rglob("alpha/__init__.py"))
    _unpack_archives(artifacts)
    # lock: a manifest resolved against the index given with a token
    (project / "lockme").mkdir()
    (project / "lockme" / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "lockme"
        version = "0.1"
        requires-python = ">=3.9"
        dependencies = ["alpha"]
        """))
    run("lock", str(project / "lockme"), "--index-url", authed)
    run("lock", str(project / "lockme"), "--index-url", authed, "--json")
    joined = "\n".join(outputs)
    assert "alpha" in joined  # the commands did run
    for form in forms:
        assert form not in joined, form
    for root in (tmp_path / "venv", tmp_path / "cache", exported, project, artifacts):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                for form in forms:
                    assert form.encode() not in data, (form, path)
    # the credentials were really sent, so the test would see a leak
    assert any(s.headers.get("authorization") for s in index.server.requests)


def _unpack_archives(root: Path) -> None:
    """Open up what the artifacts pack (zip members, tar members, .deb data), so the grep sees their bytes."""
    import tarfile
    import zipfile

    for path in sorted(root.rglob("*")):
        if path.suffix in (".pyz", ".whl") and zipfile.is_zipfile(path):  # the zipapp's own metadata and lock
            with zipfile.ZipFile(path) as archive:
                archive.extractall(path.with_name(path.name + ".unpacked"))
    for path in sorted(root.rglob("*")):
        if path.parent.name == "sha256" and path.is_file() and path.read_bytes()[:2] == b"\x1f\x8b":  # layers
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(path.with_name(path.name + ".unpacked"), filter="fully_trusted")
        elif path.is_file() and (path.name.endswith((".tar", ".tar.gz", ".tar.xz"))):
            with tarfile.open(path) as archive:  # lading's own output, only read: its absolute venv links are fine
                archive.extractall(path.with_name(path.name + ".unpacked"), filter="fully_trusted")
        elif path.suffix == ".deb":
            out = path.with_name(path.name + ".unpacked")
            subprocess.run(["dpkg-deb", "-R", str(path), str(out)], check=True, capture_output=True)


def test_stray_payload_check_would_notice_a_leak(tmp_path: Path) -> None:
    """The stray-file check is not vacuous."""
    before = {p.name for p in tmp_path.iterdir()}
    (tmp_path / f"{PAYLOAD}").write_text("x")
    with pytest.raises(AssertionError), warnings.catch_warnings():
        nothing_stray(tmp_path, before)
