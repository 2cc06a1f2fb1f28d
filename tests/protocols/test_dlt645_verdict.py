"""What a verdict shows of a reply: hex, then decoded as far as the bytes go, never a crash."""

from __future__ import annotations

import attrs
import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.client import Transaction
from meterrig.protocols.dlt645.frame import RawFrame, encode
from meterrig.protocols.dlt645.verdict import SILENT, answer_to, describe

METER = "000000000161"
READ = cmd.read(METER, 0x00010000)
GOOD = encode(cmd.normal_reply(READ, METER, cmd.read_reply_data(0x00010000, bytes.fromhex(
    "56 34 12 00"))), preamble=2)


@attrs.frozen
class _Exchange:
    reply: bytes


def answer(raw: bytes):
    return answer_to(READ, Transaction(READ, None, (_Exchange(raw),)))


def test_a_good_reply_is_shown_in_hex_and_decoded():
    text = describe(GOOD)
    assert text.startswith("FE FE 68 61 01 00 00 00 00 68 91")
    assert "address 000000000161" in text and "normal reply to read" in text
    assert "DI 00010000 = 1234.56 kWh" in text
    assert answer(GOOD).kind == "normal reply"


@pytest.mark.parametrize(("raw", "words"), [
    (b"", SILENT),
    (bytes.fromhex("FE FE 12 34"), "no 68 start byte"),
    (GOOD[:8], "the bytes stop inside the address"),
    (GOOD[:14], "only 2 of the 8 data bytes came"),
    (GOOD[:-2], "the bytes stop before CS"),
    (GOOD[:-1] + b"\x17", "end byte 17, not 16"),
    (GOOD[:-2] + bytes([GOOD[-2] ^ 1]) + GOOD[-1:], "CS"),
    (GOOD + b"\x00", "1 byte(s) after the frame"),
])
def test_a_broken_reply_is_decoded_as_far_as_it_goes(raw, words):
    assert words in describe(raw)
    assert answer(raw).kind in (SILENT, "garbled reply")


def test_raw_fields_are_none_where_the_bytes_stop():
    frame = RawFrame.parse(GOOD[:11])  # two FE, then 68 … C: no L
    assert frame.start == 2 and frame.control == 0x91 and frame.length is None
    assert frame.checksum is None and frame.expected_checksum is None


def test_abnormal_and_foreign_replies_are_told_apart():
    refused = encode(cmd.abnormal_reply(READ, METER, 0x02))
    assert answer(refused).kind == "abnormal reply" and answer(refused).error_byte == 0x02
    assert "error byte 02 (no requested data)" in describe(refused)
    other = encode(cmd.normal_reply(READ, "000000000099", b"\x00\x00\x01\x00"))
    assert answer(other).kind == "wrong reply" and answer(other).address == "000000000099"
    assert "DI 00010000 with no value" in describe(other)
