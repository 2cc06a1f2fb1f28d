"""Metering arithmetic: pure functions, each citing its formula in /work/shared/spec/accuracy.md.

Errors are in percent; variations of error in percentage points; energies in kWh.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from ..measure import Limits

# 1 kWh = 3.6·10⁶ W·s: one pulse of a k imp/kWh meter is 3.6·10⁶ / k W·s.
_WS_PER_KWH = 3.6e6


def expected_reference_pulses(dut_pulses: int, ref_constant: float, dut_constant: float) -> float:
    """Reference pulses a perfect meter would let through: N₀ = m · C_ref / C_dut.

    accuracy.md "How a bench measures error (pulse comparison)".
    """
    return dut_pulses * ref_constant / dut_constant


def pulse_comparison_error(dut_pulses: int, dut_constant: float, ref_pulses: float,
                           ref_constant: float) -> float:
    """Error % = (N₀ − N_ref) / N_ref × 100, N_ref counted during m DUT pulses.

    accuracy.md "How a bench measures error (pulse comparison)".
    """
    expected = expected_reference_pulses(dut_pulses, ref_constant, dut_constant)
    return (expected - ref_pulses) / ref_pulses * 100


def energy_error(dut_kwh: float, ref_kwh: float) -> float:
    """Error % = (E_dut − E_ref) / E_ref × 100 (register or pulse energies).

    accuracy.md "How a bench measures error": the equivalent energy form, and the register test.
    """
    return (dut_kwh - ref_kwh) / ref_kwh * 100


def pulse_period_s(constant: float, voltage: float, current: float, power_factor: float = 1.0,
                   elements: int = 1) -> float:
    """Seconds for one pulse at power m·U·I·PF.

    accuracy.md "No-load (creep)": t₁ = 6·10⁴ / (k·m·U·I) minutes at PF 1, i.e.
    3.6·10⁶ / (k·m·U·I) seconds; at another power factor the power, so the rate, scales by PF.
    """
    return _WS_PER_KWH / (constant * elements * voltage * current * power_factor)


def creep_period_2003_s(constant_min: float, meter_constant: float, elements: int,
                        voltage: float, imax: float) -> float:
    """Δt ≥ C / (k·m·Un·Imax) minutes, in seconds (IEC 62053-21:2003 §8.3.2; C per class)."""
    return 60 * constant_min / (meter_constant * elements * voltage * imax)


def resolution_percent(ref_frequency_hz: float, duration_s: float) -> float:
    """Resolution ≈ 1 / (f_ref · t), in percent.

    accuracy.md "How a bench measures error": one reference pulse in f_ref · t.
    """
    return 100 / (ref_frequency_hz * duration_s)


def mean(values: Iterable[float]) -> float:
    """Mean of readings: accuracy.md "A verdict uses the mean of ≥ 2 readings"."""
    return statistics.fmean(values)


def std_dev(values: Iterable[float]) -> float:
    """Sample standard deviation (n − 1) of repeated results; needs at least two.

    accuracy.md "MID": repeatability is the standard deviation of repeated results.
    """
    return statistics.stdev(values)


def needs_remeasure(error: float, limits: Limits, band: tuple[float, float] = (0.8, 1.2)) -> bool:
    """True when |error| lies within band (inclusive) of the limit on the error's side.

    accuracy.md "How a bench measures error": "re-measure when the result is within 80–120 % of
    the limit".
    """
    bound = limits.high if error >= 0 else limits.low
    if not bound:  # an open (or zero) side has no 80–120 % zone
        return False
    return band[0] <= error / bound <= band[1]


def variation(error_at_influence: float, error_at_reference: float) -> float:
    """Variation of error, percentage points: error with the influence minus error without.

    accuracy.md "Influence quantities — limit of the *variation* of error".
    """
    return error_at_influence - error_at_reference
