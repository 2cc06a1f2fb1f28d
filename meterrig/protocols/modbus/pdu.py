"""The PDUs an energy meter speaks, sans-IO and strict: function code + data.

Modbus application protocol V1.1b3 §6.3 (03), §6.4 (04), §6.12 (16), §7 (exceptions). Both ends
are here: the master builds requests and decodes replies, the simulated meter the reverse. A reply
to any other function decodes as far as it goes (OtherReply), so a meter that answers what it
should refuse is shown and judged, not a crash. The
builders take any count, so a suite can send what a meter must refuse; pymodbus's own PDU classes
refuse to build such requests (and to decode them exactly), so they serve as a cross-check in the
tests, not as the codec.
"""

from __future__ import annotations

import struct

import attrs

READ_COILS = 0x01  # a bit table: energy meters hold registers only and refuse it
READ_HOLDING = 0x03
READ_INPUT = 0x04
WRITE_MULTIPLE = 0x10
EXCEPTION_FLAG = 0x80
MAX_READ = 125  # registers in one read (§6.3: 1..125, the reply must fit 256 bytes)
MAX_WRITE = 123  # registers in one write (§6.12)

EXCEPTIONS = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "server device failure",
    0x05: "acknowledge",
    0x06: "server device busy",
}
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE = 0x01, 0x02, 0x03, 0x04


class PduError(ValueError):
    """A PDU whose length or contents do not fit its function code."""


def exception_name(code: int) -> str:
    return f"{code:02X} {EXCEPTIONS.get(code, 'unknown exception')}"


# -- requests ---------------------------------------------------------------------------------
@attrs.frozen
class ReadRequest:
    function: int
    address: int
    count: int

    def encode(self) -> bytes:
        return struct.pack(">BHH", self.function, self.address, self.count)


@attrs.frozen
class WriteRequest:
    address: int
    registers: tuple[int, ...]
    function = WRITE_MULTIPLE  # not a field: the PDU says it

    def encode(self) -> bytes:
        return struct.pack(f">BHHB{len(self.registers)}H", WRITE_MULTIPLE, self.address,
                           len(self.registers), 2 * len(self.registers), *self.registers)


@attrs.frozen
class OtherRequest:
    """A function a meter does not implement: it answers illegal function."""

    function: int
    data: bytes = b""

    def encode(self) -> bytes:
        return bytes([self.function]) + self.data


Request = ReadRequest | WriteRequest | OtherRequest


def decode_request(pdu: bytes) -> Request:
    """What a master asked; PduError when the PDU is malformed for its function (→ exception 03)."""
    if not pdu:
        raise PduError("empty PDU")
    function = pdu[0]
    if function in (READ_HOLDING, READ_INPUT):
        if len(pdu) != 5:
            raise PduError(f"function {function:02X} takes 4 data bytes, got {len(pdu) - 1}")
        return ReadRequest(function, *struct.unpack(">HH", pdu[1:]))
    if function == WRITE_MULTIPLE:
        if len(pdu) < 6:
            raise PduError(f"function 10 takes at least 5 data bytes, got {len(pdu) - 1}")
        address, count, byte_count = struct.unpack(">HHB", pdu[1:6])
        values = pdu[6:]
        if byte_count != 2 * count or len(values) != byte_count:
            raise PduError(f"function 10 for {count} registers carries byte count {byte_count} "
                           f"and {len(values)} bytes")
        return WriteRequest(address, struct.unpack(f">{count}H", values))
    return OtherRequest(function, pdu[1:])


# -- replies ----------------------------------------------------------------------------------
@attrs.frozen
class RegistersReply:
    function: int
    registers: tuple[int, ...]

    def encode(self) -> bytes:
        return struct.pack(f">BB{len(self.registers)}H", self.function, 2 * len(self.registers),
                           *self.registers)

    def describe(self) -> str:
        return (f"function {self.function:02X}, {len(self.registers)} registers "
                f"{' '.join(f'{r:04X}' for r in self.registers)}").rstrip()


@attrs.frozen
class WriteReply:
    address: int
    count: int
    function = WRITE_MULTIPLE  # not a field: the PDU says it

    def encode(self) -> bytes:
        return struct.pack(">BHH", WRITE_MULTIPLE, self.address, self.count)

    def describe(self) -> str:
        return f"function 10, wrote {self.address:04X}+{self.count}"


@attrs.frozen
class ExceptionReply:
    function: int  # the request's function code (without the 0x80 flag)
    code: int

    @property
    def name(self) -> str:
        return exception_name(self.code)

    def encode(self) -> bytes:
        return bytes([self.function | EXCEPTION_FLAG, self.code])

    def describe(self) -> str:
        return f"function {self.function | EXCEPTION_FLAG:02X}, exception {self.name}"


@attrs.frozen
class OtherReply:
    """A normal reply to a function this master does not decode (01 read coils, 06 …): its
    function code and data bytes as they came."""

    function: int
    data: bytes = b""

    def encode(self) -> bytes:
        return bytes([self.function]) + self.data

    def describe(self) -> str:
        return f"function {self.function:02X}, data {self.data.hex(' ').upper() or 'none'}"


Reply = RegistersReply | WriteReply | ExceptionReply | OtherReply


def decode_reply(pdu: bytes) -> Reply:
    """The reply a PDU carries; PduError only when it contradicts its own function code (a read
    reply whose byte count does not match, an exception reply of the wrong length)."""
    if not pdu:
        raise PduError("empty PDU")
    function = pdu[0]
    if function & EXCEPTION_FLAG:
        if len(pdu) != 2:
            raise PduError(f"an exception reply has 1 data byte, this one {len(pdu) - 1}")
        return ExceptionReply(function & ~EXCEPTION_FLAG, pdu[1])
    if function in (READ_HOLDING, READ_INPUT):
        if len(pdu) < 2 or pdu[1] % 2 or len(pdu) != 2 + pdu[1]:
            raise PduError(f"a read reply's byte count {pdu[1] if len(pdu) > 1 else '-'} does "
                           f"not match its {len(pdu) - 2} data bytes")
        return RegistersReply(function, struct.unpack(f">{pdu[1] // 2}H", pdu[2:]))
    if function == WRITE_MULTIPLE:
        if len(pdu) != 5:
            raise PduError(f"a write reply has 4 data bytes, this one {len(pdu) - 1}")
        return WriteReply(*struct.unpack(">HH", pdu[1:]))
    return OtherReply(function, pdu[1:])
