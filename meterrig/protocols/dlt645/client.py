"""DL/T 645-2007 master: turns "read 00010000 from meter X" into exchanges on a link.

The commands are said here in the field's words; sending, retries (counted in every transaction
and in the client's totals, never hidden) and reply checks are the master engine's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from ...link.serial_link import Link
from ...master import Master, OnMaster, Transaction
from ...meter import GarbledReply, MeterError
from . import commands as cmd
from .catalogue import CATALOGUE, Quantity, format_di
from .codec import Dlt645Codec
from .frame import LIMITS, WILDCARD_ADDRESS, Frame

MASTER_PREAMBLE = 4  # the master wakes the bus with 4 × FE (DL/T 645-2007 §5.1)
RELAY_COMMAND_VALIDITY = timedelta(minutes=LIMITS["relay_command"]["validity_min"])

@attrs.frozen
class Reading:
    di: int
    quantity: Quantity
    raw: bytes
    transactions: tuple[Transaction, ...]

    def __str__(self) -> str:
        return str(self.quantity)


class Dlt645Client(OnMaster):
    def __init__(
        self,
        link: Link,
        address: str,
        *,
        auth: cmd.Auth | None = None,
        reply_window: float = 1.0,
        retries: int = 1,
        preamble: int = MASTER_PREAMBLE,
    ) -> None:
        self.address = address
        self.auth = auth
        self.preamble = preamble
        self.master: Master[Frame, Frame] = Master(link, Dlt645Codec(),
                                                   reply_window=reply_window, retries=retries)

    def __repr__(self) -> str:
        return f"Dlt645Client(bus={self.link.name!r}, address={self.address!r})"

    # -- one request, with retries -----------------------------------------------------------
    def send(self, request: Frame, *, label: str, expect_reply: bool = True,
             preamble: int | None = None, retries: int | None = None) -> Transaction:
        """Send a frame and return what came back. A broadcast (expect_reply=False) listens one
        reply window so that a meter that wrongly answers is heard, and is not retried."""
        return self.master.transact(
            request, label=label, target=f"meter {self.address}", expect_reply=expect_reply,
            retries=retries, preamble=self.preamble if preamble is None else preamble)

    def send_raw(self, raw: bytes, *, label: str, expect_reply: bool = False,
                 retries: int = 0) -> Transaction:
        """Send bytes as they are (a malformed frame, for error control) for a test that judges
        what came."""
        return self.master.send_raw(raw, label=label, target=f"meter {self.address}",
                                    expect_reply=expect_reply, retries=retries)

    def transact(self, request: Frame, *, label: str) -> Frame:
        """Send, expect a reply, and check it answers the request (abnormal replies raise,
        carrying the reply's bytes as ``reply`` so that a verdict can show them)."""
        transaction = self.send(request, label=label)  # raises unless a frame came
        if transaction.error is not None:
            transaction.error.reply = transaction.raw
            raise transaction.error
        return transaction.reply

    # -- commands ----------------------------------------------------------------------------
    def read_raw(self, di: int) -> tuple[bytes, tuple[Transaction, ...]]:
        """The value bytes of one data identifier, follow-up frames joined."""
        seen: list[Transaction] = []
        self.observers.append(seen.append)
        try:
            with self.link.reserved():
                request = cmd.read(self.address, di)
                reply = cmd.read_reply_fields(request, self.transact(
                    request, label=f"read {format_di(di)}"))
                value = reply.value
                seq = 0
                while reply.follow_up:
                    seq += 1
                    request = cmd.read_follow_up(self.address, di, seq)
                    reply = cmd.read_reply_fields(request, self.transact(
                        request, label=f"read follow-up {seq} of {format_di(di)}"))
                    value += reply.value
        finally:
            self.observers.remove(seen.append)
        return value, tuple(seen)

    def read(self, di: int) -> Reading:
        raw, transactions = self.read_raw(di)
        try:
            quantity = CATALOGUE[di].decode(raw)
        except ValueError as exc:
            garbled = GarbledReply(f"meter {self.address}: the value of {format_di(di)} does not "
                                   f"decode: {exc}", exc)
            garbled.reply = transactions[-1].raw
            raise garbled from exc
        return Reading(di, quantity, raw, transactions)

    def read_address(self, pattern: str = WILDCARD_ADDRESS) -> str:
        """The meter's real address, asked with wildcard bytes (AA) in the request address; a
        reply whose data is not the 6-byte address its header carries is refused."""
        request = cmd.read_address(pattern)
        return self.transact(request, label=f"read address {pattern}").address

    def write(self, di: int, value: object) -> None:
        self.transact(cmd.write(self.address, di, CATALOGUE[di].encode(value), self._auth()),
                      label=f"write {format_di(di)}")

    def broadcast_time(self, when: datetime) -> Transaction:
        return self.send(cmd.broadcast_time(when), label=f"broadcast time {when:%Y-%m-%d %H:%M:%S}",
                         expect_reply=False)

    def freeze(self, when: cmd.FreezeTime | None = None) -> None:
        self.transact(cmd.freeze(self.address, when), label="freeze")

    def change_baud(self, baudrate: int) -> None:
        """Ask the meter to change rate, then follow it (the reply still comes at the old rate)."""
        self.transact(cmd.change_baud(self.address, baudrate), label=f"change baud {baudrate}")
        self.link.set_baudrate(baudrate)

    def relay(self, action: cmd.RelayAction, expiry: datetime | None = None) -> None:
        """Relay command N1 = ``action``, valid until ``expiry`` (N3..N8): by default a real
        deadline a few minutes ahead, since meters refuse an expired or zero one."""
        deadline = expiry or datetime.now() + RELAY_COMMAND_VALIDITY
        self.transact(cmd.relay(self.address, self._auth(), action, deadline),
                      label=f"relay {action.name.lower().replace('_', ' ')}")

    def _auth(self) -> cmd.Auth:
        if self.auth is None:
            raise MeterError(f"meter {self.address}: the rig file gives no password for it")
        return self.auth
