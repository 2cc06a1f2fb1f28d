"""Influence of voltage (±10 %) and frequency (±2 %): the variation of error stays in limits."""

from __future__ import annotations

import pytest

from meterrig.metrology import maths

pytestmark = pytest.mark.needs("metering")


def test_influence(metering, position, influence, standard, meter_rating, verify):
    varied, sign = influence
    reference = metering.accuracy(position, varied.point).mean
    changed = metering.accuracy(position, varied.varied[sign]).mean
    limits = standard.influence_limits(meter_rating, varied.influence, varied.point)
    what = f"{varied.influence} {'+' if sign else '−'}{varied.change:.0%} at {varied.point.name}"
    verify.holds(f"errors measured for {what}", None not in (reference, changed), True,
                 limits.source)
    verify.within(f"variation of error, {what}", round(maths.variation(changed, reference), 4),
                  "points", limits,
                  detail=f"error {changed:+.3f} % against {reference:+.3f} % at reference")
