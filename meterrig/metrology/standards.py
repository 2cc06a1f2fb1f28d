"""Metering standards as data: load points, limits and test parameters per (standard, class).

Every number lives in meterrig/limits/<standard>.yaml with its source (/work/shared/spec/
accuracy.md, or an ASSUMPTION with its reason); this module only looks numbers up and does the
arithmetic, so a limit's `source` always says where it came from.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from ..limits import table
from ..measure import Limits
from . import maths

STANDARDS = ("iec62053-21", "en50470-3")
_KIND_OF_SUFFIX = {"": "unity", "ind": "inductive", "cap": "capacitive"}  # "0.5 ind" -> kind

# Currents computed two ways (0.1 × Ib here, 0.5 A in a test) differ by float noise; within this
# relative distance a current sits on a row boundary.
_REL_TOL = 1e-9
_PHASE_TOL_DEG = 1e-6


def _phase_deg(power_factor: float, kind: str) -> float:
    angle = math.degrees(math.acos(power_factor))
    return -angle if kind == "capacitive" else angle


def _check_kind(point: LoadPoint, _attribute: Any, kind: str) -> None:
    if kind not in _KIND_OF_SUFFIX.values():
        raise ValueError(f"load point kind {kind!r} is not one of "
                         f"{', '.join(_KIND_OF_SUFFIX.values())}")
    if not 0 < point.power_factor <= 1 or (kind == "unity") != (point.power_factor == 1):
        raise ValueError(f"power factor {point.power_factor} does not fit kind {kind!r}")


@attrs.frozen
class LoadPoint:
    """A test point: what the source applies to the meter."""

    name: str  # e.g. "0.05 Ib PF 1", "Ib PF 0.5 ind"
    current: float  # A
    power_factor: float  # (0, 1]
    kind: str = attrs.field(validator=_check_kind)  # "unity" | "inductive" | "capacitive"
    voltage: float  # V
    frequency: float  # Hz

    @property
    def phase_deg(self) -> float:
        """Angle by which current lags voltage: + inductive, − capacitive (as sim.physics)."""
        return _phase_deg(self.power_factor, self.kind)


@attrs.frozen
class MeterRating:
    """The nameplate: `ib` is Ib (IEC 62053-21) or Iref (EN 50470-3)."""

    standard: str  # "iec62053-21" | "en50470-3"
    meter_class: str = attrs.field(converter=str)  # "1", "2" | "A", "B", "C"
    un: float  # V
    ib: float  # A
    imax: float  # A
    fn: float  # Hz
    constant: int  # imp/kWh
    elements: int = 1


@attrs.frozen
class InfluencePoint:
    """An influence test: the error at `point`, then at each of `varied` (−change, +change).

    Each variation (maths.variation) is judged against Standard.influence_limits at `point`.
    """

    influence: str  # "voltage" | "frequency"
    change: float  # ± fraction of Un or fn
    point: LoadPoint
    varied: tuple[LoadPoint, LoadPoint]
    source: str


@attrs.frozen
class CreepTest:
    """No load: current circuit open, `voltage` applied, at most `max_pulses` in `duration_s`,
    the longest of `periods` (name → seconds); `governing` names it."""

    voltage: float
    periods: dict[str, float]
    max_pulses: int
    source: str

    @property
    def governing(self) -> str:
        return max(self.periods, key=self.periods.__getitem__)

    @property
    def duration_s(self) -> float:
        return self.periods[self.governing]


@attrs.frozen
class StartingTest:
    """At `current` (Un, PF 1) the meter gives at least `min_pulses` within `duration_s`."""

    current: float
    duration_s: float
    min_pulses: int
    source: str


@attrs.frozen
class ConstantTest:
    """Dose at least `energy_kwh` at `point`; register and pulse energies agree within `limits`
    (percent), over at least the energy by pulses that `registered` (kWh) asks for, so that the
    register's resolution is small against the limits."""

    energy_kwh: float
    point: LoadPoint
    limits: Limits  # percent
    registered: Limits  # kWh
    source: str

    @property
    def current(self) -> float:
        return self.point.current


@attrs.frozen
class Settling:
    """How long to wait, on the rig clock, before a measurement."""

    voltage_s: float  # voltage applied this long before the first reading
    load_s: float  # after each load change
    source: str


