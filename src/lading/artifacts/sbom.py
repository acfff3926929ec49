"""CycloneDX software bills of materials: of an installed environment (from its records) and of a lock.

Every artifact carries one of what it contains, made from the ``.dist-info`` directories the install
wrote: name, version, licence, the hash of the archive it came from (when the staging run knew it), and
the dependency edges between the distributions present. ``lading sbom LOCK`` writes the same document for
what a lock selects, straight from the lock.

Documents are reproducible: components and edges sorted, the serial number derived from the content, and
a timestamp only when ``SOURCE_DATE_EPOCH`` sets one.
"""

from __future__ import annotations

import email.message
import email.parser
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import quote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from lading import __version__
from lading.artifacts._tar import given_epoch
from lading.errors import LadingError
from lading.install.installed import InstalledDist, scan
from lading.install.paths import InstallPaths
from lading.model import PackageSdist, PackageWheel, Selection

SPEC_VERSION = "1.6"


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    hashes: Mapping[str, str] = field(default_factory=dict)  # algorithm (hashlib name) -> hex
    licenses: tuple[str, ...] = ()
    description: Optional[str] = None
    distribution: tuple[tuple[str, Mapping[str, str]], ...] = ()  # (url, hashes) of the files it ships as
    depends_on: tuple[str, ...] = ()  # normalized names
    # A lock that names files by hash only (requirements.txt, Pipfile.lock): every hash it accepts.
    locked_hashes: tuple[str, ...] = ()

    @property
    def key(self) -> NormalizedName:
        return canonicalize_name(self.name)

    @property
    def purl(self) -> str:
        return f"pkg:pypi/{quote(self.key)}@{quote(self.version)}"


def environment_sbom(paths: InstallPaths, name: str, version: str,
                     archive_hashes: Optional[Mapping[str, Mapping[str, str]]] = None) -> dict[str, Any]:
    """The SBOM of what is installed under ``paths``, for the application ``name`` ``version``.

    ``archive_hashes`` maps a normalized distribution name to the hashes of the archive it was installed
    from (``{"sha256": hex}``); the records alone cannot tell that.
    """
    installed = scan(paths)
    hashes = {canonicalize_name(k): v for k, v in (archive_hashes or {}).items()}
    components = [_from_dist(dist, hashes.get(key, {})) for key, dist in installed.items()]
    return document(name, version, _link(components))


def archive_hashes(selection: Selection) -> dict[str, dict[str, str]]:
    """The hashes of the archives a selection installs, by normalized name (for :func:`environment_sbom`)."""
    out: dict[str, dict[str, str]] = {}
    for chosen in selection.selected:
        hashes = dict(getattr(chosen.source, "hashes", None) or {})
        if hashes:
            out[canonicalize_name(str(chosen.package.name))] = hashes
    return out


def lock_sbom(selections: Sequence[Selection], name: Optional[str] = None,
              version: Optional[str] = None) -> dict[str, Any]:
    """The SBOM of what one lock selects for one or more targets (their union)."""
    merged: dict[NormalizedName, Component] = {}
    lock_path = selections[0].lock.path if selections else None
    for selection in selections:
        names = {canonicalize_name(str(s.package.name)) for s in selection.selected}
        for chosen in selection.selected:
            package = chosen.package
            key = canonicalize_name(str(package.name))
            files: list[tuple[str, Mapping[str, str]]] = []
            archives: list[Union[PackageWheel, PackageSdist]] = [*(package.wheels or ())]
            if package.sdist is not None:
                archives.append(package.sdist)
            for f in archives:
                where = f.url or f.name or f.path
                if where:
                    files.append((str(where), dict(f.hashes)))
            deps = tuple(sorted({canonicalize_name(str(d.get("name", ""))) for d in package.dependencies or ()
                                 if isinstance(d, Mapping) and canonicalize_name(str(d.get("name", ""))) in names}))
            component = Component(
                name=str(package.name), version=chosen.version or "",
                hashes=dict(getattr(chosen.source, "hashes", None) or {}) if len(selections) == 1 else {},
                distribution=tuple(sorted(files, key=lambda item: item[0])), depends_on=deps,
                locked_hashes=tuple(sorted(chosen.pending.hashes)) if chosen.pending is not None else (),
            )
            previous = merged.get(key)
            if previous is not None:
                component = Component(
                    component.name, component.version,
                    previous.hashes if previous.hashes == component.hashes else {},
                    distribution=tuple(sorted({**dict(previous.distribution), **dict(component.distribution)}
                                              .items(), key=lambda item: item[0])),
                    depends_on=tuple(sorted(set(previous.depends_on) | set(component.depends_on))),
                    locked_hashes=tuple(sorted(set(previous.locked_hashes) | set(component.locked_hashes))),
                )
            merged[key] = component
    title = name or (lock_path.parent.name if lock_path else "environment")
    return document(title, version or "", list(merged.values()))


