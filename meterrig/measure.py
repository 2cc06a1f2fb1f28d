"""Measurements: every measured value with its unit, limits, verdict and the clause it checks.

A measurement is recorded as soon as it is made (one JSON line, flushed), whatever its verdict,
so an interrupted run keeps everything it measured. Reports read these records, never a test's
locals.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import attrs

from .appending import append_line


class Outcome(StrEnum):
    """A measurement's verdict (its `verdict` field in measurements.jsonl)."""

    PASS = "pass"  # the value, with its uncertainty, lies inside the limits
    FAIL = "fail"  # the value, with its uncertainty, lies wholly outside them
    INCONCLUSIVE = "inconclusive"  # neither: the rig cannot tell (the detail says why)
    SKIPPED = "skipped"  # not measured: the test was skipped (the detail says why)
    # Declared by its test (the `measures` marker) and never made: the test ended first (a
    # skip, a failure, a crash; the detail says which). SKIPPED is the skipped test's own one
    # record; UNSET is each measurement a test owed, whatever ended it.
    UNSET = "unset"


# pytest has no inconclusive outcome: a test whose figure could not be judged ends skipped with
# a reason that starts so (fixtures/reporting.py), and line mode reads it back (meterrig/line.py).
INCONCLUSIVE_SKIP = "INCONCLUSIVE: "


@attrs.frozen
class Limits:
    """An inclusive range; either end may be open. `source` says where the numbers come from;
    `unit` is the only unit a value may be judged against them in ("" for a unitless count)."""

    low: float | None = None
    high: float | None = None
    source: str = ""
    unit: str = ""

    def admit(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def verdict(self, value: float, uncertainty: float | None = None,
                unit: str = "") -> tuple[Outcome, str]:
        """The judging rule: PASS only when value ± uncertainty lies inside the limits, FAIL
        only when it lies wholly outside, otherwise INCONCLUSIVE with the reason."""
        u = uncertainty or 0.0
        if (self.low is not None and value + u < self.low) or \
                (self.high is not None and value - u > self.high):
            return Outcome.FAIL, ""
        if self.admit(value - u) and self.admit(value + u):
            return Outcome.PASS, ""
        near = self.low if self.low is not None and value - u < self.low else self.high
        unit = f" {unit}" if unit else ""
        return Outcome.INCONCLUSIVE, (f"{value:g} ± {u:g}{unit} reaches across the limit "
                                      f"{near:g}{unit}: the rig cannot tell which side of it "
                                      "the true value is")

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}…{self.high:g}"
        if self.low is not None:
            return f"≥ {self.low:g}"
        return f"≤ {self.high:g}" if self.high is not None else "any"


