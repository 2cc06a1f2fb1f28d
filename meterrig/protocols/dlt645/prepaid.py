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
from typing import Any

import attrs

MODES = ("local", "remote")
STATES = ("alarm_1", "alarm_2", "overdraft")  # credit states a status word bit may show
ACCOUNT_KEYS = ("price", "alarm_1", "alarm_2", "overdraft_limit", "close_allowed")
STATUS_WORDS = range(1, 8)  # run status words 1..7 (DI 04000501..07)


@attrs.frozen
class StatusBit:
    word: int  # run status word number 1..7
    bit: int  # 0..15

    @property
    def di(self) -> int:
        return 0x04000500 + self.word

    def __str__(self) -> str:
        return f"run status word {self.word} bit {self.bit}"


@attrs.frozen
class Account:
    """The balance settings of the utility's master for a remote model (yuan, yuan/kWh)."""

    price: Decimal
    alarm_1: Decimal
    alarm_2: Decimal
    overdraft_limit: Decimal
    close_allowed: Decimal


@attrs.frozen
class PrepaidProfile:
    mode: str
    status_bits: dict[str, StatusBit]  # credit state -> where the model shows it
    account: Account | None = None  # remote only


def parse(where: Any, body: Any, problems: list[str]) -> PrepaidProfile | None:
    """The `prepaid` mapping of a profile; `where(keys)` gives FILE:LINE of a key path."""
    if not isinstance(body, dict):
        problems.append(f"{where(())}: prepaid is a mapping with keys mode, status_bits "
                        "(and account for a remote model)")
        return None
    before = len(problems)
    for key in body:
        if key not in ("mode", "status_bits", "account"):
            problems.append(f"{where((key,))}: unknown key {key!r}; allowed: mode, "
                            "status_bits, account")
    mode = body.get("mode")
    if mode not in MODES:
        problems.append(f"{where(('mode',))}: got {mode!r}; expected one of {', '.join(MODES)}")
    bits: dict[str, StatusBit] = {}
    for state, spec in (body.get("status_bits") or {}).items():
        ok = isinstance(spec, dict) and spec.get("word") in STATUS_WORDS \
            and spec.get("bit") in range(16) and set(spec) == {"word", "bit"}
        if state not in STATES or not ok:
            problems.append(f"{where(('status_bits', state))}: expected one of "
                            f"{', '.join(STATES)} mapped to {{word: 1..7, bit: 0..15}}")
            continue
        bits[state] = StatusBit(spec["word"], spec["bit"])
    for state in ("alarm_1", "alarm_2"):
        if state not in bits:
            problems.append(f"{where(('status_bits',))}: missing {state}: where the model "
                            "shows it")
    account = None
    if mode == "remote":
        raw = body.get("account")
        if not isinstance(raw, dict) or set(raw) != set(ACCOUNT_KEYS):
            problems.append(f"{where(('account',))}: a remote model's account is a mapping "
                            f"of {', '.join(ACCOUNT_KEYS)} (yuan, price in yuan/kWh)")
        else:
            try:
                account = Account(**{k: Decimal(str(v)) for k, v in raw.items()})
            except InvalidOperation:
                problems.append(f"{where(('account',))}: every value is a number")
    elif "account" in body:
        problems.append(f"{where(('account',))}: only a remote model has an account in the "
                        "rig: a local one keeps its own")
    if len(problems) > before:
        return None
    return PrepaidProfile(mode=mode, status_bits=bits, account=account)
