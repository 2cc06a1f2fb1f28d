"""Q/GDW 1376.2 frame codec (sans-IO): bytes in, Frame out, and a streaming frame finder.

``68 | L L | C | R (6) | [A] | AFN | DT1 DT2 | data unit | CS | 16`` (notes, Frame): L is the
whole frame's length, little endian; CS the sum mod 256 of C and the user data; A is there only
when R's module flag is set. Every error is a FrameError naming the byte offset that is wrong.
"""

from __future__ import annotations

import attrs

START = 0x68
END = 0x16
HEADER_LENGTH = 4  # 68, L, L, C
R_LENGTH = 6
ADDRESS_LENGTH = 6
# 68 L L C R(6) AFN DT1 DT2 CS 16: a frame with no address and no data unit.
MIN_FRAME_LENGTH = HEADER_LENGTH + R_LENGTH + 3 + 2
DIRECTION_BIT = 0x80  # C D7: 1 uplink, from the module
PRM_BIT = 0x40  # C D6: 1 from the initiating station
MODE_MASK = 0x3F  # C D5-D0: communication mode
MAX_FN = 8 * 256


class FrameError(ValueError):
    """Bytes that are not a 1376.2 frame; `offset` is the first wrong byte."""

    def __init__(self, offset: int, field: str, message: str) -> None:
        super().__init__(f"byte {offset} ({field}): {message}")
        self.offset = offset
        self.field = field


class Truncated(FrameError):
    """Fewer bytes than the header or L calls for."""


class BadChecksum(FrameError):
    def __init__(self, offset: int, expected: int, actual: int) -> None:
        super().__init__(offset, "CS", f"{actual:02X}, expected {expected:02X}")
        self.expected = expected
        self.actual = actual


@attrs.frozen
class Control:
    """C: direction, initiating station, communication mode (tables.yaml)."""

    uplink: bool
    prm: bool  # from the initiating station
    mode: int = attrs.field(default=1)

    @mode.validator
    def _mode(self, _attribute: object, value: int) -> None:
        if not 0 <= value <= MODE_MASK:
            raise ValueError(f"communication mode {value} does not fit D5-D0")

    @property
    def byte(self) -> int:
        return (DIRECTION_BIT if self.uplink else 0) | (PRM_BIT if self.prm else 0) | self.mode

    @classmethod
    def of(cls, byte: int) -> Control:
        return cls(bool(byte & DIRECTION_BIT), bool(byte & PRM_BIT), byte & MODE_MASK)


def _nibble(value: int) -> int:
    if not 0 <= value <= 15:
        raise ValueError(f"{value} does not fit 4 bits")
    return value


def _byte(value: int) -> int:
    if not 0 <= value <= 255:
        raise ValueError(f"{value} does not fit a byte")
    return value


@attrs.frozen
class Rate:
    """R bytes 4-5 (downlink): D0-D14 the rate, D15 its unit; 0 is the module's default."""

    value: int = 0
    kbit: bool = False

    def encode(self) -> bytes:
        if not 0 <= self.value <= 0x7FFF:
            raise ValueError(f"rate {self.value} does not fit D0-D14")
        return (self.value | (0x8000 if self.kbit else 0)).to_bytes(2, "little")

    @classmethod
    def of(cls, raw: bytes) -> Rate:
        word = int.from_bytes(raw, "little")
        return cls(word & 0x7FFF, bool(word & 0x8000))

    def __str__(self) -> str:
        return f"{self.value} {'kbit/s' if self.kbit else 'bit/s'}" if self.value else "default"


@attrs.frozen
class DownInfo:
    """Information field R, downlink (notes, Information field R — downlink)."""

    seq: int = 0
    bypass_routing: bool = False  # byte 1 D0 routing flag
    attached_node: bool = False  # D1
    module: bool = False  # D2: addresses a slave node, field A follows
    conflict_detection: bool = False  # D3
    relay_level: int = 0  # D4-D7
    channel: int = 0  # byte 2 D0-D3
    ecc: int = 0  # byte 2 D4-D7 error-correction coding
    reply_bytes: int = 0  # byte 3: expected reply length
    rate: Rate = Rate()  # bytes 4-5

    def encode(self) -> bytes:
        flags = (self.bypass_routing | self.attached_node << 1 | self.module << 2
                 | self.conflict_detection << 3 | _nibble(self.relay_level) << 4)
        return bytes((flags, _nibble(self.channel) | _nibble(self.ecc) << 4,
                      _byte(self.reply_bytes))) + self.rate.encode() + bytes((_byte(self.seq),))

    @classmethod
    def of(cls, raw: bytes) -> DownInfo:
        return cls(seq=raw[5], bypass_routing=bool(raw[0] & 1), attached_node=bool(raw[0] & 2),
                   module=bool(raw[0] & 4), conflict_detection=bool(raw[0] & 8),
                   relay_level=raw[0] >> 4, channel=raw[1] & 15, ecc=raw[1] >> 4,
                   reply_bytes=raw[2], rate=Rate.of(raw[3:5]))


