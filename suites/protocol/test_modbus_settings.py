"""Modbus RTU settings registers: a written setting takes effect as the map says, the meter is
found again with it, and the original is restored."""

from __future__ import annotations

from contextlib import suppress

import pytest

from meterrig.meter import MeterError

pytestmark = pytest.mark.protocol("modbus-rtu")


def answers(meter, device_id: int | None = None) -> str:
    """Whether the meter answers a voltage read (as `device_id`, by default its own)."""
    own = meter.device_id
    meter.device_id = own if device_id is None else device_id
    try:
        meter.read(meter.register_map.probe.name)
        return "answers"
    except MeterError:
        return "silent"
    finally:
        meter.device_id = own


@pytest.mark.clause("settings")
def test_device_id_change(meter, meter_map, foreign_device_id, verify):
    register = meter_map.setting("device id")
    own, new = meter.device_id, foreign_device_id
    if register.applies != "immediately":
        _device_id_waits_for_restart(meter, register, own, new, verify)
        return
    meter.write(register.name, new)
    try:
        verify.equal(f"device {own} after the change to {new}", answers(meter), "silent",
                     "settings", detail="the old device id must no longer answer")
        verify.equal(f"device {new} after the change", answers(meter, new), "answers",
                     "settings", detail=f"{register.name} written {new}, effect "
                                        f"{register.applies}")
    finally:
        meter.device_id = new
        with suppress(MeterError):
            meter.write(register.name, own)
        meter.device_id = own
    verify.equal(f"device {own} restored", answers(meter), "answers", "settings")


def _device_id_waits_for_restart(meter, register, own: int, new: int, verify) -> None:
    """A device id that takes effect after a restart (SDM630): until then the written id reads
    back and the meter still answers at its own; the original is written back before anything
    restarts it."""
    meter.write(register.name, new)
    try:
        verify.equal(f"{register.name} read back", meter.read(register.name), new, "settings",
                     detail=f"wrote {new}; takes effect {register.applies}")
        verify.equal(f"device {own} before a restart", answers(meter), "answers", "settings",
                     detail=f"{register.name} {new} takes effect {register.applies}")
    finally:
        with suppress(MeterError):
            meter.write(register.name, own)
    verify.equal(f"{register.name} restored", meter.read(register.name), own, "settings")


@pytest.mark.clause("settings")
def test_baud_rate_change(meter, meter_map, verify):
    register = meter_map.setting("baud rate")
    link = meter.link
    own = link.baudrate
    if register.applies != "immediately":
        pytest.skip(f"{meter_map.name}: a new baud rate takes effect {register.applies}")
    new = next(rate for rate in sorted(register.codes.values(), reverse=True) if rate != own)
    meter.write(register.name, register.code_of(new))
    try:
        verify.equal(f"meter at {own} bit/s after the change to {new}", answers(meter),
                     "silent", "settings", detail="it must no longer hear the old rate")
        link.set_baudrate(new)
        verify.equal(f"meter at {new} bit/s after the change", answers(meter), "answers",
                     "settings", detail=f"{register.name} written code {register.code_of(new)}")
    finally:
        link.set_baudrate(new)
        with suppress(MeterError):
            meter.write(register.name, register.code_of(own))
        link.set_baudrate(own)
    verify.equal(f"meter at {own} bit/s restored", answers(meter), "answers", "settings")


@pytest.mark.clause("settings")
def test_parity_setting_is_kept_until_restored(meter, meter_map, verify):
    """Parity takes effect only at a restart (as SDM120-style maps declare): the written code
    reads back, and the original is written back before anything restarts the meter."""
    register = meter_map.setting("parity")
    own = meter.read(register.name)
    new = next(code for code in register.codes if code != own)
    meter.write(register.name, new)
    try:
        verify.equal(f"{register.name} read back", meter.read(register.name), new, "settings",
                     detail=f"wrote {register.codes[new]}; takes effect {register.applies}")
    finally:
        meter.write(register.name, own)
    verify.equal(f"{register.name} restored", meter.read(register.name), own, "settings")
