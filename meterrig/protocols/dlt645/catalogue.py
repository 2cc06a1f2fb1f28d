"""Data-identifier catalogue: what the bytes after a DI mean. The items are data (YAML with
sources); this module only knows how to turn each format into values and back."""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import attrs
import pydantic.version
from pydantic import BeforeValidator, ValidationInfo, field_validator, model_validator
from pydantic import Field as Key

from ... import datafile
from ...datafile import Schema, invalid, read, refused, report, settle
from ...parsed_cache import parsed
from .frame import CENTURY, from_bcd, to_bcd

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
DATE_FORMAT = "YYMMDDWW"  # wire order WW DD MM YY
TIME_FORMAT = "hhmmss"  # wire order ss mm hh
# Moments and calendar fields: BCD, one byte per field, sent lowest field first (the wire
# order is the format read backwards: YYMMDDhhmm travels mm hh DD MM YY).
MOMENT_FORMATS = {"YYMMDDhhmm": 5, "YYMMDDhhmmss": 6, "MMDDhhmm": 4, "DDhh": 2}
SIGN_BIT = 0x80  # in the highest byte of a signed value
# bcd: digits, lowest byte first; bits: a binary bit field, low byte first; record: a variable
# length record kept as its bytes (load records, whose layout the catalogue does not decode);
# ascii: text of the item's length, sent lowest byte first like every value (its last
# character first), the unused high bytes NUL.
ENCODINGS = ("bcd", "bits", "record", "ascii")
ASCII_FORMAT = "ASCII"  # the format of an ascii item: its length is the item's


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
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


@attrs.frozen
class Record:
    """A composite value: its parts in wire order, each a Quantity with its own unit
    (a maximum demand and its time: record["demand"], record["time"])."""

    parts: tuple[tuple[str, Quantity], ...]

    def __getitem__(self, name: str) -> Quantity:
        for part, quantity in self.parts:
            if part == name:
                return quantity
        raise KeyError(f"no part {name!r}; parts: {', '.join(p for p, _ in self.parts)}")

    def __str__(self) -> str:
        return "; ".join(f"{name} {quantity}" for name, quantity in self.parts)


def _format_length(format: str, label: str) -> int:
    """Bytes one value of this format takes."""
    fixed = {DATE_FORMAT: 4, TIME_FORMAT: 3, **MOMENT_FORMATS}.get(format)
    if fixed is not None:
        return fixed
    digits = format.replace(".", "")
    if set(digits) not in ({"X"}, {"N"}) or format.count(".") > 1:
        raise ValueError(f"{label}: unknown format {format!r}")
    # An odd digit count leaves the top nibble unused (1997 "XXX" voltage in 2 bytes).
    return (len(digits) + 1) // 2


@attrs.frozen
class Field:
    """One value inside a data item: a number, digits, a date, a time or a moment."""

    format: str
    unit: str
    signed: bool
    encoding: str
    label: str  # for messages: the DI and name of the item it belongs to
    size: int = 0  # bytes of an ascii field (its format does not say)

    @property
    def length(self) -> int:
        return self.size if self.encoding == "ascii" else _format_length(self.format, self.label)

    @property
    def _decimals(self) -> int:
        return len(self.format) - self.format.index(".") - 1 if "." in self.format else 0

    def decode(self, raw: bytes) -> Any:
        if self.encoding == "bits":
            return int.from_bytes(raw, "little")
        if self.encoding == "ascii":
            text = raw[::-1].rstrip(b"\0")
            if not text.isascii():
                raise ValueError(f"{raw.hex(' ').upper()} is not ASCII text")
            return text.decode("ascii")
        if self.format == DATE_FORMAT:
            return _decode_date(raw)
        if self.format == TIME_FORMAT:
            ss, mm, hh = (from_bcd(raw[i:i + 1]) for i in range(3))
            return datetime.time(hh, mm, ss)
        if self.format in MOMENT_FORMATS:
            return _decode_moment(self.format, raw)
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

    def encode(self, value: Any) -> bytes:
        if isinstance(value, Quantity):
            value = value.value
        if self.encoding == "bits":
            if not isinstance(value, int) or not 0 <= value < 1 << (8 * self.length):
                raise ValueError(f"{value!r} is not a {8 * self.length}-bit unsigned int")
            return value.to_bytes(self.length, "little")
        if self.encoding == "ascii":
            if not isinstance(value, str) or not value.isascii() or len(value) > self.length:
                raise ValueError(f"{value!r} is not ASCII text of at most {self.length} "
                                 "characters")
            return value.encode("ascii").ljust(self.length, b"\0")[::-1]
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
        if self.format in MOMENT_FORMATS:
            return _encode_moment(self.format, value)
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


