"""The metering procedure: accuracy, influence, starting, creep, constant and relay switching,
each measured for a group of same-rated positions at once and judged per position.

A test asks for "the measurement of this for this position's group": the procedure makes it if
this run has not, or returns the one it made, with its identity (group.py). Either way the
figures are those of one recorded group measurement, so which test asks first changes nothing
but who waits for it. A failing position never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar

from meterrig.config import PositionConfig

from . import maths
from .bench import MeteringBench, PointResult, unity_point
from .curves import CurvePoint, power_factor_label
from .group import GroupLog, GroupMeasurement, rating, same_rated
from .standards import ConstantTest, CreepTest, InfluencePoint, LoadPoint, Standard, StartingTest

T = TypeVar("T")


class Measured(NamedTuple, Generic[T]):
    """One position's figures, and the group measurement they come from."""

    figures: T
    group: GroupMeasurement


class BackToBack(NamedTuple):
    """Readings at an influence test's reference point and, straight after, under the influence."""

    reference: PointResult
    varied: PointResult


class Dosed(NamedTuple):
    register_advance_kwh: Decimal  # read over the protocol
    pulses: int  # test-output pulses counted over the same span


class Switched(NamedTuple):
    open_pulses: int
    open_advance_kwh: Decimal
    closed_pulses: int


