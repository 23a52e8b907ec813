"""The long fuzzing campaign over the real models (issue 9): every mutant must work or be refused in one line.

    python bench/fuzz_campaign.py [--seed 1] [--count 10000] [--seconds 20] [--keep DIR]

Mutants come from tests/model_fuzzer.py (flatbuffer field patches, graph edits through the
writer, byte damage) and go through load_model, inspect, analyze, the engine and code
rendering in this process, each under a time limit. Prints the counts of mutants that
worked, were refused and were findings (an exception other than McuDeployError, a message
that is not one printable line, or a hang), then each distinct finding with the first
mutant that showed it (kept in --keep as a .tflite file). Exit code 1 on any finding.
The CI test (tests/test_graph_checks.py) runs a bounded share of it with a fixed seed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from model_fuzzer import Campaign, run_campaign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20, help="time limit of one mutant")
    parser.add_argument("--keep", type=Path, default=None, help="folder for the first mutant of each finding")
    args = parser.parse_args()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mcudeploy-fuzz-") as scratch:
        campaign = run_campaign(
            args.seed, args.count, Path(scratch), seconds=args.seconds, keep=args.keep, report=_progress
        )
    counts = campaign.counts
    total = sum(counts.values())
    print(
        f"{total} mutants (seed {args.seed}) in {time.monotonic() - start:.0f} s: "
        f"{counts['ok']} ok, {counts['refused']} refused, {counts['finding']} findings "
        f"({len(campaign.findings)} distinct)"
    )
    for finding in campaign.findings.values():
        print(f"  {finding}")
    return 1 if counts["finding"] else 0


def _progress(campaign: Campaign) -> None:
    print(f"  ... {dict(campaign.counts)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
