"""Find the meters on a bus by read-address (C=13) with wildcard addresses.

One meter answers the all-wildcard address cleanly. Several garble each other, so the search
fixes one more address byte (BCD 00–99, lowest first) under every pattern that collided.
"""

from __future__ import annotations

from ...limits.dlt645 import RESPONSE_DELAY
from ...link.serial_link import Link
from ...meter import GarbledReply, NoReply
from .client import Dlt645Client
from .commands import ReplyMismatch
from .frame import WILDCARD_ADDRESS

WILDCARD_BYTE = "AA"


def scan_bus(link: Link) -> list[str]:
    # Silence is only proven after the longest response delay a conforming meter may take.
    listen = RESPONSE_DELAY.high / 1000 + 4 * link.character_time
    client = Dlt645Client(link, WILDCARD_ADDRESS, reply_window=listen, retries=0)
    found: list[str] = []
    _probe(client, WILDCARD_ADDRESS, found)
    return sorted(found)


def _probe(client: Dlt645Client, pattern: str, found: list[str]) -> bool:
    """Whether anything answered `pattern`; adds the meters found under it."""
    try:
        found.append(client.read_address(pattern))
        return True
    except NoReply:
        return False
    except (GarbledReply, ReplyMismatch):
        known = (12 - pattern.count(WILDCARD_BYTE) * 2) // 2
        if known == 6:
            found.append(f"{pattern}?")  # one address, and still garbled: a faulty meter
            return True
        cut = 12 - 2 * (known + 1)
        for byte in range(100):
            _probe(client, f"{pattern[:cut]}{byte:02d}{pattern[cut + 2:]}", found)
        return True
