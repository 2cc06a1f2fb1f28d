"""The suites prove themselves: against a simulated meter with one seeded defect, the test that
checks that part of the spec fails, its message names the defect (and the position), and the
same test passes for a good meter beside it."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from meterrig.sim.defects import DEFECTS
from tests.benches import BENCHES, METER, selected_benches

ROOT = Path(__file__).resolve().parents[1]

# (bench, defect) -> (test that must fail at position 1, words its failure message must contain)
CAUGHT_BY = {
    ("protocol", "wrong-checksum"): ("test_reply_checksum[pos1]", "wrong checksum"),
    ("protocol", "late-reply"): ("test_response_timing[pos1]", "response delay Td"),
    ("protocol", "early-reply"): ("test_response_timing[pos1]", "response delay Td"),
    ("protocol", "gappy-reply"): ("test_response_timing[pos1]", "inter-byte gap Tb"),
    ("protocol", "answers-other-addresses"): ("test_other_address_is_silent[pos1]",
                                              "answers frames addressed to another meter"),
    ("protocol", "answers-broadcast"): ("test_broadcast_read_is_silent[pos1]",
                                        "answers broadcast frames"),
    ("protocol", "wrong-error-bits"): ("test_unknown_data_item_gives_no_data_error[pos1]",
                                       "wrong error bits"),
    ("protocol", "address-msb-first"): ("test_reply_address_order[pos1]",
                                        "most-significant byte first"),
    ("protocol", "ignores-preamble"): ("test_wake_up_preamble[pos1-4]",
                                       "does not skip the FE wake-up preamble"),
    ("protocol", "relay-ignores-trip"): ("test_relay_trip_and_close[pos1]",
                                         "relay stayed closed"),
    ("protocol", "echoes-foreign-address"): ("test_other_address_is_silent[pos1]",
                                             "echoing the absent meter's address"),
    ("protocol", "answers-broadcast-read"): ("test_broadcast_read_is_silent[pos1]",
                                             "the reply carried address 999999999999"),
    ("protocol", "relay-closes-on-close-allowed"): ("test_close_allowed_leaves_relay_open[pos1]",
                                                    "the relay closed on close allowed"),
    ("protocol", "refuses-relay-deadline"): ("test_relay_trip_and_close[pos1]",
                                             "refused a relay command with a valid deadline"),
    ("modbus", "wrong-checksum"): ("test_reply_crc[pos1]", "wrong checksum"),
    ("modbus", "early-reply"): ("test_reply_waits_for_t35[pos1]", "silence before reply"),
    ("modbus", "gappy-reply"): ("test_reply_waits_for_t35[pos1]", "gap inside reply"),
    ("modbus", "answers-other-addresses"): ("test_other_device_id_is_silent[pos1]",
                                            "answers frames addressed to another meter"),
    ("modbus", "answers-broadcast"): ("test_broadcast_read_is_silent[pos1]",
                                      "answers broadcast frames"),
    ("modbus", "swapped-words"): ("test_word_order[pos1]", "the meter sends low word first"),
    ("modbus", "wrong-exception-code"): ("test_unmapped_address_gives_exception_02[pos1]",
                                         "04 server device failure"),
    ("modbus", "answers-unimplemented-function"): (
        "test_unimplemented_function_gives_exception_01[pos1]",
        "a normal reply to function 01 is not = exception 01 illegal function"),
    ("dlt645-1997", "wrong-checksum"): ("test_reply_frame[pos1]", "reply checksum"),
    ("dlt645-1997", "answers-other-addresses"): ("test_other_address_is_silent[pos1]",
                                                 "answers frames addressed to another meter"),
    ("dlt645-1997", "address-msb-first"): ("test_catalogued_data_item[pos1-9010]",
                                           "reply to a read of 9010"),
    ("robustness", "answers-corrupted-frame"): ("test_invalid_frame_gets_no_answer[pos1]",
                                                "the meter answered an invalid frame"),
    ("robustness", "resets-on-overlong-frame"): ("test_overlong_frame_does_not_reset[pos1]",
                                                 "the meter reset"),
    ("robustness", "clock-resets-on-overlong-frame"): (
        "test_overlong_frame_does_not_reset_the_clock[pos1]", "the meter's clock went back"),
    ("robustness", "answers-split-frame"): ("test_fault_reaction[pos1-split]",
                                            "the meter answered a split frame"),
    ("robustness", "stale-after-garbled"): ("test_next_valid_frame_gets_fresh_answer[pos1]",
                                            "stale data"),
    ("metering", "low-current-error"): ("test_accuracy[pos1-0.05 Ib PF 1]",
                                        "position 1: mean error at 0.05 Ib PF 1"),
    ("metering", "pf-error"): ("test_accuracy[pos1-Ib PF 0.5 ind]",
                               "position 1: mean error at Ib PF 0.5 ind"),
    ("metering", "creep"): ("test_no_load_creep[pos1]", "the meter creeps"),
    ("metering", "no-start"): ("test_starting_current[pos1]", "the meter does not start"),
    ("metering", "wrong-constant"): ("test_meter_constant[pos1]",
                                     "register and pulses disagree (wrong constant)"),
    ("metering", "voltage-sensitive"): ("test_influence[pos1-voltage+10%@Ib PF 1]",
                                        "position 1: variation of error, voltage +10%"),
    ("metering", "relay-ignores-trip"): ("test_relay_stops_and_resumes_registration[pos1]",
                                         "the relay stayed closed after a trip"),
    ("prepaid-local", "drains-at-wrong-price"): ("test_credit_drain[pos1]",
                                                 "drains at the wrong price"),
    ("prepaid-local", "no-alarm-1"): ("test_alarm_at_threshold[pos1-alarm_1]",
                                      "no alarm 1 at its threshold"),
    ("prepaid-local", "trips-late"): ("test_trip_at_the_load[pos1]", "the relay opened late"),
    ("prepaid-local", "trip-load-keeps-flowing"): ("test_trip_at_the_load[pos1]",
                                                   "but the load keeps flowing"),
    ("prepaid-local", "accepts-replayed-recharge"): (
        "test_refused_recharge[pos1-a replayed recharge]",
        "the meter accepted a recharge with a replayed recharge"),
    ("prepaid-local", "loses-credit-on-power-cycle"): ("test_power_cycle[pos1]",
                                                       "lost its credit across a power cycle"),
    ("carrier", "module-wrong-checksum"): ("test_identity_and_initialisation[pos1]", "(CS)"),
    ("carrier", "module-seq-not-echoed"): ("test_every_meter_read_through_the_module[pos1]",
                                           "carries sequence number"),
    ("carrier", "module-wrong-protocol-byte"): ("test_every_meter_read_through_the_module[pos1]",
                                                "protocol byte of the 13 F1 reply"),
    ("carrier", "module-drops-destination"): ("test_every_meter_read_through_the_module[pos1]",
                                              "no address field"),
    ("carrier", "module-wrong-signal-quality"): (
        "test_signal_quality_follows_attenuation[pos1]", "the wrong signal quality is reported"),
    ("carrier", "module-route-never-repaired"): (
        "test_route_repaired_when_the_line_weakens[pos1]", "never repaired it"),
    ("carrier", "module-collapses-under-noise"): (
        "test_read_success_at_line_level[pos1-noise 65 dBuV]", "read success at noise 65 dBuV"),
}

def rig_with(bench: str, defect: str | None) -> dict:
    # The bench's own simulation settings stay (the carrier bench's meters sit on the mains
    # where its rig puts them, a prepaid bench's current loop is in series); the defect goes to
    # position 1.
    simulation = dict(BENCHES[bench][1].get("simulation") or {})
    meters = dict(simulation.get("meters") or {})
    if defect:
        meters[1] = {**meters.get(1, {}), "defects": [defect]}
    return {**BENCHES[bench][1], "simulation": {**simulation, "meters": meters}}


def run_suite(suite: str, rig: dict, workdir: Path, *options: str) -> dict[str, str | None]:
    """Run suites/<suite> against `rig` (with pytest `options`, e.g. "-k", "name"); map each
    test name to its failure message or None."""
    workdir.mkdir(parents=True, exist_ok=True)
    rig_file = workdir / "rig.yaml"
    rig_file.write_text(yaml.safe_dump(rig, sort_keys=False))
    subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites" / suite), "--rig", str(rig_file),
         "--reports", str(workdir / "reports"), f"--junitxml={workdir / 'junit.xml'}", "-q",
         "-p", "no:cacheprovider", *options],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    return verdicts(workdir)


def run_tests(suite: str, tests: list[str], rig: dict, workdir: Path) -> dict[str, str | None]:
    """Run only `tests` (junit names: function[parameters]) of suites/<suite> against `rig`:
    run_suite's verdicts (tests/only_tests.py keeps them, whatever files define them)."""
    return run_suite(suite, rig, workdir, "-p", "tests.only_tests",
                     *(f"--only={test}" for test in tests))


