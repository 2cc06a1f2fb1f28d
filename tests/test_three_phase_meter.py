"""A simulated three-phase DL/T 645 meter on a rig of its own (not rigs/sim.yaml: the metering
suites would run on it, and the bench physics is single-phase): every data item its profile
declares reads with the length the catalogue gives, and `meterrig read` reads phase C. A
second position is described by the user's own profile file, named by a path relative to the
rig file, and the simulated bench serves it like a shipped one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from test_suites_catch_defects import run_suite

from meterrig.cli import main
from meterrig.clock import RigClock
from meterrig.protocols.dlt645 import decode, parse_read_reply, read
from meterrig.protocols.dlt645.catalogue import CATALOGUE, Quantity
from meterrig.protocols.dlt645.profile import profile, profile_file
from meterrig.sim.dlt645_meter import SimulatedDlt645Meter
from meterrig.sim.physics import BenchPhysics, MeterPhysics

UN = 230.0
# The user's own meter model: a single-phase meter declaring a few items, one of them a block.
OWN_PROFILE = """\
my-meter:
  description: a single-phase meter of our own, 2 tariffs
  tariffs: 2
  relay: false
  relay_level: 2
  max_reply_data: 200
  data_items: ["00010000", "00010100", "00010200", "0001FF00", "02010100", "02020100"]
  writable: {}
"""


@pytest.fixture(scope="module")
def rig_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("three-phase")
    (folder / "models").mkdir()
    (folder / "models" / "my-meter.yaml").write_text(OWN_PROFILE)
    rig = {
        "name": "one simulated three-phase DL/T 645 meter and a meter of our own",
        "buses": {"rs485-1": {}},
        "positions": [
            {"position": 1, "bus": "rs485-1", "protocol": "dlt645-2007",
             "address": "000000000031", "profile": "three-phase", "un": UN},
            {"position": 2, "bus": "rs485-1", "protocol": "dlt645-2007",
             "address": "000000000032", "profile": "models/my-meter.yaml", "un": UN},
        ],
        "simulation": {"meters": {}},
    }
    path = folder / "rig.yaml"
    path.write_text(yaml.safe_dump(rig, sort_keys=False))
    return path


def test_every_declared_item_reads_with_its_length(rig_file):
    # run_suite writes the rig file into the folder it is given: the same folder, so the
    # relative profile path holds.
    results = run_suite("protocol", yaml.safe_load(rig_file.read_text()), rig_file.parent,
                        "-k", "declared_data_item")
    declared = {
        1: profile("three-phase").data_items,
        2: profile_file(rig_file.parent / "models" / "my-meter.yaml").data_items,
    }
    expected = {f"test_declared_data_item[pos{n}-{di:08X}]" for n, dis in declared.items()
                for di in dis}
    ran = {name: message for name, message in results.items()
           if name.startswith("test_declared_data_item")}
    assert set(ran) == expected
    failed = {name: message for name, message in ran.items() if message is not None}
    assert not failed, "\n".join(f"{name}: {message}" for name, message in failed.items())


def test_phase_c_voltage_reads(rig_file, capsys):
    assert main(["read", "--rig", str(rig_file), "1", "02010300"]) == 0
    assert capsys.readouterr().out.strip() == f"{UN:.1f} V"


def test_three_phase_profile_declares_every_phase_and_total():
    three = profile("three-phase")
    for kind in (0x0201, 0x0202, 0x0203, 0x0204, 0x0205, 0x0206):
        phases = [kind << 16 | phase << 8 for phase in (1, 2, 3)]
        assert set(phases) <= set(three.data_items), f"{kind:04X}"
        assert kind << 16 | 0xFF00 in three.data_items  # and their block
    block = CATALOGUE[0x0203FF00]
    assert three.value_length(block.length, 0x0203FF00) == 4 * 3  # total, A, B, C


def test_each_phase_sees_the_source_and_the_totals_are_their_sum():
    physics = BenchPhysics(RigClock(1), {1: MeterPhysics(un=UN)})
    physics.set_source(voltage=UN, current=5.0, phase_deg=60.0)
    meter = SimulatedDlt645Meter(position=1, address="000000000031", profile=profile("three-phase"),
                                 passwords={}, physics=physics, meter_number="000000000031",
                                 constant=1200, baudrate=2400, character_bits=11,
                                 response_delay=0.03)

    def reading(di: int) -> Quantity:  # what a master makes of the meter's reply
        frame = read(meter.address, di)
        reply = parse_read_reply(frame, decode(meter.answer(frame, had_preamble=False).data))
        return CATALOGUE[di].decode(reply.value)

    d = Decimal
    assert reading(0x0201FF00) == Quantity((d("230.0"),) * 3, "V")
    assert reading(0x0202FF00) == Quantity((d("5.000"),) * 3, "A")
    assert reading(0x0206FF00) == Quantity((d("0.500"),) * 4, "")
    assert reading(0x0207FF00) == Quantity((d("60.0"),) * 3, "°")
    # S = U I = 1.15 kVA a phase; Q = S sin 60° = 0.9959 kvar a phase; totals the sum (of
    # the unrounded phases: within the rounding of three 0.1 W figures).
    assert reading(0x0205FF00).value == (d("3.4500"), d("1.1500"), d("1.1500"), d("1.1500"))
    for block, phase in ((0x0204FF00, d("0.9959")), (0x0203FF00, None)):
        total, *phases = reading(block).value
        assert phases[0] == phases[1] == phases[2] == (phase or phases[0]) > 0
        assert abs(total - sum(phases)) <= d("0.0002")
    total = reading(0x02030000).value
    demand = reading(0x01010000).value
    assert demand["demand"].value == total and demand["demand"].unit == "kW"
