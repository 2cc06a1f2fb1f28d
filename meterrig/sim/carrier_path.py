"""How a simulated carrier module reaches its meters: a path over the mains that may lose frames.

The module (Q/GDW 1376.2 side) hands a DL/T 645 frame to a `CarrierPath` and gets back the
meter's reply, or None, with what the module would report of the exchange. The simulated
power-line network (plc_network.py) is one.
"""

from __future__ import annotations

from typing import Protocol

import attrs


class CarrierPath(Protocol):
    def relay(self, destination: bytes, frame: bytes) -> RelayResult: ...


@attrs.frozen
class RelayResult:
    reply: bytes | None        # the meter's DL/T 645 reply frame, or None if lost
    latency_s: float           # end-to-end over the mains, retries inside the module included
    route: tuple[bytes, ...]   # relay meter addresses used (empty: direct)
    signal_quality: int        # 0..15, as reported in the uplink R field
    phase: int                 # 1..3, 0 unknown
