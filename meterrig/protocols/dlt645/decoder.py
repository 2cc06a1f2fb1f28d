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
from .catalogue import CATALOGUE, Catalogue, format_di
from .frame import (
    ABNORMAL_BIT,
    DATA_OFFSET,
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
    start = raw.find(START)
    if start < 0:
        return None
    problems = [f"byte {i} (preamble): {raw[i]:02X}, expected FE"
                for i in range(start) if raw[i] != PREAMBLE]
    header_end = start + HEADER_LENGTH
    if len(raw) < header_end:
        return Decoded(version.name, NOT_A_FRAME, problems=(
            *problems, f"byte {len(raw)}: the bytes stop inside the header (68, address, 68, "
                       f"C, L: {HEADER_LENGTH} bytes)"))
    address_raw = raw[start + 1:start + 7]
    problems += [f"byte {start + 1 + i} (address A{i}): {b:02X}, expected BCD or AA"
                 for i, b in enumerate(address_raw) if not (is_bcd(b) or b == WILDCARD_BYTE)]
    if raw[start + 7] != START:
        problems.append(f"byte {start + 7} (second 68): {raw[start + 7]:02X}, expected 68")
    control, length = raw[start + 8], raw[start + 9]
    function = control & FUNCTION_MASK
    reply = bool(control & DIRECTION_BIT)
    limit = REPLY_DATA_MAX if reply else (
        WRITE_REQUEST_DATA_MAX if function == version.write else None)
    if limit is not None and length > limit:
        problems.append(f"byte {start + 9} (L): {length}, over the limit of {limit}")
    checksum_at = header_end + length
    shape = not problems
    checksum_good = False
    checked = ""
    if len(raw) < checksum_at + 2:
        problems.append(f"byte {len(raw)}: the bytes stop there, L={length} calls for "
                        f"{checksum_at + 2 - start} bytes from the 68")
        shape = False
    else:
        if wire.any_masked(start, checksum_at):
            checked = "CS not checked: masked bytes"
            checksum_good = True
        else:
            expected = sum(raw[start:checksum_at]) & 0xFF
            checksum_good = raw[checksum_at] == expected
            if not checksum_good:
                problems.append(f"byte {checksum_at} (CS): {raw[checksum_at]:02X}, expected "
                                f"{expected:02X}")
        if raw[checksum_at + 1] != END:
            problems.append(f"byte {checksum_at + 1} (end): {raw[checksum_at + 1]:02X}, "
                            "expected 16")
            shape = False
        if len(raw) > checksum_at + 2:
            problems.append(f"byte {checksum_at + 2}: {len(raw) - checksum_at - 2} byte(s) "
                            "after the frame's 16")
    try:
        name = version.functions(function).name.lower().replace("_", " ")
        known = True
    except ValueError:
        name, known = f"(D4..D0 {function:02X}: not a {version.name} function)", False
    if reply:
        name = f"{name}, {'abnormal' if control & ABNORMAL_BIT else 'normal'} reply" + (
            ", follow-up frames" if control & FOLLOW_UP_BIT else "")
    data_end = min(checksum_at, len(raw))
    meaning = _data(version, wire, control, header_end, data_end, problems)
    notes = (checked,) if checked else ()
    if not shape:
        fit = NOT_A_FRAME
    elif checksum_good:
        fit = KNOWN if known else CHECKED
    else:
        fit = SHAPE_KNOWN if known else SHAPE
    return Decoded(version.name, fit, "reply" if reply else "request",
                   address_raw[::-1].hex().upper(), f"{control:02X} {name}",
                   notes=notes, problems=tuple(problems), **meaning)


def _data(version: Version, wire: Wire, control: int, first: int, end: int,
          problems: list[str]) -> dict[str, str]:
    """The data field (sent +33) in words: DI and value, error bits, an address, or its bytes."""
    plain = bytes((b - DATA_OFFSET) & 0xFF for b in wire.data[first:end])
    function = control & FUNCTION_MASK
    if not plain:
        return {}
    if control & DIRECTION_BIT and control & ABNORMAL_BIT and len(plain) == 1:
        error = commands.AbnormalReply(control, plain[0], version.error_bits)
        return {"value": f"error byte {plain[0]:02X}: {', '.join(error.errors) or 'no bit set'}"}
    di_length = version.catalogue.di_length
    if function in (version.read, version.read_follow_up) and len(plain) >= di_length \
            and not wire.any_masked(first, first + di_length):
        di = int.from_bytes(plain[:di_length], "little")
        item = version.catalogue.get(di)
        shown = f"DI {format_di(di, di_length)}" + (f" ({item.name})" if item else "")
        value = plain[di_length:]
        if function == version.read_follow_up and control & DIRECTION_BIT:
            value = value[:-1]  # its last byte is SEQ
        if not control & DIRECTION_BIT or not value:
            return {"item": shown}
        if item is None:
            return {"item": f"{shown}, not in the catalogue", "value": value.hex(" ").upper()}
        try:
            return {"item": shown, "value": str(item.decode(value))}
        except ValueError as exc:
            problems.append(f"byte {first + di_length} (value): {exc}")
            return {"item": shown, "value": value.hex(" ").upper()}
    if function == version.read_address and control & DIRECTION_BIT \
            and len(plain) == commands.ADDRESS_LENGTH:
        return {"value": f"meter address {plain[::-1].hex().upper()}"}
    shown = " ".join(MASKED if first + i in wire.masked else f"{b:02X}"
                     for i, b in enumerate(plain))
    return {"value": f"data {shown}"}
