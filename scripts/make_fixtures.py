#!/usr/bin/env python3
# ruff: noqa: E501  (README table and tool output notes are long lines)
"""Generate real lock-file fixtures for lading's tests.

Usage::

    python3 scripts/make_fixtures.py [--tools-venv DIR] [--out tests/fixtures/real]
                                     [--only PROJECT[/TOOL]] [--skip-tool TOOL] [--jobs N]

The script

1. creates (or reuses) one virtual environment per locking tool under
   ``--tools-venv`` (default ``.tools-venv`` in the repository root) and installs
   the pinned tool versions from ``TOOL_PINS`` there;
2. writes a few small projects in the manifest format each tool needs, runs the
   tool's own lock command, then installs the production set (main dependencies
   only, no groups, no extras) with the tool's own installer into a fresh
   Python 3.11 virtual environment (and, for universal locks of the ``split``
   project, a Python 3.9 one) and records what got installed;
3. copies manifests and lock files into ``<out>/<project>/<tool>/`` with
   ``expected.json``, replaces the package index URLs by placeholders (see
   ``PLACEHOLDERS``), and writes ``<out>/index.json`` and ``<out>/README.md``.

Only the standard library is used. The package index URLs are never written
literally: they are read at run time from pip's own defaults.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# Tool versions. Each tool lives in its own virtual environment, because their
# dependency sets conflict (poetry 1.8 vs 2.x, pdm's pins, ...).
# pdm: 2.29.4 declares a dependency that cannot be satisfied (certifi>=2026.10.19);
# 2.29.3 installs, but with the newest hishel (2.x) `pdm lock` crashes
# ("module 'hishel' has no attribute 'SyncSqliteStorage'"), so pdm's own `locked`
# extra is used, which pins its dependencies to a tested set.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolVenv:
    name: str
    python: str  # "3.11" or "3.9"
    requirements: tuple[str, ...]
    optional: bool = False  # failure to install only skips the tool


TOOL_VENVS: dict[str, ToolVenv] = {
    "uv": ToolVenv("uv", "3.11", ("uv==0.13.8",)),
    "poetry18": ToolVenv("poetry18", "3.11", ("poetry==1.8.5",)),
    "poetry2": ToolVenv("poetry2", "3.11", ("poetry==2.5.1",)),
    "poetry11": ToolVenv("poetry11", "3.9", ("poetry==1.1.15",), optional=True),
    "pipenv": ToolVenv("pipenv", "3.11", ("pipenv==2026.10.3",)),
    "piptools": ToolVenv("piptools", "3.11", ("pip-tools==7.6.2",)),
    "pip": ToolVenv("pip", "3.11", ("pip==26.3",)),
    "pdm": ToolVenv("pdm", "3.11", ("pdm[locked]==2.29.3",)),
}

EXCLUDED_DISTS = {"pip", "setuptools", "wheel", "distribute", "pkg-resources"}

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

_print_lock = threading.Lock()


def log(msg: str) -> None:
    with _print_lock:
        print(msg, flush=True)


class ToolFailure(RuntimeError):
    pass


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def index_info() -> dict[str, str]:
    """Index locations, taken from pip's own defaults (never written literally)."""
    from pip._internal.models.index import PyPI

    simple = PyPI.simple_url.rstrip("/")
    return {
        "simple_url": simple,
        "netloc": PyPI.netloc,
        "files_netloc": PyPI.file_storage_domain,
        "index_host_url": f"https://{PyPI.netloc}",
        "files_url": f"https://{PyPI.file_storage_domain}",
    }


def placeholders(info: dict[str, str]) -> list[tuple[str, str]]:
    # Order matters: the most specific prefix first.
    return [
        (info["simple_url"], "@@INDEX_URL@@"),
        (info["files_url"], "@@FILES_URL@@"),
        (info["index_host_url"], "@@INDEX_HOST_URL@@"),
    ]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for tool runs: no local indexes, no user configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "POETRY_", "PDM_", "PIPENV_", "VIRTUAL_ENV", "CONDA"))
        and k not in {"PYTHONPATH", "PYTHONHOME"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    if os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    if os.environ.get("PIP_DEFAULT_TIMEOUT"):
        env["PIP_DEFAULT_TIMEOUT"] = os.environ["PIP_DEFAULT_TIMEOUT"]
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    env["PDM_CHECK_UPDATE"] = "false"
    env["PDM_NON_INTERACTIVE"] = "1"
    env["PIPENV_VENV_IN_PROJECT"] = "1"
    env["PIPENV_IGNORE_VIRTUALENVS"] = "1"
    env["PIPENV_YES"] = "1"
    env["PIPENV_NOSPIN"] = "1"
    env["PIPENV_HIDE_EMOJIS"] = "1"
    env["PIPENV_VERBOSITY"] = "-1"
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["POETRY_VIRTUALENVS_CREATE"] = "true"
    env["POETRY_NO_INTERACTION"] = "1"
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    if extra:
        env.update(extra)
    return env


def run(
    cmd: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    what: str = "",
    timeout: float = 900,
) -> str:
    shown = " ".join(str(c) for c in cmd)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [str(c) for c in cmd],
            cwd=str(cwd) if cwd else None,
            env=env if env is not None else clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolFailure(f"{what}: timed out after {timeout}s: {shown}") from exc
    if proc.returncode != 0:
        raise ToolFailure(
            f"{what}: command failed with exit code {proc.returncode}:\n  $ {shown}\n"
            + textwrap.indent(proc.stdout[-6000:], "  | ")
        )
    log(f"    [{time.monotonic() - t0:5.1f}s] {what}: {shown}")
    return proc.stdout


def find_python(version: str) -> Path:
    """Locate a CPython interpreter for ``version`` ("3.11", "3.9")."""
    candidates: list[Path] = []
    root = os.environ.get("PYENV_ROOT")
    if not root:
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = str(Path.home() / ".pyenv")
    versions = Path(root) / "versions"
    if versions.is_dir():
        for p in sorted(versions.iterdir(), reverse=True):
            if re.fullmatch(re.escape(version) + r"\.\d+", p.name):
                candidates.append(p / "bin" / "python3")
    if sys.version_info[:2] == tuple(int(x) for x in version.split(".")):
        candidates.append(Path(sys.executable))
    which = shutil.which(f"python{version}")
    if which:
        candidates.append(Path(which))
    for c in candidates:
        if c.exists():
            return c
    raise ToolFailure(f"no Python {version} interpreter found")


def python_version_of(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


READ_INSTALLED = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({(d.metadata['Name'], d.version) for d in m.distributions()})))"
)


