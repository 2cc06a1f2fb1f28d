"""Through an adapter that hears itself, the suites give the same verdicts as without.

The simulated bench plays a 2-wire adapter on one bus (simulation.buses.NAME.echo); the link
finds the echo when it opens (echo: auto, the default), strips and checks it on every exchange,
and dates each request's end by it. The protocol suite runs for that bus's meter twice, with and
without the echo, and every test must end the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RIG = {
    "name": "one simulated DL/T 645 meter",
    "buses": {"rs485-1": {}},
    "positions": [{"position": 1, "bus": "rs485-1", "protocol": "dlt645-2007",
                   "address": "000000000001", "password": {"level": 2, "value": "123456"}}],
}


def run(workdir: Path, echo: bool) -> tuple[dict[str, str], list[dict]]:
    """Each test's outcome in suites/protocol, and the exchanges traced."""
    workdir.mkdir()
    rig = workdir / "rig.yaml"
    rig.write_text(yaml.safe_dump({**RIG, "simulation": {"buses": {"rs485-1": {"echo": echo}}}}))
    junit = workdir / "junit.xml"
    done = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites" / "protocol"),
                           "--rig", str(rig), "--reports", str(workdir / "reports"),
                           f"--junitxml={junit}", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), f"the suite did not run through:\n{done.stdout[-3000:]}"
    outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        ended = [tag for tag in ("failure", "error", "skipped") if case.find(tag) is not None]
        outcomes[case.get("name")] = ended[0] if ended else "passed"
    [trace] = (workdir / "reports" / "runs").glob("*/trace.jsonl")
    return outcomes, [json.loads(line) for line in trace.read_text().splitlines()]


def test_an_echoing_bus_gives_the_same_verdicts(tmp_path):
    with ThreadPoolExecutor(max_workers=2) as pool:
        plain, echoed = pool.map(lambda echo: run(tmp_path / f"echo-{echo}", echo), (False, True))
    (plain_outcomes, plain_trace), (echo_outcomes, echo_trace) = plain, echoed
    assert sum(o == "passed" for o in plain_outcomes.values()) > 30
    assert echo_outcomes == plain_outcomes
    # The echo was found, stripped and checked on every exchange; without it, there was none.
    assert echo_trace and all(e["echo"] == e["request"] and not e["echo_fault"]
                              for e in echo_trace)
    assert all(e["echo"] is None for e in plain_trace)
