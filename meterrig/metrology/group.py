"""Group measurements: one measurement made for every same-rated position at once.

The source serves every position of a rating with one setting, so a load point is measured
once for the whole group. That measurement is a record of its own (which positions, which load
points, when, the raw figures of each position), written to `group-measurements.jsonl` as soon
as it is made, and each position's verdict names it ("group measurement 3"): the record shows
which measurement a verdict rests on, whichever test asked for it first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import attrs

from meterrig.appending import append_line
from meterrig.config import PositionConfig

from .standards import LoadPoint, MeterRating


def rating(position: PositionConfig) -> MeterRating:
    return MeterRating(standard=position.accuracy.standard,
                       meter_class=position.accuracy.meter_class, un=position.un,
                       ib=position.ib, imax=position.imax, fn=position.fn,
                       constant=position.constant, elements=position.elements)


def group_key(position: PositionConfig) -> tuple:
    """Positions the source can serve with one setting: same protocol, same rating except the
    constant (the error calculator takes each position's own)."""
    return position.protocol, attrs.astuple(attrs.evolve(rating(position), constant=0))


def same_rated(positions: Iterable[PositionConfig],
               position: PositionConfig) -> tuple[PositionConfig, ...]:
    """The metered positions measured together with `position` (itself included)."""
    return tuple(p for p in positions
                 if p.accuracy is not None and group_key(p) == group_key(position))


@attrs.frozen
class GroupMeasurement:
    """One measurement of a group: `what` at `points`, with each position's raw figures."""

    number: int  # its identity within the run, in the order measurements were made
    what: str  # the procedure step: "accuracy", "influence voltage +10%", "creep", …
    points: tuple[LoadPoint, ...]  # the load points applied, in order
    positions: tuple[int, ...]
    started_s: float  # rig clock
    finished_s: float
    figures: Mapping[int, Any]  # position -> its raw figures
    time: str = attrs.field(factory=lambda: datetime.now(UTC).isoformat())

    def __str__(self) -> str:
        """How a verdict names it."""
        return f"group measurement {self.number}"

    def of(self, position: PositionConfig) -> Any:
        try:
            return self.figures[position.number]
        except KeyError:
            raise KeyError(f"{self} ({self.what}) measured positions {list(self.positions)}, "
                           f"not position {position.number}") from None

    def to_record(self) -> dict:
        return {"group_measurement": self.number, "what": self.what,
                "points": [_plain(attrs.asdict(p)) for p in self.points],
                "positions": list(self.positions), "started_rig_s": round(self.started_s, 3),
                "finished_rig_s": round(self.finished_s, 3), "time": self.time,
                "figures": {str(n): _plain(f) for n, f in self.figures.items()}}


def _plain(value: Any) -> Any:
    """JSON for a figure: named tuples as objects, Decimal register values as exact text."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


class GroupLog:
    """Append-only JSON-lines file of group measurements, one a line, flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, measurement: GroupMeasurement) -> None:
        with self._lock:
            append_line(self._file, json.dumps(measurement.to_record()) + "\n")

    def close(self) -> None:
        self._file.close()
