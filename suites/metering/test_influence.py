"""Influence of voltage (±10 %) and frequency (±2 %): the variation of error stays in limits.

The error at the reference point and the error under the influence are measured back to back,
so that the variation shows the influence alone; both are recorded.
"""

from __future__ import annotations

import pytest

from meterrig.measure import Limits
from meterrig.metrology import maths

pytestmark = pytest.mark.needs("metering")


@pytest.mark.measures("errors_measured", "error_at_reference", "error_under_influence",
                      "variation_of_error")
def test_influence(metering, position, influence, standard, meter_rating, verify):
    varied, sign = influence
    (reference_run, changed_run), group = metering.influence(position, varied, sign)
    reference, changed = reference_run.mean, changed_run.mean
    limits = standard.influence_limits(meter_rating, varied.influence, varied.point)
    change = f"{'+' if sign else '−'}{varied.change:.0%}"
    what = f"{varied.influence} {change} at {varied.point.name}"
    at = {"influence": varied.influence, "change": change, "load_point": varied.point.name}
    verify.holds(f"errors measured for {what}", None not in (reference, changed), True,
                 limits.source, detail=f"{group}", key="errors_measured", at=at)
    # The variation is taken from the error at reference conditions, which must itself be in
    # the class limit there.
    verify.within(f"error at {varied.point.name}, just before {what}", round(reference, 4),
                  "%", standard.accuracy_limits(meter_rating, varied.point),
                  detail=f"{group}: mean of {len(reference_run.errors)} readings at "
                         "reference conditions",
                  key="error_at_reference", at=at)
    # Recorded in the band the error under the influence may lie in, so its verdict is the
    # variation's (which the test then asserts).
    band = Limits(round(reference + limits.low, 4), round(reference + limits.high, 4),
                  f"{limits.source}, about the error at reference conditions just measured", "%")
    verify.note(f"error at {varied.varied[sign].name}", round(changed, 4), "%", band,
                detail=f"{group}: mean of {len(changed_run.errors)} readings, just after "
                       "the reference",
                key="error_under_influence", at=at)
    verify.within(f"variation of error, {what}", round(maths.variation(changed, reference), 4),
                  "points", limits,
                  detail=f"{group}: error {changed:+.3f} % against {reference:+.3f} % at "
                         "reference",
                  key="variation_of_error", at=at)
