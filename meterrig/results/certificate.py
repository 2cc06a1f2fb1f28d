"""A meter's test certificate from the results database: its latest run on a bench, as HTML
that prints (meterrig certificate SERIAL)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
from sqlalchemy import select
from sqlalchemy.orm import Session

from meterrig.metrology.curves import CurvePoint, error_curve, png, power_factor_label
from meterrig.metrology.standards import MeterRating, Standard

from . import models, pages
from .verdict import overall

# The metering suite's accuracy figure (suites/metering/test_accuracy.py): the mean error at
# a load point, the point its curve is drawn through.
MEAN_ERROR = "accuracy.mean_error"


class NoSuchMeter(LookupError):
    pass


@attrs.frozen
class Certificate:
    position: models.RunPosition
    measurements: list[models.Measurement]
    verdict: str
    curve: str | None  # the error-curve plot as a data: URI; None without accuracy figures
    issued: datetime

    def html(self) -> str:
        run = self.position.run
        instruments = sorted(run.instruments, key=lambda i: i.name)
        return pages.render("certificate.html.j2", c=self, run=run, meter=self.position.meter,
                            instruments=instruments,
                            expired={i.name for i in instruments if i.calibration_due
                                     and i.calibration_due < run.started.date()})


def certificate(session: Session, serial: str) -> Certificate:
    """The certificate of the meter's latest run; NoSuchMeter names the serials there are."""
    position = session.scalars(
        select(models.RunPosition).join(models.RunPosition.meter).join(models.RunPosition.run)
        .where(models.Meter.serial == serial).order_by(models.Run.started.desc(),
                                                       models.Run.id.desc()).limit(1)).first()
    if position is None:
        known = session.scalars(select(models.Meter.serial).order_by(models.Meter.serial)
                                .limit(20)).all()
        raise NoSuchMeter(f"no meter {serial!r} in the results database; serials there: "
                          f"{', '.join(known) or 'none'}")
    measurements = list(session.scalars(
        select(models.Measurement).where(models.Measurement.run_id == position.run_id,
                                         models.Measurement.position == position.position)
        .order_by(models.Measurement.time, models.Measurement.id)))
    points = curve_points(position.rating, measurements)
    return Certificate(position, measurements, overall(measurements),
                       pages.data_uri(png(error_curve(position.position, points)))
                       if points else None, datetime.now(UTC))


def curve_points(rating: dict, measurements: list[models.Measurement]) -> list[CurvePoint]:
    """The accuracy mean errors as curve points: each load point's current and power factor
    from the standard the meter was judged by (its rating, as the run recorded it)."""
    found = [m for m in measurements if m.key == MEAN_ERROR and m.limit_high is not None]
    if not found:
        return []
    meter = MeterRating(**rating)
    points = {p.name: p for p in Standard.for_rating(meter).load_points(meter)}
    return [CurvePoint(point.current, power_factor_label(point.power_factor, point.kind),
                       m.value, m.limit_high)
            for m in found if (point := points.get(m.dimensions.get("load_point")))]
