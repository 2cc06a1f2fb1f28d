"""The suites through buses that time differently: an adapter that hears itself, and a link that
cannot time at all.

- The simulated bench plays a 2-wire adapter on one bus (simulation.buses.NAME.echo); the link
  finds the echo when it opens (echo: auto, the default), strips and checks it on every
  exchange, and dates each request's end by it. The protocol suite runs for that bus's meter
  with and without the echo, and every test must end the same way.
- A bus declared unpaced cannot measure timing: the timing test ends skipped as INCONCLUSIVE
  with the reason, every other test keeps its verdict, and the run says why once per bus.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
import yaml

from tests.benches import BENCHES

ROOT = Path(__file__).resolve().parents[1]
RIG = BENCHES["protocol"][1]
MODBUS_RIG = BENCHES["modbus"][1]  # the Modbus suite needs the source and reference standard too

@attrs.frozen
class Run:
    outcomes: dict[str, str]  # test -> passed, failure, error, skipped
    messages: dict[str, str]  # test -> its failure or skip message
    trace: list[dict]
    measurements: list[dict]
    output: str


def run(workdir: Path, rig: dict, *selection: str) -> Run:
    """suites/protocol against `rig`, in a subprocess as a user runs it."""
    workdir.mkdir()
    rig_file = workdir / "rig.yaml"
    rig_file.write_text(yaml.safe_dump(rig))
    junit = workdir / "junit.xml"
    done = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites" / "protocol"),
                           "--rig", str(rig_file), "--reports", str(workdir / "reports"),
                           f"--junitxml={junit}", "-p", "no:cacheprovider", *selection],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), f"the suite did not run through:\n{done.stdout[-3000:]}"
    outcomes, messages = {}, {}
    for case in ET.parse(junit).iter("testcase"):
        ended = [(tag, e) for tag in ("failure", "error", "skipped")
                 if (e := case.find(tag)) is not None]
        outcomes[case.get("name")] = ended[0][0] if ended else "passed"
        if ended:
            messages[case.get("name")] = ended[0][1].get("message", "")
    [run_dir] = (workdir / "reports" / "runs").iterdir()
    return Run(outcomes, messages, *(
        [json.loads(line) for line in (run_dir / name).read_text().splitlines()]
        for name in ("trace.jsonl", "measurements.jsonl")), done.stdout)


@pytest.mark.parametrize(("bench", "protocol"), [(RIG, "dlt645"), (MODBUS_RIG, "modbus")],
                         ids=["dlt645", "modbus"])
def test_an_echoing_bus_gives_the_same_verdicts(tmp_path, bench, protocol):
    [bus] = bench["buses"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        plain, echoed = pool.map(
            lambda echo: run(tmp_path / f"echo-{echo}", {
                **bench, "simulation": {"buses": {bus: {"echo": echo}}}}, "-q", "-k", protocol),
            (False, True))
    assert sum(o == "passed" for o in plain.outcomes.values()) > 20  # the suite ran
    assert echoed.outcomes == plain.outcomes
    # The echo was found, stripped and checked on every exchange; without it, there was none.
    assert echoed.trace and all(e["echo"] == e["request"] and not e["echo_fault"]
                                for e in echoed.trace)
    assert all(e["echo"] is None for e in plain.trace)


def test_a_bus_that_cannot_time_gives_inconclusive_not_fail(tmp_path):
    rig = {**RIG, "buses": {"rs485-1": {"timing": "unpaced"}}, "simulation": {}}
    done = run(tmp_path / "unpaced", rig, "-k", "timing or checksum")
    timing = "test_response_timing[pos1]"
    assert done.outcomes[timing] == "skipped"
    assert done.messages[timing].startswith(
        "INCONCLUSIVE: 4 × response delay Td: bus rs485-1 is unpaced (declared unpaced in the rig "
        "file), so its timing cannot be measured")
    assert done.outcomes["test_reply_checksum[pos1]"] == "passed"
    [skip] = [m for m in done.measurements if m["verdict"] == "skipped"]
    assert skip["name"] == timing and skip["detail"] == done.messages[timing]
    figures = [m for m in done.measurements if m["unit"] == "ms"]
    assert figures and all(m["verdict"] == "inconclusive" and m["value"] is None
                           for m in figures)
    assert f"bus rs485-1, timing resolution unpaced (declared unpaced in the rig file): " \
           f"{len(figures)} of {len(figures)} timing figures inconclusive" in done.output
