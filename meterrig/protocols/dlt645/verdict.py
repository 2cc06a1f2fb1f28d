"""What a meter sent, as a verdict can show it: the bytes in hex, then decoded as far as they go.

Verdicts must hold on meters nobody here wrote, so nothing in this module assumes the bytes are
a frame: the raw bytes are taken apart field by field from the first 68, and every field the
bytes do not reach is reported missing rather than raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from ...meter import MeterError
from . import commands as cmd
from .catalogue import CATALOGUE, format_di
from .frame import (
    ABNORMAL_BIT,
    DATA_OFFSET,
    DIRECTION_BIT,
    END,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    HEADER_LENGTH,
    PREAMBLE,
    START,
    WILDCARD_BYTE,
    Frame,
    FrameError,
    Function,
    decode,
    is_bcd,
)

SILENT = "silent"


@attrs.frozen
class RawFrame:
    """The fields of the first frame in ``raw``, as the bytes give them; None where they stop
    short. Nothing is validated here: the suites judge each field."""

    raw: bytes
    start: int | None  # index of the first 68; None: there is none
    second_start: int | None
    address: bytes | None  # as sent, lowest byte first
    control: int | None
    length: int | None  # L
    data: bytes  # the data bytes present, as sent (+33), at most L of them
    checksum: int | None
    end: int | None

    @classmethod
    def parse(cls, raw: bytes) -> RawFrame:
        raw = bytes(raw)
        start = raw.find(START)
        if start < 0:
            return cls(raw, None, None, None, None, None, b"", None, None)
        body = raw[start:]

        def at(i: int) -> int | None:
            return body[i] if i < len(body) else None

        length = at(9)
        data = body[HEADER_LENGTH:HEADER_LENGTH + (length or 0)]
        tail = HEADER_LENGTH + (length or 0)
        return cls(raw, start, at(7), body[1:7] if len(body) >= 7 else None, at(8), length,
                   data, at(tail) if length is not None else None,
                   at(tail + 1) if length is not None else None)

    @property
    def preamble(self) -> bytes:
        """The bytes before the first 68 (all of them when there is no 68)."""
        return self.raw if self.start is None else self.raw[:self.start]

    @property
    def complete(self) -> bool:
        return self.length is not None and len(self.data) == self.length

    @property
    def expected_checksum(self) -> int | None:
        """Sum mod 256 from the first 68 through the last data byte L calls for."""
        if self.start is None or not self.complete:
            return None
        return sum(self.raw[self.start:self.start + HEADER_LENGTH + len(self.data)]) & 0xFF

    @property
    def trailing(self) -> bytes:
        """Bytes after where the frame's 16 should be."""
        if self.start is None or self.length is None:
            return b""
        return self.raw[self.start + HEADER_LENGTH + self.length + 2:]

    def printed_address(self) -> str | None:
        return None if self.address is None else self.address[::-1].hex().upper()

    def fields(self) -> list[str]:
        """Each field the bytes reach, in words; a field they do not reach says so."""
        if not self.raw:
            return ["no bytes"]
        if self.start is None:
            return ["no 68 start byte: not a DL/T 645 frame"]
        out = []
        if any(b != PREAMBLE for b in self.preamble):
            out.append(f"{len(self.preamble)} byte(s) before the 68 are not all FE")
        address = self.printed_address()
        if address is None:
            return [*out, "the bytes stop inside the address"]
        bcd = "" if all(is_bcd(b) or b == WILDCARD_BYTE for b in self.address) else " (not BCD)"
        out.append(f"address {address}{bcd}")
        if self.second_start != START:
            out.append("second 68 missing" if self.second_start is None
                       else f"second start byte {self.second_start:02X}, not 68")
        if self.control is None:
            return [*out, "the bytes stop before the control code"]
        out.append(f"control {self.control:02X} ({control_meaning(self.control)})")
        if self.length is None:
            return [*out, "the bytes stop before L"]
        out.append(f"L={self.length}")
        plain = bytes((b - DATA_OFFSET) & 0xFF for b in self.data)
        if not self.complete:
            return [*out, f"only {len(self.data)} of the {self.length} data bytes came"]
        if plain:
            out.append(data_meaning(self.control, plain))
        expected = self.expected_checksum
        if self.checksum is None:
            return [*out, "the bytes stop before CS"]
        if self.checksum != expected:
            out.append(f"CS {self.checksum:02X} but the bytes sum to {expected:02X}")
        if self.end is None:
            return [*out, "the bytes stop before the end byte 16"]
        if self.end != END:
            out.append(f"end byte {self.end:02X}, not 16")
        if self.trailing:
            out.append(f"{len(self.trailing)} byte(s) after the frame")
        return out


def control_meaning(control: int) -> str:
    try:
        name = Function(control & FUNCTION_MASK).name.lower().replace("_", " ")
    except ValueError:
        name = f"function {control & FUNCTION_MASK:02X}"
    if not control & DIRECTION_BIT:
        return f"request {name}"
    kind = "abnormal reply" if control & ABNORMAL_BIT else "normal reply"
    return f"{kind} to {name}" + (", follow-up frames" if control & FOLLOW_UP_BIT else "")


def data_meaning(control: int, plain: bytes) -> str:
    """Plain (−33) data in words: an error byte, a DI and its value, or the bytes."""
    reply = control & DIRECTION_BIT
    function = control & FUNCTION_MASK
    if reply and control & ABNORMAL_BIT and len(plain) == 1:
        error = cmd.AbnormalReply(control, plain[0])
        return f"error byte {plain[0]:02X} ({', '.join(error.errors) or 'no bit set'})"
    if reply and function in (Function.READ, Function.READ_FOLLOW_UP) \
            and len(plain) >= cmd.DI_LENGTH:
        di = int.from_bytes(plain[:cmd.DI_LENGTH], "little")
        value = plain[cmd.DI_LENGTH:]
        if function == Function.READ_FOLLOW_UP:  # its last byte is SEQ
            value = value[:-1]
        if not value:
            return f"DI {format_di(di)} with no value"
        try:
            return f"DI {format_di(di)} = {CATALOGUE[di].decode(value)}"
        except (KeyError, ValueError) as exc:
            return f"DI {format_di(di)}, value {value.hex(' ').upper()} ({exc.args[0]})"
    return f"data {plain.hex(' ').upper()}"


def describe(raw: bytes) -> str:
    """'FE FE 68 … 16 (address …, control 91 (normal reply to read), L=8, DI … = …)'."""
    if not raw:
        return SILENT
    return f"{bytes(raw).hex(' ').upper()} ({'; '.join(RawFrame.parse(raw).fields())})"


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