@attrs.frozen
class AccuracyRun:
    """How to measure one point by pulse comparison."""

    dut_pulses: int  # gate length m
    min_duration_s: float  # the gate lasts longer than this
    readings: int  # the verdict uses their mean
    remeasure_band: tuple[float, float]  # fractions of the limit
    settling: Settling
    source: str


class Standard:
    """One (standard, class), built from meterrig/limits/<standard>.yaml."""

    def __init__(self, name: str, meter_class: str, data: dict) -> None:
        self.name = name
        self.meter_class = meter_class
        self.title = data["standard"]
        self._data = data

    @classmethod
    def for_rating(cls, rating: MeterRating) -> Standard:
        if rating.standard not in STANDARDS:
            raise KeyError(f"unknown standard {rating.standard!r} (known: {', '.join(STANDARDS)})")
        data = table(rating.standard)
        if rating.meter_class not in data["classes"]:
            raise KeyError(f"{data['standard']}: unknown class {rating.meter_class!r} "
                           f"(known: {', '.join(data['classes'])})")
        return cls(rating.standard, rating.meter_class, data)

    def load_points(self, rating: MeterRating) -> tuple[LoadPoint, ...]:
        """The accuracy suite's points, in the order of the data."""
        return tuple(self._point(rating, at) for at in self._data["load_points"]["points"])

    def accuracy_limits(self, rating: MeterRating, point: LoadPoint) -> Limits:
        """± percentage-error limit; ValueError when the point is in no row of the table."""
        spec = self._data["accuracy"]
        row = self._row(spec["rows"], rating, point, "accuracy table")
        return self._symmetric(row, f"{spec['source']}, row {_describe(row)}")

    def composite_mpe(self, rating: MeterRating, point: LoadPoint) -> Limits:
        """± maximum permissible composite error over the rated operating conditions (MID), not
        a limit at reference conditions; ValueError when the point is in no row."""
        spec = self._section("composite_mpe")
        row = self._row(spec["rows"], rating, point, "composite MPE table")
        return self._symmetric(row, f"{spec['source']}, row {_describe(row)}")

    def repeatability_limits(self, rating: MeterRating, point: LoadPoint) -> Limits:
        """Upper limit of the standard deviation of repeated errors, percent.

        The notes say "< 1/10 of MPE" (the composite MPE); Limits are inclusive, so a result
        exactly on it passes.
        """
        spec = self._section("repeatability")
        mpe = self.composite_mpe(rating, point)
        return Limits(high=spec["fraction_of_mpe"] * mpe.high,
                      source=f"{self._cite(spec)} (MPE: {mpe.source})", unit="%")

    def starting_current(self, rating: MeterRating) -> float:
        """Ist, A."""
        return self._amps(self._of_class(self._data["starting_current"]["value"]), rating)

    def influence_limits(self, rating: MeterRating, influence: str, point: LoadPoint) -> Limits:
        """± limit of the variation of error, percentage points, at `point`."""
        spec = self._influence(influence)
        row = self._row(spec["rows"], rating, point, f"{influence} influence table")
        return self._symmetric(row, f"{self._data['influence']['source']}, {influence} "
                                    f"±{spec['change'] * 100:g} %, row {_describe(row)}",
                               "points")

    def influence_points(self, rating: MeterRating) -> tuple[InfluencePoint, ...]:
        """Every influence of the data at each of its test points, varied by ±change."""
        quantities = self._section("influence")["quantities"]
        return tuple(self._influence_point(rating, influence, at)
                     for influence in quantities
                     for at in quantities[influence]["test_points"]["points"])

    def creep(self, rating: MeterRating, purpose: str = "production") -> CreepTest:
        """No-load test; `purpose` "production" (the minimum Δt) or "type_test" (double)."""
        spec = self._data["creep"]
        multiples = spec["t1_multiple"]["value"]
        if purpose not in multiples:
            raise KeyError(f"unknown creep purpose {purpose!r} (known: {', '.join(multiples)})")
        formula = spec["formula_2003"]
        periods = {
            f"{spec['t1_multiple']['clause']} {multiples[purpose]}·t₁":
                multiples[purpose] * self._t1_s(rating),
            formula["clause"]: maths.creep_period_2003_s(
                self._of_class(formula["constant"]), rating.constant, rating.elements,
                rating.un, rating.imax),
        }
        return CreepTest(voltage=spec["voltage_factor"] * rating.un, periods=periods,
                         max_pulses=spec["max_pulses"],
                         source=self._cite(spec, spec["t1_multiple"], self._data["pulse_time"],
                                           formula))

    def starting(self, rating: MeterRating) -> StartingTest:
        """At Ist for a multiple of t₁, at least the minimum pulses."""
        spec = self._data["starting"]
        return StartingTest(current=self.starting_current(rating),
                            duration_s=spec["t1_multiple"] * self._t1_s(rating),
                            min_pulses=spec["min_pulses"],
                            source=self._cite(self._data["starting_current"], spec,
                                              self._data["pulse_time"]))

    def constant_test(self, rating: MeterRating) -> ConstantTest:
        """Register vs pulses: the dose and the ± tolerance (1/10 of the class limit)."""
        spec = self._data["constant"]
        point = self._point(rating, spec["point"]["at"])
        class_limit = self.accuracy_limits(rating, point)
        tolerance = spec["fraction_of_class_limit"] * class_limit.high  # percent
        register = spec["register"]
        resolution = register["resolution_kwh"]
        # resolution / E × 100 ≤ fraction × tolerance  ⇔  E ≥ resolution × 100 / (fraction × tol),
        # rounded up to whole register steps (the register shows nothing finer); round() first
        # so float noise (99.999…) does not add a step
        least = resolution * 100 / (register["fraction_of_tolerance"] * tolerance)
        # A meter within its class limit registers at least (1 − limit) of the dose: dose so
        # much that even it gives the least energy.
        dose = least / (1 - class_limit.high / 100)
        energy = math.ceil(round(dose / resolution, 9)) * resolution
        source = self._cite(spec, register, spec["point"])
        return ConstantTest(energy_kwh=energy, point=point,
                            limits=Limits(-tolerance, tolerance,
                                          f"{source} (class limit: {class_limit.source})", "%"),
                            registered=Limits(low=round(least, 9), source=self._cite(register),
                                              unit="kWh"),
                            source=source)

    def accuracy_run(self, rating: MeterRating, point: LoadPoint) -> AccuracyRun:
        """Gate over at least the minimum pulses and for longer than the minimum time."""
        spec = self._data["pulse_comparison"]
        period = maths.pulse_period_s(rating.constant, point.voltage, point.current,
                                      point.power_factor, rating.elements)
        # the smallest whole m with m · period > min_duration_s
        pulses = max(spec["min_dut_pulses"], math.floor(spec["min_duration_s"] / period) + 1)
        return AccuracyRun(dut_pulses=pulses, min_duration_s=spec["min_duration_s"],
                           readings=spec["readings"],
                           remeasure_band=tuple(spec["remeasure_band"]),
                           settling=self.settling(), source=self._cite(spec))

    def settling(self) -> Settling:
        """Before any measurement of pulses: voltage on long enough, the load settled."""
        spec = self._data["pulse_comparison"]
        return Settling(voltage_s=spec["voltage_settle_s"], load_s=spec["load_settle_s"],
                        source=self._cite(spec))

    def _section(self, name: str) -> dict:
        if name not in self._data:
            raise KeyError(f"{self.title}: the notes give no {name} figures")
        return self._data[name]

    def _influence(self, influence: str) -> dict:
        quantities = self._section("influence")["quantities"]
        if influence not in quantities:
            raise KeyError(f"{self.title}: no {influence!r} influence (known: "
                           f"{', '.join(quantities)})")
        return quantities[influence]

    def _influence_point(self, rating: MeterRating, influence: str, at: list) -> InfluencePoint:
        spec = self._influence(influence)
        point = self._point(rating, at)
        symbol = {"voltage": "U", "frequency": "f"}[influence]
        varied = tuple(
            attrs.evolve(point, name=f"{point.name}, {symbol} {sign}{spec['change'] * 100:g} %",
                         **{influence: getattr(point, influence) * (1 + factor * spec["change"])})
            for sign, factor in (("−", -1), ("+", 1)))
        return InfluencePoint(influence=influence, change=spec["change"], point=point,
                              varied=varied,
                              source=self._cite(self._data["influence"], spec["test_points"]))

    def _t1_s(self, rating: MeterRating) -> float:
        """t₁: one pulse at the starting current, PF 1."""
        voltage = self._data["pulse_time"]["voltage_factor"] * rating.un
        return maths.pulse_period_s(rating.constant, voltage, self.starting_current(rating),
                                    elements=rating.elements)

    def _point(self, rating: MeterRating, at: list) -> LoadPoint:
        current, power_factor = at
        value, kind = _power_factor(power_factor)
        return LoadPoint(name=f"{current} PF {power_factor}",
                         current=self._amps(current, rating), power_factor=value, kind=kind,
                         voltage=rating.un, frequency=rating.fn)

    def _row(self, rows: list[dict], rating: MeterRating, point: LoadPoint, what: str) -> dict:
        found = [row for row in rows
                 if self._admits_current(row, rating, point.current)
                 and _admits_phase(row["power_factor"], point.phase_deg)]
        if len(found) != 1:
            raise ValueError(f"{point.name} ({point.current:g} A, PF {point.power_factor:g} "
                             f"{point.kind}) is in {len(found)} rows of the {self.title} {what} "
                             f"for class {self.meter_class}; expected 1")
        return found[0]

    def _admits_current(self, row: dict, rating: MeterRating, current: float) -> bool:
        low = self._amps(row["from"], rating)
        if current < low and not math.isclose(current, low, rel_tol=_REL_TOL):
            return False
        if "to" in row:
            high = self._amps(row["to"], rating)
            return current <= high or math.isclose(current, high, rel_tol=_REL_TOL)
        high = self._amps(row["below"], rating)
        return current < high and not math.isclose(current, high, rel_tol=_REL_TOL)

    def _symmetric(self, row: dict, where: str, unit: str = "%") -> Limits:
        limit = float(self._of_class(row["limit"]))
        return Limits(-limit, limit, f"{self.title}: {where}, class {self.meter_class}", unit)

    def _amps(self, text: str, rating: MeterRating) -> float:
        return _scaled(text, self._currents(rating))

    def _currents(self, rating: MeterRating) -> dict[str, float]:
        """The named currents of `rating`: the rated one, Imax, then the derived ones in order."""
        if (rating.standard, rating.meter_class) != (self.name, self.meter_class):
            raise ValueError(f"rating {rating.standard} class {rating.meter_class} given to "
                             f"{self.name} class {self.meter_class}")
        spec = self._data["currents"]
        currents = {spec["rated"]: rating.ib, "Imax": rating.imax}
        for derived in spec["derived"]:
            currents[derived["name"]] = _scaled(self._of_class(derived["value"]), currents)
        return currents

    def _of_class(self, value: Any) -> Any:
        """A per-class mapping's entry for this class; a plain value applies to every class."""
        return value[self.meter_class] if isinstance(value, dict) else value

    def _cite(self, *sections: dict) -> str:
        return f"{self.title}: " + "; ".join(section["source"] for section in sections)