class Entry(Schema):
    """One catalogue entry: a data item (DataItem adds its DI as a number), or a family of them
    (see CatalogueFile).

    A plain item has one format and unit. A composite item (a maximum demand and its time)
    has `parts`: one name per part, with `format` and `unit` listing each part's, comma
    separated ("XX.XXXX,YYMMDDhhmm", "kW,"); it decodes to a Record. `signed` applies to
    the numbers in it. A block (`block` elements at most) repeats the element: its
    `block_axis` says what the elements are (phases, tariffs, ...)."""

    di: str = Key(pattern=r"^([0-9A-F]{2}|\{\w+\})+$",
                    description="8 (2007) or 4 (1997) hex digits, in quotes; {axis} for a byte "
                                "that varies")
    name: str
    format: str  # "XXXXXX.XX", "YYMMDDWW", "hhmmss", "YYMMDDhhmm", "NNNNNNNNNNNN", "XXXX", ...
    unit: str
    length: int = Key(ge=0)  # bytes (of one element, for a block); 0 for a variable-length record
    signed: bool
    block: int | None = Key(None, ge=1)  # most elements a block read returns; None: not a block
    encoding: Literal[ENCODINGS] = "bcd"
    parts: tuple[str, ...] = Key((), strict=False)
    block_axis: str | None = None  # what the elements of a block are: "tariff", "phase", ...

    def layout(self) -> tuple[Field, ...]:
        """One Field a part; ValueError where format, units, parts and length disagree."""
        label = self._label()
        formats = self.format.split(",")
        units = self.unit.split(",") if self.parts else [self.unit]
        if self.parts and not len(self.parts) == len(formats) == len(units):
            raise ValueError(f"{label}: {len(self.parts)} parts need as many formats and "
                             f"units, got {self.format!r} and {self.unit!r}")
        if not self.parts and len(formats) > 1:
            raise ValueError(f"{label}: format {self.format!r} has several parts: name them")
        if self.encoding == "ascii" and (self.parts or self.format != ASCII_FORMAT):
            raise ValueError(f"{label}: an ascii item is one text of format {ASCII_FORMAT}")
        size = self.length if self.encoding == "ascii" else 0
        fields = tuple(Field(f, u, self.signed, self.encoding, label, size)
                       for f, u in zip(formats, units, strict=True))
        if self.encoding == "record":
            if self.length != 0:
                raise ValueError(f"{label}: a record has no fixed length; give length 0")
            return fields
        expected = sum(f.length for f in fields)
        if self.length != expected:
            raise ValueError(f"{label}: format {self.format!r} needs {expected} bytes, "
                             f"catalogue says {self.length}")
        return fields

    def _label(self) -> str:
        """What a message calls it (CatalogueFile adds the entry's DI template)."""
        return self.name


