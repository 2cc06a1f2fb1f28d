"""The bench physics: one AC source feeds every position; each meter registers what it sees.

The source's voltage, current, phase angle and frequency reach every position (voltage circuits
in parallel; current circuits isolated or in one series loop: current_loop). Each meter
registers the true power scaled by its own error curve — a function of current and power
factor, with voltage and frequency sensitivity —
once the current is above its starting threshold and while its relay is closed, and emits
test-output pulses at its meter constant. The reference standard integrates the true energy.
DL/T 645 registers and pulses come from the same simulated energy.

Everything runs on the rig clock, so metrology may run N× faster than real time. Power is
constant between two changes of the source or a relay, so energies are integrated exactly and
the instant of any pulse is found by interpolation in the history of those stretches.

The mains wiring to meters behind a carrier module has a state of its own, `LineState`: the
injected noise and the attenuator's setting, which the power-line network reads.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_right
from collections.abc import Callable

import attrs

from ..clock import RigClock
from .defects import Defects

J_PER_KWH = 3.6e6
SETTLE_S = 10.0  # a pulse output settles ~10 s after a load change (shared/spec/accuracy.md)
HISTORY = 100_000  # stretches of constant power kept for locating pulses

# A good meter's error curve (percent): a little high at low current, a little low near Imax,
# slightly sensitive to power factor, voltage and frequency — well inside class 1 everywhere.
LOW_CURRENT_SLOPE = 0.10  # × sqrt(Ib / I)
HIGH_CURRENT_SLOPE = -0.10  # × I / Imax
PF_SLOPE = 0.20  # × (1 − PF)
VOLTAGE_SLOPE = 0.5  # × (U/Un − 1)
FREQUENCY_SLOPE = 1.0  # × (f/fn − 1)
STARTS_AT = 0.002  # × Ib: a good meter starts well below the class 1 starting current 0.004 Ib

# Seeded metrology defects (names in defects.py)
LOW_CURRENT_DEFECT = (0.1, 3.0)  # below 0.1 Ib: +3 %
PF_DEFECT = (0.6, 2.5)  # inductive PF at or below 0.6: +2.5 %
VOLTAGE_DEFECT_SLOPE = 15.0  # × (U/Un − 1): 1.5 points per 10 % of voltage
NO_START_AT = 0.010  # × Ib: does not start at 0.004 Ib
CREEP_W = 3.0  # registered with voltage and no current
WRONG_CONSTANT_REGISTER = 0.96  # the register advances 4 % less than the pulses say


@attrs.define
class SourceState:
    voltage: float = 220.0
    current: float = 0.0
    phase_deg: float = 0.0  # current lags voltage by this angle (inductive positive)
    frequency: float = 50.0
    output_on: bool = True

    @property
    def powered(self) -> bool:
        """Whether the meters' voltage circuits are live (what a meter's power supply sees)."""
        return self.output_on and self.voltage > 0

    @property
    def power_factor(self) -> float:
        return math.cos(math.radians(self.phase_deg))

    @property
    def active_power_w(self) -> float:
        if not self.output_on:
            return 0.0
        return self.voltage * self.current * self.power_factor


@attrs.frozen
class LineState:
    """The mains wiring between a carrier module and its meters, as the line instruments set it.

    Noise is the line-noise injector's: its level at the coupling point in dBµV (total rms over
    its band), its band, and continuous or bursts of `burst_s` every `burst_period_s` starting
    when its output went on (`noise_since`, real monotonic seconds: carrier frames run in real
    time, not on the rig clock). `attenuation_db` is the programmable attenuator's, in the line
    between the module and the meters. Every simulated device reads this one state
    (meterrig/sim/plc_network.py, docs/plc-network.md).
    """

    noise_on: bool = False
    noise_dbuv: float = 0.0
    noise_start_hz: float = 3_000.0
    noise_stop_hz: float = 95_000.0
    burst_s: float | None = None  # None: continuous
    burst_period_s: float | None = None
    noise_since: float = 0.0
    attenuation_db: float = 0.0

    def noise_present(self, now: float) -> bool:
        """Whether injected noise is on the line at real time `now`."""
        if not self.noise_on:
            return False
        if self.burst_s is None or self.burst_period_s is None:
            return True
        return (now - self.noise_since) % self.burst_period_s < self.burst_s


@attrs.define
class MeterPhysics:
    """One position's meter: its rating, its error, its relay, what it has registered."""

    un: float = 220.0
    ib: float = 5.0
    imax: float = 60.0
    fn: float = 50.0
    constant: int = 1200
    error_percent: float = 0.0  # this meter's own offset on top of the curve
    defects: Defects = attrs.field(factory=Defects)
    relay_closed: bool = True
    forward_kwh: float = 0.0  # the register
    reverse_kwh: float = 0.0
    pulse_kwh: float = 0.0  # energy behind the test output, from the bench's start

    def error(self, source: SourceState) -> float:
        """Registration error in percent at this source state."""
        current = max(source.current, 1e-9)
        pf = source.power_factor
        error = (self.error_percent
                 + LOW_CURRENT_SLOPE * math.sqrt(self.ib / current)
                 + HIGH_CURRENT_SLOPE * current / self.imax
                 + PF_SLOPE * (1 - pf)
                 + VOLTAGE_SLOPE * (source.voltage / self.un - 1)
                 + FREQUENCY_SLOPE * (source.frequency / self.fn - 1))
        if "low-current-error" in self.defects and current < LOW_CURRENT_DEFECT[0] * self.ib:
            error += LOW_CURRENT_DEFECT[1]
        if "pf-error" in self.defects and source.phase_deg > 0 and pf <= PF_DEFECT[0]:
            error += PF_DEFECT[1]
        if "voltage-sensitive" in self.defects:
            error += VOLTAGE_DEFECT_SLOPE * (source.voltage / self.un - 1)
        return error

    def registered_power_w(self, source: SourceState) -> float:
        """What the meter integrates: its error applied to the true power, above its start."""
        if not self.relay_closed or not source.output_on:
            return 0.0
        starts_at = (NO_START_AT if "no-start" in self.defects else STARTS_AT) * self.ib
        if source.current < starts_at:
            return CREEP_W if "creep" in self.defects and source.voltage > 0 else 0.0
        return source.active_power_w * (1 + self.error(source) / 100)

    @property
    def register_scale(self) -> float:
        return WRONG_CONSTANT_REGISTER if "wrong-constant" in self.defects else 1.0


