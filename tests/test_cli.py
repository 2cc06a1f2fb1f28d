"""The `meterrig` command on the simulated bench: reads in either protocol, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterrig.cli import main
from meterrig.sim.bench import initial_register_kwh

SIM = str(Path(__file__).resolve().parents[1] / "rigs" / "sim.yaml")


@pytest.mark.parametrize(("meter", "item", "printed"), [
    ("1", "00010000", f"{initial_register_kwh(1):.2f} kWh"),  # DL/T 645, by position
    ("5", "import active energy", f"{initial_register_kwh(5):g} kWh"),  # Modbus register
], ids=["dlt645", "modbus"])
def test_read_prints_the_value_with_its_unit(capsys, meter, item, printed):
    assert main(["read", "--rig", SIM, meter, item]) == 0
    assert capsys.readouterr().out.strip() == printed


@pytest.mark.parametrize(("meter", "item", "code", "words"), [
    ("5", "volts", 2, "register map sdm120 has no register 'volts'; it has voltage, current"),
    ("1", "12345678", 2, "'12345678' is not a catalogued data identifier"),
    ("9", "voltage", 1, "no meter '9' on this rig; positions: 1 (000000000001)"),
])
def test_read_refuses_what_it_cannot_read_before_starting_the_bench(capsys, meter, item, code,
                                                                     words):
    assert main(["read", "--rig", SIM, meter, item]) == code
    assert words in capsys.readouterr().err
