"""Reading a remote wheel's METADATA through range requests (lading.resolve.lazywheel)."""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping
from typing import Optional, cast

from lading.index.http import Fetched, HttpClient, NotFound
from lading.resolve.lazywheel import TAIL, remote_metadata

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: leaf>=1\n\n"
URL = "https://files.example.invalid/demo-1.0-py3-none-any.whl"


def wheel(*, metadata_first: bool = False, padding: int = 0, metadata_files: int = 1,
          method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        def metadata() -> None:
            for i in range(metadata_files):
                archive.writestr(f"demo{'' if i == 0 else i}-1.0.dist-info/METADATA", METADATA)

        if metadata_first:
            metadata()
        archive.writestr("demo/__init__.py", b"x = 1\n")
        if padding:
            archive.writestr("demo/blob.bin", os.urandom(padding), compress_type=zipfile.ZIP_STORED)
        archive.writestr("demo/nested/METADATA", b"not this one")
        if not metadata_first:
            metadata()
        archive.writestr("demo-1.0.dist-info/RECORD", b"")
    return buffer.getvalue()


class RangeServer:
    """A fake client serving one file; honours ``Range`` unless ``ranges`` is False."""

    def __init__(self, body: Optional[bytes], *, ranges: bool = True) -> None:
        self.body = body
        self.ranges = ranges
        self.asked: list[Optional[str]] = []

    def fetch(self, url: str, *, accept: str = "*/*", headers: Optional[Mapping[str, str]] = None) -> Fetched:
        wanted = (headers or {}).get("Range")
        self.asked.append(wanted)
        if self.body is None:
            raise NotFound(f"{url} answered 404 Not Found")
        size = len(self.body)
        if not self.ranges or wanted is None:
            return Fetched(url=url, status=200, headers={}, body=self.body)
        suffix = re.fullmatch(r"bytes=-(\d+)", wanted)
        if suffix:
            first, last = max(0, size - int(suffix[1])), size - 1
        else:
            found = re.fullmatch(r"bytes=(\d+)-(\d+)", wanted)
            assert found, wanted
            first, last = int(found[1]), min(int(found[2]), size - 1)
        return Fetched(url=url, status=206, headers={"content-range": f"bytes {first}-{last}/{size}"},
                       body=self.body[first:last + 1])


def read(server: RangeServer) -> Optional[bytes]:
    return remote_metadata(cast(HttpClient, server), URL)


def test_small_wheel_is_read_from_one_tail_request() -> None:
    server = RangeServer(wheel())
    assert read(server) == METADATA
    assert server.asked == [f"bytes=-{TAIL}"]


def test_metadata_far_from_the_end_costs_one_more_range_request_not_the_wheel() -> None:
    body = wheel(metadata_first=True, padding=3 * TAIL)
    server = RangeServer(body)
    assert read(server) == METADATA
    assert len(server.asked) == 2
    first, last = (int(v) for v in re.findall(r"\d+", server.asked[1] or ""))
    assert last - first < 4096  # the member, not the wheel


def test_stored_members_are_read_as_well_as_deflated_ones() -> None:
    assert read(RangeServer(wheel(method=zipfile.ZIP_STORED, metadata_first=True, padding=2 * TAIL))) == METADATA


def test_a_server_ignoring_range_sends_the_whole_wheel_which_is_read_in_memory() -> None:
    server = RangeServer(wheel(padding=1000), ranges=False)
    assert read(server) == METADATA
    assert len(server.asked) == 1


def test_missing_file_or_ambiguous_metadata_gives_none_so_the_caller_downloads() -> None:
    assert read(RangeServer(None)) is None
    assert read(RangeServer(wheel(metadata_files=2))) is None
    assert read(RangeServer(b"not a zip at all" * 10)) is None


def test_a_damaged_member_gives_none() -> None:
    body = bytearray(wheel(metadata_first=True, method=zipfile.ZIP_STORED, padding=2 * TAIL))
    at = bytes(body).index(b"Requires-Dist")
    body[at] = ord("r")  # the CRC no longer matches
    assert read(RangeServer(bytes(body))) is None
