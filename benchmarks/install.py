#!/usr/bin/env python3
"""Benchmark: install the service lock (``benchmarks/service``) into a new venv with lading and its peers.

Usage::

    python3 benchmarks/install.py                        # every tool, warm and cold, with and without bytecode
    python3 benchmarks/install.py --tools lading,uv      # re-run lading (and uv, the reference) only
    python3 benchmarks/install.py --runs 5 --cold-runs 3 --scenarios warm

Method (see BENCHMARKS.md):

* every measured run installs into a NEW venv ``<project>/.venv`` created by ``python -m venv --without-pip``
  before the clock starts (venv creation is excluded from every tool's time equally); tools that drive pip inside
  the venv (pip, micropipenv, pipenv) get pip 26.3 seeded into it, also before the clock starts;
* each variant (tool x bytecode setting) has a private cache directory per scenario: ``warm`` primes it with one
  unmeasured run and keeps it, ``cold`` empties it before every run (the OS page cache is not dropped);
* rounds alternate the variants round-robin, starting one variant later each round; the reported figure is the
  median of the rounds;
* wall time is measured around the tool's process; peak memory is ``ru_maxrss`` of the tool's process tree from
  ``os.wait4`` (the largest single process, children included once reaped) and, sampled every 20 ms from /proc,
  the largest simultaneous RSS sum and PSS sum over the tree (PSS counts a page shared by a forked worker
  and its parent once, split between them; the RSS sum counts it in each);
* after every run (unmeasured) the venv is checked: the installed distributions must equal the locked set for
  this interpreter, and the number of ``.pyc`` files is recorded.

A variant whose command fails is skipped for the rest of the run with a note (``lading install`` may not exist
yet). Results: a JSON file and a markdown table (``--out``, ``--markdown``). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    DEFAULT_TOOLS_VENV,
    REPO_ROOT,
    SERVICE_DIR,
    ToolFailure,
    clean_env,
    compile_lading,
    ensure_tool,
    find_python311,
    index_values,
    log,
    materialize,
    parse_runs_for,
    run,
    tool_version,
)

TOOLS = ("lading", "uv", "pip", "micropipenv", "poetry", "pipenv")
SEED_PIP = "pip==26.3"
EXCLUDED = {"pip", "setuptools", "wheel"}
ALL_FILES = ("pyproject.toml", "uv.lock", "poetry.lock", "Pipfile", "Pipfile.lock", "requirements.in",
             "requirements.txt", "pylock.toml")
REQ_FILES = ("requirements.in", "requirements.txt")
PIPENV_FILES = ("Pipfile", "Pipfile.lock")
POETRY_FILES = ("pyproject.toml", "poetry.lock")


@dataclass
class Ctx:
    python: Path
    tools_root: Path
    work: Path
    lading: list[str]
    lading_lock: str
    values: dict[str, str]
    settle: float = 0.0  # cold runs: sync and wait this long after emptying the cache (see --settle)
    set_aside: bool = False  # old caches and venvs are renamed away during the run, removed at its end


def discard(ctx: Ctx, path: Path) -> None:
    """Remove a cache or venv of an earlier run: now, or (``--set-aside``) by renaming it into the work
    directory's ``trash``, emptied when the benchmark ends (no mass deletion while a tool is measured)."""
    if not ctx.set_aside:
        shutil.rmtree(path)
        return
    trash = ctx.work / "trash"
    trash.mkdir(exist_ok=True)
    path.rename(trash / f"{path.name}-{time.monotonic_ns()}")


@dataclass(frozen=True)
class Variant:
    tool: str
    bytecode: bool
    label: str  # the command as shown in the table
    needs_pip: bool
    files: tuple[str, ...]  # the service files in the tool's project dir (pipenv prefers a pylock.toml beside)
    command: Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]  # (ctx, project, venv, cache)

    @property
    def id(self) -> str:
        return f"{self.tool}-{'pyc' if self.bytecode else 'nopyc'}"


def _tool(ctx: Ctx, venv: str, exe: str) -> str:
    return str(ctx.tools_root / venv / "bin" / exe)


