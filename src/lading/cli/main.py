"""Entry point: parse, dispatch, and translate every failure into a message and an exit code.

Exit codes: 0 success; 1 a LadingError (bad input, stale or unsound lock, unreachable index);
2 usage error; 70 a bug in lading (an unexpected exception, reported in one line); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Optional

from lading import __version__
from lading.errors import LadingError, UsageError, disk_full

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    from lading.cli import (
        add,
        build,
        cache,
        export,
        inspect,
        install,
        lock,
        outdated,
        remove,
        sbom,
        show,
        target,
        upgrade,
        verify,
    )

    parser = _Parser(
        prog="lading",
        description="Bring a Python application from its lock file into production.",
    )
    parser.add_argument("--version", action="version", version=f"lading {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module in (install, show, export, verify, target, cache, lock, add, remove, upgrade, outdated, build, sbom,
                   inspect):
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not hasattr(args, "run"):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        code: int = args.run(args)
        return code
    except LadingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # A full disk is the user's to fix, not a bug, wherever the write happened.
        full = disk_full(exc, os.path.dirname(exc.filename) if isinstance(exc.filename, str) else "the target")
        if full is None:
            return _bug(exc)
        print(f"error: {full}", file=sys.stderr)
        return full.exit_code
    except Exception as exc:  # the one place a bug is turned into a report line
        return _bug(exc)


def _bug(exc: BaseException) -> int:
    import traceback

    frame = traceback.extract_tb(exc.__traceback__)[-1]
    print(
        f"lading bug: {type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno}); "
        "please report it with the command and the lock file",
        file=sys.stderr,
    )
    return EXIT_BUG
