"""Modbus RTU framing, sans-IO: ADU = device id + PDU + CRC-16/MODBUS (low byte first).

Modbus over serial line V1.02 §2.5.1: frames are delimited by silences (t3.5), a gap over t1.5
inside a frame voids it, and a frame is 4 to 256 bytes.
"""

from __future__ import annotations

import attrs

BROADCAST = 0
MIN_FRAME = 4
MAX_FRAME = 256
# Above 19200 bit/s the spec fixes the silent intervals instead of scaling them with the rate.
FIXED_INTERVALS_ABOVE = 19200
FIXED_T15_S = 750e-6
FIXED_T35_S = 1.750e-3


class RtuError(ValueError):
    """Bytes that are not a valid RTU frame."""


class CrcError(RtuError):
    pass


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS: init 0xFFFF, reflected polynomial 0xA001, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def encode(device_id: int, pdu: bytes) -> bytes:
    body = bytes([device_id]) + pdu
    return body + crc16(body).to_bytes(2, "little")


@attrs.frozen
class Adu:
    device_id: int
    pdu: bytes

    @property
    def function(self) -> int:
        return self.pdu[0]


def decode(raw: bytes) -> Adu:
    """The device id and PDU of one whole frame; RtuError if its length or CRC is wrong."""
    if not MIN_FRAME <= len(raw) <= MAX_FRAME:
        raise RtuError(f"an RTU frame is {MIN_FRAME}-{MAX_FRAME} bytes, this one {len(raw)}")
    expected = crc16(raw[:-2])
    got = int.from_bytes(raw[-2:], "little")
    if got != expected:
        raise CrcError(f"bad CRC {got:04X}, expected {expected:04X}")
    return Adu(raw[0], raw[1:-2])


def silent_intervals(baudrate: int, character_bits: float = 11) -> tuple[float, float]:
    """(t1.5, t3.5) in seconds for a bus at this rate (a character is 11 bits by the spec)."""
    if baudrate > FIXED_INTERVALS_ABOVE:
        return FIXED_T15_S, FIXED_T35_S
    character = character_bits / baudrate
    return 1.5 * character, 3.5 * character


def reply_length(head: bytes) -> int | None:
    """How long a reply frame is, from its first bytes; None while that cannot be told yet.

    Exception replies are 5 bytes; reads carry a byte count at offset 2; writes echo 4 bytes.
    A function this master never sends gives 0: the frame's end can only be told by silence.
    """
    if len(head) < 2:
        return None
    function = head[1]
    if function & 0x80:
        return 5
    if function in (1, 2, 3, 4):
        return None if len(head) < 3 else 3 + head[2] + 2
    if function in (5, 6, 15, 16):
        return 8
    return 0


class ReplySplitter:
    """The master's frame finder: a reply is whole when its length says so (a Link Splitter).

    Bytes beyond one frame are kept for the next call, as noise the client will see.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        length = reply_length(bytes(self._buffer))
        if not length or len(self._buffer) < length:
            return []
        frame = bytes(self._buffer[:length])
        del self._buffer[:length]
        return [frame]
