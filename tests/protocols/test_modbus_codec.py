"""Modbus RTU codec: framing and CRC (rtu), PDUs (pdu) and register maps (registers).

pymodbus serves as the independent reference: its CRC, its request frames and its reply decoder
must agree with ours wherever both accept the bytes.
"""

import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
)

from meterrig.protocols.modbus import pdu, registers, rtu
from meterrig.protocols.modbus.answer import Answer, exception, normal_reply
from meterrig.protocols.modbus.pdu import (
    ILLEGAL_FUNCTION,
    READ_HOLDING,
    READ_INPUT,
    WRITE_MULTIPLE,
    ExceptionReply,
    OtherReply,
    OtherRequest,
    PduError,
    ReadRequest,
    RegistersReply,
    WriteReply,
    WriteRequest,
    decode_reply,
    decode_request,
)
from meterrig.protocols.modbus.registers import MapError, Register, load_map, register_map
from meterrig.protocols.modbus.rtu import CrcError, ReplySplitter, RtuError, crc16

VECTORS_PATH = Path(__file__).parents[1] / "data" / "vectors.yaml"
FLOAT32_REL = 2**-23  # float32 has a 24-bit significand: one unit in the last place, relative


def _load_vectors() -> dict[str, Any]:
    # As in test_dlt645_vectors.py: the verbatim copy nests a `negative:` key inside the
    # dlt645_2007 list, which is not valid YAML; it is lifted to the top level before parsing.
    text = VECTORS_PATH.read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("\n  negative:", "\ndlt645_2007_negative:", 1))


VECTORS = _load_vectors()["modbus_rtu"]
FLOAT32 = Register(name="value", table="input", address=0, type="float32")


def frame(hex_text: str) -> bytes:
    """A frame written out by hand, CRC appended (low byte first) by pymodbus, not by us."""
    body = bytes.fromhex(hex_text)
    return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")


def f32(value: float) -> float:
    """The float32 nearest a value, as a Python float."""
    return struct.unpack(">f", struct.pack(">f", value))[0]