class DataItem(Entry):
    """What the bytes after one DI mean: a catalogue entry with its DI as a number."""

    di: int  # the entry's hex digits as a number
    di_length: int = 4  # 2 for DL/T 645-1997

    @model_validator(mode="after")
    def _format_fits(self) -> DataItem:
        try:
            self.layout()
        except ValueError as exc:
            raise refused(str(exc)) from None
        return self

    @functools.cached_property
    def fields(self) -> tuple[Field, ...]:
        return self.layout()

    def _label(self) -> str:
        return f"DI {format_di(self.di, self.di_length)} ({self.name})"

    @property
    def value_unit(self) -> str:
        """The unit of the decoded Quantity: a composite's parts carry their own."""
        return "" if self.parts else self.unit

    def decode(self, raw: bytes) -> Quantity:
        """Reply bytes (plain, after the DI) -> Quantity; ValueError names the DI."""
        raw = bytes(raw)
        unit = self.value_unit
        try:
            if self.encoding == "record":
                return Quantity(raw.hex(" ").upper(), unit)
            if self.block is None:
                return Quantity(self._decode_one(raw), unit)
            count, rest = divmod(len(raw), self.length)
            if rest or not 1 <= count <= self.block:
                raise ValueError(f"{len(raw)} bytes are not 1..{self.block} elements of "
                                 f"{self.length} bytes")
            elements = (raw[i:i + self.length] for i in range(0, len(raw), self.length))
            return Quantity(tuple(self._decode_one(e) for e in elements), unit)
        except ValueError as exc:
            raise ValueError(f"{self._label()}: {exc}") from None

    def encode(self, value: Any) -> bytes:
        """Value (as decode gives it) -> bytes; a block takes a sequence of element values,
        a composite item a Record or a mapping of part name to value."""
        try:
            if self.encoding == "record":
                return bytes.fromhex(value)
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
        if not self.parts:
            return self.fields[0].decode(raw)
        parts, offset = [], 0
        for name, part in zip(self.parts, self.fields, strict=True):
            parts.append((name, Quantity(part.decode(raw[offset:offset + part.length]),
                                         part.unit)))
            offset += part.length
        return Record(tuple(parts))

    def _encode_one(self, value: Any) -> bytes:
        if not self.parts:
            return self.fields[0].encode(value)
        if isinstance(value, Record):
            value = dict(value.parts)
        if not isinstance(value, Mapping) or set(value) != set(self.parts):
            raise ValueError(f"{value!r} is not a record of {', '.join(self.parts)}")
        return b"".join(part.encode(value[name])
                        for name, part in zip(self.parts, self.fields, strict=True))


def _decode_moment(format: str, raw: bytes) -> datetime.datetime | str:
    """YYMMDDhhmm[ss] -> datetime; MMDDhhmm and DDhh (no year) -> ISO-like text."""
    fields = [from_bcd(raw[i:i + 1]) for i in range(len(raw))][::-1]  # as printed
    if format == "MMDDhhmm":
        month, day, hour, minute = fields
        datetime.datetime(2000, month, day, hour, minute)  # 2000 is a leap year: 29 Feb passes
        return f"--{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"
    if format == "DDhh":
        day, hour = fields
        if not 1 <= day <= 28 or not 0 <= hour <= 23:
            raise ValueError(f"day {day} hour {hour} is no settlement day (DD 1..28, hh 0..23)")
        return f"day {day:02d} {hour:02d}h"
    yy, month, day, hour, minute, *second = fields
    return datetime.datetime(CENTURY + yy, month, day, hour, minute, *second)


def _encode_moment(format: str, value: Any) -> bytes:
    if format.startswith("YY"):
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"{value!r} is not a date and time")
        fields = [value.year - CENTURY, value.month, value.day, value.hour, value.minute]
        if format.endswith("ss"):
            fields.append(value.second)
    else:
        numbers = [int(n) for n in re.findall(r"\d+", str(value))]
        if len(numbers) != len(format) // 2:
            raise ValueError(f"{value!r} is not {format}")
        fields = numbers
    return b"".join(to_bcd(f, 1) for f in reversed(fields))


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
        """Read a catalogue YAML (CatalogueFile); ValueError lists its problems as FILE:LINE.
        Parsed once per version of the file and this code (meterrig/parsed_cache.py), and of
        pydantic: its items are pydantic models, whose pickles one version of it reads."""
        return parsed(path, cls._parse, Path(__file__), Path(datafile.__file__),
                      Path(pydantic.version.__file__))

    @classmethod
    def _parse(cls, path: Path) -> Catalogue:
        catalogue = read(path, CatalogueFile, what="catalogue")
        return cls(catalogue.items, catalogue.di_length)

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


class Axis(Schema):
    """How one DI byte varies within a family: its values (a hex byte range, "00-3F"), their
    names, and the name of the block that FF in that byte reads (None: no block)."""

    values: tuple[int, ...] = Key(description='a hex byte range, e.g. "00-3F"')
    # value (hex byte) -> name; other values are named by `other`
    names: dict[Annotated[int, BeforeValidator(lambda v: _byte(v))], str] = {}
    other: str = "{n}"  # "tariff {n}": n is the value in decimal
    block: str | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _range(cls, text: Any) -> tuple[int, ...]:
        first, _, last = str(text).partition("-")
        return tuple(range(_byte(first), _byte(last) + 1))

    def label(self, value: int) -> str:
        return self.names.get(value, self.other.format(n=value))


