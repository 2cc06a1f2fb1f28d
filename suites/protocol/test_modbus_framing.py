"""Modbus RTU framing and addressing: CRC, silences, and who may answer."""

from __future__ import annotations

import pytest

from meterrig.limits.modbus import SILENCE as SILENCE_BEFORE_REPLY
from meterrig.limits.modbus import SILENCE_KEY
from meterrig.protocols.modbus import pdu, rtu
from meterrig.protocols.modbus.answer import SILENCE, Answer
from meterrig.protocols.modbus.spec import MODBUS_RTU

pytestmark = pytest.mark.protocol(MODBUS_RTU)


def read_voltage(meter, device_id: int) -> bytes:
    register = meter.register_map.probe
    return rtu.encode(device_id, pdu.ReadRequest(register.function, register.address,
                                                 register.count).encode())


@pytest.mark.clause("crc")
@pytest.mark.measures("reply_crc")
def test_reply_crc(meter, verify):
    exchange = meter.send(read_voltage(meter, meter.device_id), expect_reply=False,
                          label=f"read voltage from device {meter.device_id}").exchanges[-1]
    try:
        rtu.decode(exchange.reply)
        crc = "good"
    except rtu.CrcError:
        crc = "wrong checksum"
    except rtu.RtuError:
        crc = "no frame"
    verify.equal("reply CRC", crc, "good", "crc",
                 detail="CRC-16/MODBUS over the reply, low byte first; heard "
                        + Answer(exchange.request, exchange.reply).shown(), key="reply_crc")


@pytest.mark.clause("crc")
@pytest.mark.measures("answer_to_bad_crc")
def test_bad_crc_request_is_ignored(meter, verify):
    frame = read_voltage(meter, meter.device_id)
    spoilt = frame[:-2] + bytes([frame[-2] ^ 0xFF, frame[-1]])
    answer = meter.send(spoilt, expect_reply=False, label="read voltage with a bad CRC").answer
    verify.equal("answer to a request with a bad CRC", answer.outcome(), SILENCE, "crc",
                 detail=f"a device discards a frame whose CRC is wrong; heard {answer.shown()}",
                 key="answer_to_bad_crc")


@pytest.mark.clause("addressing")
@pytest.mark.measures("answer_to_other_device_id")
def test_other_device_id_is_silent(meter, foreign_device_id, verify):
    """No device on the bus has this id: any byte that comes back is a violation, whatever id
    or data it carries."""
    answer = meter.send(read_voltage(meter, foreign_device_id), expect_reply=False,
                        label=f"read voltage from absent device {foreign_device_id}").answer
    verify.equal(f"answer to a request for device {foreign_device_id}", answer.outcome(),
                 SILENCE, "addressing",
                 detail=f"device {meter.device_id} answers frames addressed to another meter; "
                        f"heard {answer.shown()}",
                 key="answer_to_other_device_id", at={"device_id": foreign_device_id})


@pytest.mark.clause("broadcast")
@pytest.mark.measures("answer_to_broadcast_read")
def test_broadcast_read_is_silent(meter, verify):
    """A broadcast gets no reply (and carries no read): any byte back is a violation."""
    answer = meter.send(read_voltage(meter, rtu.BROADCAST), expect_reply=False,
                        label="read voltage broadcast").answer
    verify.equal("answer to a broadcast read", answer.outcome(), SILENCE, "broadcast",
                 detail=f"device {meter.device_id} answers broadcast frames; "
                        f"heard {answer.shown()}", key="answer_to_broadcast_read")


@pytest.mark.clause("framing")
@pytest.mark.measures(SILENCE_KEY)
def test_reply_waits_for_t35(meter, meter_map, verify):
    """Every reply of a run of reads starts after the request's end plus t3.5 of silence.
    (Every other exchange is timed too, by the reporting plugin.) On a bus whose resolution
    cannot tell, the test ends skipped as INCONCLUSIVE, with the reason."""
    registers = [r for r in meter_map.registers.values() if r.quantity]
    for register in registers:
        transaction = meter.send(
            rtu.encode(meter.device_id, pdu.ReadRequest(register.function, register.address,
                                                        register.count).encode()),
            label=f"read {register.name} from device {meter.device_id}")
        for exchange in transaction.exchanges:
            # a reply sooner than t3.5 runs into the request; judged with the bus's resolution
            verify.reply_timing(exchange, SILENCE_BEFORE_REPLY)
