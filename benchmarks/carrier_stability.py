"""The good carrier module, 20 runs in a row: no false FAIL from the statistics.

Runs suites/carrier's `test_read_success_at_line_level` against rigs/carrier.yaml `--runs`
times, each with another seed of the network's frame losses (simulation.meters.1.plc_seed), and
`--carrier-reads` reads per meter per level; counts each run's PASS/INCONCLUSIVE (skipped)
and FAIL verdicts. Exit status 1 if any run failed.

    python benchmarks/carrier_stability.py [--runs 20] [--carrier-reads 10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--carrier-reads", type=int, default=10)
    args = parser.parse_args()
    rig = yaml.safe_load((ROOT / "rigs" / "carrier.yaml").read_text())
    failed_runs = 0
    with tempfile.TemporaryDirectory(prefix="meterrig-stability-") as tmp:
        for seed in range(1, args.runs + 1):
            meters = rig["simulation"]["meters"]
            meters[1] = {**meters.get(1, {}), "plc_seed": seed}
            path = Path(tmp) / f"rig-{seed}.yaml"
            path.write_text(yaml.safe_dump(rig, sort_keys=False))
            start = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "pytest",
                 str(ROOT / "suites" / "carrier" / "test_carrier_noise.py"),
                 "-k", "test_read_success_at_line_level", "--rig", str(path),
                 "--carrier-reads", str(args.carrier_reads), "--reports",
                 str(Path(tmp) / f"reports-{seed}"), "-q", "-p", "no:cacheprovider"],
                cwd=ROOT, capture_output=True, text=True)
            summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            failed = re.search(r"(\d+) failed", summary)
            failed_runs += bool(failed) or done.returncode not in (0,)
            print(f"seed {seed}: {summary} ({time.monotonic() - start:.0f} s)", flush=True)
    print(f"{args.runs - failed_runs} of {args.runs} runs without a FAIL "
          f"({args.carrier_reads} reads per meter per level)")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
