"""Fuzzing a meter: frames mutated from a valid request, which of them are invalid, and a
failing frame saved so that one command replays it (`meterrig replay FILE --rig R`).

Whether mutated bytes still hold a valid frame is told by the protocol's own framing rules, as
its registry spec gives them (the receiver a simulated bus uses: DL/T 645 finds a frame by its
header, L and end byte after any noise; Modbus RTU takes the bytes between silences whole), and
its checksum or CRC. A meter may answer a valid frame anywhere in the bytes; it must answer no
bytes that hold none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import attrs
from hypothesis import strategies as st

from .protocols import registry

FAILURES = "robustness-failures"  # under the reports directory
FRAME_END_S = 1.0  # any silence ends a frame: what the receiver is told after the bytes


@attrs.frozen
class Line:
    """What a receiver needs of the line to time a frame (bytes all arrive at once here)."""

    baudrate: int
    character_bits: float = 11

    @property
    def character_time(self) -> float:
        return self.character_bits / self.baudrate


def holds_valid_frame(protocol: str, data: bytes, baudrate: int) -> bool:
    """Whether `data`, sent in one go, holds a frame its protocol's receivers would act on."""
    receiver = registry.get(protocol).load("receiver")()
    line = Line(baudrate)
    requests = receiver.feed(data, 0.0, line) + receiver.feed(b"", FRAME_END_S, line)
    for request in requests:
        try:
            receiver.decode(request)
        except ValueError:
            continue
        return True
    return False


def corrupted(protocol: str, wire: bytes, baudrate: int) -> bytes:
    """The request with one bit flipped where only its checksum or CRC tells (the flip nearest
    its end that its receivers' unchecked reading still takes): a corrupted frame, nothing
    else wrong with it."""
    receiver = registry.get(protocol).load("receiver")()
    line = Line(baudrate)
    for i in reversed(range(len(wire))):
        spoilt = wire[:i] + bytes([wire[i] ^ 1]) + wire[i + 1:]
        requests = receiver.feed(spoilt, 0.0, line) + receiver.feed(b"", FRAME_END_S, line)
        for request in requests:
            try:
                receiver.decode(request)
            except ValueError:
                try:
                    receiver.decode_unchecked(request)
                except ValueError:
                    continue
                return spoilt
    raise ValueError(f"{protocol}: no single bit flip of {wire.hex(' ')} is caught by its "
                     "check alone")


def longest_frame(protocol: str) -> int:
    """The longest frame its receivers take; longer is over-long."""
    return registry.get(protocol).load("receiver").longest


def mutations(wire: bytes, longest: int, *, overlong_only: bool = False
              ) -> st.SearchStrategy[bytes]:
    """Bytes made from a valid request: bits flipped, bytes replaced, dropped or put in, the
    frame cut short, or stretched past the longest frame (only that with `overlong_only`)."""
    size = len(wire)
    index = st.integers(0, size - 1)
    stretched = st.builds(lambda i, extra: wire[:i] + extra + wire[i:], index,
                          st.binary(min_size=longest + 1 - size, max_size=longest + 16 - size))
    if overlong_only:
        return stretched

    def flip(i: int, bit: int) -> bytes:
        return wire[:i] + bytes([wire[i] ^ 1 << bit]) + wire[i + 1:]

    return st.one_of(
        st.builds(flip, index, st.integers(0, 7)),
        st.builds(lambda i, b: wire[:i] + bytes([b]) + wire[i + 1:], index, st.integers(0, 255)),
        st.builds(lambda i: wire[:i] + wire[i + 1:], index),
        st.builds(lambda i, b: wire[:i] + b + wire[i:], index, st.binary(min_size=1, max_size=4)),
        st.builds(lambda n: wire[:n], st.integers(1, size - 1)),
        stretched,
    )


def save_failure(reports: Path, test: str, *, rig: str, position: int, protocol: str,
                 frame: bytes, verdict: str) -> Path:
    """Write the failing frame (the shrunk one: hypothesis replays it last) for replay."""
    folder = reports / FAILURES
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in test).strip("-")
    path = folder / f"{name}.json"
    path.write_text(json.dumps({
        "test": test, "rig": rig, "position": position, "protocol": protocol,
        "frame": frame.hex(" ").upper(), "verdict": verdict,
        "saved_at": datetime.now(UTC).isoformat(),
        "replay": f"meterrig replay {path} --rig {rig}",
    }, indent=2) + "\n")
    return path


@attrs.frozen
class Failure:
    position: int
    protocol: str
    frame: bytes
    verdict: str
    rig: str

    @classmethod
    def load(cls, path: Path) -> Failure:
        """A saved failure; ValueError naming the file and what is wrong."""
        try:
            data = json.loads(path.read_text())
            return cls(int(data["position"]), str(data["protocol"]),
                       bytes.fromhex(data["frame"]), str(data["verdict"]), str(data["rig"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a saved robustness failure ({exc})") from exc
