"""DL/T 645-2007 timing limits, from dlt645-2007.yaml."""

from __future__ import annotations

from ..measure import Limits
from . import table

_timing = table("dlt645-2007")["timing_ms"]
_source = f"{table('dlt645-2007')['standard']} §5.3.3"

RESPONSE_DELAY = Limits(low=_timing["td_min"], high=_timing["td_max"], source=_source)  # ms
BYTE_GAP = Limits(high=_timing["tb_max"], source=_source)  # ms
