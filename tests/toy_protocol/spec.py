"""The toy protocol's one registration: everything the rig needs of it, by reference."""

from __future__ import annotations

import re
from typing import Any

from meterrig.protocols.registry import AddressKind, ProtocolSpec, register

TOY = "toy-ascii"
HERE = "toy_protocol"


def parse_address(value: Any) -> str:
    text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{2}", text):
        raise ValueError("")
    return text


def foreign_address(address: str, taken: frozenset) -> str:
    return next(f"{n:02d}" for n in range(100) if f"{n:02d}" not in taken)


register(ProtocolSpec(
    name=TOY,
    address=AddressKind("2 decimal digits", parse_address, foreign_address),
    clauses=f"{HERE}.codec:CLAUSES",
    profile_word="toy model",
    default_profile="toy",
    profile_names=f"{HERE}.codec:models",
    profile_file=f"{HERE}.codec:model_file",
    profile=f"{HERE}.codec:model",
    master=f"{HERE}.master:master",
    reader=f"{HERE}.master:reader",
    exchange_timing=f"{HERE}.master:exchange_timing",
    receiver=f"{HERE}.sim:ToyReceiver",
    simulated_device=f"{HERE}.sim:device",
))
