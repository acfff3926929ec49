#!/usr/bin/env python3
"""Benchmark: ``lading build zipapp`` against shiv and pex, on the service application and its lock.

The application is the install benchmarks' service (``benchmarks/service``: FastAPI, celery, boto3,
SQLAlchemy, ...) with a small package of its own (``bench_app``, console script ``bench-app``) whose
``main`` imports the service's main libraries. Every tool packs the same locked set: lading reads the
service's ``requirements.txt`` (hashes) beside the app's ``pyproject.toml``; shiv and pex get the same pins
without hashes (pip refuses hashes for the local project) plus the project directory. shiv and pex run
with their defaults (shiv compiles nothing at build time; pex runs in its zipapp mode).

Measured, in the same run, tools interleaved so that the load of the machine (other jobs run on it)
falls on each alike; medians:

- build: the artifact from warm caches (one unmeasured build of each first);
- first start: ``app --check`` with a fresh unpack root (``LADING_PYZ_ROOT``, ``SHIV_ROOT``, ``PEX_ROOT``),
  after ``os.sync()``; the roots are removed after the last round, not between runs;
- warm start: the same with the root already filled, against ``bench-app --check`` from a plain venv holding
  the same packages (installed by lading with bytecode); the overhead is the difference of the medians;
- size of the file.

Usage: benchmarks/zipapp.py [--builds N] [--first N] [--warm N] [--out benchmarks/results/zipapp.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEFAULT_TOOLS_VENV,
    REPO_ROOT,
    SERVICE_DIR,
    TOOL_PINS,
    clean_env,
    ensure_tool,
    find_python311,
    index_values,
    log,
    materialize,
)

TOOL_PINS.setdefault("shiv", ("shiv==1.0.8",))
TOOL_PINS.setdefault("pex", ("pex==2.105.2",))

APP = '''\
"""The benchmark application: import what a service built on these libraries imports at start."""
import sys


def main():
    import boto3
    import celery
    import fastapi
    import pydantic_settings
    import sqlalchemy
    import structlog
    if "--check" in sys.argv:
        print("ok", fastapi.__version__, celery.__version__, boto3.__version__, sqlalchemy.__version__)
    return 0
'''

PYPROJECT = '''\
[build-system]
requires = ["flit_core>=3.9,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "bench-app"
version = "1.0.0"
description = "lading zipapp benchmark application"
requires-python = ">=3.11"

[project.scripts]
bench-app = "bench_app:main"
'''


def make_app(work: Path) -> Path:
    app = materialize(SERVICE_DIR, work / "app", index_values(), ("requirements.txt",))
    (app / "pyproject.toml").write_text(PYPROJECT)
    (app / "bench_app").mkdir()
    (app / "bench_app" / "__init__.py").write_text(APP)
    pins = []
    for line in (app / "requirements.txt").read_text().splitlines():
        line = line.strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "--")):
            pins.append(line)
    (work / "pins.txt").write_text("\n".join(pins) + "\n")
    return app


def timed(cmd: list[str], env: dict[str, str], cwd: Path, expect: str = "") -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or (expect and expect not in proc.stdout):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", type=int, default=5)
    ap.add_argument("--first", type=int, default=5)
    ap.add_argument("--warm", type=int, default=30)
    ap.add_argument("--work", type=Path, default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "zipapp.json")
    args = ap.parse_args(argv)

    python = find_python311()
    work = args.work or Path(tempfile.mkdtemp(prefix="lading-zipapp-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    shiv = ensure_tool(args.tools_venv, "shiv", python) / "bin" / "shiv"
    pex = ensure_tool(args.tools_venv, "pex", python) / "bin" / "pex"
    app = make_app(work)
    lading = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "lading"]
    env = clean_env({"PEX_ROOT": str(work / "pex-root"), "SHIV_ROOT": str(work / "shiv-root"),
                     "LADING_PYZ_ROOT": str(work / "pyz-root"), "LADING_CACHE_DIR": str(work / "lading-cache"),
                     "PIP_CACHE_DIR": str(work / "pip-cache")})
    out = work / "out"
    out.mkdir(exist_ok=True)
    artifacts = {"lading": out / "app.pyz", "shiv": out / "app.shiv", "pex": out / "app.pex"}
    builds: dict[str, list[str]] = {
        "lading": [*lading, "build", "zipapp", str(app), "-c", "bench-app", "-o", str(artifacts["lading"]), "-q"],
        "shiv": [str(shiv), "-r", str(work / "pins.txt"), str(app), "-c", "bench-app", "-o", str(artifacts["shiv"]),
                 "-p", "/usr/bin/env python3"],
        "pex": [str(pex), "-r", str(work / "pins.txt"), str(app), "-c", "bench-app", "-o", str(artifacts["pex"]),
                "--python-shebang", "/usr/bin/env python3", "--python", str(python)],
    }
    venv = work / "venv"
    log("plain venv (lading install with bytecode)")
    subprocess.run([str(python), "-m", "venv", "--clear", "--without-pip", str(venv)], check=True)
    subprocess.run([*lading, "install", str(app), "--venv", str(venv), "-q"], env=env, check=True)
    # The requirements lock does not list the application itself: add it as an installer would, a package in
    # site-packages (compiled) and a console script.
    site = next((venv / "lib").glob("python3.*/site-packages"))
    shutil.copytree(app / "bench_app", site / "bench_app", dirs_exist_ok=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(site / "bench_app")], check=True)
    script = venv / "bin" / "bench-app"
    script.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom bench_app import main\nsys.exit(main())\n")
    script.chmod(0o755)
    tools = ("lading", "shiv", "pex")
    results: dict[str, dict[str, list[float]]] = {t: {"build": [], "first": [], "warm": []} for t in tools}
    results["venv"] = {"warm": []}
    loads = [os.getloadavg()[0]]
    log("warm-up builds")
    for tool in tools:
        timed(builds[tool], env, work)
    for i in range(args.builds):
        for tool in tools:
            results[tool]["build"].append(timed(builds[tool], env, work))
        log(f"build round {i + 1}: " + ", ".join(f"{t} {results[t]['build'][-1]:.2f}s" for t in tools))
    loads.append(os.getloadavg()[0])
    roots = {"lading": "LADING_PYZ_ROOT", "shiv": "SHIV_ROOT", "pex": "PEX_ROOT"}

    def start(tool: str, root: Path) -> Callable[[], float]:
        return lambda: timed([python.as_posix(), str(artifacts[tool]), "--check"], {**env, roots[tool]: str(root)},
                             work, "ok")

    # Every first start begins from the same state: earlier runs' writes flushed (os.sync) and no deletion going
    # on (removing a filled root keeps the file system busy for seconds after rmtree returns, which would fall
    # on the next tool's run): the roots are removed after the last round.
    shutil.rmtree(work / "first", ignore_errors=True)
    for i in range(args.first):
        for tool in tools:
            root = work / "first" / f"{tool}-{i}"
            os.sync()
            results[tool]["first"].append(start(tool, root)())
        log(f"first start round {i + 1}: " + ", ".join(f"{t} {results[t]['first'][-1]:.2f}s" for t in tools))
    loads.append(os.getloadavg()[0])
    shutil.rmtree(work / "first", ignore_errors=True)
    os.sync()
    warm_roots = {tool: work / "warm" / tool for tool in tools}
    for tool in tools:
        start(tool, warm_roots[tool])()  # fill the root
    for _ in range(args.warm):
        results["venv"]["warm"].append(timed([str(venv / "bin" / "bench-app"), "--check"], env, work, "ok"))
        for tool in tools:
            results[tool]["warm"].append(start(tool, warm_roots[tool])())
    loads.append(os.getloadavg()[0])

    med = {t: {k: statistics.median(v) for k, v in r.items() if v} for t, r in results.items()}
    venv_warm = med["venv"]["warm"]
    summary = {
        tool: {
            "build_s": round(med[tool]["build"], 3),
            "first_start_s": round(med[tool]["first"], 3),
            "warm_start_s": round(med[tool]["warm"], 4),
            "warm_overhead_ms": round((med[tool]["warm"] - venv_warm) * 1000, 1),
            "size_mb": round(artifacts[tool].stat().st_size / 1e6, 2),
        }
        for tool in tools
    }
    ratios = {
        "build_lading_over_shiv": round(med["lading"]["build"] / med["shiv"]["build"], 3),
        "build_lading_over_pex": round(med["lading"]["build"] / med["pex"]["build"], 3),
        "first_start_lading_over_shiv": round(med["lading"]["first"] / med["shiv"]["first"], 3),
        "first_start_lading_over_pex": round(med["lading"]["first"] / med["pex"]["first"], 3),
        "size_lading_over_shiv": round(artifacts["lading"].stat().st_size / artifacts["shiv"].stat().st_size, 3),
    }
    report = {
        "what": "zipapp build, first start, warm start overhead and size: lading vs shiv vs pex, service app",
        "runs": {"builds": args.builds, "first": args.first, "warm": args.warm},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_1min_during": [round(x, 2) for x in loads]},
        "tools": {"shiv": TOOL_PINS["shiv"][0], "pex": TOOL_PINS["pex"][0]},
        "venv_warm_start_s": round(venv_warm, 4),
        "summary": summary,
        "ratios": ratios,
        "goals": {"build <= 0.3 x shiv": ratios["build_lading_over_shiv"] <= 0.3,
                  "first start <= 0.5 x shiv": ratios["first_start_lading_over_shiv"] <= 0.5,
                  "warm overhead <= 30 ms": summary["lading"]["warm_overhead_ms"] <= 30},
        "samples": {t: {k: [round(x, 4) for x in v] for k, v in r.items()} for t, r in results.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"summary": summary, "ratios": ratios, "goals": report["goals"],
                      "venv_warm_start_s": report["venv_warm_start_s"], "load": loads}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
