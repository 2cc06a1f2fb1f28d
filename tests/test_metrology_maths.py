"""Bench arithmetic against cases computed by hand from /work/shared/spec/accuracy.md."""

from __future__ import annotations

import pytest

from meterrig.measure import Limits
from meterrig.metrology import maths


def test_expected_reference_pulses():
    # N0 = m · C_ref / C_dut = 10 × 1 000 000 / 1200 = 8333.333…
    assert maths.expected_reference_pulses(10, 1e6, 1200) == pytest.approx(8333.3333, abs=1e-4)


def test_pulse_comparison_error_meter_fast():
    # (8333.333 − 8292) / 8292 × 100 = 41.3333 / 8292 × 100 = +0.498472 %
    assert maths.pulse_comparison_error(10, 1200, 8292, 1e6) == pytest.approx(0.498472, abs=1e-6)


def test_pulse_comparison_error_meter_slow():
    # (8333.333 − 8400) / 8400 × 100 = −66.6667 / 8400 × 100 = −0.793651 %
    assert maths.pulse_comparison_error(10, 1200, 8400, 1e6) == pytest.approx(-0.793651, abs=1e-6)


def test_energy_error_equals_pulse_form():
    # E_dut = m / C_dut = 10 / 1200 kWh, E_ref = N_ref / C_ref = 8292 / 1e6 kWh → +0.498472 %
    assert maths.energy_error(10 / 1200, 8292 / 1e6) == pytest.approx(0.498472, abs=1e-6)


def test_energy_error_register():
    # (10.05 − 10.00) / 10.00 × 100 = +0.5 %
    assert maths.energy_error(10.05, 10.0) == pytest.approx(0.5, abs=1e-9)


def test_t1_at_starting_current():
    # t1 = 6·10⁴ / (1200 × 1 × 220 × 0.02) = 6·10⁴ / 5280 = 11.3636 min = 681.818 s
    assert maths.pulse_period_s(1200, 220, 0.02) / 60 == pytest.approx(11.3636, abs=1e-4)
    assert maths.pulse_period_s(1200, 220, 0.02) == pytest.approx(681.818, abs=1e-3)


def test_pulse_period_scales_with_elements():
    # 6·10⁴ / (1200 × 3 × 220 × 0.02) = 6·10⁴ / 15840 = 3.78788 min = 227.273 s
    assert maths.pulse_period_s(1200, 220, 0.02, elements=3) == pytest.approx(227.273, abs=1e-3)


def test_pulse_period_scales_with_power_factor():
    # P = 230 × 5 × 0.5 = 575 W; 3.6·10⁶ / (1000 × 575) = 6.26087 s
    assert maths.pulse_period_s(1000, 230, 5, 0.5) == pytest.approx(6.26087, abs=1e-5)


@pytest.mark.parametrize(("f_ref", "seconds", "expected"), [
    (1000, 40, 0.0025),          # 100 / (1000 × 40) = 0.0025 %
    (50_000, 30, 6.66667e-5),    # 100 / (50 000 × 30) = 6.667·10⁻⁵ %
])
def test_resolution_percent(f_ref, seconds, expected):
    assert maths.resolution_percent(f_ref, seconds) == pytest.approx(expected, rel=1e-5)


def test_mean():
    # (0.1 + 0.3 + 0.5) / 3 = 0.3
    assert maths.mean([0.1, 0.3, 0.5]) == pytest.approx(0.3, abs=1e-12)


def test_std_dev_is_sample():
    # mean 0.4; squares 0.04 + 0 + 0.04 = 0.08; sample: sqrt(0.08 / 2) = 0.2
    # (the population form would give sqrt(0.08 / 3) = 0.1633)
    assert maths.std_dev([0.2, 0.4, 0.6]) == pytest.approx(0.2, abs=1e-12)


LIMIT_1 = Limits(-1.0, 1.0, "test")


@pytest.mark.parametrize(("error", "expected"), [
    (0.8, True),      # 0.8 / 1.0 = 80 %: lower band edge, inclusive
    (0.79, False),    # 79 %
    (1.2, True),      # 120 %: upper band edge, inclusive
    (1.21, False),    # 121 %: a clear failure, no re-measure
    (-0.8, True),     # negative side, 80 %
    (-1.2, True),     # negative side, 120 %
    (-0.79, False),
    (0.0, False),
])
def test_needs_remeasure_band_edges(error, expected):
    assert maths.needs_remeasure(error, LIMIT_1) is expected


def test_needs_remeasure_uses_the_limit_on_the_errors_side():
    asymmetric = Limits(-2.0, 1.0, "test")
    assert maths.needs_remeasure(-1.6, asymmetric)          # 1.6 / 2.0 = 80 %
    assert not maths.needs_remeasure(-1.0, asymmetric)      # 1.0 / 2.0 = 50 %
    assert not maths.needs_remeasure(-5.0, Limits(high=1.0))  # open side: never near it


def test_needs_remeasure_custom_band():
    assert not maths.needs_remeasure(0.85, LIMIT_1, band=(0.9, 1.1))  # 85 % < 90 %
    assert maths.needs_remeasure(0.95, LIMIT_1, band=(0.9, 1.1))      # 95 %


def test_variation_in_percentage_points():
    assert maths.variation(0.45, 0.15) == pytest.approx(0.30, abs=1e-12)   # 0.45 − 0.15
    assert maths.variation(-0.2, 0.3) == pytest.approx(-0.5, abs=1e-12)    # −0.2 − 0.3


def test_creep_period_2003():
    # 600·10⁶ / (1200 × 1 × 220 × 60) = 37.8788 min = 2272.73 s
    assert maths.creep_period_2003_s(600e6, 1200, 1, 220, 60) == pytest.approx(2272.73, abs=0.01)
    # two elements halve it
    assert maths.creep_period_2003_s(600e6, 1200, 2, 220, 60) == pytest.approx(1136.36, abs=0.01)
