"""Read replies as a three-phase meter sends them decode to their meaning.

Each reply frame is built here byte by byte from the standard's layout, never by our encoder:
FE x4, 68, the address lowest byte first, 68, C = 91, L, then DI0..DI3 and the value (BCD,
lowest byte first; a signed value's sign is the top bit of its highest byte), each byte
+0x33, the checksum (the byte sum from the first 68), 16 (notes "Frame"; value formats from
DL/T 645-2007 Tables A.1-A.3 as the catalogue's sources give them).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from meterrig.protocols.dlt645 import CATALOGUE, decode, parse_read_reply, read
from meterrig.protocols.dlt645.catalogue import Quantity, Record

ADDRESS = "000000000031"  # a three-phase meter at position 31 of some bench


def reply_frame(di: int, value: str) -> bytes:
    """The bytes a meter sends for a read of `di`; `value` is the plain value in wire order."""
    address = bytes.fromhex(ADDRESS)[::-1]
    data = di.to_bytes(4, "little") + bytes.fromhex(value)
    body = b"\x68" + address + b"\x68" + bytes([0x91, len(data)]) \
        + bytes((b + 0x33) & 0xFF for b in data)
    return b"\xfe" * 4 + body + bytes([sum(body) & 0xFF, 0x16])


def meaning(di: int, value: str) -> Quantity:
    """What the rig makes of the reply: frame checks, DI echo, then the catalogue."""
    reply = parse_read_reply(read(ADDRESS, di), decode(reply_frame(di, value)))
    assert reply.di == di
    return CATALOGUE[di].decode(reply.value)


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize(("di", "value", "expected"), [
    # Voltage XXX.X V per phase, and the block of phases A, B, C.
    (0x02010100, "00 22", Quantity(d("220.0"), "V")),
    (0x02010200, "15 22", Quantity(d("221.5"), "V")),
    (0x02010300, "04 23", Quantity(d("230.4"), "V")),
    (0x0201FF00, "00 22 15 22 04 23", Quantity((d("220.0"), d("221.5"), d("230.4")), "V")),
    # Current XXX.XXX A, signed: phase C flows backwards.
    (0x02020100, "00 50 00", Quantity(d("5.000"), "A")),
    (0x02020300, "25 01 80", Quantity(d("-0.125"), "A")),
    (0x0202FF00, "00 50 00 98 49 00 25 01 80",
     Quantity((d("5.000"), d("4.998"), d("-0.125")), "A")),
    # Active power XX.XXXX kW, signed: the total, each phase, and the block total, A, B, C.
    (0x02030000, "35 12 03", Quantity(d("3.1235"), "kW")),
    (0x02030200, "00 10 01", Quantity(d("1.1000"), "kW")),
    (0x0203FF00, "35 12 03 35 02 01 00 10 01 00 00 81",
     Quantity((d("3.1235"), d("1.0235"), d("1.1000"), d("-1.0000")), "kW")),
    # Reactive power (kvar, signed) and apparent power (kVA) per phase.
    (0x02040100, "00 50 80", Quantity(d("-0.5000"), "kvar")),
    (0x02050300, "00 50 01", Quantity(d("1.5000"), "kVA")),
    # Power factor X.XXX, signed: the total, each phase, the block.
    (0x02060000, "66 08", Quantity(d("0.866"), "")),
    (0x02060300, "00 85", Quantity(d("-0.500"), "")),
    (0x0206FF00, "66 08 66 08 00 05 00 85",
     Quantity((d("0.866"), d("0.866"), d("0.500"), d("-0.500")), "")),
    # Energy XXXXXX.XX kWh per tariff: one tariff, the block total + tariffs 1..4, a phase.
    (0x00010300, "00 00 05 00", Quantity(d("500.00"), "kWh")),
    (0x0001FF00, "56 34 12 00 00 00 03 00 56 00 04 00 00 00 05 00 00 34 00 00",
     Quantity((d("1234.56"), d("300.00"), d("400.56"), d("500.00"), d("34.00")), "kWh")),
    (0x00020201, "50 00 00 00", Quantity(d("0.50"), "kWh")),  # tariff 2, last settlement
    (0x00150000, "12 34 00 00", Quantity(d("34.12"), "kWh")),  # phase A forward active
])
def test_reply_decodes_to_its_meaning(di: int, value: str, expected: Quantity) -> None:
    assert meaning(di, value) == expected


def test_demand_decodes_with_its_time() -> None:
    # 1.2345 kW at 2024-02-29 12:34: XX.XXXX then mm hh DD MM YY.
    quantity = meaning(0x01010000, "45 23 01 34 12 29 02 24")
    demand = quantity.value
    assert isinstance(demand, Record)
    assert demand["demand"] == Quantity(d("1.2345"), "kW")
    assert demand["time"] == Quantity(datetime.datetime(2024, 2, 29, 12, 34), "")
    assert str(quantity) == "demand 1.2345 kW; time 2024-02-29T12:34"


def test_demand_block_gives_each_tariff_its_demand_and_time() -> None:
    # The total and tariff 1 (a meter may send fewer elements than the block can hold).
    quantity = meaning(0x0101FF00, "45 23 01 34 12 29 02 24  00 00 01 00 08 01 03 24")
    total, tariff_1 = quantity.value
    assert total["demand"].value == d("1.2345")
    assert (tariff_1["demand"], tariff_1["time"].value) == (
        Quantity(d("1.0000"), "kW"), datetime.datetime(2024, 3, 1, 8, 0))


def test_combined_reactive_demand_is_signed() -> None:
    quantity = meaning(0x01030000, "00 50 80 00 00 15 06 25")
    assert quantity.value["demand"] == Quantity(d("-0.5000"), "kvar")
    assert quantity.value["time"].value == datetime.datetime(2025, 6, 15, 0, 0)


@pytest.mark.parametrize(("di", "value", "error"), [
    (0x0201FF00, "00 22 15 22 04 23 00 22", "DI 0201FF00.*not 1..3 elements"),  # a 4th phase
    (0x01010000, "45 23 01 34 12 30 02 24", "DI 01010000"),  # 30 February
    (0x02010300, "04", "DI 02010300.*expected 2 bytes"),
])
def test_a_reply_that_breaks_the_format_is_an_error_naming_the_di(di, value, error) -> None:
    with pytest.raises(ValueError, match=error):
        meaning(di, value)
