"""A DL/T 645-2007 meter seen as an EnergyMeter."""

from __future__ import annotations

from decimal import Decimal

from .client import Dlt645Client
from .commands import RelayAction

FORWARD_ACTIVE_ENERGY = 0x00010000
RUN_STATUS_WORD_3 = 0x04000503
RELAY_OPEN = 1 << 4  # status word 3 bit 4: 1 = relay open


class Dlt645Meter:
    def __init__(self, client: Dlt645Client) -> None:
        self.client = client

    def forward_energy_kwh(self) -> Decimal:
        return self.client.read(FORWARD_ACTIVE_ENERGY).quantity.value

    def trip(self) -> None:
        self.client.relay(RelayAction.TRIP)

    def close(self) -> None:
        self.client.relay(RelayAction.CLOSE)

    def relay_open(self) -> bool:
        return bool(self.client.read(RUN_STATUS_WORD_3).quantity.value & RELAY_OPEN)
