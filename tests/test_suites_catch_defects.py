"""The protocol suite proves itself: against a meter with one seeded defect, the test that
checks that part of the spec fails, and its message names the defect."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from meterrig.sim.defects import DEFECTS

ROOT = Path(__file__).resolve().parents[1]

# defect -> (test that must fail, words its failure message must contain)
CAUGHT_BY = {
    "wrong-checksum": ("test_reply_checksum[pos1]", "wrong checksum"),
    "late-reply": ("test_response_timing[pos1]", "response delay Td"),
    "early-reply": ("test_response_timing[pos1]", "response delay Td"),
    "answers-other-addresses": ("test_other_address_is_silent[pos1]",
                                "answers frames addressed to another meter"),
    "answers-broadcast": ("test_broadcast_read_is_silent[pos1]", "answers broadcast frames"),
    "wrong-error-bits": ("test_unknown_data_item_gives_no_data_error[pos1]", "wrong error bits"),
    "address-msb-first": ("test_reply_address_order[pos1]", "most-significant byte first"),
    "ignores-preamble": ("test_wake_up_preamble[pos1-4]", "does not skip the FE wake-up preamble"),
    "relay-ignores-trip": ("test_relay_trip_and_close[pos1]", "relay stayed closed"),
}

ONE_METER_RIG = {
    "name": "one simulated meter with a seeded defect",
    "buses": {"rs485-1": {"baudrate": 2400, "parity": "E"}},
    "positions": [{
        "position": 1, "bus": "rs485-1", "protocol": "dlt645-2007", "address": "000000000001",
        "password": {"level": 2, "value": "123456"},
    }],
}


def run_suite(rig: dict, workdir: Path) -> dict[str, str | None]:
    """Run suites/protocol against `rig`; map each test name to its failure message (or None)."""
    workdir.mkdir(parents=True, exist_ok=True)
    rig_file = workdir / "rig.yaml"
    rig_file.write_text(yaml.safe_dump(rig, sort_keys=False))
    junit = workdir / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites" / "protocol"), "--rig", str(rig_file),
         "--reports", str(workdir / "reports"), f"--junitxml={junit}", "-q",
         "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    results = {}
    for case in ET.parse(junit).iter("testcase"):
        # An error (in a fixture) counts as a failure: the meter was not shown to conform.
        failed = [e for e in (case.find("failure"), case.find("error")) if e is not None]
        results[case.get("name")] = failed[0].get("message", "") if failed else None
    return results


@pytest.fixture(scope="module")
def defect_runs(tmp_path_factory) -> dict[str, Future]:
    """Every defect's suite run, started together: they spend their time waiting on the wire."""
    base = tmp_path_factory.mktemp("defects")
    pool = ThreadPoolExecutor(max_workers=4)
    runs = {
        defect: pool.submit(run_suite, {**ONE_METER_RIG, "simulation": {
            "meters": {1: {"defects": [defect]}}}}, base / defect)
        for defect in CAUGHT_BY
    }
    runs["none"] = pool.submit(run_suite, {**ONE_METER_RIG, "simulation": {"meters": {}}},
                               base / "none")
    yield runs
    pool.shutdown(wait=True)


def test_suite_passes_a_good_meter(defect_runs):
    results = defect_runs["none"].result()
    failed = {name: message for name, message in results.items() if message is not None}
    assert results and not failed, f"a meter without defects failed: {failed}"


def test_every_defect_has_a_catching_test():
    assert set(CAUGHT_BY) == set(DEFECTS)


@pytest.mark.parametrize("defect", sorted(CAUGHT_BY))
def test_suite_catches(defect_runs, defect):
    results = defect_runs[defect].result()
    test, words = CAUGHT_BY[defect]
    assert test in results, f"{test} did not run; ran: {sorted(results)}"
    message = results[test]
    assert message is not None, f"{test} passed against a meter that {DEFECTS[defect]}"
    assert words in message, f"{test} failed, but its message does not name the defect: {message}"
