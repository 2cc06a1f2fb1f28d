"""The concentrator master: the rig drives a carrier module with Q/GDW 1376.2 transactions.

Each transaction goes through the one master engine (retries, exchange records, traces), with
a fresh sequence number the reply must echo. A meter read through the module (13 F1, F1 F1)
waits the module's own monitor timeout (03 F10; the profile's until it is read) plus the
bus's reply window. The module's own frames that come meanwhile are answered after the transaction:
a report (06) is confirmed with 00 F1, a route read request (14 F1) is answered with what the
`route_reader` says to read; `serve` listens for them when nothing is in flight. After a
confirm that gives a wait time, the next request waits it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ...link.serial_link import Link
from ...master import Master, OnMaster, Transaction
from . import units as u
from .codec import CONFIRM, Gdw13762Codec, Reply, Request, is_initiated, parse
from .frame import Control, DownInfo, Frame, FrameSplitter, encode
from .profile import ModuleProfile
from .tables import protocol_name

ROUTE_READ_REQUEST = "14 F1"
REPORT_AFN = 0x06
NO_DATA = u.Empty()  # a query's data unit
FAILED = 0  # 14 F1 read flag (tables.yaml read_flags): the rig has nothing to read there

RouteReader = Callable[[u.RouteReadRequest], u.RouteReadAnswer]


class ConcentratorClient(OnMaster):
    def __init__(self, link: Link, master_address: str, profile: ModuleProfile, *,
                 reply_window: float = 1.0, retries: int = 1,
                 route_reader: RouteReader | None = None,
                 now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.master_address = master_address  # A1 of a command that addresses a meter
        self.codec = Gdw13762Codec(profile.edition, profile.mode)
        self.master: Master[Request, Reply] = Master(link, self.codec,
                                                     reply_window=reply_window, retries=retries)
        self.monitor_timeout_s = float(profile.monitor_timeout_s)
        # Where that figure comes from, for the verdicts judged against it.
        self.monitor_timeout_source = (f"module profile {profile.name} (a rig default: 03 F10 "
                                       "not read)")
        self.route_reader = route_reader
        self.reports: list[Reply] = []  # the module's 06 reports, confirmed, as they came
        self.route_requests: list[u.RouteReadRequest] = []
        self.unasked: list[Reply] = []  # other frames the module started, unanswered
        self._seq = 0
        self._now, self._sleep = now, sleep  # for the module's wait times
        self._ready_at = 0.0  # when the module said it would be ready for the next request
        self.master.observers.append(self._stale_frames)

    def __repr__(self) -> str:
        return f"ConcentratorClient(bus={self.link.name!r})"

    # -- one transaction ---------------------------------------------------------------------
    def send(self, afn: int, fn: int, unit: u.Unit, *, expects: tuple[str, ...],
             label: str, destination: str | None = None, reply_window: float | None = None,
             secret_spans: tuple[tuple[int, int], ...] = ()) -> Transaction:
        """A request with the next sequence number; the transaction as it came (its `error`
        says why a reply that came does not answer). The module's own frames are answered."""
        if self._ready_at > self._now():  # the module is still carrying out a command
            self._sleep(self._ready_at - self._now())
        self._seq = (self._seq + 1) & 0xFF
        request = Request(afn, fn, unit, self._seq, expects, destination, self.master_address,
                          secret_spans)
        target = f"carrier module{f' for meter {destination}' if destination else ''}"
        try:
            return self.master.transact(request, label=label, target=target,
                                        reply_window=reply_window)
        finally:
            self.answer_initiated()

    def ask(self, afn: int, fn: int, unit: u.Unit, *, expects: tuple[str, ...],
            label: str) -> Reply:
        """Send and return the reply that answers; Denied (00 F2) or WrongReply otherwise."""
        return _checked(self.send(afn, fn, unit, expects=expects, label=label)).reply

    def _confirmed(self, afn: int, fn: int, unit: u.Unit, label: str) -> u.Confirm:
        """A command the module confirms; its next request waits the wait time the confirm
        gives (00 F1: how long the module needs to carry the command out)."""
        confirm = self.ask(afn, fn, unit, expects=(CONFIRM,), label=label).unit
        self._ready_at = self._now() + confirm.wait_s
        return confirm

    def _query(self, afn: int, fn: int, label: str, unit: u.Unit = NO_DATA) -> u.Unit:
        key = f"{afn:02X} F{fn}"
        return self.ask(afn, fn, unit, expects=(key,), label=label).unit

    # -- transactions ------------------------------------------------------------------------
    def hardware_reset(self) -> u.Confirm:
        return self._confirmed(0x01, 1, u.Empty(), "hardware reset")

    def parameter_init(self) -> u.Confirm:
        """01 F2: clears the slave archive."""
        return self._confirmed(0x01, 2, u.Empty(), "parameter area initialise")

    def data_init(self) -> u.Confirm:
        return self._confirmed(0x01, 3, u.Empty(), "data area initialise")

    def vendor_version(self) -> u.VendorVersion:
        return self._query(0x03, 1, "query vendor code and version")

    def master_node_address(self) -> str:
        return self._query(0x03, 4, "query master node address").address

    def set_master_node_address(self, address: str) -> u.Confirm:
        confirm = self._confirmed(0x05, 1, u.NodeAddress(address),
                                  f"set master node address {address}")
        self.master_address = address
        return confirm

    def running_mode(self) -> u.RunningMode:
        """03 F10; from now on a meter read waits the module's own monitor timeout."""
        mode = self._query(0x03, 10, "query running mode")
        if mode.monitor_timeout_s:
            self.monitor_timeout_s = float(mode.monitor_timeout_s)
            self.monitor_timeout_source = "the module's monitor timeout, as its 03 F10 declares"
        return mode

    def slave_count(self) -> u.SlaveCount:
        return self._query(0x10, 1, "query slave count")

    def slaves(self, start: int, count: int) -> u.SlaveInfoList:
        return self._query(0x10, 2, f"query slaves from {start}",
                           u.SlaveInfoQuery(start, count))

    def archive(self, page: int = 10) -> tuple[u.SlaveInfo, ...]:
        """Every slave in the module's archive, `page` at a time (10 F2 counts from 1)."""
        found: list[u.SlaveInfo] = []
        while True:
            listed = self.slaves(len(found) + 1, page)
            found += listed.slaves
            if not listed.slaves or len(found) >= listed.total:
                return tuple(found)

    def add_slaves(self, slaves: Iterable[u.Slave]) -> u.Confirm:
        slaves = tuple(slaves)
        return self._confirmed(0x11, 1, u.AddSlaves(slaves), f"add {len(slaves)} slave(s)")

    def delete_slaves(self, addresses: Iterable[str]) -> u.Confirm:
        addresses = tuple(addresses)
        return self._confirmed(0x11, 2, u.DeleteSlaves(addresses),
                               f"delete {len(addresses)} slave(s)")

    def route_restart(self) -> u.Confirm:
        return self._confirmed(0x12, 1, u.Empty(), "route restart")

    def route_pause(self) -> u.Confirm:
        return self._confirmed(0x12, 2, u.Empty(), "route pause")

    def route_resume(self) -> u.Confirm:
        return self._confirmed(0x12, 3, u.Empty(), "route resume")

    def monitor(self, address: str, protocol: int, frame: bytes) -> Transaction:
        """13 F1: relay one meter frame and bring its reply (`reply.unit.frame`); the uplink R
        carries phase and signal quality. Raises Denied/WrongReply/NoReply."""
        return _checked(self.relay(address, protocol, frame,
                                   f"{protocol_name(protocol)} frame to {address}"))

    def relay(self, address: str, protocol: int, frame: bytes, label: str,
              secret_spans: tuple[tuple[int, int], ...] = ()) -> Transaction:
        """13 F1 as it came (its `error` unraised): the module's monitor timeout, plus the
        bus's reply window for the UART, is how long it may take. `secret_spans` are the
        frame's password bytes, masked in the trace of the 13 F1 too."""
        unit = u.MonitorSlave(protocol, frame)
        frame_at = len(unit.encode(self.codec.edition)) - len(frame)  # the frame ends the unit
        return self.send(0x13, 1, unit, expects=("13 F1",), label=f"13 F1 monitor: {label}",
                         destination=address,
                         reply_window=self.monitor_timeout_s + self.reply_window,
                         secret_spans=tuple((a + frame_at, b + frame_at)
                                            for a, b in secret_spans))

    def concurrent_read(self, address: str, protocol: int, frame: bytes) -> Transaction:
        """F1 F1: the same through the module's concurrent reading."""
        return _checked(self.send(0xF1, 1, u.ConcurrentRead(protocol, frame),
                                  expects=("F1 F1",), label=f"concurrent read of {address}",
                                  destination=address,
                                  reply_window=self.monitor_timeout_s + self.reply_window))

    # -- the module's own frames -------------------------------------------------------------
    def serve(self, window: float) -> int:
        """Listen `window` seconds for the module's own frames and answer them: how many."""
        before = len(self.reports) + len(self.route_requests)
        self.master.send_raw(b"", label="listen for the module", target="carrier module",
                             expect_reply=False, reply_window=window)
        self.answer_initiated()
        return len(self.reports) + len(self.route_requests) - before

    def answer_initiated(self) -> None:
        """Answer every frame the module started that came so far (answers may bring more)."""
        while self.codec.initiated:
            found = self.codec.initiated.pop(0)
            frame = found.frame
            if found.key == ROUTE_READ_REQUEST and isinstance(found.unit, u.RouteReadRequest):
                self.route_requests.append(found.unit)
                answer = (self.route_reader(found.unit) if self.route_reader
                          else u.RouteReadAnswer(FAILED))
                self._answer(frame, 0x14, 1, answer, f"answer route read request of "
                                                     f"{found.unit.address}")
            elif frame.afn == REPORT_AFN:
                self.reports.append(found)
                self._answer(frame, 0x00, 1, u.Confirm(), f"confirm report {found.key}")
            else:  # the notes ask the concentrator nothing here: kept, no answer invented
                self.unasked.append(found)

    def _stale_frames(self, transaction: Transaction) -> None:
        """The module's own frames that came while no exchange listened reach the next one as
        its stale bytes: they are answered too."""
        for exchange in transaction.exchanges:
            for raw in FrameSplitter().feed(exchange.stale):
                try:
                    found = parse(raw, self.codec.edition)
                except ValueError:
                    continue  # noise on the line, kept in the exchange record
                if is_initiated(found.frame):
                    self.codec.initiated.append(found)

    def _answer(self, asked: Frame, afn: int, fn: int, unit: u.Unit, label: str) -> None:
        """An answer to the module's frame: from the responding station, its sequence number."""
        wire = encode(Frame(Control(uplink=False, prm=False, mode=asked.control.mode),
                            DownInfo(seq=asked.info.seq), afn, fn,
                            unit.encode(self.codec.edition)))
        # The module does not reply to an answer; a short window hears its next frame.
        self.master.send_raw(wire, label=label, target="carrier module", expect_reply=False,
                             reply_window=self.reply_window)


def _checked(transaction: Transaction) -> Transaction:
    """The transaction, unless its reply does not answer: then its error, carrying the bytes."""
    if transaction.error is not None:
        transaction.error.reply = transaction.raw
        raise transaction.error
    return transaction
