"""Measurements: every measured value with its unit, limits, verdict and the clause it checks.

A measurement is recorded as soon as it is made (one JSON line, flushed), whatever its verdict,
so an interrupted run keeps everything it measured. Reports read these records, never a test's
locals.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import attrs

PASS, FAIL = "pass", "fail"


@attrs.frozen
class Limits:
    """An inclusive range; either end may be open. `source` says where the numbers come from;
    `unit`, when given, is the only unit a value may be judged against them in."""

    low: float | None = None
    high: float | None = None
    source: str = ""
    unit: str = ""

    def admit(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}…{self.high:g}"
        if self.low is not None:
            return f"≥ {self.low:g}"
        return f"≤ {self.high:g}" if self.high is not None else "any"


@attrs.frozen
class Measurement:
    name: str
    value: Any
    unit: str
    clause: str
    verdict: str
    limits: Limits | None = None
    expected: Any = None  # for checks of a value against one expected value
    position: int | None = None
    test: str = ""
    time: str = attrs.field(factory=lambda: datetime.now(UTC).isoformat())
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    def describe(self) -> str:
        """One line a QA engineer can act on."""
        where = f"position {self.position}: " if self.position is not None else ""
        value = f"{self.value:g}" if isinstance(self.value, float) else f"{self.value}"
        shown = f"{value} {self.unit}".rstrip()
        if self.limits is not None:
            bound = f"within {self.limits} {self.unit}".rstrip()
        else:
            bound = f"= {self.expected}"
        sense = "is" if self.passed else "is not"
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}{self.name} {shown} {sense} {bound}{detail} ({self.clause})"

    def to_record(self) -> dict:
        record = attrs.asdict(self, recurse=True)
        record["value"] = _plain(self.value)
        record["expected"] = _plain(self.expected)
        return record


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def judge(name: str, value: float, unit: str, limits: Limits, clause: str,
          **where: Any) -> Measurement:
    if limits.unit and limits.unit != unit:
        raise ValueError(f"{name}: a value in {unit!r} judged against limits in "
                         f"{limits.unit!r} ({limits.source})")
    return Measurement(name=name, value=value, unit=unit, clause=clause, limits=limits,
                       verdict=PASS if limits.admit(value) else FAIL, **where)


def compare(name: str, value: Any, expected: Any, clause: str, unit: str = "",
            **where: Any) -> Measurement:
    return Measurement(name=name, value=value, unit=unit, clause=clause, expected=expected,
                       verdict=PASS if value == expected else FAIL, **where)


class MeasurementLog:
    """Append-only JSON-lines file, one measurement a line, flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.measurements: list[Measurement] = []

    def record(self, measurement: Measurement, **context: Any) -> Measurement:
        with self._lock:
            self.measurements.append(measurement)
            self._file.write(json.dumps({**context, **measurement.to_record()}) + "\n")
            self._file.flush()
        return measurement

    def close(self) -> None:
        self._file.close()