def installed_set(venv: Path, exclude: set[str] = frozenset()) -> dict[str, str]:
    py = venv / "bin" / "python"
    out = subprocess.run([str(py), "-I", "-c", READ_INSTALLED], capture_output=True, text=True, check=True).stdout
    result: dict[str, str] = {}
    for name, version in json.loads(out):
        cn = canonical(name)
        if cn in EXCLUDED_DISTS or cn in exclude:
            continue
        result[cn] = version
    return dict(sorted(result.items()))


def make_venv(python: Path, dest: Path, with_pip: bool = True) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    cmd = [python, "-m", "venv", dest]
    if not with_pip:
        cmd.insert(3, "--without-pip")
    run(cmd, what="venv")
    return dest


# --------------------------------------------------------------------------------------
# Tools environment
# --------------------------------------------------------------------------------------


class Tools:
    def __init__(self, root: Path, pythons: dict[str, Path]) -> None:
        self.root = root
        self.pythons = pythons
        self.available: dict[str, str] = {}  # venv name -> version string
        self.unavailable: dict[str, str] = {}  # venv name -> reason

    def bin(self, venv: str, exe: str) -> Path:
        return self.root / venv / "bin" / exe

    def ensure(self, names: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in names:
            spec = TOOL_VENVS[name]
            try:
                self._ensure_one(spec)
            except ToolFailure as exc:
                if spec.optional:
                    self.unavailable[name] = str(exc).splitlines()[0]
                    log(f"  ! optional tool {name} unavailable: {self.unavailable[name]}")
                    continue
                raise

    def _ensure_one(self, spec: ToolVenv) -> None:
        venv = self.root / spec.name
        stamp = venv / ".lading-tool-requirements"
        wanted = "\n".join(spec.requirements) + "\n"
        py = venv / "bin" / "python"
        if not (py.exists() and stamp.exists() and stamp.read_text() == wanted):
            log(f"  installing {spec.name}: {' '.join(spec.requirements)} (Python {spec.python})")
            if venv.exists():
                shutil.rmtree(venv)
            # Installing the tools may use the machine's configured indexes / caches.
            env = dict(os.environ)
            run([self.pythons[spec.python], "-m", "venv", venv], env=env, what=spec.name)
            run([py, "-m", "pip", "install", "-q", "-U", "pip"], env=env, what=spec.name)
            run([py, "-m", "pip", "install", "-q", *spec.requirements], env=env, what=spec.name)
            stamp.write_text(wanted)
        self.available[spec.name] = self._version(spec.name)
        log(f"  tool {spec.name}: {self.available[spec.name]}")

    def _version(self, name: str) -> str:
        if name == "uv":
            out = run([self.bin("uv", "uv"), "--version"], what="uv")
            return "uv " + out.split()[1]
        if name.startswith("poetry"):
            out = run([self.bin(name, "poetry"), "--version"], what=name)
            return "poetry " + out.strip().split()[-1].rstrip(")")
        if name == "pipenv":
            out = run([self.bin(name, "pipenv"), "--version"], what=name)
            return "pipenv " + out.strip().split()[-1]
        if name == "piptools":
            out = run([self.bin(name, "pip-compile"), "--version"], what=name)
            return "pip-tools " + out.strip().split()[-1]
        if name == "pip":
            out = run([self.bin(name, "python"), "-m", "pip", "--version"], what=name)
            return "pip " + out.split()[1]
        if name == "pdm":
            out = run([self.bin(name, "pdm"), "--version"], what=name)
            return "pdm " + out.strip().split()[-1]
        raise AssertionError(name)


# --------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------


@dataclass
class Project:
    name: str  # fixture directory name
    dist_name: str
    requires_python: str  # PEP 440 specifier, e.g. ">=3.10"
    poetry_python: str  # poetry constraint, e.g. ">=3.10"
    min_python: str  # "3.10", for uv pip compile --universal
    dependencies: list[str]
    optional: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    # [tool.poetry.dependencies]-style entries (TOML fragments) for poetry 1.x
    poetry_deps: list[str] = field(default_factory=list)
    poetry_extras: dict[str, list[str]] = field(default_factory=dict)
    poetry_groups: dict[str, list[str]] = field(default_factory=dict)
    # Pipfile sections: {"packages": [...TOML lines...], "dev-packages": [...], "docs": [...]}
    pipfile: dict[str, list[str]] = field(default_factory=dict)
    # Does this project have python_version version splits (for installed_py39)?
    has_split: bool = False
    # pdm cannot resolve a python_version split in one go: lock per target instead.
    pdm_lock_targets: list[list[str]] = field(default_factory=lambda: [[]])
    notes: dict[str, str] = field(default_factory=dict)


def direct_url_for(tools: Tools, requirement: str) -> tuple[str, str]:
    """(url, sha256) of the wheel the index serves for ``requirement``."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        run(
            [
                tools.bin("pip", "python"),
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--ignore-installed",
                "--no-deps",
                "--only-binary=:all:",
                "--report",
                report,
                requirement,
            ],
            what="resolve direct URL",
        )
        data = json.loads(report.read_text())
    info = data["install"][0]["download_info"]
    url = info["url"]
    sha = info["archive_info"]["hashes"]["sha256"]
    return url, sha


def define_projects(tools: Tools) -> dict[str, Project]:
    six_url, _six_sha = direct_url_for(tools, "six==1.17.0")
    basic = Project(
        name="basic",
        dist_name="basic-app",
        requires_python=">=3.10",
        poetry_python=">=3.10",
        min_python="3.10",
        dependencies=[
            "click>=8.1",
            "colorama>=0.4; sys_platform == 'win32'",
            "tomli>=2.0; python_version < '3.11'",
            "idna>=3.4",
        ],
        optional={"color": ["termcolor>=2.4"]},
        groups={"dev": ["pluggy>=1.5"], "docs": ["mdurl>=0.1"]},
        poetry_deps=[
            'python = ">=3.10"',
            'click = ">=8.1"',
            'colorama = { version = ">=0.4", markers = "sys_platform == \'win32\'" }',
            'tomli = { version = ">=2.0", python = "<3.11" }',
            'idna = ">=3.4"',
            'termcolor = { version = ">=2.4", optional = true }',
        ],
        poetry_extras={"color": ["termcolor"]},
        poetry_groups={"dev": ['pluggy = ">=1.5"'], "docs": ['mdurl = ">=0.1"']},
        pipfile={
            "packages": [
                'click = ">=8.1"',
                # pipenv 2026.10.3 quirks: a marker entry that does not apply here with a
                # version range, e.g. {version = ">=0.4", markers = ...}, becomes the invalid
                # requirement "colorama==>=0.4", so marker entries use version "*"; and the
                # {sys_platform = "== 'win32'"} key form loses its marker in Pipfile.lock
                # (colorama then gets installed on linux), so the `markers` key is used.
                'colorama = {version = "*", markers = "sys_platform == \'win32\'"}',
                'tomli = {version = "*", markers = "python_version < \'3.11\'"}',
                'idna = ">=3.4"',
            ],
            "dev-packages": ['pluggy = ">=1.5"'],
            "docs": ['mdurl = ">=0.1"'],
        },
        notes={
            "pipenv": "Pipfile has no project extras; the 'color' extra is left out. "
            "Marker entries use version '*' and the `markers` key (pipenv 2026.10.3 mishandles "
            "a version range on a non-matching marker entry and drops the marker of the "
            "`sys_platform = ...` key form).",
            "pip-compile": "requirements.in holds the main dependencies only.",
        },
    )
    split = Project(
        name="split",
        dist_name="split-app",
        requires_python=">=3.8",
        poetry_python=">=3.8",
        min_python="3.8",
        dependencies=[
            "markupsafe<3; python_version < '3.10'",
            "markupsafe>=3; python_version >= '3.10'",
            f"six @ {six_url}",
        ],
        groups={"dev": ["iniconfig>=2"]},
        poetry_deps=[
            'python = ">=3.8"',
            'markupsafe = [\n    { version = "<3", python = "<3.10" },\n    { version = ">=3", python = ">=3.10" },\n]',
            f'six = {{ url = "{six_url}" }}',
        ],
        poetry_groups={"dev": ['iniconfig = ">=2"']},
        pipfile={
            "packages": [
                'markupsafe = "*"',
                f'six = {{file = "{six_url}"}}',
            ],
            "dev-packages": ['iniconfig = ">=2"'],
        },
        has_split=True,
        pdm_lock_targets=[["--python", "<3.10"], ["--python", ">=3.10", "--append"]],
        notes={
            "pipenv": "A Pipfile cannot list one package twice, so markupsafe is not split.",
        },
    )
    return {p.name: p for p in (basic, split)}


def toml_list(items: list[str], indent: str = "    ") -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"{indent}{json.dumps(i)},\n" for i in items) + "]"


def pep621_pyproject(p: Project, tool_table: str, build_system: bool = False) -> str:
    out = []
    if build_system:
        out.append('[build-system]\nrequires = ["flit_core>=3.9"]\nbuild-backend = "flit_core.buildapi"\n')
    out.append(
        "[project]\n"
        f'name = "{p.dist_name}"\n'
        'version = "0.1.0"\n'
        f'description = "lading test fixture project {p.name!r}"\n'
        f'requires-python = "{p.requires_python}"\n'
        f"dependencies = {toml_list(p.dependencies)}\n"
    )
    if p.optional:
        out.append(
            "[project.optional-dependencies]\n" + "".join(f"{k} = {toml_list(v)}\n" for k, v in p.optional.items())
        )
    if p.groups:
        out.append("[dependency-groups]\n" + "".join(f"{k} = {toml_list(v)}\n" for k, v in p.groups.items()))
    if tool_table:
        out.append(tool_table)
    return "\n".join(out)


def poetry_source(simple_url: str, legacy: bool) -> str:
    # See POETRY_SOURCE_NOTE.
    if legacy:
        return f'[[tool.poetry.source]]\nname = "index"\nurl = "{simple_url}/"\ndefault = true\n'
    return f'[[tool.poetry.source]]\nname = "index"\nurl = "{simple_url}/"\npriority = "primary"\n'


POETRY_SOURCE_NOTE = (
    "The project declares the default index as an explicit (legacy, HTML simple API) "
    "source named 'index', because the index mirror reachable while generating "
    "fixtures does not serve the JSON APIs poetry's built-in PyPI repository needs; "
    "poetry.lock therefore carries [package.source] tables pointing at @@INDEX_URL@@/."
)


def poetry1_pyproject(p: Project, legacy_dev: bool, simple_url: str) -> str:
    out = [
        "[tool.poetry]\n"
        f'name = "{p.dist_name}"\n'
        'version = "0.1.0"\n'
        f'description = "lading test fixture project {p.name!r}"\n'
        'authors = ["lading <lading@example.invalid>"]\n' + ("" if legacy_dev else "package-mode = false\n"),
        "[tool.poetry.dependencies]\n" + "".join(d + "\n" for d in p.poetry_deps),
    ]
    if p.poetry_extras:
        out.append("[tool.poetry.extras]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in p.poetry_extras.items()))
    if legacy_dev:
        dev = p.poetry_groups.get("dev", [])
        if dev:
            out.append("[tool.poetry.dev-dependencies]\n" + "".join(d + "\n" for d in dev))
    else:
        for g, deps in p.poetry_groups.items():
            out.append(f"[tool.poetry.group.{g}.dependencies]\n" + "".join(d + "\n" for d in deps))
    out.append(poetry_source(simple_url, legacy_dev))
    out.append('[build-system]\nrequires = ["poetry-core>=1.0.0"]\nbuild-backend = "poetry.core.masonry.api"\n')
    return "\n".join(out)


def pipfile_text(p: Project, simple_url: str) -> str:
    out = [f'[[source]]\nurl = "{simple_url}"\nverify_ssl = true\nname = "pypi"\n']
    for section in ("packages", "dev-packages"):
        out.append(f"[{section}]\n" + "".join(line + "\n" for line in p.pipfile.get(section, [])))
    for section, lines in p.pipfile.items():
        if section in ("packages", "dev-packages"):
            continue
        out.append(f"[{section}]\n" + "".join(line + "\n" for line in lines))
    out.append('[requires]\npython_version = "3.11"\n')
    return "\n".join(out)


def requirements_in(p: Project) -> str:
    return "".join(d + "\n" for d in p.dependencies)


# --------------------------------------------------------------------------------------
# Generators: one per fixture kind
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    files: list[str]  # files (relative to work dir) to copy into the fixture
    lock: str
    fmt: str
    tool: str
    install_command: str
    installed: dict[str, str]
    installed_py39: dict[str, str] | None = None
    lock_command: str = ""
    notes: str = ""


@dataclass
class Ctx:
    tools: Tools
    py311: Path
    py39: Path
    info: dict[str, str]
    project: Project
    work: Path  # scratch dir for this fixture

    def fresh_copy(self, files: list[str], name: str) -> Path:
        dest = self.work.parent / f"{self.work.name}-{name}"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for f in files:
            shutil.copy2(self.work / f, dest / f)
        return dest


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---- uv -----------------------------------------------------------------------------


def uv_project(ctx: Ctx) -> None:
    # No [build-system]: uv treats the project as virtual and never installs it.
    write(ctx.work / "pyproject.toml", pep621_pyproject(ctx.project, ""))
    uv = ctx.tools.bin("uv", "uv")
    run([uv, "lock", "--python", ctx.py311], cwd=ctx.work, what="uv lock")


def uv_sync(ctx: Ctx, files: list[str], python: Path, tag: str) -> dict[str, str]:
    d = ctx.fresh_copy(files, f"sync{tag}")
    uv = ctx.tools.bin("uv", "uv")
    env = clean_env({"UV_PROJECT_ENVIRONMENT": str(d / ".venv")})
    run(
        [uv, "sync", "--frozen", "--no-dev", "--no-install-project", "--python", python],
        cwd=d,
        env=env,
        what=f"uv sync{tag}",
    )
    return installed_set(d / ".venv", {canonical(ctx.project.dist_name)})


def gen_uv(ctx: Ctx) -> Result:
    uv_project(ctx)
    files = ["pyproject.toml", "uv.lock"]
    r = Result(
        files=files,
        lock="uv.lock",
        fmt="uv",
        tool=ctx.tools.available["uv"],
        lock_command="uv lock",
        install_command="uv sync --frozen --no-dev --no-install-project",
        installed=uv_sync(ctx, files, ctx.py311, ""),
    )
    if ctx.project.has_split:
        r.installed_py39 = uv_sync(ctx, files, ctx.py39, "-py39")
    return r


def uv_pip_sync(ctx: Ctx, files: list[str], req: str, python: Path, tag: str) -> dict[str, str]:
    d = ctx.fresh_copy(files, f"sync{tag}")
    uv = ctx.tools.bin("uv", "uv")
    run([uv, "venv", "--python", python, d / ".venv"], cwd=d, what="uv venv")
    run(
        [uv, "pip", "sync", "--python", d / ".venv" / "bin" / "python", req],
        cwd=d,
        what=f"uv pip sync{tag}",
    )
    return installed_set(d / ".venv", {canonical(ctx.project.dist_name)})


def gen_uv_export_requirements(ctx: Ctx) -> Result:
    uv_project(ctx)
    uv = ctx.tools.bin("uv", "uv")
    cmd = ["uv", "export", "--frozen", "--format", "requirements-txt", "--no-dev", "-o", "requirements.txt"]
    run([uv, *cmd[1:]], cwd=ctx.work, what="uv export")
    files = ["pyproject.toml", "uv.lock", "requirements.txt"]
    r = Result(
        files=files,
        lock="requirements.txt",
        fmt="requirements",
        tool=ctx.tools.available["uv"],
        lock_command="uv lock && " + " ".join(cmd),
        install_command="uv pip sync requirements.txt",
        installed=uv_pip_sync(ctx, files, "requirements.txt", ctx.py311, ""),
    )
    if ctx.project.has_split:
        r.installed_py39 = uv_pip_sync(ctx, files, "requirements.txt", ctx.py39, "-py39")
    return r


def pip_install_pylock(ctx: Ctx, files: list[str], python: Path, tag: str) -> dict[str, str]:
    d = ctx.fresh_copy(files, f"install{tag}")
    if tuple(int(x) for x in python_version_of(python).split(".")[:2]) < (3, 10):
        # pip >= 26 cannot target Python < 3.10: use uv's pylock installer there.
        uv = ctx.tools.bin("uv", "uv")
        run([uv, "venv", "--python", python, d / ".venv"], cwd=d, what="uv venv")
        run(
            [uv, "pip", "install", "--python", d / ".venv" / "bin" / "python", "-r", "pylock.toml"],
            cwd=d,
            what=f"uv pip install -r pylock.toml{tag}",
        )
        return installed_set(d / ".venv", {canonical(ctx.project.dist_name)})
    venv = make_venv(python, d / ".venv", with_pip=False)
    run(
        [
            ctx.tools.bin("pip", "python"),
            "-m",
            "pip",
            "--python",
            venv / "bin" / "python",
            "install",
            "-r",
            "pylock.toml",
        ],
        cwd=d,
        what=f"pip install -r pylock.toml{tag}",
    )
    return installed_set(venv, {canonical(ctx.project.dist_name)})


def gen_uv_export_pylock(ctx: Ctx) -> Result:
    uv_project(ctx)
    uv = ctx.tools.bin("uv", "uv")
    cmd = ["uv", "export", "--frozen", "--format", "pylock.toml", "--no-dev", "-o", "pylock.toml"]
    run([uv, *cmd[1:]], cwd=ctx.work, what="uv export")
    files = ["pyproject.toml", "uv.lock", "pylock.toml"]
    r = Result(
        files=files,
        lock="pylock.toml",
        fmt="pylock",
        tool=ctx.tools.available["uv"],
        lock_command="uv lock && " + " ".join(cmd),
        install_command="pip install -r pylock.toml",
        installed=pip_install_pylock(ctx, files, ctx.py311, ""),
    )
    if ctx.project.has_split:
        r.installed_py39 = pip_install_pylock(ctx, files, ctx.py39, "-py39")
        r.notes = "installed_py39 was produced by `uv pip install -r pylock.toml` (pip 26 needs Python >= 3.10)."
    return r


def gen_uv_pip_compile(ctx: Ctx) -> Result:
    write(ctx.work / "requirements.in", requirements_in(ctx.project))
    uv = ctx.tools.bin("uv", "uv")
    cmd = [
        "uv",
        "pip",
        "compile",
        "--universal",
        "--python-version",
        ctx.project.min_python,
        "--generate-hashes",
        "requirements.in",
        "-o",
        "requirements.txt",
    ]
    run([uv, *cmd[1:]], cwd=ctx.work, what="uv pip compile")
    files = ["requirements.in", "requirements.txt"]
    r = Result(
        files=files,
        lock="requirements.txt",
        fmt="requirements",
        tool=ctx.tools.available["uv"],
        lock_command=" ".join(cmd),
        install_command="uv pip sync requirements.txt",
        installed=uv_pip_sync(ctx, files, "requirements.txt", ctx.py311, ""),
    )
    if ctx.project.has_split:
        r.installed_py39 = uv_pip_sync(ctx, files, "requirements.txt", ctx.py39, "-py39")
    return r


# ---- pip-tools / pip ----------------------------------------------------------------


def gen_pip_compile(ctx: Ctx) -> Result:
    write(ctx.work / "requirements.in", requirements_in(ctx.project))
    cmd = ["pip-compile", "--generate-hashes", "--no-config", "-o", "requirements.txt", "requirements.in"]
    run([ctx.tools.bin("piptools", "pip-compile"), *cmd[1:]], cwd=ctx.work, what="pip-compile")
    files = ["requirements.in", "requirements.txt"]
    d = ctx.fresh_copy(files, "sync")
    venv = make_venv(ctx.py311, d / ".venv")
    run(
        [
            ctx.tools.bin("piptools", "pip-sync"),
            "--python-executable",
            venv / "bin" / "python",
            "requirements.txt",
        ],
        cwd=d,
        what="pip-sync",
    )
    return Result(
        files=files,
        lock="requirements.txt",
        fmt="requirements",
        tool=ctx.tools.available["piptools"],
        lock_command=" ".join(cmd),
        install_command="pip-sync requirements.txt",
        installed=installed_set(venv, {canonical(ctx.project.dist_name)}),
    )


def gen_pip_lock(ctx: Ctx) -> Result:
    write(ctx.work / "requirements.in", requirements_in(ctx.project))
    cmd = ["pip", "lock", "-r", "requirements.in", "-o", "pylock.toml"]
    run([ctx.tools.bin("pip", "python"), "-m", *cmd], cwd=ctx.work, what="pip lock")
    files = ["requirements.in", "pylock.toml"]
    return Result(
        files=files,
        lock="pylock.toml",
        fmt="pylock",
        tool=ctx.tools.available["pip"],
        lock_command=" ".join(cmd),
        install_command="pip install -r pylock.toml",
        installed=pip_install_pylock(ctx, files, ctx.py311, ""),
    )


# ---- poetry -------------------------------------------------------------------------


def poetry_env(ctx: Ctx, venv_name: str) -> dict[str, str]:
    base = ctx.tools.root / venv_name
    return clean_env(
        {
            "POETRY_CONFIG_DIR": str(base / "_config"),
            "POETRY_CACHE_DIR": str(ctx.tools.root / "_cache" / venv_name),
            "POETRY_DATA_DIR": str(base / "_data"),
        }
    )


def poetry_install(
    ctx: Ctx, venv_name: str, files: list[str], python: Path, tag: str, cmd: list[str]
) -> dict[str, str]:
    d = ctx.fresh_copy(files, f"install{tag}")
    venv = make_venv(python, d / ".venv")
    run(
        [ctx.tools.bin(venv_name, "poetry"), *cmd[1:]],
        cwd=d,
        env=poetry_env(ctx, venv_name),
        what=f"{venv_name} install{tag}",
    )
    return installed_set(venv, {canonical(ctx.project.dist_name)})


def gen_poetry(ctx: Ctx, venv_name: str) -> Result:
    p = ctx.project
    if venv_name == "poetry2":
        tool_table = "[tool.poetry]\npackage-mode = false\n\n" + poetry_source(ctx.info["simple_url"], False)
        write(ctx.work / "pyproject.toml", pep621_pyproject(p, tool_table))
        install_cmd = ["poetry", "sync", "--only", "main", "--no-root"]
    elif venv_name == "poetry18":
        write(ctx.work / "pyproject.toml", poetry1_pyproject(p, legacy_dev=False, simple_url=ctx.info["simple_url"]))
        install_cmd = ["poetry", "install", "--only", "main", "--no-root", "--sync"]
    else:  # poetry11
        write(ctx.work / "pyproject.toml", poetry1_pyproject(p, legacy_dev=True, simple_url=ctx.info["simple_url"]))
        install_cmd = ["poetry", "install", "--no-dev", "--no-root", "--remove-untracked"]
    # poetry wants an environment for the project even while locking.
    make_venv(ctx.py311, ctx.work / ".venv")
    run(
        [ctx.tools.bin(venv_name, "poetry"), "lock"],
        cwd=ctx.work,
        env=poetry_env(ctx, venv_name),
        what=f"{venv_name} lock",
    )
    files = ["pyproject.toml", "poetry.lock"]
    r = Result(
        files=files,
        lock="poetry.lock",
        fmt="poetry",
        tool=ctx.tools.available[venv_name],
        lock_command="poetry lock",
        install_command=" ".join(install_cmd),
        notes=POETRY_SOURCE_NOTE,
        installed=poetry_install(ctx, venv_name, files, ctx.py311, "", install_cmd),
    )
    if p.has_split:
        r.installed_py39 = poetry_install(ctx, venv_name, files, ctx.py39, "-py39", install_cmd)
    return r


# ---- pipenv -------------------------------------------------------------------------


def gen_pipenv(ctx: Ctx) -> Result:
    write(ctx.work / "Pipfile", pipfile_text(ctx.project, ctx.info["simple_url"]))
    pipenv = ctx.tools.bin("pipenv", "pipenv")
    env = clean_env({"PIPENV_CACHE_DIR": str(ctx.tools.root / "_cache" / "pipenv")})
    make_venv(ctx.py311, ctx.work / ".venv")
    run([pipenv, "lock"], cwd=ctx.work, env=env, what="pipenv lock")
    files = ["Pipfile", "Pipfile.lock"]
    d = ctx.fresh_copy(files, "sync")
    venv = make_venv(ctx.py311, d / ".venv")
    run([pipenv, "sync"], cwd=d, env=env, what="pipenv sync")
    return Result(
        files=files,
        lock="Pipfile.lock",
        fmt="pipfile",
        tool=ctx.tools.available["pipenv"],
        lock_command="pipenv lock",
        install_command="pipenv sync",
        installed=installed_set(venv, {canonical(ctx.project.dist_name)}),
    )


# ---- pdm ----------------------------------------------------------------------------


def pdm_env(ctx: Ctx) -> dict[str, str]:
    base = ctx.tools.root / "pdm"
    return clean_env(
        {
            "PDM_HOME": str(base / "_home"),
            "PDM_CACHE_DIR": str(ctx.tools.root / "_cache" / "pdm"),
            "PDM_CONFIG_FILE": str(base / "_config.toml"),
        }
    )


def pdm_install(ctx: Ctx, files: list[str], python: Path, tag: str) -> dict[str, str]:
    d = ctx.fresh_copy(files, f"sync{tag}")
    venv = make_venv(python, d / ".venv")
    pdm = ctx.tools.bin("pdm", "pdm")
    env = pdm_env(ctx)
    run([pdm, "use", "-f", venv / "bin" / "python"], cwd=d, env=env, what=f"pdm use{tag}")
    run([pdm, "sync", "--prod", "--no-self"], cwd=d, env=env, what=f"pdm sync{tag}")
    return installed_set(venv, {canonical(ctx.project.dist_name)})


def gen_pdm(ctx: Ctx) -> Result:
    tool_table = "[tool.pdm]\ndistribution = false\n"
    write(ctx.work / "pyproject.toml", pep621_pyproject(ctx.project, tool_table))
    pdm = ctx.tools.bin("pdm", "pdm")
    env = pdm_env(ctx)
    run([pdm, "use", "-f", ctx.py311], cwd=ctx.work, env=env, what="pdm use")
    lock_cmds = [["pdm", "lock", *t] for t in ctx.project.pdm_lock_targets]
    for cmd in lock_cmds:
        run([pdm, *cmd[1:]], cwd=ctx.work, env=env, what="pdm lock")
    files = ["pyproject.toml", "pdm.lock"]
    r = Result(
        files=files,
        lock="pdm.lock",
        fmt="pdm",
        tool=ctx.tools.available["pdm"],
        lock_command=" && ".join(" ".join(f"'{a}'" if "<" in a or ">" in a else a for a in c) for c in lock_cmds),
        install_command="pdm sync --prod --no-self",
        installed=pdm_install(ctx, files, ctx.py311, ""),
    )
    if ctx.project.has_split:
        r.installed_py39 = pdm_install(ctx, files, ctx.py39, "-py39")
    return r


# fixture tool dir -> (tool venv needed, generator)
GENERATORS: dict[str, tuple[str, Callable[[Ctx], Result]]] = {
    "uv": ("uv", gen_uv),
    "uv-export-requirements": ("uv", gen_uv_export_requirements),
    "uv-export-pylock": ("uv", gen_uv_export_pylock),
    "uv-pip-compile": ("uv", gen_uv_pip_compile),
    "pip-compile": ("piptools", gen_pip_compile),
    "pip-lock": ("pip", gen_pip_lock),
    "poetry18": ("poetry18", lambda c: gen_poetry(c, "poetry18")),
    "poetry2": ("poetry2", lambda c: gen_poetry(c, "poetry2")),
    "poetry11": ("poetry11", lambda c: gen_poetry(c, "poetry11")),
    "pipenv": ("pipenv", gen_pipenv),
    "pdm": ("pdm", gen_pdm),
}
# The pylock installer is pip; uv-export-pylock needs the pip venv too.
EXTRA_VENVS = {"uv-export-pylock": ("pip",), "uv-pip-compile": (), "uv": ()}


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def substitute(text: str, subs: list[tuple[str, str]]) -> str:
    for old, new in subs:
        text = text.replace(old, new)
    return text


def emit_fixture(out: Path, ctx: Ctx, tool_dir: str, r: Result, python_version: str) -> dict:
    dest = out / ctx.project.name / tool_dir
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    subs = placeholders(ctx.info)
    for f in r.files:
        raw = (ctx.work / f).read_bytes().decode("utf-8")
        # newline="" keeps the tool's line endings byte for byte.
        with open(dest / f, "w", encoding="utf-8", newline="") as fh:
            fh.write(substitute(raw, subs))
    expected: dict[str, object] = {
        "tool": r.tool,
        "format": r.fmt,
        "lock": r.lock,
        "files": r.files,
        "lock_command": r.lock_command,
        "install_command": r.install_command,
        "python": python_version,
        "platform": sysconfig.get_platform(),
        "installed": r.installed,
    }
    if r.installed_py39 is not None:
        expected["installed_py39"] = r.installed_py39
        expected["python_py39"] = python_version_of(ctx.py39)
    notes = [n for n in (ctx.project.notes.get(tool_dir), r.notes) if n]
    if notes:
        expected["notes"] = " ".join(notes)
    text = json.dumps(expected, indent=2, sort_keys=False) + "\n"
    write(dest / "expected.json", substitute(text, subs))
    return {
        "path": f"{ctx.project.name}/{tool_dir}",
        "project": ctx.project.name,
        "format": r.fmt,
        "tool": r.tool,
        "lock": r.lock,
    }


README = """\
# Real lock-file fixtures

Everything under this directory is generated by `scripts/make_fixtures.py`; do not
edit by hand. Regenerate with

    python3 scripts/make_fixtures.py            # all projects, all tools
    python3 scripts/make_fixtures.py --only split --skip-tool pdm

The script installs each locking tool (pinned versions, see `TOOL_VENVS` in the
script) into its own virtual environment under `.tools-venv/`, writes a few small
projects in the manifest format each tool needs, runs the tool's lock command and
then installs the *production set* (main dependencies only: no dev/other groups,
no extras) with the tool's own installer into a fresh Python 3.11 virtual
environment on linux-x86_64.

## Layout

    <project>/<tool>/
        <manifest(s)>     pyproject.toml / Pipfile / requirements.in, as given to the tool
        <lock file>       exactly as the tool wrote it (apart from the placeholders)
        expected.json     what the tool's own installer installed

`index.json` lists every fixture directory with its format
(`pylock`, `uv`, `poetry`, `pipfile`, `pdm`, `requirements`) and tool version.

`expected.json` keys: `tool` ("<name> <version>"), `format`, `lock` (lock file
name), `files`, `lock_command`, `install_command`, `python`, `platform`,
`installed` (canonical distribution name -> version, third-party
distributions only; pip/setuptools/wheel excluded) and, for universal locks of
projects with a `python_version` split, `installed_py39` / `python_py39`: the
same installer run with a Python 3.9 interpreter. Optional `notes` explain
features a tool cannot express.

## Projects

* `basic`: requires-python >=3.10; `click`, `idna`,
  `colorama; sys_platform == 'win32'` (not installed on linux),
  `tomli; python_version < '3.11'` (not installed on 3.11); extra `color`
  (`termcolor`, not installed); groups `dev` (`pluggy`) and `docs` (`mdurl`),
  not installed.
* `split`: requires-python >=3.8; `markupsafe<3; python_version < '3.10'` and
  `markupsafe>=3; python_version >= '3.10'` (universal locks hold two versions:
  Python 3.9 gets 2.x, 3.11 gets 3.x); `six` as a direct URL to a wheel on the
  index's file host; group `dev` (`iniconfig`).

Tools that resolve for the running interpreter only (pip-compile, pip lock,
pipenv) contain only the branch for Python 3.11. pdm cannot resolve the split in
one go, so `split/pdm` was locked per target (`pdm lock --python '<3.10'` then
`pdm lock --python '>=3.10' --append`, giving two `[[metadata.targets]]`).

## Fixture directories (`<tool>`)

| dir                      | format       | written by                                             | installed with |
|--------------------------|--------------|--------------------------------------------------------|----------------|
| `uv`                     | uv           | `uv lock`                                              | `uv sync --frozen --no-dev --no-install-project` |
| `uv-export-requirements` | requirements | `uv export --format requirements-txt --no-dev`          | `uv pip sync requirements.txt` |
| `uv-export-pylock`       | pylock       | `uv export --format pylock.toml --no-dev`               | `pip install -r pylock.toml` |
| `uv-pip-compile`         | requirements | `uv pip compile --universal --generate-hashes`          | `uv pip sync requirements.txt` |
| `pip-compile`            | requirements | `pip-compile --generate-hashes` (pip-tools)             | `pip-sync requirements.txt` |
| `pip-lock`               | pylock       | `pip lock -r requirements.in`                           | `pip install -r pylock.toml` |
| `poetry18`               | poetry       | poetry 1.8 `poetry lock` (lock-version 2.0)             | `poetry install --only main --no-root --sync` |
| `poetry2`                | poetry       | poetry 2.x `poetry lock` (lock-version 2.1)             | `poetry sync --only main --no-root` |
| `poetry11`               | poetry       | poetry 1.1 on Python 3.9 (lock-version 1.1, optional)   | `poetry install --no-dev --no-root --remove-untracked` |
| `pipenv`                 | pipfile      | `pipenv lock`                                           | `pipenv sync` |
| `pdm`                    | pdm          | `pdm lock`                                              | `pdm sync --prod --no-self` |

Poetry projects declare the default index explicitly as a `[[tool.poetry.source]]`
named `index` (legacy HTML simple API): the index mirror reachable while
generating does not serve the JSON APIs that poetry's built-in PyPI repository
uses, so these `poetry.lock` files carry `[package.source]` tables
(`type = "legacy"`, `url = "@@INDEX_URL@@/"`, `reference = "index"`).

pipenv 2026.10.3 quirks worked around in the Pipfiles: marker entries use
`version = "*"` and the `markers` key (see `notes` in expected.json).

## Placeholders

The repository must not contain package index host names. After generation every
file of a fixture (manifests, lock, expected.json) has these plain-string
replacements applied, in this order:

| placeholder          | replaced text                                             |
|----------------------|-----------------------------------------------------------|
| `@@INDEX_URL@@`      | the default index's simple API URL without trailing slash (`PyPI.simple_url` from pip, `https://<index host>/simple`); a trailing slash, if any, stays after the placeholder |
| `@@FILES_URL@@`      | `https://<file host>` (`PyPI.file_storage_domain`)         |
| `@@INDEX_HOST_URL@@` | `https://<index host>` (`PyPI.netloc`), anywhere else      |

The replacement is exactly reversible: replace the placeholders by the real values
(`@@INDEX_URL@@` first) to get the bytes the tool wrote. Content hashes in the locks
(poetry `content-hash`, Pipfile.lock `_meta.hash`, pdm `content_hash`) were
computed over the original text, so tests must substitute the real values back
before verifying them.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools-venv", type=Path, default=REPO_ROOT / ".tools-venv")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "tests" / "fixtures" / "real")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        help="PROJECT or PROJECT/TOOL to generate (repeatable); default all",
    )
    ap.add_argument(
        "--skip-tool",
        action="append",
        default=[],
        help=f"fixture tool to skip (repeatable); one of {', '.join(GENERATORS)}",
    )
    ap.add_argument("--jobs", type=int, default=3, help="fixtures generated in parallel")
    ap.add_argument("--keep-work", action="store_true", help="keep the scratch directory")
    ap.add_argument(
        "--tools-only",
        action="store_true",
        help="only install the pinned tools into --tools-venv (what the tests that run the real tools need)",
    )
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="after a tool failure, still generate the remaining fixtures (default: stop)",
    )
    args = ap.parse_args(argv)
    started = time.monotonic()

    for t in args.skip_tool:
        if t not in GENERATORS:
            ap.error(f"unknown tool {t!r}")

    out: Path = args.out.resolve()
    info = index_info()
    py311 = find_python("3.11")
    py39 = find_python("3.9")
    py311_version = python_version_of(py311)
    log(f"python 3.11: {py311} ({py311_version}); python 3.9: {py39}")

    # Which fixtures?
    wanted: list[tuple[str, str]] = []
    project_names = ["basic", "split"]
    for proj in project_names:
        for tool_dir in GENERATORS:
            if tool_dir in args.skip_tool:
                continue
            if args.only and not any(o in (proj, tool_dir, f"{proj}/{tool_dir}") for o in args.only):
                continue
            wanted.append((proj, tool_dir))
    if not wanted:
        ap.error("nothing selected")

    venvs = {"pip"}  # pip is always needed (direct URL lookup)
    for _, tool_dir in wanted:
        venvs.add(GENERATORS[tool_dir][0])
        venvs.update(EXTRA_VENVS.get(tool_dir, ()))
    log(f"== tools ({args.tools_venv})")
    tools = Tools(args.tools_venv.resolve(), {"3.11": py311, "3.9": py39})
    try:
        tools.ensure([v for v in TOOL_VENVS if v in venvs])
    except ToolFailure as exc:
        log(f"\nFAILED installing tools:\n{exc}")
        return 1
    if args.tools_only:
        for name, why in tools.unavailable.items():
            log(f"  {name}: unavailable ({why})")
        return 0

    skipped: dict[str, str] = {}
    runnable: list[tuple[str, str]] = []
    for proj, tool_dir in wanted:
        need = GENERATORS[tool_dir][0]
        if need in tools.unavailable:
            skipped[f"{proj}/{tool_dir}"] = f"tool unavailable: {tools.unavailable[need]}"
        else:
            runnable.append((proj, tool_dir))

    projects = define_projects(tools)
    scratch = Path(tempfile.mkdtemp(prefix="lading-fixtures-"))
    log(f"== generating {len(runnable)} fixture(s) in {scratch}")

    entries: list[dict] = []
    failures: dict[str, str] = {}

    def one(proj: str, tool_dir: str) -> dict:
        key = f"{proj}/{tool_dir}"
        t0 = time.monotonic()
        log(f"  -> {key}")
        work = scratch / proj / tool_dir
        work.mkdir(parents=True)
        ctx = Ctx(tools, py311, py39, info, projects[proj], work)
        r = GENERATORS[tool_dir][1](ctx)
        entry = emit_fixture(out, ctx, tool_dir, r, py311_version)
        log(
            f"  <- {key} done in {time.monotonic() - t0:.0f}s: installed {r.installed}"
            + (f", py39 {r.installed_py39}" if r.installed_py39 is not None else "")
        )
        return entry

    optional_dirs = {d for d, (v, _) in GENERATORS.items() if TOOL_VENVS[v].optional}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(one, p, t): f"{p}/{t}" for p, t in runnable}
        for fut in concurrent.futures.as_completed(futs):
            key = futs[fut]
            try:
                entries.append(fut.result())
            except concurrent.futures.CancelledError:
                skipped[key] = "not run: stopped after an earlier failure"
            except ToolFailure as exc:
                if key.split("/")[1] in optional_dirs:
                    skipped[key] = "optional tool failed: " + str(exc).splitlines()[0]
                    log(f"  ! {key} skipped (optional tool failed):\n{exc}")
                else:
                    failures[key] = str(exc)
                    log(f"  !! {key} FAILED:\n{exc}")
                    if not args.keep_going:
                        log("  stopping (use --keep-going, --skip-tool or --only to work around)")
                        pool.shutdown(wait=False, cancel_futures=True)

    if not args.keep_work:
        shutil.rmtree(scratch, ignore_errors=True)

    # index.json: merge with existing entries for fixtures not regenerated this run.
    index_path = out / "index.json"
    old: list[dict] = []
    if index_path.exists():
        try:
            old = json.loads(index_path.read_text())["fixtures"]
        except (ValueError, KeyError):
            old = []
    by_path = {e["path"]: e for e in old if (out / e["path"] / "expected.json").exists()}
    for e in entries:
        by_path[e["path"]] = e
    index = {
        "placeholders": {
            "@@INDEX_URL@@": "default index simple API URL (no trailing slash)",
            "@@FILES_URL@@": "https:// + default index file host",
            "@@INDEX_HOST_URL@@": "https:// + default index host",
        },
        "fixtures": [by_path[k] for k in sorted(by_path)],
    }
    write(index_path, json.dumps(index, indent=2) + "\n")
    write(out / "README.md", README)

    # Verify no host name leaked.
    leaks = []
    for base in (out, REPO_ROOT / "scripts"):
        for path in base.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                text = path.read_text(encoding="utf-8", errors="replace")
                for host in (info["netloc"], info["files_netloc"]):
                    if host in text:
                        leaks.append(f"{path}: {host}")
    elapsed = time.monotonic() - started
    log(f"\n== {len(entries)} fixture(s) written to {out} in {elapsed:.0f}s")
    for key, why in sorted(skipped.items()):
        log(f"  skipped {key}: {why}")
    if leaks:
        log("ERROR: index host names found:\n  " + "\n  ".join(leaks))
        return 1
    if failures:
        log("FAILED fixtures (use --skip-tool / --only to work around):")
        for key, msg in sorted(failures.items()):
            log(f"  {key}: {msg.splitlines()[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
