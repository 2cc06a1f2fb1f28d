"""What the metering suites need of any meter, whatever protocol it speaks."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class EnergyMeter(Protocol):
    """A meter read over its communication port: its energy register and its load relay."""

    def forward_energy_kwh(self) -> Decimal: ...

    def trip(self) -> None: ...

    def close(self) -> None: ...

    def relay_open(self) -> bool: ...
