"""The error calculator: one channel per position, gating reference pulses by meter pulses."""

from __future__ import annotations

import attrs

from .visa import InstrumentError, VisaInstrument

STATES = ("idle", "running", "done")


@attrs.frozen
class RunStatus:
    state: str  # one of STATES
    pulses_seen: int  # meter pulses since the gate opened, at most the run's `pulses`


@attrs.define
class ErrorCalculator:
    io: VisaInstrument

    def configure(self, channel: int, meter_constant: int, pulses: int,
                  reference_constant: float) -> None:
        self.io.write("configure", channel=int(channel), meter_constant=int(meter_constant),
                      pulses=int(pulses), reference_constant=float(reference_constant))

    def start(self, channel: int) -> None:
        """Begin a pulse-comparison run over the configured number of meter pulses."""
        self.io.write("start", channel=int(channel))

    def status(self, channel: int) -> RunStatus:
        state = self.io.query("state", channel=int(channel)).lower()
        if state not in STATES:
            raise self._error(channel, f"state {state!r} is none of {', '.join(STATES)}")
        return RunStatus(state, self.io.query("pulses_seen", channel=int(channel)))

    def result(self, channel: int) -> float:
        """Error %, of a run that is done; asking earlier is an error, not a stale number."""
        state = self.status(channel).state
        if state != "done":
            raise self._error(channel, f"no result: the run is {state}")
        return self.io.query("result", channel=int(channel))

    def start_counting(self, channel: int) -> None:
        self.io.write("start_counting", channel=int(channel))

    def pulse_count(self, channel: int) -> int:
        """Meter pulses since start_counting (starting, creep and constant tests)."""
        return self.io.query("pulse_count", channel=int(channel))

    def close(self) -> None:
        self.io.close()

    def _error(self, channel: int, problem: str) -> InstrumentError:
        return InstrumentError(f"{self.io.label}: channel {channel}: {problem}")
