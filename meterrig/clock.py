"""The rig's clock for metrology: real time on hardware, N× faster on a simulated bench.

Protocol timing always runs in real time; only durations of metrology (energy dosing, creep
and starting periods) go through this clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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

    def wait_for(self, done: Callable[[], bool], rig_seconds: float,
                 poll_s: float = 0.05) -> bool:
        """Poll `done` (every `poll_s` real seconds: instrument I/O, not metrology) until it is
        true or `rig_seconds` of rig time have passed; whether it came true."""
        deadline = self.now() + rig_seconds
        while not done():
            if self.now() >= deadline:
                return False
            time.sleep(poll_s)
        return True
