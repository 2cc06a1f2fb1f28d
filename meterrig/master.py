"""One master engine for every protocol: requests out, replies in, over a codec.

A protocol's client says what to ask in the field's words (read a DI, read a register); this
engine sends it on the bus's link and brings back what came. It counts retries, keeps the
exchange records, takes the frames the link's splitter found as they are (no second split),
and has the codec check each reply once. Conformance tests send bytes as they are with
`send_raw`, and judge what came themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

import attrs

from .faults import Fault, Segment
from .link.exchange import Exchange
from .link.serial_link import Link, Splitter
from .meter import GarbledReply, NoReply

Request = TypeVar("Request")
Reply = TypeVar("Reply")


@attrs.frozen
class Encoded:
    """A request's wire bytes and the byte ranges in them that traces must mask."""

    wire: bytes
    secret_spans: tuple[tuple[int, int], ...] = ()


class Codec(Protocol[Request, Reply]):
    """What the engine needs of a protocol's codec (sans-IO)."""

    def encode(self, request: Request, **options: Any) -> Encoded:
        """The request's bytes, with the spans of its passwords and operator codes."""
        ...

    def splitter(self) -> Splitter:
        """A fresh frame finder for one reply (the link feeds it)."""
        ...

    def decode(self, frame: bytes) -> Reply:
        """A found frame as a reply; a ValueError saying why it is not one. With no frame
        found, it gets the bytes that came, to say why they are none."""
        ...

    # What `check` raises for a reply that does not answer normally (abnormal, mismatched).
    check_errors: tuple[type[Exception], ...]
    # Those of them that say the reply answers another request (mostly a late one): the
    # request's own reply may still come (an abnormal reply is an answer, so not among them).
    mismatch_errors: tuple[type[Exception], ...]

    def check(self, request: Request, reply: Reply) -> None:
        """Raise one of `check_errors` unless `reply` answers `request` normally."""
        ...

    def shown(self, raw: bytes, error: Exception) -> str:
        """Bytes that are no reply, in words, for a garbled-reply message."""
        ...


class _Found:
    """The splitter the link feeds, keeping the frames it found for the engine."""

    def __init__(self, splitter: Splitter) -> None:
        self.splitter = splitter
        self.frames: list[bytes] = []

    def feed(self, data: bytes) -> list[bytes]:
        frames = self.splitter.feed(data)
        self.frames += frames
        return frames


@attrs.frozen
class Transaction(Generic[Request, Reply]):
    """One request and every attempt at it."""

    request: Request  # what was asked (its wire bytes, for a raw send)
    reply: Reply | None  # the last attempt's reply frame; None: no whole frame came
    exchanges: tuple[Exchange, ...]
    # Why there is no normal reply: the codec's decode error (garbled), or its check's error
    # (abnormal or mismatched). None: silence, a normal reply, or a raw send's frame unchecked.
    error: Exception | None = None

    @property
    def retries(self) -> int:
        return len(self.exchanges) - 1

    @property
    def raw(self) -> bytes:
        """Every byte of the last attempt's reply, as it came."""
        return self.exchanges[-1].reply if self.exchanges else b""


