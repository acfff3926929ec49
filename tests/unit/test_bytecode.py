"""Bytecode for unpacked cache trees: valid for linked installs, skipped bad files, locks, warm path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lading.install import InstallError, bytecode
from lading.install.bytecode import CompileJob, compile_trees, is_compiled, marker
from lading.target import Interpreter, current_interpreter, interpreter

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def _pyenv(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python"))
    if not found:
        pytest.skip(f"no pyenv Python {version} here")
    return found[-1]


def _tree(root: Path, modules: int = 6) -> CompileJob:
    """A small unpacked-wheel-like tree: a package, a subpackage, a top-level module."""
    files: dict[str, str] = {
        "demo/__init__.py": "from demo import core\n",
        "demo/core.py": "import json\nVALUE = json.dumps({'a': 1})\n",
        "demo/sub/__init__.py": "",
        "top_module.py": "def hello():\n    return 'hi'\n",
        "demo-1.0.dist-info/METADATA": "Name: demo\n",
    }
    for i in range(modules):
        files[f"demo/sub/m{i}.py"] = f"class C{i}:\n    def f(self, x):\n        return x * {i}\n"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # An mtime in the past, as unpacked wheels have: the pyc must record it, not "now".
    for name in files:
        os.utime(root / name, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    return CompileJob(root, [name for name in files if name.endswith(".py")] + ["demo-1.0.dist-info/METADATA"])


def _install(job: CompileJob, site: Path, how: str) -> None:
    """Put the tree into SITE as the installer does: every file (pycs included) linked or copied."""
    for directory, _, names in os.walk(job.root):
        for name in names:
            if name.startswith(".lading-"):
                continue
            source = Path(directory) / name
            destination = site / source.relative_to(job.root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if how == "hardlink":
                os.link(source, destination)
            elif how == "copy2":
                shutil.copy2(source, destination)
            else:  # a copy that does not keep mtimes (what a reflink without utime gives)
                shutil.copyfile(source, destination)


_CHECK = r"""
import importlib, importlib.util, json, os, sys
site = sys.argv[1]
sys.path.insert(0, site)
names = json.loads(sys.argv[2])
def snapshot():
    out = {}
    for d, _, files in os.walk(site):
        for f in files:
            if f.endswith(".pyc"):
                p = os.path.join(d, f)
                st = os.stat(p)
                with open(p, "rb") as fh:
                    out[p] = [st.st_ino, st.st_mtime_ns, fh.read().hex()]
    return out
before = snapshot()
from importlib._bootstrap_external import _classify_pyc, _validate_timestamp_pyc
valid = {}
for name in names:
    module = importlib.import_module(name)
    source = module.__file__
    cached = module.__cached__
    with open(cached, "rb") as fh:
        data = fh.read()
    st = os.stat(source)
    flags = _classify_pyc(data, name, {})
    _validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, name, {})
    valid[name] = [flags, data[:4] == importlib.util.MAGIC_NUMBER, cached]
