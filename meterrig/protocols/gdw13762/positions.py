"""A rig position that is a carrier module: its master, and what `meterrig read` asks it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .client import ConcentratorClient
from .profile import profile
from .tables import protocol_name


def master(link: Any, position: Any, bus: Any) -> ConcentratorClient:
    return ConcentratorClient(link, position.address, profile(position.profile),
                              reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


def _archive(client: ConcentratorClient) -> str:
    return "\n".join(f"{s.address} {protocol_name(s.protocol)}, relay level {s.relay_level}, "
                     f"signal quality {s.signal_quality}, phase {s.phase}"
                     for s in client.archive()) or "(archive empty)"


# What `meterrig read --rig R MODULE ITEM` reads of a module, by item.
ITEMS: dict[str, Callable[[ConcentratorClient], object]] = {
    "version": ConcentratorClient.vendor_version,
    "address": ConcentratorClient.master_node_address,
    "mode": ConcentratorClient.running_mode,
    "archive": _archive,
}


def reader(position: Any, item: str) -> Callable[[ConcentratorClient], str]:
    if item not in ITEMS:
        raise KeyError(f"a carrier module reads {', '.join(ITEMS)}, not {item!r}")
    return lambda client: str(ITEMS[item](client))
