"""Deliberately broken DL/T 645 frames, for checking that a meter ignores them (error control)."""

from __future__ import annotations

from .frame import DATA_OFFSET, END, START, Frame, encode

CS_FROM_END = 2  # CS is the byte before the final 16


def bad_checksum(frame: Frame, *, preamble: int = 4) -> bytes:
    raw = bytearray(encode(frame, preamble=preamble))
    raw[-CS_FROM_END] ^= 0xFF
    return bytes(raw)


def truncated(frame: Frame, *, missing: int = 3, preamble: int = 4) -> bytes:
    """The frame with its last `missing` bytes never sent (a dropped connection, a collision)."""
    return encode(frame, preamble=preamble)[:-missing]


def overlong(frame: Frame, length: int, *, preamble: int = 4) -> bytes:
    """The frame with its data padded to `length` bytes, L and CS consistent: well formed but
    over the length the spec allows, so the encoder would refuse it."""
    data = frame.data + bytes(length - len(frame.data))
    head = encode(Frame(frame.address, frame.control), preamble=preamble)[:-CS_FROM_END]
    start = head.index(START)
    body = bytearray(head[start:])
    body[9] = length
    body += bytes((b + DATA_OFFSET) & 0xFF for b in data)
    return head[:start] + bytes(body) + bytes([sum(body) & 0xFF, END])