@attrs.frozen
class Readings:
    """Instantaneous values a meter measures at its terminals."""

    voltage: float
    current: float
    active_power_w: float
    power_factor: float
    frequency: float
    phase_deg: float = 0.0  # current lags voltage by this angle (inductive positive)


@attrs.frozen
class Stretch:
    """A span of rig time with constant powers: where it starts and how fast energies grow."""

    t0: float
    reference_kwh: float  # at t0
    reference_w: float
    pulse_kwh: dict[int, float]  # per position, at t0
    pulse_w: dict[int, float]


class BenchPhysics:
    def __init__(self, clock: RigClock, meters: dict[int, MeterPhysics], *,
                 current_loop: str = "isolated") -> None:
        self.clock = clock
        # "series": the meters' current circuits are one loop, so an open relay anywhere stops
        # the current through every meter and the reference; "isolated": each meter has its
        # own current transformer, so an open relay stops only its own meter.
        self.current_loop = current_loop
        self.source = SourceState()
        self.meters = meters
        self._lock = threading.RLock()
        self._integrated_to = clock.now()
        self._changed_at = -SETTLE_S
        self._reference_kwh = 0.0
        self._history: list[Stretch] = []
        # Meters compare this with what it was when a setting was written, to apply settings
        # that take effect "after restart". The simulated meters' communication stays powered
        # (suites read meters with the source off), so a power-down restarts nothing else.
        self.power_downs = 0
        self.line = LineState()
        # The meters' buttons, by position: what a relay actuator (or a customer) presses.
        self.buttons: dict[int, Callable[[], None]] = {}
        self._mark()

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(self.meters)

    def meter_constant(self, position: int) -> int:
        return self.meters[position].constant

    @property
    def load(self) -> SourceState:
        """The source as the current loop carries it (see current_loop)."""
        if self.current_loop == "isolated" or all(m.relay_closed for m in self.meters.values()):
            return self.source
        return attrs.evolve(self.source, current=0.0)

    # -- time ---------------------------------------------------------------------------------
    def _integrate(self) -> None:
        """Bring every register up to now; called before any change and any reading."""
        now = self.clock.now()
        seconds = now - self._integrated_to
        self._integrated_to = now
        load = self.load
        self._reference_kwh += load.active_power_w * seconds / J_PER_KWH
        for meter in self.meters.values():
            kwh = meter.registered_power_w(load) * seconds / J_PER_KWH
            meter.pulse_kwh += kwh
            if kwh >= 0:
                meter.forward_kwh += kwh * meter.register_scale
            else:
                meter.reverse_kwh -= kwh * meter.register_scale

    def _mark(self) -> None:
        """Start a new stretch of constant power (after a change)."""
        self._history.append(Stretch(
            t0=self._integrated_to,
            reference_kwh=self._reference_kwh,
            reference_w=self.load.active_power_w,
            pulse_kwh={n: m.pulse_kwh for n, m in self.meters.items()},
            pulse_w={n: m.registered_power_w(self.load) for n, m in self.meters.items()},
        ))
        del self._history[:-HISTORY]

    def _change(self) -> None:
        self._integrate()
        self._mark()

    # -- what the bench does ----------------------------------------------------------------
    def set_source(self, **changes: float | bool) -> None:
        with self._lock:
            self._integrate()
            was_powered = self.source.powered
            self.source = attrs.evolve(self.source, **changes)
            if was_powered and not self.source.powered:
                self.power_downs += 1
            self._changed_at = self._integrated_to
            self._mark()

    def set_line(self, **changes: float | bool | None) -> None:
        """Change the line state (noise injector, attenuator); a noise output switched on
        starts its burst period now."""
        with self._lock:
            if changes.get("noise_on") and not self.line.noise_on:
                changes.setdefault("noise_since", time.monotonic())
            self.line = attrs.evolve(self.line, **changes)

    def settled(self) -> bool:
        return self.clock.now() - self._changed_at >= SETTLE_S

    def set_relay(self, position: int, closed: bool) -> None:
        with self._lock:
            self._integrate()
            self.meters[position].relay_closed = closed
            self._mark()

    def press_button(self, position: int) -> None:
        """The button of the meter at `position` is held (a meter without one ignores it)."""
        if position in self.buttons:
            self.buttons[position]()

    def clear_registers(self, position: int) -> None:
        with self._lock:
            self._integrate()
            meter = self.meters[position]
            meter.forward_kwh = meter.reverse_kwh = 0.0

    # -- what instruments and meters read -------------------------------------------------
    def registers(self, position: int) -> MeterPhysics:
        """A snapshot of one meter's registers, integrated up to now."""
        with self._lock:
            self._integrate()
            return attrs.evolve(self.meters[position])

    def readings(self, position: int) -> Readings:
        with self._lock:
            source, meter = self.load, self.meters[position]
            flowing = source.output_on and meter.relay_closed
            return Readings(
                voltage=source.voltage if source.output_on else 0.0,
                current=source.current if flowing else 0.0,
                active_power_w=meter.registered_power_w(source) if flowing else 0.0,
                power_factor=source.power_factor,
                frequency=source.frequency,
                phase_deg=source.phase_deg,
            )

    def reference_energy_kwh(self) -> float:
        with self._lock:
            self._integrate()
            return self._reference_kwh

    def pulses(self, position: int) -> int:
        with self._lock:
            self._integrate()
            meter = self.meters[position]
            return math.floor(meter.pulse_kwh * meter.constant + 1e-9)

    def reference_energy_at_pulse(self, position: int, n: int) -> float | None:
        """True energy (kWh) at the instant the meter at `position` emitted its n-th pulse."""
        with self._lock:
            self._integrate()
            target = n / self.meters[position].constant
            if target > self.meters[position].pulse_kwh:
                return None
            starts = [s.pulse_kwh[position] for s in self._history]
            stretch = self._history[max(bisect_right(starts, target) - 1, 0)]
            if stretch.pulse_kwh[position] > target:
                raise LookupError(f"pulse {n} of position {position} is older than the history")
            seconds = (target - stretch.pulse_kwh[position]) * J_PER_KWH / stretch.pulse_w[position]
            return stretch.reference_kwh + stretch.reference_w * seconds / J_PER_KWH
