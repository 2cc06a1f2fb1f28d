"""The bench physics: energies, pulses and the error each meter registers with."""

from __future__ import annotations

import pytest

from meterrig.sim.defects import Defects
from meterrig.sim.physics import BenchPhysics, MeterPhysics, SourceState


class ManualClock:
    """Rig time that moves only when the test says so."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


def bench(*defects: str, **meter) -> tuple[BenchPhysics, ManualClock]:
    clock = ManualClock()
    physics = BenchPhysics(clock, {1: MeterPhysics(defects=Defects(frozenset(defects)),
                                                   **meter)})
    return physics, clock


def at(current: float, phase_deg: float = 0.0, voltage: float = 220.0) -> SourceState:
    return SourceState(voltage=voltage, current=current, phase_deg=phase_deg)


def test_one_hour_at_2_2_kw_gives_2_2_kwh_and_its_pulses():
    physics, clock = bench(error_percent=0.0)
    physics.set_source(voltage=220.0, current=10.0)
    clock.t += 3600
    error = physics.meters[1].error(physics.source)
    assert physics.reference_energy_kwh() == pytest.approx(2.2)
    assert physics.registers(1).forward_kwh == pytest.approx(2.2 * (1 + error / 100))
    assert physics.pulses(1) == int(2.2 * (1 + error / 100) * 1200)


def test_reference_energy_at_a_pulse_is_interpolated_exactly():
    physics, clock = bench(error_percent=1.0)
    physics.set_source(current=5.0)
    clock.t += 600
    physics.set_source(current=10.0)  # a second stretch of constant power
    clock.t += 600
    error = physics.meters[1].error(physics.source)
    pulse = physics.pulses(1)
    at_pulse = physics.reference_energy_at_pulse(1, pulse)
    assert at_pulse is not None
    # In the last stretch the meter registers (1 + e) × the true energy since the change.
    first_stretch = 220 * 5 * 600 / 3.6e6
    first_registered = physics.meters[1].pulse_kwh - 220 * 10 * 600 / 3.6e6 * (1 + error / 100)
    expected = first_stretch + (pulse / 1200 - first_registered) / (1 + error / 100)
    assert at_pulse == pytest.approx(expected, rel=1e-9)
    assert physics.reference_energy_at_pulse(1, pulse + 1) is None


def test_a_good_meter_is_well_inside_class_1_everywhere():
    meter = MeterPhysics()
    for current in (0.25, 0.5, 5.0, 60.0):
        for phase in (0.0, 60.0, -36.87):
            assert abs(meter.error(at(current, phase))) < 0.5 * 1.5


@pytest.mark.parametrize(("defect", "good", "bad", "shift"), [
    ("low-current-error", at(5.0), at(0.25), 3.0),
    ("pf-error", at(5.0), at(5.0, phase_deg=60.0), 2.5),
    ("voltage-sensitive", at(5.0), at(5.0, voltage=242.0), 1.5),
])
def test_error_defects_shift_the_error_where_they_should(defect, good, bad, shift):
    sound, faulty = MeterPhysics(), MeterPhysics(defects=Defects(frozenset([defect])))
    assert faulty.error(good) == pytest.approx(sound.error(good))
    assert faulty.error(bad) - sound.error(bad) == pytest.approx(shift)


def test_starting_creep_and_relay():
    sound = MeterPhysics()
    assert sound.registered_power_w(at(0.02)) > 0  # starts at 0.004 Ib
    assert sound.registered_power_w(at(0.0, voltage=253.0)) == 0  # no creep
    assert MeterPhysics(defects=Defects(frozenset(["no-start"]))).registered_power_w(at(0.02)) == 0
    assert MeterPhysics(defects=Defects(frozenset(["creep"]))).registered_power_w(
        at(0.0, voltage=253.0)) > 0
    assert MeterPhysics(relay_closed=False).registered_power_w(at(5.0)) == 0


def test_wrong_constant_register_lags_the_pulses():
    physics, clock = bench("wrong-constant")
    start = physics.registers(1).forward_kwh
    physics.set_source(current=10.0)
    clock.t += 3600
    registers = physics.registers(1)
    assert (registers.forward_kwh - start) / registers.pulse_kwh == pytest.approx(0.96)


def test_settled_after_the_settling_time_of_a_change():
    physics, clock = bench()
    physics.set_source(current=5.0)
    assert not physics.settled()
    clock.t += 10
    assert physics.settled()
