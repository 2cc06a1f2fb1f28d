"""The rig's clock for metrology: real time on hardware, N× faster on a simulated bench.

Protocol timing always runs in real time; only durations of metrology (energy dosing, creep
and starting periods) go through this clock.
"""

from __future__ import annotations

import time

import attrs


@attrs.define
class RigClock:
    speedup: float = 1.0
    _origin: float = attrs.field(factory=time.monotonic, init=False)

    def now(self) -> float:
        """Rig seconds since the clock was made."""
        return (time.monotonic() - self._origin) * self.speedup

    def real_seconds(self, rig_seconds: float) -> float:
        return rig_seconds / self.speedup

    def sleep(self, rig_seconds: float) -> None:
        time.sleep(self.real_seconds(rig_seconds))
