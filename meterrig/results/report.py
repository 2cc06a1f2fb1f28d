"""`meterrig report`: what the results database says across runs, as PNG plots and one HTML
page (index.html beside them).

- First-pass yield per station and day: of the meters tested for the first time (not a
  retest), the share whose overall verdict was PASS (verdict.py).
- Top failing tests: the measurement keys that failed most, counted once per meter and run.
- Error distribution per load point: the accuracy mean errors of every run, per load point.
- Trends: a key's value run after run, per position and dimensions, with its limits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean, pstdev

import attrs
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from meterrig.measure import Outcome  # noqa: E402
from meterrig.metrology.curves import png  # noqa: E402

from . import models, pages  # noqa: E402
from .certificate import MEAN_ERROR  # noqa: E402
from .verdict import NOTHING, overall  # noqa: E402

TOP = 10


@attrs.frozen
class Yield:
    station: str
    day: str
    first_tested: int
    passed: int

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.first_tested


@attrs.frozen
class Failing:
    key: str
    meters: int  # meter-runs in which it failed
    tests: tuple[str, ...]


@attrs.frozen
class Spread:
    load_point: str
    errors: tuple[float, ...]

    @property
    def summary(self) -> str:
        return (f"n {len(self.errors)}, mean {mean(self.errors):.4f} %, sd "
                f"{pstdev(self.errors):.4f} %, {min(self.errors):.4f} … {max(self.errors):.4f} %")


def _by_meter(session: Session) -> dict[tuple[int, int], list[models.Measurement]]:
    found: dict[tuple[int, int], list[models.Measurement]] = defaultdict(list)
    for m in session.scalars(select(models.Measurement)
                             .where(models.Measurement.position.is_not(None))):
        found[(m.run_id, m.position)].append(m)
    return found


def first_pass_yield(session: Session,
                     measured: dict[tuple[int, int], list[models.Measurement]]) -> list[Yield]:
    tally: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for position, run in session.execute(
            select(models.RunPosition, models.Run).join(models.RunPosition.run)
            .where(models.RunPosition.retest.is_(False))):
        verdict = overall(measured.get((run.id, position.position), []))
        if verdict == NOTHING:
            continue  # on the bench, never tested: no pass, no fail
        counts = tally[(run.station, run.started.date().isoformat())]
        counts["tested"] += 1
        counts["passed"] += verdict == Outcome.PASS
    return [Yield(station, day, c["tested"], c["passed"])
            for (station, day), c in sorted(tally.items())]


def top_failing(measured: dict[tuple[int, int], list[models.Measurement]]) -> list[Failing]:
    meters: Counter = Counter()
    tests: dict[str, set[str]] = defaultdict(set)
    for rows in measured.values():
        failed = {m.key: m.test for m in rows if m.outcome == Outcome.FAIL}
        meters.update(failed.keys())
        for key, test in failed.items():
            tests[key].add(test.split("[")[0])
    return [Failing(key, n, tuple(sorted(tests[key]))) for key, n in meters.most_common(TOP)]


def error_spread(session: Session) -> list[Spread]:
    errors: dict[str, list[float]] = defaultdict(list)
    for m in session.scalars(select(models.Measurement).where(
            models.Measurement.key == MEAN_ERROR, models.Measurement.value.is_not(None))):
        errors[str(m.dimensions.get("load_point"))].append(m.value)
    return [Spread(point, tuple(values)) for point, values in errors.items()]


def _spread_plot(spreads: list[Spread]) -> bytes:
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.boxplot([s.errors for s in spreads], showmeans=True)
    axes.set_xticks(range(1, len(spreads) + 1), [s.load_point for s in spreads], rotation=30,
                    ha="right")
    axes.set_ylabel("mean error (%)")
    axes.set_title("Error distribution per load point, all runs")
    axes.grid(True, axis="y", linewidth=0.3)
    return png(figure)


def _trend_plot(session: Session, key: str) -> bytes | None:
    """The key's values run after run (at each run's start), a line per position and
    dimensions, its limits dashed in the line's colour; None when the key has no numeric
    value."""
    series: dict[str, list[tuple[models.Measurement, models.Run]]] = defaultdict(list)
    for m, run in session.execute(
            select(models.Measurement, models.Run).join(
                models.Run, models.Measurement.run_id == models.Run.id)
            .where(models.Measurement.key == key, models.Measurement.value.is_not(None))
            .order_by(models.Run.started, models.Measurement.time)):
        where = pages.shown_dimensions(m.dimensions)
        label = ", ".join(part for part in (
            "" if m.position is None else f"position {m.position}", where) if part) or key
        series[label].append((m, run))
    if not series:
        return None
    figure, axes = plt.subplots(figsize=(9, 4.5))
    for label, rows in sorted(series.items()):
        times = [run.started for _, run in rows]
        drawn = axes.plot(times, [m.value for m, _ in rows], marker="o", markersize=4,
                          label=label)[0]
        for limit in ("limit_low", "limit_high"):
            bounds = [getattr(m, limit) for m, _ in rows]
            if any(bound is not None for bound in bounds):
                axes.plot(times, bounds, linestyle="--", marker="_", markersize=12,
                          linewidth=0.8, color=drawn.get_color())
    unit = next(iter(series.values()))[0][0].unit
    axes.set_ylabel(f"{key} ({unit})" if unit else key)
    axes.set_xlabel("run started (UTC)")
    axes.set_title(f"{key}, run after run (dashed: limits)")
    axes.grid(True, linewidth=0.3)
    if len(series) <= 12:
        axes.legend(fontsize=7)
    figure.autofmt_xdate()
    return png(figure)


def write_report(session: Session, out: Path, trends: list[str] | None = None) -> Path:
    """index.html and its PNG plots in `out`; the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    measured = _by_meter(session)
    spreads = error_spread(session)
    plots: dict[str, str] = {}  # what -> file name
    if spreads:
        (out / "error-distribution.png").write_bytes(_spread_plot(spreads))
        plots["error distribution"] = "error-distribution.png"
    trend_files = {}
    for key in trends or [MEAN_ERROR]:
        if (drawn := _trend_plot(session, key)) is not None:
            name = f"trend-{key.replace('.', '-')}.png"
            (out / name).write_bytes(drawn)
            trend_files[key] = name
    runs = session.scalars(select(models.Run).order_by(models.Run.started)).all()
    page = out / "index.html"
    page.write_text(pages.render(
        "report.html.j2", runs=runs, yields=first_pass_yield(session, measured),
        failing=top_failing(measured), spreads=spreads, plots=plots, trends=trend_files,
        missing=[key for key in trends or [MEAN_ERROR] if key not in trend_files]),
        encoding="utf-8")
    return page
