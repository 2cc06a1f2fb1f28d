"""The metering bench waits for the meters to settle on the rig clock before measuring pulses:
the load after every change, the voltage from when it came on (pulse_comparison in the data)."""

from __future__ import annotations

import pytest

from meterrig.instruments import PowerSource
from meterrig.metrology import LoadPoint, MeteringBench, Settling
from tests.fakes import Clock, Source


class Rig:
    def __init__(self) -> None:
        self.clock = Clock()

    def instrument(self, kind: type) -> object:
        return Source() if kind is PowerSource else object()


POINT = LoadPoint(name="Ib PF 1", current=5, power_factor=1, kind="unity", voltage=220,
                  frequency=50)
SETTLING = Settling(voltage_s=30, load_s=10, source="test")


@pytest.fixture
def bench() -> MeteringBench:
    return MeteringBench(Rig())


def test_first_measurement_waits_for_the_voltage(bench):
    bench.apply(POINT, SETTLING)
    assert bench.rig.clock.slept == [30]   # voltage on at 0 s, 30 s before measuring


def test_a_load_change_later_waits_for_the_load(bench):
    bench.apply(POINT, SETTLING)
    bench.rig.clock.t += 100              # measuring
    bench.apply(POINT, SETTLING)
    assert bench.rig.clock.slept == [30, 10]


def test_voltage_on_for_a_while_leaves_the_rest_of_its_settling(bench):
    bench.apply(POINT)                     # idle: no wait
    bench.rig.clock.t += 25
    bench.apply(POINT, SETTLING)
    assert bench.rig.clock.slept == [10]   # max(10 s load, 30 s − 25 s voltage)


def test_after_off_the_voltage_settles_again(bench):
    bench.apply(POINT, SETTLING)
    bench.off()
    bench.rig.clock.t += 100
    bench.apply(POINT, SETTLING)
    assert bench.rig.clock.slept == [30, 30]
