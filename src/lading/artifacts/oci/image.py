"""``lading build image``: a lock installed onto a base image, as new layers, reproducibly.

1. The base (an OCI layout, a ``docker save`` tar, or a registry reference pulled into a temporary
   layout) is read, and its Python found (:mod:`basepython`).
2. The lock is staged as a venv for ``/opt/venv`` (``--venv-dir``) with a local interpreter of the base's
   ``X.Y``, selecting wheels for the base (its glibc, its architecture); the venv's interpreter links and
   ``pyvenv.cfg`` name the base's interpreter.
3. The staged tree is split into layers by distribution (:mod:`layers`), each a deterministic tar.gz,
   kept in lading's cache by diff_id so unchanged layers are not compressed again.
4. The config (the base's, with the new diff_ids, history, ``Env``, entry point...) and the manifest
   (with annotations) are written as canonical JSON into an OCI layout; the same inputs give the same
   manifest digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from lading.artifacts._tar import given_epoch
from lading.artifacts.oci import layout as oci
from lading.artifacts.oci.basepython import (
    DEFAULT_PATH,
    BasePython,
    base_target,
    env_of,
    find_python,
    local_interpreter,
    scan,
)
from lading.artifacts.oci.layers import (
    BIG_LAYER,
    DEFAULT_MTIME,
    MAX_LAYERS,
    Entry,
    Layer,
    LayerGroup,
    LayerStore,
    StagedTree,
    build_layer,
    plan_layers,
    units_from_tree,
)
from lading.artifacts.stage import Staged, StageOptions, stage
from lading.errors import UsageError
from lading.model import GroupRequest
from lading.progress import Progress

HISTORY_AUTHOR = "lading build image"
LOCK_ANNOTATION = "dev.lading.lock.sha256"


@dataclass(frozen=True)
class ImageOptions:
    base: str
    path: Path = Path(".")
    lock: Optional[Path] = None
    request: GroupRequest = field(default_factory=GroupRequest)
    base_python: Optional[str] = None  # the interpreter's path in the base image
    python: Optional[str] = None  # the local interpreter to stage with (default: found by version)
    architecture: Optional[str] = None  # which image of a multi-platform base (default: this machine's)
    venv_dir: str = "/opt/venv"
    tags: tuple[str, ...] = ()
    entrypoint: Optional[tuple[str, ...]] = None
    cmd: Optional[tuple[str, ...]] = None
    env: tuple[tuple[str, str], ...] = ()
    workdir: Optional[str] = None
    user: Optional[str] = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    revision: Optional[str] = None  # None: ask git in the project's directory; "": none
    created: Optional[int] = None  # SOURCE_DATE_EPOCH
    max_layers: int = MAX_LAYERS
    big_layer: int = BIG_LAYER
    compile: bool = True
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    index_url: Optional[str] = None
    cache_dir: Optional[Path] = None
    jobs: int = 8


@dataclass(frozen=True)
class BuiltImage:
    layout: Path
    manifest: oci.Descriptor
    config: oci.Descriptor
    base_layers: tuple[oci.Descriptor, ...]
    layers: tuple[Layer, ...]
    tags: tuple[str, ...]
    base: str
    base_digest: str
    python: BasePython
    project: Optional[str]
    entrypoint: Optional[tuple[str, ...]]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def all_layers(self) -> list[oci.Descriptor]:
        return [*self.base_layers, *(oci.Descriptor(x.media_type, x.digest, x.size) for x in self.layers)]


# --- the base ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_base(reference: str, work: Path, architecture: Optional[str] = None,
              progress: Optional[Progress] = None) -> Iterator[oci.BaseImage]:
    """A local base (layout, ``docker save`` tar), else a registry reference pulled into ``work``."""
    with oci.open_local_base(reference, architecture=architecture) as local:
        if local is not None:
            yield local
            return
    registry = _registry()
    if registry is None:
        raise UsageError(f"the base image {reference} is not a local OCI layout or archive", field="--base",
                         hint="give an OCI layout directory (skopeo copy ... oci:DIR) or a `docker save` tar")
    pulled = work / "base"
    wanted = oci.wanted_platform(architecture)
    registry.pull(reference, pulled, platform=f"{wanted['os']}/{wanted['architecture']}", progress=progress)
    image = oci.read_layout(pulled, None, architecture=architecture)
    image.name = reference
    yield image


def _registry() -> Any:
    import importlib
    import importlib.util

    if importlib.util.find_spec("lading.artifacts.oci.registry") is None:
        return None
    return importlib.import_module("lading.artifacts.oci.registry")


# --- staging -------------------------------------------------------------------------------------------


def _project_name(staged: Staged) -> Optional[str]:
    if staged.project:
        return staged.project
    lock = staged.result.selection.lock
    for i, package in enumerate(lock.packages):
        if lock.is_project(i):
            return str(package.name)
    return None


def _venv_overrides(staged: Staged, base: BasePython, run_at: PurePosixPath) -> dict[str, Entry]:
    """The venv's links to its interpreter and its pyvenv.cfg, naming the base's interpreter."""
    prefix = run_at.as_posix().lstrip("/")
    overrides: dict[str, Entry] = {}
    bin_dir = staged.root / "bin"
    for link in sorted(bin_dir.iterdir()):
        if link.is_symlink() and re.fullmatch(r"python(\d+(\.\d+)?)?", link.name):
            target = os.readlink(link)
            if os.path.isabs(target):
                overrides[f"{prefix}/bin/{link.name}"] = Entry(f"{prefix}/bin/{link.name}", "symlink", 0o777,
                                                               target=base.path)
    text = (f"home = {base.home}\ninclude-system-site-packages = false\nversion = {base.full_version}\n"
            f"executable = {base.path}\n").encode()
    overrides[f"{prefix}/pyvenv.cfg"] = Entry(f"{prefix}/pyvenv.cfg", "file", 0o644, data=text, size=len(text))
    return overrides


def _console_scripts(site_packages: Path, project: str) -> list[str]:
    normalized = re.sub(r"[-_.]+", "_", project).lower()
    for info in site_packages.glob("*.dist-info"):
        if re.sub(r"[-_.]+", "_", info.name[: -len(".dist-info")].partition("-")[0]).lower() != normalized:
            continue
        points = info / "entry_points.txt"
        if not points.is_file():
            return []
        import configparser

        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(points.read_text(encoding="utf-8"))
        except configparser.Error:
            return []
        return sorted(parser["console_scripts"]) if parser.has_section("console_scripts") else []
    return []


# --- config and manifest -----------------------------------------------------------------------------------


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_config(base: Mapping[str, Any], layers: Sequence[Layer], *, env: Sequence[tuple[str, str]],
                 entrypoint: Optional[Sequence[str]], cmd: Optional[Sequence[str]], workdir: Optional[str],
                 user: Optional[str], labels: Mapping[str, str], created: str, base_layer_count: int
                 ) -> dict[str, Any]:
    """The base's config with our layers, history and runtime settings (only OCI's fields are kept)."""
    config: dict[str, Any] = {k: base[k] for k in ("architecture", "os", "os.version", "os.features", "variant")
                              if k in base}
    runtime = dict(base.get("config") or {}) if isinstance(base.get("config"), dict) else {}
    keep = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal",
            "ArgsEscaped")
    runtime = {k: v for k, v in runtime.items() if k in keep and v is not None}
    values = {k: v for k, v in (item.split("=", 1) for item in runtime.get("Env") or [] if "=" in item)}
    order = list(values)
    for key, value in env:
        if key not in values:
            order.append(key)
        values[key] = value
    runtime["Env"] = [f"{k}={values[k]}" for k in order]
    if entrypoint is not None:
        runtime["Entrypoint"] = list(entrypoint)
        runtime.pop("Cmd", None)  # as docker does: a new entry point drops the base's arguments
    if cmd is not None:
        runtime["Cmd"] = list(cmd)
    if workdir:
        runtime["WorkingDir"] = workdir
    if user:
        runtime["User"] = user
    merged_labels = dict(runtime.get("Labels") or {})
    merged_labels.update(labels)
    if merged_labels:
        runtime["Labels"] = merged_labels
    else:
        runtime.pop("Labels", None)
    config["config"] = runtime
    diff_ids = list((base.get("rootfs") or {}).get("diff_ids") or [])
    config["rootfs"] = {"type": "layers", "diff_ids": [*diff_ids, *(layer.diff_id for layer in layers)]}
    history = [h for h in base.get("history") or [] if isinstance(h, dict)]
    if sum(1 for h in history if not h.get("empty_layer")) != base_layer_count:
        history = [{"created_by": "(base image layer)"} for _ in range(base_layer_count)]
    for layer in layers:
        history.append({"created": created, "created_by": f"{HISTORY_AUTHOR}: {layer.name}",
                        "comment": layer.description})
    config["history"] = history
    config["created"] = created
    return config


def _git_revision(directory: Path) -> Optional[str]:
    if shutil.which("git") is None:
        return None
    try:
        done = subprocess.run(["git", "-C", str(directory), "rev-parse", "--verify", "-q", "HEAD"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", text) else None


# --- the build -----------------------------------------------------------------------------------------


def build(options: ImageOptions, out: Path, progress: Optional[Progress] = None,
          environ: Optional[Mapping[str, str]] = None) -> BuiltImage:
    """Build the image into the OCI layout directory ``out`` (new or empty)."""
    from lading.cache import Cache, default_cache_dir

    started = time.perf_counter()
    env = os.environ if environ is None else environ
    progress = progress or Progress()
    run_at = PurePosixPath(options.venv_dir)
    if not run_at.is_absolute() or ".." in run_at.parts or run_at == PurePosixPath("/"):
        raise UsageError(f"--venv-dir {options.venv_dir} is not an absolute directory", field="--venv-dir")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".lading-work-", dir=out))
    notes: list[str] = []
    try:
        with open_base(options.base, work, options.architecture, progress) as base:
            progress.phase("reading the base image", len(base.layers))
            files = scan(base)
            python = find_python(base, files, options.base_python)
            if options.user and not re.fullmatch(r"\d+(:\d+)?", options.user):
                name = options.user.split(":", 1)[0]
                passwd = files.contents.get("etc/passwd", b"").decode("utf-8", "replace")
                if not re.search(rf"^{re.escape(name)}:", passwd, re.M):
                    raise UsageError(f"the base image has no user {name!r} in /etc/passwd", field="--user",
                                     hint="give a numeric UID[:GID], or a user the base image defines")
            local = local_interpreter(python.version, options.python, env)
            target = base_target(python, local)
            root = work / "stage"
            staged = stage(StageOptions(
                path=options.path, lock=options.lock, root=root, layout="venv", run_at=Path(str(run_at)),
                python=local, target=target, request=options.request, offline=options.offline,
                find_links=options.find_links, index_url=options.index_url, compile=options.compile,
                cache_dir=options.cache_dir, jobs=options.jobs,
            ), progress, env)
            project = None if options.request.no_project else _project_name(staged)
            tree = StagedTree(root, run_at, staged.site_packages, project, _venv_overrides(staged, python, run_at))
            groups = plan_layers(units_from_tree(tree), max_layers=options.max_layers, big=options.big_layer)
            blobs = oci.blobs_dir(out)
            store = LayerStore(Cache(default_cache_dir(str(options.cache_dir) if options.cache_dir else None, env)))
            progress.phase("writing layers", len(groups), sum(g.size for g in groups))
            layers = []
            for group in groups:
                layers.append(build_layer(group, blobs, store))
                progress.advance(items=1, nbytes=group.size)
            progress.phase("copying the base's layers", len(base.layers))
            for descriptor in [*base.layers]:
                target_blob = blobs / descriptor.digest.split(":", 1)[1]
                if not target_blob.exists():
                    temp = target_blob.with_name(f".tmp-{target_blob.name}")
                    base.blobs.copy_to(descriptor.digest, temp)
                    os.replace(temp, target_blob)
                progress.advance(items=1)
            entrypoint = options.entrypoint
            if entrypoint is None and project:
                scripts = _console_scripts(staged.site_packages, project)
                if scripts:
                    chosen = next((s for s in scripts if re.sub(r"[-_.]+", "-", s).lower() ==
                                   re.sub(r"[-_.]+", "-", project).lower()), scripts[0])
                    entrypoint = (f"{run_at}/bin/{chosen}",)
                    if len(scripts) > 1:
                        notes.append(f"entry point: {chosen} (the project has {', '.join(scripts)}; "
                                     "--entrypoint chooses)")
                else:
                    notes.append("the project has no console script: the base's entry point is kept")
            base_env = env_of(base.config)
            path_value = f"{run_at}/bin:{base_env.get('PATH', DEFAULT_PATH)}"
            settings_env = [("PATH", path_value), ("VIRTUAL_ENV", str(run_at)), *options.env]
            epoch = options.created if options.created is not None else given_epoch(env)
            created = rfc3339(epoch if epoch is not None else DEFAULT_MTIME)
            config = image_config(base.config, layers, env=settings_env, entrypoint=entrypoint, cmd=options.cmd,
                                  workdir=options.workdir, user=options.user, labels=dict(options.labels),
                                  created=created, base_layer_count=len(base.layers))
            config_descriptor = oci.write_blob(out, oci.canonical_json(config), oci.OCI_CONFIG)
            annotations = _annotations(options, staged, base, created, project)
            manifest = {
                "schemaVersion": 2,
                "mediaType": oci.OCI_MANIFEST,
                "config": config_descriptor.to_json(),
                "layers": [d.to_json() for d in base.layers]
                          + [oci.Descriptor(x.media_type, x.digest, x.size).to_json() for x in layers],
                "annotations": annotations,
            }
            written = oci.write_blob(out, oci.canonical_json(manifest), oci.OCI_MANIFEST)
            platform = {"architecture": str(config.get("architecture") or python.architecture),
                        "os": str(config.get("os") or "linux")}
            if config.get("variant"):
                platform["variant"] = str(config["variant"])
            manifest_descriptor = oci.Descriptor(written.media_type, written.digest, written.size,
                                                 platform=platform)
            tags = options.tags or (f"{project or 'app'}:latest",)
            oci.write_index(out, manifest_descriptor, tags)
            return BuiltImage(out, manifest_descriptor, config_descriptor, tuple(base.layers), tuple(layers),
                              tuple(tags), options.base, base.manifest_digest, python, project, entrypoint,
                              tuple(notes), round(time.perf_counter() - started, 3))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _annotations(options: ImageOptions, staged: Staged, base: oci.BaseImage, created: str,
                 project: Optional[str]) -> dict[str, str]:
    lock_path = staged.result.found.path
    out = {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.base.digest": base.manifest_digest,
        LOCK_ANNOTATION: hashlib.sha256(lock_path.read_bytes()).hexdigest(),
    }
    if base.name:
        out["org.opencontainers.image.base.name"] = base.name
    if project:
        out["org.opencontainers.image.title"] = project
        version = _project_version(staged.site_packages, project)
        if version:
            out["org.opencontainers.image.version"] = version
    revision = options.revision if options.revision is not None else _git_revision(lock_path.parent)
    if revision:
        out["org.opencontainers.image.revision"] = revision
    out.update(dict(options.annotations))
    return out


def _project_version(site_packages: Path, project: str) -> Optional[str]:
    normalized = re.sub(r"[-_.]+", "_", project).lower()
    for info in site_packages.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        if re.sub(r"[-_.]+", "_", name).lower() == normalized:
            return version
    return None


def group_summary(groups: Sequence[LayerGroup]) -> list[str]:
    return [f"{g.name}: {g.describe()}" for g in groups]


__all__ = ["BuiltImage", "ImageOptions", "build", "image_config", "open_base", "rfc3339"]
