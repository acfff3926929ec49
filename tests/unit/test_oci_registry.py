"""The registry client against the real distribution server (``docker-registry`` on 127.0.0.1),
checked with ``skopeo``: push, pull, skip, mount, authentication (htpasswd Basic, bearer tokens from
a token service), secrets kept out of every output, and a push killed half way."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

import pytest

from lading.artifacts.oci.auth import find_credentials, parse_challenge
from lading.artifacts.oci.registry import (
    BASE_NAME,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    REF_NAME,
    Reference,
    RegistryClient,
    RegistryError,
    copy,
    is_insecure,
    parse_reference,
    pull,
    push,
)
from tests.registry import Registry, running_registry, unavailable

ROOT = Path(__file__).resolve().parents[2]
MTIME = 315532800
PASSWORD = "s3cret-Pa55word-for-tests"

needs_registry = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))
needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")


# -- building small images by hand -------------------------------------------------------------


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """A gzipped tar of ``files`` and its diff_id (the digest of the uncompressed tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0), _digest(raw.getvalue())


def _write_blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = _digest(data)
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _index_add(layout: Path, descriptor: dict[str, Any]) -> None:
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index_path = layout / "index.json"
    index = (
        json.loads(index_path.read_text())
        if index_path.exists()
        else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    )
    index["manifests"].append(descriptor)
    index_path.write_text(json.dumps(index))


def make_image(
    layout: Path,
    layers: list[Mapping[str, bytes]],
    *,
    tag: Optional[str] = "1.0",
    arch: str = "amd64",
    annotations: Optional[Mapping[str, str]] = None,
    in_index: bool = True,
) -> dict[str, Any]:
    """Write an image (gzipped layers, config, manifest) into an OCI layout; returns its descriptor."""
    descriptors, diff_ids = [], []
    for files in layers:
        blob, diff_id = _layer(files)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_write_blob(layout, blob)})
        diff_ids.append(diff_id)
    config = {
        "architecture": arch, "os": "linux", "created": "1980-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/app"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest: dict[str, Any] = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_write_blob(layout, config_blob)},
        "layers": descriptors,
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    descriptor: dict[str, Any] = {"mediaType": OCI_MANIFEST, **_write_blob(layout, body)}
    if in_index:
        entry = dict(descriptor)
        if tag:
            entry["annotations"] = {REF_NAME: tag}
        _index_add(layout, entry)
    return descriptor


def _random(n: int, seed: int) -> bytes:
    """Incompressible bytes, reproducible by seed."""
    out, block = bytearray(), hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


