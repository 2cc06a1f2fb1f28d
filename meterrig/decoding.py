"""`meterrig decode`: frames of any registered protocol, from hex, decoded to words.

Each protocol's spec names a `decoder`: a factory `(map_name) -> decode`, where
`decode(wire, previous)` takes one frame's bytes (and the frame decoded on the line before, the
request a reply may answer) and returns a Decoded, or None when the bytes are not its protocol's
frame at all. This module reads the input (hex arguments, or lines of hex or trace JSON), asks
every decoder and keeps the best: a frame that validates and whose function its protocol knows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

MASKED = "**"  # a secret byte as traces show it (link/exchange.py)
# How well a decoder's reading fits, best last: the ranking of candidate protocols. SHAPE: the
# framing holds but its check (CS, CRC) fails; CHECKED: the check holds too; *_KNOWN: and the
# protocol knows the function code.
NOT_A_FRAME, SHAPE, SHAPE_KNOWN, CHECKED, KNOWN = range(5)


class HexError(ValueError):
    """Text that is not hex bytes; the message names the character (1-based)."""


@attrs.frozen
class Wire:
    """One frame's bytes as given; a masked byte (a trace's `**`) is 00 here and listed."""

    data: bytes
    masked: frozenset[int] = frozenset()

    def shown(self, start: int = 0, end: int | None = None) -> str:
        end = len(self.data) if end is None else end
        return " ".join(MASKED if i in self.masked else f"{self.data[i]:02X}"
                        for i in range(start, end))

    def any_masked(self, start: int, end: int) -> bool:
        return any(start <= i < end for i in self.masked)


@attrs.frozen
class Decoded:
    """A frame in words, as far as its bytes go; every problem names the byte that is wrong."""

    protocol: str
    fit: int  # NOT_A_FRAME .. KNOWN
    direction: str | None = None  # "request" | "reply" where the frame says
    address: str | None = None
    function: str | None = None
    item: str | None = None  # a data identifier or a register
    value: str | None = None  # with its unit
    notes: tuple[str, ...] = ()  # what the reading assumed ("map sdm120")
    problems: tuple[str, ...] = ()  # "byte 10 (CS): 5A, expected 5B"
    detail: Any = attrs.field(default=None, eq=False, repr=False)  # the decoder's own, for pairs

    def text(self) -> str:
        head = f"{self.protocol} {self.direction}" if self.direction else self.protocol
        fields = [f"{name} {value}" for name, value in (("address", self.address),
                                                         ("function", self.function))
                  if value is not None]
        fields += [v for v in (self.item, self.value) if v is not None]
        out = f"{head}: {', '.join(fields)}" if fields else head
        if self.notes:
            out += f" ({'; '.join(self.notes)})"
        if self.problems:
            out += f"; PROBLEM: {'; '.join(self.problems)}"
        return out


Decode = Callable[[Wire, "Decoded | None"], "Decoded | None"]


def parse_hex(text: str) -> Wire:
    """'68 01 00 ** 16' or '680100' -> Wire; HexError names the first wrong character."""
    data, masked = bytearray(), set()
    position = 0
    for token in text.split():
        position = text.index(token, position)
        if len(token) % 2:
            raise HexError(f"character {position + len(token)}: {token!r} has an odd number "
                           "of hex digits")
        for i in range(0, len(token), 2):
            pair = token[i:i + 2]
            if pair == MASKED:
                masked.add(len(data))
                data.append(0)
                continue
            for j, char in enumerate(pair):
                if char not in "0123456789abcdefABCDEF":
                    raise HexError(f"character {position + i + j + 1}: {char!r} is not a hex "
                                   "digit")
            data.append(int(pair, 16))
        position += len(token)
    if not data:
        raise HexError("no bytes")
    return Wire(bytes(data), frozenset(masked))


@attrs.frozen
class Source:
    """Where a frame came from, for the output: 'line 3 reply' or '' for an argument."""

    where: str
    wire: Wire | None  # None: the text was not hex; `error` says why
    error: str = ""


def from_arguments(arguments: Iterable[str]) -> Iterator[Source]:
    for number, text in enumerate(arguments, 1):
        yield _hex_source(f"argument {number}", text)


def from_lines(lines: Iterable[str]) -> Iterator[Source]:
    """One frame a line; blank lines and # comments skipped; trace.jsonl records give their
    request and reply (hex with spaces, secret bytes **)."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("{"):
            yield _hex_source(f"line {number}", text)
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Source(f"line {number}", None, f"not JSON: {exc.msg} (character {exc.colno})")
            continue
        if not isinstance(record, dict) or not {"request", "reply"} <= set(record):
            yield Source(f"line {number}", None, "a JSON line needs `request` and `reply` "
                                                 "(a trace.jsonl record)")
            continue
        for field in ("request", "reply"):
            hex_text = record[field] or ""
            where = f"line {number} {field}"
            if not hex_text.strip():
                yield Source(where, None)  # silence: no frame, no problem
                continue
            yield _hex_source(where, hex_text)


def _hex_source(where: str, text: str) -> Source:
    try:
        return Source(where, parse_hex(text))
    except HexError as exc:
        return Source(where, None, f"bad hex: {exc}")


def best(wire: Wire, decoders: dict[str, Decode], previous: Decoded | None) -> Decoded:
    """The reading that fits best; a tie between protocols is said, not hidden."""
    readings = [r for r in (decode(wire, previous) for decode in decoders.values())
                if r is not None]
    if not readings:
        return Decoded("unknown", NOT_A_FRAME,
                       problems=(f"not a frame of {', '.join(decoders)}",))
    ranked = sorted(readings, key=lambda r: (not r.problems, r.fit), reverse=True)
    first = ranked[0]
    rivals = [r.protocol for r in ranked[1:]
              if (not r.problems, r.fit) == (not first.problems, first.fit)]
    if rivals:
        return attrs.evolve(first, notes=(*first.notes,
                                          f"ambiguous: also a {', '.join(rivals)} frame"))
    return first


def decode_all(sources: Iterable[Source], decoders: dict[str, Decode]) -> Iterator[
        tuple[Source, Decoded | None]]:
    """Each source with its reading (None: silence); a frame is read with the one before it
    as the request it may answer."""
    previous: Decoded | None = None
    for source in sources:
        if source.wire is None:
            reading = None if not source.error else Decoded(
                "unknown", NOT_A_FRAME, problems=(source.error,))
            yield source, reading
            previous = None
            continue
        reading = best(source.wire, decoders, previous)
        yield source, reading
        previous = reading if reading.direction == "request" else None


def line(source: Source, reading: Decoded | None) -> str:
    where = f"{source.where}: " if source.where else ""
    if reading is None:
        return f"{where}silence"
    if source.wire is None:
        return f"{where}PROBLEM: {source.error}"
    return f"{where}{source.wire.shown()} = {reading.text()}"
