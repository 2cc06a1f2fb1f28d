"""Modbus RTU settings registers: a written setting takes effect as the map says, the meter is
found again with it, and the original is restored."""

from __future__ import annotations

from contextlib import suppress

import pytest

from meterrig.meter import MeterError
from meterrig.protocols.modbus import pdu
from meterrig.protocols.modbus.answer import SILENCE, normal_reply
from meterrig.protocols.modbus.spec import MODBUS_RTU

pytestmark = pytest.mark.protocol(MODBUS_RTU)


ANSWERS, SILENT = True, False


def check_answer(verify, meter, name: str, answers: bool, detail: str = "",
                 device_id: int | None = None, *, key: str, at: dict) -> None:
    """Read the voltage as `device_id` (by default the meter's own) and judge what came: a
    normal reply, or silence. A reply from another id or anything else is neither, and shown.
    Recorded as measurement `key` at `at`."""
    probe = meter.register_map.probe
    answer = meter.ask(pdu.ReadRequest(probe.function, probe.address, probe.count),
                       device_id=device_id)
    verify.equal(name, answer.outcome(), normal_reply(probe.function) if answers else SILENCE,
                 "settings", detail="; ".join(filter(None, [detail, f"heard {answer.shown()}"])),
                 key=key, at=at)


def _stage(stage: str, **at) -> dict:
    """The dimensions of an answer at a stage of a settings test."""
    return {"stage": stage, **at}


@pytest.mark.clause("settings")
@pytest.mark.measures("answer_at_device_id")
def test_device_id_change(meter, meter_map, foreign_device_id, verify):
    register = meter_map.setting("device id")
    own, new = meter.device_id, foreign_device_id
    if register.applies != "immediately":
        _device_id_waits_for_restart(meter, register, own, new, verify)
        return
    meter.write(register.name, new)
    try:
        check_answer(verify, meter, f"device {own} after the change to {new}", SILENT,
                     "the old device id must no longer answer", key="answer_at_device_id",
                     at=_stage("after the change", device_id=own))
        check_answer(verify, meter, f"device {new} after the change", ANSWERS,
                     f"{register.name} written {new}, effect {register.applies}", device_id=new,
                     key="answer_at_device_id", at=_stage("after the change", device_id=new))
    finally:
        meter.device_id = new
        with suppress(MeterError):
            meter.write(register.name, own)
        meter.device_id = own
    check_answer(verify, meter, f"device {own} restored", ANSWERS, key="answer_at_device_id",
                 at=_stage("restored", device_id=own))


def _device_id_waits_for_restart(meter, register, own: int, new: int, verify) -> None:
    """A device id that takes effect after a restart (SDM630): until then the written id reads
    back and the meter still answers at its own; the original is written back before anything
    restarts it."""
    meter.write(register.name, new)
    try:
        verify.equal(f"{register.name} read back", meter.read(register.name), new, "settings",
                     detail=f"wrote {new}; takes effect {register.applies}",
                     key="setting_read_back", at={"register": register.name})
        check_answer(verify, meter, f"device {own} before a restart", ANSWERS,
                     f"{register.name} {new} takes effect {register.applies}",
                     key="answer_at_device_id", at=_stage("before a restart", device_id=own))
    finally:
        with suppress(MeterError):
            meter.write(register.name, own)
    verify.equal(f"{register.name} restored", meter.read(register.name), own, "settings",
                 key="setting_restored", at={"register": register.name})


@pytest.mark.clause("settings")
@pytest.mark.measures("answer_at_baud_rate")
def test_baud_rate_change(meter, meter_map, verify):
    register = meter_map.setting("baud rate")
    link = meter.link
    own = link.baudrate
    if register.applies != "immediately":
        pytest.skip(f"{meter_map.name}: a new baud rate takes effect {register.applies}")
    new = next(rate for rate in sorted(register.codes.values(), reverse=True) if rate != own)
    meter.write(register.name, register.code_of(new))
    try:
        check_answer(verify, meter, f"meter at {own} bit/s after the change to {new}", SILENT,
                     "it must no longer hear the old rate", key="answer_at_baud_rate",
                     at=_stage("after the change", baud_rate=own))
        link.set_baudrate(new)
        check_answer(verify, meter, f"meter at {new} bit/s after the change", ANSWERS,
                     f"{register.name} written code {register.code_of(new)}",
                     key="answer_at_baud_rate", at=_stage("after the change", baud_rate=new))
    finally:
        link.set_baudrate(new)
        with suppress(MeterError):
            meter.write(register.name, register.code_of(own))
        link.set_baudrate(own)
    check_answer(verify, meter, f"meter at {own} bit/s restored", ANSWERS,
                 key="answer_at_baud_rate", at=_stage("restored", baud_rate=own))


@pytest.mark.clause("settings")
@pytest.mark.measures("setting_read_back", "setting_restored")
def test_parity_setting_is_kept_until_restored(meter, meter_map, verify):
    """Parity takes effect only at a restart (as SDM120-style maps declare): the written code
    reads back, and the original is written back before anything restarts the meter."""
    register = meter_map.setting("parity")
    own = meter.read(register.name)
    new = next(code for code in register.codes if code != own)
    meter.write(register.name, new)
    try:
        verify.equal(f"{register.name} read back", meter.read(register.name), new, "settings",
                     detail=f"wrote {register.codes[new]}; takes effect {register.applies}",
                     key="setting_read_back", at={"register": register.name})
    finally:
        meter.write(register.name, own)
    verify.equal(f"{register.name} restored", meter.read(register.name), own, "settings",
                 key="setting_restored", at={"register": register.name})
