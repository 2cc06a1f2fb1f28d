"""Modbus RTU exception replies: what a meter must refuse, and with which code."""

from __future__ import annotations

from contextlib import suppress

import pytest

from meterrig.meter import MeterError
from meterrig.protocols.modbus import pdu
from meterrig.protocols.modbus.answer import exception
from meterrig.protocols.modbus.registers import unused_code
from meterrig.protocols.modbus.spec import MODBUS_RTU

pytestmark = pytest.mark.protocol(MODBUS_RTU)

# Read coils: public function code that an energy meter (registers only) does not implement.
UNIMPLEMENTED = pdu.OtherRequest(pdu.READ_COILS, bytes.fromhex("0000 0001"))


def judge_answer(verify, meter, name: str, request: pdu.Request, expected: str,
                 detail: str = "", *, key: str, at: dict | None = None) -> None:
    """Send `request` and judge whatever comes back against the outcome `expected`
    ("exception 02 illegal data address"), showing the bytes that came."""
    answer = meter.ask(request)
    verify.equal(name, answer.outcome(), expected, "exceptions",
                 detail="; ".join(filter(None, [detail, f"heard {answer.shown()}"])),
                 key=key, at=at)


@pytest.mark.clause("exceptions")
@pytest.mark.measures("answer_to_unimplemented_function")
def test_unimplemented_function_gives_exception_01(meter, verify):
    judge_answer(verify, meter, "answer to read coils (01)", UNIMPLEMENTED,
                 exception(pdu.ILLEGAL_FUNCTION), key="answer_to_unimplemented_function",
                 at={"function": f"{UNIMPLEMENTED.function:02X}"})


@pytest.mark.clause("exceptions")
@pytest.mark.measures("answer_to_unmapped_read")
def test_unmapped_address_gives_exception_02(meter, meter_map, verify):
    address = meter_map.unmapped_address("input")
    judge_answer(verify, meter, f"answer to a read of unmapped input registers {address:04X}+2",
                 pdu.ReadRequest(pdu.READ_INPUT, address, 2), exception(pdu.ILLEGAL_ADDRESS),
                 key="answer_to_unmapped_read", at={"address": f"{address:04X}", "count": 2})


@pytest.mark.clause("exceptions")
@pytest.mark.parametrize("misalignment", ["odd start", "odd count"])
@pytest.mark.measures("answer_to_misaligned_read")
def test_odd_aligned_read_gives_exception_02(meter, meter_map, misalignment, verify):
    if not meter_map.pairs:
        pytest.skip(f"register map {meter_map.name} declares that the meter answers reads of "
                    "single registers")
    voltage = meter_map.probe
    address, count = (voltage.address + 1, 2) if misalignment == "odd start" \
        else (voltage.address, 1)
    judge_answer(verify, meter,
                 f"answer to a read of input registers {address:04X}+{count} ({misalignment})",
                 pdu.ReadRequest(pdu.READ_INPUT, address, count), exception(pdu.ILLEGAL_ADDRESS),
                 detail=f"map {meter_map.name} holds its values in even-aligned pairs",
                 key="answer_to_misaligned_read",
                 at={"address": f"{address:04X}", "count": count})


@pytest.mark.clause("exceptions")
@pytest.mark.parametrize("count", [0, pdu.MAX_READ + 1])
@pytest.mark.measures("answer_to_read_count_out_of_range")
def test_read_count_out_of_range_gives_exception_03(meter, count, verify):
    judge_answer(verify, meter, f"answer to a read of {count} input registers",
                 pdu.ReadRequest(pdu.READ_INPUT, 0, count), exception(pdu.ILLEGAL_VALUE),
                 detail=f"a read asks for 1 to {pdu.MAX_READ} registers",
                 key="answer_to_read_count_out_of_range", at={"count": count})


@pytest.mark.clause("exceptions")
@pytest.mark.measures("answer_to_unknown_setting_code")
def test_setting_out_of_range_gives_exception_03(meter, meter_map, link, verify):
    """A baud rate code that no known model gives a meaning (one valid on a sibling model could
    be valid on this one too). A meter that takes it may change its rate after the reply, so the
    link's rate and the register are restored whatever happened."""
    register = meter_map.setting("baud rate")
    code = unused_code(register.setting)
    before, own = meter.read(register.name), link.baudrate
    try:
        judge_answer(verify, meter, f"answer to baud rate code {code}",
                     pdu.WriteRequest(register.address, register.encode(code)),
                     exception(pdu.ILLEGAL_VALUE),
                     detail=f"the map's baud rate codes are {register.codes}",
                     key="answer_to_unknown_setting_code",
                     at={"register": register.name, "code": code})
    finally:
        link.set_baudrate(own)
        with suppress(MeterError):  # a meter that took it and went to another rate is lost
            meter.write(register.name, before)
