"""Helpers shared by the benchmark scripts (standard library only).

The package index URLs are never written in the repository: committed files carry the placeholders
``@@INDEX_URL@@`` / ``@@FILES_URL@@`` / ``@@INDEX_HOST_URL@@`` (the same ones as ``tests/fixtures/real``), and the
real values are read at run time from pip's own defaults.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SERVICE_DIR = BENCH_DIR / "service"
DEFAULT_TOOLS_VENV = REPO_ROOT / ".tools-venv"

# Tool venv name -> requirements. Names and pins match scripts/make_fixtures.py, so its venvs are reused.
TOOL_PINS: dict[str, tuple[str, ...]] = {
    "uv": ("uv==0.13.8",),
    "poetry2": ("poetry==2.5.1",),
    "pipenv": ("pipenv==2026.10.3",),
    "piptools": ("pip-tools==7.6.2",),
    "pip": ("pip==26.3",),
    "micropipenv": ("micropipenv==1.10.0",),
}

PLACEHOLDER_KEYS = ("@@INDEX_URL@@", "@@FILES_URL@@", "@@INDEX_HOST_URL@@")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ToolFailure(RuntimeError):
    pass


def find_python311() -> Path:
    """A CPython 3.11 interpreter: the running one if it is 3.11, else pyenv's newest 3.11.x, else PATH."""
    if sys.version_info[:2] == (3, 11):
        return Path(sys.executable)
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    versions = Path(root) / "versions"
    if versions.is_dir():
        for p in sorted(versions.iterdir(), reverse=True):
            if re.fullmatch(r"3\.11\.\d+", p.name) and (p / "bin" / "python3").exists():
                return p / "bin" / "python3"
    which = shutil.which("python3.11")
    if which:
        return Path(which)
    raise ToolFailure("no Python 3.11 interpreter found")


def index_values(pip_python: Optional[Path] = None) -> dict[str, str]:
    """Placeholder -> real value, from pip's defaults (the running interpreter's pip, else ``pip_python``'s)."""
    code = (
        "import json; from pip._internal.models.index import PyPI; "
        "print(json.dumps([PyPI.simple_url, PyPI.file_storage_domain, PyPI.url]))"
    )
    try:
        from pip._internal.models.index import PyPI

        simple, files, host = PyPI.simple_url, PyPI.file_storage_domain, PyPI.url
    except ImportError:
        if pip_python is None:
            raise ToolFailure("pip is needed to know the default index URLs") from None
        out = subprocess.run([str(pip_python), "-c", code], capture_output=True, text=True, check=True).stdout
        simple, files, host = json.loads(out)
    return {
        "@@INDEX_URL@@": simple.rstrip("/"),
        "@@FILES_URL@@": "https://" + files,
        "@@INDEX_HOST_URL@@": host.rstrip("/"),
    }


def to_placeholders(text: str, values: dict[str, str]) -> str:
    # Most specific first: the simple URL starts with the host URL.
    for key in PLACEHOLDER_KEYS:
        text = text.replace(values[key], key)
    return text


def from_placeholders(text: str, values: dict[str, str]) -> str:
    for key in PLACEHOLDER_KEYS:
        text = text.replace(key, values[key])
    return text