class Master(Generic[Request, Reply]):
    """The engine of one client: its link, its codec, its reply window and retries."""

    def __init__(self, link: Link, codec: Codec[Request, Reply], *, reply_window: float,
                 byte_gap_limit: float | None = None, retries: int = 1,
                 transaction: type[Transaction] = Transaction) -> None:
        self.link = link
        self.codec = codec
        self.reply_window = reply_window
        self.byte_gap_limit = reply_window if byte_gap_limit is None else byte_gap_limit
        self.retries = retries
        self.transaction = transaction  # the protocol's record type (a Transaction subclass)
        self.retries_used = 0
        self.observers: list[Callable[[Transaction], None]] = []
        self._faults: list[Fault] = []  # spoil the next exchanges, one each (inject)

    @contextmanager
    def inject(self, fault: Fault, exchanges: int = 1) -> Iterator[None]:
        """Spoil the next `exchanges` requests sent with `fault` (the first attempts; a retry
        after them goes out clean); each spoilt exchange's record names the fault."""
        self._faults = [fault] * exchanges
        try:
            yield
        finally:
            self._faults = []

    def transact(self, request: Request, *, label: str, target: str, expect_reply: bool = True,
                 retries: int | None = None, reply_window: float | None = None,
                 **options: Any) -> Transaction:
        """Send a request and check the reply answers it. A reply that came but does not
        answer is returned with the check's error (the caller decides what it means). When a
        reply was due and no whole frame came: NoReply, or GarbledReply showing the bytes.
        Tried 1 + `retries` times while no whole frame comes (by default the master's retries,
        none for a request that must get silence: expect_reply=False). `target` names who was
        asked ("meter 000000000001"); `options` go to the codec's encode. `reply_window`: this
        request's own, where the device declares how long it may take (a carrier module's
        monitor timeout); by default the master's."""
        encoded = self.codec.encode(request, **options)
        transaction = self._attempts(request, encoded, label, expect_reply, retries, reply_window)
        if transaction.reply is not None:
            try:
                self.codec.check(request, transaction.reply)
            except self.codec.check_errors as exc:
                transaction = attrs.evolve(transaction, error=exc)
                if isinstance(exc, self.codec.mismatch_errors):
                    # Mostly a late reply to an earlier request, come in this one's window:
                    # this one's own reply may still be on its way. Heard now, it is shown as
                    # the next exchange's stale bytes; taken as its reply, it would leave every
                    # later exchange on the bus one reply behind.
                    self.link.settle(self.reply_window)
        return self._done(transaction, label, target, expect_reply)

    def send_raw(self, wire: bytes, *, label: str, target: str, expect_reply: bool = True,
                 retries: int = 0, secret_spans: tuple[tuple[int, int], ...] = (),
                 reply_window: float | None = None) -> Transaction:
        """Send bytes as they are (a spoilt frame, a frame for another address) for a
        conformance test, which judges what came; the reply frame is decoded, not checked."""
        transaction = self._attempts(wire, Encoded(wire, secret_spans), label, expect_reply,
                                     retries, reply_window)
        return self._done(transaction, label, target, expect_reply)

    def _attempts(self, request: Any, encoded: Encoded, label: str, expect_reply: bool,
                  retries: int | None, reply_window: float | None = None) -> Transaction:
        """Up to 1 + retries exchanges, until one brings a whole frame that decodes."""
        if retries is None:  # a request that must get silence is not tried twice
            retries = self.retries if expect_reply else 0
        attempts = 1 + retries
        window = self.reply_window if reply_window is None else reply_window
        exchanges: list[Exchange] = []
        reply, error = None, None
        for attempt in range(1, attempts + 1):
            found = _Found(self.codec.splitter())
            # Only a spoilt request asks the link for a plan (any link-like object will do else).
            spoilt = {"plan": fault.apply((Segment(encoded.wire),)), "fault": fault.name} \
                if (fault := self._faults.pop(0) if self._faults else None) else {}
            exchange = self.link.exchange(
                encoded.wire, found, reply_window=window,
                byte_gap_limit=self.byte_gap_limit, label=label, attempt=attempt,
                secret_spans=encoded.secret_spans, **spoilt)
            exchanges.append(exchange)
            if fault is not None and exchange.answered:
                self.link.settle(self.reply_window)  # a spoilt request may get more than one
            reply, error = None, None
            if exchange.answered:
                try:
                    reply = self.codec.decode(found.frames[0] if found.frames else exchange.reply)
                except ValueError as exc:
                    error = exc
            if reply is not None:
                break
        return self.transaction(request, reply, tuple(exchanges), error)

    def _done(self, transaction: Transaction, label: str, target: str,
              expect_reply: bool) -> Transaction:
        self.retries_used += transaction.retries
        for observer in self.observers:
            observer(transaction)
        if expect_reply and transaction.reply is None:
            where = f"{target} on bus {self.link.name}"
            if transaction.error is None:
                window = transaction.exchanges[-1].reply_window  # the one it waited
                raise NoReply(f"{where}: no reply to {label} within {window * 1e3:.0f} ms")
            raise GarbledReply(f"{where}: garbled reply to {label}: "
                               f"{self.codec.shown(transaction.raw, transaction.error)}",
                               transaction.error)
        return transaction


class OnMaster:
    """A protocol client's view of its engine: the link, the retry settings and totals, and the
    observers of its transactions, as suites, meters and benchmarks read them."""

    master: Master

    @property
    def link(self) -> Link:
        return self.master.link

    @property
    def reply_window(self) -> float:
        return self.master.reply_window

    @property
    def retries(self) -> int:
        return self.master.retries

    @property
    def retries_used(self) -> int:
        return self.master.retries_used

    @property
    def observers(self) -> list[Callable[[Transaction], None]]:
        return self.master.observers
