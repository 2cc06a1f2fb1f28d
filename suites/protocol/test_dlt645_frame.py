"""DL/T 645-2007 reply frames: structure, checksum, address, control code, wake-up preamble.

The structure checks judge the raw bytes as they came off the bus, from the first 68, not a
frame a splitter has already accepted: each check can fail, naming what is wrong."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import (
    END,
    PREAMBLE,
    PREAMBLE_MAX,
    START,
    RawFrame,
    address_bytes,
)
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.dlt645.verdict import SILENT, answer_to, describe

pytestmark = pytest.mark.protocol(DLT645_2007)

ENERGY = 0x00010000  # forward active total energy: every meter has it
MISSING = "missing"
READ = {"di": f"{ENERGY:08X}"}  # the dimensions of a check of the reply to that read
# What every check of a reply frame measures first (_frame)
REPLY = ("answered", "first_start_byte")


def _byte(value: int | None) -> str:
    return MISSING if value is None else f"{value:02X}"


@pytest.fixture
def reply_bytes(meter) -> bytes:
    """The raw bytes of one reply to a plain read, as they came off the bus (no retry)."""
    transaction = meter.send(cmd.read(meter.address, ENERGY), label="read 00010000",
                             expect_reply=False)
    return transaction.exchanges[-1].reply


def _frame(reply_bytes: bytes, verify) -> RawFrame:
    """The reply taken apart; silence, or bytes with no 68 in them, fail here."""
    frame = RawFrame.parse(reply_bytes)
    verify.equal("reply to a read of 00010000", "answered" if reply_bytes else SILENT,
                 "answered", "frame-format", detail="the meter did not answer a plain read",
                 key="answered", at=READ)
    verify.equal("reply first start byte 68", "found" if frame.start is not None else MISSING,
                 "found", "frame-format", detail=describe(reply_bytes), key="first_start_byte",
                 at=READ)
    return frame


@pytest.mark.clause("frame-format")
@pytest.mark.measures(*REPLY, "preamble", "second_start_byte", "data_length", "checksum_present",
                      "end_byte", "trailing_bytes")
def test_reply_frame_structure(reply_bytes, verify):
    frame = _frame(reply_bytes, verify)
    shown = describe(reply_bytes)
    preamble = frame.preamble
    verify.equal("reply wake-up preamble is at most 4 FE bytes",
                 set(preamble) <= {PREAMBLE} and len(preamble) <= PREAMBLE_MAX, True, "preamble",
                 detail=f"before the 68: {preamble.hex(' ').upper() or 'none'}; {shown}",
                 key="preamble", at=READ)
    verify.equal("reply second start byte", _byte(frame.second_start), f"{START:02X}",
                 "frame-format", detail=shown, key="second_start_byte", at=READ)
    verify.equal("reply data bytes present against L", len(frame.data), frame.length,
                 "data-length", unit="bytes", detail=shown, key="data_length", at=READ)
    verify.equal("reply checksum byte present", "present" if frame.checksum is not None
                 else MISSING, "present", "checksum", detail=shown, key="checksum_present",
                 at=READ)
    verify.equal("reply end byte", _byte(frame.end), f"{END:02X}", "frame-format", detail=shown,
                 key="end_byte", at=READ)
    verify.equal("bytes after the reply's end byte", frame.trailing.hex(" ").upper() or "none",
                 "none", "frame-format", detail=shown, key="trailing_bytes", at=READ)


@pytest.mark.clause("checksum")
@pytest.mark.measures(*REPLY, "checksum")
def test_reply_checksum(reply_bytes, verify):
    frame = _frame(reply_bytes, verify)
    verify.equal("reply checksum", _byte(frame.checksum), _byte(frame.expected_checksum),
                 "checksum", detail="wrong checksum: the sum mod 256 from the first 68 "
                 f"disagrees; {describe(reply_bytes)}", key="checksum", at=READ)


@pytest.mark.clause("address")
@pytest.mark.measures(*REPLY, "address_bytes")
def test_reply_address_order(reply_bytes, meter, verify):
    frame = _frame(reply_bytes, verify)
    expected = address_bytes(meter.address)
    sent = frame.address
    detail = ("address sent most-significant byte first" if sent == expected[::-1]
              else "the reply carries another address")
    verify.equal("reply address bytes", MISSING if sent is None else sent.hex(" ").upper(),
                 expected.hex(" ").upper(), "address",
                 detail=f"{detail}; the meter's address goes low byte first; "
                 f"{describe(reply_bytes)}", key="address_bytes", at=READ)


@pytest.mark.clause("control-code")
@pytest.mark.measures(*REPLY, "control_code")
def test_reply_control_code(reply_bytes, verify):
    frame = _frame(reply_bytes, verify)
    verify.equal("reply control code", _byte(frame.control), "91", "control-code",
                 detail=f"a normal read reply is 80H | 11H; {describe(reply_bytes)}",
                 key="control_code", at=READ)


@pytest.mark.clause("preamble")
@pytest.mark.parametrize("preamble", [0, 1, PREAMBLE_MAX])
@pytest.mark.measures("answer_after_preamble")
def test_wake_up_preamble(meter, preamble, verify):
    request = cmd.read(meter.address, ENERGY)
    answer = answer_to(request, meter.send(request, preamble=preamble, retries=0,
                                           label=f"read 00010000 after {preamble} × FE",
                                           expect_reply=False))
    verify.equal(f"reply to a request with {preamble} × FE wake-up preamble", answer.kind,
                 "normal reply", "preamble",
                 detail=("the meter does not skip the FE wake-up preamble; " if preamble else "")
                 + str(answer), key="answer_after_preamble",
                 at={**READ, "preamble_bytes": preamble})
