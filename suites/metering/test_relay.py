"""Load relay (prepaid disconnect): a trip (1A) stops registration and pulses, a direct close (1C)
resumes them. The trip waits the delay the meter's profile declares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterrig.limits import table
from meterrig.measure import Limits

pytestmark = pytest.mark.needs("metering", "relay", "password")

_check = table("rig-tolerances")["relay_check_pulses"]
PULSES = _check["periods"]
SOURCE = _check["source"]


@pytest.mark.measures("pulses_tripped", "register_advance_tripped", "pulses_closed_again")
def test_relay_stops_and_resumes_registration(metering, rig, position, verify):
    if not rig.meter(position.number).closes_by_command:
        pytest.skip(f"position {position.number}: profile {position.profile} closes its relay only "
                    "by the customer's button (1B close allowed) and the rig cannot press it, so "
                    "its relay is not tripped")
    (open_pulses, open_advance, closed_pulses), group = metering.relay(position, PULSES)
    verify.within("pulses with the relay tripped", open_pulses, "pulses",
                  Limits(high=0, source=SOURCE, unit="pulses"),
                  detail=f"{group}: the relay stayed closed after a trip", key="pulses_tripped")
    verify.holds("register advance with the relay tripped (kWh)", open_advance, Decimal("0.00"),
                 SOURCE, detail=f"{group}: the meter kept registering after a trip",
                 key="register_advance_tripped")
    verify.within("pulses with the relay closed again", closed_pulses, "pulses",
                  Limits(low=PULSES // 2, source=SOURCE, unit="pulses"),
                  detail=f"{group}: registration did not resume after the close",
                  key="pulses_closed_again")
