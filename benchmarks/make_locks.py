#!/usr/bin/env python3
"""Regenerate the locks of the benchmark service project in ``benchmarks/service/``.

Usage::

    python3 benchmarks/make_locks.py [--tools-venv .tools-venv] [--only uv,poetry,pipenv,pip-compile,pylock]

Each tool resolves the same dependency list (``DEPENDENCIES``) for CPython 3.11 on linux x86_64 and writes its own
lock; the committed copies carry the index placeholders instead of the index URLs (see ``_common.py``). Standard
library only; the tools are the pinned versions in ``_common.TOOL_PINS``, each in its own venv.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DEFAULT_TOOLS_VENV,
    SERVICE_DIR,
    clean_env,
    ensure_tool,
    find_python311,
    index_values,
    log,
    run,
    to_placeholders,
    tool_version,
)

NAME = "bench-service"

# A typical web service: API + ASGI server, database, task queue, cloud SDK, templates, settings, HTTP client.
DEPENDENCIES: list[str] = [
    "fastapi>=0.115",
    "uvicorn[standard]>=0.30",
    "gunicorn>=23",
    "sqlalchemy>=2.0",
    "alembic>=1.13",
    "psycopg[binary]>=3.2",
    "celery[redis]>=5.4",
    "redis>=5",
    "boto3>=1.35",
    "jinja2>=3.1",
    "pydantic-settings>=2.4",
    "httpx>=0.27",
    "orjson>=3.10",
    "cryptography>=43",
    "python-multipart>=0.0.9",
    "structlog>=24",
    "prometheus-client>=0.20",
]

REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[(?P<extras>[^\]]+)\])?(?P<spec>.*)$")


def pyproject(simple_url: str) -> str:
    deps = "".join(f'    "{d}",\n' for d in DEPENDENCIES)
    # No [build-system] and package-mode = false: uv and poetry treat the project as virtual (never installed).
    # The index is an explicit legacy (HTML simple API) poetry source: the index reachable here serves no JSON API.
    return (
        "[project]\n"
        f'name = "{NAME}"\n'
        'version = "1.0.0"\n'
        'description = "Benchmark service for lading: an API with database, task queue and cloud SDK"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{deps}]\n"
        "\n[tool.poetry]\npackage-mode = false\n"
        f'\n[[tool.poetry.source]]\nname = "index"\nurl = "{simple_url}/"\npriority = "primary"\n'
    )


def pipfile(simple_url: str) -> str:
    lines = []
    for d in DEPENDENCIES:
        m = REQUIREMENT.match(d)
        assert m, d
        spec = m["spec"].strip() or "*"
        if m["extras"]:
            extras = ", ".join(json.dumps(e.strip()) for e in m["extras"].split(","))
            lines.append(f'{m["name"]} = {{extras = [{extras}], version = "{spec}"}}')
        else:
            lines.append(f'{m["name"]} = "{spec}"')
    return (
        f'[[source]]\nurl = "{simple_url}"\nverify_ssl = true\nname = "pypi"\n\n'
        "[packages]\n" + "\n".join(lines) + "\n\n[dev-packages]\n\n"
        '[requires]\npython_version = "3.11"\n'
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    ap.add_argument("--only", default="uv,poetry,pipenv,pip-compile,pylock")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))

    py311 = find_python311()
    tools_root = args.tools_venv.resolve()
    tools = {n: ensure_tool(tools_root, n, py311) for n in ("uv", "poetry2", "pipenv", "piptools", "pip")}
    values = index_values(tools["pip"] / "bin" / "python")
    simple = values["@@INDEX_URL@@"]
    work = Path(tempfile.mkdtemp(prefix="lading-bench-locks-"))
    log(f"== locking in {work}")
    written: dict[str, str] = {}

    files = {
        "pyproject.toml": pyproject(simple),
        "Pipfile": pipfile(simple),
        "requirements.in": "".join(d + "\n" for d in DEPENDENCIES),
    }
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
        written[name] = "manifest"

    if "uv" in only or "pylock" in only:
        uv = tools["uv"] / "bin" / "uv"
        run([uv, "lock", "--python", py311], cwd=work, what="uv lock")
        written["uv.lock"] = tool_version(tools["uv"], "uv")
        if "pylock" in only:
            run([uv, "export", "--frozen", "--format", "pylock.toml", "--no-dev", "-o", "pylock.toml"],
                cwd=work, what="uv export pylock")
            written["pylock.toml"] = tool_version(tools["uv"], "uv")
    if "poetry" in only:
        poetry_home = work.parent / (work.name + "-poetry")
        env = clean_env({"POETRY_CONFIG_DIR": str(poetry_home / "config"),
                         "POETRY_CACHE_DIR": str(poetry_home / "cache"),
                         "POETRY_DATA_DIR": str(poetry_home / "data"),
                         "POETRY_VIRTUALENVS_CREATE": "true"})
        run([py311, "-m", "venv", "--without-pip", work / ".venv"], what="venv")
        run([tools["poetry2"] / "bin" / "poetry", "lock"], cwd=work, env=env, what="poetry lock")
        written["poetry.lock"] = tool_version(tools["poetry2"], "poetry2")
        shutil.rmtree(poetry_home, ignore_errors=True)
    if "pipenv" in only:
        pipenv_home = work.parent / (work.name + "-pipenv")
        env = clean_env({"PIPENV_CACHE_DIR": str(pipenv_home)})
        if not (work / ".venv").exists():
            run([py311, "-m", "venv", work / ".venv"], what="venv")
        run([tools["pipenv"] / "bin" / "pipenv", "lock"], cwd=work, env=env, what="pipenv lock")
        written["Pipfile.lock"] = tool_version(tools["pipenv"], "pipenv")
        shutil.rmtree(pipenv_home, ignore_errors=True)
    if "pip-compile" in only:
        run([tools["piptools"] / "bin" / "pip-compile", "--generate-hashes", "--strip-extras", "--no-config",
             "-o", "requirements.txt", "requirements.in"], cwd=work, what="pip-compile")
        written["requirements.txt"] = tool_version(tools["piptools"], "piptools")

    SERVICE_DIR.mkdir(parents=True, exist_ok=True)
    for name in written:
        raw = (work / name).read_bytes().decode("utf-8")
        with open(SERVICE_DIR / name, "w", encoding="utf-8", newline="") as fh:
            fh.write(to_placeholders(raw, values))
    leaks = [p.name for p in SERVICE_DIR.iterdir()
             if p.is_file() and any(h in p.read_text(encoding="utf-8")
                                    for h in (values["@@INDEX_HOST_URL@@"].split("//")[1],
                                              values["@@FILES_URL@@"].split("//")[1]))]
    if leaks:
        log(f"!! index host still present in {leaks}")
        return 1
    tools_json = SERVICE_DIR / "generated-by.json"
    previous = json.loads(tools_json.read_text()) if tools_json.exists() else {}
    previous.update({k: v for k, v in written.items() if v != "manifest"})
    tools_json.write_text(json.dumps(dict(sorted(previous.items())), indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    log(f"== wrote {', '.join(written)} to {SERVICE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