def materialize(src: Path, dest: Path, values: dict[str, str], names: tuple[str, ...]) -> Path:
    """Copy the files ``names`` of the committed service project to ``dest`` with the index placeholders filled in."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in names:
        path = src / name
        if path.is_file():
            text = path.read_bytes().decode("utf-8")
            with open(dest / path.name, "w", encoding="utf-8", newline="") as fh:
                fh.write(from_placeholders(text, values))
    return dest


def clean_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Environment for tool runs: the default index only, no user configuration, no colours or spinners."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "POETRY_", "PDM_", "PIPENV_", "MICROPIPENV_", "LADING_", "VIRTUAL_ENV"))
        and k not in {"PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    for keep in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT"):
        if os.environ.get(keep):
            env[keep] = os.environ[keep]
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    env["PIPENV_VENV_IN_PROJECT"] = "1"
    env["PIPENV_IGNORE_VIRTUALENVS"] = "1"
    env["PIPENV_YES"] = "1"
    env["PIPENV_NOSPIN"] = "1"
    env["PIPENV_HIDE_EMOJIS"] = "1"
    env["PIPENV_VERBOSITY"] = "-1"
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["POETRY_VIRTUALENVS_CREATE"] = "false"
    env["POETRY_NO_INTERACTION"] = "1"
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    if extra:
        env.update(extra)
    return env


def run(cmd: list[object], cwd: Optional[Path] = None, env: Optional[dict[str, str]] = None, what: str = "",
        timeout: float = 1800) -> str:
    shown = " ".join(str(c) for c in cmd)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd) if cwd else None,
                              env=env if env is not None else clean_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ToolFailure(f"{what}: timed out after {timeout}s: {shown}") from exc
    if proc.returncode != 0:
        raise ToolFailure(f"{what}: exit code {proc.returncode}: {shown}\n{proc.stdout[-4000:]}")
    log(f"    [{time.monotonic() - t0:6.1f}s] {what}: {shown}")
    return proc.stdout


def ensure_tool(root: Path, name: str, python: Path) -> Path:
    """The venv of tool ``name`` under ``root``, created with its pinned version if missing or different."""
    venv = root / name
    stamp = venv / ".lading-tool-requirements"  # same stamp as scripts/make_fixtures.py
    wanted = "\n".join(TOOL_PINS[name]) + "\n"
    py = venv / "bin" / "python"
    if py.exists() and stamp.exists() and stamp.read_text() == wanted:
        return venv
    log(f"  installing {name}: {' '.join(TOOL_PINS[name])}")
    if venv.exists():
        shutil.rmtree(venv)
    env = dict(os.environ)  # installing the tools may use the machine's configured indexes
    run([python, "-m", "venv", venv], env=env, what=name)
    run([py, "-m", "pip", "install", "-q", "-U", "pip==26.3"], env=env, what=name)
    run([py, "-m", "pip", "install", "-q", *TOOL_PINS[name]], env=env, what=name)
    stamp.write_text(wanted)
    return venv


def tool_version(venv: Path, name: str) -> str:
    cmds = {
        "uv": [venv / "bin" / "uv", "--version"],
        "poetry2": [venv / "bin" / "poetry", "--version"],
        "pipenv": [venv / "bin" / "pipenv", "--version"],
        "piptools": [venv / "bin" / "pip-compile", "--version"],
        "pip": [venv / "bin" / "python", "-m", "pip", "--version"],
        "micropipenv": [venv / "bin" / "micropipenv", "--version"],
    }
    out = subprocess.run([str(c) for c in cmds[name]], capture_output=True, text=True, env=clean_env()).stdout
    return out.strip().splitlines()[0] if out.strip() else "?"


def parse_runs_for(items: list[str], error: Callable[[str], object]) -> dict[tuple[str, str], int]:
    """``--runs-for TOOL[:SCENARIO]=N`` items as ``{(tool, scenario): runs}``."""
    per_tool: dict[tuple[str, str], int] = {}
    for item in items:
        try:
            what, count = item.split("=")
            tool, _, scen = what.partition(":")
            for sc in ([scen] if scen else ["warm", "cold"]):
                per_tool[(tool, sc)] = int(count)
        except ValueError:
            error(f"--runs-for wants TOOL[:SCENARIO]=N, not {item!r}")
    return per_tool


def compile_lading(lading: list[str]) -> None:
    """Compile lading's own modules to bytecode once, as an installed lading has them: a checkout run
    with PYTHONDONTWRITEBYTECODE set would otherwise compile changed modules again in every measured run."""
    script = Path(lading[0])
    try:
        first = script.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return
    if not first.startswith("#!") or "python" not in first:
        return  # a zipapp or a binary: nothing to compile here
    python = first[2:].strip().split()[0]
    where = subprocess.run([python, "-c", "import lading, os; print(os.path.dirname(lading.__file__))"],
                           capture_output=True, text=True)
    if where.returncode == 0 and where.stdout.strip():
        subprocess.run([python, "-m", "compileall", "-q", where.stdout.strip()], capture_output=True)
