"""Measurements: limits carry their unit, every measurement a stable key and its dimensions, and
what a test declared but never made is recorded UNSET with what ended the test.

- Units: a value is never judged against limits in another unit, or in none.
- Keys: every suite test declares the keys it measures (`@pytest.mark.measures`); across a run
  of the suites on good simulated meters every record has a key, no key holds a value (a
  number, a DI), each (key, dimensions) is made once in a test, and no declared key is left
  UNSET unless its test was skipped.
- UNSET: tests/data/declared_measurements.py ends a test in each way (crash, failure, setup
  error, skip, passing short); each leaves its unmade keys UNSET, saying what ended it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from meterrig.limits.dlt645 import BYTE_GAP, RESPONSE_DELAY, TB_KEY, TD_KEY
from meterrig.limits.modbus import GAP_KEY, SILENCE_KEY, reply_gap, reply_silence
from meterrig.measure import Limits, Outcome, judge, unset
from tests.benches import BENCHES

ROOT = Path(__file__).resolve().parents[1]
SUITES = sorted((ROOT / "suites").glob("*/test_*.py"))
# The words after a key's prefix: no digit, so no value (a DI, an address, a reading number)
WORDS = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)*")
# The prefixes not named after the test's module: the timing figures every exchange gets, the
# rig's own checks, and a skipped test's record
SHARED_PREFIXES = {key.split(".")[0] for key in (TD_KEY, TB_KEY, SILENCE_KEY, GAP_KEY)} | {
    "rig", "test"}


def test_a_value_is_never_judged_against_limits_in_another_unit():
    percent = Limits(-1.0, 1.0, "class 1", "%")
    assert judge("error", 0.5, "%", percent, "§8").passed
    with pytest.raises(ValueError, match=r"error: a value in 'points' judged against limits "
                                         r"in '%' \(class 1\)"):
        judge("error", 0.5, "points", percent, "§8")
    with pytest.raises(ValueError, match="a value in 'ms' judged against limits in ''"):
        judge("response delay Td", 40, "ms", Limits(20, 500, "§5.3.3"), "§5.3.3")


def test_timing_limits_from_the_data_are_in_ms():
    assert {RESPONSE_DELAY.unit, BYTE_GAP.unit, reply_silence(9600).unit,
            reply_gap(9600).unit} == {"ms"}


def test_an_unset_measurement_reads_as_unset():
    measured = unset("dlt645_read.value_length", "the test ended in call: RuntimeError: boom",
                     "§7.1", position=1, dimensions={"position": 1})
    assert measured.verdict == Outcome.UNSET and measured.value is None
    assert measured.to_record()["verdict"] == "unset"
    assert measured.to_record()["dimensions"] == {"position": 1}
    assert measured.describe() == "position 1: dlt645_read.value_length unset: the test ended " \
                                  "in call: RuntimeError: boom (§7.1)"


def _declared(where) -> list[str]:
    """The keys a test function's or module's `measures` markers declare."""
    marks = getattr(where, "pytestmark", [])
    return [slug for mark in (marks if isinstance(marks, list) else [marks])
            if mark.name == "measures" for slug in mark.args]


@pytest.mark.parametrize("path", SUITES, ids=[f"{p.parent.name}/{p.name}" for p in SUITES])
def test_every_suite_test_declares_what_it_measures(path):
    spec = importlib.util.spec_from_file_location(f"declared_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    in_module = _declared(module)
    tests = {name: function for name, function in vars(module).items()
             if name.startswith("test_") and callable(function)}
    assert tests
    for name, function in tests.items():
        declared = in_module + _declared(function)
        assert declared, f"{path.name}::{name} declares no measurement (@pytest.mark.measures)"
        for slug in declared:
            assert WORDS.fullmatch(slug.split(".", 1)[-1]), \
                f"{path.name}::{name} declares {slug!r}: a key is words, values go in `at`"


def _measurements(workdir: Path) -> list[dict]:
    [run] = (workdir / "reports" / "runs").iterdir()
    return [json.loads(line) for line in (run / "measurements.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def good_runs(good_bench_runs) -> dict[str, list[dict]]:
    """Each bench's suite on good meters (run once a session, tests/conftest.py): bench -> its
    measurement records."""
    return {bench: _measurements(run.result()) for bench, run in good_bench_runs.items()}


@pytest.mark.parametrize("bench", sorted(BENCHES))
def test_every_measurement_has_a_stable_key(good_runs, bench):
    records = good_runs[bench]
    assert len(records) > 40, f"the {bench} bench's run made only {len(records)} measurements"
    for m in records:
        prefix, _, words = m["key"].partition(".")
        module = Path(m["test"].split("::")[0]).stem.removeprefix("test_")
        assert WORDS.fullmatch(words) and prefix in {module, *SHARED_PREFIXES}, \
            f"{m['test']}: key {m['key']!r} of {m['name']!r} holds a value"
    made = Counter((m["test"], m["key"], json.dumps(m["dimensions"], sort_keys=True))
                   for m in records)
    twice = [made_ for made_, n in made.items() if n > 1]
    assert not twice, f"the same key and dimensions twice in a test: {twice[:5]}"


@pytest.mark.parametrize("bench", sorted(BENCHES))
def test_a_good_run_makes_every_declared_measurement(good_runs, bench):
    records = good_runs[bench]
    skipped = {m["test"] for m in records if m["verdict"] == Outcome.SKIPPED}
    owed = [f"{m['test']}: {m['key']} ({m['detail']})" for m in records
            if m["verdict"] == Outcome.UNSET and m["test"] not in skipped]
    assert not owed, "declared, never made, by tests that ran:\n" + "\n".join(owed)


def test_a_test_that_ends_early_leaves_its_declared_measurements_unset(tmp_path):
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "data" /
                                                        "declared_measurements.py"),
                    "--reports", str(tmp_path / "reports"), f"--junitxml={junit}", "-q",
                    "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, timeout=300)
    unmade: dict[str, list[tuple[str, str]]] = {}
    for m in _measurements(tmp_path):
        if m["verdict"] == Outcome.UNSET:
            unmade.setdefault(m["test"].split("::")[1], []).append((m["key"], m["detail"]))
    second = "declared_measurements.second"
    assert unmade == {
        "test_crashes_after_the_first": [
            (second, "the test ended in call: RuntimeError: the meter caught fire")],
        "test_fails_on_the_first": [
            (second, "the test ended in call: AssertionError: first check 1 is not = 2 "
                     "(self-test)")],
        "test_errors_in_setup": [
            (f"declared_measurements.{n}", "the test ended in setup: ConnectionError: the "
                                           "reference standard did not answer")
            for n in ("first", "second")],
        "test_skips_after_the_first": [
            (second, "the test was skipped: no source on this bench")],
        "test_passes_without_the_second": [(second, "the test passed without making it")],
    }
    # JUnit shows each, by key and dimensions, as a property of its test
    assert 'name="declared_measurements.second"' in junit.read_text()
