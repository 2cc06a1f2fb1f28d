"""DL/T 645-1997: control codes, 2-byte DIs, read request and reply parsing on the same frame."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterrig.protocols.dlt645 import (
    AbnormalReply,
    Frame,
    Quantity,
    ReadReply,
    ReplyMismatch,
    decode,
    encode,
    v1997,
)

METER = "000000000003"
VOLTAGE_REPLY = bytes.fromhex("68 03 00 00 00 00 00 68 81 04 44 E9 33 34 EC 16")


def test_function_codes() -> None:
    assert {f.name: f.value for f in v1997.Function1997} == {
        "READ": 0x01, "READ_FOLLOW_UP": 0x02, "REREAD": 0x03, "WRITE": 0x04,
        "BROADCAST_TIME": 0x08, "WRITE_ADDRESS": 0x0A, "CHANGE_BAUD": 0x0C,
        "CHANGE_PASSWORD": 0x0F, "CLEAR_DEMAND": 0x10}


def test_read_request_bytes() -> None:
    # DI B611 sent DI0 first, +33: 11 B6 -> 44 E9. CS = 68+03+68+01+02+44+E9 = 0x203 -> 03.
    expected = bytes.fromhex("68 03 00 00 00 00 00 68 01 02 44 E9 03 16")
    assert encode(v1997.read(METER, 0xB611), preamble=0) == expected


def test_voltage_reply() -> None:
    reply = v1997.parse_read_reply(v1997.read(METER, 0xB611), decode(VOLTAGE_REPLY))
    assert reply == ReadReply(0xB611, b"\x00\x01", False, None)
    assert v1997.CATALOGUE[0xB611].decode(reply.value) == Quantity(100, "V")


def test_follow_up_flag() -> None:
    reply = Frame(METER, 0xA1, bytes.fromhex("10 90 00 00 00 00"))
    parsed = v1997.parse_read_reply(v1997.read(METER, 0x9010), reply)
    assert parsed.follow_up is True and parsed.di == 0x9010


def test_abnormal_reply_reports_bits_by_number() -> None:
    # The notes give no meanings for the 1997 error bits, so they are named by number.
    with pytest.raises(AbnormalReply) as caught:
        v1997.parse_read_reply(v1997.read(METER, 0xB611), Frame(METER, 0xC1, b"\x02"))
    assert caught.value.errors == ("bit 1",)
    assert str(caught.value) == "abnormal reply C1, error byte 0x02: bit 1"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Frame(METER, 0x81, bytes.fromhex("21 B6 00 01")), "DI B621"),
        (Frame(METER, 0x91, bytes.fromhex("11 B6 00 01")), "function 11"),
        (Frame("000000000004", 0x81, bytes.fromhex("11 B6 00 01")), "000000000004"),
    ],
)
def test_reply_mismatch(reply: Frame, message: str) -> None:
    with pytest.raises(ReplyMismatch, match=message):
        v1997.parse_read_reply(v1997.read(METER, 0xB611), reply)


def test_parse_needs_a_1997_read() -> None:
    with pytest.raises(ValueError, match="not a 1997 read"):
        v1997.parse_read_reply(Frame(METER, 0x11, b"\x11\xb6"), decode(VOLTAGE_REPLY))


def test_catalogue() -> None:
    assert sorted(v1997.CATALOGUE) == [0x9010, 0xB611, 0xB621, 0xB630, 0xB650]
    current = v1997.CATALOGUE[0xB621]
    assert current.decode(bytes.fromhex("34 12")) == Quantity(Decimal("12.34"), "A")
    with pytest.raises(KeyError, match="DI 9020"):
        v1997.CATALOGUE[0x9020]


@pytest.mark.parametrize("di", sorted(v1997.CATALOGUE), ids=lambda di: f"{di:04X}")
@given(number=st.integers(0, 10**8 - 1))
def test_every_item_round_trips(di: int, number: int) -> None:
    item = v1997.CATALOGUE[di]
    raw = bytes.fromhex(f"{number % 100 ** item.length:0{2 * item.length}d}")[::-1]
    assert item.encode(item.decode(raw).value) == raw
