"""Data-identifier catalogue: what the bytes after a DI mean. The items are data (YAML with
sources); this module only knows how to turn each format into values and back."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import yaml

from .frame import CENTURY, from_bcd, to_bcd

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
DATE_FORMAT = "YYMMDDWW"  # wire order WW DD MM YY
TIME_FORMAT = "hhmmss"  # wire order ss mm hh
SIGN_BIT = 0x80  # in the highest byte of a signed value
ENCODINGS = ("bcd", "bits")


def format_di(di: int, length: int = 4) -> str:
    """DI as printed, DI3 first: format_di(0x00010000) == "00010000"."""
    return f"{di:0{2 * length}X}"


@attrs.frozen
class Quantity:
    value: Any  # Decimal | int | str | datetime.date | datetime.time | tuple of these
    unit: str = ""

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            text = ", ".join(_text(v) for v in self.value)
        else:
            text = _text(self.value)
        return f"{text} {self.unit}" if self.unit else text


def _text(value: Any) -> str:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


@attrs.frozen
class DataItem:
    di: int = attrs.field(repr=hex)
    name: str
    format: str  # "XXXXXX.XX", "YYMMDDWW", "hhmmss", "NNNNNNNNNNNN" (digits), "XXXX"
    unit: str
    length: int  # bytes (of one element, for a block)
    signed: bool
    block: int | None = None  # most elements a block read returns; None = not a block
    encoding: str = attrs.field(default="bcd", validator=attrs.validators.in_(ENCODINGS))
    di_length: int = 4  # 2 for DL/T 645-1997

    def __attrs_post_init__(self) -> None:
        expected = {DATE_FORMAT: 4, TIME_FORMAT: 3}.get(self.format)
        if expected is None:
            digits = self.format.replace(".", "")
            if set(digits) not in ({"X"}, {"N"}) or self.format.count(".") > 1:
                raise ValueError(f"{self._label()}: unknown format {self.format!r}")
            # An odd digit count leaves the top nibble unused (1997 "XXX" voltage in 2 bytes).
            expected = (len(digits) + 1) // 2
        if self.length != expected:
            raise ValueError(f"{self._label()}: format {self.format!r} needs {expected} bytes, "
                             f"catalogue says {self.length}")

    def _label(self) -> str:
        return f"DI {format_di(self.di, self.di_length)} ({self.name})"

    @property
    def _decimals(self) -> int:
        return len(self.format) - self.format.index(".") - 1 if "." in self.format else 0

    def decode(self, raw: bytes) -> Quantity:
        """Reply bytes (plain, after the DI) -> Quantity; ValueError names the DI."""
        raw = bytes(raw)
        try:
            if self.block is None:
                return Quantity(self._decode_one(raw), self.unit)
            count, rest = divmod(len(raw), self.length)
            if rest or not 1 <= count <= self.block:
                raise ValueError(f"{len(raw)} bytes are not 1..{self.block} elements of "
                                 f"{self.length} bytes")
            elements = (raw[i:i + self.length] for i in range(0, len(raw), self.length))
            return Quantity(tuple(self._decode_one(e) for e in elements), self.unit)
        except ValueError as exc:
            raise ValueError(f"{self._label()}: {exc}") from None

    def encode(self, value: Any) -> bytes:
        """Value (as decode gives it) -> bytes; a block takes a sequence of element values."""
        try:
            if self.block is None:
                return self._encode_one(value)
            values = tuple(value)
            if not 1 <= len(values) <= self.block:
                raise ValueError(f"{len(values)} elements are not 1..{self.block}")
            return b"".join(self._encode_one(v) for v in values)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self._label()}: {exc}") from None

    def _decode_one(self, raw: bytes) -> Any:
        if len(raw) != self.length:
            raise ValueError(f"expected {self.length} bytes, got {len(raw)}")
        if self.encoding == "bits":
            return int.from_bytes(raw, "little")
        if self.format == DATE_FORMAT:
            return _decode_date(raw)
        if self.format == TIME_FORMAT:
            ss, mm, hh = (from_bcd(raw[i:i + 1]) for i in range(3))
            return datetime.time(hh, mm, ss)
        if self.format.startswith("N"):
            from_bcd(raw)  # rejects non-decimal digits
            return raw[::-1].hex()
        return self._decode_number(raw)

    def _decode_number(self, raw: bytes) -> Decimal | int:
        magnitude = bytearray(raw)
        negative = self.signed and bool(raw[-1] & SIGN_BIT)
        if self.signed:
            magnitude[-1] &= ~SIGN_BIT
        number = from_bcd(bytes(magnitude))
        if not self._decimals:
            return -number if negative else number
        # copy_negate keeps the sign of zero, so a -0.00 reading re-encodes to the same bytes.
        value = Decimal(number).scaleb(-self._decimals)
        return value.copy_negate() if negative else value

    def _encode_one(self, value: Any) -> bytes:
        if self.encoding == "bits":
            if not isinstance(value, int) or not 0 <= value < 1 << (8 * self.length):
                raise ValueError(f"{value!r} is not a {8 * self.length}-bit unsigned int")
            return value.to_bytes(self.length, "little")
        if self.format == DATE_FORMAT:
            if not isinstance(value, datetime.date):
                raise TypeError(f"{value!r} is not a date")
            weekday = value.isoweekday() % 7  # 0 = Sunday
            fields = (weekday, value.day, value.month, value.year - CENTURY)
            return b"".join(to_bcd(f, 1) for f in fields)
        if self.format == TIME_FORMAT:
            if not isinstance(value, datetime.time):
                raise TypeError(f"{value!r} is not a time")
            return b"".join(to_bcd(f, 1) for f in (value.second, value.minute, value.hour))
        if self.format.startswith("N"):
            if not isinstance(value, str) or len(value) != 2 * self.length or not (
                value.isascii() and value.isdigit()
            ):
                raise ValueError(f"{value!r} is not {2 * self.length} decimal digits")
            return bytes.fromhex(value)[::-1]
        return self._encode_number(value)

    def _encode_number(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise TypeError(f"{value!r} is not a number")
        try:
            # str() first so a float is taken as printed (230.1, not its binary expansion).
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        negative = number.is_signed()
        if negative and not self.signed:
            raise ValueError(f"{value} is negative but the item is unsigned")
        scaled = number.copy_abs().scaleb(self._decimals)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more decimals than {self.format}")
        # A signed item gives up the top bit of its highest digit to the sign.
        top_digit_max = 7 if self.signed else 9
        limit = (top_digit_max + 1) * 10 ** (2 * self.length - 1)
        if int(scaled) >= limit:
            raise ValueError(f"{value} does not fit in {self.format}")
        raw = bytearray(to_bcd(int(scaled), self.length))
        if negative:
            raw[-1] |= SIGN_BIT
        return bytes(raw)


def _decode_date(raw: bytes) -> datetime.date:
    weekday, day, month, yy = (from_bcd(raw[i:i + 1]) for i in range(4))
    date = datetime.date(CENTURY + yy, month, day)
    if weekday != date.isoweekday() % 7:
        raise ValueError(f"weekday {weekday} does not match {date.isoformat()} "
                         f"(weekday {date.isoweekday() % 7}, 0 = Sunday)")
    return date


class Catalogue(Mapping[int, DataItem]):
    """DI -> DataItem; iterating gives the DIs, like any mapping."""

    def __init__(self, items: Iterable[DataItem], di_length: int = 4) -> None:
        self.di_length = di_length
        self._items: dict[int, DataItem] = {}
        for item in items:
            if item.di in self._items:
                raise ValueError(f"DI {format_di(item.di, di_length)} is in the catalogue twice")
            self._items[item.di] = item

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read a catalogue YAML: di_length, then sections each with a source and items."""
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        di_length = doc["di_length"]
        items = []
        for section in doc["sections"]:
            if not section.get("source"):
                raise ValueError(f"{path.name}: a section has no source")
            for entry in section["items"]:
                fields = dict(entry, di=int(entry["di"], 16), di_length=di_length)
                items.append(DataItem(**fields))
        return cls(items, di_length)

    def __getitem__(self, di: int) -> DataItem:
        try:
            return self._items[di]
        except KeyError:
            raise KeyError(f"DI {format_di(di, self.di_length)} is not in the catalogue") from None

    def __contains__(self, di: object) -> bool:
        return di in self._items

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


CATALOGUE = Catalogue.load(CATALOGUE_PATH)