after = snapshot()
print(json.dumps({"before": before, "after": after, "valid": valid}))
"""

_MODULES = ["demo", "demo.core", "demo.sub", "demo.sub.m0", "demo.sub.m5", "top_module"]


@pytest.mark.parametrize("version", ["3.9", "3.11", "3.13"])
@pytest.mark.parametrize("how", ["hardlink", "copy2"])
def test_cached_pycs_stay_valid_in_a_linked_install(tmp_path: Path, version: str, how: str) -> None:
    python = _pyenv(version)
    target = interpreter(str(python))
    job = _tree(tmp_path / "cache" / "tree")
    compile_trees([job], target, workers=2)
    assert is_compiled(job.root, str(target.cache_tag))
    site = tmp_path / "site-packages"
    _install(job, site, how)
    done = subprocess.run(
        [str(python), "-I", "-c", _CHECK, str(site), json.dumps(_MODULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # Python did not rewrite a single pyc on first import (it would if one were stale or foreign).
    assert report["before"] == report["after"]
    assert len(report["before"]) == len(_MODULES) + 4  # every module, not only the imported ones
    for name in _MODULES:
        flags, magic_ok, cached = report["valid"][name]
        assert flags == 0  # timestamp-based
        assert magic_ok
        assert cached.startswith(str(site))
        assert f".{target.cache_tag}.pyc" in cached


def test_a_copy_that_loses_mtimes_makes_python_rewrite_the_pycs(tmp_path: Path) -> None:
    """The control for the test above: the check does see stale pycs. Whatever links or copies
    files into an environment must keep the source mtime (clone + utime, copy2)."""
    python = _pyenv("3.11")
    target = interpreter(str(python))
    job = _tree(tmp_path / "cache" / "tree")
    compile_trees([job], target, workers=2)
    site = tmp_path / "site-packages"
    _install(job, site, "copyfile")
    done = subprocess.run(
        [str(python), "-I", "-c", _CHECK, str(site), json.dumps(_MODULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rewritten = [p for p in report["before"] if report["before"][p] != report["after"][p]]
    assert sorted(rewritten) == sorted(report["valid"][name][2] for name in _MODULES)


def test_pyc_header_records_source_mtime_and_size(tmp_path: Path) -> None:
    job = _tree(tmp_path / "tree")
    found = current_interpreter()
    compile_trees([job], found, workers=1)
    pyc = job.root / "demo" / "core.py"
    cached = job.root / "demo" / "__pycache__" / f"core.{found.cache_tag}.pyc"
    data = cached.read_bytes()
    stat = pyc.stat()
    assert int.from_bytes(data[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
    assert int.from_bytes(data[12:16], "little") == stat.st_size
    # The display name is the path inside the tree, not the cache location.
    import marshal

    code = marshal.loads(data[16:])
    assert code.co_filename == "demo/core.py"


def test_worker_writes_only_the_requested_pycs(tmp_path: Path) -> None:
    job = _tree(tmp_path / "tree")
    before = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    found = current_interpreter()
    compile_trees([job], found, workers=2)
    after = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    added = after - before
    expected_pycs = {
        Path("tree") / Path(name).parent / "__pycache__" / f"{Path(name).stem}.{found.cache_tag}.pyc"
        for name in job.files
        if name.endswith(".py")
    }
    pycache_dirs = {p.parent for p in expected_pycs}
    assert added == expected_pycs | pycache_dirs | {
        Path("tree") / f".lading-pyc-{found.cache_tag}",
        Path("tree.lock"),
    }


def test_source_that_does_not_compile_is_skipped_and_the_tree_still_marked(tmp_path: Path) -> None:
    job = _tree(tmp_path / "tree")
    (job.root / "demo" / "py2only.py").write_text("print 'hello'\n")
    (job.root / "demo" / "nul.py").write_bytes(b"x = 1\0\n")
    job = CompileJob(job.root, [*job.files, "demo/py2only.py", "demo/nul.py"])
    found = current_interpreter()
    compile_trees([job], found, workers=2)
    pycache = job.root / "demo" / "__pycache__"
    assert not (pycache / f"py2only.{found.cache_tag}.pyc").exists()
    assert not (pycache / f"nul.{found.cache_tag}.pyc").exists()
    assert (pycache / f"core.{found.cache_tag}.pyc").exists()
    assert is_compiled(job.root, str(found.cache_tag))


def test_warm_trees_start_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [_tree(tmp_path / f"tree{i}") for i in range(3)]
    found = current_interpreter()
    compile_trees(jobs, found, workers=2)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.pyc")}

    def refuse(self: object, wanted: int) -> object:
        raise AssertionError("a worker was started for compiled trees")

    monkeypatch.setattr(bytecode._Pool, "_start", refuse)
    compile_trees(jobs, found, workers=2)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.pyc")} == stamps


def test_each_cache_tag_is_compiled_separately(tmp_path: Path) -> None:
    job = _tree(tmp_path / "tree")
    first = interpreter(str(_pyenv("3.9")))
    second = interpreter(str(_pyenv("3.13")))
    compile_trees([job], first, workers=2)
    assert is_compiled(job.root, "cpython-39") and not is_compiled(job.root, "cpython-313")
    compile_trees([job], second, workers=2)
    assert is_compiled(job.root, "cpython-313")
    assert (job.root / "demo" / "__pycache__" / "core.cpython-39.pyc").exists()
    assert (job.root / "demo" / "__pycache__" / "core.cpython-313.pyc").exists()


def test_interpreter_without_cache_tag_compiles_nothing(tmp_path: Path) -> None:
    from dataclasses import replace

    job = _tree(tmp_path / "tree")
    compile_trees([job], replace(current_interpreter(), cache_tag=None), workers=2)
    assert not list(tmp_path.rglob("*.pyc"))


def test_unwritable_pycache_is_an_error_and_leaves_the_tree_unmarked(tmp_path: Path) -> None:
    job = _tree(tmp_path / "tree")
    (job.root / "demo" / "__pycache__").write_text("not a directory")
    found = current_interpreter()
    with pytest.raises(InstallError, match="compiling bytecode"):
        compile_trees([job], found, workers=2)
    assert not is_compiled(job.root, str(found.cache_tag))


def test_a_tree_locked_by_another_process_is_waited_for(tmp_path: Path) -> None:
    jobs = [_tree(tmp_path / "a"), _tree(tmp_path / "b")]
    found = current_interpreter()
    tag = str(found.cache_tag)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            compile_trees(jobs, found, workers=2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with bytecode._tree_lock(jobs[0].root) as held:
        assert held
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 30
        while not is_compiled(jobs[1].root, tag) and time.monotonic() < deadline:
            time.sleep(0.01)
        # The free tree was compiled meanwhile; the held one waits for its lock.
        assert is_compiled(jobs[1].root, tag)
        time.sleep(0.1)
        assert not is_compiled(jobs[0].root, tag)
    thread.join(30)
    assert not errors
    assert is_compiled(jobs[0].root, tag)


def test_two_processes_compiling_the_same_trees(tmp_path: Path) -> None:
    jobs = [_tree(tmp_path / f"t{i}", modules=40) for i in range(4)]
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from lading.install.bytecode import CompileJob, compile_trees\n"
        "from lading.target import current_interpreter\n"
        "jobs = [CompileJob(Path(r), f) for r, f in json.loads(sys.argv[1])]\n"
        "compile_trees(jobs, current_interpreter(), workers=2)\n"
    )
    argument = json.dumps([[str(j.root), list(j.files)] for j in jobs])
    processes = [subprocess.Popen([sys.executable, "-c", script, argument]) for _ in range(2)]
    assert [p.wait(60) for p in processes] == [0, 0]
    tag = str(current_interpreter().cache_tag)
    for job in jobs:
        assert marker(job.root, tag).exists()
        for name in job.files:
            if name.endswith(".py"):
                source = job.root / name
                assert (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or ".pyc." in p.name]


def test_pypy_gets_its_own_pycs(tmp_path: Path) -> None:
    pypy = shutil.which("pypy3")
    if pypy is None:
        pytest.skip("no pypy3 here")
    found: Interpreter = interpreter(pypy)
    job = _tree(tmp_path / "tree")
    compile_trees([job], found, workers=2)
    assert found.cache_tag and found.cache_tag.startswith("pypy")
    assert (job.root / "demo" / "__pycache__" / f"core.{found.cache_tag}.pyc").exists()


def test_a_flood_of_syntax_warnings_does_not_stall_the_workers(tmp_path: Path) -> None:
    python = _pyenv("3.13")  # 3.12+ turns invalid escapes into SyntaxWarnings on stderr
    root = tmp_path / "tree"
    (root / "noisy").mkdir(parents=True)
    line = 'x = "\\d\\w\\s \\q"\n' * 40
    names = []
    for i in range(300):
        (root / "noisy" / f"n{i}.py").write_text(line)
        names.append(f"noisy/n{i}.py")
    found = interpreter(str(python))
    thread = threading.Thread(target=compile_trees, args=([CompileJob(root, names)], found), kwargs={"workers": 2})
    thread.start()
    thread.join(120)
    assert not thread.is_alive()
    assert is_compiled(root, "cpython-313")
    assert len(list((root / "noisy" / "__pycache__").glob("*.pyc"))) == 300


def test_a_worker_that_dies_is_an_install_error_with_its_last_words(tmp_path: Path) -> None:
    from dataclasses import replace

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Fatal Python error: boom' >&2\nexit 1\n")
    fake.chmod(0o755)
    job = _tree(tmp_path / "tree")
    broken = replace(current_interpreter(), executable=fake)
    with pytest.raises(InstallError, match="worker stopped: Fatal Python error: boom"):
        compile_trees([job], broken, workers=2)
    assert not is_compiled(job.root, str(broken.cache_tag))


def test_pycs_are_the_same_bytes_whatever_the_hash_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python before 3.11 marshals set constants in hash order: lading fixes the seed so that artifacts
    built for it are reproducible."""
    python = interpreter(str(_pyenv("3.9")))
    source = 'def f(x):\n    return x in {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"}\n'
    outputs = []
    for seed in ("1", "2", "3"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        root = tmp_path / seed
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "m.py").write_text(source)
        os.utime(root / "pkg" / "m.py", (1_000_000_000, 1_000_000_000))
        compile_trees([CompileJob(root, ("pkg/m.py",))], python)
        [pyc] = (root / "pkg" / "__pycache__").glob("m.*.pyc")
        outputs.append(pyc.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