# Uplink R bits the notes leave undefined: kept as they came, so a frame re-encodes to itself.
UP_RESERVED_MASK = bytes((0x0A, 0xF0, 0x00, 0x00, 0xFE, 0x00))


@attrs.frozen
class UpInfo:
    """Information field R, uplink (notes, Information field R — uplink)."""

    seq: int = 0  # byte 6: echoes the request
    bypass_routing: bool = False  # byte 1 D0 routing flag
    module: bool = False  # D2: field A follows
    relay_level: int = 0  # D4-D7
    channel: int = 0  # byte 2 D0-D3
    phase: int = 0  # byte 3 D0-D3 measured phase
    meter_channel: int = 0  # byte 3 D4-D7 meter channel characteristic
    command_quality: int = 0  # byte 4 D0-D3 last-hop command signal quality
    reply_quality: int = 0  # byte 4 D4-D7 last-hop reply signal quality
    event: bool = False  # byte 5 D0: the module has an event to report
    reserved: bytes = bytes(R_LENGTH)  # the undefined bits, masked by UP_RESERVED_MASK

    def encode(self) -> bytes:
        if len(self.reserved) != R_LENGTH or any(
                r & ~m for r, m in zip(self.reserved, UP_RESERVED_MASK, strict=True)):
            raise ValueError("reserved bits outside the uplink R's undefined bits")
        defined = bytes((
            self.bypass_routing | self.module << 2 | _nibble(self.relay_level) << 4,
            _nibble(self.channel),
            _nibble(self.phase) | _nibble(self.meter_channel) << 4,
            _nibble(self.command_quality) | _nibble(self.reply_quality) << 4,
            int(self.event),
            _byte(self.seq)))
        return bytes(d | r for d, r in zip(defined, self.reserved, strict=True))

    @classmethod
    def of(cls, raw: bytes) -> UpInfo:
        return cls(seq=raw[5], bypass_routing=bool(raw[0] & 1), module=bool(raw[0] & 4),
                   relay_level=raw[0] >> 4, channel=raw[1] & 15, phase=raw[2] & 15,
                   meter_channel=raw[2] >> 4, command_quality=raw[3] & 15,
                   reply_quality=raw[3] >> 4, event=bool(raw[4] & 1),
                   reserved=bytes(b & m for b, m in zip(raw, UP_RESERVED_MASK, strict=True)))


@attrs.frozen
class Address:
    """Field A: source (A1), relays (A2, downlink only, one per relay level), destination (A3);
    each 12 printed digits, sent as 6 BCD bytes low first."""

    source: str
    destination: str
    relays: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return b"".join(address_bytes(a) for a in (self.source, *self.relays, self.destination))


def address_bytes(address: str) -> bytes:
    if len(address) != 12 or not address.isdigit():
        raise ValueError(f"address {address!r} is not 12 decimal digits")
    return bytes.fromhex(address)[::-1]


def is_bcd(byte: int) -> bool:
    return byte >> 4 <= 9 and byte & 15 <= 9


def fn_of(dt1: int, dt2: int, offset: int = 0) -> int:
    """DT -> Fn: DT1 has one bit set, DT2 counts groups of eight (notes, DT)."""
    if dt1 == 0 or dt1 & (dt1 - 1):
        raise FrameError(offset, "DT1", f"{dt1:02X}, expected exactly one bit set")
    return dt2 * 8 + dt1.bit_length()


