"""Modbus RTU timing limits: the silent intervals scale with the bus rate (rtu.silent_intervals)."""

from __future__ import annotations

from ..link.exchange import Exchange
from ..measure import Limits
from ..protocols.modbus.rtu import silent_intervals
from . import table

CLAUSES = table("clauses")["modbus-rtu"]
# Host timestamps of a USB adapter's reads come in chunks up to its latency timer apart (16 ms
# by default on FTDI): a gap inside a reply is judged with that much added to t1.5.
HOST_CHUNKING_S = table("rig-tolerances")["modbus_reply_gap_s"]["max"]


def reply_silence(baudrate: int) -> Limits:
    """The silence before a reply: at least t3.5 (ms)."""
    return Limits(low=round(silent_intervals(baudrate)[1] * 1e3, 3), source=CLAUSES["framing"])


def reply_gap(baudrate: int) -> Limits:
    """The longest gap inside a reply: t1.5, plus the host's chunking (ms)."""
    t15 = silent_intervals(baudrate)[0]
    return Limits(high=round((t15 + HOST_CHUNKING_S) * 1e3, 3),
                  source=f"{CLAUSES['framing']}; + rig tolerance for host timestamps")


def exchange_timing(exchange: Exchange) -> list[tuple[str, float, Limits]]:
    """(name, value in ms, limits) of an answered exchange: the silence before the reply and the
    longest gap inside it."""
    return [("silence before reply", round(exchange.response_delay * 1e3, 2),
             reply_silence(exchange.baudrate)),
            ("gap inside reply", round(exchange.max_byte_gap * 1e3, 2),
             reply_gap(exchange.baudrate))]
