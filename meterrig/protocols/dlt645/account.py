"""A prepaid customer's account as the rig sees it, in either mode of the profile.

*local*: the meter keeps the money; the rig reads it (00900200 − 00900201), recharges it
through the ESAM (control code 03, `security.py`) and only watches. *remote*: the rig is the
utility's master: it keeps the balance from the meter's energy register × price, and sends the
alarm (2A), trip (1A) and close-allowed (1B) commands at the account's thresholds.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .client import Dlt645Client
from .commands import RelayAction
from .frame import Frame
from .meter import FORWARD_ACTIVE_ENERGY, RELAY_OPEN, RUN_STATUS_WORD_3
from .prepaid import PrepaidProfile
from .security import (
    FEN,
    SECURITY,
    Recharge,
    SecurityModule,
    SecurityRefused,
    Session,
    authenticate_request,
    command_di,
    dispersion_of,
    recharge_request,
)

REMAINING_CREDIT = 0x00900200
OVERDRAFT = 0x00900201
CURRENT_PRICE = 0x02800020
PURCHASE_COUNT = 0x03330201
CUSTOMER_NUMBER = 0x0400040E
THRESHOLDS = {"alarm_1": 0x04001001, "alarm_2": 0x04001002, "overdraft_limit": 0x04001003,
              "hoarding_limit": 0x04001004, "close_allowed": 0x04001005}


@attrs.frozen
class Settings:
    """Price (yuan/kWh) and thresholds (yuan) the account runs on; where they were read."""

    price: Decimal
    alarm_1: Decimal
    alarm_2: Decimal
    overdraft_limit: Decimal
    close_allowed: Decimal
    hoarding_limit: Decimal | None  # a remote account has none in the meter
    source: str

    @property
    def trip_level(self) -> Decimal:
        """The credit at which the relay must open: zero, less the overdraft allowed."""
        return -self.overdraft_limit


@attrs.frozen
class RechargeReply:
    credit_fen: int
    count: int
    mac_verified: bool


class Account:
    def __init__(self, client: Dlt645Client, prepaid: PrepaidProfile) -> None:
        self.client = client
        self.prepaid = prepaid

    def status(self, state: str) -> bool:
        """Whether the meter shows this credit state (alarm_1, alarm_2, overdraft)."""
        bit = self.prepaid.status_bits[state]
        return bool(self.client.read(bit.di).quantity.value >> bit.bit & 1)

    def relay_open(self) -> bool:
        return bool(self.client.read(RUN_STATUS_WORD_3).quantity.value & RELAY_OPEN)

    def energy_kwh(self) -> Decimal:
        return self.client.read(FORWARD_ACTIVE_ENERGY).quantity.value


class LocalAccount(Account):
    """The meter keeps the money."""

    mode = "local"
    resolution = FEN  # 00900200 is XXXXXX.XX yuan

    def __init__(self, client: Dlt645Client, prepaid: PrepaidProfile,
                 security: SecurityModule) -> None:
        super().__init__(client, prepaid)
        self.security = security
        self._settings: Settings | None = None

    def credit(self) -> Decimal:
        """Remaining credit, negative by the overdraft (yuan): the overdraft is read only when
        nothing remains (one reading while there is credit, so a drain is watched closely)."""
        remaining = self.client.read(REMAINING_CREDIT).quantity.value
        if remaining > 0:
            return remaining
        return -self.client.read(OVERDRAFT).quantity.value

    def settings(self) -> Settings:
        """Price and thresholds, read from the meter once (nothing here writes them)."""
        if self._settings is None:
            read = {name: self.client.read(di).quantity.value for name, di in THRESHOLDS.items()}
            self._settings = Settings(price=self.client.read(CURRENT_PRICE).quantity.value,
                                      **read, source="read from the meter: 02800020, "
                                      "04001001..04001005")
        return self._settings

    def purchase_count(self) -> int:
        return int(self.client.read(PURCHASE_COUNT).quantity.value)

    def customer(self) -> str:
        return str(self.client.read(CUSTOMER_NUMBER).quantity.value)

    def watch(self) -> None:
        """Nothing to do: a local meter acts by itself."""

    # -- the ESAM ----------------------------------------------------------------------------
    def _security(self, request: Frame, label: str) -> bytes:
        """The data of the meter's normal reply; SecurityRefused on C3. Never retried: a
        repeated recharge is a replay."""
        transaction = self.client.send(request, label=label, retries=0)
        reply = transaction.reply
        if reply.function != SECURITY or reply.address != self.client.address:
            raise SecurityRefused(0, f"{label}: the reply {reply.control:02X} from "
                                     f"{reply.address} does not answer it")
        if reply.abnormal:
            raise SecurityRefused(int.from_bytes(reply.data[:2], "little"), label)
        return reply.data

    def authenticate(self) -> Session:
        """Identity authentication: a random number from the module, its ciphertext, and the
        meter's random number back."""
        operator = self.client.auth.operator if self.client.auth else "00000000"
        dispersion = dispersion_of(self.client.address)
        random1 = self.security.random()
        data = self._security(authenticate_request(
            self.client.address, operator, self.security.authenticate(random1, dispersion),
            random1, dispersion), "identity authentication (03)")
        return Session(random1, data[:4], dispersion)

    def recharge_frame(self, session: Session, amount: Decimal, count: int,
                       customer: str) -> Frame:
        """The recharge request, signed by the module (a test may spoil or resend it)."""
        amount_fen = int(amount / FEN)
        mac1, mac2 = self.security.sign_recharge(session, amount_fen, count, customer)
        operator = self.client.auth.operator if self.client.auth else "00000000"
        return recharge_request(self.client.address, operator,
                                Recharge(amount_fen, count, mac1, customer, mac2))

    def send_recharge(self, session: Session, frame: Frame) -> RechargeReply:
        data = self._security(frame, f"recharge (03, {command_di('recharge'):08X})")
        body, mac = data[:8], data[8:12]
        return RechargeReply(int.from_bytes(body[:4], "little"),
                             int.from_bytes(body[4:8], "little"),
                             self.security.verify_reply_mac(session, body, mac))

    def recharge(self, amount: Decimal) -> RechargeReply:
        """Buy `amount` yuan: authenticate, then the next purchase in sequence."""
        session = self.authenticate()
        frame = self.recharge_frame(session, amount, self.purchase_count() + 1, self.customer())
        return self.send_recharge(session, frame)