def dt_of(fn: int) -> bytes:
    """Fn -> DT1 DT2: F1 = 01 00, F10 = 02 01, F100 = 08 0C."""
    if not 1 <= fn <= MAX_FN:
        raise ValueError(f"F{fn} is outside F1..F{MAX_FN}")
    return bytes((1 << ((fn - 1) % 8), (fn - 1) // 8))


@attrs.frozen
class Frame:
    control: Control
    info: DownInfo | UpInfo
    afn: int
    fn: int
    data: bytes = b""  # the data unit, as sent (units.py reads it)
    address: Address | None = None

    @property
    def key(self) -> str:
        """'13 F1': how the tables name this frame's function."""
        return f"{self.afn:02X} F{self.fn}"


def encode(frame: Frame) -> bytes:
    """The frame's bytes; ValueError when its fields contradict each other."""
    if isinstance(frame.info, UpInfo) != frame.control.uplink:
        raise ValueError("R's direction differs from C's DIR")
    if frame.info.module != (frame.address is not None):
        raise ValueError("field A is there exactly when R's module flag is set")
    if frame.address is not None:
        relays = len(frame.address.relays)
        expected = frame.info.relay_level if not frame.control.uplink else 0
        if relays != expected:
            raise ValueError(f"{relays} relay address(es) for relay level {expected}")
    user = (frame.info.encode() + (frame.address.encode() if frame.address else b"")
            + bytes((_byte(frame.afn),)) + dt_of(frame.fn) + frame.data)
    length = HEADER_LENGTH + len(user) + 2
    if length > 0xFFFF:
        raise ValueError(f"frame of {length} bytes: L has 2 bytes")
    body = bytes((frame.control.byte,)) + user
    return bytes((START,)) + length.to_bytes(2, "little") + body + bytes(
        (sum(body) & 0xFF, END))


def decode(raw: bytes) -> Frame:
    """One whole frame; a FrameError names the first byte that is wrong."""
    if len(raw) < 1 or raw[0] != START:
        raise FrameError(0, "start", f"{raw[0]:02X}, expected 68" if raw else "no bytes")
    if len(raw) < 3:
        raise Truncated(len(raw), "L", "the bytes stop inside L")
    length = int.from_bytes(raw[1:3], "little")
    if length < MIN_FRAME_LENGTH:
        raise FrameError(1, "L", f"{length}, under the {MIN_FRAME_LENGTH} bytes of the "
                                 "shortest frame")
    if len(raw) < length:
        raise Truncated(len(raw), "frame", f"the bytes stop there, L={length} calls for "
                                           f"{length}")
    if len(raw) > length:
        raise FrameError(length, "after the end", f"{len(raw) - length} byte(s) after the "
                                                  f"{length} bytes L gives")
    if raw[-1] != END:
        raise FrameError(length - 1, "end", f"{raw[-1]:02X}, expected 16")
    expected = sum(raw[3:length - 2]) & 0xFF
    if raw[length - 2] != expected:
        raise BadChecksum(length - 2, expected, raw[length - 2])
    control = Control.of(raw[3])
    r_raw = raw[4:4 + R_LENGTH]
    info: DownInfo | UpInfo = UpInfo.of(r_raw) if control.uplink else DownInfo.of(r_raw)
    at = 4 + R_LENGTH
    address = None
    if info.module:
        relays = 0 if control.uplink else info.relay_level
        need = ADDRESS_LENGTH * (2 + relays)
        if at + need + 3 > length - 2:
            raise FrameError(at, "A", f"R's module flag calls for {need} address bytes "
                                      f"({relays} relay(s)) and AFN, DT: L={length} is too short")
        fields = []
        for i in range(2 + relays):
            field_raw = raw[at + i * 6:at + i * 6 + 6]
            for j, byte in enumerate(field_raw):
                if not is_bcd(byte):
                    name = "A1" if i == 0 else ("A3" if i == 1 + relays else f"A2 relay {i}")
                    raise FrameError(at + i * 6 + j, name, f"{byte:02X}, expected BCD")
            fields.append(field_raw[::-1].hex())
        address = Address(fields[0], fields[-1], tuple(fields[1:-1]))
        at += need
    afn = raw[at]
    fn = fn_of(raw[at + 1], raw[at + 2], at + 1)
    return Frame(control, info, afn, fn, bytes(raw[at + 3:length - 2]), address)


class FrameSplitter:
    """Finds whole frames in a byte stream (the Link feeds it): bytes before a 68 are skipped,
    and L bytes from the 68 make one candidate, judged by `decode`."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(START)
            if start < 0:
                self.buffer.clear()
                return frames
            del self.buffer[:start]
            if len(self.buffer) < 3:
                return frames
            length = int.from_bytes(self.buffer[1:3], "little")
            if length < MIN_FRAME_LENGTH:  # not a frame's 68: look for the next one
                del self.buffer[:1]
                continue
            if len(self.buffer) < length:
                return frames
            frames.append(bytes(self.buffer[:length]))
            del self.buffer[:length]
