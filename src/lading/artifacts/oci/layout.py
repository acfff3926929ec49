"""OCI image layout directories and ``docker save`` tars: reading a base image, writing the result.

An OCI image layout (image-spec ``image-layout.md``) is a directory with ``oci-layout``, ``index.json``
and ``blobs/sha256/<hex>``; tags are the ``org.opencontainers.image.ref.name`` annotation of the
descriptors in ``index.json``. A ``docker save`` tar comes in two forms: since Docker 25 an OCI layout
plus ``manifest.json``; before, ``manifest.json`` naming ``<id>.json`` configs and ``<id>/layer.tar``
uncompressed layers. Both are read. The docker archive lading writes is the newer dual form (an OCI
layout plus ``manifest.json`` and ``repositories``), which ``docker load``, ``podman load`` and
``skopeo`` (``docker-archive:`` and ``oci-archive:``) all take.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional

from lading.artifacts.oci.layers import DEFAULT_MTIME, Entry, layer_members, write_tar
from lading.errors import LadingError, UsageError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
#: docker's media types for the same formats, as OCI names them
OCI_EQUIVALENT = {
    DOCKER_LIST: OCI_INDEX,
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_CONFIG: OCI_CONFIG,
    "application/vnd.docker.image.rootfs.diff.tar.gzip": OCI_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.diff.tar": OCI_LAYER,
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}
REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}

#: the ``architecture`` of an image config for this machine's ``platform.machine()``
GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386",
           "i386": "386", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces: the same value gives the same bytes and so the same digest."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Optional[Mapping[str, str]] = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform:
            out["platform"] = dict(self.platform)
        return out

    @classmethod
    def parse(cls, value: Any, where: str) -> Descriptor:
        if not isinstance(value, dict):
            raise LadingError("a descriptor is not an object", file=where)
        digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType", "")
        if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71:
            raise LadingError(f"unsupported or malformed digest {digest!r}", file=where,
                              hint="lading reads sha256 blobs only")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LadingError(f"malformed size for {digest}", file=where)
        annotations = value.get("annotations") or {}
        platform_ = value.get("platform")
        return cls(str(media), digest, size, dict(annotations) if isinstance(annotations, dict) else {},
                   dict(platform_) if isinstance(platform_, dict) else None)


# --- blob sources --------------------------------------------------------------------------------------


class Blobs:
    """Where a base image's blobs are read from."""

    where: str = ""

    def open(self, digest: str) -> IO[bytes]:
        raise NotImplementedError

    def read(self, digest: str, limit: int = 64 * 1024 * 1024) -> bytes:
        with self.open(digest) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise LadingError(f"blob {digest} is too large for a manifest or config", file=self.where)
        if sha256_digest(data) != digest:
            raise LadingError(f"blob {digest} does not hash to its digest", file=self.where,
                              hint="the image is damaged; fetch or save it again")
        return data

    def copy_to(self, digest: str, target: Path) -> None:
        with self.open(digest) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)


class LayoutBlobs(Blobs):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]

    def open(self, digest: str) -> IO[bytes]:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise LadingError(f"blob {digest} is missing", file=self.root,
                              hint="the layout is incomplete; copy the image again") from None

    def copy_to(self, digest: str, target: Path) -> None:
        shutil.copyfile(self.path(digest), target)


class TarBlobs(Blobs):
    """Blobs inside a tar (``docker save``): by digest, or by member name for the legacy form."""

    def __init__(self, archive: tarfile.TarFile, where: str) -> None:
        self.archive = archive
        self.where = where
        self.members = {m.name.lstrip("./") if m.name.startswith("./") else m.name: m
                        for m in archive.getmembers() if m.isfile()}
        self.names: dict[str, str] = {}  # digest -> member, for the legacy form

    def member(self, name: str) -> tarfile.TarInfo:
        found = self.members.get(name.lstrip("/"))
        if found is None:
            raise LadingError(f"{name} is missing from the archive", file=self.where)
        return found

    def open(self, digest: str) -> IO[bytes]:
        name = self.names.get(digest) or f"blobs/sha256/{digest.split(':', 1)[1]}"
        handle = self.archive.extractfile(self.member(name))
        assert handle is not None
        return handle


