"""DL/T 645-2007 timing limits, from the protocol's limits table (frame.LIMITS)."""

from __future__ import annotations

from ..link.exchange import Exchange
from ..measure import Limits
from ..protocols.dlt645.frame import LIMITS
from ..protocols.dlt645.spec import CLAUSES_2007
from .figures import TimingFigure, measured

_timing = LIMITS["timing_ms"]
_source = CLAUSES_2007["timing"]

RESPONSE_DELAY = Limits(low=_timing["td_min"], high=_timing["td_max"], source=_source, unit="ms")
BYTE_GAP = Limits(high=_timing["tb_max"], source=_source, unit="ms")


def inter_character_limit(baudrate: int) -> float:
    """Tb, the longest gap inside a frame (s), whatever the rate."""
    return _timing["tb_max"] / 1e3


TD, TB = "response delay Td", "inter-byte gap Tb"
TD_KEY, TB_KEY = "dlt645.response_delay", "dlt645.byte_gap"  # their measurement keys


def exchange_timing(exchange: Exchange) -> list[TimingFigure]:
    """Td and Tb of an answered exchange, each as the link can vouch for it."""
    return [measured(TD, exchange.response_delay_bounds, RESPONSE_DELAY, exchange, 1,
                     floor=0.0, impossible="a reply cannot begin before the request has ended",
                     key=TD_KEY),
            measured(TB, exchange.max_byte_gap_bounds, BYTE_GAP, exchange, 1, key=TB_KEY)]
