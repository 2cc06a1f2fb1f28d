"""`meterrig` from the command line against the carrier bench (rigs/carrier.yaml): a meter
behind the module read through it, and the module's archive as the scan of its bus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from meterrig.sim.bench import initial_register_kwh

ROOT = Path(__file__).resolve().parents[1]
RIG = str(ROOT / "rigs" / "carrier.yaml")


def _meterrig(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meterrig", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_read_a_meter_behind_the_module():
    done = _meterrig("read", "--rig", RIG, "2", "00010000")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{initial_register_kwh(2):.2f} kWh"


def test_scan_lists_the_modules_archive():
    done = _meterrig("scan", "--rig", RIG, "carrier")
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["000000000002",
                                                                      "000000000003"]
    assert "# 2 meter(s) on bus carrier" in done.stderr
