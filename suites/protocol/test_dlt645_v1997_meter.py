"""DL/T 645-1997 meters: every catalogued data identifier, the reply frame, addressing.

The 2007 suites send 2007 control codes, which a 1997 meter need not understand, so they do
not select 1997 positions; these are the checks the notes support for DL/T 645-1997 (its
control codes, 2-byte DIs and the shared frame). The notes give no 1997 response timing, so its
replies are not timed (meterrig/protocols/dlt645/spec.py)."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import v1997
from meterrig.protocols.dlt645.frame import RawFrame
from meterrig.protocols.dlt645.spec import DLT645_1997
from meterrig.protocols.dlt645.verdict import SILENT, answer_to, as_verdict, describe

pytestmark = pytest.mark.protocol(DLT645_1997)

ENERGY = 0x9010  # forward active total energy


@pytest.mark.clause("data-identifiers")
@pytest.mark.measures("value_length", "decodes")
def test_catalogued_data_item(meter, data_item, verify):
    item = v1997.CATALOGUE[data_item]
    with as_verdict(verify, f"reply to a read of {data_item:04X}", "read"):
        raw, transactions = meter.read_raw(data_item)
    shown = describe(transactions[-1].exchanges[-1].reply)
    verify.equal(f"length of {data_item:04X} ({item.name})", len(raw), item.length,
                 "data-identifiers", unit="bytes", detail=shown, key="value_length",
                 at={"di": f"{data_item:04X}"})
    try:
        decoded, value = True, str(item.decode(raw))
    except ValueError as exc:
        decoded, value = False, str(exc)
    verify.equal(f"{data_item:04X} decodes as {item.format}", decoded, True,
                 "data-identifiers", detail=f"{value}; {shown}", key="decodes",
                 at={"di": f"{data_item:04X}"})


@pytest.mark.clause("frame-format")
@pytest.mark.measures("answered", "control_code", "data_length", "checksum")
def test_reply_frame(meter, verify):
    request = v1997.read(meter.address, ENERGY)
    reply = meter.send(request, label=f"read {ENERGY:04X}", expect_reply=False) \
        .exchanges[-1].reply
    frame, shown = RawFrame.parse(reply), describe(reply)
    verify.equal(f"reply to a read of {ENERGY:04X}", "answered" if reply else SILENT,
                 "answered", "read", detail="the meter did not answer a plain read",
                 key="answered")
    verify.equal("reply control code",
                 "missing" if frame.control is None else f"{frame.control:02X}",
                 f"{0x80 | v1997.Function1997.READ:02X}", "read", detail=shown,
                 key="control_code")
    verify.equal("reply data bytes present against L", len(frame.data), frame.length,
                 "frame-format", unit="bytes", detail=shown, key="data_length")
    verify.equal("reply checksum", frame.checksum, frame.expected_checksum, "frame-format",
                 detail=shown, key="checksum")


@pytest.mark.clause("address")
@pytest.mark.measures("answer_to_other_address")
def test_other_address_is_silent(meter, foreign_address, verify):
    request = v1997.read(foreign_address, ENERGY)
    answer = answer_to(request, meter.send(
        request, expect_reply=False,
        label=f"read {ENERGY:04X} from absent meter {foreign_address}"))
    verify.equal(f"answer to a frame addressed to {foreign_address}", str(answer), SILENT,
                 "address", detail=f"a meter on bus {meter.link.name} answers frames addressed "
                 "to another meter", key="answer_to_other_address")
