"""Call one PEP 517/660 hook of a build backend, inside the build interpreter (stdlib only, Python 3.8+).

lading copies this file into a private control directory and runs it as
``python -I -S _pep517_runner.py CONTROL_DIR`` with the source tree as the working directory.
``CONTROL_DIR/input.json`` says what to do::

    {"site_dirs": [...], "backend": "pkg.mod:obj", "backend_path": [...], "hook": "build_wheel",
     "args": [...], "kwargs": {...}, "optional": {"hook_name": default}}

``site_dirs`` (the build environment) are added with ``site.addsitedir`` so their ``.pth`` files work;
``backend_path`` (absolute, from pyproject's ``backend-path``) goes first on ``sys.path``. The answer is
written to ``CONTROL_DIR/output.json``: ``{"ok": true, "result": ...}`` or ``{"ok": false, "kind": ...,
"message": ..., "traceback": ...}`` with kind ``backend-unavailable``, ``missing-hook`` or ``hook-failed``.
Whatever the backend prints goes to this process's stdout/stderr, which lading captures.
"""

from __future__ import annotations

import importlib
import json
import os
import site
import sys
import traceback
from typing import Any


def _write(control: str, answer: dict[str, Any]) -> None:
    path = os.path.join(control, "output.json")
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(answer, handle)
    os.replace(temp, path)


def _import_backend(spec: str, backend_path: list[str]) -> Any:
    module_name, _, object_path = spec.partition(":")
    module = importlib.import_module(module_name.strip())
    if backend_path:
        # PEP 517: an in-tree backend must really come from backend-path, not from the build environment.
        location = os.path.abspath(getattr(module, "__file__", "") or "")
        roots = [os.path.join(os.path.abspath(p), "") for p in backend_path]
        if not any(location.startswith(root) for root in roots):
            raise ImportError(
                f"backend {spec!r} was loaded from {location}, not from backend-path {backend_path}"
            )
    backend: Any = module
    for attribute in [a for a in object_path.strip().split(".") if a]:
        backend = getattr(backend, attribute)
    return backend


def main(argv: list[str]) -> int:
    control = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != here]
    with open(os.path.join(control, "input.json"), encoding="utf-8") as handle:
        order = json.load(handle)
    for directory in order.get("site_dirs", []):
        site.addsitedir(directory)
    backend_path = [os.path.abspath(p) for p in order.get("backend_path", [])]
    sys.path[:0] = backend_path
    try:
        backend = _import_backend(order["backend"], backend_path)
    except Exception as error:
        _write(control, {
            "ok": False,
            "kind": "backend-unavailable",
            "message": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        })
        return 0
    hook_name = order["hook"]
    hook = getattr(backend, hook_name, None)
    if hook is None:
        optional = order.get("optional", {})
        if hook_name in optional:
            _write(control, {"ok": True, "result": optional[hook_name]})
        else:
            _write(control, {"ok": False, "kind": "missing-hook", "message": f"the backend has no {hook_name} hook"})
        return 0
    try:
        result = hook(*order.get("args", []), **order.get("kwargs", {}))
    except BaseException as error:  # SystemExit from setup.py is a failure to report, not a way out
        _write(control, {
            "ok": False,
            "kind": "hook-failed",
            "message": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        })
        return 0
    if isinstance(result, (list, tuple)):
        result = list(result)
    _write(control, {"ok": True, "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
