"""DL/T 645-2007 master: turns "read 00010000 from meter X" into exchanges on a link.

Retries are counted in every transaction and in the client's totals, never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from ...link.exchange import Exchange
from ...link.serial_link import Link
from ...meter import GarbledReply, MeterError, NoReply
from . import commands as cmd
from .catalogue import CATALOGUE, Quantity, format_di
from .frame import (
    LIMITS,
    WILDCARD_ADDRESS,
    Frame,
    FrameError,
    FrameSplitter,
    Function,
    decode,
    encode,
)
from .verdict import describe

MASTER_PREAMBLE = 4  # the master wakes the bus with 4 × FE (DL/T 645-2007 §5.1)
FRAME_DATA_OFFSET = 10  # 68, six address bytes, 68, C, L
RELAY_COMMAND_VALIDITY = timedelta(minutes=LIMITS["relay_command"]["validity_min"])

# Where passwords and operator codes sit in a request's data: (first, end) byte, for traces.
SECRET_FIELDS: dict[int, tuple[int, int]] = {
    Function.WRITE: (4, 12),
    Function.CHANGE_PASSWORD: (4, 12),
    Function.CLEAR_DEMAND: (0, 8),
    Function.METER_CLEAR: (0, 8),
    Function.EVENT_CLEAR: (0, 8),
    Function.RELAY: (0, 8),
}


@attrs.frozen
class Transaction:
    request: Frame
    reply: Frame | None  # None: nobody answered (the expected outcome for a broadcast)
    exchanges: tuple[Exchange, ...]

    @property
    def retries(self) -> int:
        return len(self.exchanges) - 1


@attrs.frozen
class Reading:
    di: int
    quantity: Quantity
    raw: bytes
    transactions: tuple[Transaction, ...]

    def __str__(self) -> str:
        return str(self.quantity)


class Dlt645Client:
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
        self.link = link
        self.address = address
        self.auth = auth
        self.reply_window = reply_window
        self.retries = retries
        self.preamble = preamble
        self.retries_used = 0
        self.observers: list[Callable[[Transaction], None]] = []

    def __repr__(self) -> str:
        return f"Dlt645Client(bus={self.link.name!r}, address={self.address!r})"

    # -- one request, with retries -----------------------------------------------------------
    def send(self, request: Frame, *, label: str, expect_reply: bool = True,
             preamble: int | None = None, retries: int | None = None) -> Transaction:
        """Send a frame and return what came back. A broadcast (expect_reply=False) listens one
        reply window so that a meter that wrongly answers is heard, and is not retried."""
        raw = encode(request, preamble=self.preamble if preamble is None else preamble)
        attempts = 1 + ((self.retries if retries is None else retries) if expect_reply else 0)
        exchanges: list[Exchange] = []
        reply: Frame | None = None
        failure: MeterError | None = None
        for attempt in range(1, attempts + 1):
            exchange = self.link.exchange(
                raw, FrameSplitter(), reply_window=self.reply_window,
                byte_gap_limit=self.reply_window, label=label, attempt=attempt,
                secret_spans=self._secret_spans(request, len(raw)),
            )
            exchanges.append(exchange)
            try:
                reply = self._frame_in(exchange.reply) if exchange.answered else None
            except FrameError as exc:
                failure = GarbledReply(f"meter {self.address} on bus {self.link.name}: garbled "
                                       f"reply to {label}: {exc}: {describe(exchange.reply)}",
                                       exc)
            else:
                failure = None if reply else NoReply(
                    f"meter {self.address} on bus {self.link.name}: no reply to {label} "
                    f"within {self.reply_window * 1e3:.0f} ms")
            if reply is not None:
                break
        transaction = self._done(Transaction(request, reply, tuple(exchanges)))
        if expect_reply and failure is not None:
            raise failure
        return transaction

    def _done(self, transaction: Transaction) -> Transaction:
        self.retries_used += transaction.retries
        for observer in self.observers:
            observer(transaction)
        return transaction

    @staticmethod
    def _frame_in(reply: bytes) -> Frame:
        candidates = FrameSplitter().feed(reply)
        return decode(candidates[0] if candidates else reply)

    def _secret_spans(self, request: Frame, length: int) -> tuple[tuple[int, int], ...]:
        field = SECRET_FIELDS.get(request.function)
        if field is None or request.from_slave:
            return ()
        start = length - 2 - len(request.data)  # data sits just before CS and 16
        return ((start + field[0], start + field[1]),)

    def transact(self, request: Frame, *, label: str) -> Frame:
        """Send, expect a reply, and check it answers the request (abnormal replies raise,
        carrying the reply's bytes as ``reply`` so that a verdict can show them)."""
        transaction = self.send(request, label=label)  # raises unless a frame came
        try:
            cmd.check_reply(request, transaction.reply)
        except (cmd.AbnormalReply, cmd.ReplyMismatch) as exc:
            exc.reply = transaction.exchanges[-1].reply
            raise
        return transaction.reply

    # -- commands ----------------------------------------------------------------------------
    def read_raw(self, di: int) -> tuple[bytes, tuple[Transaction, ...]]:
        """The value bytes of one data identifier, follow-up frames joined."""
        seen: list[Transaction] = []
        self.observers.append(seen.append)
        try:
            with self.link.reserved():
                request = cmd.read(self.address, di)
                reply = cmd.parse_read_reply(request, self.transact(
                    request, label=f"read {format_di(di)}"))
                value = reply.value
                seq = 0
                while reply.follow_up:
                    seq += 1
                    request = cmd.read_follow_up(self.address, di, seq)
                    reply = cmd.parse_read_reply(request, self.transact(
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
            garbled.reply = transactions[-1].exchanges[-1].reply
            raise garbled from exc
        return Reading(di, quantity, raw, transactions)

    def read_address(self, pattern: str = WILDCARD_ADDRESS) -> str:
        """The meter's real address, asked with wildcard bytes (AA) in the request address."""
        request = Frame(address=pattern, control=Function.READ_ADDRESS)
        reply = self.transact(request, label=f"read address {pattern}")
        return bytes(reversed(reply.data)).hex().upper()

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