# -- public vectors ----------------------------------------------------------------------------
@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in VECTORS])
def test_vector_means_what_it_says(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    meaning = vector["meaning"]
    adu = rtu.decode(raw)
    assert (adu.device_id, adu.function) == (meaning["device"], meaning["function"])
    if "float32" in meaning:
        reply = decode_reply(adu.pdu)
        assert isinstance(reply, RegistersReply)
        assert reply.function == meaning["function"]
        assert len(reply.registers) == 2
        value = FLOAT32.decode(reply.registers)
        assert value == pytest.approx(meaning["float32"], rel=FLOAT32_REL)
        assert FLOAT32.encode(value) == reply.registers
        encoded = reply.encode()
    else:
        request = decode_request(adu.pdu)
        assert request == ReadRequest(meaning["function"], meaning["address"], meaning["count"])
        encoded = request.encode()
    assert rtu.encode(adu.device_id, encoded) == raw
    # The CRC-16/MODBUS residue: a whole frame, CRC included, checks to 0.
    assert crc16(raw) == 0


def test_voltage_vector_is_one_ulp_above_the_nearest_float32() -> None:
    # 43 66 33 34 is 230.20001220703125; 230.2 itself encodes to 43 66 33 33 (230.1999969...).
    # A round trip must therefore go through the registers, not through the printed value.
    assert FLOAT32.decode((0x4366, 0x3334)) == 230.20001220703125
    assert FLOAT32.encode(230.2) == (0x4366, 0x3333)
    assert f32(230.2) == 230.1999969482422


def test_every_modbus_vector_is_exercised() -> None:
    assert [v["id"] for v in VECTORS] == ["read-voltage-request", "read-voltage-reply",
                                          "read-device-id-request", "float-one-reply"]


# -- CRC ---------------------------------------------------------------------------------------
def test_crc_check_value_of_the_catalogue() -> None:
    # CRC-16/MODBUS in the CRC catalogue: check = 0x4B37, residue 0.
    assert crc16(b"123456789") == 0x4B37
    assert crc16(b"") == 0xFFFF
    # pymodbus returns the same CRC with its bytes swapped (it packs it big-endian).
    assert FramerRTU.compute_CRC(b"123456789") == 0x374B


@given(st.binary(max_size=300))
def test_crc_agrees_with_pymodbus(data: bytes) -> None:
    assert crc16(data).to_bytes(2, "little") == FramerRTU.compute_CRC(data).to_bytes(2, "big")


@given(st.integers(0, 255), st.binary(min_size=1, max_size=253))
def test_encoded_frame_decodes_and_has_zero_residue(device_id: int, body: bytes) -> None:
    raw = rtu.encode(device_id, body)
    assert len(raw) == len(body) + 3
    assert rtu.decode(raw) == rtu.Adu(device_id, body)
    assert crc16(raw) == 0


# -- frames: ours equal pymodbus's -------------------------------------------------------------
CLIENT_FRAMER = FramerRTU(DecodePDU(is_server=False))
device_ids = st.integers(1, 247)
addresses = st.integers(0, 0xFFFF)
words = st.integers(0, 0xFFFF)


@given(device_ids, addresses, st.integers(1, pdu.MAX_READ))
def test_read_input_request_equals_pymodbus(device_id: int, address: int, count: int) -> None:
    ours = rtu.encode(device_id, ReadRequest(READ_INPUT, address, count).encode())
    theirs = CLIENT_FRAMER.buildFrame(
        ReadInputRegistersRequest(address=address, count=count, dev_id=device_id))
    assert ours == theirs
    assert len(ours) == 8


@given(device_ids, addresses, st.integers(1, pdu.MAX_READ))
def test_read_holding_request_equals_pymodbus(device_id: int, address: int, count: int) -> None:
    ours = rtu.encode(device_id, ReadRequest(READ_HOLDING, address, count).encode())
    theirs = CLIENT_FRAMER.buildFrame(
        ReadHoldingRegistersRequest(address=address, count=count, dev_id=device_id))
    assert ours == theirs


@given(device_ids, addresses, st.lists(words, min_size=1, max_size=pdu.MAX_WRITE))
def test_write_request_equals_pymodbus(device_id: int, address: int, values: list[int]) -> None:
    request = WriteRequest(address, tuple(values))
    ours = rtu.encode(device_id, request.encode())
    theirs = CLIENT_FRAMER.buildFrame(
        WriteMultipleRegistersRequest(address=address, registers=values, dev_id=device_id))
    assert ours == theirs
    assert len(ours) == 9 + 2 * len(values)
    # and the meter's side reads it back, as pymodbus's server decoder does
    assert decode_request(rtu.decode(ours).pdu) == request
    server = DecodePDU(is_server=True).decode(request.encode())
    assert (server.address, list(server.registers)) == (address, values)


def test_write_request_by_hand() -> None:
    # Write 1.0 (3F80 0000) to the device id setting 0x0014 of device 1.
    raw = rtu.encode(1, WriteRequest(0x0014, (0x3F80, 0x0000)).encode())
    assert raw == frame("01 10 0014 0002 04 3F80 0000")
    assert raw.hex(" ") == "01 10 00 14 00 02 04 3f 80 00 00 fe ac"


@given(st.sampled_from([READ_HOLDING, READ_INPUT]), st.lists(words, max_size=pdu.MAX_READ))
def test_registers_reply_agrees_with_pymodbus(function: int, values: list[int]) -> None:
    reply = RegistersReply(function, tuple(values))
    data = reply.encode()
    assert data[:2] == bytes([function, 2 * len(values)])
    assert decode_reply(data) == reply
    theirs = DecodePDU(is_server=False).decode(data)
    assert (theirs.function_code, list(theirs.registers)) == (function, values)


@given(st.sampled_from([READ_HOLDING, READ_INPUT, WRITE_MULTIPLE, 0x06, 0x2B]),
       st.integers(1, 0x0B))
def test_exception_reply_agrees_with_pymodbus(function: int, code: int) -> None:
    data = ExceptionReply(function, code).encode()
    assert data == bytes([function | 0x80, code])
    assert decode_reply(data) == ExceptionReply(function, code)
    theirs = DecodePDU(is_server=False).decode(data)
    assert isinstance(theirs, ExceptionResponse)
    assert (theirs.function_code & 0x7F, theirs.exception_code) == (function, code)


@given(addresses, st.integers(1, pdu.MAX_WRITE))
def test_write_reply_agrees_with_pymodbus(address: int, count: int) -> None:
    data = WriteReply(address, count).encode()
    assert decode_reply(data) == WriteReply(address, count)
    theirs = DecodePDU(is_server=False).decode(data)
    assert (theirs.function_code, theirs.address, theirs.count) == (WRITE_MULTIPLE, address,
                                                                    count)


def test_exception_names() -> None:
    assert ExceptionReply(READ_INPUT, 0x02).name == "02 illegal data address"
    assert pdu.exception_name(0x06) == "06 server device busy"
    assert pdu.exception_name(0x0B) == "0B unknown exception"


# -- rtu.decode rejects ------------------------------------------------------------------------
def test_decode_rejects_a_bad_crc_at_every_bit() -> None:
    raw = bytes.fromhex("01 04 04 43 66 33 34 1B 38")
    for index in range(len(raw)):
        for bit in range(8):
            spoilt = bytearray(raw)
            spoilt[index] ^= 1 << bit
            with pytest.raises(CrcError):
                rtu.decode(bytes(spoilt))


def test_decode_names_both_crcs() -> None:
    with pytest.raises(CrcError, match="bad CRC 381C, expected 381B"):
        rtu.decode(bytes.fromhex("01 04 04 43 66 33 34 1C 38"))
    # swapped CRC bytes (high byte first) are a CRC error too
    with pytest.raises(CrcError):
        rtu.decode(bytes.fromhex("01 04 00 00 00 02 CB 71"))


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_decode_rejects_short_frames(length: int) -> None:
    with pytest.raises(RtuError, match=f"this one {length}") as caught:
        rtu.decode(bytes.fromhex("01 04 00 00 00 02 71 CB")[:length])
    assert not isinstance(caught.value, CrcError)


def test_decode_takes_4_to_256_bytes() -> None:
    assert rtu.decode(rtu.encode(1, b"\x07")) == rtu.Adu(1, b"\x07")
    longest = rtu.encode(1, bytes(253))
    assert len(longest) == 256
    assert rtu.decode(longest).pdu == bytes(253)
    too_long = rtu.encode(1, bytes(254))  # a correct CRC, one byte too many
    with pytest.raises(RtuError, match="this one 257") as caught:
        rtu.decode(too_long)
    assert not isinstance(caught.value, CrcError)


def test_errors_are_value_errors() -> None:
    assert issubclass(CrcError, RtuError) and issubclass(RtuError, ValueError)
    assert issubclass(PduError, ValueError) and issubclass(MapError, ValueError)


# -- PDUs: requests ----------------------------------------------------------------------------
@pytest.mark.parametrize("data, message", [
    ("", "empty PDU"),
    ("04 0000 00", "takes 4 data bytes, got 3"),
    ("04 0000 0002 00", "takes 4 data bytes, got 5"),
    ("03", "takes 4 data bytes, got 0"),
    ("10 0014 0002", "at least 5 data bytes, got 4"),
    ("10 0014 0002 03 3F8000", "byte count 3 and 3 bytes"),  # byte count not 2 x count
    ("10 0014 0002 04 3F8000", "byte count 4 and 3 bytes"),  # truncated values
    ("10 0014 0001 02 3F8000", "byte count 2 and 3 bytes"),  # values beyond the byte count
    ("10 0014 0002 02 3F80", "byte count 2 and 2 bytes"),
])
def test_decode_request_rejects_malformed(data: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        decode_request(bytes.fromhex(data))


def test_decode_request() -> None:
    assert decode_request(bytes.fromhex("04 0048 0002")) == ReadRequest(READ_INPUT, 0x48, 2)
    assert decode_request(bytes.fromhex("03 FC00 0002")) == ReadRequest(READ_HOLDING, 0xFC00, 2)
    assert decode_request(bytes.fromhex("10 001C 0002 04 4000 0000")) == WriteRequest(
        0x1C, (0x4000, 0x0000))
    # the builders take what a meter must refuse, and decoding leaves the judging to the meter
    assert decode_request(ReadRequest(READ_INPUT, 1, 126).encode()) == ReadRequest(
        READ_INPUT, 1, 126)
    assert decode_request(bytes.fromhex("10 0000 0000 00")) == WriteRequest(0, ())


@pytest.mark.parametrize("data", ["06 0014 0002", "08 0000 A537", "2B 0E 01 00", "01 0000 0008",
                                  "84", "7F"])
def test_other_functions_are_other_requests(data: str) -> None:
    raw = bytes.fromhex(data)
    request = decode_request(raw)
    assert request == OtherRequest(raw[0], raw[1:])
    assert request.encode() == raw


# -- PDUs: replies -----------------------------------------------------------------------------
@pytest.mark.parametrize("data, message", [
    ("", "empty PDU"),
    ("04", "byte count - does not match"),
    ("04 04 4366 33", "byte count 4 does not match its 3 data bytes"),
    ("04 04 4366 3334 00", "byte count 4 does not match its 5 data bytes"),
    ("03 03 3F80 00", "byte count 3"),  # odd: not whole registers
    ("03 02 3F80 0000", "byte count 2 does not match its 4 data bytes"),
    ("84", "exception reply has 1 data byte, this one 0"),
    ("84 02 00", "this one 2"),
    ("10 0014 00", "write reply has 4 data bytes, this one 3"),
    ("10 0014 0002 00", "this one 5"),
])
def test_decode_reply_rejects_inconsistent(data: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        decode_reply(bytes.fromhex(data))


def test_decode_reply() -> None:
    assert decode_reply(bytes.fromhex("04 04 4366 3334")) == RegistersReply(
        READ_INPUT, (0x4366, 0x3334))
    assert decode_reply(bytes.fromhex("83 02")) == ExceptionReply(READ_HOLDING, 2)
    assert decode_reply(bytes.fromhex("90 03")).name == "03 illegal data value"
    assert decode_reply(bytes.fromhex("10 0014 0002")) == WriteReply(0x14, 2)


@pytest.mark.parametrize("data, function, payload", [
    ("01 01 00", 0x01, "01 00"),  # read coils: a meter that should refuse it answered
    ("06 0014 0002", 0x06, "0014 0002"),
    ("2B", 0x2B, ""),
])
def test_other_functions_decode_as_far_as_they_go(data: str, function: int, payload: str) -> None:
    reply = decode_reply(bytes.fromhex(data))
    assert reply == OtherReply(function, bytes.fromhex(payload))
    assert reply.encode() == bytes.fromhex(data)
    assert reply.describe() == f"function {function:02X}, data " + (
        bytes.fromhex(payload).hex(" ").upper() or "none")


# -- Answer: whatever came back, for a verdict -------------------------------------------------
READ_VOLTAGE = frame("01 04 0000 0002")


@pytest.mark.parametrize("reply, outcome, shown", [
    ("", "silence", "silence"),
    (frame("01 84 02").hex(), "exception 02 illegal data address", "device 1, function 84, "
                                                                  "exception 02 illegal data"),
    ("01 04 04 43 66 33 34 1B 38", "a normal reply to function 04",
     "device 1, function 04, 2 registers 4366 3334"),
    (frame("07 04 04 4366 3334").hex(), "a reply from device 7", "device 7, function 04"),
    (frame("01 01 01 00").hex(), "a reply with function 01 to function 04",
     "device 1, function 01, data 01 00"),
    (frame("01 04 04 4366").hex(), "a malformed reply to function 04",
     "function 04, a read reply's byte count 4 does not match its 2 data bytes"),
    ("01 04 04 43 66 33 34 1B 39", "a reply that is not a frame",
     "device 1, function 04, 2 registers 4366 3334, bad CRC 391B, expected 381B"),
    ("FF 00", "a reply that is not a frame", "FF 00 = 2 byte(s), too short for a frame"),
])
def test_answer_outcome_and_bytes(reply: str, outcome: str, shown: str) -> None:
    answer = Answer(READ_VOLTAGE, bytes.fromhex(reply))
    assert answer.outcome() == outcome
    assert shown in answer.shown()
    if reply:
        assert answer.shown().startswith(bytes.fromhex(reply).hex(" ").upper() + " = ")


def test_a_normal_reply_to_an_unimplemented_function_is_an_outcome_not_an_error() -> None:
    """The case of issue 8: read coils to a meter that should refuse it got a coils reply."""
    answer = Answer(frame("01 01 0000 0001"), frame("01 01 01 00"))
    assert answer.outcome() == normal_reply(0x01) == "a normal reply to function 01"
    assert answer.outcome() != exception(ILLEGAL_FUNCTION)
    assert answer.reply == OtherReply(0x01, b"\x01\x00")


# -- ReplySplitter -----------------------------------------------------------------------------
EXCEPTION = frame("01 84 02")
READ_REPLY = bytes.fromhex("01 04 04 43 66 33 34 1B 38")
WRITE_REPLY = frame("01 10 0014 0002")
LONG_READ = rtu.encode(1, RegistersReply(READ_INPUT, tuple(range(40))).encode())


def test_reply_lengths() -> None:
    assert (len(EXCEPTION), len(READ_REPLY), len(WRITE_REPLY), len(LONG_READ)) == (5, 9, 8, 85)
    assert rtu.reply_length(b"") is None
    assert rtu.reply_length(b"\x01") is None
    assert rtu.reply_length(b"\x01\x04") is None  # the byte count is still to come
    assert rtu.reply_length(b"\x01\x04\x50") == 85
    assert rtu.reply_length(b"\x01\x83") == 5
    assert rtu.reply_length(b"\x01\x10") == 8
    assert rtu.reply_length(b"\x01\x2b") == 0  # a function the master never sends


@pytest.mark.parametrize("reply", [EXCEPTION, READ_REPLY, WRITE_REPLY, LONG_READ],
                         ids=["exception", "read", "write", "read-40-registers"])
def test_splitter_whole_and_byte_by_byte(reply: bytes) -> None:
    assert ReplySplitter().feed(reply) == [reply]
    splitter = ReplySplitter()
    for byte in reply[:-1]:
        assert splitter.feed(bytes([byte])) == []
    assert splitter.feed(reply[-1:]) == [reply]
    assert splitter.feed(b"") == []


def test_splitter_keeps_extra_bytes_for_the_next_frame() -> None:
    splitter = ReplySplitter()
    assert splitter.feed(READ_REPLY + WRITE_REPLY[:3]) == [READ_REPLY]
    assert splitter.feed(WRITE_REPLY[3:7]) == []
    assert splitter.feed(WRITE_REPLY[7:] + EXCEPTION) == [WRITE_REPLY]
    # one frame per call: the rest waits for the next one
    assert splitter.feed(b"") == [EXCEPTION]
    assert splitter.feed(b"") == []


def test_splitter_waits_for_silence_on_an_unknown_function() -> None:
    splitter = ReplySplitter()
    assert splitter.feed(frame("01 2B 0E 01 01")) == []
    assert splitter.feed(bytes(300)) == []


@given(st.lists(st.sampled_from([EXCEPTION, READ_REPLY, WRITE_REPLY, LONG_READ]), min_size=1,
                max_size=5),
       st.lists(st.integers(1, 20), min_size=1, max_size=60))
def test_splitter_finds_replies_however_they_are_chunked(replies: list[bytes],
                                                         sizes: list[int]) -> None:
    stream = b"".join(replies)
    splitter = ReplySplitter()
    found: list[bytes] = []
    position, index = 0, 0
    while position < len(stream):
        size = sizes[index % len(sizes)]
        found += splitter.feed(stream[position:position + size])
        position, index = position + size, index + 1
    while more := splitter.feed(b""):
        found += more
    assert found == replies


# -- silent intervals --------------------------------------------------------------------------
@pytest.mark.parametrize("baudrate, t15, t35", [
    (2400, 6.875e-3, 16.0416667e-3),
    (9600, 1.71875e-3, 4.0104167e-3),
    (19200, 0.859375e-3, 2.0052083e-3),  # 19200 still scales with the rate
    (38400, 750e-6, 1.750e-3),
    (115200, 750e-6, 1.750e-3),
])
def test_silent_intervals(baudrate: int, t15: float, t35: float) -> None:
    got = rtu.silent_intervals(baudrate)
    assert got == pytest.approx((t15, t35), rel=1e-7)
    if baudrate <= 19200:
        assert got == pytest.approx((1.5 * 11 / baudrate, 3.5 * 11 / baudrate), rel=1e-12)


def test_silent_intervals_for_another_character_length() -> None:
    # 8N1 is 10 bits on the wire; the spec's 11 bits is the default
    assert rtu.silent_intervals(9600, character_bits=10) == pytest.approx(
        (1.5625e-3, 3.6458333e-3), rel=1e-7)


# -- register maps: shipped --------------------------------------------------------------------
def test_shipped_map_names() -> None:
    assert {"sdm120", "sdm630"} <= set(registers.map_names())


@pytest.mark.parametrize("name", registers.map_names())
def test_every_shipped_map_loads_and_is_consistent(name: str) -> None:
    rmap = register_map(name)
    assert rmap.name == name and rmap.description and rmap.source
    assert rmap.phases in (1, 3)
    for register in rmap.registers.values():
        assert register.quantity is None or register.setting is None, register.name
        assert register.phase is None or 1 <= register.phase <= rmap.phases, register.name
        if rmap.pairs:
            assert register.address % 2 == 0, register.name
        assert rmap.at(register.function, register.address) is register
        assert rmap.at(register.function, register.addresses[-1]) is register
    for quantity, unit in (("voltage", "V"), ("current", "A"), ("active power", "W")):
        for phase in (range(1, 4) if rmap.phases == 3 else [None]):
            assert rmap.measuring(quantity, phase).unit == unit
    for table in ("input", "holding"):
        free = rmap.unmapped_address(table)
        assert free % 2 == 0
        function = registers.TABLES[table]
        assert rmap.at(function, free) is None and rmap.at(function, free + 1) is None
    assert rmap.setting("device id").allowed == (1, 247)
    assert rmap.setting("serial number").writable is False


def test_unknown_map_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no register map 'sdm999'; known: sdm120, sdm630"):
        register_map("sdm999")


def test_sdm120_map() -> None:
    rmap = register_map("sdm120")
    assert (rmap.phases, rmap.pairs) == (1, True)
    voltage = rmap["voltage"]
    assert (voltage.function, voltage.address, voltage.count, voltage.unit) == (
        READ_INPUT, 0x0000, 2, "V")
    assert rmap.measuring("voltage") is voltage
    assert voltage.accuracy_percent == 0.5
    assert rmap.measuring("total energy").address == 0x0156
    assert rmap.at(READ_INPUT, 0x0001) is voltage  # second word of the pair
    assert rmap.at(READ_INPUT, 0x0002) is None
    # the two tables are separate: 0x0012 is apparent power in one, parity in the other
    assert rmap.at(READ_INPUT, 0x0012) is rmap["apparent power"]
    assert rmap.at(READ_HOLDING, 0x0012) is rmap["parity"]
    assert rmap.at(WRITE_MULTIPLE, 0x0012) is None
    assert [r.name for r in rmap.in_table("holding")] == ["parity", "device id", "baud rate",
                                                          "serial number"]
    assert rmap.setting("baud rate").code_of(9600) == 2
    assert rmap.setting("baud rate").codes == {0: 2400, 1: 4800, 2: 9600, 5: 1200}
    assert rmap.setting("parity").codes[1] == "8E1"
    assert rmap.setting("parity").applies == "after restart"
    assert rmap.unmapped_address("input") == 0x0100
    with pytest.raises(KeyError, match="no code for 57600"):
        rmap.setting("baud rate").code_of(57600)
    with pytest.raises(KeyError, match="has no register 'volts'; it has voltage, current"):
        rmap["volts"]
    with pytest.raises(KeyError, match="no register for voltage on phase 2"):
        rmap.measuring("voltage", 2)
    with pytest.raises(KeyError, match="no register for frequency"):
        load_map("bare", MINIMAL).measuring("frequency")


def test_sdm630_map() -> None:
    rmap = register_map("sdm630")
    # V1.8 §1.1: it answers a read of any single register; a new device id needs a restart
    assert (rmap.phases, rmap.pairs) == (3, False)
    assert rmap.setting("device id").applies == "after restart"
    per_phase = {"voltage": 0x00, "current": 0x06, "active power": 0x0C,
                 "apparent power": 0x12, "reactive power": 0x18, "power factor": 0x1E}
    for quantity, first in per_phase.items():
        assert [rmap.measuring(quantity, p).address for p in (1, 2, 3)] == [
            first, first + 2, first + 4]
    totals = {"active power": 0x34, "apparent power": 0x38, "reactive power": 0x3C,
              "power factor": 0x3E, "frequency": 0x46, "import energy": 0x48,
              "export energy": 0x4A, "total energy": 0x0156}
    assert {q: rmap.measuring(q).address for q in totals} == totals
    assert rmap.measuring("active power").name == "total system power"
    with pytest.raises(KeyError):
        rmap.measuring("voltage")  # no system voltage in this map
    assert {s: rmap.setting(s).address for s in registers.SETTINGS} == {
        "device id": 0x14, "baud rate": 0x1C, "parity": 0x12, "serial number": 0xFC00}
    assert rmap.setting("baud rate").code_of(38400) == 4
    assert rmap.setting("serial number").type == "uint32"
    assert all(r.type == "float32" for r in rmap.in_table("input"))
    assert rmap.at(READ_INPUT, 0x0013) is rmap["L1 apparent power"]
    assert rmap.at(READ_HOLDING, 0x0013) is rmap["parity"]


def test_declared_accuracy_in_the_quantity_unit() -> None:
    """Eastron declares % of range maximum or of nominal, not of reading (modbus-meter.md)."""
    rmap = register_map("sdm120")
    un, ib, fn = 230.0, 5.0, 50.0
    voltage, current, power, pf = (rmap[n] for n in ("voltage", "current", "active power",
                                                     "power factor"))
    assert (voltage.accuracy_of, current.accuracy_of) == ("range maximum", "nominal")
    # 0.5 % of the 276 V range maximum, whatever the reading
    assert voltage.accuracy_band(230.0, rmap.nominal(voltage, un, ib, fn)) == pytest.approx(1.38)
    assert voltage.accuracy_band(100.0, rmap.nominal(voltage, un, ib, fn)) == pytest.approx(1.38)
    # 0.5 % of nominal: the position's Ib
    assert current.accuracy_band(0.5, rmap.nominal(current, un, ib, fn)) == pytest.approx(0.025)
    assert rmap.nominal(power, un, ib, fn) == 1150.0
    assert power.accuracy_band(575.0, 1150.0) == pytest.approx(124.2)  # 1 % of 12420 W
    assert pf.accuracy_band(0.5, rmap.nominal(pf, un, ib, fn)) == pytest.approx(0.01)  # unity
    # % of reading scales with the reading
    by_reading = voltage.model_copy(update={"accuracy_of": "reading", "range_maximum": None})
    assert by_reading.accuracy_band(-200.0, 230.0) == pytest.approx(1.0)
    # a system power on a three-phase map: all three phases' Un·Ib
    total = register_map("sdm630").measuring("active power")
    assert register_map("sdm630").nominal(total, un, ib, fn) == 3 * 1150.0


def test_unused_code_is_one_no_shipped_map_uses() -> None:
    used = {code for name in registers.map_names()
            for code in register_map(name).setting("baud rate").codes}
    code = registers.unused_code("baud rate")
    assert code not in used and code < registers.CODE_BOUND
    assert all(c in used for c in range(code))  # the lowest such code
    # the SDM120 map alone would have taken 3, a valid SDM630 code (19200 bit/s)
    assert 3 not in register_map("sdm120").setting("baud rate").codes
    assert register_map("sdm630").setting("baud rate").codes[3] == 19200


# -- register values ---------------------------------------------------------------------------
def test_float32_big_and_little_word_order() -> None:
    big = register_map("sdm120")["voltage"]
    assert big.word_order == "big"
    assert big.decode((0x4366, 0x3334)) == pytest.approx(230.2, rel=FLOAT32_REL)
    little = big.model_copy(update={"word_order": "little"})
    assert little.decode((0x3334, 0x4366)) == big.decode((0x4366, 0x3334))
    assert little.encode(230.2) == (0x3333, 0x4366)
    assert big.encode(1.0) == (0x3F80, 0x0000)
    assert little.encode(1.0) == (0x0000, 0x3F80)


def test_integers_and_scale() -> None:
    serial = register_map("sdm120")["serial number"]
    assert serial.decode((0x0001, 0xE240)) == 123456
    assert serial.encode(123456) == (0x0001, 0xE240)
    tenths = Register(name="voltage", table="input", address=0, type="uint16", unit="V", scale=0.1)
    assert tenths.encode(230.2) == (2302,)
    assert tenths.decode((2302,)) == pytest.approx(230.2)
    energy = Register(name="energy", table="input", address=0, type="uint32", scale=0.01,
                      word_order="little")
    assert energy.encode(3054198.96) == (0x5678, 0x1234)
    assert energy.decode((0x5678, 0x1234)) == pytest.approx(3054198.96)
    signed = Register(name="power", table="input", address=0, type="int16")
    assert signed.decode((0xFFFF,)) == -1 and signed.encode(-2) == (0xFFFE,)
    assert Register(name="x", table="input", address=0, type="int32").decode((0xFFFF, 0xFFFE)) == -2
    assert (tenths.count, energy.count, list(energy.addresses)) == (1, 2, [0, 1])


@given(st.floats(width=32, allow_nan=False), st.sampled_from(["big", "little"]))
def test_float32_round_trip(value: float, word_order: str) -> None:
    register = Register(name="x", table="input", address=0, type="float32", word_order=word_order)
    words = register.encode(value)
    assert len(words) == 2
    assert register.decode(words) == value
    big = struct.unpack(">2H", struct.pack(">f", value))
    assert words == (big if word_order == "big" else big[::-1])


@given(st.integers(0, 2**32 - 1), st.sampled_from(["big", "little"]))
def test_uint32_round_trip(value: int, word_order: str) -> None:
    register = Register(name="x", table="input", address=0, type="uint32", word_order=word_order)
    words = register.encode(value)
    assert register.decode(words) == value
    assert words[0 if word_order == "big" else 1] == value >> 16


@given(st.integers(0, 0xFFFF))
def test_uint16_round_trip(value: int) -> None:
    register = Register(name="x", table="holding", address=0, type="uint16")
    assert register.encode(value) == (value,)
    assert register.decode((value,)) == value


@given(st.integers(0, 0xFFFF), st.sampled_from([0.1, 0.01, 0.001, 10.0]))
def test_scaled_round_trip(raw: int, scale: float) -> None:
    register = Register(name="x", table="input", address=0, type="uint16", scale=scale)
    assert register.encode(register.decode((raw,))) == (raw,)


# -- register maps: MapError -------------------------------------------------------------------
MINIMAL = """
description: test
source: test
registers:
  voltage: {table: input, address: 0x0000, type: float32, unit: V, quantity: voltage}
"""


def test_map_defaults() -> None:
    rmap = load_map("bare", MINIMAL)
    assert (rmap.phases, rmap.pairs) == (1, False)
    voltage = rmap["voltage"]
    assert (voltage.word_order, voltage.scale, voltage.writable, voltage.applies) == (
        "big", 1.0, False, "immediately")


def test_map_word_order_is_the_default_of_its_registers() -> None:
    rmap = load_map("little", MINIMAL.replace("source: test", "source: test\nword_order: little")
                    + "  current: {table: input, address: 0x0006, type: float32,"
                      " quantity: current, word_order: big}\n")
    assert rmap["voltage"].word_order == "little"
    assert rmap["voltage"].decode((0x3334, 0x4366)) == pytest.approx(230.2, rel=FLOAT32_REL)
    assert rmap["current"].word_order == "big"


@pytest.mark.parametrize("line, message", [
    ("x: {table: input, address: 2, type: float32, adress: 4}",
     "unknown key 'adress' \\(did you mean 'address'\\?\\)"),
    ("x: {table: coil, address: 2, type: float32}",
     "registers.x.table: got 'coil'; expected one of input, holding"),
    ("x: {table: input, address: 2, type: float64}",
     "registers.x.type: got 'float64'; expected one of float32"),
    ("x: {table: input, address: 2, type: float32, quantity: energy}",
     "registers.x.quantity: got 'energy'; expected one of voltage"),
    ("x: {table: input, address: 2, type: float32, word_order: middle}",
     "registers.x.word_order: got 'middle'; expected one of big, little"),
    ("x: {table: holding, address: 2, type: float32, setting: password}",
     "registers.x.setting: got 'password'; expected one of device id"),
    ("x: {table: holding, address: 2, type: float32, applies: never}",
     "registers.x.applies: got 'never'; expected one of immediately"),
    ("x: {table: input, address: 2, type: float32, writable: true}",
     "only holding registers can be written"),
    ("x: {table: input, address: 1, type: float32}", "voltage and x overlap|x and voltage overlap"),
    ("x: {table: input, address: 0, type: uint16}", "overlap"),
    ("x: {table: input, address: 2, type: float32, accuracy_of: scale}",
     "registers.x.accuracy_of: got 'scale'; expected one of reading"),
    ("x: {table: input, address: 2, type: float32, accuracy_of: range maximum}",
     "range_maximum goes with accuracy_of: range maximum"),
    ("x: {table: input, address: 2, type: float32, range_maximum: 276}",
     "range_maximum goes with accuracy_of: range maximum"),
    ("x: {table: input, address: 2, type: float32, quantity: import energy, "
     "accuracy_of: nominal}", "import energy has no nominal value in the rating"),
])
def test_bad_registers_are_map_errors(line: str, message: str) -> None:
    with pytest.raises(MapError, match=message):
        load_map("bad", MINIMAL + "  " + line + "\n")


def test_the_error_names_the_map_and_register() -> None:
    with pytest.raises(MapError, match="^bad:6: registers.x.table: got 'coil'"):
        load_map("bad", MINIMAL + "  x: {table: coil, address: 2, type: float32}\n")


def test_odd_address_in_a_pairs_map() -> None:
    odd = MINIMAL.replace("source: test", "source: test\npairs: true") + (
        "  x: {table: holding, address: 0x0013, type: float32}\n")
    with pytest.raises(MapError, match="x at 0013 is odd, but the map reads in even-aligned"):
        load_map("bad", odd)
    # without pairs, an odd address is fine
    assert load_map("ok", odd.replace("pairs: true", "pairs: false"))["x"].address == 0x13


def test_same_address_in_two_tables_is_no_overlap() -> None:
    rmap = load_map("ok", MINIMAL + "  x: {table: holding, address: 0, type: float32,"
                                    " writable: true}\n")
    assert rmap.at(READ_HOLDING, 0) is rmap["x"] and rmap.at(READ_INPUT, 0) is rmap["voltage"]


def test_unknown_map_keys_are_map_errors() -> None:
    with pytest.raises(MapError,
                       match="bad:4: pair: unknown key 'pair' \\(did you mean 'pairs'\\?\\)"):
        load_map("bad", MINIMAL.replace("source: test", "source: test\npair: true"))


@pytest.mark.parametrize("phases, phase", [(1, 1), (1, 2), (3, 0), (3, 4)])
def test_phase_outside_the_map_is_a_map_error(phases: int, phase: int) -> None:
    text = MINIMAL.replace("source: test", f"source: test\nphases: {phases}") + (
        f"  x: {{table: input, address: 2, type: float32, quantity: current, phase: {phase}}}\n")
    with pytest.raises(MapError, match=f"x is on phase {phase}, but the map has {phases} phase"):
        load_map("bad", text)
