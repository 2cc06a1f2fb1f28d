"""Noise on a simulated bus: bit errors and bursts, in both directions, content and timing.

A bit error hits each bit of a character with probability `ber`: a data bit flips; a start bit
hit loses the character (the receiver's framing never forms), so a frame also comes shorter and
its bytes later than they should. A burst is a run of random bytes put into a frame (a share
`bursts` of the frames, each direction), taking wire time like any bytes.
"""

from __future__ import annotations

import random

import attrs

BURST_BYTES = (1, 16)  # a burst's length, smallest and largest
DATA_BITS = 8


@attrs.define
class Noise:
    ber: float = 0.0
    bursts: float = 0.0
    seed: int = 0
    rng: random.Random = attrs.field(init=False)
    bytes_seen: int = 0  # counts, for the bench's own report
    bytes_hit: int = 0

    def __attrs_post_init__(self) -> None:
        for name, value in (("ber", self.ber), ("bursts", self.bursts)):
            if not 0 <= value <= 1:
                raise ValueError(f"noise {name} is a probability from 0 to 1, got {value}")
        self.rng = random.Random(self.seed)

    @property
    def quiet(self) -> bool:
        return not (self.ber or self.bursts)

    def corrupt(self, data: bytes) -> bytes:
        """The bytes as the far end receives them."""
        if self.quiet or not data:
            return data
        rng, out = self.rng, bytearray()
        for byte in data:
            self.bytes_seen += 1
            if rng.random() < self.ber:  # the start bit: the character is lost
                self.bytes_hit += 1
                continue
            hit = byte
            for bit in range(DATA_BITS):
                if rng.random() < self.ber:
                    hit ^= 1 << bit
            self.bytes_hit += hit != byte
            out.append(hit)
        if self.bursts and rng.random() < self.bursts:
            at = rng.randint(0, len(out))
            out[at:at] = rng.randbytes(rng.randint(*BURST_BYTES))
            self.bytes_hit += 1
        return bytes(out)
