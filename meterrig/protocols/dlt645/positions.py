"""A rig position speaking DL/T 645: its master, its meter for the metering suites, what
`meterrig read` reads, and what its profile offers the suites (the spec module names these)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...meter import MeterError
from . import v1997
from .catalogue import CATALOGUE
from .client import Dlt645Client, Reading
from .commands import AbnormalReply, Auth, ReplyMismatch
from .meter import METER_NUMBER, Dlt645Meter
from .profile import profile

FORWARD_ACTIVE_ENERGY_1997 = 0x9010  # catalogue-1997.yaml, forward active total energy
# The meter's clock: the catalogue's names of its date and time data items (DL/T 645-2007
# Table A.4, 04000101 and 04000102).
CLOCK_ITEMS = ("date and week", "time")
MIDNIGHT_PASSED = datetime.time(0, 1)  # far longer than one read
FIRMWARE_ITEM = 0x04800001  # manufacturer software version (catalogue.yaml, Table A.5)


def _auth(position: Any) -> Auth | None:
    if position.password is None:
        return None
    return Auth(level=position.password.level, password=position.password.value.reveal(),
                operator=position.operator.reveal())


def master_2007(link: Any, position: Any, bus: Any) -> Dlt645Client:
    return Dlt645Client(link, position.address, auth=_auth(position),
                        reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


def master_1997(link: Any, position: Any, bus: Any) -> Dlt645v1997Client:
    return Dlt645v1997Client(link, position.address, auth=_auth(position),
                             reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


class Dlt645v1997Client(Dlt645Client):
    """DL/T 645-1997 master: the 2007 client's exchanges, retries and traces on the same frame,
    with 1997 read requests (C=01, reply 81, abnormal C1) and the 1997 catalogue (2-byte DIs).
    A reply announcing follow-up frames (A1) is refused: no catalogued 1997 item needs one."""

    def read_raw(self, di: int) -> tuple[bytes, tuple]:
        request = v1997.read(self.address, di)
        transaction = self.send(request, label=f"read {di:04X}")
        try:
            reply = v1997.parse_read_reply(request, transaction.reply)
            if reply.follow_up:
                raise ReplyMismatch(f"reply to a read of {di:04X} announces follow-up frames")
        except (AbnormalReply, ReplyMismatch) as exc:
            exc.reply = transaction.exchanges[-1].reply
            raise
        return reply.value, (transaction,)

    def read(self, di: int) -> Reading:
        raw, transactions = self.read_raw(di)
        try:
            quantity = v1997.CATALOGUE[di].decode(raw)
        except ValueError as exc:
            raise ReplyMismatch(f"meter {self.address}: the value of {di:04X} does not decode: "
                                f"{exc}") from exc
        return Reading(di, quantity, raw, transactions)


class Dlt645v1997Meter:
    """A DL/T 645-1997 meter as the metering suites see it: its energy register. The 1997
    command set has no relay control (notes, "DL/T 645-1997")."""

    closes_by_command = False

    def __init__(self, client: Dlt645v1997Client) -> None:
        self.client = client

    def forward_energy_kwh(self) -> Decimal:
        return self.client.read(FORWARD_ACTIVE_ENERGY_1997).quantity.value

    def _no_relay(self) -> MeterError:
        return MeterError(f"meter {self.client.address}: DL/T 645-1997 has no relay control")

    def trip(self) -> bool:
        raise self._no_relay()

    def close(self) -> None:
        raise self._no_relay()

    def relay_open(self) -> bool:
        raise self._no_relay()


def meter_2007(rig: Any, position: int) -> Dlt645Meter:
    return Dlt645Meter(rig.client(position), profile(rig.config.position(position).profile),
                       rig.clock)


def meter_1997(rig: Any, position: int) -> Dlt645v1997Meter:
    return Dlt645v1997Meter(rig.client(position))


def _di_reader(catalogue: Any) -> Callable[[Any, str], Callable[[Any], str]]:
    def reader(position: Any, item: str) -> Callable[[Any], str]:
        try:
            di = int(item, 16)
            catalogue[di]
        except (ValueError, KeyError):
            raise ValueError(f"{item!r} is not a catalogued data identifier") from None
        return lambda client: str(client.read(di).quantity)

    return reader


reader_2007 = _di_reader(CATALOGUE)
reader_1997 = _di_reader(v1997.CATALOGUE)


def _clock_reader(catalogue: Any, declared: Callable[[Any], tuple[Any, str]]) -> Callable:
    """(position) -> its clock read, from the data items `declared` (items, where from)."""
    def clock(position: Any) -> Callable[[Any], datetime.datetime]:
        items, where = declared(position)
        by_name = {catalogue[di].name: di for di in items}
        missing = [name for name in CLOCK_ITEMS if name not in by_name]
        if missing:
            raise LookupError(f"{where} declares no {' and no '.join(missing)} data item: "
                              "the meter's clock cannot be read")
        date_di, time_di = (by_name[name] for name in CLOCK_ITEMS)

        def read(client: Any) -> datetime.datetime:
            date, time = (client.read(di).quantity.value for di in (date_di, time_di))
            # A time in the first minute may follow a midnight passed after the date was read:
            # the date read after it is the time's.
            if time < MIDNIGHT_PASSED:
                date = client.read(date_di).quantity.value
            return datetime.datetime.combine(date, time)

        return read

    return clock


def firmware_2007(position: Any) -> Callable[[Any], str]:
    """The manufacturer software version (Table A.5, 04800001): every DL/T 645-2007 meter is
    asked, as the standard defines it for all; one that refuses says so in its reply."""
    return lambda client: client.read(FIRMWARE_ITEM).quantity.value


clock_2007 = _clock_reader(CATALOGUE, lambda position: (
    profile(position.profile).data_items, f"meter profile {position.profile}"))
clock_1997 = _clock_reader(v1997.CATALOGUE, lambda position: (
    v1997.CATALOGUE, "the DL/T 645-1997 catalogue (catalogue-1997.yaml)"))


def has_relay(position: Any) -> bool:
    return profile(position.profile).relay


def has_prepaid(position: Any) -> bool:
    return profile(position.profile).prepaid is not None


def has_follow_up(position: Any) -> bool:
    return bool(profile(position.profile).long_items)


def has_meter_number(position: Any) -> bool:
    return METER_NUMBER in profile(position.profile).data_items


def writes_meter_number(position: Any) -> bool:
    """A prepaid model takes its meter number only through its security module: its profile
    leaves 04000402 out of what a password may write."""
    return METER_NUMBER in profile(position.profile).writable


def data_items_2007(position: Any) -> list[tuple[int, str]]:
    return [(di, f"{di:08X}") for di in profile(position.profile).data_items]


# Table A.5's run status words (040005xx) follow the relay, the load's direction and the
# battery, and its date and time the clock: the rest of DI3 = 04 (parameters) stays put.
RUN_STATUS_WORDS = 0x04000500


def settings_2007(position: Any) -> list[str]:
    """The profile's parameters (DI3 = 04, DL/T 645-2007 Table A.5) that nothing on the bench
    moves."""
    clock = {di for di in CATALOGUE if CATALOGUE[di].name in CLOCK_ITEMS}
    return [f"{di:08X}" for di in profile(position.profile).data_items
            if di >> 24 == 0x04 and di not in clock and di & 0xFFFFFF00 != RUN_STATUS_WORDS]


def data_items_1997(position: Any) -> list[tuple[int, str]]:
    return [(di, f"{di:04X}") for di in v1997.CATALOGUE]
