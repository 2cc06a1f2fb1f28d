"""`meterrig decode`: public vectors (tests/data/vectors.yaml, a verbatim copy of
/work/shared/spec/vectors.yaml) decode through the CLI to their stated meaning, and every wrong
byte is named by its offset."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from meterrig.cli import main
from meterrig.protocols.dlt645 import CATALOGUE, Frame, encode, v1997
from meterrig.protocols.dlt645.spec import DLT645_1997, DLT645_2007
from meterrig.protocols.modbus import pdu, rtu
from meterrig.protocols.modbus.registers import register_map
from meterrig.protocols.modbus.spec import MODBUS_RTU

ROOT = Path(__file__).parents[1]
VECTORS_PATH = ROOT / "tests" / "data" / "vectors.yaml"
MAP = register_map("sdm120")  # the Modbus decoder's default map


def _load_vectors() -> dict[str, Any]:
    # As in tests/protocols/test_dlt645_vectors.py: the verbatim copy nests a `negative:` key
    # inside the dlt645_2007 list, which is not valid YAML; it is lifted before parsing.
    text = VECTORS_PATH.read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("\n  negative:", "\ndlt645_2007_negative:", 1))


VECTORS = {v["id"]: v for section in _load_vectors().values() for v in section}


def decode(capsys, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["decode", *args])
    return code, capsys.readouterr().out


def test_a_read_request_names_its_address_and_data_identifier(capsys):
    vector = VECTORS["read-forward-active-energy"]
    code, out = decode(capsys, vector["hex"])
    meaning = vector["meaning"]
    assert code == 0, out
    assert f"{DLT645_2007} request: address {meaning['address']}, function 11 read" in out
    assert f"DI {meaning['di']:08X} ({CATALOGUE[meaning['di']].name})" in out


def test_a_read_reply_gives_the_value_with_its_unit(capsys):
    vector = VECTORS["forward-active-energy-reply"]
    meaning = vector["meaning"]
    code, out = decode(capsys, vector["hex"].replace(" ", ""))  # hex without spaces too
    assert code == 0, out
    assert f"{DLT645_2007} reply: address {meaning['address']}" in out
    assert f"DI {meaning['di']:08X}" in out
    assert out.rstrip().endswith(f"{Decimal(str(meaning['value']))} {meaning['unit']}")


def test_a_1997_reply_is_read_by_the_1997_catalogue(capsys):
    vector = VECTORS["read-voltage-b611-reply"]
    meaning = vector["meaning"]
    code, out = decode(capsys, vector["hex"])
    assert code == 0, out
    assert f"{DLT645_1997} reply: address {meaning['address']}" in out
    assert f"DI {meaning['di']:04X} ({v1997.CATALOGUE[meaning['di']].name}), " \
           f"{meaning['value']} {meaning['unit']}" in out


def test_an_abnormal_reply_names_its_error_bits(capsys):
    vector = VECTORS["read-error-no-data"]
    meaning = vector["meaning"]
    code, out = decode(capsys, vector["hex"])
    assert code == 0, out  # a well-formed frame: the meter's refusal is its content
    assert "abnormal reply" in out
    assert f"error byte {meaning['error_byte']:02X}: {meaning['error']}" in out


@pytest.mark.parametrize("vector_id", ["wrong-cs-1", "wrong-cs-2"])
def test_a_bad_checksum_names_the_byte(capsys, vector_id):
    vector = VECTORS[vector_id]
    raw = bytes.fromhex(vector["hex"])
    code, out = decode(capsys, vector["hex"])
    assert code == 1, out
    assert f"PROBLEM: byte {len(raw) - 2} (CS): {raw[-2]:02X}, " \
           f"expected {vector['correct_cs']:02X}" in out
    assert out.startswith(f"argument 1: {vector['hex']} = {DLT645_2007} request")


def test_a_frame_both_versions_claim_is_said_to_be_ambiguous(capsys):
    # 08 (broadcast time) is a function of DL/T 645-2007 and -1997 alike.
    code, out = decode(capsys, VECTORS["broadcast-time-sync"]["hex"])
    assert code == 0, out
    assert f"ambiguous: also a {DLT645_1997} frame" in out


def test_a_modbus_request_and_the_reply_after_it_name_the_register_and_its_value(
        capsys, monkeypatch):
    request, reply = VECTORS["read-voltage-request"], VECTORS["read-voltage-reply"]
    register = MAP.at(request["meaning"]["function"], request["meaning"]["address"])
    stdin = f"{request['hex']}\n{reply['hex']}\n"
    code, out = decode(capsys, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 0, out
    first, second = out.splitlines()
    assert f"{MODBUS_RTU} request: address 1, function 04 read input registers" in first
    assert f"({register.name})" in first
    assert f"{register.name} = {reply['meaning']['float32']} {register.unit}" in second
    assert f"map {MAP.name}" in second


def test_a_modbus_reply_alone_shows_its_raw_words(capsys):
    code, out = decode(capsys, VECTORS["read-voltage-reply"]["hex"])
    assert code == 0, out
    assert "words 4366 3334 (registers unknown: no request on the line before)" in out


def test_a_modbus_exception_is_named(capsys):
    frame = rtu.encode(1, pdu.ExceptionReply(pdu.READ_INPUT, pdu.ILLEGAL_ADDRESS).encode())
    code, out = decode(capsys, frame.hex())
    assert code == 0, out
    assert f"{MODBUS_RTU} reply: address 1, function 84 exception to 04" in out
    assert f"exception {pdu.exception_name(pdu.ILLEGAL_ADDRESS)}" in out


def test_a_modbus_bad_crc_names_its_bytes(capsys):
    raw = bytearray.fromhex(VECTORS["float-one-reply"]["hex"])
    good = raw[-2:].hex(" ").upper()
    raw[-1] ^= 0x01
    code, out = decode(capsys, raw.hex())
    assert code == 1, out
    assert f"bytes {len(raw) - 2}-{len(raw) - 1} (CRC): {raw[-2:].hex(' ').upper()}, " \
           f"expected {good}" in out


def test_stdin_skips_blank_lines_and_comments_and_numbers_the_lines(capsys, monkeypatch):
    stdin = ("# a sniffer's capture\n\n"
             f"{VECTORS['read-forward-active-energy']['hex']}\n"
             f"  # the reply\n{VECTORS['forward-active-energy-reply']['hex']}\n")
    code, out = decode(capsys, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 5"]


def test_a_trace_line_with_masked_password_bytes_is_no_error(capsys, monkeypatch):
    """trace.jsonl masks the password and operator code (data bytes 0-7 of a relay request)."""
    request = VECTORS["relay-trip"]["hex"].split()
    masked = [f"{b}" if not 10 <= i < 18 else "**" for i, b in enumerate(request)]
    reply = encode(Frame(VECTORS["relay-trip"]["meaning"]["address"], 0x9C), preamble=0)
    record = {"bus": "bus1", "request": " ".join(masked), "reply": reply.hex(" ").upper()}
    code, out = decode(capsys, stdin=json.dumps(record) + "\n", monkeypatch=monkeypatch)
    assert code == 0, out
    first, second = out.splitlines()
    assert first.startswith("line 1 request: ") and "relay" in first
    assert "data ** ** ** ** ** ** ** ** 1A" in first
    assert "CS not checked: masked bytes" in first
    assert second.startswith("line 1 reply: ") and "relay, normal reply" in second


def test_bad_hex_names_the_character(capsys, monkeypatch):
    code, out = decode(capsys, stdin="68 1G 00\n", monkeypatch=monkeypatch)
    assert code == 1
    assert out == "line 1: PROBLEM: bad hex: character 5: 'G' is not a hex digit\n"


def test_an_odd_digit_is_named_too(capsys):
    code, out = decode(capsys, "68 010")
    assert code == 1
    assert "character 6: '010' has an odd number of hex digits" in out


@pytest.mark.parametrize("args", [["--protocol", "no-such-protocol", "00"],
                                  ["--map", "no-such-map", "00"]])
def test_usage_errors_exit_2(capsys, args):
    assert main(["decode", *args]) == 2
    assert "no-such" in capsys.readouterr().err


def test_protocol_option_decodes_as_that_protocol_only(capsys):
    # The 1997 reply forced through the 2007 decoder: 81 is no 2007 function.
    code, out = decode(capsys, "--protocol", DLT645_2007, VECTORS["read-voltage-b611-reply"]["hex"])
    assert f"{DLT645_2007} reply" in out and f"not a {DLT645_2007} function" in out
    assert code == 0


def test_the_installed_command_runs(tmp_path):
    vector = VECTORS["forward-active-energy-reply"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "meterrig", "decode", vector["hex"]],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{vector['meaning']['value']} {vector['meaning']['unit']}" in done.stdout


def test_a_reply_with_fewer_registers_than_requested_names_the_byte_count(capsys, monkeypatch):
    request = VECTORS["read-device-id-request"]  # asks for 2 registers
    short = rtu.encode(1, pdu.RegistersReply(pdu.READ_HOLDING, (0x3F80,)).encode())
    code, out = decode(capsys, stdin=f"{request['hex']}\n{short.hex(' ')}\n",
                       monkeypatch=monkeypatch)
    assert code == 1, out
    assert "PROBLEM: byte 2 (byte count): 2, expected 4 for the 2 registers requested" in out
