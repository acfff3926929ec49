"""Entry points of a wheel (``entry_points.txt``) and the launcher scripts made from them.

Scripts name the target interpreter in their shebang. Linux reads at most 127 bytes of a shebang line (older
kernels) and splits it at whitespace, so for long or space-containing interpreter paths the script starts
with ``/bin/sh`` and re-executes itself with the interpreter: the second line is both a shell ``exec`` and
the start of a Python string that the third line closes.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from lading.install import InstallError, WheelError

SCRIPT_GROUPS = {"console_scripts": False, "gui_scripts": True}
_SHEBANG_MAX = 127
_VALUE = re.compile(r"^\s*(?P<module>[^\s:\[\]]+)\s*(?::\s*(?P<attr>[^\s\[\]]+))?\s*(?P<extras>\[[^\]]*\])?\s*$")
_SHELL_UNSAFE = set('"$`\\\n\r')

_REBUILD = "the wheel is refused; rebuild it with a current tool, or report it to its publisher"


@dataclass(frozen=True)
class EntryPoint:
    """One script entry point: ``name = module:attr``; ``gui`` for ``gui_scripts``."""

    name: str
    module: str
    attr: str
    gui: bool = False

    @property
    def value(self) -> str:
        return f"{self.module}:{self.attr}"


def parse_entry_points(
    text: str, *, file: Union[str, Path, None] = None, package: Optional[str] = None
) -> tuple[EntryPoint, ...]:
    """The console and GUI scripts declared in ``entry_points.txt`` text, validated (other groups ignored)."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive names
    try:
        parser.read_string(text)
    except configparser.Error as error:
        raise WheelError(
            f"entry_points.txt cannot be parsed: {error.message}",
            file=file,
            package=package,
            field="entry_points.txt",
            hint="the wheel was built by a broken tool; rebuild it",
        ) from error
    found: dict[str, EntryPoint] = {}
    for group, gui in SCRIPT_GROUPS.items():
        if not parser.has_section(group):
            continue
        for name, value in parser.items(group):
            field = f"entry_points.txt[{group}].{name}"
            _check_name(name, file=file, package=package, field=field)
            module, attr = _parse_value(value, file=file, package=package, field=field)
            if name in found:
                raise WheelError(
                    f"script {name!r} is declared twice", file=file, package=package, field=field,
                    hint="a console and a GUI script cannot share one name",
                )
            found[name] = EntryPoint(name, module, attr, gui)
    return tuple(found[name] for name in sorted(found))


def _check_name(name: str, *, file: Union[str, Path, None], package: Optional[str], field: str) -> None:
    bad = (
        not name
        or name in (".", "..")
        or name.startswith((".", "-"))
        or any(char in name for char in "/\\\0\n\r:")
        or name != name.strip()
    )
    if bad:
        raise WheelError(
            f"script name {name!r} is not a plain file name",
            file=file,
            package=package,
            field=field,
            hint="a script name with a path separator could write outside the scripts directory; "
            "the wheel is refused",
        )


def _parse_value(value: str, *, file: Union[str, Path, None], package: Optional[str], field: str) -> tuple[str, str]:
    match = _VALUE.match(value)
    module = match.group("module") if match else ""
    attr = (match.group("attr") or "") if match else ""
    if not match or not all(part.isidentifier() for part in module.split(".")):
        raise WheelError(
            f"entry point {value!r} is not MODULE:ATTRIBUTE", file=file, package=package, field=field, hint=_REBUILD
        )
    if not attr or not all(part.isidentifier() for part in attr.split(".")):
        raise WheelError(
            f"script entry point {value!r} names no callable (MODULE:FUNCTION)",
            file=file,
            package=package,
            field=field, hint=_REBUILD)
    return module, attr


def shebang(interpreter: str) -> bytes:
    """The first line(s) of a script that runs ``interpreter`` (without the trailing newline)."""
    return _shebang(interpreter, "")


def _shebang(interpreter: str, arguments: str) -> bytes:
    if _SHELL_UNSAFE & set(interpreter) or "'''" in interpreter:
        raise InstallError(
            f"interpreter path {interpreter!r} contains a quote, backslash, '$', '`' or a line break",
            hint="create the environment at a path without these characters",
        )
    simple = f"#!{interpreter}{arguments}"
    if " " not in interpreter and "\t" not in interpreter and len(simple.encode("utf-8")) <= _SHEBANG_MAX:
        return simple.encode("utf-8")
    return f"#!/bin/sh\n'''exec' \"{interpreter}\"{arguments} \"$0\" \"$@\"\n' '''".encode()


def script_text(entry_point: EntryPoint, interpreter: str) -> bytes:
    """The launcher for a console or GUI entry point."""
    head = entry_point.attr.split(".", 1)[0]
    body = (
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {entry_point.module} import {head}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({entry_point.attr}())\n"
    )
    return shebang(interpreter) + b"\n" + body.encode("utf-8")


_PYTHON_SHEBANG = re.compile(rb"^#!pythonw?(?P<args>[ \t][^\r\n]*)?(?P<eol>\r?\n|$)")


def rewrite_shebang(data: bytes, interpreter: str) -> bytes:
    """For a ``.data/scripts`` file: replace a ``#!python`` / ``#!pythonw`` first line; others stay as they are."""
    match = _PYTHON_SHEBANG.match(data)
    if not match:
        return data
    arguments = (match.group("args") or b"").decode("utf-8", "replace").rstrip()
    return _shebang(interpreter, arguments) + b"\n" + data[match.end() :]
