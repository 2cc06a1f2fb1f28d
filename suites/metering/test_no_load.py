"""Starting current and no-load (creep): the meter starts at Ist and does not creep at 1.15 Un."""

from __future__ import annotations

import pytest

from meterrig.measure import Limits

pytestmark = pytest.mark.needs("metering")


@pytest.mark.measures("pulses_at_starting_current")
def test_starting_current(metering, position, standard, meter_rating, verify):
    test = standard.starting(meter_rating)
    pulses, group = metering.starting(position, test)
    verify.within(f"pulses at the starting current {test.current:g} A", pulses, "pulses",
                  Limits(low=test.min_pulses, source=test.source, unit="pulses"),
                  detail=f"{group}: in {test.duration_s:.0f} s: the meter does not start",
                  key="pulses_at_starting_current")


@pytest.mark.measures("pulses_at_no_load")
def test_no_load_creep(metering, position, standard, meter_rating, verify):
    test = standard.creep(meter_rating)
    pulses, group = metering.creep(position, test)
    periods = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in test.periods.items())
    verify.within(f"pulses at {test.voltage:g} V and no current", pulses, "pulses",
                  Limits(high=test.max_pulses, source=test.source, unit="pulses"),
                  detail=f"{group}: in {test.duration_s:.0f} s, the longer of {periods} "
                         f"({test.governing} governed): the meter creeps",
                  key="pulses_at_no_load")
