"""``lading build image``: layers planned and written deterministically, base images read in every form,
and the real tools (skopeo, umoci, chroot) taking the result.

The end-to-end part builds one hermetic project (wheels made here, served from 127.0.0.1, a console
script) onto the cached Debian bookworm base (``tests/oci_base.py``) a few times, in a module-scoped
fixture, so the suite pays for the base once.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from lading.artifacts.oci import layout as oci
from lading.artifacts.oci.basepython import find_python, scan
from lading.artifacts.oci.layers import (
    DEFAULT_MTIME,
    Entry,
    Unit,
    _patched_pyc,
    layer_members,
    plan_layers,
    write_layer,
    write_tar,
)
from lading.cli.main import main
from tests import debian_root, oci_base
from tests.unit._httpserver import LocalServer, serving
from tests.unit.test_install_cli import Index, pkg, write_lock
from tests.wheelmaker import sdist_members

MB = 1024 * 1024

# --- the plan (pure) --------------------------------------------------------------------------------------


def unit(name: str, size: int, kind: str = "dist") -> Unit:
    return Unit(name, kind, (Entry(f"opt/venv/{name}", "file", size=size, data=b"x" * 0),), "1.0")  # type: ignore[arg-type]


def test_plan_puts_large_distributions_alone_and_the_project_last() -> None:
    units = [unit("venv", 10, "venv"), unit("app", 5, "project"), unit("numpy", 40 * MB), unit("six", 10),
             unit("pandas", 60 * MB), unit("idna", 200)]
    groups = plan_layers(units, max_layers=8, big=10 * MB)
    assert [g.name for g in groups] == ["venv", "dist:numpy", "dist:pandas", "dependencies", "project:app"]
    assert [u.name for u in groups[3].units] == ["idna", "six"]


def test_plan_bounds_the_number_of_layers_and_keeps_the_largest_alone() -> None:
    units = [unit("venv", 10, "venv"), unit("app", 5, "project")]
    units += [unit(f"big{i}", (20 + i) * MB) for i in range(10)]
    groups = plan_layers(units, max_layers=5, big=10 * MB)
    assert len(groups) == 5
    alone = [g.name for g in groups if g.name.startswith("dist:")]
    assert alone == ["dist:big8", "dist:big9"]  # the two largest; the rest share a layer
    assert groups[-1].name == "project:app"
    assert len(plan_layers(units, max_layers=1)) == 1
    assert sum(len(g.units) for g in plan_layers(units, max_layers=2)) == len(units)


def test_plan_does_not_depend_on_the_order_of_its_input() -> None:
    units = [unit("venv", 10, "venv"), unit("a", 30 * MB), unit("b", 1), unit("c", 2), unit("app", 5, "project")]
    assert plan_layers(units) == plan_layers(list(reversed(units)))


# --- deterministic tar / gzip -------------------------------------------------------------------------------


def test_layer_tar_is_sorted_owned_by_root_and_dated_once(tmp_path: Path) -> None:
    source = tmp_path / "f.py"
    source.write_text("x = 1\n")
    os.chmod(source, 0o600)
    os.utime(source, (1_700_000_000, 1_700_000_000))
    entries = [Entry("opt/venv/lib/z.py", "file", 0o644, source=source),
               Entry("opt/venv/bin/python", "symlink", 0o777, target="/usr/bin/python3.11"),
               Entry("opt/venv/a.txt", "file", 0o755, data=b"a")]
    raw = io.BytesIO()
    write_tar(layer_members(entries), raw)
    with tarfile.open(fileobj=io.BytesIO(raw.getvalue())) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ["opt", "opt/venv", "opt/venv/a.txt", "opt/venv/bin", "opt/venv/bin/python",
                                         "opt/venv/lib", "opt/venv/lib/z.py"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", DEFAULT_MTIME)}
    assert {m.name: m.mode for m in members}["opt/venv/lib/z.py"] == 0o644
    assert {m.name: m.mode for m in members}["opt/venv"] == 0o755


def test_gzip_layer_is_byte_identical_across_runs_and_mtimes(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("print('hi')\n")
    entries = layer_members([Entry("app/mod.py", "file", 0o644, source=source)])
    first = write_layer(entries, tmp_path / "one.tar.gz")
    os.utime(source, (1_800_000_000, 1_800_000_000))
    second = write_layer(entries, tmp_path / "two.tar.gz")
    assert first == second
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
    header = (tmp_path / "one.tar.gz").read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0" and header[3] & 0x08 == 0  # no mtime, no file name
    assert first[1] == "sha256:" + hashlib.sha256(gzip.decompress((tmp_path / "one.tar.gz").read_bytes())).hexdigest()


def test_timestamp_pyc_gets_the_layer_mtime_and_hash_pyc_is_kept() -> None:
    timestamped = b"\xa7\r\r\n" + b"\0\0\0\0" + (12345).to_bytes(4, "little") + (7).to_bytes(4, "little") + b"code"
    patched = _patched_pyc(timestamped, DEFAULT_MTIME)
    assert patched[8:12] == DEFAULT_MTIME.to_bytes(4, "little") and patched[12:] == timestamped[12:]
    hashed = b"\xa7\r\r\n" + b"\x03\0\0\0" + b"12345678" + b"code"
    assert _patched_pyc(hashed, DEFAULT_MTIME) == hashed


# --- base images in every form (synthetic, small) --------------------------------------------------------------


def _tar_bytes(files: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):  # ("link", target)
                info.type = tarfile.SYMTYPE
                info.linkname = content[1]
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


PYTHON_FILES: dict[str, Any] = {
    "usr/bin/python3": ("link", "python3.12"),
    "usr/bin/python3.12": b"\x7fELF...\x003.12.7\x00...",
    "usr/lib/python3.12/os.py": b"",
    "usr/lib/x86_64-linux-gnu/libc.so.6": b"GNU C Library (GNU libc) stable release version 2.39.\n",
}


def _legacy_docker_save(path: Path, layers: list[dict[str, Any]], config_extra: Optional[dict[str, Any]] = None
                        ) -> Path:
    blobs = [_tar_bytes(files) for files in layers]
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]},
              **(config_extra or {})}
    config_bytes = json.dumps(config).encode()
    members = {f"{hashlib.sha256(config_bytes).hexdigest()}.json": config_bytes}
    layer_names = []
    for i, blob in enumerate(blobs):
        members[f"layer{i}/layer.tar"] = blob
        layer_names.append(f"layer{i}/layer.tar")
    members["manifest.json"] = json.dumps([{"Config": next(iter(members)), "RepoTags": ["base:1"],
                                            "Layers": layer_names}]).encode()
    path.write_bytes(_tar_bytes(members))
    return path


def test_legacy_docker_save_base_is_read_and_its_python_found(tmp_path: Path) -> None:
    upper = {".wh.tmp": b"", "usr/bin/python3.12": PYTHON_FILES["usr/bin/python3.12"]}
    archive = _legacy_docker_save(tmp_path / "base.tar", [{**PYTHON_FILES, "tmp": b"x"}, upper])
    with oci.open_local_base(f"docker-archive:{archive}:base:1") as image:
        assert image is not None
        assert [d.media_type for d in image.layers] == [oci.OCI_LAYER, oci.OCI_LAYER]
        assert [d.digest for d in image.layers] == image.diff_ids
        files = scan(image)
        assert "tmp" not in files.kinds  # the whiteout in the upper layer removed it
        python = find_python(image, files)
    assert (python.path, python.version, python.full_version, python.glibc) == (
        "/usr/bin/python3.12", (3, 12), "3.12.7", (2, 39))


def test_oci_layout_base_with_official_image_env_is_read(tmp_path: Path) -> None:
    files = {"usr/local/bin/python3": ("link", "python3.13"), "usr/local/bin/python3.13": b"elf",
             "usr/local/lib/python3.13/os.py": b"", "lib/ld-musl-x86_64.so.1": b"\x001.2.5\x00"}
    layout = tmp_path / "layout"
    layer = gzip.compress(_tar_bytes(files), mtime=0)
    layer_descriptor = oci.write_blob(layout, layer, oci.OCI_LAYER_GZIP)
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "PYTHON_VERSION=3.13.1"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(_tar_bytes(files)).hexdigest()]}}
    config_descriptor = oci.write_blob(layout, oci.canonical_json(config), oci.OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "config": config_descriptor.to_json(),
                "layers": [layer_descriptor.to_json()]}
    oci.write_index(layout, oci.write_blob(layout, oci.canonical_json(manifest), oci.OCI_MANIFEST), ["py:3.13"])
    with oci.open_local_base(f"oci:{layout}:3.13") as image:
        assert image is not None
        python = find_python(image, scan(image))
    assert (python.path, python.full_version, python.musl, python.glibc) == (
        "/usr/local/bin/python3.13", "3.13.1", (1, 2), None)


def test_base_without_python_is_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _legacy_docker_save(tmp_path / "base.tar", [{"bin/sh": b"sh"}])
    (tmp_path / "proj").mkdir()
    code = main(["build", "image", str(tmp_path / "proj"), "--base", str(archive), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "no Python interpreter found in the base image" in err and "--base-python" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- end to end on the Debian base with the real tools ----------------------------------------------------------


def _need(*tools: str) -> None:
    why = oci_base.unavailable()
    if why:
        pytest.skip(why)
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


APP = "def main():\n    import bigdep, smalldep\n    print('svc answers', smalldep.VALUE, len(bigdep.BLOB))\n"


@dataclass
class Built:
    layout: Path
    report: dict[str, Any]

    @property
    def digest(self) -> str:
        return str(self.report["digest"])

    @property
    def layer_digests(self) -> list[str]:
        return [x["digest"] for x in self.report["layers"]]


@dataclass
class Scenario:
    project: Path
    root: Path
    cache: Path
    index_url: str

    def build(self, name: str, *extra: str, cache: Optional[Path] = None, base: Optional[str] = None,
              tag: str = "svc:1.0") -> Built:
        out = self.root / name
        argv = ["build", "image", str(self.project), "--base", base or f"oci:{oci_base.base_layout()}:{oci_base.TAG}",
                "-o", str(out), "--tag", tag, "--big-layer-mb", "0.5", "--cache-dir",
                str(cache or self.cache), "--revision", "", "--json", *extra]
        capture = io.StringIO()
        import contextlib

        with contextlib.redirect_stdout(capture):
            code = main(argv)
        assert code == 0
        return Built(out, json.loads(capture.getvalue()))


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@pytest.fixture(scope="module")
def scenario(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    _need("skopeo", "umoci", "unshare", "chroot")
    oci_base.base_layout()
    root = tmp_path_factory.mktemp("image")
    index = Index(server, root / "index")
    server.serve_tree(index.root)
    big = index.wheel("bigdep", "1.0", {"bigdep/__init__.py": b"BLOB = " + repr("x" * (MB)).encode() + b"\n"})
    small = index.wheel("smalldep", "2.0", {"smalldep/__init__.py": b"VALUE = 'small'\n"})
    other = index.wheel("otherdep", "3.0")
    project = root / "svc"
    for relative, data in sdist_members("svc", "1.0", {"svc/__init__.py": APP.encode()},
                                        entry_points={"console_scripts": {"svc": "svc:main"}},
                                        requires=["bigdep", "smalldep", "otherdep"]).items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_bytes(data)
    write_lock(project, [{"name": "svc", "version": "1.0", "directory": {"path": ".", "editable": False}},
                         pkg(big), pkg(small), pkg(other)])
    return Scenario(project, root, root / "cache", index.simple)


@pytest.fixture(scope="module")
def first(scenario: Scenario) -> Built:
    return scenario.build("first")


def test_image_layers_are_ordered_with_the_application_last(first: Built) -> None:
    names = [x["name"] for x in first.report["layers"]]
    assert names == ["venv", "dist:bigdep", "dependencies", "project:svc"]
    assert first.report["base"]["python"] == "/usr/bin/python3.11"
    assert first.report["base"]["glibc"] == "2.36"
    assert first.report["entrypoint"] == ["/opt/venv/bin/svc"]


def test_skopeo_reads_and_copies_the_layout(first: Built, tmp_path: Path) -> None:
    inspected = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{first.layout}:1.0"], capture_output=True,
                                          text=True, check=True).stdout)
    assert inspected["Digest"] == first.digest
    assert inspected["Layers"][-4:] == first.layer_digests
    assert "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in inspected["Env"]
    config = json.loads(subprocess.run(["skopeo", "inspect", "--config", f"oci:{first.layout}:1.0"],
                                       capture_output=True, text=True, check=True).stdout)
    assert config["config"]["Entrypoint"] == ["/opt/venv/bin/svc"]
    assert len(config["history"]) == len(config["rootfs"]["diff_ids"])
    copied = subprocess.run(["skopeo", "copy", "--quiet", f"oci:{first.layout}:1.0", f"oci:{tmp_path / 'copy'}:x"],
                            capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr  # skopeo checks every blob against its digest
    assert json.loads(subprocess.run(["skopeo", "inspect", f"oci:{tmp_path / 'copy'}:x"], capture_output=True,
                                     text=True, check=True).stdout)["Digest"] == first.digest


def test_unpacked_image_runs_its_entry_point_with_valid_bytecode(first: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    unpacked = subprocess.run(["umoci", "unpack", "--image", f"{first.layout}:1.0", str(bundle)],
                              capture_output=True, text=True)
    assert unpacked.returncode == 0, unpacked.stderr
    rootfs = bundle / "rootfs"
    ran = debian_root.chroot_run(rootfs, "/opt/venv/bin/svc")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"svc answers small {MB}"
    verbose = debian_root.chroot_run(rootfs, "/opt/venv/bin/python", "-v", "-c", "import svc, smalldep, bigdep")
    assert "bytecode is stale" not in verbose.stderr
    assert "code object from '/opt/venv/lib/python3.11/site-packages/svc/__pycache__/" in verbose.stderr
    assert "code object from '/opt/venv/lib/python3.11/site-packages/bigdep/__pycache__/" in verbose.stderr


def test_building_again_gives_the_same_digest_even_without_the_layer_cache(scenario: Scenario, first: Built) -> None:
    again = scenario.build("again")
    assert again.digest == first.digest
    assert all(x["reused"] for x in again.report["layers"])
    fresh = scenario.build("fresh", cache=scenario.root / "other-cache")  # compressed anew, staged anew
    assert not any(x["reused"] for x in fresh.report["layers"])
    assert fresh.digest == first.digest
    assert (fresh.layout / "index.json").read_bytes() == (first.layout / "index.json").read_bytes()


@pytest.mark.parametrize("after", [0.0, 0.3])
def test_sigkill_while_layers_are_written_then_a_rerun_converges(
    scenario: Scenario, first: Built, tmp_path: Path, after: float
) -> None:
    """Killed while a layer blob is being written (or just after): the cache stays consistent, the killed
    run's work directory goes away on the next run, and the next run gives the same image."""
    import glob
    import signal
    import sys
    import time

    cache, out = tmp_path / "cache", tmp_path / "out" / "image"
    argv = ["build", "image", str(scenario.project), "--base", f"oci:{oci_base.base_layout()}:{oci_base.TAG}",
            "-o", str(out), "--tag", "svc:1.0", "--big-layer-mb", "0.5", "--cache-dir", str(cache),
            "--revision", "", "-q"]
    process = subprocess.Popen([sys.executable, "-m", "lading", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    pattern = str(tmp_path / "out" / ".lading-image-*" / "blobs" / "sha256" / ".tmp-*")
    deadline = time.monotonic() + 120
    while not glob.glob(pattern) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert process.poll() is None, "the build ended before a layer was being written"
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if out.exists():  # the kill came after the rename: then it is the whole image, never a half one
        index = json.loads((out / "index.json").read_text())
        assert index["manifests"][0]["digest"] == first.digest
    assert _quiet_main("cache", "verify", "--cache-dir", str(cache))[0] == 0
    code, printed = _quiet_main(*argv[:-1], "--json")
    assert code == 0 and json.loads(printed)["digest"] == first.digest
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["image"]
    assert _quiet_main("cache", "verify", "--cache-dir", str(cache))[0] == 0


def _quiet_main(*argv: str) -> tuple[int, str]:
    import contextlib

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = main(list(argv))
    return code, captured.getvalue()


def test_changing_one_application_file_changes_only_the_application_layer(scenario: Scenario, first: Built) -> None:
    source = scenario.project / "svc" / "__init__.py"
    source.write_text(APP + "# one more line\n")
    try:
        changed = scenario.build("changed")
    finally:
        source.write_text(APP)
    assert changed.digest != first.digest
    assert changed.layer_digests[:-1] == first.layer_digests[:-1]
    assert changed.layer_digests[-1] != first.layer_digests[-1]
    assert [x["reused"] for x in changed.report["layers"]] == [True, True, True, False]


def test_docker_archive_is_taken_by_skopeo(scenario: Scenario, first: Built, tmp_path: Path) -> None:
    archive = tmp_path / "svc.tar"
    built = scenario.build("with-archive", "--docker-archive", str(archive))
    assert built.digest == first.digest
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {"oci-layout", "index.json", "manifest.json", "repositories"} <= set(names)
    assert manifest[0]["RepoTags"] == ["svc:1.0"]
    inspected = json.loads(subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"], capture_output=True,
                                          text=True, check=True).stdout)
    # a docker archive names its layers by their uncompressed digests (the diff_ids)
    assert inspected["Layers"][-4:] == [x["diff_id"] for x in first.report["layers"]]
    copied = subprocess.run(["skopeo", "copy", "--quiet", f"docker-archive:{archive}", f"oci:{tmp_path / 'c'}:x"],
                            capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr
    # and the archive is itself a base lading reads
    with oci.open_local_base(str(archive)) as image:
        assert image is not None and image.manifest_digest == first.digest


def test_base_pulled_from_a_registry_and_pushes_upload_only_the_changed_layer(
    scenario: Scenario, tmp_path: Path
) -> None:
    from tests import registry as test_registry

    why = test_registry.unavailable()
    if why:
        pytest.skip(why)
    with test_registry.running_registry(tmp_path / "registry") as running:
        base_ref = f"{running.host}/debian:bookworm"
        copied = subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                                 f"oci:{oci_base.base_layout()}:{oci_base.TAG}", f"docker://{base_ref}"],
                                capture_output=True, text=True)
        assert copied.returncode == 0, copied.stderr
        target = f"{running.host}/svc:1.0"
        first = scenario.build("pushed", "--push", base=base_ref, tag=target)
        assert running.tag_digest("svc", "1.0") == first.digest
        pushed = first.report["pushed"][0]
        assert pushed["uploaded_bytes"] >= sum(x["size"] for x in first.report["layers"])
        assert pushed["mounted_blobs"] == 1  # the base layer, from the base's repository
        source = scenario.project / "svc" / "__init__.py"
        source.write_text(APP + "# a one-line change\n")
        try:
            second = scenario.build("pushed-again", "--push", base=base_ref, tag=target)
        finally:
            source.write_text(APP)
        config_size = json.loads(subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{target}"],
            capture_output=True, text=True, check=True).stdout)["config"]["size"]
        assert running.tag_digest("svc", "1.0") == second.digest != first.digest
        assert second.report["pushed"][0]["uploaded_bytes"] == second.report["layers"][-1]["size"] + config_size


