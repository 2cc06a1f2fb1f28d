"""Load relay (prepaid disconnect): a trip stops registration and pulses, a close resumes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterrig.limits import table
from meterrig.measure import Limits

pytestmark = pytest.mark.needs("metering", "relay", "password")

_check = table("rig-tolerances")["relay_check_pulses"]
PULSES = _check["periods"]
SOURCE = _check["source"]


def test_relay_stops_and_resumes_registration(metering, position, verify):
    open_pulses, open_advance, closed_pulses = metering.relay(position, PULSES)
    verify.within("pulses with the relay tripped", open_pulses, "pulses",
                  Limits(high=0, source=SOURCE), detail="the relay stayed closed after a trip")
    verify.holds("register advance with the relay tripped (kWh)", open_advance, Decimal("0.00"),
                 SOURCE, detail="the meter kept registering after a trip")
    verify.within("pulses with the relay closed again", closed_pulses, "pulses",
                  Limits(low=PULSES // 2, source=SOURCE),
                  detail="registration did not resume after the close")
