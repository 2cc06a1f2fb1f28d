"""The simulated bus and meters, driven through the real link and client."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from meterrig.clock import RigClock
from meterrig.config import TimingConfig, load_rig
from meterrig.link.serial_link import Link
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645 import faults
from meterrig.protocols.dlt645.client import Dlt645Client, GarbledReply
from meterrig.protocols.dlt645.frame import BROADCAST_ADDRESS, FrameSplitter
from meterrig.protocols.dlt645.profile import profile
from meterrig.sim.bench import SIMULATED_BUS_RESOLUTION, SimulatedBench
from meterrig.sim.bus import SimulatedBus
from meterrig.sim.defects import Defects
from meterrig.sim.dlt645_meter import SimulatedDlt645Meter
from meterrig.sim.physics import BenchPhysics, MeterPhysics

RIGS = Path(__file__).parent.parent / "rigs"
ADDRESSES = {1: "000000000001", 2: "000000000002"}
AUTH = cmd.Auth(level=2, password="123456", operator="00000000")
ENERGY, STATUS_WORD_3 = 0x00010000, 0x04000503
HOURS_PER_SECOND = 3600  # metrology speed-up: one real second is one rig hour


@pytest.fixture
def physics() -> BenchPhysics:
    return BenchPhysics(RigClock(HOURS_PER_SECOND), {
        1: MeterPhysics(forward_kwh=1234.56), 2: MeterPhysics(forward_kwh=10, error_percent=2)})


def simulated_bus(physics: BenchPhysics, echo: bool = False) -> SimulatedBus:
    meters = [
        SimulatedDlt645Meter(position=n, address=address, profile=profile("single-phase"),
                             passwords={2: "123456"}, physics=physics, meter_number=address,
                             constant=1200, baudrate=2400, character_bits=11,
                             response_delay=0.030, defects=Defects())
        for n, address in ADDRESSES.items()
    ]
    return SimulatedBus("sim", baudrate=2400, bytesize=8, parity="E", stopbits=1,
                        meters=meters, echo=echo).start()


@pytest.fixture
def link(physics):
    bus = simulated_bus(physics)
    with Link("sim", bus.port, baudrate=2400, parity="E") as opened:
        yield opened
    bus.stop()


def client(link: Link, position: int) -> Dlt645Client:
    return Dlt645Client(link, ADDRESSES[position], auth=AUTH, reply_window=0.6, retries=0)


def test_each_meter_answers_its_own_address(link):
    assert str(client(link, 1).read(ENERGY).quantity) == "1234.56 kWh"
    assert client(link, 2).read(ENERGY).quantity.value == Decimal("10.00")


def test_reply_comes_after_the_meters_response_delay(link):
    exchange = client(link, 1).read(ENERGY).transactions[0].exchanges[0]
    assert exchange.response_delay == pytest.approx(0.030, abs=0.010)


def test_two_meters_answering_the_wildcard_collide(link):
    with pytest.raises(GarbledReply):
        client(link, 1).read_address()


def test_broadcast_gets_no_answer(link):
    transaction = client(link, 1).send(cmd.read(BROADCAST_ADDRESS, ENERGY), label="broadcast",
                                       expect_reply=False)
    assert transaction.reply is None and not transaction.exchanges[0].answered


def test_a_truncated_request_does_not_swallow_the_next(link):
    request = faults.truncated(cmd.read(ADDRESSES[1], ENERGY))
    assert not link.exchange(request, FrameSplitter(), reply_window=0.6,
                             byte_gap_limit=0.6).answered
    assert str(client(link, 1).read(ENERGY).quantity) == "1234.56 kWh"


def test_registers_follow_the_applied_load_and_the_relay(link, physics):
    meter = client(link, 2)
    start = meter.read(ENERGY).quantity.value
    physics.set_source(voltage=220.0, current=10.0, phase_deg=0.0)  # 2.2 kW
    time.sleep(0.5)  # half a rig hour
    physics.set_source(current=0.0)
    advance = meter.read(ENERGY).quantity.value - start
    assert advance == pytest.approx(Decimal("1.1") * Decimal("1.02"), abs=Decimal("0.05"))
    meter.relay(cmd.RelayAction.TRIP)
    assert meter.read(STATUS_WORD_3).quantity.value & 1 << 4
    physics.set_source(current=10.0)
    time.sleep(0.2)
    assert meter.read(ENERGY).quantity.value - start == pytest.approx(advance, abs=Decimal("0.01"))


def test_an_echoing_bus_plays_an_adapter_that_hears_itself(physics):
    bus = simulated_bus(physics, echo=True)
    try:
        with Link("sim", bus.port, baudrate=2400, parity="E", echo=None) as link:
            assert link.echo is True  # found by the probe when the bus opened
            read = client(link, 1).read(ENERGY)
    finally:
        bus.stop()
    exchange = read.transactions[0].exchanges[0]
    assert str(read.quantity) == "1234.56 kWh"
    assert exchange.echo == exchange.request and not exchange.echo_fault
    # The echo comes back at the line rate, and the reply Td after its end.
    assert exchange.t_request_end - exchange.t_write == pytest.approx(
        len(exchange.request) * exchange.character_time, abs=0.010)
    assert exchange.response_delay == pytest.approx(0.030, abs=0.010)


def test_the_hardware_like_rig_declares_the_buses_timing():
    """Its buses are ptys, which a link would take for unpaced; they are paced by wire time."""
    with SimulatedBench(load_rig(RIGS / "sim.yaml", environ={})) as bench:
        hardware = bench.hardware_rig()
    declared = TimingConfig(resolution_ms=SIMULATED_BUS_RESOLUTION.seconds * 1e3)
    assert {bus.timing for bus in hardware.buses.values()} == {declared}
    assert declared.resolution_ms == 1.0
