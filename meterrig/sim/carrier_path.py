"""What the simulated carrier module needs of the power-line network between it and the meters:
one relay of a DL/T 645 frame to a meter and what came back. The network model
(meterrig/sim/plc_network.py) implements it; both sides import these from here."""

from __future__ import annotations

from typing import Protocol

import attrs


@attrs.frozen
class RelayResult:
    reply: bytes | None  # the meter's DL/T 645 reply frame, or None if lost
    latency_s: float  # end-to-end over the mains, retries inside the module included
    route: tuple[bytes, ...]  # relay meter addresses used (empty: direct)
    signal_quality: int  # 0..15, as reported in the uplink R field
    phase: int  # 1..3, 0 unknown


class CarrierPath(Protocol):
    def relay(self, destination: bytes, frame: bytes) -> RelayResult:
        """Send `frame` to the meter at `destination` (6 address bytes, low byte first, as
        field A carries them) over the mains, and bring its reply."""
        ...