# --- the base image ------------------------------------------------------------------------------------


@dataclass
class BaseImage:
    where: str  # what the user named, for messages and the base.name annotation
    blobs: Blobs
    manifest_digest: str
    config: dict[str, Any]
    config_digest: str
    layers: list[Descriptor]
    name: Optional[str] = None  # a registry reference, for org.opencontainers.image.base.name

    @property
    def architecture(self) -> str:
        return str(self.config.get("architecture") or "")

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.config.get("rootfs") or {}
        ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        return [str(i) for i in ids] if isinstance(ids, list) else []


def wanted_platform(architecture: Optional[str] = None) -> dict[str, str]:
    return {"os": "linux", "architecture": architecture or GO_ARCH.get(platform.machine(), platform.machine())}


def read_layout(root: Path, tag: Optional[str], *, architecture: Optional[str] = None,
                blobs: Optional[Blobs] = None, index_data: Optional[bytes] = None, where: str = "") -> BaseImage:
    """The image tagged ``tag`` (or the only one) in an OCI layout (a directory, or a tar's members)."""
    source = blobs or LayoutBlobs(root)
    where = where or str(root)
    if index_data is None:
        try:
            index_data = (root / "index.json").read_bytes()
        except OSError:
            raise LadingError("not an OCI image layout (no index.json)", file=root,
                              hint="give a directory written by `skopeo copy ... oci:DIR` or `lading build image`"
                              ) from None
    index = _json(index_data, f"{where}/index.json")
    manifests = [Descriptor.parse(m, f"{where}/index.json") for m in index.get("manifests") or []]
    if tag is not None:
        chosen = [m for m in manifests if tag in (m.annotations.get(REF_NAME), m.annotations.get(IMAGE_NAME))
                  or m.annotations.get(IMAGE_NAME, "").endswith(f":{tag}")]
    else:
        chosen = manifests
    names = sorted({m.annotations.get(REF_NAME, "") for m in manifests} - {""})
    if not chosen:
        raise LadingError(f"no image tagged {tag!r}" if tag else "the layout holds no image", file=where,
                          hint=f"tags in it: {', '.join(names)}" if names else None)
    if len({m.digest for m in chosen}) > 1:
        raise LadingError("the layout holds several images", file=where,
                          hint=f"name one: {where}:TAG (tags: {', '.join(names) or 'none'})")
    return _resolve(source, chosen[0], where, wanted_platform(architecture))


def _resolve(blobs: Blobs, descriptor: Descriptor, where: str, wanted: Mapping[str, str]) -> BaseImage:
    media = OCI_EQUIVALENT.get(descriptor.media_type, descriptor.media_type)
    data = blobs.read(descriptor.digest)
    document = _json(data, f"{where}@{descriptor.digest}")
    media = OCI_EQUIVALENT.get(str(document.get("mediaType") or media), media)
    if media == OCI_INDEX or "manifests" in document:
        children = [Descriptor.parse(m, where) for m in document.get("manifests") or []]
        matching = [c for c in children if c.platform and c.platform.get("os") == wanted["os"]
                    and c.platform.get("architecture") == wanted["architecture"]]
        if not matching:
            have = sorted(f"{c.platform.get('os')}/{c.platform.get('architecture')}" for c in children if c.platform)
            raise LadingError(f"no image for {wanted['os']}/{wanted['architecture']} in this index", file=where,
                              hint=f"platforms in it: {', '.join(have) or 'none'}")
        return _resolve(blobs, matching[0], where, wanted)
    config_descriptor = Descriptor.parse(document.get("config"), where)
    config = _json(blobs.read(config_descriptor.digest), f"{where}@{config_descriptor.digest}")
    layers = []
    for layer in document.get("layers") or []:
        d = Descriptor.parse(layer, where)
        layers.append(Descriptor(OCI_EQUIVALENT.get(d.media_type, d.media_type), d.digest, d.size, d.annotations))
    image = BaseImage(where, blobs, descriptor.digest, config, config_descriptor.digest, layers)
    if len(image.diff_ids) != len(layers):
        raise LadingError("the config's rootfs.diff_ids do not match the manifest's layers", file=where)
    return image


