"""Run a suite N times against good devices and count the false FAILs: the loop the stability
benchmarks share (carrier_stability.py, robustness_stability.py).

Each run is a pytest process of its own writing its reports and junit into its own folder.
A line per run as it ends (passed, failed, skipped, seconds), then each FAIL or ERROR with its
message's first line, and if asked each skip's reason (a statistical verdict that is
INCONCLUSIVE is a skip). On good devices every FAIL is a false one; the exit status is 1 if there
was one. Runs go `jobs` at a time, each in a thread that waits for its pytest process.
"""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]


@attrs.frozen
class Run:
    label: str
    passed: int
    failed: list[str]  # each FAIL or ERROR: "test id: first line of its message"
    skipped: list[str]  # each skip: "test id: its reason"
    seconds: float

    def line(self) -> str:
        return (f"{self.label}: {self.passed} passed, {len(self.failed)} failed, "
                f"{len(self.skipped)} skipped, {self.seconds:.0f} s")


def pytest_run(label: str, arguments: Sequence[str], workdir: Path) -> Run:
    """`python -m pytest ARGUMENTS` from the project's root, its reports and junit in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / "junit.xml"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", *arguments,
                           "--reports", str(workdir / "reports"), f"--junitxml={junit}", "-q",
                           "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    (workdir / "pytest.out").write_text(done.stdout + done.stderr)
    if not junit.exists():  # pytest stopped before any test (a usage error, a crash)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        return Run(label, 0, [f"pytest exit status {done.returncode}: {last[0]}"], [], seconds)
    passed, failed, skipped = 0, [], []
    for case in ET.parse(junit).iter("testcase"):
        problem = next((e for e in (case.find("failure"), case.find("error")) if e is not None),
                       None)
        skip = case.find("skipped")
        if problem is not None:
            failed.append(f"{case.get('name')}: {_first_line(problem)}")
        elif skip is not None:
            skipped.append(f"{case.get('name')}: {_first_line(skip)}")
        else:
            passed += 1
    return Run(label, passed, failed, skipped, seconds)


def _first_line(element: ET.Element) -> str:
    lines = (element.get("message") or element.text or "").splitlines()[:1]
    return lines[0] if lines else ""


def run_all(runs: Sequence[Callable[[], Run]], jobs: int = 1,
            show_skipped: bool = False) -> list[Run]:
    """Every run, `jobs` at once, each run's lines printed as it ends."""
    ended = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(run) for run in runs]):
            run = future.result()
            ended.append(run)
            print(run.line(), flush=True)
            for line in run.failed:
                print(f"    FAIL {line}", flush=True)
            for line in run.skipped if show_skipped else ():
                print(f"    skipped {line}", flush=True)
    return ended


def false_fails(runs: Sequence[Run]) -> int:
    return sum(len(run.failed) for run in runs)


def exit_status(runs: Sequence[Run]) -> int:
    return 1 if false_fails(runs) else 0
