"""Machine-readable reports: plain dicts with a ``version`` of their own schema, built from model values."""

from __future__ import annotations

from typing import Any, Optional

from lading.index.config import redact
from lading.model import (
    Finding,
    Lock,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Selected,
    Selection,
    Source,
)

#: Bump when a field changes meaning or disappears; adding fields does not bump it.
REPORT_VERSION = 1


def artifact(selected: Selected) -> dict[str, Any]:
    source = selected.source
    if selected.pending is not None:
        return {
            "kind": "index-lookup",
            "hashes": list(selected.pending.hashes),
            "note": "the lock records hashes only; the file is found on the index at install time",
        }
    return source_dict(source)


def source_dict(source: Source) -> dict[str, Any]:
    if isinstance(source, PackageWheel):
        return {
            "kind": "wheel",
            "filename": source.filename,
            "url": source.url,
            "path": source.path,
            "size": source.size,
            "hashes": dict(source.hashes),
        }
    if isinstance(source, PackageSdist):
        return {
            "kind": "sdist",
            "filename": source.filename,
            "url": source.url,
            "path": source.path,
            "size": source.size,
            "hashes": dict(source.hashes),
        }
    if isinstance(source, PackageArchive):
        return {
            "kind": "archive",
            "url": source.url,
            "path": source.path,
            "size": source.size,
            "hashes": dict(source.hashes),
            "subdirectory": source.subdirectory,
        }
    if isinstance(source, PackageDirectory):
        return {
            "kind": "directory",
            "path": source.path,
            "editable": bool(source.editable),
            "subdirectory": source.subdirectory,
        }
    if isinstance(source, PackageVcs):
        return {
            "kind": "vcs",
            "type": source.type,
            "url": source.url,
            "path": source.path,
            "commit": source.commit_id,
            "requested_revision": source.requested_revision,
            "subdirectory": source.subdirectory,
        }
    raise TypeError(f"unknown source {source!r}")  # pragma: no cover


def origin_source(selected: Selected, default_index: Optional[str]) -> dict[str, Any]:
    source = selected.source
    if isinstance(source, (PackageWheel, PackageSdist)) or selected.pending is not None:
        return {
            "kind": "index",
            # A lock may name a package's index with its credentials in the URL: never show them.
            "index": redact(selected.index) if selected.index else default_index,
            "entry": str(selected.origin),
        }
    kind = {
        PackageArchive: "url" if getattr(source, "url", None) else "path",
        PackageDirectory: "directory",
        PackageVcs: "vcs",
    }[type(source)]
    return {"kind": kind, "entry": str(selected.origin)}


def finding(f: Finding) -> dict[str, Any]:
    return {
        "severity": f.severity,
        "file": str(f.file),
        "package": f.package,
        "field": f.field,
        "message": f.message,
    }


def lock_dict(lock: Lock, note: Optional[str] = None) -> dict[str, Any]:
    return {
        "path": str(lock.path),
        "format": lock.format,
        "manifest": str(lock.manifest) if lock.manifest else None,
        "note": note,
        "groups": list(lock.groups),
        "default_groups": list(lock.default_groups),
        "dev_groups": sorted(lock.dev_groups),
        "extras": list(lock.extras),
    }


def selection(sel: Selection, *, default_index: Optional[str], note: Optional[str]) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "lock": lock_dict(sel.lock, note),
        "target": {
            "name": sel.target.name,
            "interpreter": sel.target.interpreter,
            "python_full_version": sel.target.environment.get("python_full_version"),
            "sys_platform": sel.target.environment.get("sys_platform"),
            "platform_machine": sel.target.environment.get("platform_machine"),
        },
        "groups": sorted(sel.groups),
        "extras": sorted(sel.extras),
        "packages": [
            {
                "name": s.package.name,
                "version": s.version,
                "artifact": artifact(s),
                "source": origin_source(s, default_index),
            }
            for s in sel.selected
        ],
        "skipped": [
            {
                "name": s.package.name,
                "version": str(s.package.version) if s.package.version else None,
                "reason": s.reason,
                "detail": s.detail,
            }
            for s in sel.skipped
        ],
        "findings": [finding(f) for f in sel.lock.findings],
    }
