"""Modbus RTU master: turns "read the voltage of device 1" into exchanges on a link.

It runs on meterrig's Link, not on a pymodbus transport, so each exchange is timed and traced
like any other on the rig, and a suite can send what a pymodbus client refuses to build (a bad
CRC, a broadcast read, 126 registers). The commands are said here in the field's words; sending,
retries (counted, never hidden) and reply checks are the master engine's.
"""

from __future__ import annotations

from ... import master
from ...link.serial_link import Link
from ...meter import GarbledReply
from . import pdu as pdus
from . import rtu
from .answer import Answer
from .codec import Addressed, ModbusCodec, ModbusException, WrongReply
from .registers import RegisterMap

# A reply that pauses this long is over: longer than any USB adapter's latency timer (16 ms by
# default), far shorter than a retry. A gap over t1.5 already voids an RTU frame.
REPLY_GAP_LIMIT_S = 0.1
TABLE_NAMES = {pdus.READ_HOLDING: "holding", pdus.READ_INPUT: "input"}


class Transaction(master.Transaction):
    @property
    def answer(self) -> Answer:
        """What the last attempt heard, decoded as far as it goes."""
        return Answer(self.exchanges[-1].request, self.raw)


def describe(request: pdus.Request) -> str:
    match request:
        case pdus.ReadRequest(function=function, address=address, count=count):
            return (f"read {TABLE_NAMES.get(function, f'function {function:02X}')} registers "
                    f"{address:04X}+{count}")
        case pdus.WriteRequest(address=address, registers=registers):
            return f"write holding registers {address:04X}+{len(registers)}"
        case _:
            return f"function {request.function:02X}"


class ModbusClient(master.OnMaster):
    def __init__(self, link: Link, device_id: int, register_map: RegisterMap, *,
                 reply_window: float = 1.0, retries: int = 1) -> None:
        self.device_id = device_id
        self.register_map = register_map
        self.master: master.Master[Addressed, rtu.Adu] = master.Master(
            link, ModbusCodec(), reply_window=reply_window, byte_gap_limit=REPLY_GAP_LIMIT_S,
            retries=retries, transaction=Transaction)

    def __repr__(self) -> str:
        return f"ModbusClient(bus={self.link.name!r}, device_id={self.device_id})"

    # -- one frame, with retries -------------------------------------------------------------
    def send(self, frame: bytes, *, label: str, expect_reply: bool = True,
             retries: int | None = None) -> Transaction:
        """Send a frame as it is (spoilt frames too) and return what came back. A frame that
        should get silence (expect_reply=False) is listened to for one reply window, not retried.
        When a reply was due and none came whole: NoReply, or GarbledReply showing the bytes."""
        if retries is None:
            retries = self.retries if expect_reply else 0
        return self.master.send_raw(frame, label=label, target=f"device {self.device_id}",
                                    expect_reply=expect_reply, retries=retries)

    def _transact(self, request: pdus.Request, label: str, device_id: int | None,
                  expect_reply: bool) -> tuple[str, Transaction]:
        device_id = self.device_id if device_id is None else device_id
        label = label or f"{describe(request)} from device {device_id}"
        return label, self.master.transact(Addressed(device_id, request), label=label,
                                           target=f"device {device_id}",
                                           expect_reply=expect_reply, retries=self.retries)

    def ask(self, request: pdus.Request, *, label: str = "",
            device_id: int | None = None) -> Answer:
        """Send a request to this device (or to `device_id`) and return whatever came back
        (retried while nothing whole came). Judging it is the caller's job: this never raises
        for what the device did."""
        return self._transact(request, label, device_id, expect_reply=False)[1].answer

    def transact(self, request: pdus.Request, *, label: str = "") -> pdus.Reply:
        """Send a request to this device; the reply must answer it. Anything else raises a
        MeterError showing the bytes: ModbusException for an exception reply, NoReply, or
        GarbledReply (noise, another device's frame, a malformed PDU, another function's reply).
        """
        label, transaction = self._transact(request, label, None, expect_reply=True)
        where = f"device {self.device_id} on bus {self.link.name}: reply to {label}"
        match transaction.error:
            case ModbusException() as error:
                raise ModbusException(f"{where}: {error}", error.reply)
            case WrongReply() as error:
                raise GarbledReply(f"{where} is {error}: {transaction.answer.shown()}", error)
        return pdus.decode_reply(transaction.reply.pdu)

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