def catching_tests(bench: str, test: str) -> list[str]:
    """The test that must catch a defect at position 1, and the same test at the good position
    2 beside it if the bench has one."""
    neighbour = test.replace("[pos1", "[pos2")
    return [test] + [neighbour for p in BENCHES[bench][1]["positions"] if p["position"] == 2]


def verdicts(workdir: Path) -> dict[str, str | None]:
    """A run's test names, each with its failure message or None (its junit.xml)."""
    results = {}
    for case in ET.parse(workdir / "junit.xml").iter("testcase"):
        # An error (in a fixture) counts as a failure: the meter was not shown to conform.
        failed = [e for e in (case.find("failure"), case.find("error")) if e is not None]
        # junit's message attribute is cut short; the element text holds the whole report
        results[case.get("name")] = (failed[0].text or failed[0].get("message", "")) \
            if failed else None
    return results


@pytest.fixture(scope="module")
def suite_runs(request, tmp_path_factory, good_bench_runs) -> dict[tuple[str, str | None], Future]:
    """Every run the selected tests need, started together: they spend their time waiting on the
    wire or the clock (`-k robustness` runs the robustness bench's rows alone)."""
    selected = selected_benches(request.session)
    base = tmp_path_factory.mktemp("defects")
    pool = ThreadPoolExecutor(max_workers=4)
    # A good bench runs its whole suite (once a session: tests/conftest.py); a defect's run
    # needs only the test that must catch it, at the one parametrization (and its neighbour's).
    runs = {(bench, None): pool.submit(lambda run=run: verdicts(run.result()))
            for bench, run in good_bench_runs.items()}
    runs |= {(bench, defect): pool.submit(run_tests, BENCHES[bench][0],
                                          catching_tests(bench, test), rig_with(bench, defect),
                                          base / f"{bench}-{defect}")
             for (bench, defect), (test, _) in CAUGHT_BY.items() if (bench, defect) in selected}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("bench", sorted(BENCHES))
