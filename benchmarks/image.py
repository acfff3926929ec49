"""Image build benchmark: ``lading build image`` against pip + umoci (the daemonless way without lading).

The service app of the install benchmarks (``benchmarks/service``, its pip-compile ``requirements.txt``)
gets a tiny application module with a console script (flit_core), and is built onto the cached Debian
bookworm base of the tests (``tests/oci_base.py``, Python 3.11):

- **lading, full**: warm wheel cache, no stored layers (every layer compressed): ``lading build image``.
- **lading, app change**: one line appended to the application, warm everything: only the application
  layer is written.
- **pip + umoci, full** and **after the change** (the same steps: a Dockerfile-like rebuild):
  ``umoci unpack`` the base, ``python3 -m venv /opt/venv`` and ``pip install --no-index --find-links
  WHEELS --no-deps --require-hashes -r requirements.txt`` then the app, inside the root with chroot
  (wheels downloaded beforehand: pip's warm case), then ``umoci repack`` into a layout, and the unpacked
  root removed (lading's time includes removing its staging tree too).

Upload: a local ``docker-registry`` (``tests/registry.py``) holding the base; lading pushes with
``--push`` (its report counts the blob bytes sent); the umoci layout is copied with ``skopeo copy``. For
both, the bytes of new blobs the registry stored are measured from its storage directory.

    .venv/bin/python benchmarks/image.py [--runs 3] [--work /tmp/lading-bench-image]

Results: ``benchmarks/results/image.json`` and ``.md``. Needs root (chroot, umoci), umoci, skopeo,
docker-registry, and the package index (for the first, cold preparation only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    BENCH_DIR,
    REPO_ROOT,
    SERVICE_DIR,
    ensure_tool,
    find_python311,
    index_values,
    log,
    materialize,
    run,
)
from tests import oci_base
from tests import registry as test_registry

APP = '''"""The benchmark service's application."""

__version__ = "1.0.0"


def main() -> None:
    import fastapi, sqlalchemy, boto3  # noqa: F401
    print("bench-service answers")
'''
BUILD_SYSTEM = '''
[build-system]
requires = ["flit_core>=3.9,<4"]
build-backend = "flit_core.buildapi"