@attrs.frozen
class Measurement:
    name: str  # for reading: may hold values ("length of 00010000 (…)")
    value: Any
    unit: str
    clause: str
    verdict: Outcome
    limits: Limits | None = None
    expected: Any = None  # for checks of a value against one expected value
    position: int | None = None
    test: str = ""
    time: str = attrs.field(factory=lambda: datetime.now(UTC).isoformat())
    detail: str = ""
    uncertainty: float | None = None  # ± in the value's unit; None when the value is exact
    # The stable name of what is measured, the same in every run ("dlt645_read.value_length"),
    # and what tells this one apart from the others of its key in a test ({"position": 1,
    # "di": "00010000"}): no value of the measurement is in the key.
    key: str = ""
    dimensions: dict[str, Any] = attrs.field(factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == Outcome.PASS

    @property
    def failed(self) -> bool:
        return self.verdict == Outcome.FAIL

    def describe(self) -> str:
        """One line a QA engineer can act on."""
        where = f"position {self.position}: " if self.position is not None else ""
        detail = f": {self.detail}" if self.detail else ""
        if self.verdict in (Outcome.SKIPPED, Outcome.UNSET):
            return f"{where}{self.name} {self.verdict}{detail} ({self.clause})"
        if self.limits is not None:
            against = f"{self.limits} {self.unit}".rstrip()
            bound = f"within {against}"
        else:
            against = bound = f"= {self.expected}"
        if self.value is None:  # not measurable on this rig
            return f"{where}{self.name} not measured, cannot be judged {bound}{detail} " \
                   f"({self.clause})"
        value = f"{self.value:g}" if isinstance(self.value, float) else f"{self.value}"
        if self.uncertainty is not None:
            value += f" ± {self.uncertainty:g}"
        shown = f"{value} {self.unit}".rstrip()
        judged = {Outcome.PASS: f"is {bound}", Outcome.FAIL: f"is not {bound}"}.get(
            self.verdict, f"is inconclusive against {against}")
        return f"{where}{self.name} {shown} {judged}{detail} ({self.clause})"

    def to_record(self) -> dict:
        record = attrs.asdict(self, recurse=True)
        record["value"] = _plain(self.value)
        record["expected"] = _plain(self.expected)
        record["verdict"] = str(self.verdict)
        record["dimensions"] = {name: _plain(value) for name, value in self.dimensions.items()}
        return record


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def _joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _same_unit(name: str, unit: str, limits: Limits | None) -> None:
    """Limits in another unit (or in none, for a value that has one) are refused: a number
    judged against limits of another quantity is no verdict."""
    if limits is not None and limits.unit != unit:
        raise ValueError(f"{name}: a value in {unit!r} judged against limits in "
                         f"{limits.unit!r} ({limits.source})")


def judge(name: str, value: float, unit: str, limits: Limits, clause: str, *,
          uncertainty: float | None = None, detail: str = "", **where: Any) -> Measurement:
    """A value judged against limits by the rule of `Limits.verdict`; limits in another unit
    are refused."""
    _same_unit(name, unit, limits)
    verdict, reason = limits.verdict(value, uncertainty, unit)
    return Measurement(name=name, value=value, unit=unit, clause=clause, limits=limits,
                       verdict=verdict, uncertainty=uncertainty,
                       detail=_joined(reason, detail), **where)


def unmeasurable(name: str, unit: str, limits: Limits, clause: str, reason: str, *,
                 detail: str = "", **where: Any) -> Measurement:
    """A figure this rig cannot measure at all (e.g. timing on an unpaced link): INCONCLUSIVE,
    with no value and the reason."""
    _same_unit(name, unit, limits)
    return Measurement(name=name, value=None, unit=unit, clause=clause, limits=limits,
                       verdict=Outcome.INCONCLUSIVE, detail=_joined(reason, detail), **where)


def inconclusive(name: str, value: Any, unit: str, limits: Limits, clause: str, reason: str, *,
                 uncertainty: float | None = None, detail: str = "", **where: Any) -> Measurement:
    """A measured value that says nothing about the device (a rig fault: the reason says so)."""
    _same_unit(name, unit, limits)
    return Measurement(name=name, value=value, unit=unit, clause=clause, limits=limits,
                       verdict=Outcome.INCONCLUSIVE, uncertainty=uncertainty,
                       detail=_joined(reason, detail), **where)


def skipped(name: str, reason: str, clause: str = "", **where: Any) -> Measurement:
    """A test that did not run its checks, recorded so the measurements show it."""
    return Measurement(name=name, value=None, unit="", clause=clause, verdict=Outcome.SKIPPED,
                       detail=reason, **where)


def unset(key: str, reason: str, clause: str = "", **where: Any) -> Measurement:
    """A measurement its test declared and never made, with why the test ended first."""
    return Measurement(name=key, key=key, value=None, unit="", clause=clause,
                       verdict=Outcome.UNSET, detail=reason, **where)


def compare(name: str, value: Any, expected: Any, clause: str, unit: str = "",
            **where: Any) -> Measurement:
    return Measurement(name=name, value=value, unit=unit, clause=clause, expected=expected,
                       verdict=Outcome.PASS if value == expected else Outcome.FAIL, **where)


class MeasurementLog:
    """Append-only JSON-lines file, one measurement a line, flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.measurements: list[Measurement] = []
        # Called with each measurement once its line is written (the results database).
        self.observers: list[Callable[[Measurement], None]] = []

    def record(self, measurement: Measurement, **context: Any) -> Measurement:
        with self._lock:
            self.measurements.append(measurement)
            append_line(self._file, json.dumps({**context, **measurement.to_record()}) + "\n")
        for observer in self.observers:
            observer(measurement)
        return measurement

    def close(self) -> None:
        self._file.close()