def read_docker_archive(path: Path, archive: tarfile.TarFile, tag: Optional[str], *,
                        architecture: Optional[str] = None) -> BaseImage:
    blobs = TarBlobs(archive, str(path))
    if "index.json" in blobs.members and any(n.startswith("blobs/") for n in blobs.members):
        handle = archive.extractfile(blobs.member("index.json"))
        assert handle is not None
        try:
            return read_layout(path, tag, architecture=architecture, blobs=blobs, index_data=handle.read(),
                               where=str(path))
        except LadingError:
            if "manifest.json" not in blobs.members:
                raise
    if "manifest.json" not in blobs.members:
        raise LadingError("neither an OCI layout nor a `docker save` archive (no manifest.json)", file=path)
    handle = archive.extractfile(blobs.member("manifest.json"))
    assert handle is not None
    entries = json.loads(handle.read())
    if not isinstance(entries, list) or not entries:
        raise LadingError("manifest.json lists no image", file=path)
    if tag is not None:
        entries = [e for e in entries if isinstance(e, dict) and any(
            t == tag or t.endswith(f":{tag}") for t in e.get("RepoTags") or [])]
        if not entries:
            raise LadingError(f"no image tagged {tag!r} in the archive", file=path)
    elif len(entries) > 1:
        raise LadingError("the archive holds several images", file=path, hint=f"name one: {path}:TAG")
    entry = entries[0]
    config_data = _member_bytes(archive, blobs, str(entry.get("Config")))
    config = _json(config_data, f"{path}:{entry.get('Config')}")
    layers = []
    for name in entry.get("Layers") or []:
        member = blobs.member(str(name))
        sha, gzipped = hashlib.sha256(), None
        stream = archive.extractfile(member)
        assert stream is not None
        with stream:
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    break
                if gzipped is None:
                    gzipped = chunk[:2] == b"\x1f\x8b"
                sha.update(chunk)
        digest = f"sha256:{sha.hexdigest()}"
        blobs.names[digest] = member.name
        layers.append(Descriptor(OCI_LAYER_GZIP if gzipped else OCI_LAYER, digest, member.size))
    config_digest = sha256_digest(config_data)
    blobs.names[config_digest] = str(entry.get("Config"))
    image = BaseImage(str(path), blobs, config_digest, config, config_digest, layers)
    if len(image.diff_ids) != len(layers):
        raise LadingError("the config's rootfs.diff_ids do not match manifest.json's layers", file=path)
    return image


def _member_bytes(archive: tarfile.TarFile, blobs: TarBlobs, name: str) -> bytes:
    handle = archive.extractfile(blobs.member(name))
    assert handle is not None
    return handle.read()


