"""Relay control (control code 1C, prepaid disconnect), as the meter's profile declares it: a trip
(1A) opens the relay within the model's trip delay; close allowed (1B) leaves it open for the
customer's button; a direct close (1C) closes it; a zero or expired deadline (N3..N8) is refused
with the relay unchanged. Every command but those carries a real deadline a few minutes ahead.

A relay is tripped only where the rig can close it again by command (1C): a model closed only by
the customer's button would stay open for the tests after it, and the rig cannot press the
button yet, so those tests skip on such a model and say why."""

from __future__ import annotations

from datetime import datetime

import pytest

from meterrig.meter import MeterError
from meterrig.protocols.dlt645.client import RELAY_COMMAND_VALIDITY
from meterrig.protocols.dlt645.commands import AbnormalReply, RelayAction, ReplyMismatch
from meterrig.protocols.dlt645.commands import relay as relay_request
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.dlt645.verdict import answer_to, as_verdict

pytestmark = [pytest.mark.protocol(DLT645_2007), pytest.mark.needs("relay", "password")]

STATUS = "run status word 3 bit 4"
# What a relay test measures: the reply to each command, and the relay's state after it
RELAY = ("command_reply", "relay_open")


@pytest.fixture
def relay_meter(rig, position, meter_profile):
    """The meter as the metering suites see it; skipped where the rig could not close it again,
    closed by command (1C) after the test, whatever the test did."""
    if not meter_profile.closes_directly:
        pytest.skip(f"profile {meter_profile.name} closes its relay only by the customer's button "
                    "(1B close allowed) and the rig cannot press it (issue 13), so its relay is "
                    "not tripped")
    energy_meter = rig.meter(position.number)
    yield energy_meter
    try:
        energy_meter.close()
    except (MeterError, AbnormalReply, ReplyMismatch):
        # A meter that refuses every command (the test has failed on that) is left alone if
        # its relay is closed; an open one it will not close is an error of its own.
        if energy_meter.relay_open():
            raise


def _command(meter, action: RelayAction, expiry: datetime | None, what: str):
    """Send a relay command and classify the answer (never raises on the meter's reply)."""
    request = relay_request(meter.address, meter.auth, action, expiry)
    return answer_to(request, meter.send(request, expect_reply=False, label=what))


def _command_at(action: RelayAction, deadline: str = "valid") -> dict:
    """The dimensions of a measurement after a relay command."""
    return {"command": action.name.lower(), "deadline": deadline}


def _acknowledged(meter, action: RelayAction, verify) -> None:
    what = f"{action.name.lower().replace('_', ' ')} ({action:02X})"
    answer = _command(meter, action, datetime.now() + RELAY_COMMAND_VALIDITY, f"relay {what}")
    verify.equal(f"reply to {what} with a valid deadline", answer.kind, "normal reply", "relay",
                 detail=f"the meter refused a relay command with a valid deadline: {answer}"
                 if answer.kind == "abnormal reply" else str(answer),
                 key="command_reply", at=_command_at(action))


def _relay_open(relay_meter, verify) -> bool:
    with as_verdict(verify, f"reply to a read of {STATUS}", "relay", key="status_reply"):
        return relay_meter.relay_open()


def _trip(relay_meter, meter, meter_profile, verify) -> None:
    _acknowledged(meter, RelayAction.TRIP, verify)
    with as_verdict(verify, f"reply to a read of {STATUS}", "relay", key="status_reply"):
        opened = relay_meter.wait_relay(open_=True, within_s=meter_profile.trip_delay_s)
    verify.equal(f"relay open within the declared trip delay of {meter_profile.trip_delay_s:g} s "
                 f"({STATUS})", opened, True, "relay",
                 detail="the meter acknowledged the trip but the relay stayed closed",
                 key="relay_open", at=_command_at(RelayAction.TRIP))


@pytest.mark.clause("relay")
@pytest.mark.measures(*RELAY)
def test_relay_trip_and_close(relay_meter, meter, meter_profile, verify):
    _trip(relay_meter, meter, meter_profile, verify)
    _acknowledged(meter, RelayAction.DIRECT_CLOSE, verify)
    verify.equal(f"relay open after a direct close (1C) ({STATUS})",
                 _relay_open(relay_meter, verify), False, "relay",
                 detail="the relay did not close on a direct close", key="relay_open",
                 at=_command_at(RelayAction.DIRECT_CLOSE))


@pytest.mark.clause("relay")
@pytest.mark.measures(*RELAY)
def test_close_allowed_leaves_relay_open(relay_meter, meter, meter_profile, verify):
    if "allowed" not in meter_profile.relay_close:
        pytest.skip(f"profile {meter_profile.name} declares no close allowed (1B)")
    _trip(relay_meter, meter, meter_profile, verify)
    _acknowledged(meter, RelayAction.CLOSE_ALLOWED, verify)
    verify.equal(f"relay open after close allowed (1B) ({STATUS})",
                 _relay_open(relay_meter, verify), True, "relay",
                 detail="the relay closed on close allowed (1B): only the customer's button "
                 "may close it", key="relay_open", at=_command_at(RelayAction.CLOSE_ALLOWED))


@pytest.mark.clause("relay")
@pytest.mark.parametrize("deadline", ["a zero deadline", "an expired deadline"])
@pytest.mark.measures(*RELAY)
def test_relay_refuses_a_dead_deadline(relay_meter, meter, deadline, verify):
    expiry = None if "zero" in deadline else datetime.now() - RELAY_COMMAND_VALIDITY
    answer = _command(meter, RelayAction.TRIP, expiry, f"trip with {deadline}")
    at = _command_at(RelayAction.TRIP, deadline.split()[-2])  # "zero" or "expired"
    verify.equal(f"reply to a trip (1A) with {deadline}", answer.kind, "abnormal reply", "relay",
                 detail=f"a meter refuses a relay command whose deadline has passed; {answer}",
                 key="command_reply", at=at)
    verify.equal(f"relay open after a trip with {deadline} ({STATUS})",
                 _relay_open(relay_meter, verify), False,
                 "relay", detail="the relay moved on a refused command", key="relay_open", at=at)
