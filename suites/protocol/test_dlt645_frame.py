"""DL/T 645-2007 reply frames: structure, checksum, address, control code, wake-up preamble."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import (
    END,
    PREAMBLE,
    PREAMBLE_MAX,
    START,
    FrameSplitter,
    address_bytes,
)

pytestmark = pytest.mark.protocol("dlt645-2007")

ENERGY = 0x00010000  # forward active total energy: every meter has it


@pytest.fixture
def reply_bytes(meter) -> bytes:
    """The raw bytes of one reply to a plain read, as they came off the bus (no retry)."""
    transaction = meter.send(cmd.read(meter.address, ENERGY), label="read 00010000",
                             expect_reply=False)
    exchange = transaction.exchanges[-1]
    assert exchange.answered, f"meter {meter.address}: no reply to a read of 00010000"
    return exchange.reply


def _frame_of(raw: bytes) -> bytes:
    frames = FrameSplitter().feed(raw)
    assert frames, f"no DL/T 645 frame in the reply {raw.hex(' ').upper()}"
    return frames[0]


@pytest.mark.clause("frame-format")
def test_reply_frame_structure(reply_bytes, verify):
    frame = _frame_of(reply_bytes)
    preamble = reply_bytes[: reply_bytes.index(START)]
    verify.equal("reply wake-up preamble is at most 4 FE bytes",
                 set(preamble) <= {PREAMBLE} and len(preamble) <= PREAMBLE_MAX, True, "preamble",
                 detail=f"preamble {preamble.hex(' ').upper() or 'none'}")
    verify.equal("reply first start byte", frame[0], START, "frame-format")
    verify.equal("reply second start byte", frame[7], START, "frame-format")
    verify.equal("reply length L against the data present", frame[9], len(frame) - 12,
                 "data-length")
    verify.equal("reply end byte", frame[-1], END, "frame-format")


@pytest.mark.clause("checksum")
def test_reply_checksum(reply_bytes, verify):
    frame = _frame_of(reply_bytes)
    expected = sum(frame[:-2]) & 0xFF
    verify.equal("reply checksum", f"{frame[-2]:02X}", f"{expected:02X}", "checksum",
                 detail="wrong checksum: the sum mod 256 from the first 68 disagrees")


@pytest.mark.clause("address")
def test_reply_address_order(reply_bytes, meter, verify):
    sent = _frame_of(reply_bytes)[1:7]
    expected = address_bytes(meter.address)
    detail = ("address sent most-significant byte first" if sent == expected[::-1]
              else "the reply carries another address")
    verify.equal("reply address bytes", sent.hex(" ").upper(), expected.hex(" ").upper(),
                 "address", detail=f"{detail}; the meter's address goes low byte first")


@pytest.mark.clause("control-code")
def test_reply_control_code(reply_bytes, verify):
    control = _frame_of(reply_bytes)[8]
    verify.equal("reply control code", f"{control:02X}", "91", "control-code",
                 detail="a normal read reply is 80H | 11H")


@pytest.mark.clause("preamble")
@pytest.mark.parametrize("preamble", [0, 1, PREAMBLE_MAX])
def test_wake_up_preamble(meter, preamble, verify):
    transaction = meter.send(cmd.read(meter.address, ENERGY), preamble=preamble, retries=0,
                             label=f"read 00010000 after {preamble} × FE", expect_reply=False)
    verify.equal(f"reply to a request with {preamble} × FE wake-up preamble",
                 "answered" if transaction.reply else "silent", "answered", "preamble",
                 detail="the meter does not skip the FE wake-up preamble" if preamble else "")
