"""A carrier module on the simulated bench (a pty at 9600 8E1): the rig reads the meters behind
it `via:` the module through the real link, lists the module's archive, and serves the module's
routing mode (it asks what to read, 14 F1, and reports what it read, 06 F2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterrig.config import load_rig
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import START, decode, encode
from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.positions import reader
from meterrig.rig import Rig
from meterrig.sim import carrier_module
from meterrig.sim.bench import SimulatedBench, initial_register_kwh

RIG = Path(__file__).parent / "rigs" / "carrier.yaml"
ENERGY = 0x00010000


@pytest.fixture
def rig(monkeypatch):
    monkeypatch.setattr(carrier_module, "PATH_FACTORY", "tests.gdw13762_fake_module:bench_path")
    with SimulatedBench(load_rig(RIG)) as bench:
        opened = Rig(bench.hardware_rig()).open()
        try:
            yield opened
        finally:
            opened.close()


def test_meters_behind_the_module_read_through_it(rig):
    for position in (2, 3):
        reading = rig.client(position).read(ENERGY)
        assert float(reading.quantity.value) == pytest.approx(initial_register_kwh(position),
                                                              abs=0.01)


def test_the_modules_archive_lists_the_meters_behind_it(rig):
    listed = reader(rig.config.position(1), "archive")(rig.client(1))
    assert [line.split()[0] for line in listed.splitlines()] == ["000000000002",
                                                                 "000000000003"]


def test_routing_mode_on_the_bench_reads_every_meter_the_module_asks_about(rig):
    module = rig.client(1)
    module.route_reader = lambda asked: u.RouteReadAnswer(
        2, encode(cmd.read(asked.address, ENERGY), preamble=0))  # 02: can read, this frame
    module.route_restart()
    while module.serve(1.0):  # until the module has nothing more to say
        pass
    assert [r.address for r in module.route_requests] == ["000000000002", "000000000003"]
    read = [decode(r.unit.frame[r.unit.frame.find(START):]) for r in module.reports]
    assert [f.address for f in read] == ["000000000002", "000000000003"]
