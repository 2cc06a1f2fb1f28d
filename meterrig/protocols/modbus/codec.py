"""The Modbus RTU codec as the master engine uses it (meterrig.master.Codec)."""

from __future__ import annotations

import attrs

from ...master import Encoded
from ...meter import MeterError
from . import pdu as pdus
from . import rtu
from .answer import Answer, exception, judge, normal_reply


@attrs.frozen
class Addressed:
    """A request PDU for one device id."""

    device_id: int
    pdu: pdus.Request


class ModbusException(MeterError):
    """The meter answered with an exception reply."""

    def __init__(self, message: str, reply: pdus.ExceptionReply) -> None:
        super().__init__(message)
        self.reply = reply


class WrongReply(MeterError):
    """A whole frame came that does not answer the request (another device, a malformed PDU,
    another function's reply); the message is its outcome."""


class ModbusCodec:
    check_errors = (ModbusException, WrongReply)
    mismatch_errors = (WrongReply,)

    def encode(self, request: Addressed) -> Encoded:
        return Encoded(rtu.encode(request.device_id, request.pdu.encode()))

    def splitter(self) -> rtu.ReplySplitter:
        return rtu.ReplySplitter()

    def decode(self, frame: bytes) -> rtu.Adu:
        return rtu.decode(frame)

    def check(self, request: Addressed, reply: rtu.Adu) -> None:
        function = request.pdu.function
        outcome, pdu = judge(request.device_id, function, reply)
        if isinstance(pdu, pdus.ExceptionReply) and outcome == exception(pdu.code):
            raise ModbusException(outcome, pdu)
        if outcome != normal_reply(function):
            raise WrongReply(outcome)

    def shown(self, raw: bytes, error: Exception) -> str:
        return Answer(b"", raw).shown()
