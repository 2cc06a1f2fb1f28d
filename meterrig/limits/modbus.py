"""Modbus RTU timing limits: the silent intervals scale with the bus rate (rtu.silent_intervals)."""

from __future__ import annotations

from ..link.exchange import Exchange
from ..measure import Limits
from ..protocols.modbus.rtu import silent_intervals
from ..protocols.modbus.spec import CLAUSES
from . import table
from .figures import TimingFigure, measured

# How much longer a gap may look because the host was busy (the reason is in the data).
HOST_SCHEDULING_S = table("rig-tolerances")["modbus_reply_gap_s"]["max"]
SILENCE, GAP = "silence before reply", "gap inside reply"
SILENCE_KEY, GAP_KEY = "modbus.silence_before_reply", "modbus.gap_inside_reply"  # their keys


def reply_silence(baudrate: int) -> Limits:
    """The silence before a reply: at least t3.5 (ms)."""
    return Limits(low=round(silent_intervals(baudrate)[1] * 1e3, 3), source=CLAUSES["framing"],
                  unit="ms")


def inter_character_limit(baudrate: int) -> float:
    """t1.5 (s): a longer silence inside a frame voids it."""
    return silent_intervals(baudrate)[0]


def reply_gap(baudrate: int) -> Limits:
    """The longest gap inside a reply: t1.5 plus the host's scheduling tolerance (ms). How late
    the link hands bytes over (a USB latency timer) is its resolution, the uncertainty."""
    t15 = silent_intervals(baudrate)[0]
    return Limits(high=round((t15 + HOST_SCHEDULING_S) * 1e3, 3),
                  source=f"{CLAUSES['framing']}; + rig tolerance for host scheduling", unit="ms")


def exchange_timing(exchange: Exchange) -> list[TimingFigure]:
    """The silence before the reply and the longest gap inside it, each as the link can vouch
    for it."""
    return [measured(SILENCE, exchange.response_delay_bounds, reply_silence(exchange.baudrate),
                     exchange, 2, floor=0.0,
                     impossible="a reply cannot begin before the request has ended",
                     key=SILENCE_KEY),
            measured(GAP, exchange.max_byte_gap_bounds, reply_gap(exchange.baudrate), exchange,
                     2, key=GAP_KEY)]
