"""DL/T 645-2007 read data: every declared data identifier, unknown ones, follow-up frames."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.catalogue import CATALOGUE, format_di
from meterrig.protocols.dlt645.frame import Function

pytestmark = pytest.mark.protocol("dlt645-2007")

# DI3 = 0F is no class of data in DL/T 645-2007 Appendix A (00 energy … 06 load records),
# so no conforming meter can have it.
UNASSIGNED_DI = 0x0F0F0F0F
NO_DATA = cmd.error_byte_of("no requested data")


@pytest.mark.clause("data-identifiers")
def test_declared_data_item(meter, meter_profile, data_item, verify):
    item = CATALOGUE[data_item]
    reading = meter.read(data_item)
    verify.equal(f"length of {format_di(data_item)} ({item.name})", len(reading.raw),
                 meter_profile.value_length(item.length, data_item), "data-identifiers",
                 unit="bytes", detail=f"value {reading.quantity}")


@pytest.mark.clause("error-byte")
def test_unknown_data_item_gives_no_data_error(meter, verify):
    request = cmd.read(meter.address, UNASSIGNED_DI)
    reply = meter.send(request, label=f"read unassigned {format_di(UNASSIGNED_DI)}").reply
    verify.equal("reply control code to an unknown DI", f"{reply.control:02X}", "D1", "read",
                 detail="an unknown DI gets an abnormal reply")
    verify.equal("error byte for an unknown DI", f"{reply.data[0]:02X}", f"{NO_DATA:02X}",
                 "error-byte", detail="only bit 1 (no requested data) may be set: wrong error bits")


@pytest.mark.needs("follow-up")
@pytest.mark.clause("read-follow-up")
def test_follow_up_read(meter, meter_profile, verify):
    di = meter_profile.long_items[0]
    reading = meter.read(di)
    frames = [t.reply for t in reading.transactions]
    verify.equal("first reply announces follow-up frames", f"{frames[0].control:02X}", "B1",
                 "read-follow-up")
    verify.equal("last follow-up reply ends the sequence", f"{frames[-1].control:02X}", "92",
                 "read-follow-up")
    assert all(t.request.function == Function.READ_FOLLOW_UP for t in reading.transactions[1:])
    item = CATALOGUE[di]
    verify.equal(f"length of {format_di(di)} joined from {len(frames)} frames", len(reading.raw),
                 meter_profile.value_length(item.length, di), "read-follow-up", unit="bytes")
