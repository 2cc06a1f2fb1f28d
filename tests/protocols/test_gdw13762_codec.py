"""Q/GDW 1376.2 codec: the public vectors decode to their meaning, frames and data units round
trip (hypothesis), and malformed bytes give a typed error naming the byte, never a crash."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.frame import (
    UP_RESERVED_MASK,
    Address,
    BadChecksum,
    Control,
    DownInfo,
    Frame,
    FrameError,
    FrameSplitter,
    Rate,
    UpInfo,
    decode,
    dt_of,
    encode,
    fn_of,
)
from meterrig.protocols.gdw13762.tables import EDITION_2009, EDITION_2013, deny_reason
from tests.protocols.test_dlt645_vectors import _load_vectors

VECTORS = {v["id"]: v for v in _load_vectors()["gdw1376_2"]}
DIRECTIONS = {"down": False, "up": True}


@pytest.mark.parametrize("vector", VECTORS.values(), ids=list(VECTORS))
def test_every_vector_decodes_to_its_meaning(vector):
    raw = bytes.fromhex(vector["hex"])
    frame = decode(raw)
    meaning = vector["meaning"]
    unit = u.read_unit(frame.key, frame.control.uplink, frame.data)
    seen = {
        "control": frame.control.byte, "afn": frame.afn, "fn": frame.fn,
        "dir": "up" if frame.control.uplink else "down", "prm": int(frame.control.prm),
        "mode": frame.control.mode, "seq": frame.info.seq,
        "routing_bypass": frame.info.bypass_routing,
        "expected_reply_len": getattr(frame.info, "reply_bytes", None),
        "processed": getattr(unit, "processed", None), "wait_s": getattr(unit, "wait_s", None),
    }
    stated = {k: v for k, v in meaning.items() if k != "note"}
    assert {k: seen[k] for k in stated} == stated
    assert encode(frame) == raw


def test_the_two_query_vectors_differ_only_in_r_though_their_cs_agree():
    bypass = decode(bytes.fromhex(VECTORS["afn03-f1-query-bypass"]["hex"]))
    plain = decode(bytes.fromhex(VECTORS["afn03-f1-query-plain"]["hex"]))
    assert (bypass.info.bypass_routing, bypass.info.reply_bytes) == (True, 255)
    assert (plain.info.bypass_routing, plain.info.reply_bytes) == (False, 0)


@pytest.mark.parametrize(("fn", "dt"), [(1, "01 00"), (10, "02 01"), (100, "08 0C")])
def test_dt_of_the_notes_examples(fn, dt):
    assert dt_of(fn) == bytes.fromhex(dt)
    assert fn_of(*bytes.fromhex(dt)) == fn


def test_dt1_with_two_bits_is_an_error_naming_the_byte():
    raw = bytearray(bytes.fromhex(VECTORS["afn03-f1-query-plain"]["hex"]))
    raw[11], raw[13] = 0x03, (raw[13] + 2) & 0xFF  # DT1 01 -> 03, CS kept right
    with pytest.raises(FrameError, match=r"byte 11 \(DT1\): 03"):
        decode(bytes(raw))


def test_wrong_checksum_names_its_byte_and_the_right_value():
    raw = bytearray(bytes.fromhex(VECTORS["afn00-f1-module-confirm"]["hex"]))
    raw[-2] ^= 0xFF
    with pytest.raises(BadChecksum, match=r"byte 19 \(CS\): 7B, expected 84"):
        decode(bytes(raw))


def test_a_meter_addressing_frame_carries_a1_relays_a3():
    frame = Frame(Control(uplink=False, prm=True),
                  DownInfo(seq=7, module=True, relay_level=2),
                  0x13, 1, u.MonitorSlave(2, b"\x68\x16").encode(),
                  Address("000000000001", "201905241006", ("111111111111", "222222222222")))
    raw = encode(frame)
    assert raw[10:16] == bytes.fromhex("010000000000")  # A1, low byte first
    assert raw[28:34] == bytes.fromhex("061024051920")  # A3 after two relays
    assert decode(raw) == frame


def test_deny_codes_come_from_the_table():
    assert deny_reason(7) == "meter number not present"
    assert deny_reason(12) == "slave not in network"


def test_13f1_uplink_2009_and_2013_layouts():
    reply = bytes.fromhex("68 01 00 00 00 00 00 68 91 00 CA 16")
    new = u.MonitorReply(2, reply, duration_s=3)
    old = u.MonitorReply(2, reply)
    assert new.encode(EDITION_2013)[:3] == bytes.fromhex("03 00 02")
    assert old.encode(EDITION_2009)[:2] == bytes.fromhex("02 0C")
    assert u.read_unit("13 F1", True, new.encode(EDITION_2013), EDITION_2013) == new
    assert u.read_unit("13 F1", True, old.encode(EDITION_2009), EDITION_2009) == old
    with pytest.raises(u.UnitError):  # a 2009 unit read as 2013 does not fit
        u.read_unit("13 F1", True, old.encode(EDITION_2009), EDITION_2013)


def test_06f2_2009_lacks_the_duration():
    report = u.ReportReadData(3, 2, b"\x68\x16")
    assert report.encode(EDITION_2009) == bytes.fromhex("03 00 02 02 68 16")
    with pytest.raises(ValueError, match="has the uplink duration"):
        report.encode(EDITION_2013)


def test_a_bcd_error_in_a_unit_names_its_byte():
    with pytest.raises(u.UnitError, match=r"data unit byte 3 \(slave 1 address\): 1A"):
        u.read_unit("11 F2", False, bytes.fromhex("01 01 00 1A 00 00 00"))


# -- round trips ------------------------------------------------------------------------------
nibble = st.integers(0, 15)
byte = st.integers(0, 255)
digits = st.text("0123456789", min_size=12, max_size=12)
frame_bytes = st.binary(max_size=40)
dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))
ascii2 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=2,
                 max_size=2)
rates = st.builds(Rate, st.integers(0, 0x7FFF), st.booleans())
down_info = st.builds(DownInfo, byte, st.booleans(), st.booleans(), st.booleans(),
                      st.booleans(), nibble, nibble, nibble, byte, rates)
up_info = st.builds(UpInfo, byte, st.booleans(), st.booleans(), nibble, nibble, nibble,
                    nibble, nibble, nibble, st.booleans(),
                    st.binary(min_size=6, max_size=6).map(
                        lambda b: bytes(x & m for x, m in zip(b, UP_RESERVED_MASK,
                                                              strict=True))))


@st.composite
def frames(draw):
    uplink = draw(st.booleans())
    info = draw(up_info if uplink else down_info)
    address = None
    if info.module:
        relays = () if uplink else tuple(draw(st.lists(digits, min_size=info.relay_level,
                                                       max_size=info.relay_level)))
        address = Address(draw(digits), draw(digits), relays)
    return Frame(Control(uplink, draw(st.booleans()), draw(st.integers(0, 63))), info,
                 draw(byte), draw(st.integers(1, 2048)), draw(frame_bytes), address)


@settings(max_examples=300)
@given(frames())
def test_frames_round_trip(frame):
    raw = encode(frame)
    assert decode(raw) == frame
    assert FrameSplitter().feed(b"\x00\xfe" + raw + raw[:5]) == [raw]


vendor = st.builds(u.VendorVersion, ascii2, ascii2, dates,
                   st.text("0123456789", min_size=4, max_size=4))
UNITS = {
    ("00 F1", True): st.builds(u.Confirm, st.booleans(), st.integers(0, 2**31 - 1),
                               st.integers(0, 0xFFFF)),
    ("00 F2", False): st.builds(u.Deny, byte),
    ("01 F2", False): st.just(u.Empty()),
    ("02 F1", True): st.builds(u.Forward, byte, frame_bytes),
    ("03 F1", True): vendor,
    ("03 F4", True): st.builds(u.NodeAddress, digits),
    ("03 F10", True): st.builds(
        u.RunningMode, st.binary(min_size=6, max_size=6), byte, st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), byte, digits, st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF), dates, dates, vendor, st.lists(rates, max_size=4).map(tuple)),
    ("04 F1", False): st.builds(u.SendTest, byte),
    ("05 F1", False): st.builds(u.NodeAddress, digits),
    ("10 F1", True): st.builds(u.SlaveCount, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    ("10 F2", False): st.builds(u.SlaveInfoQuery, st.integers(0, 0xFFFF), byte),
    ("10 F2", True): st.builds(u.SlaveInfoList, st.integers(0, 0xFFFF), st.lists(
        st.builds(u.SlaveInfo, digits, nibble, nibble, st.integers(0, 7), st.integers(0, 7)),
        max_size=5).map(tuple)),
    ("11 F1", False): st.builds(u.AddSlaves, st.lists(st.builds(u.Slave, digits, byte),
                                                      max_size=5).map(tuple)),
    ("11 F2", False): st.builds(u.DeleteSlaves, st.lists(digits, max_size=5).map(tuple)),
    ("13 F1", False): st.builds(u.MonitorSlave, byte, frame_bytes, byte,
                                st.lists(digits, max_size=3).map(tuple)),
    ("14 F1", True): st.builds(u.RouteReadRequest, byte, digits, st.integers(0, 0xFFFF)),
    ("14 F1", False): st.builds(u.RouteReadAnswer, st.integers(0, 2), frame_bytes, byte,
                                st.lists(digits, max_size=3).map(tuple)),
    ("F1 F1", False): st.builds(u.ConcurrentRead, byte, st.binary(max_size=300), byte),
}
EDITIONED = {("06 F2", True): lambda d: st.builds(u.ReportReadData, st.integers(0, 0xFFFF),
                                                  byte, frame_bytes, d),
             ("13 F1", True): lambda d: st.builds(u.MonitorReply, byte, frame_bytes, d)}


@pytest.mark.parametrize("key", list(UNITS), ids=[f"{k} {'up' if up else 'down'}"
                                                  for k, up in UNITS])
@settings(max_examples=60)
@given(data=st.data())
def test_units_round_trip(key, data):
    unit = data.draw(UNITS[key])
    assert u.read_unit(*key, unit.encode()) == unit


@pytest.mark.parametrize("edition", [EDITION_2013, EDITION_2009])
@pytest.mark.parametrize("key", list(EDITIONED), ids=[k for k, _ in EDITIONED])
@settings(max_examples=60)
@given(data=st.data())
def test_edition_units_round_trip(key, edition, data):
    duration = st.integers(0, 0xFFFF) if edition == EDITION_2013 else st.none()
    unit = data.draw(EDITIONED[key](duration))
    assert u.read_unit(*key, unit.encode(edition), edition) == unit


def test_every_layout_is_round_tripped_here():
    assert set(u.LAYOUTS) - set(UNITS) - set(EDITIONED) <= {
        ("00 F1", False), ("00 F2", True), ("01 F1", False), ("01 F3", False),
        ("02 F1", False), *((k, False) for k in ("03 F1", "03 F4", "03 F10", "10 F1")),
        ("12 F1", False), ("12 F2", False), ("12 F3", False), ("F1 F1", True)}  # same types


# -- malformed input --------------------------------------------------------------------------
@settings(max_examples=500)
@given(st.binary(max_size=60))
def test_any_bytes_decode_or_raise_a_frame_error(raw):
    try:
        frame = decode(raw)
    except FrameError as exc:
        assert 0 <= exc.offset <= len(raw)
        return
    try:
        u.read_unit(frame.key, frame.control.uplink, frame.data)
    except u.UnitError as exc:
        assert 0 <= exc.offset <= len(frame.data)
    except LookupError:
        pass  # a function the notes give no layout for: its data stays bytes


@settings(max_examples=300)
@given(st.sampled_from(sorted(u.LAYOUTS)), st.binary(max_size=40),
       st.sampled_from([EDITION_2013, EDITION_2009]))
def test_any_data_unit_reads_or_raises_a_unit_error(key, data, edition):
    try:
        u.read_unit(*key, data, edition)
    except u.UnitError as exc:
        assert 0 <= exc.offset <= len(data)
