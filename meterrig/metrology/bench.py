"""The metering bench: the source, reference standard and error calculator of a rig, driven
for a group of positions at once.

Durations run on the rig clock: every measurement of pulses first waits for the voltage and
the load to settle. The instruments count and compare pulses; what the figures mean is the
procedure's (procedure.py).
"""

from __future__ import annotations

from typing import NamedTuple

from meterrig.config import PositionConfig
from meterrig.instruments import ErrorCalculator, PowerSource, ReferenceStandard

from . import maths
from .standards import LoadPoint, Settling

J_PER_KWH = 3.6e6
SETTLE_TIMEOUT_S = 60.0  # real seconds a source may take to report a stable output
GATE_MARGIN = 3.0  # a pulse-comparison run may take this many times its expected duration


def unity_point(position: PositionConfig, name: str, current: float,
                voltage: float | None = None) -> LoadPoint:
    """A PF 1 point at the position's reference voltage (unless given) and frequency."""
    return LoadPoint(name=name, current=current, power_factor=1.0, kind="unity",
                     voltage=position.un if voltage is None else voltage, frequency=position.fn)


class PointResult(NamedTuple):
    """The pulse-comparison readings of one position at one load point."""

    readings: tuple[float | None, ...]  # None: the run did not finish (no or too few pulses)

    @property
    def errors(self) -> list[float]:
        return [r for r in self.readings if r is not None]

    @property
    def mean(self) -> float | None:
        return maths.mean(self.errors) if self.errors and None not in self.readings else None


class MeteringBench:
    """The rig's metering instruments. A rig without them raises LookupError naming the one
    missing (Rig.instrument)."""

    def __init__(self, rig) -> None:
        self.rig = rig
        self.source: PowerSource = rig.instrument(PowerSource)
        self.reference: ReferenceStandard = rig.instrument(ReferenceStandard)
        self.calculator: ErrorCalculator = rig.instrument(ErrorCalculator)
        self._energised_at: float | None = None  # rig time the source's voltage came on

    def apply(self, point: LoadPoint, settling: Settling | None = None) -> None:
        """Set the source to `point`. With `settling`, then wait on the rig clock until the
        load has been steady and the voltage on for as long as it asks, so that what follows
        measures the meter settled."""
        self.source.apply(point.voltage, point.current, point.phase_deg, point.frequency)
        self.source.wait_settled(SETTLE_TIMEOUT_S)
        now = self.rig.clock.now()
        if self._energised_at is None:
            self._energised_at = now
        if settling is not None:
            self.rig.clock.sleep(max(settling.load_s,
                                     self._energised_at + settling.voltage_s - now))

    def off(self) -> None:
        self.source.off()
        self._energised_at = None

    def idle(self, position: PositionConfig) -> None:
        """Voltage on, no current: the state between measurements."""
        self.apply(unity_point(position, "idle", 0.0))

    def compare(self, group: tuple[PositionConfig, ...], point: LoadPoint, pulses: int,
                times: int) -> dict[int, list[float | None]]:
        """`times` pulse-comparison runs of `pulses` meter pulses each, every position of the
        group at once, at the point already applied: each position's errors in %, None for a
        run that did not finish."""
        reference_constant = self.reference.constant()
        slowest = max(maths.pulse_period_s(p.constant, point.voltage, point.current,
                                           point.power_factor, p.elements) for p in group)
        readings: dict[int, list[float | None]] = {p.number: [] for p in group}
        for _ in range(times):
            for p in group:
                self.calculator.configure(p.number, p.constant, pulses, reference_constant)
                self.calculator.start(p.number)

            def all_done() -> bool:
                return all(self.calculator.status(p.number).state == "done" for p in group)

            self.rig.clock.wait_for(all_done, GATE_MARGIN * (pulses + 1) * slowest)
            for p in group:
                done = self.calculator.status(p.number).state == "done"
                readings[p.number].append(self.calculator.result(p.number) if done else None)
        return readings

    def count_pulses(self, group: tuple[PositionConfig, ...], point: LoadPoint,
                     settling: Settling, duration_s: float) -> dict[int, int]:
        """Test-output pulses of every position in `duration_s` rig seconds at `point`, counted
        once the meters have settled there."""
        self.apply(point, settling)
        self.start_counting(group)
        self.rig.clock.sleep(duration_s)
        return self.pulse_counts(group)

    def start_counting(self, group: tuple[PositionConfig, ...]) -> None:
        for p in group:
            self.calculator.start_counting(p.number)

    def pulse_counts(self, group: tuple[PositionConfig, ...]) -> dict[int, int]:
        return {p.number: self.calculator.pulse_count(p.number) for p in group}

    def dose(self, point: LoadPoint, energy_kwh: float) -> None:
        """Apply `point` for as long as it takes to deliver `energy_kwh` (rig time)."""
        self.apply(point)
        self.rig.clock.sleep(energy_kwh * J_PER_KWH
                             / (point.voltage * point.current * point.power_factor))
