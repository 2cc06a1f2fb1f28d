"""DL/T 645-2007 write data with password and operator code; clock set and read back."""

from __future__ import annotations

from datetime import datetime

import pytest

from meterrig.limits import table
from meterrig.measure import Limits
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.catalogue import CATALOGUE

pytestmark = [pytest.mark.protocol("dlt645-2007"), pytest.mark.needs("password")]

DATE, TIME = 0x04000101, 0x04000102
PASSWORD_REFUSED = cmd.error_byte_of("password wrong / not authorised")
_tolerance = table("rig-tolerances")["clock_after_sync_s"]
CLOCK_AGREEMENT = Limits(low=-_tolerance["max"], high=_tolerance["max"],
                         source=_tolerance["source"])


def meter_clock(meter) -> datetime:
    return datetime.combine(meter.read(DATE).quantity.value, meter.read(TIME).quantity.value)


def verify_clock(meter, verify, clause_key: str) -> None:
    offset = (meter_clock(meter) - datetime.now()).total_seconds()
    verify.within("meter clock minus rig clock", offset, "s", CLOCK_AGREEMENT, clause_key)


@pytest.mark.clause("write")
def test_write_time_and_read_back(meter, verify):
    meter.write(TIME, datetime.now().time().replace(microsecond=0))
    verify_clock(meter, verify, "write")


@pytest.mark.clause("error-byte")
def test_wrong_password_is_refused(meter, verify):
    right = meter.auth
    wrong = cmd.Auth(level=right.level, operator=right.operator,
                     password=f"{(int(right.password, 16) + 1) % 0x1000000:06X}")
    value = CATALOGUE[TIME].encode(datetime.now().time().replace(microsecond=0))
    reply = meter.send(cmd.write(meter.address, TIME, value, wrong),
                       label="write 04000102 with a wrong password").reply
    verify.equal("reply control code to a wrong password", f"{reply.control:02X}", "D4", "write",
                 detail="a write with a wrong password gets an abnormal reply")
    verify.equal("error byte for a wrong password", f"{reply.data[0]:02X}",
                 f"{PASSWORD_REFUSED:02X}", "error-byte",
                 detail="bit 2 (password wrong / not authorised) must be set")


@pytest.mark.clause("broadcast-time")
def test_broadcast_time_sync(meter, verify):
    transaction = meter.broadcast_time(datetime.now())
    verify.equal("answer to broadcast time sync", "answered" if transaction.reply else "silent",
                 "silent", "broadcast-time", detail="a slave never answers a broadcast")
    verify_clock(meter, verify, "broadcast-time")
