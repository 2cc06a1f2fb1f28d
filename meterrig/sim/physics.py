"""The bench physics: one AC source feeds every position; each meter registers what it sees.

The source's voltage, current, phase angle and frequency reach every position. A meter's
registers integrate the true power, scaled by its own error, on the rig clock; an open relay
stops registration. DL/T 645 registers (and later the test-output pulses) come from here.
"""

from __future__ import annotations

import math
import threading

import attrs

from ..clock import RigClock


@attrs.define
class SourceState:
    voltage: float = 220.0
    current: float = 0.0
    phase_deg: float = 0.0  # current lags voltage by this angle (inductive positive)
    frequency: float = 50.0
    output_on: bool = True

    @property
    def power_factor(self) -> float:
        return math.cos(math.radians(self.phase_deg))

    @property
    def active_power_w(self) -> float:
        if not self.output_on:
            return 0.0
        return self.voltage * self.current * self.power_factor


@attrs.define
class MeterPhysics:
    """What one position's meter has registered."""

    error_percent: float = 0.0
    relay_closed: bool = True
    forward_kwh: float = 0.0
    reverse_kwh: float = 0.0

    def registered_power_w(self, source: SourceState) -> float:
        if not self.relay_closed:
            return 0.0
        return source.active_power_w * (1 + self.error_percent / 100)


@attrs.frozen
class Readings:
    """Instantaneous values a meter measures at its terminals."""

    voltage: float
    current: float
    active_power_w: float
    power_factor: float
    frequency: float


class BenchPhysics:
    def __init__(self, clock: RigClock, meters: dict[int, MeterPhysics]) -> None:
        self.clock = clock
        self.source = SourceState()
        self.meters = meters
        self._lock = threading.Lock()
        self._integrated_to = clock.now()

    def _integrate(self) -> None:
        """Bring every register up to now; called before any change and any reading."""
        now = self.clock.now()
        hours = (now - self._integrated_to) / 3600
        self._integrated_to = now
        for meter in self.meters.values():
            kwh = meter.registered_power_w(self.source) * hours / 1000
            if kwh >= 0:
                meter.forward_kwh += kwh
            else:
                meter.reverse_kwh -= kwh

    def set_source(self, **changes: float | bool) -> None:
        with self._lock:
            self._integrate()
            self.source = attrs.evolve(self.source, **changes)

    def set_relay(self, position: int, closed: bool) -> None:
        with self._lock:
            self._integrate()
            self.meters[position].relay_closed = closed

    def registers(self, position: int) -> MeterPhysics:
        """A snapshot of one meter's registers, integrated up to now."""
        with self._lock:
            self._integrate()
            return attrs.evolve(self.meters[position])

    def clear_registers(self, position: int) -> None:
        with self._lock:
            self._integrate()
            meter = self.meters[position]
            meter.forward_kwh = meter.reverse_kwh = 0.0

    def readings(self, position: int) -> Readings:
        with self._lock:
            source = self.source
            current = source.current if source.output_on and self.meters[position].relay_closed else 0.0
            return Readings(
                voltage=source.voltage if source.output_on else 0.0,
                current=current,
                active_power_w=source.voltage * current * source.power_factor,
                power_factor=source.power_factor,
                frequency=source.frequency,
            )
