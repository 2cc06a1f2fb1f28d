"""Relay control (prepaid disconnect): trip opens the relay, close restores it."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645.commands import RelayAction
from meterrig.protocols.dlt645.meter import Dlt645Meter

pytestmark = [pytest.mark.protocol("dlt645-2007"), pytest.mark.needs("relay", "password")]


def relay_open(meter) -> bool:
    return Dlt645Meter(meter).relay_open()


@pytest.mark.clause("relay")
def test_relay_trip_and_close(meter, verify):
    try:
        meter.relay(RelayAction.TRIP)
        verify.equal("relay open after trip (status word 3 bit 4)", relay_open(meter), True,
                     "relay", detail="the meter acknowledged the trip but the relay stayed closed")
    finally:
        meter.relay(RelayAction.CLOSE)
    verify.equal("relay open after close (status word 3 bit 4)", relay_open(meter), False,
                 "relay", detail="the relay did not close again")
