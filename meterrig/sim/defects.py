"""Seeded defects of simulated devices: names, what each does, in one table.

A rig file lists defects per simulated meter; the device consults its `Defects` at the few
named points of its receive and reply path, so a defect is data, not code sprinkled about.
"""

from __future__ import annotations

import attrs

# name -> what a QA engineer would write in the defect report
DEFECTS: dict[str, str] = {
    "wrong-checksum": "replies carry a wrong checksum (DL/T 645 sum, Modbus CRC)",
    "late-reply": "replies later than 500 ms after the request",
    "early-reply": "replies sooner than its protocol allows (DL/T 645: 20 ms; Modbus: t3.5)",
    "gappy-reply": "pauses in the middle of each reply longer than its protocol allows "
                   "(Modbus RTU: 40 ms, over t1.5; DL/T 645: 650 ms, over Tb 500 ms)",
    "answers-other-addresses": "answers frames addressed to another meter",
    "answers-broadcast": "answers broadcast frames",
    "wrong-error-bits": "reports an unknown data identifier with error bit 0 instead of bit 1",
    "address-msb-first": "sends its address most-significant byte first",
    "ignores-preamble": "does not skip the FE wake-up preamble",
    "relay-ignores-trip": "acknowledges a trip command but the relay stays closed",
    "echoes-foreign-address": "answers a read addressed to an absent meter, echoing that address",
    "answers-broadcast-read": "answers a broadcast read with data, carrying the address 99…99",
    "relay-closes-on-close-allowed": "closes its relay on close allowed (1B), not the button",
    "refuses-relay-deadline": "refuses a relay command whose deadline is valid",
    "swapped-words": "sends 32-bit values low word first",
    "wrong-exception-code": "reports an unmapped register address with exception 04 instead of 02",
    "answers-unimplemented-function": "answers read coils (01) with a normal reply instead of "
                                      "exception 01",
    # prepaid (local cost-control meters; issue 13)
    "drains-at-wrong-price": "drains its credit at a price 10 % above the one it declares",
    "no-alarm-1": "raises no alarm at credit threshold 1",
    "trips-late": "trips minutes after its declared trip delay",
    "trip-load-keeps-flowing": "reports its relay open at the trip level but the load keeps "
                               "flowing",
    "accepts-replayed-recharge": "accepts a replayed recharge (the same purchase count twice)",
    "loses-credit-on-power-cycle": "loses its credit across a power cycle",
    # robustness (suites/robustness)
    "answers-corrupted-frame": "answers a frame whose checksum or CRC is wrong",
    "resets-on-overlong-frame": "resets (registers back to zero) on an over-long frame",
    "clock-resets-on-overlong-frame": "its clock restarts from 2000-01-01 12:00 on an over-long "
                                      "frame (registers kept)",
    "answers-split-frame": "answers a frame split by a silence longer than its protocol allows",
    "stale-after-garbled": "answers the next request after a garbled one with its previous "
                           "reply (stale data)",
    # metrology
    "low-current-error": "registers 3 % too much below 0.1 Ib",
    "pf-error": "registers 2.5 % too much at power factor 0.5 inductive",
    "creep": "registers energy with voltage and no current (creep)",
    "no-start": "does not start at the starting current",
    "wrong-constant": "its register advances 4 % less than its pulses (wrong constant)",
    "voltage-sensitive": "its error shifts 1.5 points per 10 % of voltage",
    # carrier module, on its UART side (meterrig/sim/carrier_module.py)
    "module-wrong-checksum": "the carrier module's replies carry a wrong CS",
    "module-seq-not-echoed": "the carrier module's meter-read replies carry the wrong sequence "
                             "number",
    "module-wrong-protocol-byte": "the carrier module's 13 F1 replies carry the wrong protocol "
                                  "byte",
    "module-drops-destination": "the carrier module's meter-read replies lack the meter's "
                                "address (no module flag, no field A)",
    # carrier module, on the power-line network side (meterrig/sim/plc_network.py)
    "module-route-never-repaired": "the carrier module keeps the first route it found to a "
                                   "meter, however often it fails",
    "module-collapses-under-noise": "the carrier module loses every frame while moderate noise "
                                    "is injected in its band",
    "module-wrong-signal-quality": "the carrier module reports signal quality 15 whatever the "
                                   "path",
}

LATE_REPLY_S = 0.650  # beyond the 500 ms limit by more than any scheduling jitter
EARLY_REPLY_S = 0.005  # well inside DL/T 645's forbidden first 20 ms
# Beyond t1.5 plus the rig's host tolerance (21.7 ms at 9600 bit/s) by more than a busy host's
# stall; short of the 100 ms after which the Modbus master takes a reply as over.
GAPPY_REPLY_S = 0.040
# DL/T 645's Tb has the same 500 ms bound as its Td: past it by the same margin, and inside the
# rig's default 1000 ms byte-gap limit, so the reply still comes whole and Tb judges it.
GAPPY_REPLY_DLT645_S = LATE_REPLY_S


@attrs.frozen
class Defects:
    names: frozenset[str] = frozenset()

    def __attrs_post_init__(self) -> None:
        unknown = self.names - DEFECTS.keys()
        if unknown:
            raise ValueError(f"unknown defects {sorted(unknown)}; known: {sorted(DEFECTS)}")

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def response_delay(self, normal: float, early: float = EARLY_REPLY_S) -> float:
        """The delay a meter replies after; `early` is what is too soon in its protocol."""
        if "late-reply" in self:
            return LATE_REPLY_S
        if "early-reply" in self:
            return early
        return normal

    def reply_pause(self, gap: float = GAPPY_REPLY_S) -> float:
        """The silence a meter leaves in the middle of its reply (s); `gap` is what is too long
        inside a frame in its protocol."""
        return gap if "gappy-reply" in self else 0.0