def test_suite_passes_good_meters(suite_runs, bench):
    results = suite_runs[(bench, None)].result()
    failed = {name: message for name, message in results.items() if message is not None}
    assert results and not failed, f"good meters failed suites/{BENCHES[bench][0]} on the " \
                                   f"{bench} bench: {failed}"


def test_every_defect_is_caught_somewhere():
    assert {defect for _, defect in CAUGHT_BY} == set(DEFECTS)


@pytest.mark.parametrize(("bench", "defect"), sorted(CAUGHT_BY))
def test_suite_catches(suite_runs, bench, defect):
    results = suite_runs[(bench, defect)].result()
    test, words = CAUGHT_BY[(bench, defect)]
    assert test in results, f"{test} did not run; ran: {sorted(results)}"
    message = results[test]
    assert message is not None, f"{test} passed against a meter that {DEFECTS[defect]}"
    assert words in message, f"{test} failed, but its message does not name the defect: {message}"
    neighbour = test.replace("[pos1", "[pos2")
    if neighbour in results:
        assert results[neighbour] is None, f"the good meter beside it failed: {results[neighbour]}"


def test_class_b_meter_at_1_8_percent_fails_at_reference_conditions(tmp_path):
    """EN 50470-3 §8.1 allows class B ±1.0 % at Itr…Imax PF 1; judged by the MID composite MPE
    (2 %), a meter registering 1.8 % too much passed. The good meter beside it passes."""
    class_b = {"accuracy": {"standard": "en50470-3", "class": "B"}, "un": 230, "ib": 5,
               "imax": 45, "constant": 1000}
    rig = {**BENCHES["metering"][1], "name": "two simulated class B meters",
           "positions": [{"position": n, "address": f"00000000000{n}", **METER, **class_b}
                         for n in (1, 2)],
           "simulation": {"meters": {1: {"error_percent": 1.8}}}}
    results = run_suite("metering/test_accuracy.py", rig, tmp_path)
    message = results["test_accuracy[pos1-Iref PF 1]"]
    assert message is not None, "a class B meter at +1.8 % passed at Iref PF 1"
    assert "position 1: mean error at Iref PF 1" in message
    assert "EN 50470-3:2006 §8.1" in message
    assert results["test_accuracy[pos2-Iref PF 1]"] is None
