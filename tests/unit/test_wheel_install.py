"""Unpacking wheels into a cache tree (and refusing hostile ones), installing trees into a scheme."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import py_compile
import stat
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Optional

import pytest

from lading.install import InstallError, WheelError
from lading.install.installed import InstalledDist
from lading.install.link import Linker
from lading.install.paths import InstallPaths
from lading.install.records import parse_record
from lading.install.wheel import (
    MANIFEST_NAME,
    PYC_MARKER_PREFIX,
    PYC_RECORD_PREFIX,
    UnpackedWheel,
    UnpackLimits,
    install,
    unpack,
)
from tests.wheelmaker import (
    Entry,
    make_wheel,
    record_text,
    wheel_entries,
    write_zip,
    zip_info,
)

TAG = sys.implementation.cache_tag


@pytest.fixture
def paths(tmp_path: Path) -> InstallPaths:
    env = tmp_path / "env"
    return InstallPaths(
        purelib=env / "lib" / "site-packages",
        platlib=env / "lib64" / "site-packages",
        scripts=env / "bin",
        data=env,
        headers=env / "include" / "site",
    )


def unpacked_from(wheel: Path, tmp_path: Path, **kwargs: object) -> UnpackedWheel:
    return unpack(wheel, tmp_path / "cache" / wheel.name, **kwargs)  # type: ignore[arg-type]


def do_install(
    unpacked: UnpackedWheel,
    paths: InstallPaths,
    *,
    mode: str = "auto",
    requested: bool = True,
    direct_url: Optional[Mapping[str, object]] = None,
    bytecode_tag: Optional[str] = None,
    interpreter: str = sys.executable,
) -> InstalledDist:
    return install(
        unpacked,
        paths,
        interpreter=interpreter,
        linker=Linker(mode),
        requested=requested,
        direct_url=direct_url,
        bytecode_tag=bytecode_tag,
    )


def assert_record_matches_disk(dist: InstalledDist) -> list[Path]:
    """Every RECORD line names an existing file with that sha256 and size; returns the files."""
    assert dist.record is not None
    entries = parse_record(dist.record.read_text())
    assert entries == list(dist.written)
    assert entries[-1].path.endswith("/RECORD") and entries[-1].hash == "" and entries[-1].size is None
    files = []
    for entry in entries[:-1]:
        path = (dist.location / entry.path).resolve()
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert entry.hash == f"sha256={digest}", entry.path
        assert entry.size == len(data), entry.path
        files.append(path)
    files.append(dist.record.resolve())
    return files


def all_files(root: Path) -> set[Path]:
    return {path.resolve() for path in root.rglob("*") if path.is_file()}


# -- installing ----------------------------------------------------------------------------------------------


def test_pure_wheel_lands_in_purelib_with_metadata_files_and_a_record_matching_disk(
    tmp_path: Path, paths: InstallPaths
) -> None:
    wheel = make_wheel(
        tmp_path / "dist",
        "Pure.Pkg",
        "1.2.0",
        {"pure_pkg/__init__.py": b"X = 1\n", "pure_pkg/sub/mod.py": b"Y = 2\n", "pure_pkg/data.txt": b"data"},
    )
    unpacked = unpacked_from(wheel, tmp_path)
    assert unpacked.name == "pure-pkg"
    assert unpacked.root_is_purelib
    assert unpacked.dist_info == "pure_pkg-1.2.0.dist-info"

    dist = do_install(unpacked, paths)

    site = paths.purelib
    assert (site / "pure_pkg" / "sub" / "mod.py").read_bytes() == b"Y = 2\n"
    assert (site / "pure_pkg-1.2.0.dist-info" / "INSTALLER").read_text() == "lading\n"
    assert (site / "pure_pkg-1.2.0.dist-info" / "REQUESTED").exists()
    assert not (site / "pure_pkg-1.2.0.dist-info" / "direct_url.json").exists()
    assert not paths.platlib.exists()
    listed = assert_record_matches_disk(dist)
    assert set(listed) == all_files(paths.data)  # nothing on disk that RECORD does not list
    assert dist.name == "pure-pkg" and dist.version == "1.2.0" and dist.requested


def test_manifest_lets_an_unpacked_tree_be_reread_with_one_file(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "reread", "3.0", entry_points={"console_scripts": {"rr": "reread:main"}}, data={"data": {"a": b"1"}}
    )
    unpacked = unpacked_from(wheel, tmp_path)
    assert (unpacked.root / MANIFEST_NAME).is_file()
    assert UnpackedWheel.load(unpacked.root) == unpacked
    (unpacked.root / MANIFEST_NAME).write_text("{}")
    with pytest.raises(WheelError, match="manifest"):
        UnpackedWheel.load(unpacked.root)


def test_root_is_purelib_false_puts_the_extension_into_platlib(tmp_path: Path, paths: InstallPaths) -> None:
    so_bytes = os.urandom(4096)
    wheel = make_wheel(
        tmp_path,
        "native",
        "0.1",
        {"native/__init__.py": b"", "native/mod.cpython-311-x86_64-linux-gnu.so": so_bytes},
        purelib=False,
        tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        executable=["native/mod.cpython-311-x86_64-linux-gnu.so"],
    )
    unpacked = unpacked_from(wheel, tmp_path)
    assert not unpacked.root_is_purelib
    assert "cp311-cp311-manylinux2014_x86_64" in unpacked.tags

    dist = do_install(unpacked, paths)

    installed = paths.platlib / "native" / "mod.cpython-311-x86_64-linux-gnu.so"
    assert installed.read_bytes() == so_bytes
    assert os.stat(installed).st_mode & 0o111, "the executable bit survives unpack and link"
    assert (paths.platlib / "native-0.1.dist-info" / "RECORD").is_file()
    assert not paths.purelib.exists()
    assert_record_matches_disk(dist)


GREETER = b'''\
import sys


def main():
    print("hello from", sys.executable)
    return 3


class App:
    @staticmethod
    def run():
        print("gui")
'''


def test_entry_point_scripts_run_with_the_target_interpreter_and_import_the_module(
    tmp_path: Path, paths: InstallPaths
) -> None:
    wheel = make_wheel(
        tmp_path,
        "greeter",
        "1.0",
        {"greeter/__init__.py": b"", "greeter/cli.py": GREETER},
        entry_points={
            "console_scripts": {"greet": "greeter.cli:main"},
            "gui_scripts": {"greet-gui": "greeter.cli:App.run"},
            "other_group": {"ignored": "greeter.cli:main"},
        },
    )
    unpacked = unpacked_from(wheel, tmp_path)
    assert [(e.name, e.gui) for e in unpacked.entry_points] == [("greet", False), ("greet-gui", True)]
    dist = do_install(unpacked, paths)

    script = paths.scripts / "greet"
    assert script.read_text().splitlines()[0] == f"#!{sys.executable}"
    assert os.stat(script).st_mode & stat.S_IXUSR
    assert not (paths.scripts / "ignored").exists()
    env = {**os.environ, "PYTHONPATH": str(paths.purelib)}
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == f"hello from {sys.executable}"
    gui = subprocess.run([str(paths.scripts / "greet-gui")], env=env, capture_output=True, text=True, check=True)
    assert gui.stdout.strip() == "gui"
    assert_record_matches_disk(dist)


def test_long_or_spaced_interpreter_paths_use_the_sh_exec_trick(tmp_path: Path, paths: InstallPaths) -> None:
    odd = tmp_path / ("a dir with spaces " + "x" * 130) / "python"
    odd.parent.mkdir()
    odd.symlink_to(sys.executable)
    wheel = make_wheel(
        tmp_path,
        "spaced",
        "1.0",
        {"spaced.py": b"import sys\ndef main():\n    print(sys.argv[1:])\n"},
        entry_points={"console_scripts": {"spaced": "spaced:main"}},
        data={"scripts": {"raw-tool": b"#!python\nimport sys\nprint('raw', sys.argv[1:])\n"}},
    )
    do_install(unpacked_from(wheel, tmp_path), paths, interpreter=str(odd))
    env = {**os.environ, "PYTHONPATH": str(paths.purelib)}
    for name, expected in (("spaced", "['a b', 'c']"), ("raw-tool", "raw ['a b', 'c']")):
        script = paths.scripts / name
        assert script.read_text().startswith("#!/bin/sh\n")
        result = subprocess.run([str(script), "a b", "c"], env=env, capture_output=True, text=True, check=True)
        assert result.stdout.strip() == expected


def test_data_directories_map_to_the_scheme_and_scripts_are_rewritten_real_copies(
    tmp_path: Path, paths: InstallPaths
) -> None:
    wheel = make_wheel(
        tmp_path,
        "datapkg",
        "2.0",
        {"datapkg/__init__.py": b""},
        purelib=False,
        tag="cp311-cp311-linux_x86_64",
        data={
            "scripts": {"tool": b"#!python\nimport sys\nprint('tool ran')\n", "plain.sh": b"#!/bin/sh\necho plain\n"},
            "data": {"share/datapkg/readme.txt": b"shared"},
            "headers": {"datapkg.h": b"int f(void);\n"},
            "purelib": {"datapkg_extra.py": b"EXTRA = True\n"},
        },
    )
    unpacked = unpacked_from(wheel, tmp_path)
    assert unpacked.data_dir == "datapkg-2.0.data"
    dist = do_install(unpacked, paths, mode="hardlink")

    assert (paths.data / "share" / "datapkg" / "readme.txt").read_text() == "shared"
    assert (paths.headers / "datapkg" / "datapkg.h").read_bytes() == b"int f(void);\n"
    assert (paths.purelib / "datapkg_extra.py").is_file()
    assert (paths.platlib / "datapkg" / "__init__.py").is_file()
    tool = paths.scripts / "tool"
    assert tool.read_text().splitlines()[0] == f"#!{sys.executable}"
    assert os.stat(tool).st_mode & stat.S_IXUSR
    assert os.stat(tool).st_nlink == 1, "a rewritten script is a new file, never a link into the cache"
    assert subprocess.run([str(tool)], capture_output=True, text=True, check=True).stdout == "tool ran\n"
    assert (paths.scripts / "plain.sh").read_text() == "#!/bin/sh\necho plain\n"
    assert os.stat(paths.scripts / "plain.sh").st_nlink == 1
    paths_in_record = {entry.path for entry in dist.written}
    assert "../../bin/tool" in paths_in_record
    assert "../../lib/site-packages/datapkg_extra.py" in paths_in_record
    listed = assert_record_matches_disk(dist)
    assert set(listed) == all_files(paths.data)


def test_only_bytecode_of_the_requested_tag_is_installed_and_recorded(tmp_path: Path, paths: InstallPaths) -> None:
    wheel = make_wheel(tmp_path, "bc", "1.0", {"bc/__init__.py": b"VALUE = 41 + 1\n", "bc/util.py": b"U = 1\n"})
    unpacked = unpacked_from(wheel, tmp_path)
    pycache = unpacked.root / "bc" / "__pycache__"
    for module in ("__init__", "util"):
        py_compile.compile(
            str(unpacked.root / "bc" / f"{module}.py"),
            cfile=str(pycache / f"{module}.{TAG}.pyc"),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
        )
    (pycache / "__init__.cpython-399.pyc").write_bytes(b"other interpreter")

    dist = do_install(unpacked, paths, bytecode_tag=TAG, mode="copy")

    installed = sorted(p.name for p in (paths.purelib / "bc" / "__pycache__").iterdir())
    assert installed == [f"__init__.{TAG}.pyc", f"util.{TAG}.pyc"]
    assert f"bc/__pycache__/util.{TAG}.pyc" in {entry.path for entry in dist.written}
    assert_record_matches_disk(dist)
    # The copied sources keep their mtime, so Python accepts the pyc instead of rewriting it.
    pyc = paths.purelib / "bc" / "__pycache__" / f"__init__.{TAG}.pyc"
    before = pyc.stat()
    subprocess.run(
        [sys.executable, "-c", "import bc; assert bc.VALUE == 42"],
        env={**os.environ, "PYTHONPATH": str(paths.purelib)},
        check=True,
    )
    after = pyc.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_without_a_bytecode_tag_no_pyc_is_installed(tmp_path: Path, paths: InstallPaths) -> None:
    wheel = make_wheel(tmp_path, "nobc", "1.0")
    unpacked = unpacked_from(wheel, tmp_path)
    (unpacked.root / "nobc" / "__pycache__").mkdir()
    (unpacked.root / "nobc" / "__pycache__" / f"__init__.{TAG}.pyc").write_bytes(b"x")
    do_install(unpacked, paths)
    assert not (paths.purelib / "nobc" / "__pycache__").exists()


def test_direct_url_is_written_and_requested_is_omitted_for_dependencies(tmp_path: Path, paths: InstallPaths) -> None:
    wheel = make_wheel(tmp_path, "dep", "1.0")
    direct = {"url": "file:///wheels/dep-1.0-py3-none-any.whl", "archive_info": {"hashes": {"sha256": "ab"}}}
    dist = do_install(unpacked_from(wheel, tmp_path), paths, requested=False, direct_url=direct)
    dist_info = paths.purelib / "dep-1.0.dist-info"
    assert not (dist_info / "REQUESTED").exists()
    assert json.loads((dist_info / "direct_url.json").read_text()) == direct
    assert dist.direct_url == direct and not dist.requested
    assert_record_matches_disk(dist)


def test_installing_again_over_an_interrupted_install_replaces_files(tmp_path: Path, paths: InstallPaths) -> None:
    wheel = make_wheel(tmp_path, "again", "1.0", entry_points={"console_scripts": {"again": "again:main"}})
    unpacked = unpacked_from(wheel, tmp_path)
    first = do_install(unpacked, paths, requested=True)
    assert first.record is not None
    first.record.unlink()  # as if killed before RECORD was written
    second = do_install(unpacked, paths, requested=False, mode="copy")
    assert not (second.dist_info / "REQUESTED").exists(), "a stale REQUESTED does not survive"
    listed = assert_record_matches_disk(second)
    assert set(listed) == all_files(paths.data)


def test_an_installer_error_names_the_package(tmp_path: Path, paths: InstallPaths) -> None:
    wheel = make_wheel(tmp_path, "broken-tree", "1.0")
    unpacked = unpacked_from(wheel, tmp_path)
    (unpacked.root / "broken_tree" / "__init__.py").unlink()  # a damaged cache tree
    with pytest.raises(InstallError) as caught:
        do_install(unpacked, paths)
    assert caught.value.package == "broken-tree 1.0"


# -- unpacking ------------------------------------------------------------------------------------------------


def test_parallel_unpack_gives_the_same_tree_as_serial(tmp_path: Path) -> None:
    files = {f"big/part{i}.bin": os.urandom(1 << 20) for i in range(10)}
    files["big/__init__.py"] = b""
    wheel = make_wheel(tmp_path, "big", "1.0", files)
    serial = unpack(wheel, tmp_path / "serial")
    parallel = unpack(wheel, tmp_path / "parallel", jobs=3)
    assert serial.files == parallel.files
    for name, data in files.items():
        assert (tmp_path / "parallel" / name).read_bytes() == data


def test_unpack_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "full", "1.0")
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "x").write_text("")
    with pytest.raises(InstallError, match="not empty"):
        unpack(wheel, tmp_path / "dest")


def _hostile(tmp_path: Path, mutate: Callable[[list[Entry]], list[Entry]], *, record_after: bool = False,
             filename: str = "evil-1.0-py3-none-any.whl", entry_points: Optional[dict[str, dict[str, str]]] = None,
             dist_name: str = "evil") -> Path:
    """A wheel whose members ``mutate`` changed; RECORD is computed after (or, ``record_after``, before)."""
    entries, record = wheel_entries(dist_name, "1.0", entry_points=entry_points)
    if record_after:
        record_bytes = record_text(entries, record)
        entries = mutate(entries)
    else:
        entries = mutate(entries)
        record_bytes = record_text(entries, record)
    entries.append((zip_info(record), record_bytes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate-name case
        return write_zip(tmp_path / filename, entries)


def _add(name: str, data: bytes = b"x", **info: int) -> Callable[[list[Entry]], list[Entry]]:
    return lambda entries: [(zip_info(name, **info), data), *entries]


def _replace_content(entries: list[Entry]) -> list[Entry]:
    return [(name, b"tampered" if str(getattr(name, "filename", name)).endswith(".py") else data)
            for name, data in entries]


def _patch_declared_size(path: Path, member: str, size: int) -> None:
    raw = bytearray(path.read_bytes())
    central = raw.rfind(member.encode()) - 46  # the central directory comes last; its name field is at 46
    assert raw[central : central + 4] == b"PK\x01\x02"
    raw[central + 24 : central + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


HOSTILE = {
    "parent-dir": (dict(mutate=_add("../x")), "'..'"),
    "nested-parent-dir": (dict(mutate=_add("evil/../../x")), "'..'"),
    "absolute": (dict(mutate=_add("/abs")), "absolute"),
    "drive-letter": (dict(mutate=_add("C:/x")), "absolute"),
    "backslash": (dict(mutate=_add("C:\\x")), "backslash"),
    "symlink": (dict(mutate=_add("evil/link", b"/etc/passwd", mode=0o777, kind=0o120000)), "symbolic link"),
    "device": (dict(mutate=_add("evil/dev", b"", mode=0o666, kind=0o020000)), "special file"),
    "duplicate": (dict(mutate=lambda e: [*e, e[0]]), "twice"),
    "record-hash-mismatch": (dict(mutate=_replace_content, record_after=True), "RECORD hash|RECORD says"),
    "not-in-record": (dict(mutate=lambda e: e, record_after=True), None),
    "wrong-dist-info": (dict(mutate=lambda e: e, dist_name="other"), "does not match"),
    "two-dist-infos": (dict(mutate=_add("extra-1.0.dist-info/METADATA")), "exactly one"),
    "entry-point-slash": (
        dict(mutate=lambda e: e, entry_points={"console_scripts": {"../../evil": "evil:main"}}),
        "not a plain file name",
    ),
    "entry-point-no-callable": (
        dict(mutate=lambda e: e, entry_points={"console_scripts": {"evil": "evil"}}),
        "names no callable",
    ),
    "reserved-name": (dict(mutate=_add(".lading-wheel.json")), "reserved"),
    "stray-data-dir": (dict(mutate=_add("evil-1.0.data/bin/x")), "must be in one of"),
    "file-and-dir-clash": (dict(mutate=_add("evil/__init__.py/x")), "same name"),
    "wheel-version-2": (
        dict(mutate=lambda e: [(n, b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n")
                               if str(getattr(n, "filename", n)).endswith("/WHEEL") else (n, d) for n, d in e]),
        "not supported",
    ),
    "no-root-is-purelib": (
        dict(mutate=lambda e: [(n, b"Wheel-Version: 1.0\n")
                               if str(getattr(n, "filename", n)).endswith("/WHEEL") else (n, d) for n, d in e]),
        "Root-Is-Purelib",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_wheels_are_refused_before_anything_is_published(tmp_path: Path, case: str) -> None:
    options, message = HOSTILE[case]
    if case == "not-in-record":
        # A member added after RECORD was computed.
        entries, record = wheel_entries("evil", "1.0")
        entries.append((zip_info(record), record_text(entries, record)))
        entries.append((zip_info("evil/sneaky.py"), b"import os\n"))
        wheel = write_zip(tmp_path / "evil-1.0-py3-none-any.whl", entries)
        message = "not listed in RECORD"
    else:
        wheel = _hostile(tmp_path, **options)  # type: ignore[arg-type]
    dest = tmp_path / "cache" / "tree"
    with pytest.raises(WheelError, match=message) as caught:
        unpack(wheel, dest)
    assert not dest.exists()
    assert caught.value.file == str(wheel)
    assert caught.value.package == "evil 1.0"
    assert caught.value.hint


def test_a_zip_bomb_by_declared_size_is_refused_from_the_central_directory(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "bomb", "1.0", {"bomb/__init__.py": b"", "bomb/blob.bin": b"\0" * 1000})
    _patch_declared_size(wheel, "bomb/blob.bin", 0xFFFFFF00)
    dest = tmp_path / "tree"
    with pytest.raises(WheelError, match=r"zip bomb|times"):
        unpack(wheel, dest)
    assert not dest.exists()


def test_a_highly_compressed_wheel_beyond_the_ratio_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "ratio", "1.0", {"ratio/__init__.py": b"", "ratio/zeros.bin": b"\0" * (4 << 20)})
    with pytest.raises(WheelError, match="times"):
        unpack(wheel, tmp_path / "tree", limits=UnpackLimits(ratio_slack=1 << 20))
    with pytest.raises(WheelError, match="limit"):
        unpack(wheel, tmp_path / "tree", limits=UnpackLimits(max_total_size=1 << 20))
    assert unpack(wheel, tmp_path / "tree").name == "ratio"  # within the default limits


def test_record_entries_for_missing_files_and_bad_lines_are_refused(tmp_path: Path) -> None:
    entries, record = wheel_entries("evil", "1.0")
    text = record_text(entries, record) + b"evil/ghost.py,sha256=AAAA,4\n"
    wheel = write_zip(tmp_path / "evil-1.0-py3-none-any.whl", [*entries, (zip_info(record), text)])
    with pytest.raises(WheelError, match="does not have"):
        unpack(wheel, tmp_path / "a")
    text = record_text(entries, record).replace(b"sha256=", b"md5=", 1)
    wheel = write_zip(tmp_path / "evil-1.0-py3-none-any.whl", [*entries, (zip_info(record), text)])
    with pytest.raises(WheelError, match="not accepted"):
        unpack(wheel, tmp_path / "b")


def test_a_file_that_is_not_a_zip_or_not_a_wheel_name_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "junk-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WheelError, match="zip"):
        unpack(bad, tmp_path / "a")
    with pytest.raises(WheelError, match="file name"):
        unpack(tmp_path / "junk.whl", tmp_path / "b")


def test_unpack_keeps_executable_bits(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "ex", "1.0", {"ex/__init__.py": b"", "ex/run.sh": b"#!/bin/sh\n"},
                       executable=["ex/run.sh"])
    unpacked = unpacked_from(wheel, tmp_path)
    assert os.stat(unpacked.root / "ex" / "run.sh").st_mode & 0o111
    assert not os.stat(unpacked.root / "ex" / "__init__.py").st_mode & 0o111
    assert [f.executable for f in unpacked.files if f.path == "ex/run.sh"] == [True]


def test_zip_members_are_read_with_their_declared_sizes(tmp_path: Path) -> None:
    # Sanity check of the test helper used above: the patched size is what zipfile reports.
    wheel = make_wheel(tmp_path, "sized", "1.0", {"sized/__init__.py": b"", "sized/b.bin": b"\0" * 10})
    _patch_declared_size(wheel, "sized/b.bin", 12345)
    with zipfile.ZipFile(wheel) as opened:
        assert opened.getinfo("sized/b.bin").file_size == 12345


def test_complete_bytecode_gets_a_pyc_record_so_later_installs_need_not_hash(tmp_path: Path) -> None:
    from lading.install import bytecode

    assert bytecode.MARKER_PREFIX == PYC_MARKER_PREFIX
    wheel = make_wheel(tmp_path, "side", "1.0", {"side/__init__.py": b"A = 1\n", "side/x/y.py": b"B = 2\n"})
    unpacked = unpacked_from(wheel, tmp_path)
    for source in ("side/__init__.py", "side/x/y.py"):
        py_compile.compile(str(unpacked.root / source), doraise=True)
    sidecar = unpacked.root / f"{PYC_RECORD_PREFIX}{TAG}.json"

    def env(name: str) -> InstallPaths:
        base = tmp_path / name
        return InstallPaths(base / "site", base / "site", base / "bin", base, base / "include")

    without_marker = do_install(unpacked, env("a"), bytecode_tag=TAG)
    assert not sidecar.exists(), "no pyc record while the tree's bytecode may still be incomplete"
    (unpacked.root / f"{PYC_MARKER_PREFIX}{TAG}").write_text("")
    first = do_install(unpacked, env("b"), bytecode_tag=TAG)
    assert sidecar.is_file()
    second = do_install(unpacked, env("c"), bytecode_tag=TAG)
    assert [e.hash for e in without_marker.written] == [e.hash for e in first.written] == [
        e.hash for e in second.written
    ]
    assert f"side/x/__pycache__/y.{TAG}.pyc" in {e.path for e in second.written}
    assert_record_matches_disk(second)


def test_hex_digests_in_record_are_accepted_as_some_published_wheels_use_them(tmp_path: Path) -> None:
    entries, record = wheel_entries("hexrec", "1.0")
    lines = []
    for name, data in entries:
        path = name.filename if isinstance(name, zipfile.ZipInfo) else name
        lines.append(f"{path},sha256={hashlib.sha256(data).hexdigest()},{len(data)}")
    text = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    wheel = write_zip(tmp_path / "hexrec-1.0-py3-none-any.whl", [*entries, (zip_info(record), text)])
    assert unpack(wheel, tmp_path / "ok").name == "hexrec"
    tampered = text.replace(hashlib.sha256(entries[0][1]).hexdigest().encode(), b"0" * 64)
    wheel = write_zip(tmp_path / "hexrec-1.0-py3-none-any.whl", [*entries, (zip_info(record), tampered)])
    with pytest.raises(WheelError, match="does not match"):
        unpack(wheel, tmp_path / "bad")
