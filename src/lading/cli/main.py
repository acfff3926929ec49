"""Entry point: parse, dispatch, and translate every failure into a message and an exit code.

Exit codes: 0 success; 1 a LadingError (bad input, stale or unsound lock, unreachable index);
2 usage error; 70 a bug in lading (an unexpected exception, reported in one line); 130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn, Optional

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


#: Every command, named as its module in :mod:`lading.cli` (in the order ``--help`` lists them).
COMMANDS = ("install", "show", "export", "verify", "target", "cache", "lock", "add", "remove", "upgrade",
            "outdated", "build", "sbom", "inspect")


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The whole parser, or (``command`` given) one with only that command: a run imports the modules
    of the command it runs, not of all fourteen."""
    from importlib import import_module

    parser = _Parser(
        prog="lading",
        description="Bring a Python application from its lock file into production.",
    )
    parser.add_argument("--version", action="version", version=f"lading {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for name in (command,) if command in COMMANDS else COMMANDS:
        import_module(f"lading.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    # A lock or an install makes hundreds of thousands of small objects (index files, versions, tags)
    # and few cycles: with the default thresholds the collector walked the whole heap again and again
    # (a tenth of a cold lock's time). Collections still happen, far less often.
    gc.set_threshold(100_000, 50, 100)
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(arguments[0] if arguments else None)
        args = parser.parse_args(arguments)
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


def entry() -> NoReturn:
    """The ``lading`` program: :func:`main`, then an exit that skips the interpreter's teardown.

    Tearing down a run's heap (a parsed lock, thousands of file entries) takes longer than many a warm
    install (30 ms of a one-second cold one); nothing is left to do by then. Output is flushed and the
    exit handlers run as on a normal exit; with a thread of the run still alive the normal exit (which
    waits for it) is taken.
    """
    code = main()
    if threading.active_count() > 1:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # a closed pipe lost what it lost; as main() says, that is not an error
    except OSError:
        raise SystemExit(code) from None  # let the normal exit report the failed write
    atexit._run_exitfuncs()
    os._exit(code)


def _bug(exc: BaseException) -> int:
    import traceback

    where = getattr(exc, "where", None)  # a worker process's error says where it happened there
    if where is None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{frame.filename}:{frame.lineno}"
    name = "" if hasattr(exc, "where") else f"{type(exc).__name__}: "
    print(
        f"lading bug: {name}{exc} (at {where}); "
        "please report it with the command and the lock file",
        file=sys.stderr,
    )
    return EXIT_BUG
