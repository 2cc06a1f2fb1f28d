"""DL/T 645 frame codec (sans-IO): bytes in, Frame out, and a streaming frame finder.

Frame on the wire: ``FE*n 68 A0..A5 68 C L DATA CS 16`` — address lowest byte first, every
data byte sent +0x33, CS = sum mod 256 from the first 68 through the last data byte.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import attrs
import yaml

LIMITS_PATH = Path(__file__).resolve().parents[2] / "limits" / "dlt645-2007.yaml"
LIMITS: dict[str, Any] = yaml.safe_load(LIMITS_PATH.read_text(encoding="utf-8"))

BROADCAST_ADDRESS = "999999999999"
WILDCARD_ADDRESS = "AAAAAAAAAAAA"

# Frame format bytes: they define the format rather than limit it, so they live here.
PREAMBLE = 0xFE
START = 0x68
END = 0x16
DATA_OFFSET = 0x33
WILDCARD_BYTE = 0xAA
CENTURY = 2000  # two-digit YY fields carry the year within 2000..2099
DIRECTION_BIT = 0x80  # control D7: set in slave -> master frames
ABNORMAL_BIT = 0x40  # D6: error reply
FOLLOW_UP_BIT = 0x20  # D5: more frames follow
FUNCTION_MASK = 0x1F  # D4..D0
HEADER_LENGTH = 10  # 68, six address bytes, 68, C, L
MIN_FRAME_LENGTH = HEADER_LENGTH + 2  # + CS, 16

PREAMBLE_MAX: int = LIMITS["frame"]["preamble_max"]
REPLY_DATA_MAX: int = LIMITS["frame"]["data_length_max"]["reply"]
WRITE_REQUEST_DATA_MAX: int = LIMITS["frame"]["data_length_max"]["write_request"]


class Function(enum.IntEnum):
    """DL/T 645-2007 function code, bits D4..D0 of the control byte."""

    BROADCAST_TIME = 0x08
    READ = 0x11
    READ_FOLLOW_UP = 0x12
    READ_ADDRESS = 0x13
    WRITE = 0x14
    WRITE_ADDRESS = 0x15
    FREEZE = 0x16
    CHANGE_BAUD = 0x17
    CHANGE_PASSWORD = 0x18
    CLEAR_DEMAND = 0x19
    METER_CLEAR = 0x1A
    EVENT_CLEAR = 0x1B
    RELAY = 0x1C


class FrameError(ValueError):
    """A byte string is not a valid frame; ``raw`` holds the bytes judged."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = bytes(raw)


class BadStart(FrameError):
    """The first or the second 68 is not where it must be."""


class BadChecksum(FrameError):
    def __init__(self, raw: bytes, expected: int, actual: int) -> None:
        super().__init__(
            f"checksum byte is 0x{actual:02X} but the frame bytes sum to 0x{expected:02X}", raw
        )
        self.expected = expected
        self.actual = actual


class BadLength(FrameError):
    """L does not agree with the number of bytes in the frame."""


class LengthLimitExceeded(BadLength):
    """L is over the limit for the frame's direction (reply / write request)."""


class MissingEnd(FrameError):
    """The byte L says ends the frame is not 16."""


class Truncated(FrameError):
    """Fewer bytes than the header (or L) calls for."""


class BadAddress(FrameError):
    """An address byte is neither two BCD digits nor the AA wildcard."""


def address_bytes(address: str) -> bytes:
    """12 printed digits, most significant first -> 6 bytes, lowest first (wildcards allowed)."""
    if len(address) != 12:
        raise BadAddress(f"address {address!r} must have 12 digits")
    try:
        printed = bytes.fromhex(address)
    except ValueError:
        raise BadAddress(f"address {address!r} is not hex digits") from None
    raw = printed[::-1]
    _check_address(raw)
    return raw


def address_from_bytes(raw: bytes) -> str:
    """6 bytes, lowest first -> 12 printed digits, most significant first."""
    _check_address(raw)
    return raw[::-1].hex().upper()


def _check_address(raw: bytes) -> None:
    if len(raw) != 6:
        raise BadAddress(f"address must be 6 bytes, got {len(raw)}", raw)
    for b in raw:
        if b != WILDCARD_BYTE and not is_bcd(b):
            raise BadAddress(f"address byte {b:02X} is neither BCD nor the AA wildcard", raw)