def project_identity(directory: Path) -> tuple[Optional[str], Optional[str]]:
    """The project's name and version from ``pyproject.toml`` (PEP 621 or Poetry's table), if it says."""
    from lading._toml import load_toml

    path = directory / "pyproject.toml"
    if not path.is_file():
        return None, None
    try:
        data = load_toml(path)
    except LadingError:
        return None, None
    for table in (data.get("project"), data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict)
                  else None):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            version = table.get("version")
            return table["name"], version if isinstance(version, str) else None
    return None, None


def document(name: str, version: str, components: Iterable[Component]) -> dict[str, Any]:
    ordered = sorted(components, key=lambda c: (c.key, c.version))
    body: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": _metadata(name, version),
        "components": [_component(c) for c in ordered],
        "dependencies": [
            {"ref": c.purl, "dependsOn": [by.purl for by in ordered if by.key in c.depends_on]}
            for c in ordered
        ],
    }
    digest = hashlib.sha256(dumps(body)).digest()
    # A serial number from the content: two builds of the same thing describe it with the same document.
    return {"bomFormat": body.pop("bomFormat"), "specVersion": body.pop("specVersion"),
            "serialNumber": f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}", **body}


def dumps(doc: Mapping[str, Any]) -> bytes:
    """Stable bytes for a document: sorted keys, two-space indent, one trailing newline."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _metadata(name: str, version: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "tools": {"components": [{"type": "application", "name": "lading", "version": __version__}]},
        "component": {"type": "application", "name": name, **({"version": version} if version else {})},
    }
    epoch = given_epoch()
    if epoch is not None:
        meta["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    return meta


_ALGORITHMS = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha1": "SHA-1", "md5": "MD5",
               "blake2b": "BLAKE2b-512", "sha3_256": "SHA3-256", "sha3_512": "SHA3-512"}


def _hashes(hashes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"alg": _ALGORITHMS[alg], "content": value.lower()}
            for alg, value in sorted(hashes.items()) if alg in _ALGORITHMS]


def _component(c: Component) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "library", "bom-ref": c.purl, "name": c.name, "version": c.version,
                           "purl": c.purl}
    if c.description:
        out["description"] = c.description
    if c.hashes and _hashes(c.hashes):
        out["hashes"] = _hashes(c.hashes)
    if c.licenses:
        out["licenses"] = [_license(text) for text in c.licenses]
    references = []
    for url, hashes in c.distribution:
        reference: dict[str, Any] = {"type": "distribution", "url": url}
        if _hashes(hashes):
            reference["hashes"] = _hashes(hashes)
        references.append(reference)
    if references:
        out["externalReferences"] = references
    if c.locked_hashes:
        out["properties"] = [{"name": "lading:locked-hash", "value": h} for h in c.locked_hashes]
    return out


def _license(text: str) -> dict[str, Any]:
    # A Metadata 2.4 License-Expression is SPDX; older free-text License fields are only names.
    if text.startswith("expression:"):
        return {"expression": text.split(":", 1)[1]}
    return {"license": {"name": text[:200]}}


def _from_dist(dist: InstalledDist, hashes: Mapping[str, str]) -> Component:
    metadata = _metadata_of(dist)
    licenses: list[str] = []
    expression = metadata.get("License-Expression")
    if expression:
        licenses.append(f"expression:{expression.strip()}")
    else:
        classifiers = [c.split("::")[-1].strip() for c in metadata.get_all("Classifier") or []
                       if c.startswith("License ::") and c.count("::") >= 2]
        free = (metadata.get("License") or "").strip()
        if classifiers:
            licenses.extend(sorted(set(classifiers)))
        elif free and "\n" not in free and len(free) < 100:
            licenses.append(free)
    requires: set[str] = set()
    for line in metadata.get_all("Requires-Dist") or []:
        try:
            requires.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return Component(
        name=metadata.get("Name") or dist.project_name, version=dist.version, hashes=dict(hashes),
        licenses=tuple(licenses), description=(metadata.get("Summary") or None),
        depends_on=tuple(sorted(requires)),
    )


def _metadata_of(dist: InstalledDist) -> email.message.Message:
    try:
        text = (dist.dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return email.parser.HeaderParser().parsestr(text)


def _link(components: Sequence[Component]) -> list[Component]:
    """Keep only edges to distributions that are present: an extra's requirement may not be installed."""
    present = {c.key for c in components}
    return [replace(c, depends_on=tuple(d for d in c.depends_on if d in present and d != c.key))
            for c in components]


__all__ = ["Component", "archive_hashes", "document", "dumps", "environment_sbom", "lock_sbom", "project_identity"]