[project.scripts]
bench-service = "bench_service:main"
'''
LADING = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "lading"]


def project(work: Path, values: dict[str, str]) -> Path:
    names = ("requirements.txt", "requirements.in", "pyproject.toml")
    where = materialize(SERVICE_DIR, work / "service", values, names)
    text = (where / "pyproject.toml").read_text()
    head, _, _ = text.partition("[tool.poetry]")  # the poetry tables say package-mode = false
    (where / "pyproject.toml").write_text(head.rstrip() + "\n" + BUILD_SYSTEM)
    (where / "bench_service.py").write_text(APP)
    return where


def change_app(where: Path, n: int) -> None:
    (where / "bench_service.py").write_text(APP + f"# change {n}\n")


def timed(cmd: list[str], what: str, env: Optional[dict[str, str]] = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = run(list[object](cmd), env=env if env is not None else dict(os.environ), what=what)
    return time.perf_counter() - t0, out


def registry_bytes(storage: Path) -> int:
    blobs = storage / "docker" / "registry" / "v2" / "blobs"
    return sum(p.stat().st_size for p in blobs.rglob("data")) if blobs.is_dir() else 0


# --- lading ----------------------------------------------------------------------------------------------


def lading_build(svc: Path, out: Path, cache: Path, base: str, *extra: str, tag: str = "bench-service:1"
                 ) -> tuple[float, dict[str, Any]]:
    if out.exists():
        shutil.rmtree(out)
    seconds, text = timed([*LADING, "build", "image", str(svc), "--lock", str(svc / "requirements.txt"),
                           "--base", base, "-o", str(out), "--tag", tag, "--cache-dir", str(cache),
                           "--revision", "", "--json", *extra], "lading build image")
    return seconds, json.loads(text)


def forget_layers(cache: Path) -> None:
    shutil.rmtree(cache / "layers-v1", ignore_errors=True)


# --- pip + umoci --------------------------------------------------------------------------------------------


def wheelhouse(work: Path, svc: Path, pip: Path) -> Path:
    wheels = work / "wheels"
    stamp = wheels / ".complete"
    if stamp.exists():
        return wheels
    wheels.mkdir(parents=True, exist_ok=True)
    run([pip, "download", "--no-deps", "--require-hashes", "--only-binary=:all:", "-r", svc / "requirements.txt",
         "-d", wheels], env=dict(os.environ), what="pip download")
    run([pip, "download", "--only-binary=:all:", "flit_core>=3.9,<4", "-d", wheels], env=dict(os.environ),
        what="pip download flit_core")
    stamp.write_text("")
    return wheels


def pip_umoci(work: Path, svc: Path, wheels: Path, base_layout: Path, out: Path) -> float:
    """The whole Dockerfile-like sequence, timed: unpack, venv, pip install, repack."""
    bundle = work / "bundle"
    for path in (bundle, out):
        if path.exists():
            shutil.rmtree(path)
    shutil.copytree(base_layout, out)  # umoci repacks into the layout it unpacked from
    t0 = time.perf_counter()
    run(["umoci", "unpack", "--image", f"{out}:{oci_base.TAG}", bundle], what="umoci unpack")
    rootfs = bundle / "rootfs"
    (rootfs / "wheels").mkdir()
    (rootfs / "src").mkdir()
    shutil.copy2(svc / "requirements.txt", rootfs / "src")
    for name in ("pyproject.toml", "bench_service.py"):
        shutil.copy2(svc / name, rootfs / "src")
    script = (
        f"mount --bind {wheels} {rootfs}/wheels && "
        f"chroot {rootfs} /usr/bin/python3 -m venv /opt/venv && "
        f"chroot {rootfs} /opt/venv/bin/pip install -q --no-index --find-links /wheels --no-deps "
        "--require-hashes -r /src/requirements.txt && "
        f"chroot {rootfs} /opt/venv/bin/pip install -q --no-index --find-links /wheels --no-deps /src && "
        f"umount {rootfs}/wheels"
    )
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
    run(["unshare", "-m", "sh", "-c", script], env=env, what="venv + pip install (chroot)")
    shutil.rmtree(rootfs / "wheels")
    shutil.rmtree(rootfs / "src")
    run(["umoci", "config", "--image", f"{out}:{oci_base.TAG}", "--tag", "app",
         "--config.entrypoint", "/opt/venv/bin/bench-service"], what="umoci config")
    run(["umoci", "repack", "--image", f"{out}:app", bundle], what="umoci repack")
    shutil.rmtree(bundle)  # as lading removes its staging tree within its own time
    return time.perf_counter() - t0


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "runs": [round(v, 2) for v in values]}


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="measured runs per case (default 3)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lading-bench-image"))
    ap.add_argument("--tools-venv", type=Path, default=REPO_ROOT / ".tools-venv")
    ap.add_argument("--skip-umoci", action="store_true", help="measure lading only")
    ap.add_argument("--skip-push", action="store_true", help="do not measure uploads")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "image.json")
    args = ap.parse_args(argv)

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    pip_venv = ensure_tool(args.tools_venv.resolve(), "pip", find_python311())
    values = index_values(pip_venv / "bin" / "python")
    svc = project(work, values)
    base_layout = oci_base.base_layout()
    base = f"oci:{base_layout}:{oci_base.TAG}"
    cache = work / "lading-cache"
    results: dict[str, Any] = {"runs": args.runs}

    log("== lading: warming the wheel cache")
    _, first = lading_build(svc, work / "out-lading", cache, base)
    results["lading_layers"] = [{k: x[k] for k in ("name", "size", "contents")} for x in first["layers"]]
    full, change = [], []
    for i in range(args.runs):
        forget_layers(cache)
        change_app(svc, 0)
        seconds, _ = lading_build(svc, work / "out-lading", cache, base)
        full.append(seconds)
        change_app(svc, i + 1)
        seconds, report = lading_build(svc, work / "out-lading", cache, base)
        assert [x["reused"] for x in report["layers"]][:-1] == [True] * (len(report["layers"]) - 1)
        change.append(seconds)
    results["lading"] = {"full": summary(full), "app_change": summary(change)}
    log(f"   lading full {results['lading']['full']['median']} s, "
        f"app change {results['lading']['app_change']['median']} s")

    if not args.skip_umoci:
        log("== pip + umoci")
        wheels = wheelhouse(work, svc, pip_venv / "bin" / "pip")
        full, change = [], []
        for i in range(args.runs):
            change_app(svc, 0)
            full.append(pip_umoci(work, svc, wheels, base_layout, work / "out-umoci"))
            change_app(svc, i + 1)
            change.append(pip_umoci(work, svc, wheels, base_layout, work / "out-umoci"))
        results["pip_umoci"] = {"full": summary(full), "app_change": summary(change)}
        log(f"   pip+umoci full {results['pip_umoci']['full']['median']} s, "
            f"app change {results['pip_umoci']['app_change']['median']} s")

    if not args.skip_push and test_registry.unavailable() is None:
        log("== uploads to a local registry")
        with test_registry.running_registry(work / "registry") as running:
            base_ref = f"{running.host}/debian:bookworm"
            run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", base, f"docker://{base_ref}"],
                what="skopeo copy base")
            uploads: dict[str, Any] = {}
            for case, n in (("full", 0), ("app_change", 1)):
                change_app(svc, n)
                before = registry_bytes(running.storage)
                _, report = lading_build(svc, work / "out-lading", cache, base_ref, "--push",
                                         tag=f"{running.host}/svc-lading:1")
                pushed = report["pushed"][0]
                uploads.setdefault("lading", {})[case] = {
                    "uploaded_bytes": pushed["uploaded_bytes"],
                    "stored_bytes": registry_bytes(running.storage) - before,
                    "blobs_uploaded": pushed["uploaded_blobs"], "blobs_skipped": pushed["skipped_blobs"],
                    "blobs_mounted": pushed["mounted_blobs"]}
            if not args.skip_umoci:
                for case, n in (("full", 0), ("app_change", 1)):
                    change_app(svc, n)
                    pip_umoci(work, svc, wheels, base_layout, work / "out-umoci")
                    before = registry_bytes(running.storage)
                    run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{work / 'out-umoci'}:app",
                         f"docker://{running.host}/svc-umoci:1"], what="skopeo copy (umoci image)")
                    stored = registry_bytes(running.storage) - before
                    uploads.setdefault("pip_umoci", {})[case] = {"stored_bytes": stored}
            results["uploads"] = uploads
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))
    return 0


def _bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def markdown(results: dict[str, Any]) -> str:
    lines = ["| tool | case | n | median s (min-max) | bytes sent | new bytes stored by the registry |",
             "|---|---|---|---|---|---|"]
    uploads = results.get("uploads", {})
    for tool, label in (("lading", "lading build image"), ("pip_umoci", "pip + umoci")):
        for case in ("full", "app_change"):
            timing = results.get(tool, {}).get(case)
            if timing is None:
                continue
            up = uploads.get(tool, {}).get(case, {})
            sent = _bytes(up["uploaded_bytes"]) if "uploaded_bytes" in up else "-"
            stored = _bytes(up["stored_bytes"]) if "stored_bytes" in up else "-"
            lines.append(f"| {label} | {case.replace('_', ' ')} | {timing['n']} | {timing['median']} "
                         f"({timing['min']}-{timing['max']}) | {sent} | {stored} |")
    layers = results.get("lading_layers") or []
    if layers:
        lines += ["", "lading's layers: " + "; ".join(f"{x['name']} {x['size'] / 1e6:.1f} MB" for x in layers)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