class MeteringProcedure:
    """The procedure run on a metering bench; every group measurement it makes is kept in
    `measurements` and written to `log` (if given) as it is made."""

    def __init__(self, bench: MeteringBench, log: GroupLog | None = None) -> None:
        self.bench = bench
        self.rig = bench.rig
        self.log = log
        self.measurements: dict[tuple, GroupMeasurement] = {}

    def group(self, position: PositionConfig) -> tuple[PositionConfig, ...]:
        return same_rated(self.rig.positions, position)

    def measurement(self, what: str, points: tuple[LoadPoint, ...],
                    group: tuple[PositionConfig, ...],
                    measure: Callable[[], Mapping[int, Any]]) -> GroupMeasurement:
        """The group's measurement of `what` at `points`: made by `measure` if this run has
        none yet, else the one made and recorded before."""
        key = (what, points, tuple(p.number for p in group))
        if key not in self.measurements:
            started = self.rig.clock.now()
            figures = dict(measure())
            made = GroupMeasurement(number=len(self.measurements) + 1, what=what, points=points,
                                    positions=tuple(figures), started_s=started,
                                    finished_s=self.rig.clock.now(), figures=figures)
            self.measurements[key] = made
            if self.log is not None:
                self.log.record(made)
        return self.measurements[key]

    def _share(self, position: PositionConfig, what: str, points: tuple[LoadPoint, ...],
               measure: Callable[[tuple[PositionConfig, ...]], Mapping[int, Any]]) -> Measured:
        group = self.group(position)
        made = self.measurement(what, points, group, lambda: measure(group))
        return Measured(made.of(position), made)

    def _settling(self, group: tuple[PositionConfig, ...]):
        return Standard.for_rating(rating(group[0])).settling()

    def accuracy(self, position: PositionConfig, point: LoadPoint) -> Measured[PointResult]:
        """This position's pulse-comparison readings at `point`."""
        return self._share(position, "accuracy", (point,),
                           lambda group: self._pulse_comparison(group, point))

    def _pulse_comparison(self, group: tuple[PositionConfig, ...],
                          point: LoadPoint) -> dict[int, PointResult]:
        meter = rating(group[0])
        standard = Standard.for_rating(meter)
        run = standard.accuracy_run(meter, point)
        limits = standard.accuracy_limits(meter, point)
        self.bench.apply(point, run.settling)
        readings = self.bench.compare(group, point, run.dut_pulses, run.readings)
        # Near the limit one more set decides (the re-measure rule).
        close = tuple(p for p in group if readings[p.number] and None not in readings[p.number]
                      and maths.needs_remeasure(maths.mean(readings[p.number]), limits,
                                                run.remeasure_band))
        if close:
            for number, more in self.bench.compare(close, point, run.dut_pulses,
                                                   run.readings).items():
                readings[number] += more
        return {n: PointResult(tuple(r)) for n, r in readings.items()}

    def influence(self, position: PositionConfig, test: InfluencePoint,
                  sign: int) -> Measured[BackToBack]:
        """This position's readings at the test's reference point and, straight after, at its
        variation `sign` (0 down, 1 up): measured back to back, so that nothing but the
        influence changes between them."""
        varied = test.varied[sign]
        what = f"influence {test.influence} {'+' if sign else '−'}{test.change:.0%}"

        def back_to_back(group: tuple[PositionConfig, ...]) -> dict[int, BackToBack]:
            reference = self._pulse_comparison(group, test.point)
            changed = self._pulse_comparison(group, varied)
            return {n: BackToBack(reference[n], changed[n]) for n in reference}

        return self._share(position, what, (test.point, varied), back_to_back)

    def _pulses(self, what: str, position: PositionConfig, point: LoadPoint,
                duration_s: float) -> Measured[int]:
        return self._share(position, what, (point,), lambda group: self.bench.count_pulses(
            group, point, self._settling(group), duration_s))

    def starting(self, position: PositionConfig, test: StartingTest) -> Measured[int]:
        """Pulses at the starting current over the test's duration."""
        return self._pulses("starting", position,
                            unity_point(position, "Ist PF 1", test.current), test.duration_s)

    def creep(self, position: PositionConfig, test: CreepTest) -> Measured[int]:
        """Pulses with voltage and no current over the no-load period."""
        return self._pulses("creep", position,
                            unity_point(position, "no load", 0.0, voltage=test.voltage),
                            test.duration_s)

    def constant(self, position: PositionConfig, test: ConstantTest) -> Measured[Dosed]:
        """Register advance (kWh, read over the protocol) and pulses counted while dosing."""
        return self._share(position, "constant", (test.point,),
                           lambda group: self._dose(group, test))

    def _dose(self, group: tuple[PositionConfig, ...], test: ConstantTest) -> dict[int, Dosed]:
        meters = {p.number: self.rig.meter(p.number) for p in group}
        self.bench.idle(group[0])
        before = self._each(meters, lambda m: m.forward_energy_kwh())
        # Count from no load to no load, so register and pulses see the same energy, ramps
        # and settling included.
        self.bench.start_counting(group)
        self.bench.dose(test.point, test.energy_kwh)
        self.bench.idle(group[0])
        pulses = self.bench.pulse_counts(group)
        after = self._each(meters, lambda m: m.forward_energy_kwh())
        return {n: Dosed(after[n] - before[n], pulses[n]) for n in meters}

    def relay(self, position: PositionConfig, pulses: int) -> Measured[Switched]:
        """With every relay of the group tripped, then closed again, at Ib: pulses and register
        advance while open, pulses once closed. Each phase lasts `pulses` pulse periods."""
        point = unity_point(position, "Ib PF 1", position.ib)
        return self._share(position, "relay", (point,),
                           lambda group: self._switch(group, point, pulses))

    def _switch(self, group: tuple[PositionConfig, ...], point: LoadPoint,
                pulses: int) -> dict[int, Switched]:
        seconds = pulses * max(maths.pulse_period_s(p.constant, point.voltage, point.current,
                                                    elements=p.elements) for p in group)
        settling = self._settling(group)
        # Only relays the rig can close again are tripped: a model closed only by its customer's
        # button (1B) would stay open for every later test.
        meters = {p.number: m for p in group if (m := self.rig.meter(p.number)).closes_by_command}
        self.bench.idle(group[0])
        try:
            # waits each model's trip delay; the pulses judge whether it opened
            self._each(meters, lambda m: m.trip())
            before = self._each(meters, lambda m: m.forward_energy_kwh())
            open_pulses = self.bench.count_pulses(group, point, settling, seconds)
            self.bench.idle(group[0])
            after = self._each(meters, lambda m: m.forward_energy_kwh())
            advance = {n: after[n] - before[n] for n in meters}
        finally:
            self._each(meters, lambda m: m.close())
        closed_pulses = self.bench.count_pulses(group, point, settling, seconds)
        self.bench.idle(group[0])
        return {n: Switched(open_pulses[n], advance[n], closed_pulses[n]) for n in meters}

    def _each(self, meters: Mapping[int, Any], do: Callable[[Any], T]) -> dict[int, T]:
        """`do` for every meter, the buses in parallel and each bus's meters in turn (a bus
        carries one exchange at a time): a station of many buses takes as long as one. The
        first error, if any, is raised once every bus is done."""
        buses: dict[str, list[int]] = {}
        for number in meters:
            buses.setdefault(self.rig.config.position(number).bus, []).append(number)

        def on_bus(numbers: list[int]) -> dict[int, T]:
            return {n: do(meters[n]) for n in numbers}

        if len(buses) == 1:
            return on_bus(next(iter(buses.values())))
        with ThreadPoolExecutor(max_workers=len(buses)) as pool:
            done = [pool.submit(on_bus, numbers) for numbers in buses.values()]
        return {n: result for future in done for n, result in future.result().items()}

    def curves(self) -> dict[int, list[CurvePoint]]:
        """Every accuracy measurement of every position, for the error-curve plots."""
        curves: dict[int, list[CurvePoint]] = {}
        for made in self.measurements.values():
            if made.what != "accuracy":
                continue
            point = made.points[0]
            for number, result in made.figures.items():
                meter = rating(self.rig.config.position(number))
                limits = Standard.for_rating(meter).accuracy_limits(meter, point)
                curves.setdefault(number, []).append(CurvePoint(
                    point.current, power_factor_label(point.power_factor, point.kind),
                    result.mean, limits.high))
        return curves
