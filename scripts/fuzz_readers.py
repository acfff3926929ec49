"""Fuzz every lock reader: the mutations of ``tests/fuzzing.py`` drawn from a seeded generator.

Each input is one real fixture with one file (lock or manifest) mutated structurally, line by line or
byte by byte; lading reads it, selects for two targets and three group requests, checks freshness and
soundness. Anything but success or a LadingError naming the lock/manifest is a failure; an input that
takes longer than ``--timeout`` seconds is a hang. Every input has its own seed, so a failure is
reproduced with ``--reproduce FORMAT SEED``.

    .venv/bin/python scripts/fuzz_readers.py --inputs 100000          # every format, one process
    .venv/bin/python scripts/fuzz_readers.py --format uv --inputs 1000 --seed 7
    .venv/bin/python scripts/fuzz_readers.py --reproduce uv 123456789
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.fuzzing import (  # noqa: E402
    FORMATS,
    Hang,
    Input,
    RandomChooser,
    UnnamedError,
    Unwritable,
    field_matches,
    make_input,
    run,
)

from lading.errors import LadingError  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "fuzz-readers.json"


def input_seed(base: int, fmt: str, i: int) -> int:
    # Independent of how many inputs other formats ran, so a seed reproduces on its own.
    return random.Random(f"{base}:{fmt}:{i}").getrandbits(48)


def one(fmt: str, seed: int, timeout: float) -> tuple[RandomChooser, Input | None]:
    choose = RandomChooser(random.Random(seed))
    try:
        return choose, make_input(fmt, choose)
    except Unwritable:
        return choose, None


def fuzz_format(fmt: str, inputs: int, base: int, timeout: float, budget: float | None) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_step: Counter[str] = Counter()
    fieldless: Counter[str] = Counter()
    errors_by_kind: Counter[str] = Counter()
    field_hits = field_misses = 0
    failures: list[dict[str, Any]] = []
    started = time.monotonic()
    i = 0
    while counts["inputs"] < inputs:
        if budget is not None and time.monotonic() - started > budget:
            break
        seed = input_seed(base, fmt, i)
        i += 1
        choose, given = one(fmt, seed, timeout)
        if given is None:
            counts["unwritable (skipped)"] += 1
            continue
        counts["inputs"] += 1
        counts[f"kind {given.kind}"] += 1
        problem: str | None = None
        try:
            outcome = run(given.fixture, given.files, given.file, given.blob, timeout)
        except Hang:
            counts["hangs"] += 1
            problem = "hang"
        except UnnamedError as exc:
            counts["failures"] += 1
            problem = f"unnamed LadingError: {exc}"
        except Exception:  # the point: anything but a LadingError is a finding
            counts["failures"] += 1
            problem = traceback.format_exc(limit=-6)
        else:
            counts["read ok" if outcome.read else "read LadingError"] += 1
            if not outcome.errors:
                counts["no LadingError at all"] += 1
            else:
                counts["with LadingError"] += 1
            for step, error in outcome.errors:
                by_step[step] += 1
                errors_by_kind[f"{step} after {given.kind}"] += 1
                if not error.field:
                    fieldless[f"{step} after {given.kind}"] += 1
                if step == "select":
                    continue  # a selection error is about the target (no wheel fits), not a field
                match = field_matches(error, choose.places)
                if match is True:
                    field_hits += 1
                elif match is False:
                    field_misses += 1
        if problem is not None:
            failures.append({"seed": seed, "fixture": given.fixture.id, "file": given.file, "kind": given.kind,
                             "steps": [_clip(n) for n in choose.notes[:8]], "problem": _clip(problem, 6000)})
            print(f"  {fmt} seed {seed}: {problem.strip().splitlines()[-1][:200]}", flush=True)
        if counts["inputs"] % 5000 == 0:
            rate = counts["inputs"] / (time.monotonic() - started)
            print(f"  {fmt}: {counts['inputs']} inputs, {rate:.0f}/s, {counts['failures']} failures, "
                  f"{counts['hangs']} hangs", flush=True)
    elapsed = time.monotonic() - started
    return {
        "inputs": counts["inputs"],
        "seconds": round(elapsed, 1),
        "inputs_per_second": round(counts["inputs"] / elapsed, 1) if elapsed else None,
        "successes_without_error": counts["no LadingError at all"],
        "inputs_with_lading_error": counts["with LadingError"],
        "read_succeeded": counts["read ok"],
        "read_raised_lading_error": counts["read LadingError"],
        "lading_errors_by_step": dict(by_step),
        "inputs_by_kind": {k[5:]: v for k, v in counts.items() if k.startswith("kind ")},
        "unwritable_skipped": counts["unwritable (skipped)"],
        "lading_errors_without_field_by_step_and_mutation": {
            k: f"{fieldless[k]}/{errors_by_kind[k]}" for k in sorted(errors_by_kind)},
        # Of the errors read/freshness raised after a structural mutation, how many fields name the place.
        "structural_errors_whose_field_names_the_mutated_place": f"{field_hits}/{field_hits + field_misses}",
        "failures": counts["failures"],
        "hangs": counts["hangs"],
        "failure_examples": failures[:50],
    }


def _clip(text: str, limit: int = 300) -> str:
    # Mutations put 100,000-character strings in; keep each line of a report readable.
    lines = [line if len(line) <= 300 else line[:300] + "..." for line in text.splitlines()]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit // 2] + "\n...\n" + text[-limit // 2:]


def reproduce(fmt: str, seed: int, timeout: float) -> int:
    choose, given = one(fmt, seed, timeout)
    if given is None:
        print("the mutated document cannot be written; nothing to run")
        return 0
    print(f"fixture {given.fixture.id}, file {given.file}, {given.kind} mutation:")
    for line in choose.notes:
        print(f"  {line}")
    out = Path(f"fuzz-{fmt}-{seed}-{Path(given.file).name}")
    out.write_bytes(given.blob)
    print(f"mutated file written to {out}")
    try:
        outcome = run(given.fixture, given.files, given.file, given.blob, timeout)
    except LadingError:
        raise
    for step, error in outcome.errors:
        print(f"{step}: {error}")
    print("read succeeded" if outcome.read else "read raised a LadingError")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per format")
    parser.add_argument("--format", action="append", choices=FORMATS, help="only these formats (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="base seed")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before an input counts as a hang")
    parser.add_argument("--budget", type=float, default=None, help="stop each format after this many seconds")
    parser.add_argument("--output", type=Path, default=RESULT)
    parser.add_argument("--reproduce", nargs=2, metavar=("FORMAT", "SEED"))
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_COLOR", "1")
    if args.reproduce:
        return reproduce(args.reproduce[0], int(args.reproduce[1]), args.timeout)
    formats = args.format or FORMATS
    summary: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, "scripts/fuzz_readers.py", *(argv or sys.argv[1:])]),
        "base_seed": args.seed, "timeout_seconds": args.timeout, "requested_inputs_per_format": args.inputs,
        "python": sys.version.split()[0], "formats": {},
    }
    started = time.monotonic()
    for fmt in formats:
        print(f"{fmt}:", flush=True)
        summary["formats"][fmt] = fuzz_format(fmt, args.inputs, args.seed, args.timeout, args.budget)
        summary["seconds"] = round(time.monotonic() - started, 1)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    total = sum(f["inputs"] for f in summary["formats"].values())
    bad = sum(f["failures"] + f["hangs"] for f in summary["formats"].values())
    print(f"{total} inputs, {bad} failures or hangs, {summary['seconds']}s; summary in {args.output}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