def _scaled(text: str, currents: dict[str, float]) -> float:
    """'0.05 Ib' → 0.05 × currents['Ib']; 'Imax' → currents['Imax']."""
    factor, _, name = text.rpartition(" ")
    return (float(factor) if factor else 1.0) * currents[name]


def _power_factor(text: str) -> tuple[float, str]:
    """'1' → (1.0, 'unity'); '0.5 ind' → (0.5, 'inductive'); '0.8 cap' → (0.8, 'capacitive')."""
    value, _, suffix = str(text).partition(" ")
    return float(value), _KIND_OF_SUFFIX[suffix]


def _admits_phase(spec: list | dict, phase: float) -> bool:
    """A list names exact power factors; a {from, to} mapping is a range through unity, less
    the power factors listed under `except`."""
    if isinstance(spec, dict):
        low, high = sorted(_phase_deg(*_power_factor(spec[end])) for end in ("from", "to"))
        return (low - _PHASE_TOL_DEG <= phase <= high + _PHASE_TOL_DEG
                and not _admits_phase(spec.get("except", []), phase))
    return any(abs(phase - _phase_deg(*_power_factor(text))) <= _PHASE_TOL_DEG for text in spec)


def _describe(row: dict) -> str:
    """'0.05 Ib ≤ I < 0.1 Ib, PF 1' — the row as the notes write it."""
    upper = f"≤ {row['to']}" if "to" in row else f"< {row['below']}"
    spec = row["power_factor"]
    if isinstance(spec, dict):
        pf = f"{spec['from']}…{spec['to']}"
        if "except" in spec:
            pf += f" except {', '.join(spec['except'])}"
    else:
        pf = ", ".join(spec)
    return f"{row['from']} ≤ I {upper}, PF {pf}"
