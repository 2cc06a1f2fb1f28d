"""Q/GDW 1376.2 in the protocol registry: a carrier module position, which other positions
(DL/T 645 meters behind the module) reach `via:`."""

from __future__ import annotations

from ...limits import table
from ..dlt645.spec import foreign_address, parse_address
from ..registry import AddressKind, ProtocolSpec, register

GDW1376_2 = "gdw1376-2"
HERE = "meterrig.protocols.gdw13762"
CLAUSES = table("clauses")[GDW1376_2]  # limits/clauses.yaml, with their sources

register(ProtocolSpec(
    name=GDW1376_2,
    # The carrier position's address is the master node address the rig gives the module (05
    # F1) and writes as A1 of every command that addresses a meter.
    address=AddressKind("12 decimal digits: the master node address (A1)", parse_address,
                        foreign_address),
    clauses=f"{HERE}.spec:CLAUSES",
    profile_word="module profile",
    default_profile="narrowband-2013",
    profile_names=f"{HERE}.profile:profiles",
    profile_file=f"{HERE}.profile:profile_file",
    profile=f"{HERE}.profile:profile",
    master=f"{HERE}.positions:master",
    reader=f"{HERE}.positions:reader",
    # The notes give the module's UART no timing; a read through the module is judged by its
    # end-to-end latency (tunnel.py), not here.
    exchange_timing=None,
    receiver="meterrig.sim.carrier_module:Gdw13762Receiver",
    simulated_device="meterrig.sim.carrier_module:device",
    relay=f"{HERE}.tunnel:relay",
    decoder=f"{HERE}.decoder:decoder",
))
