"""DL/T 645-2007 timing limits, from dlt645-2007.yaml."""

from __future__ import annotations

from ..link.exchange import Exchange
from ..measure import Limits
from . import table

_timing = table("dlt645-2007")["timing_ms"]
_source = table("clauses")["dlt645-2007"]["timing"]

RESPONSE_DELAY = Limits(low=_timing["td_min"], high=_timing["td_max"], source=_source)  # ms
BYTE_GAP = Limits(high=_timing["tb_max"], source=_source)  # ms


def exchange_timing(exchange: Exchange) -> list[tuple[str, float, Limits]]:
    """(name, value in ms, limits) of an answered exchange: Td and Tb."""
    return [("response delay Td", round(exchange.response_delay * 1e3, 1), RESPONSE_DELAY),
            ("inter-byte gap Tb", round(exchange.max_byte_gap * 1e3, 1), BYTE_GAP)]
