"""Prepaid suite fixtures: the customer's account (local or remote, as the profile says), the
load, the button, the security unit, and a drain that brings the credit where a test starts."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from meterrig.instruments import ButtonActuator, PowerSource, ReferenceStandard, SecurityUnit
from meterrig.instruments.button import HOLD_S
from meterrig.limits import table
from meterrig.metrology.drain import Drain
from meterrig.protocols.dlt645.account import LocalAccount, RemoteAccount

DATA = table("prepaid")
FUND_MARGIN = Decimal(str(DATA["fund_margin"]["value"]))


def _one(rig, kind):
    try:
        return rig.instrument(kind)
    except LookupError:
        return None


class Load:
    """The source as the prepaid tests use it: the position's full load, or voltage alone."""

    def __init__(self, source: PowerSource, position) -> None:
        self.source = source
        self.position = position

    def on(self) -> None:
        self.source.apply(self.position.un, self.position.imax, 0.0, self.position.fn)

    def idle(self) -> None:
        self.source.apply(self.position.un, 0.0, 0.0, self.position.fn)

    def current(self) -> float:
        return self.source.measure().current

    @property
    def power_kw(self) -> float:
        return self.position.un * self.position.imax / 1000


class OperatorButton:
    """A bench without a button actuator: the operator presses the button when asked."""

    def __init__(self, config: pytest.Config) -> None:
        self.capture = config.pluginmanager.getplugin("capturemanager")

    def press(self, position: int, hold_s: float = HOLD_S) -> None:
        with self.capture.global_and_fixture_disabled():
            input(f"\nHold the button of the meter at position {position} for {hold_s:g} s, "
                  "then press Enter: ")


@pytest.fixture(scope="session")
def load(rig):
    source = _one(rig, PowerSource)
    if source is None:
        pytest.skip(f"{rig.config.path}: no source under instruments: the prepaid tests drain "
                    "credit with a load")
    return source


@pytest.fixture
def bench_load(load, position) -> Load:
    bench = Load(load, position)
    yield bench
    bench.idle()


@pytest.fixture(scope="session")
def reference(rig) -> ReferenceStandard:
    found = _one(rig, ReferenceStandard)
    if found is None:
        pytest.skip(f"{rig.config.path}: no reference standard under instruments:")
    return found


@pytest.fixture(scope="session")
def button(rig, pytestconfig):
    """The button of the meters: a relay actuator named in the rig file, else the operator."""
    actuator = _one(rig, ButtonActuator)
    if actuator is not None:
        return actuator
    if not sys.stdin.isatty():
        pytest.skip(f"{rig.config.path}: no button actuator under instruments: and no operator "
                    "at a terminal to press the meter's button")
    return OperatorButton(pytestconfig)


_ACCOUNTS = pytest.StashKey[dict]()


@pytest.fixture
def account(rig, position, meter_profile, pytestconfig):
    """The customer's account for this position, one per run (a remote balance lives in the
    rig for the whole run)."""
    accounts = pytestconfig.stash.setdefault(_ACCOUNTS, {})
    if position.number not in accounts:
        client = rig.client(position.number)
        prepaid = meter_profile.prepaid
        if prepaid.mode == "remote":
            accounts[position.number] = RemoteAccount(client, prepaid)
        else:
            unit = _one(rig, SecurityUnit)
            if unit is None:
                pytest.skip(f"{rig.config.path}: no security unit under instruments: a local "
                            "prepaid meter takes money only through its ESAM")
            accounts[position.number] = LocalAccount(client, prepaid, unit)
    return accounts[position.number]


@pytest.fixture
def drain(rig) -> Drain:
    return Drain(rig.clock.now)


@pytest.fixture
def fund(account, bench_load, button, position):
    """Bring the credit to `target` (at least `target` unless `exact`) with the relay closed
    and the load off: buy the difference, drain what is too much, press the button if the
    relay is open."""
    def to(target: Decimal, *, exact: bool = False) -> Decimal:
        bench_load.idle()
        credit = account.credit()
        if exact and credit > target + FUND_MARGIN:
            bench_load.on()
            while account.credit() > target:
                account.watch()
            bench_load.idle()
            credit = account.credit()
        if credit < target or account.relay_open():
            # a purchase is also what allows the customer to close an open relay
            account.recharge(max(target - credit, FUND_MARGIN))
        if account.relay_open():
            button.press(position.number)
        return account.credit()
    return to
