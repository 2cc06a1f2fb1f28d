"""The simulated DL/T 645 meter's relay, broadcast time and address defects, frame by frame."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from meterrig.clock import RigClock
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import BROADCAST_ADDRESS, Frame, decode
from meterrig.protocols.dlt645.profile import profile
from meterrig.sim.defects import Defects
from meterrig.sim.dlt645_meter import SimulatedDlt645Meter
from meterrig.sim.physics import BenchPhysics, MeterPhysics

ADDRESS = "000000000001"
AUTH = cmd.Auth(level=2, password="123456", operator="00000000")
SPEEDUP = 3600  # one real second is one rig hour
# A valid deadline is taken when the command is built: one taken at import expires during a
# long CI run (seen: every relay command refused 5 min into the run).
SOON = timedelta(minutes=5)


def meter(*defects: str, profile_name: str = "single-phase", trip_delay_s: float = 0,
          clock_offset_s: float = 0) -> SimulatedDlt645Meter:
    physics = BenchPhysics(RigClock(SPEEDUP), {1: MeterPhysics()})
    return SimulatedDlt645Meter(
        position=1, address=ADDRESS,
        profile=profile(profile_name).model_copy(update={"trip_delay_s": trip_delay_s}),
        passwords={2: "123456"}, physics=physics, meter_number=ADDRESS, constant=1200,
        baudrate=2400, character_bits=11, response_delay=0.03, clock_offset_s=clock_offset_s,
        defects=Defects(frozenset(defects)))


def reply(sim: SimulatedDlt645Meter, request: Frame) -> Frame | None:
    sent = sim.answer(request, had_preamble=True)
    return None if sent is None else decode(sent.data)


def relay(sim, action: cmd.RelayAction,
          expiry: datetime | timedelta | None = SOON) -> Frame:
    """A relay command; a timedelta expiry is a deadline that far from now."""
    if isinstance(expiry, timedelta):
        expiry = datetime.now() + expiry
    return reply(sim, cmd.relay(ADDRESS, AUTH, action, expiry))


def relay_open(sim) -> bool:
    reply(sim, cmd.read(ADDRESS, 0x04000503))  # any request lets a delayed trip take effect
    return not sim.physics.registers(1).relay_closed


def test_trip_opens_after_the_declared_delay_on_the_rig_clock():
    sim = meter(trip_delay_s=SPEEDUP)  # one rig hour: one real second
    assert relay(sim, cmd.RelayAction.TRIP).control == 0x9C
    assert not relay_open(sim)
    time.sleep(1.1)
    assert relay_open(sim)


def test_close_allowed_waits_for_the_button_and_direct_close_closes():
    sim = meter()
    relay(sim, cmd.RelayAction.TRIP)
    assert relay(sim, cmd.RelayAction.CLOSE_ALLOWED).control == 0x9C
    assert relay_open(sim)
    sim.press_button()
    assert not relay_open(sim)
    relay(sim, cmd.RelayAction.TRIP)
    assert relay(sim, cmd.RelayAction.DIRECT_CLOSE).control == 0x9C
    assert not relay_open(sim)


def test_a_model_without_direct_close_refuses_it():
    sim = meter(profile_name="multi-tariff")
    relay(sim, cmd.RelayAction.TRIP)
    assert relay(sim, cmd.RelayAction.DIRECT_CLOSE).control == 0xDC
    assert relay_open(sim)


@pytest.mark.parametrize("expiry", [None, datetime.now() - timedelta(minutes=1)])
def test_a_zero_or_expired_deadline_is_refused_with_the_relay_unchanged(expiry):
    sim = meter()
    assert relay(sim, cmd.RelayAction.TRIP, expiry).control == 0xDC
    assert not relay_open(sim)


def test_relay_defects():
    sim = meter("relay-closes-on-close-allowed")
    relay(sim, cmd.RelayAction.TRIP)
    relay(sim, cmd.RelayAction.CLOSE_ALLOWED)
    assert not relay_open(sim)
    assert relay(meter("refuses-relay-deadline"), cmd.RelayAction.TRIP).control == 0xDC


def test_broadcast_time_is_taken_once_a_day_within_five_minutes():
    sim = meter(clock_offset_s=-120)
    assert reply(sim, cmd.broadcast_time(datetime.now())) is None
    assert abs(sim.clock_offset.total_seconds()) < 1
    sim.clock_offset = timedelta(seconds=-120)
    reply(sim, cmd.broadcast_time(datetime.now()))  # a second one the same day
    assert sim.clock_offset.total_seconds() == -120
    far = meter(clock_offset_s=-600)
    reply(far, cmd.broadcast_time(datetime.now()))
    assert far.clock_offset.total_seconds() == -600


def test_broadcast_time_is_not_taken_near_midnight():
    now = datetime.now()
    to_midnight = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
                   - now).total_seconds()
    sim = meter(clock_offset_s=to_midnight - 60)  # its clock shows 23:59
    reply(sim, cmd.broadcast_time(sim.now() + timedelta(seconds=30)))
    assert sim.clock_offset.total_seconds() == pytest.approx(to_midnight - 60)


def test_address_defects_carry_the_address_they_claim():
    echoed = reply(meter("echoes-foreign-address"), cmd.read("000000000099", 0x00010000))
    assert echoed.address == "000000000099" and echoed.control == 0x91
    broadcast = reply(meter("answers-broadcast-read"), cmd.read(BROADCAST_ADDRESS, 0x00010000))
    assert broadcast.address == BROADCAST_ADDRESS and broadcast.control == 0x91
    assert reply(meter("answers-broadcast-read"), cmd.broadcast_time(datetime.now())) is None
    assert reply(meter(), cmd.read("000000000099", 0x00010000)) is None
