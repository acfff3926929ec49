"""A remote wheel's ``*.dist-info/METADATA`` through HTTP range requests, without downloading the wheel.

For an index that offers no PEP 658 metadata file, the resolver would otherwise download every
wheel it considers (tens of MB for a data stack). A wheel is a zip: its end holds the central
directory, which says where the METADATA member lies, so two small range requests (three when the
central directory is bigger than the first read) get it. Anything unexpected (no range support, a
zip64 archive, a malformed directory, a CRC mismatch) answers None and the caller downloads the
wheel as before; a server that ignores ``Range`` and sends the whole file is read in memory.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import Optional

from lading.errors import IndexError_
from lading.index.http import HttpClient

#: Bytes asked from the end first: the central directory of most wheels fits (PEP 427 wheels put
#: ``.dist-info`` last, so METADATA itself is often inside too).
TAIL = 64 * 1024
#: Past the local header's fixed part: room for its name and extra field, read with the data.
_SLACK = 1024

_END = b"PK\x05\x06"
_END_SIZE = 22
_CENTRAL = b"PK\x01\x02"
_CENTRAL_SIZE = 46
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)")


class _Unusable(Exception):
    """The answer cannot be used; the caller falls back to the whole wheel."""


def remote_metadata(client: HttpClient, url: str) -> Optional[bytes]:
    """The bytes of the wheel's one top-level ``*.dist-info/METADATA``, or None (see the module text)."""
    try:
        return _Reader(client, url).metadata()
    except (_Unusable, IndexError_, zipfile.BadZipFile, zlib.error, struct.error, KeyError, ValueError):
        return None


class _Reader:
    def __init__(self, client: HttpClient, url: str) -> None:
        self._client = client
        self._url = url
        self._size = 0
        self._tail = b""
        self._tail_start = 0

    def metadata(self) -> Optional[bytes]:
        whole = self._read_tail()
        if whole is not None:
            return _from_whole(whole)
        end = self._tail.rfind(_END)
        if end < 0 or len(self._tail) - end < _END_SIZE:
            raise _Unusable("no end of central directory record in the tail (a long comment?)")
        _, disk, _, _, _, size, offset, _ = struct.unpack("<4sHHHHIIH", self._tail[end:end + _END_SIZE])
        if disk != 0 or offset == 0xFFFFFFFF or size == 0xFFFFFFFF:
            raise _Unusable("a multi-disk or zip64 archive")
        directory = self._bytes(offset, size)
        name, local, compressed, method, crc = _find_metadata(directory)
        span = self._bytes(local, _LOCAL_SIZE + len(name) + compressed + _SLACK, partial=True)
        if span[:4] != _LOCAL:
            raise _Unusable("no local header where the central directory says")
        name_size, extra_size = struct.unpack("<HH", span[26:30])
        start = _LOCAL_SIZE + name_size + extra_size
        if len(span) < start + compressed:
            span = self._bytes(local, start + compressed)
        data = span[start:start + compressed]
        if method == zipfile.ZIP_DEFLATED:
            data = zlib.decompressobj(-15).decompress(data)
        elif method != zipfile.ZIP_STORED:
            raise _Unusable(f"compression method {method}")
        if zlib.crc32(data) != crc:
            raise _Unusable("CRC mismatch")
        return data

    def _read_tail(self) -> Optional[bytes]:
        """Read the last :data:`TAIL` bytes; returns the whole file instead when the server sends it."""
        fetched = self._client.fetch(self._url, accept="*/*",
                                     headers={"Range": f"bytes=-{TAIL}", "Accept-Encoding": "identity"})
        if fetched.status == 200:
            return fetched.body
        if fetched.status != 206:
            raise _Unusable(f"status {fetched.status}")
        found = _CONTENT_RANGE.fullmatch(fetched.headers.get("content-range", "").strip())
        if found is None:
            raise _Unusable("no usable Content-Range")
        first, last, self._size = (int(v) for v in found.groups())
        if last != self._size - 1 or last - first + 1 != len(fetched.body):
            raise _Unusable("the range answered is not the tail asked for")
        self._tail, self._tail_start = fetched.body, first
        return None

    def _bytes(self, start: int, length: int, *, partial: bool = False) -> bytes:
        """``length`` bytes at ``start`` (fewer at the end of the file when ``partial``)."""
        stop = min(start + length, self._size) if partial else start + length
        if start < 0 or stop > self._size or stop <= start:
            raise _Unusable("a range outside the file")
        if start >= self._tail_start:
            return self._tail[start - self._tail_start:stop - self._tail_start]
        fetched = self._client.fetch(self._url, accept="*/*", headers={
            "Range": f"bytes={start}-{stop - 1}", "Accept-Encoding": "identity"})
        if fetched.status != 206 or len(fetched.body) != stop - start:
            raise _Unusable(f"status {fetched.status} for a range")
        return fetched.body


def _find_metadata(directory: bytes) -> tuple[bytes, int, int, int, int]:
    """(name, local header offset, compressed size, method, CRC) of the one top-level dist-info METADATA."""
    found: list[tuple[bytes, int, int, int, int]] = []
    at = 0
    while at + _CENTRAL_SIZE <= len(directory) and directory[at:at + 4] == _CENTRAL:
        (_, _, _, flags, method, _, _, crc, compressed, _, name_size, extra_size, comment_size, _, _, _,
         local) = struct.unpack("<4sHHHHHHIIIHHHHHII", directory[at:at + _CENTRAL_SIZE])
        name = directory[at + _CENTRAL_SIZE:at + _CENTRAL_SIZE + name_size]
        if name.count(b"/") == 1 and name.endswith(b".dist-info/METADATA"):
            if flags & 0x1:
                raise _Unusable("an encrypted member")
            found.append((name, local, compressed, method, crc))
        at += _CENTRAL_SIZE + name_size + extra_size + comment_size
    if len(found) != 1:
        raise _Unusable(f"{len(found)} top-level METADATA members")
    return found[0]


def _from_whole(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            raise _Unusable(f"{len(names)} top-level METADATA members")
        return archive.read(names[0])


__all__ = ["TAIL", "remote_metadata"]