def address_matches(pattern: str, address: str) -> bool:
    """True if ``address`` equals ``pattern`` apart from the pattern's AA wildcard bytes."""
    pairs = zip(address_bytes(pattern), address_bytes(address), strict=True)
    return all(p == WILDCARD_BYTE or p == a for p, a in pairs)


def is_bcd(b: int) -> bool:
    return (b >> 4) <= 9 and (b & 0x0F) <= 9


def to_bcd(value: int, length: int) -> bytes:
    """Non-negative int -> ``length`` BCD bytes, lowest byte first."""
    if not 0 <= value < 100**length:
        raise ValueError(f"{value} does not fit in {length} BCD byte(s)")
    return bytes.fromhex(f"{value:0{2 * length}d}")[::-1]


def from_bcd(raw: bytes) -> int:
    """BCD bytes, lowest first -> int; ValueError on a non-decimal digit."""
    bad = [b for b in raw if not is_bcd(b)]
    if bad:
        raise ValueError(f"byte {bad[0]:02X} is not BCD")
    return int(raw[::-1].hex() or "0")


def _address_attr(instance: Any, attribute: Any, value: str) -> None:
    address_bytes(value)


@attrs.frozen
class Frame:
    """One frame; ``data`` is plain (the +0x33 is applied by encode and removed by decode)."""

    address: str = attrs.field(converter=str.upper, validator=_address_attr)
    control: int = attrs.field(validator=attrs.validators.and_(
        attrs.validators.ge(0), attrs.validators.le(0xFF)))
    data: bytes = attrs.field(default=b"", converter=bytes)
    # Where the builder put passwords and operator codes in `data`: (first, end) byte. Not part
    # of the frame's value; encode_spans turns them into the wire bytes that traces mask.
    secret_spans: tuple[tuple[int, int], ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def function(self) -> int:
        return self.control & FUNCTION_MASK

    @property
    def from_slave(self) -> bool:
        return bool(self.control & DIRECTION_BIT)

    @property
    def abnormal(self) -> bool:
        return bool(self.control & ABNORMAL_BIT)

    @property
    def follow_up(self) -> bool:
        return bool(self.control & FOLLOW_UP_BIT)


def encode(frame: Frame, *, preamble: int = PREAMBLE_MAX) -> bytes:
    """Frame -> wire bytes; refuses what decode would refuse (L over its direction's limit)."""
    if not 0 <= preamble <= PREAMBLE_MAX:
        raise ValueError(f"preamble must be 0..{PREAMBLE_MAX} FE bytes, got {preamble}")
    if len(frame.data) > 0xFF:
        raise BadLength(f"{len(frame.data)} data bytes do not fit in the one-byte L")
    body = bytearray([START, *address_bytes(frame.address), START, frame.control, len(frame.data)])
    body += bytes((b + DATA_OFFSET) & 0xFF for b in frame.data)
    body += bytes([sum(body) & 0xFF, END])
    _check_length_limit(frame.control, len(frame.data), bytes(body))
    return bytes([PREAMBLE] * preamble) + bytes(body)


def encode_spans(frame: Frame, *, preamble: int = PREAMBLE_MAX) -> tuple[tuple[int, int], ...]:
    """The wire byte ranges of the frame's secret spans, as encode(frame, preamble) lays it out."""
    start = preamble + HEADER_LENGTH
    return tuple((start + first, start + end) for first, end in frame.secret_spans)


def decode(raw: bytes) -> Frame:
    """Wire bytes (any number of leading FE) -> Frame, or a FrameError subclass saying why not."""
    raw = bytes(raw)
    body = raw.lstrip(bytes([PREAMBLE]))
    if not body:
        raise Truncated("no bytes after the FE preamble", raw)
    if body[0] != START:
        raise BadStart(f"frame starts with {body[0]:02X}, not 68", raw)
    if len(body) >= 8 and body[7] != START:
        raise BadStart(f"second 68 missing: byte 8 of the frame is {body[7]:02X}", raw)
    if len(body) < MIN_FRAME_LENGTH:
        raise Truncated(f"{len(body)} bytes are fewer than the {MIN_FRAME_LENGTH} of a frame", raw)
    length = body[9]
    needed = MIN_FRAME_LENGTH + length
    if len(body) < needed:
        raise Truncated(f"L={length} needs a {needed}-byte frame, got {len(body)} bytes", raw)
    if len(body) > needed:
        raise BadLength(
            f"L={length} gives a {needed}-byte frame but {len(body)} bytes were passed", raw)
    if body[-1] != END:
        raise MissingEnd(f"frame ends with {body[-1]:02X}, not 16", raw)
    expected = sum(body[:-2]) & 0xFF
    if body[-2] != expected:
        raise BadChecksum(raw, expected, body[-2])
    try:
        address = address_from_bytes(body[1:7])
    except BadAddress as exc:
        raise BadAddress(str(exc), raw) from None
    control = body[8]
    _check_length_limit(control, length, raw)
    data = bytes((b - DATA_OFFSET) & 0xFF for b in body[HEADER_LENGTH:-2])
    return Frame(address, control, data)


def _check_length_limit(control: int, length: int, raw: bytes) -> None:
    if control & DIRECTION_BIT:
        limit, what = REPLY_DATA_MAX, "a reply"
    elif control & FUNCTION_MASK == Function.WRITE:
        limit, what = WRITE_REQUEST_DATA_MAX, "a write request"
    else:
        return
    if length > limit:
        raise LengthLimitExceeded(f"L={length} is over the limit of {limit} for {what}", raw)


class FrameSplitter:
    """Finds candidate frames in a noisy byte stream fed in arbitrary chunks.

    A candidate is a 68 <6 bytes> 68 C L header followed by L data bytes, CS and a 16; the
    checksum is left to decode() so a corrupted frame is reported rather than silently lost.
    A header whose end byte is not 16 was noise: its first 68 is dropped and the search resumes.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._buffer = bytearray()
        self._produced = False
        self.discarded = 0

    def complete(self) -> bool:
        return self._produced

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while True:
            self._skip_to_start()
            buf = self._buffer
            if len(buf) < HEADER_LENGTH:
                break
            if buf[7] != START:
                self._drop(1)
                continue
            end = MIN_FRAME_LENGTH + buf[9]
            if len(buf) < end:
                break
            if buf[end - 1] != END:
                self._drop(1)
                continue
            frames.append(bytes(buf[:end]))
            del buf[:end]
        self._produced = self._produced or bool(frames)
        return frames

    def _skip_to_start(self) -> None:
        start = self._buffer.find(START)
        self._drop(len(self._buffer) if start < 0 else start)

    def _drop(self, count: int) -> None:
        # FE is the wake-up preamble, not noise, so it is not counted as discarded.
        self.discarded += sum(1 for b in self._buffer[:count] if b != PREAMBLE)
        del self._buffer[:count]


@attrs.frozen
class RawFrame:
    """The fields of the first frame in ``raw``, as the bytes give them; None where they stop
    short. Nothing is validated here: a reply from a meter nobody here wrote is taken apart as
    far as it goes, and the decoder (`meterrig decode`) and the verdicts judge each field."""

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
    def plain(self) -> bytes:
        """The data bytes present, 33 taken off each."""
        return bytes((b - DATA_OFFSET) & 0xFF for b in self.data)

    @property
    def data_at(self) -> int | None:
        """Index in ``raw`` of the first data byte."""
        return None if self.start is None else self.start + HEADER_LENGTH

    @property
    def checksum_at(self) -> int | None:
        """Index in ``raw`` where L puts the checksum byte."""
        if self.start is None or self.length is None:
            return None
        return self.start + HEADER_LENGTH + self.length

    @property
    def expected_checksum(self) -> int | None:
        """Sum mod 256 from the first 68 through the last data byte L calls for."""
        if self.start is None or not self.complete:
            return None
        return sum(self.raw[self.start:self.start + HEADER_LENGTH + len(self.data)]) & 0xFF

    @property
    def trailing(self) -> bytes:
        """Bytes after where the frame's 16 should be."""
        return b"" if self.checksum_at is None else self.raw[self.checksum_at + 2:]

    def printed_address(self) -> str | None:
        return None if self.address is None else self.address[::-1].hex().upper()
