"""`meterrig` from the command line against the carrier bench (rigs/carrier.yaml): a meter
behind the module read through it, and the module's archive as the scan of its bus. Both
commands start together (each starts its own simulated bench): most of their time is start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meterrig.sim.bench import initial_register_kwh

ROOT = Path(__file__).resolve().parents[1]
RIG = str(ROOT / "rigs" / "carrier.yaml")
COMMANDS = {"read": ("read", "--rig", RIG, "2", "00010000"),
            "scan": ("scan", "--rig", RIG, "carrier")}


@pytest.fixture(scope="module")
def ran() -> dict[str, tuple[int, str, str]]:
    started = {name: subprocess.Popen([sys.executable, "-m", "meterrig", *args], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name, args in COMMANDS.items()}
    done = {name: process.communicate(timeout=120) for name, process in started.items()}
    return {name: (started[name].returncode, *done[name]) for name in started}


def test_read_a_meter_behind_the_module(ran):
    code, out, err = ran["read"]
    assert code == 0, err
    assert out.strip() == f"{initial_register_kwh(2):.2f} kWh"


def test_scan_lists_the_modules_archive(ran):
    code, out, err = ran["scan"]
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == ["000000000002", "000000000003"]
    assert "# 2 meter(s) on bus carrier" in err
