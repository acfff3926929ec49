"""The artifacts a project configures in pyproject.toml, as ``lading build`` command lines.

``--build`` after ``add``/``remove``/``upgrade`` rebuilds them, so one command takes a dependency from request to
shippable artifact (PipFlow's promise). The configuration mirrors the command line exactly, so there is
nothing new to learn: each table names a ``lading build KIND`` and its keys are that command's long options.

    [tool.lading.image]                  # lading build image
    base = "oci-layout:base"             #   --base oci-layout:base
    tag = ["registry.example/app:1"]     #   --tag ... (a list repeats the option)
    push = true                          #   --push (true adds a flag, false leaves it out)

    [tool.lading.build.wheelhouse]       # lading build wheelhouse
    output = "dist/wheelhouse"           #   -o dist/wheelhouse (relative paths: from the project)
    python = ["3.11", "3.12"]

``[tool.lading.image]`` is the same as ``[tool.lading.build.image]``. Options that name files (``output``,
``base`` of a layout, ``docker-archive``...) are resolved against the project directory by the commands
themselves, which run with the project as their working directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lading.errors import UsageError

KINDS = ("wheelhouse", "zipapp", "venv", "deb", "image")


@dataclass(frozen=True)
class BuildCommand:
    kind: str
    argv: tuple[str, ...]  # for lading.cli.main, starting with "build"
    field: str  # where it is configured, for messages

    def describe(self) -> str:
        return "lading " + " ".join(self.argv)


def build_commands(pyproject: Path, settings: Mapping[str, object]) -> list[BuildCommand]:
    """The configured builds of ``[tool.lading]`` (already read from ``pyproject``), in a fixed order."""
    tables: dict[str, tuple[str, Mapping[str, object]]] = {}
    build = settings.get("build", {})
    if not isinstance(build, Mapping):
        raise UsageError("must be a table of artifact kinds", file=pyproject, field="tool.lading.build",
                         hint="write [tool.lading.build.wheelhouse] (or zipapp, venv, deb, image) tables")
    for kind, table in build.items():
        tables[str(kind)] = (f"tool.lading.build.{kind}", _table(table, pyproject, f"tool.lading.build.{kind}"))
    if "image" in settings:
        if "image" in tables:
            raise UsageError("the image is configured twice", file=pyproject, field="tool.lading.image",
                             hint="keep [tool.lading.image] or [tool.lading.build.image], not both")
        tables["image"] = ("tool.lading.image", _table(settings["image"], pyproject, "tool.lading.image"))
    unknown = sorted(set(tables) - set(KINDS))
    if unknown:
        field, _ = tables[unknown[0]]
        raise UsageError(f"unknown artifact kind {unknown[0]!r}", file=pyproject, field=field,
                         hint="lading builds: " + ", ".join(KINDS))
    commands = []
    for kind in KINDS:
        if kind in tables:
            field, table = tables[kind]
            commands.append(BuildCommand(kind, ("build", kind, ".", *_options(table, pyproject, field)), field))
    return commands


def _table(value: object, pyproject: Path, field: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise UsageError("must be a table of the command's options", file=pyproject, field=field,
                         hint=f"write [{field}] with keys named after the options of `lading build`")
    return value


def _options(table: Mapping[str, object], pyproject: Path, field: str) -> list[str]:
    argv: list[str] = []
    for key, value in table.items():
        flag = "-o" if key == "output" else f"--{key}"
        values: Sequence[object] = value if isinstance(value, list) else [value]
        for item in values:
            if item is True:
                argv.append(flag)
            elif item is False:
                continue
            elif isinstance(item, (str, int, float)):
                argv += [flag, str(item)]
            else:
                raise UsageError(f"{key} = {item!r} is not a string, number, boolean or list of them",
                                 file=pyproject, field=f"{field}.{key}",
                                 hint="write the value as it would follow the option on the command line")
    return argv


__all__ = ["KINDS", "BuildCommand", "build_commands"]
