"""The good carrier module, 20 runs in a row: no false FAIL from the statistics.

Runs suites/carrier's `test_read_success_at_line_level` against rigs/carrier.yaml `--runs`
times, each with its own seed of the network's frame losses (simulation.meters.1.plc_seed =
the run's number) and `--carrier-reads` reads per meter per level (149 with none lost show
98 % at 95 % confidence: a PASS; fewer can show no more than INCONCLUSIVE). `--jobs` runs go at
once, each a pytest process that starts its own simulated bench (its own pseudo-terminals,
loopback ports, bus locks, reports folder and results database). A line per run as it ends,
its FAILs and its skips (INCONCLUSIVE verdicts), then the count of false FAILs; exit status 1
if there was one.

    python benchmarks/carrier_stability.py [--runs 20] [--carrier-reads 10] [--jobs 1]
        [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml
from stability import ROOT, exit_status, false_fails, pytest_run, run_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--carrier-reads", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each its own bench")
    parser.add_argument("--out", default=None, help="where each run's rig file and reports go "
                                                    "(default: a temporary directory)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="carrier-stability-"))
    rig = yaml.safe_load((ROOT / "rigs" / "carrier.yaml").read_text())
    runs = []
    for seed in range(1, args.runs + 1):
        meters = rig["simulation"]["meters"]
        meters[1] = {**meters.get(1, {}), "plc_seed": seed}
        workdir = out / f"seed-{seed:02d}"
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "rig.yaml"
        path.write_text(yaml.safe_dump(rig, sort_keys=False))
        arguments = [str(ROOT / "suites" / "carrier" / "test_carrier_noise.py"),
                     "-k", "test_read_success_at_line_level", "--rig", str(path),
                     "--carrier-reads", str(args.carrier_reads)]
        runs.append(lambda seed=seed, arguments=arguments, workdir=workdir:
                    pytest_run(f"seed {seed:2d}", arguments, workdir))
    ended = run_all(runs, jobs=args.jobs, show_skipped=True)
    clean = sum(not run.failed for run in ended)
    print(f"{clean} of {args.runs} runs without a FAIL, {false_fails(ended)} false FAIL(s) "
          f"({args.carrier_reads} reads per meter per level, {args.jobs} at once); "
          f"reports under {out}")
    return exit_status(ended)


if __name__ == "__main__":
    sys.exit(main())
