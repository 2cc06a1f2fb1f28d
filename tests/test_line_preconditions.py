"""The line suite asks of a position only what its meter declares: its own number (a DL/T
645-1997 meter has none in the notes), a password write of it (a prepaid model takes it only
through its security module), and the preconditions of the suite tests it runs again."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.production import again
from meterrig import rig as rigs
from meterrig.protocols import registry
from suites.protocol import test_dlt645_write as write

ROOT = Path(__file__).parents[1]


def offers(rig_file: str, number: int, feature: str) -> bool:
    position = rigs.load(ROOT / rig_file).position(number)
    return registry.get(position.protocol).offers(feature, position)


@pytest.mark.parametrize(("rig_file", "number", "number_read", "number_written"), [
    ("rigs/sim.yaml", 1, True, True),            # DL/T 645-2007, single-phase profile
    ("rigs/sim.yaml", 5, True, False),           # Modbus, sdm120: serial number FC00
    ("tests/rigs/prepaid-local.yaml", 1, True, False),
    ("tests/rigs/dlt645-1997.yaml", 7, False, False),
    ("rigs/sim.yaml", 7, False, False),          # the carrier module: no meter
])
def test_meter_number_features(rig_file, number, number_read, number_written):
    assert offers(rig_file, number, "meter-number") is number_read
    assert offers(rig_file, number, "meter-number-write") is number_written


def test_a_test_run_again_keeps_its_module_preconditions():
    copy = again(write.test_write_time_and_read_back)
    needs = [arg for mark in copy.pytestmark if mark.name == "needs" for arg in mark.args]
    assert "password" in needs
    assert not any(mark.name == "needs" for mark in
                   getattr(write.test_write_time_and_read_back, "pytestmark", []))
