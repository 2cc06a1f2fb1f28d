"""Line mode on a simulated 24-position station (4 buses of 6): every position gets its row, the
one seeded with a defect (position 7: does not start) fails alone, and the exit code says so.
The scanned serials come from a file, as a barcode scanner fills it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.production import read_serials

ROOT = Path(__file__).resolve().parents[1]
STATION = ROOT / "tests" / "rigs" / "line-24.yaml"


def test_a_24_position_station_fails_only_its_defective_position(tmp_path):
    serials = tmp_path / "scanned.txt"
    serials.write_text("# position serial, as scanned\n"
                       + "".join(f"{n} {n:012d}\n" for n in range(1, 25)))
    run = subprocess.run([sys.executable, "-m", "meterrig", "line", "--rig", str(STATION),
                          "--serials", str(serials), "--reports", str(tmp_path / "reports")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    rows = {int(line.split("│")[1]): line for line in run.stdout.splitlines()
            if line.startswith("│ ") and line.split("│")[1].strip().isdigit()}
    assert sorted(rows) == list(range(1, 25)), run.stdout
    assert "FAIL" in rows[7] and "test_starting" in rows[7], rows[7]
    assert all("PASS" in rows[n] for n in rows if n != 7), run.stdout
    outcome = json.loads(next((tmp_path / "reports" / "runs").glob("*/line-outcome.json"))
                         .read_text())
    verdicts = {p["position"]: p["verdict"] for p in outcome["positions"]}
    assert verdicts == {n: "FAIL" if n == 7 else "PASS" for n in range(1, 25)}
    assert [step for step, _ in outcome["positions"][6]["failed"]] == [
        "test_starting[pos7]"]
    assert all(p["done"] == p["steps"] > 0 for p in outcome["positions"])


def test_a_bad_scanned_serials_line_is_named_by_file_and_line(tmp_path):
    serials = tmp_path / "scanned.txt"
    serials.write_text("1 000000000001\n2\n")
    with pytest.raises(ValueError, match=r"scanned.txt:2: expected 'POSITION SERIAL'"):
        read_serials(serials)
