"""``lading inspect``: what a zipapp built by lading carries: its build metadata and its lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lading.cli import common

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "inspect", help="print the lock and build metadata a zipapp carries",
        description="Print the build metadata (lading version, target, entry point, created time, content "
        "hash) and the embedded lock of a zipapp made by `lading build zipapp`.",
    )
    parser.add_argument("artifact", type=Path, metavar="APP.pyz", help="the zipapp")
    parser.add_argument("--lock-only", action="store_true", help="print only the embedded lock")
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.artifacts.zipapp import read_embedded

    embedded = read_embedded(args.artifact)
    meta = embedded.metadata
    if args.json:
        common.print_json({
            "version": REPORT_VERSION,
            "path": str(args.artifact),
            "build": dict(meta),
            "lock": {"member": embedded.lock_member, "text": embedded.lock_text},
            "sbom": embedded.sbom,
        })
        return 0
    if args.lock_only:
        sys.stdout.write(embedded.lock_text or "")
        return 0
    print(_summary(meta))
    if embedded.lock_text is not None:
        print(f"\n# {embedded.lock_member}")
        sys.stdout.write(embedded.lock_text if embedded.lock_text.endswith("\n") else embedded.lock_text + "\n")
    return 0


def _summary(meta: Any) -> str:
    def get(*keys: str) -> Any:
        value = meta
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    targets = get("targets") or []
    target_text = "; ".join(
        " ".join(str(t.get(k)) for k in ("implementation_name", "python_full_version", "sys_platform",
                                        "platform_machine") if isinstance(t, dict) and t.get(k))
        for t in targets
    )
    application = get("application") or {}
    script = get("console_script")
    rows = [
        ("application", f"{application.get('name', '?')} {application.get('version', '')}".strip()),
        ("entry point", f"{get('entry_point')}" + (f" (console script {script})" if script else "")),
        ("built by", f"lading {get('lading')}"),
        ("created", str(get("created"))),
        ("content hash", str(get("content_hash"))),
        ("target", target_text or "?"),
        ("python", str(get("python", "requires") or "any the locked files suit")
         + (f", bytecode {', '.join(get('python', 'bytecode'))}" if get("python", "bytecode") else ", no bytecode")),
        ("shebang", f"#!{get('shebang')}"),
        ("lock", f"{get('lock', 'file')} ({get('lock', 'format')}), embedded as {get('lock', 'embedded')}"),
        ("distributions", ", ".join(f"{d.get('name')} {d.get('version')}" for d in get("distributions") or []
                                     if isinstance(d, dict))),
        ("payload", f"{get('payload', 'files')} files, {(get('payload', 'bytes') or 0) / 1e6:.1f} MB unpacked"),
        ("sbom", str(get("sbom") or "none")),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in rows)
