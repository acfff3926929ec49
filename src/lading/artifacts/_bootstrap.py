"""The ``__main__.py`` of a lading zipapp: stdlib only, Python 3.8+, no lading needed to run it.

The zipapp holds a small outer zip (this file, ``.lading/`` metadata) and the payload: the staged
application and its dependencies, bytecode included, as a few parts (``.lading/payload/0000.tar.gz``, ...;
``CONFIG["parts"]``), each a gzipped tar of a range of the files, stored in the zip as it is. The outer zip
has a few dozen entries on purpose: Python's zipimport reads the whole central directory before it can
run ``__main__``, and ten thousand entries cost it about a tenth of a second on every start.

Warm start: one ``stat`` of ``<root>/<hash>/.complete``, put ``<root>/<hash>/site`` on ``sys.path``, call
the entry point. Nothing is imported that Python has not already imported at startup.

First start: unpack the payload under an exclusive lock (``<root>/<hash>.lock``) into a temporary
directory beside the final one, write ``.complete``, rename it into place. A crash leaves a temporary
directory that the next first start ignores; a reader never sees half an application. Threads unpack the
parts side by side (inflating, creating and writing files all release the GIL); the tars are read here, not
by :mod:`tarfile`: regular files with clean relative names only, anything else is skipped. The bytecode in
the payload is unchecked-hash (PEP 552), so the files' modification times do not matter and none are set.

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


_O_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _pax_path(records: bytes) -> str | None:
    """The ``path`` of a pax extended header (``<length> <key>=<value>\\n`` records)."""
    path = None
    at = 0
    while at < len(records):
        space = records.find(b" ", at)
        if space < 0:
            break
        length = int(records[at:space])
        if length <= 0:
            break
        key, _, value = records[space + 1:at + length - 1].partition(b"=")
        if key == b"path":
            path = value.decode("utf-8", "surrogateescape")
        at += length
    return path


def _unpack_part(outer: Any, part: str, site: str, made: set[str]) -> None:
    """Write the regular files of one gzipped tar part under ``site``."""
    import struct
    import zlib

    packed = outer.read(part)  # zipfile checks the stored bytes against the zip's CRC-32
    if packed[:4] != b"\x1f\x8b\x08\x00":
        raise ValueError(f"{part} is not a gzip stream as lading writes them")
    inflate = zlib.decompressobj(-15)  # the deflate stream itself: the gzip CRC would be a second check
    data = inflate.decompress(memoryview(packed)[10:])
    if not inflate.eof or struct.unpack("<I", inflate.unused_data[4:8])[0] != len(data) & 0xFFFFFFFF:
        raise ValueError(f"{part} is truncated")
    del packed
    view = memoryview(data)
    at = 0
    long_name = None
    last: list[str] | None = None
    directory = site
    while at + 512 <= len(data):
        header = data[at:at + 512]
        if header[0] == 0:
            break  # the end-of-archive blocks
        size = int(header[124:136].strip(b"\0 ") or b"0", 8)
        kind = header[156:157]
        body = at + 512
        at = body + (size + 511) // 512 * 512
        if kind == b"x":
            long_name = _pax_path(data[body:body + size])
            continue
        if kind not in (b"0", b"\0"):
            long_name = None
            continue  # the builder writes regular files only
        name = long_name
        long_name = None
        if name is None:
            name = header[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            prefix = header[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix.decode("utf-8", "surrogateescape") + "/" + name
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "" in parts or (os.sep != "/" and ("\\" in name or ":" in name)):
            continue  # clean relative names only
        base = parts.pop()
        if parts != last:  # the names are sorted: a directory's files come one after the other
            last = parts
            directory = os.path.join(site, *parts)
            if directory not in made:
                os.makedirs(directory, exist_ok=True)
                made.add(directory)
            directory += os.sep
        mode = 0o755 if int(header[100:108].strip(b"\0 ") or b"0", 8) & 0o111 else 0o644
        fd = os.open(directory + base, _O_NEW, mode)
        try:
            chunk = view[body:body + size]
            while chunk:
                chunk = chunk[os.write(fd, chunk):]
        finally:
            os.close(fd)


def _unpack(archive: str, home: str) -> None:
    import shutil
    import tempfile
    import zipfile
    import zlib
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
            os.mkdir(site)
            made = {site}
            parts = [str(part) for part in CONFIG["parts"]]  # type: ignore[attr-defined]
            workers = max(1, min(len(parts), 4, (os.cpu_count() or 1) + 1))
            with zipfile.ZipFile(archive) as outer, ThreadPoolExecutor(workers) as pool:
                parts.sort(key=lambda part: -outer.getinfo(part).file_size)  # the largest first: none ends last
                for future in [pool.submit(_unpack_part, outer, part, site, made) for part in parts]:
                    future.result()
            with open(os.path.join(work, ".complete"), "w") as marker:
                marker.write(f"{CONFIG['hash']}\n")
            os.rename(work, home)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
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