def test_add_with_build_relocks_and_rebuilds_the_configured_image(scenario: Scenario, tmp_path: Path) -> None:
    """PipFlow's promise without a Docker daemon: one `lading add --build` takes a dependency from request to
    a rebuilt image ([tool.lading.image] in pyproject.toml)."""
    project = tmp_path / "svc"
    shutil.copytree(scenario.project, project)
    (project / "pylock.toml").unlink()
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert ', "otherdep"]' in text
    pyproject.write_text(text.replace(', "otherdep"]', "]") + textwrap.dedent(f"""
        [tool.lading.image]
        base = "oci:{oci_base.base_layout()}:{oci_base.TAG}"
        output = "image"
        tag = ["svc:2.0"]
        big-layer-mb = 0.5
        revision = ""
        cache-dir = "{scenario.cache}"
        """))
    code, printed = _quiet_main("add", "otherdep", "--build", "--json", "--project", str(project),
                                "--index-url", scenario.index_url)
    assert code == 0, printed
    report = json.loads(printed)
    assert [b["kind"] for b in report["builds"]] == ["image"] and report["builds"][0]["exit"] == 0
    index = json.loads((project / "image" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "2.0"
    manifest = json.loads((project / "image" / "blobs" / "sha256" /
                           index["manifests"][0]["digest"].split(":", 1)[1]).read_text())
    assert len(manifest["layers"]) >= 3  # base + dependencies + the project
