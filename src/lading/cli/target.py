"""``lading target``: describe an interpreter as a platform spec, for cross builds elsewhere."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lading.cli import common


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "target", help="describe an interpreter (markers and tags) as a platform spec",
        description="Introspect an interpreter (default: the one running lading) and print or write "
        "its platform spec: marker environment and compatible tags. Pass the file to --platform.",
    )
    parser.add_argument("--python", metavar="PY", help="the interpreter to describe")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the spec to FILE")
    common.add_json_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lading.target import resolve_target, to_spec

    target = resolve_target(args.python, None)
    spec = to_spec(target)
    text = json.dumps(spec, indent=2) + "\n"
    if args.output is not None:
        common.write_output(text, args.output)
        if not args.json:
            print(f"wrote {args.output} ({target.name}, {len(target.tags)} tags)")
            return 0
    if args.json or (args.output is None and not args.json):
        if args.json:
            common.print_json(spec)
        else:
            env = target.environment
            print(f"{target.name}")
            for key in sorted(env):
                print(f"  {key} = {env[key]!r}")
            print(f"  tags: {len(target.tags)}, best: {target.tags[0] if target.tags else '-'}")
    return 0
