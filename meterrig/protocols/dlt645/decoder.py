"""`meterrig decode` for DL/T 645 frames: each field in words, each wrong byte by its offset.

The 2007 and 1997 versions share the frame (frame.py) and differ in function codes, DI length,
catalogue and error bits; a frame whose function the version does not know still decodes, but
ranks below the version that knows it (decoding.best).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from ...decoding import (
    CHECKED,
    KNOWN,
    MASKED,
    NOT_A_FRAME,
    SHAPE,
    SHAPE_KNOWN,
    Decode,
    Decoded,
    Wire,
)
from . import commands, v1997
from .catalogue import CATALOGUE, Catalogue, DataItem, Quantity, format_di
from .frame import (
    ABNORMAL_BIT,
    DIRECTION_BIT,
    END,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    HEADER_LENGTH,
    PREAMBLE,
    REPLY_DATA_MAX,
    START,
    WILDCARD_BYTE,
    WRITE_REQUEST_DATA_MAX,
    Function,
    RawFrame,
    is_bcd,
)
from .spec import DLT645_1997, DLT645_2007


@attrs.frozen
class Version:
    name: str
    functions: type[enum.IntEnum]
    catalogue: Catalogue
    error_bits: Mapping[int, str]
    read: int  # the read function code: its request carries a DI, its reply DI and value
    read_follow_up: int
    read_address: int | None  # the read-address function (its reply carries the address)
    write: int | None  # the write function whose request L has its own limit (limits file)

    def function_name(self, function: int) -> str | None:
        """"read follow up" for D4..D0 12; None: not a function of this version."""
        try:
            return self.functions(function).name.lower().replace("_", " ")
        except ValueError:
            return None


VERSION_2007 = Version(DLT645_2007, Function, CATALOGUE, commands.ERROR_BITS, Function.READ,
                       Function.READ_FOLLOW_UP, Function.READ_ADDRESS, Function.WRITE)
VERSION_1997 = Version(DLT645_1997, v1997.Function1997, v1997.CATALOGUE, v1997.ERROR_BITS,
                       v1997.Function1997.READ, v1997.Function1997.READ_FOLLOW_UP, None, None)


def decoder_2007(map_name: str | None) -> Decode:
    """A DL/T 645 frame needs no map: the catalogue says what each DI holds."""
    return lambda wire, previous: decode(VERSION_2007, wire)


def decoder_1997(map_name: str | None) -> Decode:
    return lambda wire, previous: decode(VERSION_1997, wire)


def decode(version: Version, wire: Wire) -> Decoded | None:
    """None when there is no 68 start byte: then the bytes are not a DL/T 645 frame."""
    raw = wire.data
    frame = RawFrame.parse(raw)
    if frame.start is None:
        return None
    start = frame.start
    problems = [f"byte {i} (preamble): {b:02X}, expected FE"
                for i, b in enumerate(frame.preamble) if b != PREAMBLE]
    if frame.length is None:
        return Decoded(version.name, NOT_A_FRAME, problems=(
            *problems, f"byte {len(raw)}: the bytes stop inside the header (68, address, 68, "
                       f"C, L: {HEADER_LENGTH} bytes)"))
    problems += [f"byte {start + 1 + i} (address A{i}): {b:02X}, expected BCD or AA"
                 for i, b in enumerate(frame.address) if not (is_bcd(b) or b == WILDCARD_BYTE)]
    if frame.second_start != START:
        problems.append(f"byte {start + 7} (second 68): {frame.second_start:02X}, expected 68")
    control, length, checksum_at = frame.control, frame.length, frame.checksum_at
    function = control & FUNCTION_MASK
    reply = bool(control & DIRECTION_BIT)
    limit = REPLY_DATA_MAX if reply else (
        WRITE_REQUEST_DATA_MAX if function == version.write else None)
    if limit is not None and length > limit:
        problems.append(f"byte {start + 9} (L): {length}, over the limit of {limit}")
    shape = not problems
    checksum_good = False
    checked = ""
    if frame.end is None:
        problems.append(f"byte {len(raw)}: the bytes stop there, L={length} calls for "
                        f"{checksum_at + 2 - start} bytes from the 68")
        shape = False
    else:
        if wire.any_masked(start, checksum_at):
            checked = "CS not checked: masked bytes"
            checksum_good = True
        else:
            checksum_good = frame.checksum == frame.expected_checksum
            if not checksum_good:
                problems.append(f"byte {checksum_at} (CS): {frame.checksum:02X}, expected "
                                f"{frame.expected_checksum:02X}")
        if frame.end != END:
            problems.append(f"byte {checksum_at + 1} (end): {frame.end:02X}, expected 16")
            shape = False
        if frame.trailing:
            problems.append(f"byte {checksum_at + 2}: {len(frame.trailing)} byte(s) "
                            "after the frame's 16")
    name = version.function_name(function)
    known = name is not None
    if name is None:
        name = f"(D4..D0 {function:02X}: not a {version.name} function)"
    if reply:
        name = f"{name}, {'abnormal' if control & ABNORMAL_BIT else 'normal'} reply" + (
            ", follow-up frames" if control & FOLLOW_UP_BIT else "")
    meaning = _data(version, wire, frame, problems)
    notes = (checked,) if checked else ()
    if not shape:
        fit = NOT_A_FRAME
    elif checksum_good:
        fit = KNOWN if known else CHECKED
    else:
        fit = SHAPE_KNOWN if known else SHAPE
    return Decoded(version.name, fit, "reply" if reply else "request",
                   frame.printed_address(), f"{control:02X} {name}",
                   notes=notes, problems=tuple(problems), **meaning)


@attrs.frozen
class Content:
    """A data field (33 taken off) read by its frame's function: an abnormal reply's error byte,
    the DI of a read with its catalogue item and, in a reply, its value, or a meter's address;
    all None when it is none of these."""

    error: commands.AbnormalReply | None = None
    di: int | None = None
    item: DataItem | None = None  # None: the DI is not in the catalogue
    value: bytes | None = None  # after the DI (a follow-up reply's SEQ taken off); None: request
    quantity: Quantity | None = None  # the value decoded
    problem: str = ""  # why the value does not decode
    address: str | None = None  # a read-address reply's


def content(version: Version, control: int, plain: bytes, di_readable: bool = True) -> Content:
    """What the data field holds; `di_readable` False: the DI bytes are masked in a trace."""
    function = control & FUNCTION_MASK
    reply = bool(control & DIRECTION_BIT)
    if reply and control & ABNORMAL_BIT and len(plain) == 1:
        return Content(error=commands.AbnormalReply(control, plain[0], version.error_bits))
    di_length = version.catalogue.di_length
    if function in (version.read, version.read_follow_up) and len(plain) >= di_length \
            and di_readable:
        di = int.from_bytes(plain[:di_length], "little")
        item = version.catalogue.get(di)
        if not reply:
            return Content(di=di, item=item)
        value = plain[di_length:]
        if function == version.read_follow_up:
            value = value[:-1]  # its last byte is SEQ
        if item is None or not value:
            return Content(di=di, item=item, value=value)
        try:
            return Content(di=di, item=item, value=value, quantity=item.decode(value))
        except ValueError as exc:
            return Content(di=di, item=item, value=value, problem=str(exc))
    if function == version.read_address and reply and len(plain) == commands.ADDRESS_LENGTH:
        return Content(address=plain[::-1].hex().upper())
    return Content()


def _data(version: Version, wire: Wire, frame: RawFrame, problems: list[str]) -> dict[str, str]:
    """The data field in words: DI and value, error bits, an address, or its bytes."""
    first, plain = frame.data_at, frame.plain
    if not plain:
        return {}
    di_length = version.catalogue.di_length
    read = content(version, frame.control, plain,
                   not wire.any_masked(first, first + di_length))
    if read.error is not None:
        return {"value": f"error byte {read.error.error_byte:02X}: "
                         f"{', '.join(read.error.errors) or 'no bit set'}"}
    if read.di is not None:
        shown = f"DI {format_di(read.di, di_length)}" + (
            f" ({read.item.name})" if read.item else "")
        if not read.value:
            return {"item": shown}
        if read.item is None:
            return {"item": f"{shown}, not in the catalogue", "value": read.value.hex(" ").upper()}
        if read.problem:
            problems.append(f"byte {first + di_length} (value): {read.problem}")
            return {"item": shown, "value": read.value.hex(" ").upper()}
        return {"item": shown, "value": str(read.quantity)}
    if read.address is not None:
        return {"value": f"meter address {read.address}"}
    shown = " ".join(MASKED if first + i in wire.masked else f"{b:02X}"
                     for i, b in enumerate(plain))
    return {"value": f"data {shown}"}