BASE_LAYERS: list[Mapping[str, bytes]] = [
    {"etc/os-release": b"ID=test\n", "usr/lib/libbase.so": _random(200_000, 1)},
    {"opt/app/lib/site-packages/dep.py": _random(100_000, 2)},
]
APP_LAYER: Mapping[str, bytes] = {"opt/app/lib/site-packages/app.py": b"print('hello')\n"}


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def clean_env(**extra: str) -> dict[str, str]:
    """An environment with no registry settings of the machine's own (no docker config, no tokens)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LADING_REGISTRY", "DOCKER_"))}
    env["DOCKER_CONFIG"] = "/nonexistent-docker-config"
    env.update(extra)
    return env


# -- fixtures: one registry of each kind per module ---------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if unavailable():
        pytest.skip(str(unavailable()))
    with running_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if unavailable():
        pytest.skip(str(unavailable()))
    with running_registry(tmp_path_factory.mktemp("basic"), users={"alice": PASSWORD}) as running:
        yield running


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if unavailable():
        pytest.skip(str(unavailable()))
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to sign the test token service's tokens")
    with running_registry(tmp_path_factory.mktemp("token"), users={"alice": PASSWORD}, token=True) as running:
        yield running


# -- references ---------------------------------------------------------------------------------


def test_reference_with_host_port_tag_and_digest_is_parsed() -> None:
    digest = "sha256:" + "a" * 64
    assert parse_reference("127.0.0.1:5000/team/app:1.0", {}) == Reference(
        "127.0.0.1:5000", "team/app", "1.0", None
    )
    assert parse_reference(f"registry.example/app@{digest}", {}) == Reference(
        "registry.example", "app", None, digest
    )
    assert parse_reference("localhost/app", {}).tag == "latest"
    assert str(parse_reference(f"localhost:5000/app:2@{digest}", {})) == f"localhost:5000/app:2@{digest}"


def test_reference_without_registry_is_refused_unless_lading_registry_is_set() -> None:
    with pytest.raises(RegistryError) as caught:
        parse_reference("team/app:1.0", {})
    assert "names no registry" in str(caught.value)
    assert "LADING_REGISTRY" in str(caught.value)
    assert parse_reference("team/app:1.0", {"LADING_REGISTRY": "127.0.0.1:5000"}) == Reference(
        "127.0.0.1:5000", "team/app", "1.0", None
    )
    with pytest.raises(RegistryError, match="repository 'Team/App' is not valid"):
        parse_reference("127.0.0.1:5000/Team/App", {})
    with pytest.raises(RegistryError, match="URL scheme"):
        parse_reference("https://127.0.0.1:5000/app", {})


def test_plain_http_only_for_loopback_and_listed_registries() -> None:
    assert is_insecure("127.0.0.1:5000", {})
    assert is_insecure("localhost", {})
    assert not is_insecure("registry.example:5000", {})
    assert is_insecure("registry.example:5000", {"LADING_INSECURE_REGISTRIES": "other, registry.example:5000"})
    assert is_insecure("registry.example:5000", {"LADING_INSECURE_REGISTRIES": "registry.example"})


def test_bearer_challenge_with_commas_in_scope_is_parsed() -> None:
    challenge = parse_challenge(
        'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "http://127.0.0.1:1/token", "service": "reg", "scope": "repository:a/b:pull,push"
    }


def test_credentials_come_from_env_then_docker_config_then_helper(tmp_path: Path) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    auth = base64.b64encode(b"bob:from-config").decode()
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-fake"
    helper.write_text(
        "#!/bin/sh\nread host\n"
        'if [ "$host" = "helped.example" ]; then echo \'{"Username":"carol","Secret":"from-helper"}\'; '
        "else echo 'credentials not found' >&2; exit 1; fi\n"
    )
    helper.chmod(0o755)
    (config_dir / "config.json").write_text(json.dumps({
        "auths": {"https://registry.example:5000/v1/": {"auth": auth}},
        "credHelpers": {"helped.example": "fake"},
    }))
    env = {"DOCKER_CONFIG": str(config_dir), "PATH": f"{helper_dir}:{os.environ['PATH']}"}
    found = find_credentials("registry.example:5000", env)
    assert found is not None and (found.username, found.password) == ("bob", "from-config")
    assert "from-config" not in repr(found)
    helped = find_credentials("helped.example", env)
    assert helped is not None and (helped.username, helped.password) == ("carol", "from-helper")
    assert find_credentials("other.example", env) is None
    by_env = find_credentials(
        "registry.example:5000",
        {**env, "LADING_REGISTRY_USERNAME": "dave", "LADING_REGISTRY_PASSWORD": "from-env"},
    )
    assert by_env is not None and (by_env.username, by_env.password) == ("dave", "from-env")
    specific = find_credentials(
        "registry.example:5000",
        {**env, "LADING_REGISTRY_USERNAME": "dave", "LADING_REGISTRY_PASSWORD": "from-env",
         "LADING_REGISTRY_REGISTRY_EXAMPLE_5000_USERNAME": "erin",
         "LADING_REGISTRY_REGISTRY_EXAMPLE_5000_PASSWORD": "specific"},
    )
    assert specific is not None and specific.username == "erin"


# -- push and pull against the real registry ------------------------------------------------------


@needs_registry
@needs_skopeo
def test_pushed_image_is_read_by_skopeo_and_pulled_back_identical(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "built"
    descriptor = make_image(layout, [*BASE_LAYERS, APP_LAYER])
    ref = f"{registry.host}/demo/app:1.0"
    result = push(layout, ref, environ=clean_env())
    assert result.digest == descriptor["digest"]
    assert len(result.uploaded_blobs) == 4 and not result.skipped_blobs and not result.mounted_blobs
    manifest = json.loads((layout / "blobs/sha256" / result.digest.split(":")[1]).read_bytes())
    assert result.uploaded_bytes == manifest["config"]["size"] + sum(x["size"] for x in manifest["layers"])

    inspected = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)
    assert inspected["Digest"] == result.digest
    assert inspected["Layers"] == [x["digest"] for x in manifest["layers"]]
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").stdout.encode()
    assert _digest(raw) == result.digest  # the registry kept the exact bytes

    copied = tmp_path / "copied"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{copied}:1.0")
    copied_index = json.loads((copied / "index.json").read_text())
    assert [m["digest"] for m in copied_index["manifests"]] == [result.digest]

    pulled = tmp_path / "pulled"
    assert pull(ref, pulled, environ=clean_env()) == result.digest
    for blob in (layout / "blobs/sha256").iterdir():
        assert (pulled / "blobs/sha256" / blob.name).read_bytes() == blob.read_bytes()
    index = json.loads((pulled / "index.json").read_text())
    assert index["manifests"] == [
        {"mediaType": OCI_MANIFEST, "digest": result.digest, "size": descriptor["size"],
         "annotations": {REF_NAME: "1.0"}}
    ]
    # What lading wrote is a layout skopeo reads: copy it on to another repository.
    skopeo("copy", "--dest-tls-verify=false", f"oci:{pulled}:1.0", f"docker://{registry.host}/demo/copy:1.0")
    again = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{registry.host}/demo/copy:1.0").stdout)
    assert again["Digest"] == result.digest


@needs_registry
def test_second_push_uploads_nothing(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "built"
    make_image(layout, [*BASE_LAYERS, {"app.py": b"v2\n"}])
    ref = f"{registry.host}/demo/again:1.0"
    first = push(layout, ref, environ=clean_env())
    second = push(layout, ref, environ=clean_env())
    assert second.digest == first.digest
    assert second.uploaded_bytes == 0 and not second.uploaded_blobs
    assert sorted(second.skipped_blobs) == sorted(first.uploaded_blobs)
    assert second.manifest_uploaded is False


@needs_registry
@needs_skopeo
def test_push_to_another_repository_mounts_blobs_instead_of_uploading(registry: Registry, tmp_path: Path) -> None:
    base = tmp_path / "base"
    make_image(base, BASE_LAYERS, tag="bookworm")
    push(base, f"{registry.host}/library/base:bookworm", environ=clean_env())

    # The built image names its base (an OCI annotation): its base layers are mounted from there.
    app = tmp_path / "app"
    make_image(app, [*BASE_LAYERS, APP_LAYER], annotations={BASE_NAME: f"{registry.host}/library/base:bookworm"})
    result = push(app, f"{registry.host}/team/service:1", environ=clean_env())
    base_layer_digests = {_digest(_layer(files)[0]) for files in BASE_LAYERS}
    app_layer = _digest(_layer(APP_LAYER)[0])
    assert set(result.mounted_blobs) == base_layer_digests
    assert app_layer in result.uploaded_blobs
    assert registry.has_blob("team/service", app_layer)
    assert all(registry.has_blob("team/service", d) for d in base_layer_digests)

    # mount_from names source repositories directly.
    moved = push(app, f"{registry.host}/team/other:1", mount_from=["team/service"], environ=clean_env())
    assert len(moved.mounted_blobs) == 4 and moved.uploaded_bytes == 0
    skopeo("inspect", "--tls-verify=false", f"docker://{registry.host}/team/other:1")


@needs_registry
def test_one_line_change_uploads_only_the_application_layer(registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.host}/bench/app:latest"
    full = push(make_layout(tmp_path / "v1", b"print('v1')\n"), ref, environ=clean_env())
    changed = push(make_layout(tmp_path / "v2", b"print('v2')\n"), ref, environ=clean_env())
    assert changed.digest != full.digest
    # The new app layer and the new config (its diff_ids changed); base layers skipped.
    assert len(changed.uploaded_blobs) == 2
    assert len(changed.skipped_blobs) == len(BASE_LAYERS)
    assert changed.uploaded_bytes < 2_000 < full.uploaded_bytes
    assert registry.tag_digest("bench/app", "latest") == changed.digest


def make_layout(layout: Path, app: bytes) -> Path:
    make_image(layout, [*BASE_LAYERS, {"opt/app/app.py": app}], tag="latest")
    return layout


@needs_registry
@needs_skopeo
def test_pull_resolves_a_multi_platform_index_to_the_platform_asked_for(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "multi"
    amd = make_image(layout, [{"arch": b"amd64\n"}], arch="amd64", in_index=False)
    arm = make_image(layout, [{"arch": b"arm64\n"}], arch="arm64", in_index=False)
    index = {
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
            {**arm, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        ],
    }
    body = json.dumps(index, separators=(",", ":")).encode()
    top = {"mediaType": OCI_INDEX, **_write_blob(layout, body), "annotations": {REF_NAME: "multi"}}
    _index_add(layout, top)
    ref = f"{registry.host}/demo/multi:multi"
    result = push(layout, ref, environ=clean_env())
    assert result.digest == top["digest"]
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").stdout)
    assert raw["mediaType"] == OCI_INDEX

    assert pull(ref, tmp_path / "arm", platform="linux/arm64", environ=clean_env()) == arm["digest"]
    assert pull(ref, tmp_path / "amd", environ=clean_env()) == amd["digest"]
    with pytest.raises(RegistryError, match="no manifest for platform linux/s390x") as caught:
        pull(ref, tmp_path / "none", platform="linux/s390x", environ=clean_env())
    assert "linux/amd64" in str(caught.value) and "linux/arm64/v8" in str(caught.value)


@needs_registry
@needs_skopeo
def test_docker_schema2_image_is_pulled_and_pushed_byte_for_byte(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "oci"
    make_image(layout, [{"docker.txt": b"docker format\n"}])
    ref = f"{registry.host}/demo/docker:1.0"
    skopeo("copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{layout}:1.0", f"docker://{ref}")
    digest = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)["Digest"]
    pulled = tmp_path / "pulled"
    assert pull(ref, pulled, environ=clean_env()) == digest
    entry = json.loads((pulled / "index.json").read_text())["manifests"][0]
    assert entry["mediaType"] == DOCKER_MANIFEST
    result = push(pulled, f"{registry.host}/demo/docker-again:1.0", environ=clean_env())
    assert result.digest == digest
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/demo/docker-again:1.0").stdout
    assert json.loads(raw)["mediaType"] == DOCKER_MANIFEST and _digest(raw.encode()) == digest


@needs_registry
def test_copy_moves_an_image_within_a_registry_by_mounting(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "src"
    make_image(layout, [{"x": b"copy me\n"}])
    first = push(layout, f"{registry.host}/demo/copy-src:1.0", environ=clean_env())
    result = copy(f"{registry.host}/demo/copy-src:1.0", f"{registry.host}/demo/copy-dst:1.0", environ=clean_env())
    assert result.digest == first.digest
    assert len(result.mounted_blobs) == 2 and result.uploaded_bytes == 0


@needs_registry
def test_pull_of_a_missing_tag_names_the_tag(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as caught:
        pull(f"{registry.host}/demo/app:no-such-tag", tmp_path / "x", environ=clean_env())
    message = str(caught.value)
    assert "no-such-tag" in message and registry.host in message and "demo/app" in message


@needs_registry
def test_pull_refuses_a_blob_the_registry_serves_damaged(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "built"
    make_image(layout, [{"damaged.txt": b"original bytes\n" * 100}])
    ref = f"{registry.host}/demo/damaged:1.0"
    result = push(layout, ref, environ=clean_env())
    layer = result.uploaded_blobs[0] if result.uploaded_blobs else ""
    manifest = json.loads((layout / "blobs/sha256" / result.digest.split(":")[1]).read_bytes())
    layer = manifest["layers"][0]["digest"]
    hexdigest = layer.split(":")[1]
    data = registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"
    original = data.read_bytes()
    data.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        with pytest.raises(RegistryError, match="does not match its descriptor") as caught:
            pull(ref, tmp_path / "pulled", environ=clean_env())
        assert layer in str(caught.value)
        assert not (tmp_path / "pulled/blobs/sha256" / hexdigest).exists()
        assert not [p for p in (tmp_path / "pulled/blobs/sha256").iterdir() if p.name.endswith(".tmp")]
    finally:
        data.write_bytes(original)


# -- authentication ---------------------------------------------------------------------------


def _all_text(*roots: Path) -> str:
    chunks = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                chunks.append(path.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def _assert_secret_free(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


@needs_registry
def test_basic_auth_registry_with_credentials_from_the_environment(
    basic_registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    layout = tmp_path / "built"
    make_image(layout, [{"a": b"basic\n"}])
    ref = f"{basic_registry.host}/private/app:1.0"
    env = clean_env(LADING_REGISTRY_USERNAME="alice", LADING_REGISTRY_PASSWORD=PASSWORD)
    result = push(layout, ref, environ=env)
    assert pull(ref, tmp_path / "pulled", environ=env) == result.digest
    assert basic_registry.tag_digest("private/app", "1.0") == result.digest

    with pytest.raises(RegistryError) as anonymous:
        push(layout, ref, environ=clean_env())
    assert "authentication required" in str(anonymous.value)
    assert "LADING_REGISTRY_USERNAME" in str(anonymous.value) and "docker login" in str(anonymous.value)

    wrong = "not-the-Password-123"
    with pytest.raises(RegistryError) as refused:
        push(layout, ref, environ=clean_env(LADING_REGISTRY_USERNAME="alice", LADING_REGISTRY_PASSWORD=wrong))
    message = str(refused.value)
    assert "'alice'" in message and "were refused" in message and "LADING_REGISTRY_USERNAME" in message
    secrets = [PASSWORD, wrong, base64.b64encode(f"alice:{PASSWORD}".encode()).decode(),
               base64.b64encode(f"alice:{wrong}".encode()).decode()]
    _assert_secret_free(message + str(anonymous.value) + caplog.text + _all_text(tmp_path), secrets)


@needs_registry
@needs_skopeo
def test_token_auth_with_docker_config_pushes_and_never_shows_a_secret(
    token_registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    docker = tmp_path / "docker"
    docker.mkdir()
    encoded = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {token_registry.host: {"auth": encoded}}}))
    env = clean_env(DOCKER_CONFIG=str(docker))
    layout = tmp_path / "built"
    make_image(layout, [*BASE_LAYERS, APP_LAYER])
    ref = f"{token_registry.host}/team/app:1.0"
    client = RegistryClient(environ=env)
    result = push(layout, ref, client=client, environ=env)
    assert token_registry.tag_digest("team/app", "1.0") == result.digest
    assert token_registry.token_server is not None
    issued = list(token_registry.token_server.issued)
    assert issued, "the registry asked for a token and lading fetched one"
    # One token for the whole push: its scope covered every request.
    assert len(issued) == 1
    mounted = push(
        layout, f"{token_registry.host}/team/app2:1.0", mount_from=["team/app"], client=client, environ=env
    )
    assert len(mounted.mounted_blobs) == 4 and mounted.uploaded_bytes == 0

    # The token service grants anonymous pulls: pull works without credentials.
    assert pull(ref, tmp_path / "pulled", environ=clean_env()) == result.digest
    # ... but not pushes.
    with pytest.raises(RegistryError) as anonymous:
        push(layout, f"{token_registry.host}/team/new:1", environ=clean_env())
    assert "authentication required" in str(anonymous.value)

    wrong_docker = tmp_path / "wrong"
    wrong_docker.mkdir()
    wrong = base64.b64encode(b"alice:wrong-password-1").decode()
    wrong_config = {"auths": {f"https://{token_registry.host}": {"auth": wrong}}}
    (wrong_docker / "config.json").write_text(json.dumps(wrong_config))
    with pytest.raises(RegistryError) as refused:
        pull(ref, tmp_path / "refused", environ=clean_env(DOCKER_CONFIG=str(wrong_docker)))
    assert "were refused" in str(refused.value) and str(wrong_docker / "config.json") in str(refused.value)

    # skopeo, with the same docker config, reads what lading pushed through the token service.
    inspected = subprocess.run(
        ["skopeo", "--insecure-policy", "inspect", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True, text=True, env={**env, "REGISTRY_AUTH_FILE": str(docker / "config.json")},
        timeout=60,
    )
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == result.digest

    issued = list(token_registry.token_server.issued)
    secrets = [PASSWORD, encoded, "wrong-password-1", wrong, *issued]
    written = _all_text(tmp_path / "built", tmp_path / "pulled")
    text = "\n".join([str(anonymous.value), str(refused.value), caplog.text, written, json.dumps(result.to_json())])
    _assert_secret_free(text, secrets)


# -- a push killed half way -------------------------------------------------------------------

_KILLED_PUSH = """
import sys, time
from pathlib import Path
from lading.artifacts.oci.registry import push
from lading.progress import Progress

