"""DL/T 645-2007 and DL/T 645-1997 in the protocol registry: the same frame, two protocols."""

from __future__ import annotations

import re
from typing import Any

from ...limits import table
from ..registry import AddressKind, ProtocolSpec, register
from .frame import BROADCAST_ADDRESS

DLT645_2007 = "dlt645-2007"
DLT645_1997 = "dlt645-1997"
HERE = "meterrig.protocols.dlt645"
# The clauses each version's suites cite (limits/clauses.yaml, with their sources).
CLAUSES_2007 = table("clauses")[DLT645_2007]
CLAUSES_1997 = table("clauses")[DLT645_1997]


def parse_address(value: Any) -> str:
    """12 decimal digits (the nameplate's); an integer is zero-padded; never the broadcast."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        value = f"{value:012d}"
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError("")
    if value == BROADCAST_ADDRESS:
        raise ValueError(f"got {BROADCAST_ADDRESS}, the broadcast address")
    return value


def foreign_address(address: str, taken: frozenset) -> str:
    """This meter's address with its lowest byte changed to the next one nobody has."""
    for low in range(1, 101):
        candidate = f"{address[:10]}{(int(address[10:]) + low) % 100:02d}"
        if candidate not in taken:
            return candidate
    raise LookupError(f"no free address near {address} for a silence check")


ADDRESS = AddressKind("12 decimal digits, as on the nameplate", parse_address, foreign_address)
# Both versions read the same profiles (the model's phases, relay, tariffs).
PROFILES = {
    "profile_word": "meter profile",
    "default_profile": "single-phase",
    "profile_names": f"{HERE}.profile:profiles",
    "profile_file": f"{HERE}.profile:profile_file",
    "profile": f"{HERE}.profile:profile",
}

register(ProtocolSpec(
    name=DLT645_2007,
    address=ADDRESS,
    clauses=f"{HERE}.spec:CLAUSES_2007",
    **PROFILES,
    master=f"{HERE}.positions:master_2007",
    reader=f"{HERE}.positions:reader_2007",
    exchange_timing="meterrig.limits.dlt645:exchange_timing",
    receiver="meterrig.sim.bus:Dlt645Receiver",
    simulated_device="meterrig.sim.meters:dlt645_2007",
    meter=f"{HERE}.positions:meter_2007",
    features={"relay": f"{HERE}.positions:has_relay",
              "follow-up": f"{HERE}.positions:has_follow_up",
              "prepaid": f"{HERE}.positions:has_prepaid",
              "meter-number": f"{HERE}.positions:has_meter_number",
              "meter-number-write": f"{HERE}.positions:writes_meter_number"},
    per_position={"data_item": f"{HERE}.positions:data_items_2007"},
    decoder=f"{HERE}.decoder:decoder_2007",
    inter_character_limit="meterrig.limits.dlt645:inter_character_limit",
    clock=f"{HERE}.positions:clock_2007",
    firmware=f"{HERE}.positions:firmware_2007",
    settings=f"{HERE}.positions:settings_2007",
))

register(ProtocolSpec(
    name=DLT645_1997,
    address=ADDRESS,
    clauses=f"{HERE}.spec:CLAUSES_1997",
    **PROFILES,
    master=f"{HERE}.positions:master_1997",
    reader=f"{HERE}.positions:reader_1997",
    # The notes give response timing for DL/T 645-2007 only (§5.3.3): a 1997 reply is not
    # judged by borrowed figures.
    exchange_timing=None,
    receiver="meterrig.sim.bus:Dlt645Receiver",
    simulated_device="meterrig.sim.meters:dlt645_1997",
    meter=f"{HERE}.positions:meter_1997",
    per_position={"data_item": f"{HERE}.positions:data_items_1997"},
    decoder=f"{HERE}.decoder:decoder_1997",
    clock=f"{HERE}.positions:clock_1997",
))
