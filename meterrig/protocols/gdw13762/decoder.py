"""`meterrig decode` for Q/GDW 1376.2 frames: C, R, A, AFN/Fn and the data unit in words, the
DL/T 645 frame a 13 F1 (02 F1, 06 F2, 14 F1, F1 F1) carries decoded too, every wrong byte
named by its offset. The layout edition is the one the data unit fits (2013 first)."""

from __future__ import annotations

import attrs

from ...decoding import (
    CHECKED,
    KNOWN,
    NOT_A_FRAME,
    SHAPE,
    SHAPE_KNOWN,
    Decode,
    Decoded,
    Wire,
    best,
)
from ..dlt645.spec import DLT645_1997, DLT645_2007
from ..registry import get
from . import units as u
from .frame import START, BadChecksum, DownInfo, Frame, FrameError, decode
from .spec import GDW1376_2
from .tables import (
    EDITION_2009,
    EDITION_2013,
    deny_reason,
    function_name,
    mode_name,
    protocol_name,
    read_flag_name,
)

# The protocol byte (tables.yaml protocols) -> the registered protocol whose decoder reads it.
CARRIED = {1: DLT645_1997, 2: DLT645_2007}


def decoder(map_name: str | None) -> Decode:
    """A 1376.2 frame needs no map: the tables say what each AFN/Fn holds."""
    return lambda wire, previous: decode_frame(wire)


def decode_frame(wire: Wire) -> Decoded | None:
    """None when the bytes do not start with 68 (they are no 1376.2 frame)."""
    raw = wire.data
    if not raw or raw[0] != START:
        return None
    problems: list[str] = []
    notes: list[str] = []
    checked = True
    try:
        try:
            frame = decode(raw)
        except BadChecksum as exc:  # read on as if the CS were right, to say what else is
            checked = False
            if wire.masked:
                notes.append("CS not checked: masked bytes")
            else:
                problems.append(str(exc))
            frame = decode(raw[:exc.offset] + bytes((exc.expected,)) + raw[exc.offset + 1:])
    except FrameError as exc:
        return Decoded(GDW1376_2, NOT_A_FRAME, problems=(*problems, str(exc)))
    name = function_name(frame.key)
    unit, value = _unit(frame, len(raw), problems, notes)
    fit = (KNOWN if name else CHECKED) if checked or wire.masked else (
        SHAPE_KNOWN if name else SHAPE)
    return Decoded(
        GDW1376_2, fit, "request" if frame.control.prm else "reply",
        frame.address.destination if frame.address else None,
        f"{frame.key} ({name or 'not in the notes'})", _header(frame), value,
        notes=tuple(notes), problems=tuple(problems), detail=frame)


def _header(frame: Frame) -> str:
    c = frame.control
    info = frame.info
    words = [f"C {c.byte:02X} ({'up' if c.uplink else 'down'}, PRM {int(c.prm)}, mode {c.mode} "
             f"{mode_name(c.mode)})", f"seq {info.seq}"]
    if info.bypass_routing:
        words.append("routing bypassed")
    if info.relay_level:
        words.append(f"relay level {info.relay_level}")
    if info.channel:
        words.append(f"channel {info.channel}")
    if isinstance(info, DownInfo):
        words += [w for w, on in (("attached node", info.attached_node),
                                  ("conflict detection", info.conflict_detection)) if on]
        if info.ecc:
            words.append(f"ECC {info.ecc}")
        words.append(f"reply {info.reply_bytes} bytes")
        if info.rate.value:
            words.append(f"rate {info.rate}")
    else:
        words += [f"phase {info.phase}", f"signal quality command {info.command_quality} / "
                  f"reply {info.reply_quality}"]
        if info.meter_channel:
            words.append(f"meter channel {info.meter_channel}")
        if info.event:
            words.append("event pending")
    if frame.address:
        a = frame.address
        words.append(f"A1 {a.source}" + "".join(f", relay {r}" for r in a.relays)
                     + f", A3 {a.destination}")
    return "R: " + ", ".join(words)


def _unit(frame: Frame, length: int, problems: list[str], notes: list[str]
          ) -> tuple[u.Unit | None, str | None]:
    """The data unit in words, in the edition it fits; its problems name the frame's byte."""
    if u.layout(frame.key, frame.control.uplink) is None:
        return None, f"data {frame.data.hex(' ').upper()}" if frame.data else None
    first = length - 2 - len(frame.data)
    readings = {}
    errors = {}
    for edition in (EDITION_2013, EDITION_2009):
        try:
            readings[edition] = u.read_unit(frame.key, frame.control.uplink, frame.data, edition)
        except u.UnitError as exc:
            errors[edition] = exc
    if not readings:
        exc = errors[EDITION_2013]
        problems.append(f"byte {first + exc.offset} ({frame.key} {exc.field}): {exc.message}")
        return None, f"data {frame.data.hex(' ').upper()}"
    if EDITION_2013 not in readings:
        notes.append("2009 layout")
    elif EDITION_2009 in readings and readings[EDITION_2009] != readings[EDITION_2013]:
        notes.append("fits the 2009 layout too; read as 2013")
    unit = readings.get(EDITION_2013, readings.get(EDITION_2009))
    return unit, _words(unit)


def _words(unit: u.Unit) -> str | None:
    if isinstance(unit, u.Deny):
        return f"deny code {unit.code} ({deny_reason(unit.code)})"
    if isinstance(unit, u.Confirm):
        return (f"{'processed' if unit.processed else 'not processed'}, wait {unit.wait_s} s, "
                f"idle channels {unit.channels_idle:08X}")
    fields = []
    for field in attrs.fields(type(unit)):
        value = getattr(unit, field.name)
        if field.name == "frame":
            continue
        if field.name == "protocol":
            value = f"{value} ({protocol_name(value)})"
        elif field.name == "read_flag":
            value = f"{value} ({read_flag_name(value)})"
        elif isinstance(value, bytes):
            value = value.hex(" ").upper()
        fields.append(f"{field.name.replace('_', ' ')} {value}")
    frame = getattr(unit, "frame", None)
    if frame is not None:
        fields.append(f"frame {frame.hex(' ').upper() or '(none)'}")
        # The protocol byte names the carried frame's protocol; 14 F1 has none: either.
        protocol = getattr(unit, "protocol", None)
        inner = [CARRIED[protocol]] if protocol in CARRIED else (
            list(CARRIED.values()) if protocol is None else [])
        if inner and frame:
            reading = best(Wire(frame), {n: get(n).load("decoder")(None) for n in inner}, None)
            fields.append(f"inside: {reading.text()}")
    return ", ".join(fields) or None