class Marker(Progress):
    sent = 0
    def advance(self, items=0, nbytes=0):
        self.sent += nbytes
        if self.sent > int(sys.argv[3]):
            print("mid-upload", flush=True)
            time.sleep(120)  # inside the PUT's body: the parent kills us here

push(Path(sys.argv[1]), sys.argv[2], progress=Marker())
print("finished", flush=True)
"""


@needs_registry
@needs_skopeo
def test_push_killed_mid_upload_converges_when_run_again(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "big"
    size = 3_000_000
    make_image(layout, [{f"layer{i}.bin": _random(size, 100 + i)} for i in range(3)])
    ref = f"{registry.host}/demo/killed:1.0"
    script = tmp_path / "push.py"
    script.write_text(_KILLED_PUSH)
    env = clean_env(PYTHONPATH=str(ROOT / "src"))
    # Past the first layer and a half: the second layer's PUT is under way when the kill lands.
    process = subprocess.Popen(
        [sys.executable, str(script), str(layout), ref, str(int(size * 1.5))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "mid-upload", process.stderr.read() if process.stderr else ""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL
    assert registry.tag_digest("demo/killed", "1.0") is None

    result = push(layout, ref, environ=clean_env())
    # The config and the first layer were complete before the kill and are not sent again; the
    # second layer (cut off) and the third are.
    assert len(result.skipped_blobs) == 2 and len(result.uploaded_blobs) == 2
    assert result.uploaded_bytes > 2 * size
    assert registry.tag_digest("demo/killed", "1.0") == result.digest
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)
    assert inspected["Digest"] == result.digest
