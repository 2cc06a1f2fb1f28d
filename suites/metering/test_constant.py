"""Meter constant: the register's advance agrees with the counted test-output pulses."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.needs("metering")


@pytest.mark.measures("energy_by_pulses", "register_against_pulses")
def test_meter_constant(metering, position, standard, meter_rating, verify):
    test = standard.constant_test(meter_rating)
    (advance_kwh, pulses), group = metering.constant(position, test)
    pulse_kwh = pulses / position.constant
    verify.within("energy by pulses", round(pulse_kwh, 4), "kWh", test.registered,
                  detail=f"{group}: {pulses} pulses at {position.constant} imp/kWh for "
                         f"{test.energy_kwh:g} kWh dosed: too little for the register's "
                         "resolution (the meter registers more than its class limit less)",
                  key="energy_by_pulses")
    error = (float(advance_kwh) - pulse_kwh) / pulse_kwh * 100
    verify.within("register advance against pulses", round(error, 4), "%", test.limits,
                  detail=f"{group}: register advanced {advance_kwh} kWh for "
                         f"{test.energy_kwh:g} kWh dosed: register and pulses disagree "
                         "(wrong constant)",
                  key="register_against_pulses")