def _activated(venv: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a shell where ``venv`` is activated, plus ``extra``."""
    env = clean_env(extra)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def cmd_lading(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [*ctx.lading, "install", ctx.lading_lock, "--venv", str(venv)]
        if not bytecode:
            cmd.append("--no-compile")
        return cmd, clean_env({"LADING_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")})

    return make


def cmd_uv(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [_tool(ctx, "uv", "uv"), "pip", "sync", "--python", str(venv / "bin" / "python"), "requirements.txt"]
        if bytecode:
            cmd.append("--compile-bytecode")
        return cmd, clean_env({"UV_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")})

    return make


def cmd_pip(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [str(venv / "bin" / "pip"), "install", "--no-deps", "--require-hashes", "-r", "requirements.txt"]
        if not bytecode:
            cmd.append("--no-compile")
        return cmd, _activated(venv, {"PIP_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")})

    return make


def cmd_micropipenv(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        # micropipenv runs `pip` (MICROPIPENV_PIP_BIN) once per package: the venv's pip, as when activated.
        cmd = [_tool(ctx, "micropipenv", "micropipenv"), "install", "--deploy"]
        if not bytecode:
            cmd += ["--", "--no-compile"]
        env = _activated(venv, {"PIP_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg"),
                                "MICROPIPENV_PIP_BIN": str(venv / "bin" / "pip"),
                                "MICROPIPENV_NO_LOCKFILE_PRINT": "1"})
        return cmd, env

    return make


def cmd_poetry(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [_tool(ctx, "poetry2", "poetry"), "sync", "--only", "main", "--no-root"]
        if bytecode:
            cmd.append("--compile")
        env = _activated(venv, {"POETRY_CACHE_DIR": str(cache / "poetry"), "POETRY_CONFIG_DIR": str(cache / "config"),
                                "POETRY_DATA_DIR": str(cache / "data"), "XDG_CACHE_HOME": str(cache / "xdg")})
        return cmd, env

    return make


def cmd_pipenv(bytecode: bool) -> Callable[[Ctx, Path, Path, Path], tuple[list[str], dict[str, str]]]:
    def make(ctx: Ctx, project: Path, venv: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        # The venv is <project>/.venv, which pipenv uses with PIPENV_VENV_IN_PROJECT=1.
        cmd = [_tool(ctx, "pipenv", "pipenv"), "sync"]
        if not bytecode:
            cmd.append("--extra-pip-args=--no-compile")
        env = clean_env({"PIPENV_CACHE_DIR": str(cache / "pipenv"), "PIP_CACHE_DIR": str(cache / "pip"),
                         "XDG_CACHE_HOME": str(cache / "xdg")})
        return cmd, env

    return make


def variants(ctx: Ctx) -> list[Variant]:
    lock = ctx.lading_lock
    sync = "uv pip sync --python V/bin/python requirements.txt"
    pip = "pip install --no-deps --require-hashes -r requirements.txt"
    return [
        Variant("lading", True, f"lading install {lock} --venv V", False, ALL_FILES, cmd_lading(True)),
        Variant("lading", False, f"lading install {lock} --venv V --no-compile", False, ALL_FILES,
                cmd_lading(False)),
        Variant("uv", False, sync, False, REQ_FILES, cmd_uv(False)),
        Variant("uv", True, f"{sync} --compile-bytecode", False, REQ_FILES, cmd_uv(True)),
        Variant("pip", True, pip, True, REQ_FILES, cmd_pip(True)),
        Variant("pip", False, f"{pip} --no-compile", True, REQ_FILES, cmd_pip(False)),
        Variant("micropipenv", True, "micropipenv install --deploy", True, PIPENV_FILES, cmd_micropipenv(True)),
        Variant("micropipenv", False, "micropipenv install --deploy -- --no-compile", True, PIPENV_FILES,
                cmd_micropipenv(False)),
        Variant("poetry", False, "poetry sync --only main --no-root", False, POETRY_FILES, cmd_poetry(False)),
        Variant("poetry", True, "poetry sync --only main --no-root --compile", False, POETRY_FILES,
                cmd_poetry(True)),
        Variant("pipenv", True, "pipenv sync", True, PIPENV_FILES, cmd_pipenv(True)),
        Variant("pipenv", False, "pipenv sync --extra-pip-args=--no-compile", True, PIPENV_FILES,
                cmd_pipenv(False)),
    ]


# --------------------------------------------------------------------------------------------------------------
# Measuring one process tree
# --------------------------------------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def _pss_kb(pid: int) -> int:
    """Proportional set size: pages shared between processes (a forked worker and its parent) counted once
    in all, split between the sharers; the RSS sum counts them in every process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the summed RSS and PSS of a process and its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            kids = _children_map()
            total, pss, todo = 0, 0, [self.pid]
            while todo:
                p = todo.pop()
                total += _rss_kb(p)
                pss += _pss_kb(p)
                todo.extend(kids.get(p, ()))
            self.peak_kb = max(self.peak_kb, total)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Measurement:
    ok: bool
    seconds: float
    maxrss_mb: float  # largest single process of the tree (ru_maxrss)
    tree_mb: float  # largest sampled RSS sum of the tree
    tree_pss_mb: float  # largest sampled PSS sum of the tree (shared pages counted once)
    output_tail: str = ""
    installed: int = 0
    pyc: int = 0
    check: str = ""


def measure(cmd: list[str], cwd: Path, env: dict[str, str], log_path: Path, timeout: float) -> Measurement:
    with open(log_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - t0
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
    return Measurement(
        ok=proc.returncode == 0,
        seconds=seconds,
        maxrss_mb=usage.ru_maxrss / 1024,
        tree_mb=sampler.peak_kb / 1024,
        tree_pss_mb=sampler.peak_pss_kb / 1024,
        output_tail=tail if proc.returncode else "",
    )


# --------------------------------------------------------------------------------------------------------------
# Venvs and checks
# --------------------------------------------------------------------------------------------------------------

READ_ENV = (
    "import importlib.metadata as m, json, sys, pathlib; "
    "sp = [p for p in sys.path if p.endswith('site-packages')][0]; "
    "print(json.dumps({'dists': sorted({(d.metadata['Name'], d.version) for d in m.distributions()}), "
    "'pyc': sum(1 for _ in pathlib.Path(sp).rglob('*.pyc'))}))"
)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def expected_set(ctx: Ctx) -> dict[str, str]:
    """What the lock installs here: requirements.txt (pip-compile resolved it for this interpreter)."""
    found: dict[str, str] = {}
    for line in (SERVICE_DIR / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if m:
            found[canonical(m[1])] = m[2]
    return found


def new_venv(ctx: Ctx, venv: Path, with_pip: bool) -> None:
    if venv.exists():
        discard(ctx, venv)
    run([ctx.python, "-m", "venv", "--without-pip", venv], what="venv")
    if with_pip:
        # Seeded from a cache private to the harness, never one a benchmarked tool uses.
        run([_tool(ctx, "uv", "uv"), "pip", "install", "-q", "--python", venv / "bin" / "python", SEED_PIP],
            env=clean_env({"UV_CACHE_DIR": str(ctx.work / "seed-cache")}), what="seed pip")


def check_venv(venv: Path, expected: dict[str, str]) -> tuple[int, int, str]:
    out = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", READ_ENV], capture_output=True, text=True)
    if out.returncode != 0:
        return 0, 0, "cannot read the venv: " + out.stderr.strip()[-300:]
    data = json.loads(out.stdout)
    got = {canonical(n): v for n, v in data["dists"] if canonical(n) not in EXCLUDED}
    problems = []
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = sorted(n for n in set(expected) & set(got) if expected[n] != got[n])
    if missing:
        problems.append(f"missing {missing}")
    if extra:
        problems.append(f"extra {extra}")
    if wrong:
        problems.append(f"other versions {wrong}")
    return len(got), int(data["pyc"]), "; ".join(problems) or "ok"


# --------------------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------------------


@dataclass
class VariantState:
    variant: Variant
    project: Path
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    skipped: Optional[str] = None
    primed: bool = False  # the cache holds what one complete run leaves behind


def one_run(ctx: Ctx, st: VariantState, scenario: str, expected: dict[str, str], timeout: float,
            label: str) -> Measurement:
    v = st.variant
    venv = st.project / ".venv"
    # One cache per variant: cold empties it before the run; warm keeps what the previous run left
    # (the last cold run, or an unmeasured priming run).
    cache = ctx.work / "cache" / v.id
    if scenario == "cold" and cache.exists():
        discard(ctx, cache)
    cache.mkdir(parents=True, exist_ok=True)
    new_venv(ctx, venv, v.needs_pip)
    if scenario == "cold" and ctx.settle > 0:
        os.sync()  # written-back inode tables: ext4 then stops skipping the just-freed inodes after 5 s
        time.sleep(ctx.settle)
    cmd, env = v.command(ctx, st.project, venv, cache)
    logs = ctx.work / "logs"
    logs.mkdir(exist_ok=True)
    m = measure(cmd, st.project, env, logs / f"{scenario}-{v.id}-{label}.log", timeout)
    if m.ok:
        m.installed, m.pyc, m.check = check_venv(venv, expected)
    st.primed = m.ok
    log(f"  {scenario:4} {v.id:18} {label:6} {m.seconds:7.2f}s  maxrss {m.maxrss_mb:6.0f} MB  "
        f"tree {m.tree_mb:6.0f} MB  {'ok' if m.ok else 'FAILED'}  pyc={m.pyc}  {m.check}")
    return m


def summarize(states: list[VariantState], scenarios: list[str]) -> dict[str, dict[str, dict[str, object]]]:
    summary: dict[str, dict[str, dict[str, object]]] = {}
    for scenario in scenarios:
        rows: dict[str, dict[str, object]] = {}
        for st in states:
            ms = [m for m in st.runs.get(scenario, []) if m.ok]
            if not ms:
                continue
            secs = [m.seconds for m in ms]
            rows[st.variant.id] = {
                "tool": st.variant.tool,
                "bytecode": st.variant.bytecode,
                "command": st.variant.label,
                "runs": len(ms),
                "median_s": statistics.median(secs),
                "min_s": min(secs),
                "max_s": max(secs),
                "maxrss_mb": statistics.median(m.maxrss_mb for m in ms),
                "maxrss_mb_max": max(m.maxrss_mb for m in ms),
                "tree_mb": statistics.median(m.tree_mb for m in ms),
                "tree_mb_max": max(m.tree_mb for m in ms),
                "tree_pss_mb": statistics.median(m.tree_pss_mb for m in ms),
                "tree_pss_mb_max": max(m.tree_pss_mb for m in ms),
                "pyc": statistics.median(m.pyc for m in ms),
                "installed": statistics.median(m.installed for m in ms),
                "checks": sorted({m.check for m in ms}),
            }
        for row in rows.values():
            for ref in ("uv", "pip", "micropipenv"):
                ref_row = rows.get(f"{ref}-{'pyc' if row['bytecode'] else 'nopyc'}")
                if ref_row:
                    row[f"ratio_to_{ref}"] = float(row["median_s"]) / float(ref_row["median_s"])  # type: ignore[arg-type]
        summary[scenario] = rows
    return summary


def markdown(summary: dict[str, dict[str, dict[str, object]]], meta: dict[str, object]) -> str:
    order = {t: i for i, t in enumerate(TOOLS)}
    out = [
        "Times: median of n runs (min-max in brackets). "
        "Ratios: median / median of the reference tool in the same scenario and bytecode setting. "
        "Peak memory: median over the runs of the largest single process (ru_maxrss) / of the sampled RSS sum "
        "over the process tree / of the sampled PSS sum (pages shared by forked processes counted once).",
        "",
    ]
    for scenario, rows in summary.items():
        out.append(f"### {scenario} cache")
        out.append("")
        out.append("| tool | bytecode | n | median s (min-max) | x uv | x pip | x micropipenv "
                   "| peak MB: process RSS / tree RSS / tree PSS | .pyc files | command |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in sorted(rows.values(), key=lambda row: (not row["bytecode"], order[str(row["tool"])])):
            def ratio(key: str, r: dict[str, object] = r) -> str:
                return f"{r[key]:.2f}" if key in r else "-"

            check = "" if r["checks"] == ["ok"] else " (check: " + "; ".join(r["checks"]) + ")"  # type: ignore[arg-type]
            out.append(
                f"| {r['tool']} | {'yes' if r['bytecode'] else 'no'} | {r['runs']} | {r['median_s']:.2f} "
                f"({r['min_s']:.2f}-{r['max_s']:.2f}) | {ratio('ratio_to_uv')} | {ratio('ratio_to_pip')} | "
                f"{ratio('ratio_to_micropipenv')} | {r['maxrss_mb']:.0f} / {r['tree_mb']:.0f} / "
                f"{r['tree_pss_mb']:.0f} | {r['pyc']:.0f} | "
                f"`{r['command']}`{check} |"
            )
        out.append("")
    skipped = meta.get("skipped")
    if isinstance(skipped, dict) and skipped:
        out.append("Skipped variants:")
        out.append("")
        for vid, why in skipped.items():
            out.append(f"- `{vid}`: {why}")
        out.append("")
    return "\n".join(out)


def machine_info(work: Path, python: Path) -> dict[str, str]:
    fs = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()
    os_release = {}
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                os_release[k] = v.strip('"')
    pyver = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                           capture_output=True, text=True).stdout.strip()
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    if Path("/proc/meminfo").exists():
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "os": os_release.get("PRETTY_NAME", platform.platform()),
        "kernel": platform.release(),
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": f"CPython {pyver} ({python})",
        "work_dir": str(work),
        "work_fs": fs[1].split()[1] if len(fs) > 1 else "?",
    }


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="measured runs per variant, warm cache (default 5)")
    ap.add_argument("--cold-runs", type=int, help="measured runs per variant, cold cache (default: --runs)")
    ap.add_argument("--runs-for", action="append", default=[], metavar="TOOL[:SCENARIO]=N",
                    help="fewer (or more) runs for one tool, e.g. pipenv=2 or micropipenv:cold=1 (repeatable)")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {', '.join(TOOLS)}")
    ap.add_argument("--scenarios", default="cold,warm",
                    help="cold, warm or both, in this order (default cold,warm: the last cold run primes warm)")
    ap.add_argument("--bytecode", choices=("both", "yes", "no"), default="both")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lading-bench"),
                    help="scratch directory (projects, venvs, caches); on the filesystem to measure")
    ap.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    ap.add_argument("--lading", default=str(REPO_ROOT / ".venv" / "bin" / "lading"),
                    help="lading command (split on spaces)")
    ap.add_argument("--lading-lock", default="uv.lock", help="which lock of the service lading installs")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="cold runs: after emptying the cache and making the venv, sync and wait this many seconds "
                    "before the clock starts (on ext4 without a journal, files created within seconds of a mass "
                    "deletion are slow to allocate; see BENCHMARKS.md)")
    ap.add_argument("--set-aside", action="store_true",
                    help="rename old caches and venvs into WORK/trash instead of deleting them between runs, and "
                    "empty the trash at the end: cold runs then start on a file system without a fresh mass "
                    "deletion, as a new CI runner does (see BENCHMARKS.md)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "install.json")
    ap.add_argument("--markdown", type=Path, help="markdown table (default: --out with .md)")
    args = ap.parse_args(argv)

    wanted_tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in wanted_tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in ("warm", "cold"):
            ap.error(f"unknown scenario {s!r}")
    runs: dict[str, int] = {"warm": int(args.runs), "cold": int(args.cold_runs or args.runs)}
    per_tool = parse_runs_for(args.runs_for, ap.error)

    def runs_for(tool: str, scenario: str) -> int:
        return per_tool.get((tool, scenario), runs[scenario])

    py = find_python311()
    tools_root = args.tools_venv.resolve()
    needed = {"uv", "pip"}  # uv seeds pip into venvs; pip's python knows the index URLs
    for t in wanted_tools:
        needed.add({"poetry": "poetry2"}.get(t, t))
    needed.discard("lading")
    for name in sorted(needed):
        ensure_tool(tools_root, name, py)
    versions = {n: tool_version(tools_root / n, n) for n in sorted(needed)}

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(py, tools_root, work, args.lading.split(), args.lading_lock,
              index_values(tools_root / "pip" / "bin" / "python"), settle=args.settle,
              set_aside=args.set_aside)
    skipped: dict[str, str] = {}
    if "lading" in wanted_tools:
        compile_lading(ctx.lading)
        probe = subprocess.run([*ctx.lading, "install", "--help"], capture_output=True, text=True)
        if probe.returncode != 0:
            skipped["lading-*"] = ("`lading install --help` failed (exit code "
                                   f"{probe.returncode}): {(probe.stderr or probe.stdout).strip()[-200:]}")
            log(f"!! lading skipped: {skipped['lading-*']}")
            wanted_tools.remove("lading")
        else:
            versions["lading"] = subprocess.run([*ctx.lading, "--version"], capture_output=True,
                                                text=True).stdout.strip()

    expected = expected_set(ctx)
    states: list[VariantState] = []
    for v in variants(ctx):
        if v.tool not in wanted_tools:
            continue
        if args.bytecode != "both" and v.bytecode != (args.bytecode == "yes"):
            continue
        project = materialize(SERVICE_DIR, work / "projects" / v.id, ctx.values, v.files)
        states.append(VariantState(v, project))
    log(f"== {len(states)} variants, scenarios {scenarios}, runs {runs}, work dir {work}")
    for n, ver in versions.items():
        log(f"   {n}: {ver}")

    started = time.monotonic()
    for scenario in scenarios:
        for i in range(max(runs_for(t, scenario) for t in wanted_tools) if wanted_tools else 0):
            live = [st for st in states if not st.skipped and i < runs_for(st.variant.tool, scenario)]
            if not live:
                break
            if scenario == "warm":
                for st in live:
                    if not st.primed:
                        m = one_run(ctx, st, scenario, expected, args.timeout, "prime")
                        if not m.ok:
                            st.skipped = f"priming run failed; output tail:\n{m.output_tail}"
                live = [st for st in live if not st.skipped]
            shift = i % len(live) if live else 0
            log(f"== {scenario} round {i + 1}")
            for st in live[shift:] + live[:shift]:
                m = one_run(ctx, st, scenario, expected, args.timeout, f"r{i + 1}")
                st.runs.setdefault(scenario, []).append(m)
                if not m.ok:
                    st.skipped = f"{scenario} run {i + 1} failed; output tail:\n{m.output_tail}"
                    log(f"!! {st.variant.id} skipped from now on:\n{m.output_tail}")
    elapsed = time.monotonic() - started
    if (work / "trash").exists():
        log("== emptying the trash of set-aside caches and venvs")
        shutil.rmtree(work / "trash")
    for st in states:
        if st.skipped:
            skipped[st.variant.id] = st.skipped.splitlines()[0]

    summary = summarize(states, scenarios)
    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_info(work, py),
        "versions": versions,
        "runs": runs,
        "runs_per_tool": {f"{t}:{sc}": n for (t, sc), n in sorted(per_tool.items())},
        "scenarios": scenarios,
        "lading_lock": args.lading_lock,
        "settle_s": args.settle,
        "set_aside": args.set_aside,
        "loadavg_at_end": os.getloadavg(),
        "packages": len(expected),
        "harness_seconds": round(elapsed),
        "skipped": skipped,
        "venv": "python -m venv --without-pip, created before the clock starts (excluded); pip 26.3 seeded "
                "for pip, micropipenv and pipenv (excluded)",
    }
    result = {
        "meta": meta,
        "summary": summary,
        "raw": {
            st.variant.id: {s: [m.__dict__ for m in ms] for s, ms in st.runs.items()} for st in states
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path = args.markdown or args.out.with_suffix(".md")
    md_path.write_text(markdown(summary, meta) + "\n")
    log(f"== done in {elapsed:.0f}s: {args.out}, {md_path}")
    print(markdown(summary, meta))
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except ToolFailure as exc:
        log(f"FAILED: {exc}")
        raise SystemExit(1) from None
