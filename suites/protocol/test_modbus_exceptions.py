"""Modbus RTU exception replies: what a meter must refuse, and with which code."""

from __future__ import annotations

import pytest

from meterrig.protocols.modbus import pdu
from meterrig.protocols.modbus.client import ModbusException

pytestmark = pytest.mark.protocol("modbus-rtu")

# Read coils: public function code that an energy meter (registers only) does not implement.
UNIMPLEMENTED = pdu.OtherRequest(0x01, bytes.fromhex("0000 0001"))


def exception_of(meter, request: pdu.Request) -> str:
    """The exception the meter answers `request` with, as "02 illegal data address"; or what
    it did instead."""
    try:
        reply = meter.transact(request)
    except ModbusException as exc:
        return exc.reply.name
    return f"a normal reply {reply!r}"


@pytest.mark.clause("exceptions")
def test_unimplemented_function_gives_exception_01(meter, verify):
    verify.equal("exception to read coils (01)", exception_of(meter, UNIMPLEMENTED),
                 pdu.exception_name(pdu.ILLEGAL_FUNCTION), "exceptions")


@pytest.mark.clause("exceptions")
def test_unmapped_address_gives_exception_02(meter, meter_map, verify):
    address = meter_map.unmapped_address("input")
    verify.equal(f"exception to a read of unmapped input registers {address:04X}+2",
                 exception_of(meter, pdu.ReadRequest(pdu.READ_INPUT, address, 2)),
                 pdu.exception_name(pdu.ILLEGAL_ADDRESS), "exceptions")


@pytest.mark.clause("exceptions")
@pytest.mark.parametrize("misalignment", ["odd start", "odd count"])
def test_odd_aligned_read_gives_exception_02(meter, meter_map, misalignment, verify):
    if not meter_map.pairs:
        pytest.skip(f"register map {meter_map.name} allows reads of single registers")
    voltage = meter_map.probe
    address, count = (voltage.address + 1, 2) if misalignment == "odd start" \
        else (voltage.address, 1)
    verify.equal(f"exception to a read of input registers {address:04X}+{count} ({misalignment})",
                 exception_of(meter, pdu.ReadRequest(pdu.READ_INPUT, address, count)),
                 pdu.exception_name(pdu.ILLEGAL_ADDRESS), "exceptions",
                 detail=f"map {meter_map.name} holds its values in even-aligned pairs")


@pytest.mark.clause("exceptions")
@pytest.mark.parametrize("count", [0, pdu.MAX_READ + 1])
def test_read_count_out_of_range_gives_exception_03(meter, count, verify):
    verify.equal(f"exception to a read of {count} input registers",
                 exception_of(meter, pdu.ReadRequest(pdu.READ_INPUT, 0, count)),
                 pdu.exception_name(pdu.ILLEGAL_VALUE), "exceptions",
                 detail=f"a read asks for 1 to {pdu.MAX_READ} registers")


@pytest.mark.clause("exceptions")
def test_setting_out_of_range_gives_exception_03(meter, meter_map, verify):
    register = meter_map.setting("baud rate")
    code = next(c for c in range(256) if c not in register.codes)
    before = meter.read(register.name)
    try:
        answer = exception_of(meter, pdu.WriteRequest(register.address, register.encode(code)))
    finally:
        meter.write(register.name, before)  # a meter that took it must not keep it
    verify.equal(f"exception to baud rate code {code}", answer,
                 pdu.exception_name(pdu.ILLEGAL_VALUE), "exceptions",
                 detail=f"the map's baud rate codes are {register.codes}")
