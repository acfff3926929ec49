#!/usr/bin/env python3
"""Benchmark: resolve a manifest into a lock with lading and its peers, cold and warm.

Usage::

    python3 benchmarks/lock.py                               # every tool, both sets, cold then warm
    python3 benchmarks/lock.py --tools lading,uv-compile     # lading and the reference only
    python3 benchmarks/lock.py --sets large --runs 5 --cold-runs 3 --runs-for pipenv=1

Sets: ``service`` (``benchmarks/service``: 17 direct requirements, 59 packages here) and ``large``
(``benchmarks/large``: jupyterlab + pandas + scikit-learn + matplotlib + requests, 100+ packages). Each set has the
same requirements as ``requirements.in``, ``pyproject.toml`` ([project] + a poetry legacy source) and ``Pipfile``.

Method (see BENCHMARKS.md, section "Locking"):

* every tool resolves in its own copy of the set's project directory holding only the manifest it reads; the lock it
  writes (and any other lock a tool would keep versions from) is deleted before every run, so every run resolves;
* each (tool, set) has a private cache directory, passed through the tool's own variables: ``cold`` empties it
  before every run, ``warm`` keeps it (the cold rounds run first, the last cold run leaves the cache a warm run
  starts from; a variant without a cold run gets one unmeasured priming run);
* rounds alternate the variants round-robin, starting one variant later each round; reported: the median;
* wall time around the tool's process, peak memory as in ``install.py``;
* after the runs (unmeasured), the versions lading picked are compared with ``uv pip compile``'s for the same set
  (both resolve for this interpreter against the same index within minutes of each other).

Standard library only; tools are the pinned versions of ``_common.TOOL_PINS`` in ``.tools-venv``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    DEFAULT_TOOLS_VENV,
    REPO_ROOT,
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
from install import Measurement, canonical, machine_info, measure

SETS = {"service": BENCH_DIR / "service", "large": BENCH_DIR / "large"}
TOOLS = ("lading", "uv-compile", "uv-lock", "pip-compile", "pip-lock", "poetry", "pipenv", "pdm")
#: Every lock file a tool writes or would keep versions from; all are deleted before each run.
OUTPUTS = ("requirements.txt", "pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock")


@dataclass
class Ctx:
    python: Path
    tools_root: Path
    work: Path
    lading: list[str]
    values: dict[str, str]


Command = Callable[[Ctx, Path, Path], tuple[list[str], dict[str, str]]]  # (ctx, project, cache)


@dataclass(frozen=True)
class Tool:
    name: str
    label: str  # the command as shown in the table
    files: tuple[str, ...]  # the set's files copied into the project directory
    output: str  # the lock it writes (read for the version comparison)
    command: Command
    venv: Optional[str] = None  # tool venv under .tools-venv (None: lading)
    needs_venv: bool = False  # pipenv: a project venv (with pip) created before the clock


def _exe(ctx: Ctx, venv: str, name: str) -> str:
    return str(ctx.tools_root / venv / "bin" / name)


def cmd_lading(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([*ctx.lading, "lock", "requirements.in"],
            clean_env({"LADING_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_uv_compile(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([_exe(ctx, "uv", "uv"), "pip", "compile", "--generate-hashes", "--python", str(ctx.python), "-q",
             "requirements.in", "-o", "requirements.txt"],
            clean_env({"UV_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_uv_lock(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([_exe(ctx, "uv", "uv"), "lock", "--python", str(ctx.python)],
            clean_env({"UV_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_pip_compile(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    # pip-tools keeps its own dependency cache under XDG_CACHE_HOME/pip-tools.
    return ([_exe(ctx, "piptools", "pip-compile"), "--generate-hashes", "--no-config", "-q", "-o",
             "requirements.txt", "requirements.in"],
            clean_env({"PIP_CACHE_DIR": str(cache / "pip"), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_pip_lock(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([_exe(ctx, "pip", "python"), "-m", "pip", "lock", "-q", "-r", "requirements.in", "-o", "pylock.toml"],
            clean_env({"PIP_CACHE_DIR": str(cache / "pip"), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_poetry(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([_exe(ctx, "poetry2", "poetry"), "lock"],
            clean_env({"POETRY_CACHE_DIR": str(cache / "poetry"), "POETRY_CONFIG_DIR": str(cache / "config"),
                       "POETRY_DATA_DIR": str(cache / "data"), "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_pipenv(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return ([_exe(ctx, "pipenv", "pipenv"), "lock"],
            clean_env({"PIPENV_CACHE_DIR": str(cache / "pipenv"), "PIP_CACHE_DIR": str(cache / "pip"),
                       "XDG_CACHE_HOME": str(cache / "xdg")}))


def cmd_pdm(ctx: Ctx, project: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    # PDM_PYTHON: the interpreter to lock for (no .pdm-python file, no venv); the default index as pdm's pypi.url.
    return ([_exe(ctx, "pdm", "pdm"), "lock"],
            clean_env({"PDM_CACHE_DIR": str(cache / "pdm"), "PDM_HOME": str(cache / "home"),
                       "PDM_CONFIG_FILE": str(cache / "config.toml"), "PDM_PYTHON": str(ctx.python),
                       "PDM_CHECK_UPDATE": "false", "PDM_NON_INTERACTIVE": "1",
                       "XDG_CACHE_HOME": str(cache / "xdg"), "XDG_CONFIG_HOME": str(cache / "xdg-config"),
                       "XDG_DATA_HOME": str(cache / "xdg-data")}))


ALL_TOOLS = {
    "lading": Tool("lading", "lading lock requirements.in", ("requirements.in",), "requirements.txt", cmd_lading),
    "uv-compile": Tool("uv-compile", "uv pip compile --generate-hashes requirements.in -o requirements.txt",
                       ("requirements.in",), "requirements.txt", cmd_uv_compile, "uv"),
    "uv-lock": Tool("uv-lock", "uv lock", ("pyproject.toml",), "uv.lock", cmd_uv_lock, "uv"),
    "pip-compile": Tool("pip-compile", "pip-compile --generate-hashes requirements.in", ("requirements.in",),
                        "requirements.txt", cmd_pip_compile, "piptools"),
    "pip-lock": Tool("pip-lock", "pip lock -r requirements.in", ("requirements.in",), "pylock.toml", cmd_pip_lock,
                     "pip"),
    "poetry": Tool("poetry", "poetry lock", ("pyproject.toml",), "poetry.lock", cmd_poetry, "poetry2"),
    "pipenv": Tool("pipenv", "pipenv lock", ("Pipfile",), "Pipfile.lock", cmd_pipenv, "pipenv", needs_venv=True),
    "pdm": Tool("pdm", "pdm lock", ("pyproject.toml",), "pdm.lock", cmd_pdm, "pdm"),
}


@dataclass
class State:
    tool: Tool
    set_name: str
    project: Path
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    skipped: Optional[str] = None
    primed: bool = False
    packages: int = 0

    @property
    def id(self) -> str:
        return f"{self.set_name}/{self.tool.name}"


def count_packages(path: Path) -> int:
    """Packages in the lock just written (for the table; formats differ, so a rough per-format count)."""
    if not path.exists():
        return 0
    text = path.read_text(encoding="utf-8")
    if path.name == "requirements.txt":
        return len(re.findall(r"^[A-Za-z0-9._-]+(?:\[[^\]]*\])?==", text, re.M))
    if path.name == "Pipfile.lock":
        data = json.loads(text)
        return len(data.get("default", {})) + len(data.get("develop", {}))
    return len(re.findall(r"^\[\[package\]\]|^\[\[packages\]\]", text, re.M))


def pinned_versions(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if m:
            found[canonical(m[1])] = m[2]
    return found


def one_run(ctx: Ctx, st: State, scenario: str, timeout: float, label: str) -> Measurement:
    cache = ctx.work / "cache" / st.set_name / st.tool.name
    if scenario == "cold" and cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        if name not in st.tool.files:
            (st.project / name).unlink(missing_ok=True)
    cmd, env = st.tool.command(ctx, st.project, cache)
    logs = ctx.work / "logs"
    logs.mkdir(exist_ok=True)
    m = measure(cmd, st.project, env, logs / f"{scenario}-{st.set_name}-{st.tool.name}-{label}.log", timeout)
    if m.ok:
        st.packages = count_packages(st.project / st.tool.output)
        m.installed = st.packages
    st.primed = m.ok
    log(f"  {scenario:4} {st.id:22} {label:6} {m.seconds:7.2f}s  maxrss {m.maxrss_mb:6.0f} MB  "
        f"tree {m.tree_mb:6.0f} MB  {'ok' if m.ok else 'FAILED'}  packages={m.installed}")
    return m


def compare(states: list[State]) -> dict[str, dict[str, object]]:
    """lading's pins against uv pip compile's, per set (both resolved for this interpreter)."""
    result: dict[str, dict[str, object]] = {}
    for set_name in sorted({st.set_name for st in states}):
        by_tool = {st.tool.name: st for st in states if st.set_name == set_name}
        ours, ref = by_tool.get("lading"), by_tool.get("uv-compile")
        if ours is None or ref is None:
            continue
        a_path, b_path = ours.project / "requirements.txt", ref.project / "requirements.txt"
        if not a_path.exists() or not b_path.exists():
            result[set_name] = {"compared": False, "why": "a lock is missing"}
            continue
        a, b = pinned_versions(a_path), pinned_versions(b_path)
        result[set_name] = {
            "compared": True,
            "lading": len(a),
            "uv": len(b),
            "only_lading": sorted(set(a) - set(b)),
            "only_uv": sorted(set(b) - set(a)),
            "different": {n: {"lading": a[n], "uv": b[n]} for n in sorted(set(a) & set(b)) if a[n] != b[n]},
        }
        res = result[set_name]
        same = not res["only_lading"] and not res["only_uv"] and not res["different"]
        res["same"] = same
        log(f"== versions {set_name}: lading {len(a)}, uv {len(b)}: {'identical' if same else res}")
    return result


def summarize(states: list[State], scenarios: list[str]) -> dict[str, dict[str, dict[str, object]]]:
    summary: dict[str, dict[str, dict[str, object]]] = {}
    for scenario in scenarios:
        rows: dict[str, dict[str, object]] = {}
        for st in states:
            ms = [m for m in st.runs.get(scenario, []) if m.ok]
            if not ms:
                continue
            secs = [m.seconds for m in ms]
            rows[st.id] = {
                "set": st.set_name, "tool": st.tool.name, "command": st.tool.label, "runs": len(ms),
                "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
                "maxrss_mb": statistics.median(m.maxrss_mb for m in ms),
                "tree_mb": statistics.median(m.tree_mb for m in ms),
                "packages": st.packages,
            }
        for row in rows.values():
            for ref in ("lading", "uv-compile"):
                ref_row = rows.get(f"{row['set']}/{ref}")
                if ref_row:
                    row[f"ratio_to_{ref}"] = float(row["median_s"]) / float(ref_row["median_s"])  # type: ignore[arg-type]
        summary[scenario] = rows
    return summary


def markdown(summary: dict[str, dict[str, dict[str, object]]], meta: dict[str, object]) -> str:
    order = {t: i for i, t in enumerate(TOOLS)}
    out = ["Times: median of n runs (min-max). `x lading`: the tool's median / lading's (above 1: lading is "
           "faster); `x uv`: / `uv pip compile`'s. Packages: entries in the lock written (universal locks hold "
           "packages for other platforms too).", ""]
    sets = sorted({str(r["set"]) for rows in summary.values() for r in rows.values()}, key=list(SETS).index)
    for set_name in sets:
        for scenario, rows in summary.items():
            chosen = [r for r in rows.values() if r["set"] == set_name]
            if not chosen:
                continue
            out += [f"### {set_name} set, {scenario} cache", "",
                    "| tool | n | median s (min-max) | x lading | x uv | peak RSS MB: process / tree | packages "
                    "| command |", "|---|---|---|---|---|---|---|---|"]
            for r in sorted(chosen, key=lambda row: order[str(row["tool"])]):
                def ratio(key: str, r: dict[str, object] = r) -> str:
                    return f"{r[key]:.2f}" if key in r else "-"

                out.append(f"| {r['tool']} | {r['runs']} | {r['median_s']:.2f} ({r['min_s']:.2f}-{r['max_s']:.2f}) "
                           f"| {ratio('ratio_to_lading')} | {ratio('ratio_to_uv-compile')} | "
                           f"{r['maxrss_mb']:.0f} / {r['tree_mb']:.0f} | {r['packages']} | `{r['command']}` |")
            out.append("")
    versions = meta.get("version_check")
    if isinstance(versions, dict) and versions:
        out += ["Versions picked, lading vs `uv pip compile` (same interpreter, same index, same run):", ""]
        for set_name, res in versions.items():
            if not res.get("compared"):
                out.append(f"- {set_name}: not compared ({res.get('why')})")
            elif res.get("same"):
                out.append(f"- {set_name}: identical ({res['lading']} packages)")
            else:
                out.append(f"- {set_name}: DIFFERENT: only lading {res['only_lading']}, only uv {res['only_uv']}, "
                           f"versions {res['different']}")
        out.append("")
    skipped = meta.get("skipped")
    if isinstance(skipped, dict) and skipped:
        out += ["Skipped variants:", ""] + [f"- `{k}`: {v}" for k, v in skipped.items()] + [""]
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="measured runs per variant, warm cache (default 5)")
    ap.add_argument("--cold-runs", type=int, default=3, help="measured runs per variant, cold cache (default 3)")
    ap.add_argument("--runs-for", action="append", default=[], metavar="TOOL[:SCENARIO]=N",
                    help="fewer (or more) runs for one tool, e.g. pipenv=1 or poetry:warm=2 (repeatable)")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {', '.join(TOOLS)}")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of service, large")
    ap.add_argument("--scenarios", default="cold,warm", help="cold, warm or both, in this order")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lading-bench-lock"))
    ap.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    ap.add_argument("--lading", default=str(REPO_ROOT / ".venv" / "bin" / "lading"),
                    help="lading command (split on spaces)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "lock.json")
    ap.add_argument("--markdown", type=Path, help="markdown table (default: --out with .md)")
    args = ap.parse_args(argv)

    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in wanted:
        if t not in ALL_TOOLS:
            ap.error(f"unknown tool {t!r}")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    for s in sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r}")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    runs = {"warm": int(args.runs), "cold": int(args.cold_runs)}
    per_tool = parse_runs_for(args.runs_for, ap.error)

    def runs_for(tool: str, scenario: str) -> int:
        return per_tool.get((tool, scenario), runs[scenario])

    py = find_python311()
    tools_root = args.tools_venv.resolve()
    needed = {"pip"} | {ALL_TOOLS[t].venv for t in wanted if ALL_TOOLS[t].venv and ALL_TOOLS[t].venv != "pdm"}
    for name in sorted(n for n in needed if n):
        ensure_tool(tools_root, name, py)
    versions = {n: tool_version(tools_root / n, n) for n in sorted(n for n in needed if n)}
    if "pdm" in wanted:
        if not (tools_root / "pdm" / "bin" / "pdm").exists():
            log("!! pdm skipped: no .tools-venv/pdm (make_fixtures installs it)")
            wanted.remove("pdm")
        else:
            versions["pdm"] = subprocess.run([str(tools_root / "pdm" / "bin" / "pdm"), "--version"],
                                             capture_output=True, text=True).stdout.strip()
    if "lading" in wanted:
        compile_lading(args.lading.split())
        versions["lading"] = subprocess.run([*args.lading.split(), "--version"], capture_output=True,
                                            text=True).stdout.strip()

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(py, tools_root, work, args.lading.split(), index_values(tools_root / "pip" / "bin" / "python"))
    states: list[State] = []
    for set_name in sets:
        for t in wanted:
            tool = ALL_TOOLS[t]
            project = materialize(SETS[set_name], work / "projects" / set_name / t, ctx.values, tool.files)
            if tool.needs_venv:
                run([py, "-m", "venv", project / ".venv"], what="pipenv project venv")
            states.append(State(tool, set_name, project))
    log(f"== {len(states)} variants, scenarios {scenarios}, runs {runs} {per_tool or ''}, work dir {work}")
    for n, ver in versions.items():
        log(f"   {n}: {ver}")

    started = time.monotonic()
    for scenario in scenarios:
        for i in range(max(runs_for(t, scenario) for t in wanted) if wanted else 0):
            live = [st for st in states if not st.skipped and i < runs_for(st.tool.name, scenario)]
            if not live:
                break
            if scenario == "warm":
                for st in live:
                    if not st.primed:
                        m = one_run(ctx, st, scenario, args.timeout, "prime")
                        if not m.ok:
                            st.skipped = f"priming run failed; output tail:\n{m.output_tail}"
                live = [st for st in live if not st.skipped]
            shift = i % len(live) if live else 0
            log(f"== {scenario} round {i + 1}")
            for st in live[shift:] + live[:shift]:
                m = one_run(ctx, st, scenario, args.timeout, f"r{i + 1}")
                st.runs.setdefault(scenario, []).append(m)
                if not m.ok:
                    st.skipped = f"{scenario} run {i + 1} failed; output tail:\n{m.output_tail}"
                    log(f"!! {st.id} skipped from now on:\n{m.output_tail}")
    elapsed = time.monotonic() - started
    skipped = {st.id: st.skipped.splitlines()[0] for st in states if st.skipped}

    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_info(work, py),
        "versions": versions,
        "runs": runs,
        "runs_per_tool": {f"{t}:{sc}": n for (t, sc), n in sorted(per_tool.items())},
        "scenarios": scenarios,
        "sets": sets,
        "harness_seconds": round(elapsed),
        "skipped": skipped,
        "version_check": compare(states),
    }
    summary = summarize(states, scenarios)
    result = {"meta": meta, "summary": summary,
              "raw": {st.id: {s: [m.__dict__ for m in ms] for s, ms in st.runs.items()} for st in states}}
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