class RemoteAccount(Account):
    """The rig, as the utility's master, keeps the balance and commands the relay."""

    mode = "remote"

    def __init__(self, client: Dlt645Client, prepaid: PrepaidProfile) -> None:
        super().__init__(client, prepaid)
        account = prepaid.account
        self._settings = Settings(
            price=account.price, alarm_1=account.alarm_1, alarm_2=account.alarm_2,
            overdraft_limit=account.overdraft_limit, close_allowed=account.close_allowed,
            hoarding_limit=None, source="the master's account settings (profile prepaid.account)")
        self._balance = Decimal("0.00")
        self._energy_at_balance = self.energy_kwh()
        self._alarmed = False
        self._tripped = False

    def settings(self) -> Settings:
        return self._settings

    @property
    def resolution(self) -> Decimal:
        """The balance moves in steps of the energy register's (XXXXXX.XX kWh) × price."""
        return FEN * self._settings.price

    def credit(self) -> Decimal:
        spent = (self.energy_kwh() - self._energy_at_balance) * self._settings.price
        return (self._balance - spent).quantize(FEN)

    def watch(self) -> None:
        """The master's duty: alarm at alarm 1, trip at the trip level."""
        credit = self.credit()
        if credit <= self._settings.alarm_1 and not self._alarmed:
            self.client.relay(RelayAction.ALARM)
            self._alarmed = True
        if credit <= self._settings.trip_level and not self._tripped:
            self.client.relay(RelayAction.TRIP)
            self._tripped = True

    def recharge(self, amount: Decimal) -> RechargeReply:
        """Credit the balance; release the alarm above alarm 1, allow the close above the
        close-allowed threshold."""
        energy = self.energy_kwh()
        credit = self.credit() + amount
        self._balance, self._energy_at_balance = credit, energy
        if credit > self._settings.alarm_1 and self._alarmed:
            self.client.relay(RelayAction.ALARM_RELEASE)
            self._alarmed = False
        if credit > self._settings.close_allowed and self.relay_open():
            self.client.relay(RelayAction.CLOSE_ALLOWED)
        if credit > self._settings.trip_level:
            self._tripped = False
        return RechargeReply(int(credit / FEN), 0, True)
