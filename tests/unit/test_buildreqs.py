"""Resolving build requirements with resolvelib against a local simple index on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from packaging.markers import default_environment

from lading.cache import Cache
from lading.index.http import HttpClient
from lading.index.simple import SimpleIndex
from lading.model import Target
from lading.resolve import ResolutionError
from lading.resolve.buildreqs import FindLinks, metadata_source, resolve_build_requirements
from lading.resolve.provider import Pin, parse_metadata, parse_requirement
from lading.target import current
from tests.unit._httpserver import FileSpec, LocalServer, serving, write_tree_index
from tests.wheelmaker import make_sdist, make_wheel, metadata_text


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


@dataclass(frozen=True)
class Release:
    version: str
    requires: Sequence[str] = ()
    requires_python: Optional[str] = None
    yanked: Optional[str] = None
    tag: str = "py3-none-any"
    metadata_file: bool = True


class LocalIndex:
    """Projects published as wheels into a directory tree the local server serves."""

    def __init__(self, server: LocalServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.files = root / "files"
        server.serve_tree(root)

    @property
    def url(self) -> str:
        return f"{self.server.url}/simple"

    def publish(self, name: str, *releases: Release) -> None:
        specs = []
        for release in releases:
            wheel = make_wheel(self.files, name, release.version, requires=release.requires, tag=release.tag)
            if release.metadata_file:
                meta = metadata_text(name, release.version, release.requires)
                wheel.with_name(wheel.name + ".metadata").write_bytes(meta)
            specs.append(
                FileSpec(
                    wheel.name,
                    f"../../files/{wheel.name}",
                    wheel.read_bytes(),
                    requires_python=release.requires_python,
                    yanked=release.yanked,
                )
            )
        write_tree_index(self.root / "simple", name, specs)


@pytest.fixture
def index(server: LocalServer, tmp_path: Path) -> LocalIndex:
    return LocalIndex(server, tmp_path / "index")


def resolve(index: LocalIndex, tmp_path: Path, *requires: str, target: Optional[Target] = None) -> dict[str, Pin]:
    client = HttpClient(retries=0)
    pins = resolve_build_requirements(
        list(requires),
        target=target or current(),
        sources=[SimpleIndex(index.url, client)],
        metadata=metadata_source(Cache(tmp_path / "cache"), client),
        root="demo 1.0",
        file=tmp_path / "pyproject.toml",
    )
    return {str(p.name): p for p in pins}


def versions(pins: dict[str, Pin]) -> dict[str, str]:
    return {name: str(pin.version) for name, pin in pins.items()}


def test_resolves_a_dependency_chain_with_newest_versions(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["helper>=1"]), Release("2.0", ["helper>=2", "support"]))
    index.publish("helper", Release("1.0"), Release("2.0", ["support<3"]), Release("2.5", ["support<3"]))
    index.publish("support", Release("1.0"), Release("2.0"), Release("3.0"))
    pins = resolve(index, tmp_path, "backend")
    assert versions(pins) == {"backend": "2.0", "helper": "2.5", "support": "2.0"}
    assert pins["backend"].dependencies == ("helper", "support")
    assert pins["helper"].file.filename == "helper-2.5-py3-none-any.whl"


def test_conflict_names_each_chain_and_the_versions_on_offer(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["left", "right"]))
    index.publish("left", Release("1.0", ["shared<2"]))
    index.publish("right", Release("1.0", ["shared>=2"]))
    index.publish("shared", Release("1.0"), Release("2.0"))
    with pytest.raises(ResolutionError) as caught:
        resolve(index, tmp_path, "backend")
    text = str(caught.value)
    assert "the build of demo 1.0 -> backend 1.0 -> left 1.0 requires 'shared<2'" in text
    assert "the build of demo 1.0 -> backend 1.0 -> right 1.0 requires 'shared>=2'" in text
    assert "shared: versions with a wheel for this interpreter: 2.0, 1.0" in text
    assert "Traceback" not in text
    assert caught.value.package == "demo 1.0"


def test_backtracks_to_an_older_version_that_fits(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["plugin", "shared<2"]))
    index.publish("plugin", Release("1.0", ["shared<2"]), Release("2.0", ["shared>=2"]))
    index.publish("shared", Release("1.0"), Release("2.0"))
    assert versions(resolve(index, tmp_path, "backend")) == {"backend": "1.0", "plugin": "1.0", "shared": "1.0"}


def test_no_matching_version_says_what_the_index_has(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0"), Release("1.5"))
    with pytest.raises(ResolutionError) as caught:
        resolve(index, tmp_path, "backend>=2")
    text = str(caught.value)
    assert "no version of backend satisfies what the build of demo 1.0 needs" in text
    assert "the build of demo 1.0 requires 'backend>=2'" in text
    assert "1.5, 1.0" in text


def test_unknown_project_is_named(index: LocalIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolutionError, match=r"nothere is not on http://127\.0\.0\.1"):
        resolve(index, tmp_path, "nothere")


def test_requires_python_and_yanked_files_are_skipped(index: LocalIndex, tmp_path: Path) -> None:
    index.publish(
        "backend",
        Release("1.0"),
        Release("2.0", yanked="broken"),
        Release("3.0", requires_python=">=99"),
    )
    assert versions(resolve(index, tmp_path, "backend")) == {"backend": "1.0"}
    # PEP 592: a yanked release is still used when pinned exactly.
    assert versions(resolve(index, tmp_path, "backend==2.0")) == {"backend": "2.0"}


def test_wheels_for_other_platforms_are_skipped_and_explained(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("native", Release("1.0"), Release("2.0", tag="cp27-cp27m-win32"))
    assert versions(resolve(index, tmp_path, "native")) == {"native": "1.0"}
    with pytest.raises(ResolutionError, match="1 for other platforms or Pythons"):
        resolve(index, tmp_path, "native>=2")


def test_sdists_are_not_used_for_build_requirements(index: LocalIndex, tmp_path: Path) -> None:
    sdist = make_sdist(index.files, "onlysource", "1.0")
    write_tree_index(
        index.root / "simple", "onlysource", [FileSpec(sdist.name, f"../../files/{sdist.name}", sdist.read_bytes())]
    )
    with pytest.raises(ResolutionError, match=r"1 sdists \(only wheels are used here\)"):
        resolve(index, tmp_path, "onlysource")


def test_pre_releases_only_when_asked(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0"), Release("2.0b1"))
    assert versions(resolve(index, tmp_path, "backend")) == {"backend": "1.0"}
    assert versions(resolve(index, tmp_path, "backend>=2.0b1")) == {"backend": "2.0b1"}


def test_extras_add_their_requirements_and_share_the_pin(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["helper", "speedups>=2; extra == 'fast'"]))
    index.publish("helper", Release("1.0"))
    index.publish("speedups", Release("1.0"), Release("2.0"))
    plain = resolve(index, tmp_path, "backend")
    assert versions(plain) == {"backend": "1.0", "helper": "1.0"}
    fast = resolve(index, tmp_path, "backend[fast]")
    assert versions(fast) == {"backend": "1.0", "helper": "1.0", "speedups": "2.0"}
    assert fast["backend"].extras == frozenset({"fast"})


def test_markers_are_evaluated_for_the_target(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["onlyold; python_version < '3'", "helper"]))
    index.publish("helper", Release("1.0"))
    assert versions(resolve(index, tmp_path, "backend", "legacy; python_version < '3'")) == {
        "backend": "1.0",
        "helper": "1.0",
    }


def test_metadata_comes_from_the_pep658_file_without_the_wheel(
    index: LocalIndex, server: LocalServer, tmp_path: Path
) -> None:
    index.publish("backend", Release("1.0", ["helper"]))
    index.publish("helper", Release("1.0"))
    resolve(index, tmp_path, "backend")
    assert server.hits("/files/backend-1.0-py3-none-any.whl.metadata") == 1
    assert server.hits("/files/backend-1.0-py3-none-any.whl") == 0


def test_metadata_falls_back_to_the_wheel_and_caches_it(
    index: LocalIndex, server: LocalServer, tmp_path: Path
) -> None:
    index.publish("backend", Release("1.0", ["helper"], metadata_file=False))
    index.publish("helper", Release("1.0", metadata_file=False))
    assert versions(resolve(index, tmp_path, "backend")) == {"backend": "1.0", "helper": "1.0"}
    assert server.hits("/files/backend-1.0-py3-none-any.whl.metadata") == 1  # tried though not advertised
    assert server.hits("/files/backend-1.0-py3-none-any.whl") == 1
    cached = list((tmp_path / "cache").glob("archives-v1/*/*/backend-1.0-py3-none-any.whl"))
    assert len(cached) == 1


def test_invalid_root_requirement_names_file_and_field(index: LocalIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolutionError) as caught:
        resolve(index, tmp_path, "ok", "not a requirement!")
    assert caught.value.field == "build-system.requires[1]"
    assert caught.value.file == str(tmp_path / "pyproject.toml")


def test_bad_requires_dist_in_metadata_names_the_package(index: LocalIndex, tmp_path: Path) -> None:
    index.publish("backend", Release("1.0", ["fine", "=== broken"]))
    index.publish("fine", Release("1.0"))
    with pytest.raises(ResolutionError) as caught:
        resolve(index, tmp_path, "backend")
    assert caught.value.package == "backend 1.0"
    assert caught.value.field == "Requires-Dist[1]"


def test_first_index_that_knows_a_project_wins(server: LocalServer, tmp_path: Path) -> None:
    private = LocalIndex(server, tmp_path / "both")
    private.publish("backend", Release("1.0"))
    (tmp_path / "both" / "mirror").mkdir()
    client = HttpClient(retries=0)
    public = tmp_path / "both" / "public"
    make_wheel(public, "backend", "9.0")
    sources = [SimpleIndex(private.url, client), FindLinks([public])]
    pins = resolve_build_requirements(
        ["backend"],
        target=current(),
        sources=sources,
        metadata=metadata_source(Cache(tmp_path / "cache"), client),
        root="demo 1.0",
    )
    assert [str(p.version) for p in pins] == ["1.0"]


def test_find_links_directory_is_a_page_source(tmp_path: Path) -> None:
    links = tmp_path / "links"
    make_wheel(links, "backend", "1.0", requires=["helper"])
    make_wheel(links, "helper", "2.0")
    client = HttpClient(retries=0)
    pins = resolve_build_requirements(
        ["backend"],
        target=current(),
        sources=[FindLinks([links])],
        metadata=metadata_source(Cache(tmp_path / "cache"), client, offline=True, find_links=[links]),
        root="demo 1.0",
    )
    assert {str(p.name): str(p.version) for p in pins} == {"backend": "1.0", "helper": "2.0"}


def test_parse_requirement_drops_requirements_for_other_environments() -> None:
    environment = {k: str(v) for k, v in default_environment().items()}
    assert parse_requirement("x; python_version < '3'", environment) is None
    kept = parse_requirement("X_y[B]>=1", environment)
    assert kept is not None
    assert (kept.name, kept.identifier, str(kept.specifier)) == ("x-y", "x-y[b]", ">=1")
    with pytest.raises(ResolutionError, match="direct reference"):
        parse_requirement("x @ https://example.invalid/x-1.0.tar.gz", environment)


def test_parse_metadata_reads_requirements_and_python() -> None:
    meta = parse_metadata("Metadata-Version: 2.1\nName: A\nVersion: 1\nRequires-Dist: b\nRequires-Dist: c>1\n"
                          "Requires-Python: >=3.8\n\nbody text\n")
    assert (meta.name, meta.version, meta.requires_dist, meta.requires_python) == ("A", "1", ("b", "c>1"), ">=3.8")
