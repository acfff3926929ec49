"""RECORD files (the wheel spec's list of installed files): parse, format, and the hash notation they use."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from lading.install import WheelError

# Algorithms a RECORD may use; weaker ones (md5, sha1) are refused as the wheel spec requires.
RECORD_ALGORITHMS = ("sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s")
SIGNATURE_NAMES = ("RECORD.jws", "RECORD.p7s")
_HEX = re.compile(r"[0-9a-fA-F]+")

_REBUILD = "the wheel is refused; rebuild it with a current tool, or report it to its publisher"


@dataclass(frozen=True)
class RecordEntry:
    """One RECORD line: a ``/``-separated path relative to the dist-info's parent, its hash and size.

    ``hash`` is in RECORD notation (``sha256=<urlsafe base64, unpadded>``); empty for RECORD itself.
    """

    path: str
    hash: str = ""
    size: Optional[int] = None

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> RecordEntry:
        return cls(path, record_hash_of(data), len(data))

    @classmethod
    def of_sha256(cls, path: str, sha256_hex: str, size: int) -> RecordEntry:
        return cls(path, record_hash_from_hex(sha256_hex), size)

    @property
    def algorithm(self) -> str:
        return self.hash.partition("=")[0]

    @property
    def digest(self) -> bytes:
        """The raw digest bytes (empty when there is no hash)."""
        algorithm, _, value = self.hash.partition("=")
        if not value:
            return b""
        # Some published wheels (gmsh 4.15) write hex digests; hex is twice the digest size, base64 never is.
        if len(value) == 2 * hashlib.new(algorithm).digest_size and _HEX.fullmatch(value):
            return bytes.fromhex(value)
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            return b"<undecodable>"


def record_hash_of(data: bytes) -> str:
    return "sha256=" + _b64(hashlib.sha256(data).digest())


def record_hash_from_hex(sha256_hex: str) -> str:
    return "sha256=" + _b64(bytes.fromhex(sha256_hex))


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def parse_record(text: str, *, file: Union[str, Path, None] = None, package: Optional[str] = None) -> list[RecordEntry]:
    """Parse RECORD text; malformed lines raise a WheelError naming the line (``RECORD[3]``)."""
    entries = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        field = f"RECORD line {number}"
        if len(row) != 3:
            raise WheelError(
                f"expected 3 comma-separated fields (path,hash,size), found {len(row)}",
                file=file,
                package=package,
                field=field,
                hint="the wheel was built by a broken tool; rebuild it or report it to its publisher",
            )
        path, hash_, size_text = row
        if hash_:
            algorithm, sep, value = hash_.partition("=")
            if not sep or not value:
                raise WheelError(
                    f"hash {hash_!r} is not ALGORITHM=DIGEST", file=file, package=package, field=field, hint=_REBUILD
                )
            if algorithm not in RECORD_ALGORITHMS:
                raise WheelError(
                    f"hash algorithm {algorithm!r} is not accepted (use sha256 or stronger)",
                    file=file,
                    package=package,
                    field=field,
                    hint="the wheel spec forbids md5 and sha1 in RECORD; rebuild the wheel with a current tool",
                )
        size: Optional[int] = None
        if size_text:
            try:
                size = int(size_text)
            except ValueError:
                size = -1
            if size < 0:
                raise WheelError(f"size {size_text!r} is not a non-negative integer", file=file, package=package,
                                 field=field, hint=_REBUILD)
        entries.append(RecordEntry(path, hash_, size))
    return entries


def format_record(entries: Iterable[RecordEntry]) -> bytes:
    """RECORD bytes: one CSV line per entry, ``\\n`` line ends, in the given order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for entry in entries:
        writer.writerow((entry.path, entry.hash, "" if entry.size is None else str(entry.size)))
    return out.getvalue().encode("utf-8")

