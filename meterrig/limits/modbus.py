"""Modbus RTU timing limits: the silent intervals scale with the bus rate (rtu.silent_intervals)."""

from __future__ import annotations

from ..link.exchange import Exchange
from ..measure import Limits
from ..protocols.modbus.rtu import silent_intervals
from . import table
from .figures import TimingFigure, uncertainty_ms

CLAUSES = table("clauses")["modbus-rtu"]
SILENCE, GAP = "silence before reply", "gap inside reply"


def reply_silence(baudrate: int) -> Limits:
    """The silence before a reply: at least t3.5 (ms)."""
    return Limits(low=round(silent_intervals(baudrate)[1] * 1e3, 3), source=CLAUSES["framing"])


def reply_gap(baudrate: int) -> Limits:
    """The longest gap inside a reply: t1.5 (ms). How late a USB adapter hands bytes over (its
    latency timer) is the link's resolution, the figure's uncertainty, not part of the limit."""
    return Limits(high=round(silent_intervals(baudrate)[0] * 1e3, 3), source=CLAUSES["framing"])


def exchange_timing(exchange: Exchange) -> list[TimingFigure]:
    """The silence before the reply and the longest gap inside it, each with its link's
    uncertainty."""
    uncertainty = uncertainty_ms(exchange)
    return [TimingFigure(SILENCE, round(exchange.response_delay * 1e3, 2),
                         reply_silence(exchange.baudrate), uncertainty, floor=0.0,
                         impossible="a reply cannot begin before the request has ended"),
            TimingFigure(GAP, round(exchange.max_byte_gap * 1e3, 2),
                         reply_gap(exchange.baudrate), uncertainty)]
