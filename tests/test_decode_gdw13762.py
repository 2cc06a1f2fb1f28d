"""`meterrig decode` on Q/GDW 1376.2 frames: the public vectors in words, the DL/T 645 frame a
13 F1 carries decoded too, the 2009 layout recognised, and every wrong byte named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterrig.cli import main
from meterrig.decoding import NOT_A_FRAME, Wire
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import encode as encode_645
from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.decoder import decode_frame
from meterrig.protocols.gdw13762.frame import Address, Control, DownInfo, Frame, UpInfo, encode
from meterrig.protocols.gdw13762.spec import GDW1376_2
from meterrig.protocols.gdw13762.tables import EDITION_2009
from tests.protocols.test_gdw13762_codec import VECTORS

METER = "020247020276"
METER_REPLY = bytes.fromhex("68 76 02 02 47 02 02 68 91 08 33 33 34 33 35 33 33 33 C9 16")


def decode(capsys, *frames: str) -> tuple[int, str]:
    code = main(["decode", *frames])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(("vector_id", "words"), [
    ("afn03-f1-query-bypass", ["request: function 03 F1 (vendor code and version)",
                               "C 41 (down, PRM 1, mode 1", "seq 0", "routing bypassed",
                               "reply 255 bytes"]),
    ("afn03-f1-query-plain", ["request: function 03 F1", "reply 0 bytes"]),
    ("afn00-f1-module-confirm", ["reply: function 00 F1 (confirm)", "C 83 (up, PRM 0, mode 3",
                                 "seq 2", "processed, wait 2 s"]),
    ("afn00-f1-concentrator-confirm", ["reply: function 00 F1 (confirm)",
                                       "C 01 (down, PRM 0", "processed, wait 0 s"]),
])
def test_every_vector_decodes_to_its_meaning(capsys, vector_id, words):
    code, out = decode(capsys, VECTORS[vector_id]["hex"])
    assert code == 0, out
    assert f"= {GDW1376_2} " in out
    assert all(w in out for w in words), out


def _uplink(unit: u.Unit, edition: int = 2013) -> str:
    return encode(Frame(Control(uplink=True, prm=False, mode=1),
                        UpInfo(seq=5, module=True, phase=2, command_quality=6, reply_quality=7),
                        0x13, 1, unit.encode(edition), Address(METER, "000000000001"))).hex()


def test_a_13f1_uplink_shows_the_meters_frame_decoded(capsys):
    code, out = decode(capsys, _uplink(u.MonitorReply(2, METER_REPLY, 1)))
    assert code == 0, out
    assert "function 13 F1 (monitor slave node)" in out
    assert "phase 2, signal quality command 6 / reply 7" in out
    assert "A1 020247020276, A3 000000000001" in out
    assert "protocol 2 (DL/T 645-2007)" in out
    assert "inside: dlt645-2007 reply: address 020247020276" in out
    assert out.rstrip().endswith("0.02 kWh")


def test_a_13f1_request_shows_the_request_inside(capsys):
    read = encode_645(cmd.read(METER, 0x00010000), preamble=4)
    request = encode(Frame(Control(uplink=False, prm=True, mode=1),
                           DownInfo(seq=9, module=True), 0x13, 1,
                           u.MonitorSlave(2, read).encode(), Address("000000000001", METER)))
    code, out = decode(capsys, request.hex())
    assert code == 0, out
    assert "inside: dlt645-2007 request: address 020247020276, function 11 read" in out


def test_the_2009_layout_is_recognised(capsys):
    code, out = decode(capsys, _uplink(u.MonitorReply(2, METER_REPLY), EDITION_2009))
    assert code == 0, out
    assert "(2009 layout)" in out and "0.02 kWh" in out


def test_a_bad_checksum_is_named_and_the_rest_still_read(capsys):
    raw = bytearray.fromhex(VECTORS["afn00-f1-module-confirm"]["hex"])
    raw[-2] = 0x85
    code, out = decode(capsys, raw.hex())
    assert code == 1
    assert "PROBLEM: byte 19 (CS): 85, expected 84" in out
    assert "function 00 F1 (confirm)" in out


def test_a_data_unit_that_does_not_fit_names_its_byte(capsys):
    frame = encode(Frame(Control(uplink=True, prm=False, mode=1), UpInfo(seq=1), 0x00, 2,
                         b"\x07\x00"))  # a deny code and one byte too many
    code, out = decode(capsys, frame.hex())
    assert code == 1
    assert "PROBLEM: byte 14 (00 F2 after the unit): 1 byte(s) beyond the layout" in out


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=60).map(lambda b: b"\x68" + b))
def test_any_bytes_after_68_decode_to_words_or_problems_never_a_crash(raw):
    reading = decode_frame(Wire(raw))
    assert reading.fit != NOT_A_FRAME or reading.problems


@settings(max_examples=200)
@given(st.sampled_from(sorted(u.LAYOUTS)), st.binary(max_size=30))
def test_any_data_unit_of_a_valid_frame_decodes_or_names_its_byte(key, data):
    (name, fn), uplink = key[0].split(" F"), key[1]
    raw = encode(Frame(Control(uplink=uplink, prm=True, mode=1),
                       UpInfo() if uplink else DownInfo(), int(name, 16), int(fn), data))
    reading = decode_frame(Wire(raw))
    assert all(p.startswith("byte ") for p in reading.problems)
