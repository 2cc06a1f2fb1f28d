"""The good meters pass the robustness suite N runs in a row: one simulated bench (started once,
good meters), suites/robustness run against it N times with a larger fuzz example count; every
FAIL or ERROR on these good meters is a false one, listed with its first line.

    .venv/bin/python benchmarks/robustness_stability.py [--runs 20] [--fuzz-examples 20]
        [--rig rigs/sim.yaml] [--out DIR]

A line per run as it ends, then the count of false FAILs; exit status 1 if there was one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from stability import ROOT, exit_status, false_fails, pytest_run, run_all

sys.path.insert(0, str(ROOT))

from meterrig.sim.launcher import running_bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fuzz-examples", type=int, default=20)
    parser.add_argument("--rig", default=str(ROOT / "rigs" / "sim.yaml"))
    parser.add_argument("--out", default=None, help="where each run's reports go (default: a "
                                                    "temporary directory)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="robustness-stability-"))
    with running_bench(Path(args.rig)) as announcement:
        arguments = ["suites/robustness", "--rig", announcement["rig"],
                     "--fuzz-examples", str(args.fuzz_examples)]
        runs = run_all([lambda run=run: pytest_run(f"run {run:2d}", arguments,
                                                   out / f"run-{run:02d}")
                        for run in range(1, args.runs + 1)])
    print(f"{args.runs} runs, --fuzz-examples {args.fuzz_examples}, {args.rig}: "
          f"{false_fails(runs)} false FAIL(s); reports under {out}")
    return exit_status(runs)


if __name__ == "__main__":
    sys.exit(main())
