"""The good meters pass the robustness suite N runs in a row: one simulated bench (started once,
good meters), suites/robustness run against it N times with a larger fuzz example count; every
FAIL or ERROR on these good meters is a false one, listed with its first line.

    .venv/bin/python benchmarks/robustness_stability.py [--runs 20] [--fuzz-examples 20]
        [--rig rigs/sim.yaml] [--out DIR]

A line per run as it ends, then the count of false FAILs; exit status 1 if there was one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meterrig.sim.launcher import running_bench  # noqa: E402


def one_run(rig: str, workdir: Path, examples: int) -> tuple[dict[str, int], list[str], float]:
    """Counts by outcome, each failed test with its message's first line, and the seconds."""
    junit = workdir / "junit.xml"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "suites/robustness", "--rig", rig,
                    "--reports", str(workdir / "reports"), f"--junitxml={junit}", "-q",
                    "-p", "no:cacheprovider", "--fuzz-examples", str(examples)],
                   cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failed = []
    for case in ET.parse(junit).iter("testcase"):
        problem = next((e for e in (case.find("failure"), case.find("error")) if e is not None),
                       None)
        if problem is not None:
            counts["failed"] += 1
            first = (problem.get("message") or problem.text or "").splitlines()[:1]
            failed.append(f"{case.get('name')}: {first[0] if first else ''}")
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failed, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fuzz-examples", type=int, default=20)
    parser.add_argument("--rig", default=str(ROOT / "rigs" / "sim.yaml"))
    parser.add_argument("--out", default=None, help="where each run's reports go (default: a "
                                                    "temporary directory)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="robustness-stability-"))
    false_fails = 0
    with running_bench(Path(args.rig)) as announcement:
        for run in range(1, args.runs + 1):
            counts, failed, seconds = one_run(announcement["rig"], out / f"run-{run:02d}",
                                              args.fuzz_examples)
            false_fails += len(failed)
            print(f"run {run:2d}: {counts['passed']} passed, {counts['failed']} failed, "
                  f"{counts['skipped']} skipped, {seconds:.0f} s", flush=True)
            for line in failed:
                print(f"    FAIL {line}", flush=True)
    print(f"{args.runs} runs, --fuzz-examples {args.fuzz_examples}, {args.rig}: "
          f"{false_fails} false FAIL(s); reports under {out}")
    return 1 if false_fails else 0


if __name__ == "__main__":
    sys.exit(main())