def _json(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LadingError(f"malformed JSON: {exc}", file=where) from None
    if not isinstance(value, dict):
        raise LadingError("expected a JSON object", file=where)
    return value


def split_tag(reference: str) -> tuple[str, Optional[str]]:
    """``PATH:TAG`` -> (PATH, TAG) when PATH exists and the whole does not; else (reference, None)."""
    if os.path.exists(reference):
        return reference, None
    head, sep, tail = reference.rpartition(":")
    if sep and head and "/" not in tail and os.path.exists(head):
        return head, tail
    return reference, None


@contextlib.contextmanager
def open_local_base(reference: str, *, architecture: Optional[str] = None) -> Iterator[Optional[BaseImage]]:
    """A base from ``oci:DIR[:TAG]``, ``docker-archive:FILE[:NAME:TAG]``, a layout directory or a tar;
    None when ``reference`` names nothing local (then it is a registry reference)."""
    kind = None
    text = reference
    for prefix in ("oci:", "docker-archive:", "oci-archive:"):
        if reference.startswith(prefix):
            kind, text = prefix[:-1], reference[len(prefix):]
    location, tag = split_tag(text)
    if kind == "docker-archive" and tag is None and not os.path.exists(location):
        parts = text.split(":", 1)
        if os.path.exists(parts[0]):
            location, tag = parts[0], parts[1]
    path = Path(location)
    if not path.exists():
        if kind is not None:
            raise UsageError(f"the base image {reference} does not exist", field="--base")
        yield None
        return
    if path.is_dir():
        yield read_layout(path, tag, architecture=architecture)
        return
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as exc:
        raise LadingError(f"not a tar archive: {exc}", file=path, field="--base") from None
    with archive:
        yield read_docker_archive(path, archive, tag, architecture=architecture)


# --- writing -------------------------------------------------------------------------------------------


def blobs_dir(layout: Path) -> Path:
    directory = layout / "blobs" / "sha256"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write_blob(layout: Path, data: bytes, media_type: str) -> Descriptor:
    digest = sha256_digest(data)
    target = blobs_dir(layout) / digest.split(":", 1)[1]
    if not target.exists():
        temp = target.with_name(f".tmp-{target.name}")
        temp.write_bytes(data)
        os.replace(temp, target)
    return Descriptor(media_type, digest, len(data))


def write_index(layout: Path, manifest: Descriptor, tags: Sequence[str]) -> None:
    """``oci-layout`` and ``index.json`` naming ``manifest`` once per tag (``name:tag``)."""
    descriptors = []
    for tag in tags or [""]:
        annotations: dict[str, str] = {}
        if tag:
            annotations = {REF_NAME: tag_part(tag), IMAGE_NAME: tag}
        descriptors.append(Descriptor(manifest.media_type, manifest.digest, manifest.size, annotations,
                                      manifest.platform).to_json())
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    (layout / "oci-layout").write_bytes(canonical_json(LAYOUT_VERSION))
    (layout / "index.json").write_bytes(canonical_json(index))


def tag_part(reference: str) -> str:
    """The tag of ``name:tag`` (``latest`` when there is none)."""
    last = reference.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def docker_manifest(config: Descriptor, layers: Sequence[Descriptor], tags: Sequence[str]) -> list[dict[str, Any]]:
    return [{
        "Config": f"blobs/sha256/{config.digest.split(':', 1)[1]}",
        "RepoTags": [t if ":" in t.rsplit("/", 1)[-1] else f"{t}:latest" for t in tags],
        "Layers": [f"blobs/sha256/{d.digest.split(':', 1)[1]}" for d in layers],
    }]


def write_docker_archive(layout: Path, target: Path, config: Descriptor, layers: Sequence[Descriptor],
                         tags: Sequence[str]) -> None:
    """``target``: the layout's files plus ``manifest.json`` and ``repositories``, deterministic, written
    under a temporary name beside it and renamed into place."""
    manifest = canonical_json(docker_manifest(config, layers, tags))
    repositories: dict[str, dict[str, str]] = {}
    for tag in tags:
        name, _, version = tag.rpartition(":") if ":" in tag.rsplit("/", 1)[-1] else (tag, "", "latest")
        repositories.setdefault(name, {})[version] = config.digest.split(":", 1)[1]
    entries = [Entry("manifest.json", "file", 0o644, data=manifest, size=len(manifest)),
               Entry("repositories", "file", 0o644, data=canonical_json(repositories))]
    for path in sorted(layout.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            entries.append(Entry(path.relative_to(layout).as_posix(), "file", 0o644, source=path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_tar(layer_members(entries), out, DEFAULT_MTIME)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = [
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "BaseImage",
    "Blobs",
    "Descriptor",
    "LayoutBlobs",
    "canonical_json",
    "docker_manifest",
    "open_local_base",
    "read_docker_archive",
    "read_layout",
    "sha256_digest",
    "split_tag",
    "tag_part",
    "wanted_platform",
    "write_blob",
    "write_docker_archive",
    "write_index",
]
