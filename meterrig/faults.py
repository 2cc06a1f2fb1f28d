"""Faults the rig puts into what it sends: a request spoilt on purpose, on any bench.

A fault turns a request's wire bytes into the segments the link writes: bytes, a pause before
them, and the line settings they go out at. Faults compose (`a + b` applies a, then b), know
nothing of any protocol, and name themselves: each exchange they spoil records the name
(Exchange.fault). The master applies one to its next exchanges (`Master.inject`); a protocol's
inter-character limit, which a split frame must exceed, comes from its registry spec.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from .protocols import registry

# A split frame's gap is this many times its protocol's longest allowed silence inside a frame:
# plainly over the limit whatever the scheduling jitter (jitter only lengthens a pause).
SPLIT_GAP_FACTOR = 2


@attrs.frozen
class Segment:
    """Bytes the link writes in one go, after `pause` seconds of silence, at these settings
    (None: the bus's own)."""

    data: bytes
    pause: float = 0.0
    baudrate: int | None = None
    parity: str | None = None


Plan = tuple[Segment, ...]


def wire_of(plan: Sequence[Segment]) -> bytes:
    return b"".join(segment.data for segment in plan)


def coalesced(plan: Sequence[Segment]) -> Plan:
    """Adjacent segments with no pause between them and the same settings, as one write (a
    receiver must see them as the one burst they are on the wire)."""
    out: list[Segment] = []
    for segment in plan:
        last = out[-1] if out else None
        if last is not None and not segment.pause and (segment.baudrate, segment.parity) == (
                last.baudrate, last.parity):
            out[-1] = attrs.evolve(last, data=last.data + segment.data)
        else:
            out.append(segment)
    return tuple(out)


def _cut(plan: Plan, at: int) -> tuple[Plan, Plan]:
    """The plan split before byte `at` of its wire (a segment straddling it is cut in two)."""
    before, after, seen = [], [], 0
    for segment in plan:
        end = seen + len(segment.data)
        if end <= at:
            before.append(segment)
        elif seen >= at:
            after.append(segment)
        else:
            before.append(attrs.evolve(segment, data=segment.data[: at - seen]))
            after.append(attrs.evolve(segment, data=segment.data[at - seen:], pause=0.0))
        seen = end
    return tuple(before), tuple(after)


def _at(plan: Plan, fraction: float) -> int:
    return int(len(wire_of(plan)) * fraction)


class Fault:
    """One way of spoiling a request; `apply` maps segments to segments. `spoils_frame`: what
    the far end receives holds no whole valid frame (else the frame is whole beside noise)."""

    name = "fault"
    spoils_frame = True

    def apply(self, plan: Plan) -> Plan:
        raise NotImplementedError

    def __add__(self, other: Fault) -> Fault:
        return Composed((self, other))

    def __str__(self) -> str:
        return self.name


@attrs.frozen
class Composed(Fault):
    faults: tuple[Fault, ...]

    @property
    def name(self) -> str:
        return " + ".join(f.name for f in self.faults)

    @property
    def spoils_frame(self) -> bool:
        return any(f.spoils_frame for f in self.faults)

    def apply(self, plan: Plan) -> Plan:
        for fault in self.faults:
            plan = fault.apply(plan)
        return plan


@attrs.frozen
class BitFlip(Fault):
    """Flip `bit` of the byte at `at` (a fraction of the frame's length)."""

    at: float = 0.5
    bit: int = 0

    @property
    def name(self) -> str:
        return f"bit flip (bit {self.bit} at {self.at:.0%})"

    def apply(self, plan: Plan) -> Plan:
        index = min(_at(plan, self.at), len(wire_of(plan)) - 1)
        head, tail = _cut(plan, index)
        first = tail[0]
        flipped = bytes([first.data[0] ^ (1 << self.bit)]) + first.data[1:]
        return (*head, attrs.evolve(first, data=flipped), *tail[1:])


@attrs.frozen
class Truncate(Fault):
    """Keep the first `keep` of the frame (a fraction), drop the rest."""

    keep: float = 0.5

    @property
    def name(self) -> str:
        return f"truncated to {self.keep:.0%}"

    def apply(self, plan: Plan) -> Plan:
        return _cut(plan, _at(plan, self.keep))[0]


@attrs.frozen
class Garbage(Fault):
    """Noise bytes `where` the frame is: before, inside (at its middle) or after it."""

    where: str = "before"
    data: bytes = bytes.fromhex("55 AA 00 FF 3C")

    def __attrs_post_init__(self) -> None:
        if self.where not in ("before", "inside", "after"):
            raise ValueError(f"garbage goes before, inside or after a frame, not {self.where!r}")

    @property
    def name(self) -> str:
        return f"garbage {self.where} the frame ({len(self.data)} bytes)"

    @property
    def spoils_frame(self) -> bool:
        return self.where == "inside"

    def apply(self, plan: Plan) -> Plan:
        at = {"before": 0, "inside": _at(plan, 0.5), "after": len(wire_of(plan))}[self.where]
        head, tail = _cut(plan, at)
        return (*head, Segment(self.data), *tail)


@attrs.frozen
class Split(Fault):
    """The frame cut at `at` with `gap` seconds of silence between its halves."""

    gap: float
    at: float = 0.5

    @property
    def name(self) -> str:
        return f"split by a {self.gap * 1e3:g} ms gap"

    def apply(self, plan: Plan) -> Plan:
        head, tail = _cut(plan, _at(plan, self.at))
        return (*head, attrs.evolve(tail[0], pause=tail[0].pause + self.gap), *tail[1:])


@attrs.frozen
class Twice(Fault):
    """The frame sent twice back to back, no gap."""

    name = "two frames back to back"
    spoils_frame = False

    def apply(self, plan: Plan) -> Plan:
        return (*plan, *plan)


@attrs.frozen
class NoiseBurst(Fault):
    """`size` random bytes on the line, then `gap` seconds of silence, then the frame: noise
    between two frames."""

    gap: float
    size: int = 16
    seed: int = 0

    @property
    def name(self) -> str:
        return f"a {self.size}-byte noise burst {self.gap * 1e3:g} ms before the frame"

    spoils_frame = False

    def apply(self, plan: Plan) -> Plan:
        noise = random.Random(self.seed).randbytes(self.size)
        first = attrs.evolve(plan[0], pause=plan[0].pause + self.gap)
        return (Segment(noise), first, *plan[1:])


@attrs.frozen
class WrongLine(Fault):
    """The frame sent at another baud rate and/or parity."""

    baudrate: int | None = None
    parity: str | None = None

    @property
    def name(self) -> str:
        parts = [f"{self.baudrate} bit/s" if self.baudrate else "",
                 f"parity {self.parity}" if self.parity else ""]
        return "wrong line: " + ", ".join(p for p in parts if p)

    def apply(self, plan: Plan) -> Plan:
        return tuple(attrs.evolve(s, baudrate=self.baudrate or s.baudrate,
                                  parity=self.parity or s.parity) for s in plan)


def inter_character_limit(protocol: str, baudrate: int) -> float | None:
    """The longest silence its protocol allows inside a frame, in seconds (registry spec);
    None when its sources give none."""
    spec = registry.get(protocol)
    if spec.inter_character_limit is None:
        return None
    return spec.load("inter_character_limit")(baudrate)


def other_baudrate(baudrate: int) -> int:
    """A common rate that is not the bus's: half of it, or double below 600 bit/s."""
    return baudrate * 2 if baudrate < 600 else baudrate // 2


def other_parity(parity: str) -> str:
    return "O" if parity.upper() == "E" else "E"


KINDS = ("bit-flip", "truncated", "garbage-before", "garbage-inside", "garbage-after", "split",
         "back-to-back", "noise-burst", "wrong-baudrate", "wrong-parity")


def catalogue(protocol: str, baudrate: int, parity: str) -> dict[str, Fault | None]:
    """Every kind of fault, named as the reaction records name it, for one bus; a fault its
    protocol cannot be given (no inter-character limit in its sources) is None."""
    limit = inter_character_limit(protocol, baudrate)
    gap = None if limit is None else SPLIT_GAP_FACTOR * limit
    return {
        "bit-flip": BitFlip(),
        "truncated": Truncate(),
        "garbage-before": Garbage("before"),
        "garbage-inside": Garbage("inside"),
        "garbage-after": Garbage("after"),
        "split": None if gap is None else Split(gap),
        "back-to-back": Twice(),
        "noise-burst": None if gap is None else NoiseBurst(gap),
        "wrong-baudrate": WrongLine(baudrate=other_baudrate(baudrate)),
        "wrong-parity": WrongLine(parity=other_parity(parity)),
    }
