"""A DL/T 645-2007 meter seen as an EnergyMeter."""

from __future__ import annotations

from decimal import Decimal

from ...clock import RigClock
from ...meter import MeterError
from .client import Dlt645Client
from .commands import RelayAction
from .profile import MeterProfile

FORWARD_ACTIVE_ENERGY = 0x00010000
METER_NUMBER = 0x04000402
RUN_STATUS_WORD_3 = 0x04000503
RELAY_OPEN = 1 << 4  # status word 3 bit 4: 1 = relay open


class Dlt645Meter:
    def __init__(self, client: Dlt645Client, profile: MeterProfile, clock: RigClock) -> None:
        self.client = client
        self.profile = profile
        self.clock = clock

    def forward_energy_kwh(self) -> Decimal:
        return self.client.read(FORWARD_ACTIVE_ENERGY).quantity.value

    def meter_number(self) -> str:
        return str(self.client.read(METER_NUMBER).quantity.value)

    def write_meter_number(self, number: str) -> None:
        """Write the meter number (04000402, NNNNNNNNNNNN: 12 digits)."""
        self.client.write(METER_NUMBER, number)

    @property
    def closes_by_command(self) -> bool:
        return self.profile.closes_directly

    def trip(self) -> bool:
        """Trip (1A) and wait the model's declared trip delay for the relay to open; whether
        it did."""
        self.client.relay(RelayAction.TRIP)
        return self.wait_relay(open_=True, within_s=self.profile.trip_delay_s)

    def close(self) -> None:
        """Close by command (1C); a model that only takes 1B is closed by its customer."""
        if not self.closes_by_command:
            raise MeterError(f"meter {self.client.address}: profile {self.profile.name} closes "
                             "its relay only by the customer's button (1B close allowed)")
        self.client.relay(RelayAction.DIRECT_CLOSE)

    def relay_open(self) -> bool:
        return bool(self.client.read(RUN_STATUS_WORD_3).quantity.value & RELAY_OPEN)

    def wait_relay(self, *, open_: bool, within_s: float) -> bool:
        """Poll status word 3 until the relay is open (or closed) or `within_s` rig seconds
        have passed; one reading always starts after the deadline, so a relay that switches
        just in time is seen. The readings themselves pace the polling."""
        deadline = self.clock.now() + within_s
        while True:
            late = self.clock.now() >= deadline
            if self.relay_open() == open_:
                return True
            if late:
                return False
