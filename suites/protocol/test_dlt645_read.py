"""DL/T 645-2007 read data: every declared data identifier, unknown ones, follow-up frames."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.catalogue import CATALOGUE, format_di
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.dlt645.verdict import answer_to, as_verdict, describe

pytestmark = pytest.mark.protocol(DLT645_2007)

# DI3 = 0F is no class of data in DL/T 645-2007 Appendix A (00 energy … 06 load records),
# so no conforming meter can have it.
UNASSIGNED_DI = 0x0F0F0F0F
NO_DATA = cmd.error_byte_of("no requested data")


@pytest.mark.clause("data-identifiers")
@pytest.mark.measures("value_length", "value_decodes")
def test_declared_data_item(meter, meter_profile, data_item, verify):
    item = CATALOGUE[data_item]
    at = {"di": format_di(data_item)}
    with as_verdict(verify, f"reply to a read of {format_di(data_item)}", "read", at=at):
        raw, transactions = meter.read_raw(data_item)
    shown = describe(transactions[-1].exchanges[-1].reply)
    verify.equal(f"length of {format_di(data_item)} ({item.name})", len(raw),
                 meter_profile.value_length(item.length, data_item), "data-identifiers",
                 unit="bytes", detail=shown, key="value_length", at=at)
    try:
        decoded, value = True, str(item.decode(raw))
    except ValueError as exc:
        decoded, value = False, str(exc)
    verify.equal(f"{format_di(data_item)} decodes as {item.format}", decoded, True,
                 "data-identifiers", detail=f"{value}; {shown}", key="value_decodes", at=at)


@pytest.mark.clause("error-byte")
@pytest.mark.measures("unknown_di_reply", "unknown_di_error_byte")
def test_unknown_data_item_gives_no_data_error(meter, verify):
    at = {"di": format_di(UNASSIGNED_DI)}
    request = cmd.read(meter.address, UNASSIGNED_DI)
    answer = answer_to(request, meter.send(
        request, expect_reply=False, label=f"read unassigned {format_di(UNASSIGNED_DI)}"))
    verify.equal("reply to an unknown DI", answer.kind, "abnormal reply", "read",
                 detail=f"an unknown DI gets an abnormal reply (D1); got {answer}",
                 key="unknown_di_reply", at=at)
    verify.equal("error byte for an unknown DI", f"{answer.error_byte:02X}", f"{NO_DATA:02X}",
                 "error-byte", detail="only bit 1 (no requested data) may be set: wrong error "
                 f"bits; {answer}", key="unknown_di_error_byte", at=at)


@pytest.mark.needs("follow-up")
@pytest.mark.clause("read-follow-up")
@pytest.mark.measures("first_reply_control", "last_reply_control", "joined_value_length")
def test_follow_up_read(meter, meter_profile, verify):
    di = meter_profile.long_items[0]
    at = {"di": format_di(di)}
    with as_verdict(verify, f"replies to a read of {format_di(di)} with follow-ups",
                    "read-follow-up", at=at):
        raw, transactions = meter.read_raw(di)
    frames = [t.reply for t in transactions]
    shown = "; ".join(describe(t.exchanges[-1].reply) for t in (transactions[0], transactions[-1]))
    verify.equal("first reply announces follow-up frames", f"{frames[0].control:02X}", "B1",
                 "read-follow-up", detail=shown, key="first_reply_control", at=at)
    verify.equal("last follow-up reply ends the sequence", f"{frames[-1].control:02X}", "92",
                 "read-follow-up", detail=shown, key="last_reply_control", at=at)
    item = CATALOGUE[di]
    verify.equal(f"length of {format_di(di)} joined from {len(frames)} frames", len(raw),
                 meter_profile.value_length(item.length, di), "read-follow-up", unit="bytes",
                 key="joined_value_length", at=at)
