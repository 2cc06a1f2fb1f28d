"""`meterrig regress`: the nightly gate. A measurement that moved from its usual value by more
than a fraction of its limit width is a regression, though it may still PASS.

The latest complete run (of a station, else of any) is compared with the previous `nights`
complete runs of the same rig at the same station: for each measurement (its key, position and
dimensions) with a number and two limits, the drift is its value less the mean of the same
measurement's values in those runs; beyond `fraction` × (high − low) it is a regression. A
measurement with one limit is judged against its margin, the distance from that mean to the
limit. A measurement without limits (a figure only recorded) or without history is counted,
not judged. The defaults are data (limits/regression.yaml, with the reason).
"""

from __future__ import annotations

import json
from collections import defaultdict
from statistics import mean

import attrs
from sqlalchemy import select
from sqlalchemy.orm import Session

from meterrig.limits import table

from . import models

JUDGED = ("pass", "fail", "inconclusive")  # outcomes of a measurement that was made


def defaults() -> tuple[int, float]:
    """(nights, fraction) from limits/regression.yaml."""
    figures = table("regression")
    return int(figures["nights"]["value"]), float(figures["fraction"]["value"])


@attrs.frozen
class Drift:
    key: str
    where: str  # position and dimensions, for reading
    previous: float  # the mean of the previous runs' values
    runs: int  # how many previous runs had it
    latest: float
    unit: str
    allowed: float  # fraction × the limit width (or margin)

    @property
    def drift(self) -> float:
        return self.latest - self.previous

    @property
    def regressed(self) -> bool:
        return abs(self.drift) > self.allowed


@attrs.frozen
class Comparison:
    run: models.Run
    baseline: list[models.Run]
    drifts: list[Drift]
    new: int  # measurements with no value in the previous runs
    unlimited: int  # measurements without limits to scale a drift by

    @property
    def regressions(self) -> list[Drift]:
        return [d for d in self.drifts if d.regressed]


class NoRun(LookupError):
    """No complete run to judge; the message says what was looked for."""


def _identity(m: models.Measurement) -> tuple[str, str]:
    return m.key, json.dumps({"position": m.position, **m.dimensions}, sort_keys=True,
                             default=str)


def _allowed(m: models.Measurement, previous: float, fraction: float) -> float | None:
    if m.limit_low is not None and m.limit_high is not None:
        return fraction * (m.limit_high - m.limit_low)
    one = m.limit_low if m.limit_low is not None else m.limit_high
    return None if one is None else fraction * abs(one - previous)


def _numbers(session: Session, run: models.Run) -> list[models.Measurement]:
    return list(session.scalars(select(models.Measurement).where(
        models.Measurement.run_id == run.id, models.Measurement.value.is_not(None),
        models.Measurement.outcome.in_(JUDGED))))


def compare(session: Session, nights: int, fraction: float,
            station: str | None = None) -> Comparison:
    runs = select(models.Run).where(models.Run.complete.is_(True))
    if station is not None:
        runs = runs.where(models.Run.station == station)
    latest = session.scalars(runs.order_by(models.Run.started.desc()).limit(1)).first()
    if latest is None:
        raise NoRun("no complete run" + (f" at station {station!r}" if station else "")
                    + " in the results database")
    baseline = list(session.scalars(runs.where(
        models.Run.station == latest.station, models.Run.rig_name == latest.rig_name,
        models.Run.started < latest.started).order_by(models.Run.started.desc()).limit(nights)))
    history: dict[tuple[str, str], list[float]] = defaultdict(list)
    runs_with: dict[tuple[str, str], set[int]] = defaultdict(set)
    for run in baseline:
        for m in _numbers(session, run):
            history[_identity(m)].append(m.value)
            runs_with[_identity(m)].add(run.id)
    drifts, new, unlimited = [], 0, 0
    for m in _numbers(session, latest):
        identity = _identity(m)
        if identity not in history:
            new += 1
            continue
        previous = mean(history[identity])
        allowed = _allowed(m, previous, fraction)
        if allowed is None:
            unlimited += 1
            continue
        drifts.append(Drift(m.key, identity[1], previous, len(runs_with[identity]), m.value,
                            m.unit, allowed))
    return Comparison(latest, baseline, drifts, new, unlimited)


def table_text(comparison: Comparison, fraction: float) -> str:
    """The regressions as a table, then one line of what was compared."""
    rows = [("key", "position and dimensions", "previous mean (runs)", "latest", "drift",
             "allowed")]
    rows += [(d.key, d.where, f"{d.previous:.6g} ({d.runs})", f"{d.latest:.6g} {d.unit}".strip(),
              f"{d.drift:+.6g}", f"±{d.allowed:.6g}") for d in comparison.regressions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows] if comparison.regressions else []
    run = comparison.run
    lines.append(f"run {run.name} ({run.station}, {run.rig_name}) against "
                 f"{len(comparison.baseline)} previous complete runs: "
                 f"{len(comparison.drifts)} measurements compared, "
                 f"{len(comparison.regressions)} drifted beyond {fraction:g} of their limit "
                 f"width; {comparison.new} without history, {comparison.unlimited} without "
                 "limits (not judged)")
    return "\n".join(lines)
