"""Accuracy at the standard load points by pulse comparison (IEC 62053-21 / EN 50470-3).

A load point is applied once for the whole bench; every position is measured together and
judged on its own: the mean of the readings against the class limit, re-measured near it.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.needs("metering")


@pytest.mark.measures("runs_finished", "mean_error")  # and "error", once a reading
def test_accuracy(metering, position, load_point, standard, meter_rating, verify):
    result, group = metering.accuracy(position, load_point)
    limits = standard.accuracy_limits(meter_rating, load_point)
    at = {"load_point": load_point.name}
    for n, error in enumerate(result.errors, 1):
        verify.note(f"error at {load_point.name}, reading {n}", round(error, 4), "%", limits,
                    detail=f"{group}", key="error", at={**at, "reading": n})
    verify.holds(f"pulse-comparison runs finished at {load_point.name}",
                 len(result.errors), len(result.readings), limits.source,
                 detail=f"{group}: a run that never finished: the meter gave too few pulses",
                 key="runs_finished", at=at)
    verify.within(f"mean error at {load_point.name}", round(result.mean, 4), "%", limits,
                  detail=f"{group}: mean of {len(result.errors)} readings",
                  key="mean_error", at=at)
