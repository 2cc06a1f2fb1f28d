"""A comms-only bench (buses and meters, no instruments) runs the protocol suites: what needs an
instrument skips and names it, nothing errors in setup."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# One DL/T 645 position and one Modbus position of the simulated bench, each alone on its bus.
POSITIONS = "pos4 or pos5"
NEED_INSTRUMENTS = ("test_values_agree_with_reference[pos5]", "test_word_order[pos5]",
                    "test_energy_advances_by_dosed_energy[pos5]")


def test_protocol_suites_skip_what_needs_instruments(tmp_path):
    rig = yaml.safe_load((ROOT / "rigs" / "sim.yaml").read_text())
    del rig["instruments"]
    rig_file = tmp_path / "comms-only.yaml"
    rig_file.write_text(yaml.safe_dump(rig, sort_keys=False))
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites" / "protocol"), "--rig",
         str(rig_file), "--reports", str(tmp_path / "reports"), f"--junitxml={junit}", "-q",
         "-p", "no:cacheprovider", "-k", POSITIONS],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    cases = list(ET.parse(junit).iter("testcase"))
    errors = {c.get("name"): e.get("message") for c in cases if (e := c.find("error")) is not None}
    skipped = {c.get("name"): s.get("message") for c in cases
               if (s := c.find("skipped")) is not None}
    ran = {c.get("name") for c in cases} - skipped.keys()
    assert not errors, f"setup errors on a comms-only bench: {errors}\n{run.stdout[-2000:]}"
    assert any("pos4" in name for name in ran) and any("pos5" in name for name in ran), ran
    # the Modbus tests that judge against the source and reference standard
    for name in NEED_INSTRUMENTS:
        assert name in skipped, f"{name} did not skip: {sorted(ran)}"
        assert "PowerSource under instruments:" in skipped[name], skipped[name]
