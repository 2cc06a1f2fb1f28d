"""Data-identifier catalogue of DL/T 645-2007: content, value formats, round trips."""

import datetime
from decimal import Decimal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from meterrig.protocols.dlt645 import CATALOGUE, LIMITS, DataItem, Quantity, format_di
from meterrig.protocols.dlt645.catalogue import CATALOGUE_PATH, Field, Record

NOTES_DIS = [
    0x00000000, 0x00010000, 0x00020000, 0x0001FF00, 0x02010100, 0x02020100, 0x02030000,
    0x02060000, 0x02800002, 0x04000101, 0x04000102, 0x04000401, 0x04000402, 0x04000409,
    *range(0x04000501, 0x04000508),
]
APPENDIX_A_TARIFF_DIS = [base + tariff * 0x100 for base in (0x00010000, 0x00020000)
                         for tariff in range(1, 5)]


def bcd(n: int) -> int:
    return (n // 10) << 4 | n % 10


# Appendix A as the tables lay it out: (DI3, DI2) classes, each with the DI1 and DI0 ranges
# the sources give (see the catalogue's sections): energies per tariff and settlement day,
# per-phase variables, demand per tariff.
APPENDIX_A_FAMILIES = [
    *[((0x00, kind), range(0x00, 0x40), range(0x00, 0x0D)) for kind in range(0x00, 0x0B)],
    *[((0x00, kind), [0x00], range(0x00, 0x0D)) for base in (0x15, 0x29, 0x3D)
      for kind in range(base, base + 10)],
    *[((0x01, kind), range(0x00, 0x40), range(0x00, 0x0D)) for kind in range(0x01, 0x0B)],
    *[((0x02, kind), range(0x01, 0x04), [0x00]) for kind in (0x01, 0x02, 0x07, 0x08, 0x09)],
    *[((0x02, kind), range(0x00, 0x04), [0x00]) for kind in (0x03, 0x04, 0x05, 0x06)],
]


@pytest.mark.parametrize(("classes", "di1s", "di0s"), APPENDIX_A_FAMILIES,
                         ids=lambda v: "".join(f"{b:02X}" for b in v) if isinstance(v, tuple)
                         else None)
def test_catalogue_holds_appendix_a_families(classes, di1s, di0s) -> None:
    di3, di2 = classes
    dis = [di3 << 24 | di2 << 16 | di1 << 8 | di0 for di1 in di1s for di0 in di0s]
    assert all(di in CATALOGUE for di in dis)
    first = CATALOGUE[dis[0]]
    assert {(CATALOGUE[di].format, CATALOGUE[di].unit, CATALOGUE[di].length) for di in dis} \
        == {(first.format, first.unit, first.length)}
    # A DI3 DI2 class has no member outside the ranges: 0x40 is no tariff, 0x0D no day.
    assert di3 << 24 | di2 << 16 | (di1s[-1] + 1) << 8 | di0s[0] not in CATALOGUE
    assert di3 << 24 | di2 << 16 | di1s[0] << 8 | (di0s[-1] + 1) not in CATALOGUE


def test_catalogue_holds_the_notes_items() -> None:
    assert all(di in CATALOGUE for di in NOTES_DIS + APPENDIX_A_TARIFF_DIS)
    for di in APPENDIX_A_TARIFF_DIS:
        total = CATALOGUE[di & 0xFFFF00FF]
        item = CATALOGUE[di]
        assert (item.format, item.unit, item.length, item.signed) == (
            total.format, total.unit, total.length, total.signed)


def test_every_section_names_its_source() -> None:
    doc = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert all(section["source"] for section in doc["sections"])
    for table in ("A.1", "A.2", "A.3", "A.4", "A.5", "A.6", "A.7"):
        assert any(f"Table {table}" in section["source"] for section in doc["sections"])


def test_lookup() -> None:
    assert CATALOGUE[0x00010000].name == "forward active energy, total"
    assert CATALOGUE[0x00010201].name == "forward active energy, tariff 2, settlement 1 back"
    assert CATALOGUE[0x02010300].name == "phase C voltage"
    assert 0x02010100 in CATALOGUE and 0x12345678 not in CATALOGUE
    assert CATALOGUE.get(0x12345678) is None
    with pytest.raises(KeyError, match="DI 12345678"):
        CATALOGUE[0x12345678]


def test_format_di() -> None:
    assert format_di(0x00010000) == "00010000"
    assert format_di(0x0001FF00) == "0001FF00"
    assert format_di(0xB611, 2) == "B611"


@pytest.mark.parametrize(
    ("di", "raw", "value", "text"),
    [
        (0x00010000, "02 00 00 00", Decimal("0.02"), "0.02 kWh"),
        (0x00010000, "56 34 12 00", Decimal("1234.56"), "1234.56 kWh"),
        (0x00000000, "00 00 00 80", Decimal("-0.00"), "-0.00 kWh"),
        (0x00000000, "01 00 00 81", Decimal("-10000.01"), "-10000.01 kWh"),
        (0x02010100, "01 22", Decimal("220.1"), "220.1 V"),
        (0x02020100, "01 00 80", Decimal("-0.001"), "-0.001 A"),
        (0x02030000, "00 50 12", Decimal("12.5000"), "12.5000 kW"),
        (0x02060000, "00 85", Decimal("-0.500"), "-0.500"),
        (0x02800002, "00 50", Decimal("50.00"), "50.00 Hz"),
        (0x04000101, "04 29 02 24", datetime.date(2024, 2, 29), "2024-02-29"),  # a Thursday
        (0x04000101, "00 05 01 25", datetime.date(2025, 1, 5), "2025-01-05"),  # Sunday = 0
        (0x04000102, "56 34 12", datetime.time(12, 34, 56), "12:34:56"),
        (0x04000401, "61 01 00 00 00 00", "000000000161", "000000000161"),
        (0x04000409, "00 20 00", 2000, "2000 imp/kWh"),
        (0x04000501, "10 00", 0x0010, "16"),  # bit 4: active power reversed
        (0x04000503, "00 01", 0x0100, "256"),  # a bit field, not BCD
        (0x0001FF00, "00 01 00 00 00 00 00 00", (Decimal("1.00"), Decimal("0.00")),
         "1.00, 0.00 kWh"),
        # Composite: maximum demand XX.XXXX and its time, mm hh DD MM YY on the wire.
        (0x01010000, "45 23 01 34 12 29 02 24",
         Record((("demand", Quantity(Decimal("1.2345"), "kW")),
                 ("time", Quantity(datetime.datetime(2024, 2, 29, 12, 34), "")))),
         "demand 1.2345 kW; time 2024-02-29T12:34"),
        (0x03050000, "12 00 00 30 01 00", Record((("count", Quantity(12, "")),
                                                  ("time", Quantity(130, "min")))),
         "count 12; time 130 min"),
        (0x04000106, "00 00 01 04 25", datetime.datetime(2025, 4, 1), "2025-04-01T00:00"),
        (0x04000A01, "15 00 29 02", "--02-29T00:15", "--02-29T00:15"),  # no year
        (0x04000B01, "00 01", "day 01 00h", "day 01 00h"),
        (0x06000000, "A0 A0 05", "A0 A0 05", "A0 A0 05"),  # a load record is kept as bytes
    ],
)
def test_known_values(di: int, raw: str, value: object, text: str) -> None:
    item = CATALOGUE[di]
    quantity = item.decode(bytes.fromhex(raw))
    assert quantity == Quantity(value, item.value_unit)
    assert str(quantity) == text
    assert item.encode(quantity.value) == bytes.fromhex(raw)


def test_decimal_values_stay_exact() -> None:
    value = CATALOGUE[0x00010000].decode(bytes.fromhex("02 00 00 00")).value
    assert isinstance(value, Decimal)
    assert value == Decimal("0.02") and value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("di", "raw", "message"),
    [
        (0x00010000, "0A 00 00 00", "DI 00010000.*not BCD"),
        (0x00010000, "02 00 00", "DI 00010000.*expected 4 bytes, got 3"),
        (0x04000101, "03 29 02 24", "DI 04000101.*weekday 3"),
        (0x04000101, "00 30 02 24", "DI 04000101"),  # 30 February
        (0x04000102, "60 00 00", "DI 04000102"),  # second 60
        (0x04000401, "61 01 00 00 00 AA", "DI 04000401.*not BCD"),
        (0x0001FF00, "00 00 00 00 00", "DI 0001FF00.*not 1..64 elements"),
        (0x0001FF00, "", "DI 0001FF00"),
    ],
)
def test_decode_errors_name_the_di(di: int, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CATALOGUE[di].decode(bytes.fromhex(raw))


@pytest.mark.parametrize(
    ("di", "value", "message"),
    [
        (0x00010000, Decimal("0.005"), "more decimals"),
        (0x00010000, Decimal("-1"), "negative"),
        (0x00010000, Decimal("1000000"), "does not fit"),
        (0x00000000, Decimal("800000"), "does not fit"),  # the sign takes the top bit
        (0x00010000, "abc", "not a number"),
        (0x00010000, True, "not a number"),
        (0x04000401, "00000000016", "12 decimal digits"),
        (0x04000501, 0x10000, "16-bit"),
        (0x04000101, "2024-02-29", "not a date"),
        (0x04000102, datetime.date(2024, 1, 1), "not a time"),
        (0x0001FF00, [Decimal(0)] * 65, "65 elements"),
    ],
)
def test_encode_errors_name_the_di(di: int, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"DI {format_di(di)}.*{message}"):
        CATALOGUE[di].encode(value)


def test_encode_takes_plain_numbers() -> None:
    voltage = CATALOGUE[0x02010100]
    assert voltage.encode(230.1) == voltage.encode(Decimal("230.1")) == bytes.fromhex("01 23")
    assert voltage.encode("230.1") == bytes.fromhex("01 23")
    assert voltage.encode(230) == bytes.fromhex("00 23")
    assert CATALOGUE[0x00000000].encode(Decimal("-799999.99")) == bytes.fromhex("99 99 99 F9")


def test_block_holds_the_total_and_every_tariff() -> None:
    block = CATALOGUE[0x0001FF00]
    assert block.block == LIMITS["tariffs"]["max"] + 1
    # A full block is longer than one reply may be: it needs follow-up frames.
    assert 4 + block.length * block.block > LIMITS["frame"]["data_length_max"]["reply"]


def test_item_format_and_length_must_agree() -> None:
    with pytest.raises(ValueError, match="needs 4 bytes"):
        DataItem(di=0x00010000, name="x", format="XXXXXX.XX", unit="kWh", length=3,
                 signed=False)
    with pytest.raises(ValueError, match="unknown format"):
        DataItem(di=0x00010000, name="x", format="XX.X.X", unit="kWh", length=2,
                 signed=False)


# --- round trips for every item ----------------------------------------------------------------


def _bcd_bytes(digits: list[int]) -> bytes:
    """Digits most significant first -> bytes lowest first."""
    pairs = [digits[i] << 4 | digits[i + 1] for i in range(0, len(digits), 2)]
    return bytes(reversed(pairs))


@st.composite
def _element(draw: st.DrawFn, item: DataItem) -> bytes:
    """Valid bytes for one element of ``item``, built without the codec."""
    return b"".join(draw(_field(f)) for f in item.fields)


@st.composite
def _field(draw: st.DrawFn, item: Field) -> bytes:
    """Valid bytes for one field, built without the codec."""
    if item.encoding == "bits":
        return draw(st.binary(min_size=item.length, max_size=item.length))
    if item.encoding == "ascii":  # text, its last character first, the high bytes NUL
        text = draw(st.text(st.characters(min_codepoint=1, max_codepoint=127),
                            max_size=item.length))
        return bytes(item.length - len(text)) + text.encode("ascii")[::-1]
    if item.format == "YYMMDDWW":
        d = draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)))
        return bytes([d.isoweekday() % 7, bcd(d.day), bcd(d.month), bcd(d.year - 2000)])
    if item.format == "hhmmss":
        t = draw(st.times())
        return bytes([bcd(t.second), bcd(t.minute), bcd(t.hour)])
    if item.format.startswith(("YY", "MM")):
        m = draw(st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31)))
        fields = [m.year - 2000, m.month, m.day, m.hour, m.minute, m.second]
        start = 0 if item.format.startswith("YY") else 1
        return bytes(bcd(f) for f in reversed(fields[start:start + len(item.format) // 2]))
    if item.format == "DDhh":
        return bytes([bcd(draw(st.integers(0, 23))), bcd(draw(st.integers(1, 28)))])
    digits = draw(st.lists(st.integers(0, 9), min_size=2 * item.length, max_size=2 * item.length))
    if item.signed:
        digits[0] = draw(st.integers(0, 7))
        raw = bytearray(_bcd_bytes(digits))
        raw[-1] |= draw(st.sampled_from([0, 0x80]))
        return bytes(raw)
    return _bcd_bytes(digits)


def _shape(item: DataItem) -> tuple:
    return (item.format, item.unit, item.signed, item.block, item.encoding, item.parts)


# One item of every shape the catalogue has: the families repeat a shape thousands of times.
SHAPES = sorted({_shape(CATALOGUE[di]): di for di in sorted(CATALOGUE, reverse=True)}.values())


@pytest.mark.parametrize("di", SHAPES, ids=format_di)
@given(data=st.data())
def test_every_item_shape_round_trips(di: int, data: st.DataObject) -> None:
    item = CATALOGUE[di]
    if item.encoding == "record":
        raw = data.draw(st.binary(max_size=200))
        assert item.encode(item.decode(raw).value) == raw
        return
    count = data.draw(st.integers(1, item.block)) if item.block else 1
    raw = b"".join(data.draw(_element(item)) for _ in range(count))
    quantity = item.decode(raw)
    assert quantity.unit == item.value_unit
    assert item.encode(quantity.value) == raw
    assert item.decode(item.encode(quantity.value)) == quantity
