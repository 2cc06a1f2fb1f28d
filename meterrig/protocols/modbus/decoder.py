"""`meterrig decode` for Modbus RTU frames: device, function, registers named by a map.

A read reply carries no register address: only the request before it (the line before, as a
trace gives them) says which registers its words are, so a lone reply shows its raw words.
"""

from __future__ import annotations

from ...decoding import CHECKED, KNOWN, NOT_A_FRAME, SHAPE_KNOWN, Decode, Decoded, Wire
from ..registry import get
from . import pdu as pdus
from . import rtu
from .registers import RegisterMap, register_map
from .spec import MODBUS_RTU

# Modbus application protocol V1.1b3 §6: the functions this rig speaks or must see refused.
FUNCTION_NAMES = {
    pdus.READ_COILS: "read coils",
    pdus.READ_HOLDING: "read holding registers",
    pdus.READ_INPUT: "read input registers",
    pdus.WRITE_MULTIPLE: "write multiple registers",
}
PDU_START = 1  # the PDU follows the device id


def decoder(map_name: str | None) -> Decode:
    """The decode function with a register map (a shipped name or a file; the spec's default
    map when None); KeyError/ValueError for a map that cannot be had."""
    register_names = register_map(map_name or get(MODBUS_RTU).default_profile)
    return lambda wire, previous: decode(register_names, wire, previous)


def decode(registers: RegisterMap, wire: Wire, previous: Decoded | None) -> Decoded | None:
    raw = wire.data
    notes = [f"map {registers.name}"]
    if len(raw) < rtu.MIN_FRAME:
        return Decoded(MODBUS_RTU, NOT_A_FRAME, problems=(
            f"byte {len(raw)}: the bytes stop there, a frame is {rtu.MIN_FRAME} to "
            f"{rtu.MAX_FRAME} bytes",))
    problems = []
    if len(raw) > rtu.MAX_FRAME:
        problems.append(f"byte {rtu.MAX_FRAME}: a frame is at most {rtu.MAX_FRAME} bytes")
    crc_at = len(raw) - 2
    crc_good = True
    if wire.masked:
        notes.append("CRC not checked: masked bytes")
    else:
        expected = rtu.crc16(raw[:crc_at]).to_bytes(2, "little")
        crc_good = raw[crc_at:] == expected
        if not crc_good:
            problems.append(f"bytes {crc_at}-{crc_at + 1} (CRC): {raw[crc_at:].hex(' ').upper()}"
                            f", expected {expected.hex(' ').upper()}")
    pdu = raw[PDU_START:crc_at]
    request = previous.detail if previous is not None and previous.protocol == MODBUS_RTU \
        and previous.address == str(raw[0]) else None
    reading = _pdu(registers, pdu, request)
    problems += reading.pop("problems", [])
    known = pdu[0] & ~pdus.EXCEPTION_FLAG in FUNCTION_NAMES and "detail" in reading
    if crc_good:
        fit = KNOWN if known else CHECKED
    else:  # any bytes have a function code: only a known one that decodes has a frame's shape
        fit = SHAPE_KNOWN if known else NOT_A_FRAME
    return Decoded(MODBUS_RTU, fit, address=str(raw[0]), notes=tuple(notes),
                   problems=tuple(problems), **reading)


def _function(code: int) -> str:
    return f"{code:02X} {FUNCTION_NAMES.get(code, 'not a function this rig speaks')}"


def _pdu(registers: RegisterMap, pdu: bytes, request: object) -> dict:
    """The PDU as a request or a reply: a reply when the exception flag is set, when a request
    of this device is pending, or when it is no valid request."""
    function = pdu[0]
    if function & pdus.EXCEPTION_FLAG:
        return _reply(registers, pdu, request)
    pending = isinstance(request, pdus.ReadRequest | pdus.WriteRequest)
    try:
        asked = pdus.decode_request(pdu)
    except pdus.PduError as exc:
        reading = _reply(registers, pdu, request)
        if "detail" in reading:
            return reading
        return {"function": _function(function),
                "problems": [f"byte {PDU_START + 1} (after function {function:02X}): {exc}"]}
    if pending:
        reading = _reply(registers, pdu, request)
        if "detail" in reading:
            return reading
    if isinstance(asked, pdus.OtherRequest):  # request or reply: the bytes cannot tell
        return {"function": _function(function), "detail": asked,
                "value": f"data {asked.data.hex(' ').upper() or 'none'}"}
    return _request(registers, asked)


def _request(registers: RegisterMap, asked: pdus.ReadRequest | pdus.WriteRequest) -> dict:
    item = _registers(registers, asked.function, asked.address,
                      len(asked.registers) if isinstance(asked, pdus.WriteRequest)
                      else asked.count)
    out = {"direction": "request", "function": _function(asked.function), "item": item,
           "detail": asked}
    if isinstance(asked, pdus.WriteRequest):
        out["value"] = _values(registers, asked.function, asked.address, asked.registers)
    return out


def _reply(registers: RegisterMap, pdu: bytes, request: object) -> dict:
    try:
        reply = pdus.decode_reply(pdu)
    except pdus.PduError as exc:
        return {"direction": "reply", "function": _function(pdu[0] & ~pdus.EXCEPTION_FLAG),
                "problems": [f"byte {PDU_START + 1} (after function {pdu[0]:02X}): {exc}"]}
    out: dict = {"direction": "reply", "detail": reply}
    if isinstance(reply, pdus.ExceptionReply):
        out["function"] = f"{pdu[0]:02X} exception to {_function(reply.function)}"
        out["value"] = f"exception {reply.name}"
        return out
    out["function"] = _function(reply.function)
    if isinstance(reply, pdus.RegistersReply):
        if not isinstance(request, pdus.ReadRequest) or request.function != reply.function:
            out["value"] = f"words {' '.join(f'{w:04X}' for w in reply.registers)} " \
                           "(registers unknown: no request on the line before)"
            return out
        out["item"] = _registers(registers, request.function, request.address, request.count)
        if len(reply.registers) != request.count:
            out["problems"] = [f"byte {PDU_START + 1} (byte count): {2 * len(reply.registers)}"
                               f", expected {2 * request.count} for the {request.count} "
                               "registers requested"]
            return out
        out["value"] = _values(registers, reply.function, request.address, reply.registers)
    elif isinstance(reply, pdus.WriteReply):
        out["item"] = _registers(registers, reply.function, reply.address, reply.count)
    else:
        out["value"] = f"data {reply.data.hex(' ').upper() or 'none'}"
    return out


def _registers(registers: RegisterMap, function: int, address: int, count: int) -> str:
    names = []
    for offset in range(count):
        register = registers.at(function, address + offset)
        if register is not None and register.name not in names:
            names.append(register.name)
    return f"registers {address:04X}+{count}" + (f" ({', '.join(names)})" if names else
                                                 " (not in the map)")


def _values(registers: RegisterMap, function: int, address: int, words: tuple[int, ...]) -> str:
    """Each mapped register the words hold whole, with its unit; the other words raw."""
    shown, offset = [], 0
    while offset < len(words):
        register = registers.at(function, address + offset)
        if register is None or register.address != address + offset \
                or offset + register.count > len(words):
            shown.append(f"{address + offset:04X}={words[offset]:04X}")
            offset += 1
            continue
        value = register.decode(words[offset:offset + register.count])
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        if register.codes:  # a setting's code and what it means (2: 9600)
            text += f" ({register.codes.get(value, 'no code of the map')})"
        shown.append(f"{register.name} = {text}{' ' + register.unit if register.unit else ''}")
        offset += register.count
    return ", ".join(shown)
