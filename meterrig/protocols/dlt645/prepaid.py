"""What a prepaid (cost-control) meter model declares: its mode and where it shows its credit
states (the `prepaid:` key of a profile, see profiles.yaml).

*local*: the meter keeps the money (remaining credit 00900200, overdraft 00900201), prices the
energy it registers, raises its alarms and trips by itself; money comes in through the ESAM
(control code 03). *remote*: the utility's master (here the rig) keeps the balance from the
meter's energy register and sends alarm, trip and close-allowed relay commands (1C); the
`account` settings are that master's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ...datafile import Schema, invalid, refused, show

MODES = ("local", "remote")
STATES = ("alarm_1", "alarm_2", "overdraft")  # credit states a status word bit may show
REQUIRED_STATES = ("alarm_1", "alarm_2")


class StatusBit(Schema):
    word: int = Field(ge=1, le=7)  # run status word number 1..7 (DI 04000501..07)
    bit: int = Field(ge=0, le=15)

    @property
    def di(self) -> int:
        return 0x04000500 + self.word

    def __str__(self) -> str:
        return f"run status word {self.word} bit {self.bit}"


def _money(value: Any) -> Any:
    # Decimal from the number as written ("0.52" or 0.52, not the binary float nearest it).
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise invalid(f"got {show(value)}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"got {show(value)}") from None


Money = Annotated[Decimal, BeforeValidator(_money),
                  Field(description='a number, e.g. 0.52 or "10.0000"')]


class Account(Schema):
    """The balance settings of the utility's master for a remote model (yuan, yuan/kWh)."""

    price: Money
    alarm_1: Money
    alarm_2: Money
    overdraft_limit: Money
    close_allowed: Money


class PrepaidProfile(Schema):
    mode: Literal[MODES]
    # credit state -> where the model shows it
    status_bits: dict[Literal[STATES], StatusBit]
    account: Account | None = None  # remote only

    @model_validator(mode="after")
    def _complete(self) -> PrepaidProfile:
        for state in REQUIRED_STATES:
            if state not in self.status_bits:
                raise refused(f"missing {state}: where the model shows it", at="status_bits")
        if self.mode == "remote" and self.account is None:
            raise refused("missing: a remote model's account (price in yuan/kWh, "
                          "alarm_1, alarm_2, overdraft_limit, close_allowed in yuan)",
                          at="account")
        if self.mode == "local" and self.account is not None:
            raise refused("only a remote model has an account in the rig: a local one keeps "
                          "its own", at="account")
        return self
