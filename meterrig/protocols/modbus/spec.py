"""Modbus RTU in the protocol registry."""

from __future__ import annotations

from typing import Any

from ...limits import table
from ..registry import AddressKind, ProtocolSpec, register

MODBUS_RTU = "modbus-rtu"
HERE = "meterrig.protocols.modbus"
CLAUSES = table("clauses")[MODBUS_RTU]  # limits/clauses.yaml, with their sources
# Individual device addresses (Modbus serial line V1.02 §2.2); 0 is the broadcast.
DEVICE_IDS = (1, 247)


def parse_address(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    low, high = DEVICE_IDS
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("")
    return value


def foreign_address(device_id: int, taken: frozenset) -> int:
    """The next device id after this one that no device on the bus has."""
    low, high = DEVICE_IDS
    for step in range(1, high - low + 1):
        candidate = low + (device_id - low + step) % (high - low + 1)
        if candidate not in taken:
            return candidate
    raise LookupError("no free device id for a silence check")


register(ProtocolSpec(
    name=MODBUS_RTU,
    address=AddressKind("a Modbus address from 1 to 247", parse_address, foreign_address),
    clauses=f"{HERE}.spec:CLAUSES",
    profile_word="register map",
    default_profile="sdm120",
    profile_names=f"{HERE}.registers:map_names",
    profile_file=f"{HERE}.registers:map_file",
    profile=f"{HERE}.registers:register_map",
    master=f"{HERE}.positions:master",
    reader=f"{HERE}.positions:reader",
    exchange_timing="meterrig.limits.modbus:exchange_timing",
    receiver="meterrig.sim.bus:ModbusRtuReceiver",
    simulated_device="meterrig.sim.meters:modbus_rtu",
    meter=f"{HERE}.positions:meter",
    # Register maps declare no relay and no follow-up frames.
    features={"meter-number": f"{HERE}.positions:has_serial_number"},
    per_position={"register": f"{HERE}.positions:registers"},
    decoder=f"{HERE}.decoder:decoder",
    inter_character_limit="meterrig.limits.modbus:inter_character_limit",
    clock=f"{HERE}.positions:clock",
    firmware=f"{HERE}.positions:firmware",
    settings=f"{HERE}.positions:settings",
))
