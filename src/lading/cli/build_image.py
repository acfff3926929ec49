"""``lading build image``: the lock installed onto a base image as an OCI image, reproducibly."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from lading.cli import common

if TYPE_CHECKING:
    from lading.artifacts.oci.image import BuiltImage

REPORT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "image", help="an OCI image: the lock installed onto a base image",
        description="Install the lock into a venv on top of a base image with Python and write an OCI image: "
        "third-party dependencies in layers of their own (large ones alone), the application last, "
        "reproducibly (the same inputs give the same manifest digest). No container daemon is used.",
    )
    common.add_lock_arguments(parser)
    common.add_group_arguments(parser)
    base = parser.add_argument_group("base image")
    base.add_argument("--base", required=True, metavar="REF",
                      help="an OCI layout directory (DIR or oci:DIR[:TAG]), a `docker save` tar "
                      "(FILE or docker-archive:FILE[:NAME:TAG]), or a registry reference")
    base.add_argument("--base-python", metavar="PATH",
                      help="the base image's interpreter (default: python3 on its PATH, /usr/local/bin/python3, "
                      "/usr/bin/python3)")
    base.add_argument("--python", metavar="PY",
                      help="the local interpreter to stage with; must have the base's X.Y (default: found)")
    base.add_argument("--arch", metavar="ARCH", help="the platform of a multi-platform base (default: this machine)")
    out = parser.add_argument_group("output (at least one)")
    out.add_argument("-o", "--output", type=Path, metavar="DIR", help="write an OCI image layout directory")
    out.add_argument("--docker-archive", type=Path, metavar="FILE",
                     help="write a tar that `docker load` and `podman load` take (an OCI layout plus manifest.json)")
    out.add_argument("--push", action="store_true", help="push to the registry of each --tag")
    out.add_argument("--tag", action="append", default=[], metavar="NAME:TAG",
                     help="the image's name and tag (repeatable; default: PROJECT:latest)")
    image = parser.add_argument_group("image settings")
    image.add_argument("--venv-dir", default="/opt/venv", metavar="DIR",
                       help="where the venv lives in the image (default /opt/venv)")
    image.add_argument("--entrypoint", metavar="CMD",
                       help="the entry point: a JSON array or a shell-like string (default: the project's "
                       "console script)")
    image.add_argument("--cmd", metavar="CMD", help="the default arguments: a JSON array or a shell-like string")
    image.add_argument("--env", action="append", default=[], metavar="K=V", help="an environment variable")
    image.add_argument("--workdir", metavar="DIR", help="the working directory")
    image.add_argument("--user", metavar="USER", help="run as this user (UID[:GID], or a name the base defines)")
    image.add_argument("--label", action="append", default=[], metavar="K=V", help="a config label")
    image.add_argument("--annotation", action="append", default=[], metavar="K=V", help="a manifest annotation")
    image.add_argument("--revision", metavar="REV",
                       help="the source revision annotation (default: git's HEAD of the project, if any)")
    image.add_argument("--max-layers", type=int, default=8, metavar="N",
                       help="at most N layers of lading's own on top of the base (default 8)")
    image.add_argument("--big-layer-mb", type=float, default=10.0, metavar="MB",
                       help="distributions this large get a layer of their own (default 10)")
    common.add_fetch_arguments(parser)
    parser.add_argument("--no-compile", action="store_true", help="do not install bytecode (.pyc)")
    common.add_json_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(run=run_command)


def _pairs(items: list[str], flag: str) -> tuple[tuple[str, str], ...]:
    from lading.errors import UsageError

    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r} is not KEY=VALUE", field=flag)
        out.append((key, value))
    return tuple(out)


def _command(text: Optional[str], flag: str) -> Optional[tuple[str, ...]]:
    from lading.errors import UsageError

    if text is None:
        return None
    if text.lstrip().startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{flag} is not a JSON array: {exc.msg}", field=flag) from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{flag} must be an array of strings", field=flag)
        return tuple(value)
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}", field=flag) from None


def run_command(args: argparse.Namespace) -> int:
    from lading.artifacts._tar import given_epoch
    from lading.artifacts.oci import layout as oci
    from lading.artifacts.oci.image import ImageOptions, build
    from lading.errors import LadingError, UsageError
    from lading.progress import for_stream

    if args.output is None and args.docker_archive is None and not args.push:
        raise UsageError("say where the image goes: -o DIR, --docker-archive FILE or --push", field="-o")
    if args.push and not args.tag:
        raise UsageError("--push needs --tag REGISTRY/NAME:TAG", field="--tag")
    if args.max_layers < 1:
        raise UsageError("--max-layers must be at least 1", field="--max-layers")
    output = args.output
    if output is not None and output.exists() and (
            not output.is_dir() or (any(output.iterdir()) and not (output / "oci-layout").is_file())):
        raise UsageError("exists and is not an OCI layout lading may replace", file=output, field="-o",
                         hint="choose a new directory")
    options = ImageOptions(
        base=args.base, path=args.path, lock=args.lock, request=common.group_request(args),
        base_python=args.base_python, python=args.python, architecture=args.arch, venv_dir=args.venv_dir,
        tags=tuple(args.tag), entrypoint=_command(args.entrypoint, "--entrypoint"), cmd=_command(args.cmd, "--cmd"),
        env=_pairs(args.env, "--env"), workdir=args.workdir, user=args.user, labels=_pairs(args.label, "--label"),
        annotations=_pairs(args.annotation, "--annotation"), revision=args.revision,
        created=given_epoch(os.environ), max_layers=args.max_layers,
        big_layer=int(args.big_layer_mb * 1024 * 1024), compile=not args.no_compile, offline=args.offline,
        find_links=tuple(args.find_links), index_url=args.index_url, cache_dir=args.cache_dir, jobs=args.jobs,
    )
    # the layout is built under a temporary name beside its destination (or beside the archive)
    anchor = args.output or args.docker_archive
    parent = Path(os.path.abspath(anchor)).parent if anchor is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(parent)
    temp = Path(tempfile.mkdtemp(prefix=f".lading-image-{os.getpid()}-", dir=parent))
    progress = for_stream(sys.stderr, quiet=args.quiet or args.json)
    pushed: list[dict[str, Any]] = []
    try:
        built = build(options, temp, progress, os.environ)
        if args.docker_archive is not None:
            oci.write_docker_archive(temp, args.docker_archive, built.config, built.all_layers, built.tags)
        if args.push:
            from lading.artifacts.oci.image import _registry

            registry = _registry()
            if registry is None:
                raise LadingError("pushing needs lading's registry client, which this lading does not have",
                                  hint="write -o DIR and push with `skopeo copy oci:DIR docker://...`")
            for tag in built.tags:
                result = registry.push(temp, tag, manifest_digest=built.manifest.digest, progress=progress)
                pushed.append({"tag": tag, "uploaded_bytes": result.uploaded_bytes,
                               "uploaded_blobs": len(result.uploaded_blobs),
                               "skipped_blobs": len(result.skipped_blobs), "mounted_blobs": len(result.mounted_blobs)})
        if args.output is not None:
            _replace_dir(temp, args.output)
            built = _moved(built, args.output)
    finally:
        progress.done()
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    if args.json:
        common.print_json(report(built, args, pushed))
    elif not args.quiet:
        print_result(built, args, pushed)
    return 0


def _remove_abandoned(parent: Path) -> None:
    """Remove the work directories of builds that were killed (their process is gone): a re-run converges."""
    for leftover in parent.glob(".lading-image-*-*"):
        pid = leftover.name[len(".lading-image-"):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue  # alive under another user, or unknowable: leave it


def _moved(built: BuiltImage, layout: Path) -> BuiltImage:
    from dataclasses import replace

    blobs = layout / "blobs" / "sha256"
    layers = tuple(replace(x, path=blobs / x.digest.split(":", 1)[1]) for x in built.layers)
    return replace(built, layout=layout, layers=layers)


def _replace_dir(temp: Path, output: Path) -> None:
    """Put the layout at ``output``: a rename, the old layout (if any) moved aside first and removed."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        os.rename(output, old)
    os.rename(temp, output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def report(built: BuiltImage, args: argparse.Namespace, pushed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "digest": built.manifest.digest,
        "config": built.config.digest,
        "tags": list(built.tags),
        "layout": str(args.output) if args.output else None,
        "docker_archive": str(args.docker_archive) if args.docker_archive else None,
        "pushed": pushed,
        "base": {"reference": built.base, "digest": built.base_digest, "layers": len(built.base_layers),
                 "python": built.python.path, "python_version": built.python.full_version,
                 "glibc": ".".join(map(str, built.python.glibc)) if built.python.glibc else None,
                 "architecture": built.python.architecture},
        "project": built.project,
        "entrypoint": list(built.entrypoint) if built.entrypoint else None,
        "layers": [{"name": x.name, "contents": x.description, "digest": x.digest, "diff_id": x.diff_id,
                    "size": x.size, "reused": x.reused} for x in built.layers],
        "notes": list(built.notes),
        "seconds": built.seconds,
    }


def print_result(built: BuiltImage, args: argparse.Namespace, pushed: list[dict[str, Any]]) -> None:
    python = built.python
    print(f"base {built.base} ({built.base_digest[:19]}, {len(built.base_layers)} layers): "
          f"Python {python.full_version} at {python.path}")
    rows = [[x.name, _size(x.size), x.digest[7:19], "cached" if x.reused else "new", _short(x.description)]
            for x in built.layers]
    print(common.table(rows, ["layer", "size", "digest", "", "contents"]))
    for note in built.notes:
        print(f"note: {note}")
    where = [str(p) for p in (args.output, args.docker_archive) if p is not None]
    where += [f"pushed {p['tag']} ({_size(p['uploaded_bytes'])} uploaded)" for p in pushed]
    print(f"image {built.manifest.digest} ({', '.join(built.tags)}) -> {', '.join(where)} in {built.seconds:.2f}s")


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
