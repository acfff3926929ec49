"""The install plan: what changes between the environment and the lock's selection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from packaging.utils import NormalizedName, canonicalize_name

from lading.locks import read
from lading.model import Target
from lading.plan import Plan, make_plan
from lading.select import select

H = "b" * 64
LOCK = f"""
lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "attrs"
version = "24.2.0"
wheels = [{{ url = "https://example.invalid/attrs-24.2.0-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}]

[[packages]]
name = "idna"
version = "3.10"
wheels = [{{ url = "https://example.invalid/idna-3.10-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}]

[[packages]]
name = "six"
version = "1.17.0"
archive = {{ url = "https://example.invalid/six-1.17.0-py2.py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}

[[packages]]
name = "app"
directory = {{ path = ".", editable = true }}
"""


@dataclass(frozen=True)
class Dist:
    name: NormalizedName
    version: str
    direct_url: Optional[Mapping[str, Any]] = None


def dist(name: str, version: str, direct_url: Optional[Mapping[str, Any]] = None) -> Dist:
    return Dist(canonicalize_name(name), version, direct_url)


def kinds(plan: Plan) -> dict[str, str]:
    return {a.name: a.kind for a in plan.actions}


def test_empty_environment_installs_everything(write, here: Target) -> None:
    selection = select(read(write("pylock.toml", LOCK)), here)
    plan = make_plan(selection, [])
    assert kinds(plan) == {"attrs": "install", "idna": "install", "six": "install", "app": "install"}
    assert len(plan.to_install) == 4 and not plan.to_remove


def test_versions_decide_upgrade_downgrade_and_unchanged(write, here: Target) -> None:
    path = write("pylock.toml", LOCK)
    selection = select(read(path), here)
    six_url = {"url": "https://example.invalid/six-1.17.0-py2.py3-none-any.whl",
               "archive_info": {"hashes": {"sha256": H}}}
    app_url = {"url": path.parent.as_uri(), "dir_info": {"editable": True}}
    plan = make_plan(selection, [dist("attrs", "23.1.0"), dist("idna", "3.11"), dist("six", "1.17.0", six_url),
                                 dist("app", "0", app_url)])
    assert kinds(plan) == {"attrs": "upgrade", "idna": "downgrade", "six": "unchanged", "app": "unchanged"}
    [upgrade] = plan.of("upgrade")
    assert (upgrade.installed, upgrade.locked) == ("23.1.0", "24.2.0")


def test_same_version_from_another_source_is_reinstalled(write, here: Target) -> None:
    selection = select(read(write("pylock.toml", LOCK)), here)
    other = {"url": "https://elsewhere.invalid/attrs.whl", "archive_info": {}}
    plan = make_plan(selection, [dist("attrs", "24.2.0", other), dist("six", "1.17.0")])
    assert kinds(plan)["attrs"] == "reinstall"  # the lock wants the index copy
    assert kinds(plan)["six"] == "reinstall"  # the lock wants the direct URL copy


def test_exact_sync_removes_extras_but_keeps_pip(write, here: Target) -> None:
    selection = select(read(write("pylock.toml", LOCK)), here)
    installed = [dist("attrs", "24.2.0"), dist("requests", "2.32.0"), dist("pip", "26.3")]
    plan = make_plan(selection, installed)
    assert kinds(plan)["requests"] == "remove"
    assert "pip" not in kinds(plan) and plan.protected == ("pip",)
    assert "requests" not in kinds(make_plan(selection, installed, exact=False))


def test_non_editable_directory_is_always_rebuilt(write, here: Target) -> None:
    path = write("pylock.toml", LOCK.replace("editable = true", "editable = false"))
    selection = select(read(path), here)
    plan = make_plan(selection, [dist("app", "1.0", {"url": path.parent.as_uri(), "dir_info": {}})])
    assert kinds(plan)["app"] == "reinstall"


def test_reinstall_is_forced_by_name(write, here: Target) -> None:
    selection = select(read(write("pylock.toml", LOCK)), here)
    plan = make_plan(selection, [dist("attrs", "24.2.0")], reinstall=["Attrs"])
    assert kinds(plan)["attrs"] == "reinstall"


def test_reinstall_reasons_are_reported(write, here: Target) -> None:
    selection = select(read(write("pylock.toml", LOCK)), here)
    plan = make_plan(selection, [dist("attrs", "24.2.0")], reinstall={"attrs": "installed without bytecode"})
    [action] = plan.of("reinstall")
    assert action.reason == "installed without bytecode"
