"""A line run's verdict per position from its steps' reports (meterrig/line.py): a step whose
figure could not be judged (skipped "INCONCLUSIVE: ...", fixtures/reporting.py) keeps the
position from PASS, as its certificate would; a step that does not apply to the meter does not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from meterrig import rig
from meterrig.line import FAIL, INCOMPLETE, INCONCLUSIVE, PASS, LineProgress, table
from meterrig.measure import INCONCLUSIVE_SKIP

STATION = Path(__file__).resolve().parent / "rigs" / "line-24.yaml"
STEPS = ("test_comms", "test_clock_set", "test_starting")
TD = f"{INCONCLUSIVE_SKIP}1 × response delay Td: the host was starved"


def _report(position: int, step: str, outcome: str, when: str, why: str = "") -> pytest.TestReport:
    nodeid = f"suites/production/test_line.py::{step}[pos{position}]"
    longrepr = ("test_line.py", 1, f"Skipped: {why}") if outcome == "skipped" else why or None
    return pytest.TestReport(nodeid, ("test_line.py", 1, step), {}, outcome, longrepr, when)


def _progress(runs: dict[int, dict[str, tuple[str, str]]]) -> LineProgress:
    """The station's positions in `runs`, each with STEPS; each step in `runs` ran as it says
    (step -> outcome and why of its call) to its teardown, the others never ran."""
    progress = LineProgress(rig.load(STATION), {}, Console(file=io.StringIO()),
                            frozenset(runs))
    progress._collected([f"suites/production/test_line.py::{step}[pos{n}]"
                         for n in runs for step in STEPS])
    for n, steps in runs.items():
        for step, (outcome, why) in steps.items():
            progress.pytest_runtest_logreport(_report(n, step, outcome, "call", why))
            progress.pytest_runtest_logreport(_report(n, step, "passed", "teardown"))
    return progress


def test_an_inconclusive_step_keeps_the_position_from_pass():
    passed = {step: ("passed", "") for step in STEPS}
    outcome = _progress({
        1: passed,
        2: {**passed, "test_clock_set": ("skipped", "a Modbus meter has no clock to set")},
        3: {**passed, "test_comms": ("skipped", TD)},
        4: {**passed, "test_comms": ("skipped", TD), "test_starting": ("failed", "no start")},
    }).outcome("line-24.yaml")
    verdicts = {p.position: p.verdict for p in outcome.positions}
    assert verdicts == {1: PASS, 2: PASS, 3: INCONCLUSIVE, 4: FAIL}
    assert outcome.positions[2].inconclusive == (("test_comms[pos3]", f"test_comms: {TD}"),)
    assert not outcome.passed
    shown = io.StringIO()
    Console(file=shown, width=200).print(table(outcome))
    assert "INCONCLUSIVE" in shown.getvalue() and "the host was starved" in shown.getvalue()


def test_a_position_whose_steps_did_not_all_run_is_incomplete():
    outcome = _progress({1: {"test_comms": ("skipped", TD)}}).outcome("line-24.yaml")
    assert [p.verdict for p in outcome.positions] == [INCOMPLETE]
