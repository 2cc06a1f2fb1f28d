"""The money side of a simulated local prepaid meter: its credit, drained by the energy it
registers at its price; its alarm states; the trip at the trip level after its trip delay; the
recharge through its (bench key) ESAM; what survives a power cycle.

Its clock is the rig's: the credit drains at the bench's metrology speed-up. A watcher thread
opens the relay when the time comes, as a meter does whether or not anyone is reading it.
"""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from ..protocols.dlt645.prepaid import PrepaidProfile
from ..protocols.dlt645.security import (
    FEN,
    BenchKeyModule,
    Recharge,
    Session,
    dispersion_of,
    serr_of,
)
from .defects import Defects
from .physics import BenchPhysics

WATCH_S = 0.005  # real seconds between the watcher's looks (0.5 rig s at a 100× speed-up)
WRONG_PRICE = Decimal("1.10")  # the seeded defect drains 10 % too fast
LATE_TRIP_S = 150.0  # the seeded defect trips this much later (rig seconds)


@attrs.frozen
class FactorySettings:
    """What the simulated local meter is delivered with (yuan, yuan/kWh, rig seconds): chosen
    so that a drain at the bench speed-up takes seconds; a real meter is set by its utility."""

    price: Decimal = Decimal("10.0000")
    alarm_1: Decimal = Decimal("6.00")
    alarm_2: Decimal = Decimal("3.00")
    overdraft_limit: Decimal = Decimal("1.00")
    hoarding_limit: Decimal = Decimal("50.00")
    close_allowed: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("10.00")
    purchase_count: int = 1
    trip_delay_s: float = 60.0  # its real delay, within the 120 s its profile declares


class Refusal(Exception):
    def __init__(self, meaning: str) -> None:
        super().__init__(meaning)
        self.serr = serr_of(meaning)


class PrepaidPurse:
    def __init__(self, *, position: int, address: str, prepaid: PrepaidProfile,
                 physics: BenchPhysics, defects: Defects,
                 settings: FactorySettings = FactorySettings()) -> None:
        self.position = position
        self.address = address
        self.customer = address  # the simulated meter's customer number is its address
        self.prepaid = prepaid
        self.physics = physics
        self.defects = defects
        self.settings = settings
        self.esam = BenchKeyModule()
        self._lock = threading.RLock()
        self._credit = settings.credit  # at _kwh
        self._kwh = physics.registers(position).forward_kwh
        self.purchase_count = settings.purchase_count
        self.purchased = settings.credit
        self._power_downs = physics.power_downs
        self._session: Session | None = None
        self._trip_at: float | None = None
        self.relay_reported_open = False  # the status word's relay bit, if not the contact's
        self.close_allowed = False
        self._stopped = threading.Event()
        threading.Thread(target=self._watch, name=f"purse-{position}", daemon=True).start()

    def stop(self) -> None:
        """The watcher stops (the bench's process ends it anyway)."""
        self._stopped.set()

    @property
    def price(self) -> Decimal:
        """The price the meter declares (02800020, 04050101..04)."""
        return self.settings.price

    # -- credit -----------------------------------------------------------------------------
    def credit(self) -> Decimal:
        """Remaining credit (negative: overdraft), yuan."""
        with self._lock:
            self._after_power_cycle()
            kwh = self.physics.registers(self.position).forward_kwh
            price = self.price * (WRONG_PRICE if "drains-at-wrong-price" in self.defects else 1)
            spent = Decimal(repr(kwh - self._kwh)) * price
            return (self._credit - spent).quantize(FEN, rounding=ROUND_HALF_EVEN)

    def _rebase(self, credit: Decimal) -> None:
        self._credit = credit
        self._kwh = self.physics.registers(self.position).forward_kwh

    def _after_power_cycle(self) -> None:
        """Credit, purchase count and relay are kept in non-volatile memory, unless seeded."""
        if self.physics.power_downs != self._power_downs:
            self._power_downs = self.physics.power_downs
            if "loses-credit-on-power-cycle" in self.defects:
                self._rebase(Decimal("0.00"))

    def states(self) -> dict[str, bool]:
        credit = self.credit()
        return {"alarm_1": credit <= self.settings.alarm_1
                and "no-alarm-1" not in self.defects,
                "alarm_2": credit <= self.settings.alarm_2,
                "overdraft": credit < 0}

    # -- the trip ---------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stopped.wait(WATCH_S):
            with self._lock:
                self._look()

    def _look(self) -> None:
        now = self.physics.clock.now()
        closed = self.physics.meters[self.position].relay_closed and not self.relay_reported_open
        if self._trip_at is None:
            if closed and self.credit() <= -self.settings.overdraft_limit:
                late = LATE_TRIP_S if "trips-late" in self.defects else 0.0
                self._trip_at = now + self.settings.trip_delay_s + late
        elif now >= self._trip_at:
            self._trip_at = None
            self.close_allowed = False
            if "trip-load-keeps-flowing" in self.defects:
                self.relay_reported_open = True
            else:
                self.physics.set_relay(self.position, closed=False)

    def press_button(self) -> bool:
        """The customer's button: closes the relay once a recharge allowed it."""
        with self._lock:
            if not self.close_allowed:
                return False
            self.close_allowed = False
            self.relay_reported_open = False
            self.physics.set_relay(self.position, closed=True)
            return True

    # -- the ESAM (bench key: NOT the real algorithm) ---------------------------------------
    def authenticate(self, ciphertext: bytes, random1: bytes, dispersion: bytes) -> bytes:
        if dispersion != dispersion_of(self.address) \
                or ciphertext != self.esam.authenticate(random1, dispersion):
            self._session = None
            raise Refusal("identity authentication failed")
        random2 = self.esam.random()[:4]
        self._session = Session(random1, random2, dispersion)
        return random2 + bytes(2) + bytes.fromhex(self.address)  # random 2, ESAM serial

    def recharge(self, recharge: Recharge) -> bytes:
        """Checked in the order a meter must: MACs, customer, purchase count, hoarding limit;
        nothing changes unless every check passes."""
        with self._lock:
            session = self._session
            if session is None:
                raise Refusal("identity authentication failed")
            mac1, mac2 = self.esam.sign_recharge(session, recharge.amount_fen, recharge.count,
                                                 recharge.customer)
            if (mac1, mac2) != (recharge.mac1, recharge.mac2):
                raise Refusal("ESAM verification failed")
            if recharge.customer != self.customer:
                raise Refusal("customer number mismatch")
            replayed = recharge.count == self.purchase_count
            if replayed and "accepts-replayed-recharge" not in self.defects:
                raise Refusal("repeated recharge")
            if not replayed and recharge.count != self.purchase_count + 1:
                raise Refusal("purchase count out of sequence")
            amount = recharge.amount_fen * FEN
            credit = self.credit() + amount
            if credit > self.settings.hoarding_limit:
                raise Refusal("recharge above the hoarding limit")
            self._rebase(credit)
            self.purchase_count = max(self.purchase_count, recharge.count)
            self.purchased += amount
            if credit > self.settings.close_allowed and self._open():
                self.close_allowed = True
            if credit > -self.settings.overdraft_limit:
                self._trip_at = None
            body = int(max(credit, Decimal(0)) / FEN).to_bytes(4, "little") \
                + self.purchase_count.to_bytes(4, "little")
            return body + self.esam.reply_mac(session, body)

    def _open(self) -> bool:
        return not self.physics.meters[self.position].relay_closed or self.relay_reported_open
