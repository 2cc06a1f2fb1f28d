"""Stand-ins for the rig's clock and source in self-tests of the metering procedure."""

from __future__ import annotations


class Clock:
    """A rig clock that only moves when slept on, and says how it was slept."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class Source:
    """A power source that takes every setting and is settled at once."""

    def apply(self, *setting: float) -> None:
        pass

    def wait_settled(self, timeout_s: float) -> None:
        pass

    def off(self) -> None:
        pass
