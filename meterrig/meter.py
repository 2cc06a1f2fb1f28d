"""What the metering suites need of any meter, whatever protocol it speaks."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class MeterError(Exception):
    """A meter did not answer as a conforming meter would."""


class NoReply(MeterError):
    pass


class GarbledReply(MeterError):
    """A reply came but cannot be trusted (bad checksum, wrong sender, malformed)."""

    def __init__(self, message: str, error: Exception) -> None:
        super().__init__(message)
        self.error = error


class EnergyMeter(Protocol):
    """A meter read over its communication port: its energy register and its load relay."""

    def forward_energy_kwh(self) -> Decimal: ...

    def meter_number(self) -> str: ...  # the number the meter keeps of itself (its serial)

    closes_by_command: bool  # False: only someone at the meter can close its relay

    def trip(self) -> bool: ...  # whether the relay opened within the model's trip delay

    def close(self) -> None: ...

    def relay_open(self) -> bool: ...
