"""What a device sent back to one request, decoded as far as it goes: the ground of every verdict
on a Modbus reply. Silence, noise, a frame from the wrong device, a malformed PDU and a normal
reply where an exception was due are all answers to judge and show, never a crash.
"""

from __future__ import annotations

import attrs

from . import pdu as pdus
from . import rtu

SILENCE = "silence"


def normal_reply(function: int) -> str:
    """The outcome of a reply that does what the request asked."""
    return f"a normal reply to function {function:02X}"


def exception(code: int) -> str:
    """The outcome of an exception reply with this code to the request's function."""
    return f"exception {pdus.exception_name(code)}"


def judge(device_id: int, function: int, adu: rtu.Adu) -> tuple[str, pdus.Reply | None]:
    """A whole reply frame against the request's device id and function: the outcome in a few
    words, and the reply PDU (None: malformed)."""
    try:
        reply = pdus.decode_reply(adu.pdu)
    except pdus.PduError:
        reply = None
    if adu.device_id != device_id:
        return f"a reply from device {adu.device_id}", reply
    if reply is None:
        return f"a malformed reply to function {function:02X}", None
    if reply.function != function:
        return f"a reply with function {adu.function:02X} to function {function:02X}", reply
    if isinstance(reply, pdus.ExceptionReply):
        return exception(reply.code), reply
    return normal_reply(function), reply


@attrs.frozen
class Answer:
    request: bytes  # the frame sent
    raw: bytes  # every byte that came back, as it came (b"": silence)

    @property
    def silent(self) -> bool:
        return not self.raw

    @property
    def adu(self) -> rtu.Adu | None:
        """The reply frame, if the bytes are one (length and CRC good)."""
        try:
            return rtu.decode(self.raw)
        except rtu.RtuError:
            return None

    @property
    def reply(self) -> pdus.Reply | None:
        """The reply PDU, if the frame is good and its PDU agrees with its function code."""
        adu = self.adu
        try:
            return None if adu is None else pdus.decode_reply(adu.pdu)
        except pdus.PduError:
            return None

    def outcome(self) -> str:
        """The answer in a few words, to compare with what was due: "silence",
        "exception 02 illegal data address", "a normal reply to function 01", ..."""
        if self.silent:
            return SILENCE
        adu = self.adu
        if adu is None:
            return "a reply that is not a frame"
        return judge(self.request[0], self.request[1], adu)[0]

    def shown(self) -> str:
        """The bytes in hex and what they say, as far as they go:
        "01 01 01 00 51 88 = device 1, function 01, data 01 00"."""
        if self.silent:
            return SILENCE
        raw = self.raw
        text = raw.hex(" ").upper()
        if len(raw) < rtu.MIN_FRAME:
            return f"{text} = {len(raw)} byte(s), too short for a frame"
        parts = [f"device {raw[0]}"]
        try:
            parts.append(pdus.decode_reply(raw[1:-2]).describe())
        except pdus.PduError as exc:
            parts.append(f"function {raw[1]:02X}, {exc}")
        try:
            rtu.decode(raw)
        except rtu.RtuError as exc:
            parts.append(str(exc))
        return f"{text} = {', '.join(parts)}"

    def __str__(self) -> str:
        return f"{self.outcome()}: {self.shown()}" if self.raw else SILENCE
