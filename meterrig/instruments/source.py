"""The phantom load: a programmable AC source that feeds every position."""

from __future__ import annotations

import time

import attrs

from .reference import ReferenceReading
from .visa import InstrumentError, VisaInstrument

SETTLE_POLL_S = 0.05


@attrs.define
class PowerSource:
    io: VisaInstrument

    def apply(self, voltage: float, current: float, phase_deg: float, frequency: float) -> None:
        """Set all four, then turn the output on (from off, the meters see only the new load)."""
        self.io.write("voltage", voltage=voltage)
        self.io.write("current", current=current)
        self.io.write("phase", phase_deg=phase_deg)
        self.io.write("frequency", frequency=frequency)
        self.io.write("output_on")

    def off(self) -> None:
        self.io.write("output_off")

    def on(self) -> None:
        """The output back on at its last settings (the meters' voltage returns)."""
        self.io.write("output_on")

    def settled(self) -> bool:
        return self.io.query("settled")

    def wait_settled(self, timeout_s: float) -> None:
        # Real time: this waits on instrument I/O, not on a metrology duration.
        deadline = time.monotonic() + timeout_s
        while not self.settled():
            if time.monotonic() >= deadline:
                raise InstrumentError(f"{self.io.label}: not settled after {timeout_s} s")
            time.sleep(SETTLE_POLL_S)

    def measure(self) -> ReferenceReading:
        """The source's own read-back, if its map has a `measure` query."""
        if "measure" not in self.io.command_map.queries:
            raise InstrumentError(f"{self.io.label}: its map {self.io.command_map.path} has "
                                  "no measure query")
        return ReferenceReading.from_values(self.io, self.io.query("measure"))

    def close(self) -> None:
        self.io.close()
