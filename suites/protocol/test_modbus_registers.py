"""Modbus RTU register map: every mapped register reads, values agree with the reference
standard within the maker's declared accuracy, and the energy register follows dosed energy."""

from __future__ import annotations

import math

import pytest

from meterrig.measure import Limits
from meterrig.metrology.standards import LoadPoint, Standard
from meterrig.protocols.modbus.pdu import READ_INPUT
from meterrig.protocols.modbus.spec import MODBUS_RTU

pytestmark = pytest.mark.protocol(MODBUS_RTU)

DOSE_KWH = 1.0  # enough to resolve the class limit on a float32 kWh register
# Without a declared accuracy, a voltage within 5 % tells the word order apart: read the wrong
# way round a float32 is off by orders of magnitude.
WORD_ORDER_TOLERANCE_PERCENT = 5.0


def at_ib(position, power_factor: float = 1.0, kind: str = "unity") -> LoadPoint:
    name = f"Ib PF {power_factor:g}" + ("" if kind == "unity" else f" {kind[:3]}")
    return LoadPoint(name=name, current=position.ib, power_factor=power_factor, kind=kind,
                     voltage=position.un, frequency=position.fn)


def _nominal(meter_map, register, position) -> float:
    """The nominal value of a register's quantity, from the position's rating."""
    return meter_map.nominal(register, position.un, position.ib, position.fn)


def _clause(register) -> str:
    return "read-input" if register.function == READ_INPUT else "read-holding"


@pytest.mark.clause("register-map")
@pytest.mark.measures("register_value")  # a code, a value in range or a number, as mapped
def test_mapped_register_reads(meter, register, verify):
    value = meter.read(register.name)
    at = {"register": register.name}
    if register.codes:
        verify.equal(f"{register.name} code", value in register.codes, True, "settings",
                     detail=f"read {value!r}; the map's codes are {register.codes}",
                     key="register_value", at=at)
    elif register.allowed:
        low, high = register.allowed
        verify.within(register.name, value, register.unit,
                      Limits(low, high, "register map", register.unit), "settings",
                      key="register_value", at=at)
    else:
        verify.equal(f"{register.name} is a number", math.isfinite(value), True,
                     _clause(register), unit=register.unit,
                     detail=f"{register.name} at {register.address:04X} read {value!r}",
                     key="register_value", at=at)


def _expected(reference, quantity: str) -> float:
    """What the meter should show, from the reference standard's reading."""
    apparent = reference.voltage * reference.current
    return {
        "voltage": reference.voltage,
        "current": reference.current,
        "active power": reference.active_power_w,
        "apparent power": apparent,
        "reactive power": math.sqrt(max(apparent ** 2 - reference.active_power_w ** 2, 0.0)),
        "power factor": reference.power_factor,
        "frequency": reference.frequency,
    }[quantity]


@pytest.mark.clause("register-map")
@pytest.mark.measures("value_against_reference")
def test_values_agree_with_reference(meter, meter_map, metering_bench, position, verify):
    """At Ib, PF 0.5 inductive, so that reactive power is not zero. Each value is judged in its
    unit, within the accuracy the maker declares: % of the reading, of the nominal value (from
    this position's rating) or of the range maximum, as the map says."""
    declared = [r for r in meter_map.registers.values()
                if r.accuracy_percent is not None and r.phase is None]
    if not declared:
        pytest.skip(f"register map {meter_map.name} declares no accuracy of its own values")
    point = at_ib(position, 0.5, "inductive")
    metering_bench.apply(point)
    reference = metering_bench.reference.measure()
    judged = []
    for register in declared:
        expected = _expected(reference, register.quantity)
        nominal = _nominal(meter_map, register, position)
        band = register.accuracy_band(expected, nominal)
        limits = Limits(expected - band, expected + band,
                        f"{meter_map.name} register map: declared accuracy of {register.name}, "
                        f"{register.accuracy_percent:g} % of {register.accuracy_of}",
                        register.unit)
        base = register.accuracy_base(expected, nominal)
        judged.append(verify.note(
            register.name, round(meter.read(register.name), 4), register.unit, limits,
            detail=f"reference {expected:.4g} {register.unit} ± {band:.3g}: "
                   f"{register.accuracy_percent:g} % of {register.accuracy_of} "
                   f"{base:.6g} {register.unit}".rstrip(),
            key="value_against_reference",
            at={"register": register.name, "load_point": point.name}))
    wrong = [m.describe() for m in judged if not m.passed]
    assert not wrong, "values out of the declared accuracy:\n" + "\n".join(wrong)


@pytest.mark.clause("register-map")
@pytest.mark.measures("word_order")
def test_word_order(meter, meter_map, metering_bench, position, verify):
    """A float32 read as the map says gives the applied voltage; with its words swapped it
    would not. A meter that sends the low word first is named as such."""
    metering_bench.idle(position)
    register = meter_map.probe
    words = meter.read_registers(register.function, register.address, register.count)
    applied = metering_bench.reference.measure().voltage
    tolerance = applied * WORD_ORDER_TOLERANCE_PERCENT / 100 \
        if register.accuracy_percent is None else register.accuracy_band(
            applied, _nominal(meter_map, register, position))

    def fits(ws) -> bool:
        return abs(register.decode(ws) - applied) <= tolerance

    order = "as the map says" if fits(words) else \
        "the other way round" if fits(tuple(reversed(words))) else "neither way"
    sent = {"big": "high word first", "little": "low word first"}
    other = sent["little" if register.word_order == "big" else "big"]
    verify.equal("word order of 32-bit values", order, "as the map says", "register-map",
                 detail=f"{register.name} words {words[0]:04X} {words[1]:04X} against "
                        f"{applied:.1f} V applied; the map says {sent[register.word_order]}"
                        + (f": the meter sends {other}" if order == "the other way round"
                           else ""), key="word_order", at={"register": register.name})


@pytest.mark.clause("register-map")
@pytest.mark.measures("energy_advance_error")
def test_energy_advances_by_dosed_energy(meter, meter_map, metering_bench, position, meter_rating,
                                         verify):
    register = meter_map.measuring("import energy")
    point = at_ib(position)
    metering_bench.idle(position)
    before = meter.read(register.name)
    metering_bench.reference.reset_energy()
    metering_bench.dose(point, DOSE_KWH)
    metering_bench.idle(position)
    dosed = metering_bench.reference.energy_kwh()
    advance = meter.read(register.name) - before
    limits = Standard.for_rating(meter_rating).accuracy_limits(meter_rating, point)
    verify.within(f"{register.name} advance against the reference", round(
        (advance - dosed) / dosed * 100, 3), "%", limits,
        detail=f"advanced {advance:.4f} kWh for {dosed:.4f} kWh dosed at {point.name}",
        key="energy_advance_error", at={"register": register.name, "load_point": point.name})
