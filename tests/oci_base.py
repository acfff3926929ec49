"""A base OCI image for the image tests: the cached debootstrap'd Debian root (python3) as one layer.

Made once from ``tests.debian_root``'s tarball and kept as an OCI layout under
``tests.debian_root.cache_dir()`` (``oci-debian-bookworm-python3``); tests copy it or read it in place.
The layer is a clean tar (no ``./`` prefix, an empty ``/dev``) with gzip; the config is what a
``FROM scratch`` + ``ADD rootfs.tar`` image would have (``PATH``, ``Cmd ["/bin/sh"]``, amd64/linux).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Optional

from tests import debian_root

NAME = f"oci-debian-{debian_root.SUITE}-python3"
TAG = "bookworm"
EPOCH = 315532800


def unavailable() -> Optional[str]:
    return debian_root.unavailable()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class _Hashing:
    def __init__(self, out: object) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)  # type: ignore[attr-defined]
        return len(data)

    def flush(self) -> None:
        pass


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _make(layout: Path) -> None:
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    temp = blobs / "layer.tmp"
    with open(temp, "wb") as handle:
        compressed = _Hashing(handle)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=1) as zipped:
            raw = _Hashing(zipped)
            with tarfile.open(debian_root.base_tarball(), "r:") as source, \
                    tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as out:  # type: ignore[call-overload]
                for member in source:
                    name = member.name[2:] if member.name.startswith("./") else member.name
                    if name in ("", ".") or (name.startswith("dev/") and name != "dev/"):
                        continue
                    member.name = name
                    if member.islnk() and member.linkname.startswith("./"):
                        member.linkname = member.linkname[2:]
                    out.addfile(member, source.extractfile(member) if member.isfile() else None)
    layer_digest = compressed.sha.hexdigest()
    os.replace(temp, blobs / layer_digest)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1980-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{raw.sha.hexdigest()}"]},
        "history": [{"created": "1980-01-01T00:00:00Z", "created_by": "debootstrap --variant=minbase bookworm"}],
    }
    config_descriptor = {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(layout, _canonical(config))}
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": f"sha256:{layer_digest}", "size": compressed.size}],
    }
    manifest_descriptor = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           **_blob(layout, _canonical(manifest)),
                           "annotations": {"org.opencontainers.image.ref.name": TAG}}
    (layout / "oci-layout").write_bytes(_canonical({"imageLayoutVersion": "1.0.0"}))
    (layout / "index.json").write_bytes(_canonical({"schemaVersion": 2, "manifests": [manifest_descriptor]}))


def base_layout() -> Path:
    """The cached base image layout (made on first use, under a lock: test processes may race)."""
    cache = debian_root.cache_dir()
    layout = cache / NAME
    if (layout / "index.json").is_file():
        return layout
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (layout / "index.json").is_file():
            return layout
        work = cache / f"{NAME}.work"
        shutil.rmtree(work, ignore_errors=True)
        _make(work)
        os.replace(work, layout)
    return layout


__all__ = ["NAME", "TAG", "base_layout", "unavailable"]
