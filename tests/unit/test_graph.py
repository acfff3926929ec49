from __future__ import annotations

import itertools

from packaging.markers import Marker

from lading.locks import graph


def evaluate(marker: Marker | None, **env: object) -> bool:
    if marker is None:
        return True
    base = {"python_version": "3.11", "sys_platform": "linux", "dependency_groups": frozenset(),
            "extras": frozenset()}
    base.update(env)
    return marker.evaluate(base, context="lock_file")  # type: ignore[arg-type]


def test_package_reached_from_main_and_a_group_needs_no_marker() -> None:
    reached = graph.propagate(
        {"root": graph.ALWAYS},
        {"root": [("a", graph.ALWAYS), ("b", graph.group_atom("dev"))], "b": [("a", graph.ALWAYS)]},
    )
    assert graph.to_marker(reached["a"]) is None
    marker = graph.to_marker(reached["b"])
    assert marker is not None
    assert evaluate(marker, dependency_groups=frozenset({"dev"}))
    assert not evaluate(marker)


def test_edge_markers_are_anded_along_a_path_and_ored_across_paths() -> None:
    reached = graph.propagate(
        {"root": graph.ALWAYS},
        {
            "root": [("mid", graph.atom("sys_platform == 'linux'")),
                     ("leaf", graph.atom("python_version < '3.10'"))],
            "mid": [("leaf", graph.extra_atom("fast"))],
        },
    )
    marker = graph.to_marker(reached["leaf"])
    for platform, version, extras in itertools.product(
        ("linux", "win32"), ("3.9", "3.12"), (frozenset(), frozenset({"fast"}))
    ):
        expected = (platform == "linux" and "fast" in extras) or version == "3.9"
        assert evaluate(marker, sys_platform=platform, python_version=version, extras=extras) == expected


def test_cycles_reach_a_fixed_point() -> None:
    reached = graph.propagate(
        {"root": graph.ALWAYS},
        {
            "root": [("a", graph.atom("os_name == 'posix'"))],
            "a": [("b", graph.ALWAYS)],
            "b": [("a", graph.atom("python_version >= '3'"))],
        },
    )
    assert graph.to_marker(reached["a"]) == Marker("os_name == 'posix'")
    assert graph.to_marker(reached["b"]) == Marker("os_name == 'posix'")


def test_unreached_nodes_are_absent() -> None:
    reached = graph.propagate({"root": graph.ALWAYS}, {"other": [("x", graph.ALWAYS)]})
    assert "x" not in reached and "other" not in reached


def test_absorption_drops_redundant_clauses() -> None:
    a = graph.atom("os_name == 'posix'")
    ab = graph.both(a, graph.atom("python_version < '3.10'"))
    assert graph.either(a, ab) == a


def test_a_group_name_that_cannot_be_a_marker_is_refused() -> None:
    import pytest

    from lading.errors import LockFormatError

    with pytest.raises(LockFormatError) as info:
        graph.group_atom("python-version > '3' and")
    assert "not a valid dependency group name" in str(info.value)
    with pytest.raises(LockFormatError):
        graph.extra_atom("-x")
