"""The ``__main__.py`` of a lading zipapp: stdlib only, Python 3.8+, no lading needed to run it.

The zipapp holds a small outer zip (this file, ``.lading/`` metadata) and one member,
``.lading/payload.tar``: the staged application and its dependencies, bytecode included. The outer zip
has a handful of entries on purpose: Python's zipimport reads the whole central directory before it can
run ``__main__``, and ten thousand entries cost it about a tenth of a second on every start.

Warm start: one ``stat`` of ``<root>/<hash>/.complete``, put ``<root>/<hash>/site`` on ``sys.path``, call
the entry point. Nothing is imported that Python has not already imported at startup.

First start: unpack the payload under an exclusive lock (``<root>/<hash>.lock``) into a temporary
directory beside the final one, write ``.complete``, rename it into place. A crash leaves a temporary
directory that the next first start ignores; a reader never sees half an application. The bytecode in the
payload is unchecked-hash (PEP 552), so the files' modification times do not matter.

``<root>`` is ``$LADING_PYZ_ROOT``, else ``$XDG_CACHE_HOME/lading-pyz``, else ``~/.cache/lading-pyz``.
``CONFIG`` is filled in when the zipapp is built.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at startup, and importing it would cost every run
    from typing import Any

CONFIG: dict[str, object] = {}  # lading: CONFIG


def _root() -> str:
    root = os.environ.get("LADING_PYZ_ROOT")
    if root:
        return os.path.abspath(os.path.expanduser(root))
    cache = os.environ.get("XDG_CACHE_HOME")
    if not cache or not os.path.isabs(cache):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "lading-pyz")


def _fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1)


def _check_python() -> None:
    wanted = CONFIG.get("python")
    if not wanted:
        return
    have = f"{sys.version_info[0]}.{sys.version_info[1]}"
    implementation = CONFIG.get("implementation") or sys.implementation.name
    if have != wanted or implementation != sys.implementation.name:
        _fail(
            f"{_archive()} was built for {implementation} {wanted} (it holds compiled extension modules); "
            f"this is {sys.implementation.name} {have} at {sys.executable}. Run it with python{wanted}, or "
            "build it again for this interpreter"
        )


def _archive() -> str:
    archive = getattr(globals().get("__loader__"), "archive", None)
    return str(archive) if archive else os.path.dirname(os.path.abspath(__file__))


def _lock(path: str) -> int | None:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the rename below still keeps readers safe
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _write(path: str, data: bytes, mode: int, budget: Any) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    finally:
        budget.release()


def _unpack(archive: str, home: str) -> None:
    import shutil
    import tarfile
    import tempfile
    import threading
    import zipfile
    from concurrent.futures import ThreadPoolExecutor

    parent = os.path.dirname(home)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the zipapp cache {parent}: {exc.strerror} "
              "(set LADING_PYZ_ROOT to a writable directory)")
    fd = _lock(home + ".lock")
    try:
        if os.path.exists(os.path.join(home, ".complete")):
            return  # another process unpacked it while we waited
        if os.path.lexists(home):  # left by a tool that emptied the cache while it was in use
            shutil.rmtree(home, ignore_errors=True)
        work = tempfile.mkdtemp(prefix=f".{os.path.basename(home)[:16]}.", dir=parent)
        try:
            site = os.path.join(work, "site")
            made = set()
            # One thread reads the payload; several create the files, which is what costs (a create is a
            # few tenths of a millisecond on overlay file systems, and the calls release the GIL).
            budget = threading.BoundedSemaphore(512)
            with zipfile.ZipFile(archive) as outer, outer.open(".lading/payload.tar") as stream, \
                    tarfile.open(fileobj=stream, mode="r|") as tar, ThreadPoolExecutor(8) as pool:
                written = []
                for member in tar:
                    name = member.name
                    parts = name.split("/")
                    if not member.isfile() or name.startswith("/") or ".." in parts or "" in parts:
                        continue  # the builder writes regular files with clean relative names only
                    path = os.path.join(site, *parts)
                    directory = os.path.dirname(path)
                    if directory not in made:
                        os.makedirs(directory, exist_ok=True)
                        made.add(directory)
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    data = source.read()
                    budget.acquire()
                    written.append(pool.submit(_write, path, data, 0o755 if member.mode & 0o111 else 0o644,
                                               budget))
                for future in written:
                    future.result()
            with open(os.path.join(work, ".complete"), "w") as marker:
                marker.write(f"{CONFIG['hash']}\n")
            os.rename(work, home)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    except OSError as exc:
        _fail(f"cannot unpack {archive} into {parent}: {exc}")
    finally:
        if fd is not None:
            os.close(fd)


def _site_position() -> int:
    """Where site-packages would be: after the standard library, before the interpreter's own packages."""
    for i, entry in enumerate(sys.path):
        if entry.endswith(("site-packages", "dist-packages")):
            return i
    return len(sys.path)


def _run(entry: str) -> None:
    module, _, attributes = entry.partition(":")
    if not attributes:
        import runpy

        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    __import__(module)
    names = attributes.split(".")
    target = getattr(sys.modules[module], names[0])
    for name in names[1:]:
        target = getattr(target, name)
    sys.exit(target())


def main() -> None:
    home = os.path.join(_root(), str(CONFIG["hash"]))
    archive = _archive()
    _check_python()
    if not os.path.exists(os.path.join(home, ".complete")):
        _unpack(archive, home)
    site = os.path.join(home, "site")
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == os.path.abspath(archive):
        del sys.path[0]  # the zipapp itself: nothing to import from it any more
    sys.path.insert(_site_position(), site)
    if CONFIG.get("pth"):
        import site as _site

        before = list(sys.path)
        _site.addsitedir(site)  # .pth files (namespace packages, path hooks) as a venv would process them
        added = [p for p in sys.path if p not in before]
        sys.path[:] = [p for p in sys.path if p not in added]
        at = sys.path.index(site) + 1
        sys.path[at:at] = added
    _run(str(CONFIG["entry"]))


if __name__ == "__main__":
    main()