def _byte(text: Any) -> int:
    if isinstance(text, str) and re.fullmatch("[0-9A-Fa-f]{2}", text):
        return int(text, 16)
    raise invalid(f"got {text!r}", "a byte as 2 hex digits, in quotes")


class Section(Schema):
    source: str = Key(min_length=1)  # where its items come from
    items: list[Entry] = Key(min_length=1)


class CatalogueFile(Schema):
    """A catalogue YAML: di_length, axes, shapes (anchors that entries merge), then sections,
    each with a source and items. An item whose DI has {axis} in a byte is a family: one item
    per value of the axis (its name's {axis} takes the value's name), and, for an axis with a
    `block` name, the DI with FF in that byte, which reads the block of all of them."""

    di_length: Literal[2, 4]
    axes: dict[str, Axis] = {}
    shapes: dict[str, Any] = {}  # only for YAML anchors
    sections: list[Section] = Key(min_length=1)

    FILLED = ("items",)
    items: list[DataItem] = Key([], exclude=True)  # every entry expanded, set when read

    @model_validator(mode="after")
    def _expandable(self, info: ValidationInfo) -> CatalogueFile:
        found, seen, expanded = report(info), set(), []
        for s, section in enumerate(self.sections):
            for i, entry in enumerate(section.items):
                try:
                    entry.layout()  # once for a family: its members share the layout
                    items = _expand(entry, self.axes, self.di_length)
                except (KeyError, ValueError) as exc:
                    message = f"item {entry.di!r}: {exc}"
                    if found is None:
                        raise refused(message, at=("sections", s, "items", i)) from None
                    found.add(("sections", s, "items", i), message)
                    continue
                expanded += items
                for item in items:
                    if item.di in seen and found is not None:
                        found.add(("sections", s, "items", i, "di"),
                                  f"DI {format_di(item.di, self.di_length)} is in the "
                                  "catalogue twice")
                    seen.add(item.di)
        settle(self, items=expanded)
        return self


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _expand(data: Entry, axes: Mapping[str, Axis], di_length: int) -> list[DataItem]:
    """The items of one catalogue entry: itself, or every member of its family."""
    template = data.di
    entry = {**data.model_dump(exclude={"di"}), "di_length": di_length}
    byte_axes = []  # (byte index from the left, axis)
    text, index = template, 0
    while text:
        match = _PLACEHOLDER.match(text)
        if match:
            byte_axes.append((index, match.group(1), axes[match.group(1)]))
            text = text[match.end():]
        else:
            text = text[2:]
        index += 1
    if not byte_axes:
        return [DataItem(di=int(template, 16), **entry)]

    def di_of(values: dict[str, int]) -> int:
        return int(_PLACEHOLDER.sub(lambda m: f"{values[m.group(1)]:02X}", template), 16)

    def name_of(labels: dict[str, str]) -> str:
        return entry["name"].format(**labels)

    items = []
    choices = [[(name, v) for v in axis.values] for _, name, axis in byte_axes]
    for combination in itertools.product(*choices):
        values = dict(combination)
        labels = {name: axes[name].label(v) for name, v in values.items()}
        items.append(DataItem(di=di_of(values), **dict(entry, name=name_of(labels))))
    # FF in one axis' byte, every other axis at each of its values: the block of siblings.
    for _, name, axis in byte_axes:
        if axis.block is None:
            continue
        others = [c for (_, n, _), c in zip(byte_axes, choices, strict=True) if n != name]
        for combination in itertools.product(*others):
            values = dict(combination, **{name: 0xFF})
            labels = {n: axes[n].label(v) for n, v in combination}
            labels[name] = f"{axis.block} (block)"
            items.append(DataItem(di=di_of(values), **dict(
                entry, name=name_of(labels), block=len(axis.values), block_axis=name)))
    return items


CATALOGUE = Catalogue.load(CATALOGUE_PATH)
