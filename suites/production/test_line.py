"""The production line's routine sequence, its part on each bus: comms, the meter's own number
against the serial scanned for its position, the meter number written and read back, the
address read back, the clock set (`meterrig line`; the metering part is metering/test_routine.py).

Steps that the protocol suites already check are those tests, run here again for the line
(fixtures/production.py, again): one procedure, no copy.
"""

from __future__ import annotations

import pytest

from fixtures.production import again
from meterrig.limits import table
from meterrig.meter import MeterError
from meterrig.protocols.dlt645.commands import AbnormalReply, ReplyMismatch
from meterrig.protocols.dlt645.spec import DLT645_2007
from suites.protocol import test_dlt645_addressing as addressing
from suites.protocol import test_dlt645_write as write

CHECKS = table("routine")["line"]
DLT645 = pytest.mark.protocol(DLT645_2007)
# Positions with a meter (a carrier module's position has none: suites/carrier tests it).
pytestmark = pytest.mark.needs("metering")


@pytest.mark.measures("comms_reply")
def test_comms(rig, position, verify):
    try:
        rig.meter(position.number).forward_energy_kwh()
        answered, why = True, "it answered a read of its energy register"
    except (MeterError, AbnormalReply, ReplyMismatch) as exc:
        answered, why = False, str(exc)
    verify.holds("answer to a read of the energy register", answered, True,
                 CHECKS["comms"]["source"], detail=why, key="comms_reply")


@pytest.mark.needs("meter-number")
@pytest.mark.measures("meter_number")
def test_meter_number_is_the_scanned_serial(rig, position, scanned_serial, verify):
    verify.holds("meter number against the scanned serial",
                 rig.meter(position.number).meter_number(), scanned_serial,
                 CHECKS["serial"]["source"],
                 detail=f"the serial scanned for position {position.number}",
                 key="meter_number")


@DLT645
@pytest.mark.needs("meter-number-write", "password")
@pytest.mark.measures("meter_number_read_back")
def test_meter_number_written_and_read_back(rig, position, scanned_serial, verify):
    meter = rig.meter(position.number)
    meter.write_meter_number(scanned_serial)
    verify.holds("meter number read back after a write", meter.meter_number(), scanned_serial,
                 CHECKS["write"]["source"], key="meter_number_read_back")


# The address the rig knows the meter by, read back with the most-wildcarded pattern only it
# matches; the clock set and read back (the DL/T 645 suites' own tests).
test_address_read_back = again(addressing.test_read_address_with_wildcard)
test_clock_set = again(write.test_write_time_and_read_back)
