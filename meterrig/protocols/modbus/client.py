"""Modbus RTU master: turns "read the voltage of device 1" into exchanges on a link.

It runs on meterrig's Link, not on a pymodbus transport, so each exchange is timed and traced
like any other on the rig, and a suite can send what a pymodbus client refuses to build (a bad
CRC, a broadcast read, 126 registers). Retries are counted, never hidden.
"""

from __future__ import annotations

import attrs

from ...link.exchange import Exchange
from ...link.serial_link import Link
from ...meter import GarbledReply, MeterError, NoReply
from . import pdu as pdus
from . import rtu
from .answer import Answer, exception, normal_reply
from .registers import RegisterMap

# A reply that pauses this long is over: longer than any USB adapter's latency timer (16 ms by
# default), far shorter than a retry. A gap over t1.5 already voids an RTU frame.
REPLY_GAP_LIMIT_S = 0.1
TABLE_NAMES = {pdus.READ_HOLDING: "holding", pdus.READ_INPUT: "input"}


class ModbusException(MeterError):
    """The meter answered with an exception reply."""

    def __init__(self, message: str, reply: pdus.ExceptionReply) -> None:
        super().__init__(message)
        self.reply = reply


@attrs.frozen
class Transaction:
    request: bytes  # the frame sent
    reply: rtu.Adu | None  # None: no whole frame came (`answer` shows what did)
    exchanges: tuple[Exchange, ...]

    @property
    def retries(self) -> int:
        return len(self.exchanges) - 1

    @property
    def answer(self) -> Answer:
        """What the last attempt heard, decoded as far as it goes."""
        return Answer(self.request, self.exchanges[-1].reply)


def describe(request: pdus.Request) -> str:
    match request:
        case pdus.ReadRequest(function=function, address=address, count=count):
            return (f"read {TABLE_NAMES.get(function, f'function {function:02X}')} registers "
                    f"{address:04X}+{count}")
        case pdus.WriteRequest(address=address, registers=registers):
            return f"write holding registers {address:04X}+{len(registers)}"
        case _:
            return f"function {request.function:02X}"


class ModbusClient:
    def __init__(self, link: Link, device_id: int, register_map: RegisterMap, *,
                 reply_window: float = 1.0, retries: int = 1) -> None:
        self.link = link
        self.device_id = device_id
        self.register_map = register_map
        self.reply_window = reply_window
        self.retries = retries
        self.retries_used = 0

    def __repr__(self) -> str:
        return f"ModbusClient(bus={self.link.name!r}, device_id={self.device_id})"

    # -- one frame, with retries -------------------------------------------------------------
    def send(self, frame: bytes, *, label: str, expect_reply: bool = True,
             retries: int | None = None) -> Transaction:
        """Send a frame as it is (spoilt frames too) and return what came back. A frame that
        should get silence (expect_reply=False) is listened to for one reply window, not retried.
        When a reply was due and none came whole: NoReply, or GarbledReply showing the bytes."""
        attempts = 1 + ((self.retries if retries is None else retries) if expect_reply else 0)
        transaction = self._attempt(frame, label, attempts)
        if transaction.reply is None and expect_reply:
            where = f"device {self.device_id} on bus {self.link.name}"
            answer = transaction.answer
            if answer.silent:
                raise NoReply(f"{where}: no reply to {label} within "
                              f"{self.reply_window * 1e3:.0f} ms")
            raise GarbledReply(f"{where}: garbled reply to {label}: {answer.shown()}",
                               ValueError(answer.raw))
        return transaction

    def _attempt(self, frame: bytes, label: str, attempts: int) -> Transaction:
        """Up to `attempts` exchanges, until one brings a whole frame (good length and CRC)."""
        exchanges: list[Exchange] = []
        reply: rtu.Adu | None = None
        for attempt in range(1, attempts + 1):
            exchange = self.link.exchange(frame, rtu.ReplySplitter(),
                                          reply_window=self.reply_window,
                                          byte_gap_limit=REPLY_GAP_LIMIT_S, label=label,
                                          attempt=attempt)
            exchanges.append(exchange)
            reply = Answer(frame, exchange.reply).adu
            if reply is not None:
                break
        self.retries_used += len(exchanges) - 1
        return Transaction(frame, reply, tuple(exchanges))

    def ask(self, request: pdus.Request, *, label: str = "") -> Answer:
        """Send a request to this device and return whatever came back (retried while nothing
        whole came). Judging it is the caller's job: this never raises for what the device did."""
        label = label or f"{describe(request)} from device {self.device_id}"
        frame = rtu.encode(self.device_id, request.encode())
        return self._attempt(frame, label, 1 + self.retries).answer

    def transact(self, request: pdus.Request, *, label: str = "") -> pdus.Reply:
        """Send a request to this device; check the reply answers it. Anything else raises a
        MeterError showing the bytes: ModbusException for an exception reply, NoReply, or
        GarbledReply (noise, another device's frame, a malformed PDU, another function's reply).
        """
        label = label or f"{describe(request)} from device {self.device_id}"
        answer = self.send(rtu.encode(self.device_id, request.encode()), label=label).answer
        reply, outcome = answer.reply, answer.outcome()
        where = f"device {self.device_id} on bus {self.link.name}: reply to {label}"
        if isinstance(reply, pdus.ExceptionReply) and outcome == exception(reply.code):
            raise ModbusException(f"{where}: {outcome}", reply)
        if reply is None or outcome != normal_reply(request.function):
            raise GarbledReply(f"{where} is {answer}", ValueError(answer.raw))
        return reply

    # -- registers ---------------------------------------------------------------------------
    def read_registers(self, function: int, address: int, count: int) -> tuple[int, ...]:
        request = pdus.ReadRequest(function, address, count)
        reply = self.transact(request)
        if not isinstance(reply, pdus.RegistersReply) or len(reply.registers) != count:
            raise GarbledReply(f"device {self.device_id}: {describe(request)} gave "
                               f"{reply.describe()}", ValueError(reply))
        return reply.registers

    def write_registers(self, address: int, registers: tuple[int, ...]) -> None:
        request = pdus.WriteRequest(address, tuple(registers))
        reply = self.transact(request)
        if reply != pdus.WriteReply(address, len(registers)):
            raise GarbledReply(f"device {self.device_id}: {describe(request)} was echoed as "
                               f"{reply.describe()}", ValueError(reply))

    def read(self, name: str) -> float | int:
        """One mapped value, in its unit ("voltage" -> 230.2)."""
        register = self.register_map[name]
        return register.decode(self.read_registers(register.function, register.address,
                                                   register.count))

    def write(self, name: str, value: float | int) -> None:
        register = self.register_map[name]
        self.write_registers(register.address, register.encode(value))
