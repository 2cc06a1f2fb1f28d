"""What a meter sent, as a verdict can show it: the bytes in hex, then decoded as far as they go.

Verdicts must hold on meters nobody here wrote, so nothing in this module assumes the bytes are
a frame: they are taken apart field by field from the first 68 (frame.RawFrame, as `meterrig
decode` takes them), the data field is read as the decoder reads it (decoder.content), and every
field the bytes do not reach is reported missing rather than raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from ...meter import MeterError
from . import commands as cmd
from .catalogue import format_di
from .decoder import VERSION_2007, content
from .frame import (
    ABNORMAL_BIT,
    DIRECTION_BIT,
    END,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    PREAMBLE,
    START,
    WILDCARD_BYTE,
    Frame,
    FrameError,
    RawFrame,
    decode,
    is_bcd,
)

SILENT = "silent"


def fields(frame: RawFrame) -> list[str]:
    """Each field the bytes reach, in words; a field they do not reach says so."""
    if not frame.raw:
        return ["no bytes"]
    if frame.start is None:
        return ["no 68 start byte: not a DL/T 645 frame"]
    out = []
    if any(b != PREAMBLE for b in frame.preamble):
        out.append(f"{len(frame.preamble)} byte(s) before the 68 are not all FE")
    if frame.address is None:
        return [*out, "the bytes stop inside the address"]
    bcd = "" if all(is_bcd(b) or b == WILDCARD_BYTE for b in frame.address) else " (not BCD)"
    out.append(f"address {frame.printed_address()}{bcd}")
    if frame.second_start != START:
        out.append("second 68 missing" if frame.second_start is None
                   else f"second start byte {frame.second_start:02X}, not 68")
    if frame.control is None:
        return [*out, "the bytes stop before the control code"]
    out.append(f"control {frame.control:02X} ({control_meaning(frame.control)})")
    if frame.length is None:
        return [*out, "the bytes stop before L"]
    out.append(f"L={frame.length}")
    if not frame.complete:
        return [*out, f"only {len(frame.data)} of the {frame.length} data bytes came"]
    if frame.data:
        out.append(data_meaning(frame.control, frame.plain))
    if frame.checksum is None:
        return [*out, "the bytes stop before CS"]
    if frame.checksum != frame.expected_checksum:
        out.append(f"CS {frame.checksum:02X} but the bytes sum to {frame.expected_checksum:02X}")
    if frame.end is None:
        return [*out, "the bytes stop before the end byte 16"]
    if frame.end != END:
        out.append(f"end byte {frame.end:02X}, not 16")
    if frame.trailing:
        out.append(f"{len(frame.trailing)} byte(s) after the frame")
    return out


def control_meaning(control: int) -> str:
    function = control & FUNCTION_MASK
    name = VERSION_2007.function_name(function) or f"function {function:02X}"
    if not control & DIRECTION_BIT:
        return f"request {name}"
    kind = "abnormal reply" if control & ABNORMAL_BIT else "normal reply"
    return f"{kind} to {name}" + (", follow-up frames" if control & FOLLOW_UP_BIT else "")


def data_meaning(control: int, plain: bytes) -> str:
    """Plain (−33) data in words: an error byte, a DI and its value, or the bytes."""
    read = content(VERSION_2007, control, plain)
    if read.error is not None:
        return f"error byte {read.error.error_byte:02X} " \
               f"({', '.join(read.error.errors) or 'no bit set'})"
    if read.di is None:
        return f"data {plain.hex(' ').upper()}"
    di = f"DI {format_di(read.di)}"
    if read.value is None:
        return di
    if not read.value:
        return f"{di} with no value"
    problem = "not in the catalogue" if read.item is None else read.problem
    if problem:
        return f"{di}, value {read.value.hex(' ').upper()} ({problem})"
    return f"{di} = {read.quantity}"


def describe(raw: bytes) -> str:
    """'FE FE 68 … 16 (address …, control 91 (normal reply to read), L=8, DI … = …)'."""
    if not raw:
        return SILENT
    return f"{bytes(raw).hex(' ').upper()} ({'; '.join(fields(RawFrame.parse(raw)))})"


@attrs.frozen
class Answer:
    """How a meter answered one request: silent, garbled, wrong reply, abnormal or normal."""

    kind: str
    raw: bytes
    frame: Frame | None = None
    error_byte: int | None = None
    problem: str = ""

    @property
    def address(self) -> str | None:
        """The address the reply carried, garbled or not."""
        return RawFrame.parse(self.raw).printed_address()

    def __str__(self) -> str:
        if self.kind == SILENT:
            return SILENT
        problem = f": {self.problem}" if self.problem else ""
        return f"{self.kind}{problem}: {describe(self.raw)}"


def answer_to(request: Frame, transaction: Any) -> Answer:
    """Classify the last reply of a transaction (the client's, any number of attempts)."""
    raw = transaction.exchanges[-1].reply if transaction.exchanges else b""
    if not raw:
        return Answer(SILENT, b"")
    try:
        frame = _first_frame(raw)
    except FrameError as exc:
        return Answer("garbled reply", raw, problem=str(exc))
    try:
        cmd.check_reply(request, frame)
    except cmd.AbnormalReply as exc:
        return Answer("abnormal reply", raw, frame, exc.error_byte)
    except cmd.ReplyMismatch as exc:
        return Answer("wrong reply", raw, frame, problem=str(exc))
    return Answer("normal reply", raw, frame)


def _first_frame(raw: bytes) -> Frame:
    start = raw.find(START)
    return decode(raw if start < 0 else raw[start:])


@contextmanager
def as_verdict(verify: Any, what: str, clause_key: str, key: str = "reply",
               at: dict | None = None) -> Iterator[None]:
    """Inside the block, a meter's unexpected answer (silence, a garbled frame, an abnormal or
    mismatched reply, a value that does not decode) becomes a FAIL that shows what came
    (measurement `key` at `at`, recorded only then)."""
    try:
        yield
    except (MeterError, cmd.AbnormalReply, cmd.ReplyMismatch) as exc:
        verify.equal(what, explain(exc), "a normal reply", clause_key, key=key, at=at)


def explain(exc: Exception) -> str:
    """An exception from the client, with the reply bytes it carries described."""
    raw = getattr(exc, "reply", b"")  # a garbled frame's bytes are in its message already
    return f"{exc}; reply {describe(raw)}" if raw else str(exc)
