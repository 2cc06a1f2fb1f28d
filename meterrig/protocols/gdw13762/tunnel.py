"""The `via:` seam: a DL/T 645 meter reached through a carrier module.

`relay(carrier, position)` gives the meter's DL/T 645 client a link-like tunnel: each exchange
the client makes goes to the module as a 13 F1 (the meter's frame inside, A3 the meter's
address), and the frame in the 13 F1 uplink comes back as the reply, so the client, its retries
and its reply checks run unchanged. The module's monitor timeout (03 F10, read once) is how long
a read may take, not the client's reply window.

Timing: through the module the meter's own Td and Tb are not on any link the rig can watch (the
module relays over the mains and buffers), so the tunnel's exchange records are unpaced (its
DL/T 645 figures are INCONCLUSIVE, saying why), and each carries the figure that can be measured:
the end-to-end latency through the module, from the end of the 13 F1 request to the first byte
of its uplink on the module's UART, with that UART's resolution, judged against the module's
monitor timeout (meterrig.limits.timing judges a record's `carrier_figures` with its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from ...limits.figures import TimingFigure, measured
from ...link.exchange import Exchange
from ...link.resolution import Resolution
from ...link.serial_link import Splitter
from ...measure import Limits
from ...meter import MeterError
from ..dlt645.spec import DLT645_1997, DLT645_2007
from .client import ConcentratorClient
from .codec import Denied, Reply
from .spec import CLAUSES, GDW1376_2
from .tables import tables

# The protocol byte of 13 F1 for each protocol the module can carry (tables.yaml protocols).
PROTOCOL_BYTES = {DLT645_1997: 1, DLT645_2007: 2}
LATENCY = "end-to-end latency through the module"
LATENCY_KEY = f"{GDW1376_2}.latency"


@attrs.frozen
class RelayedExchange(Exchange):
    """A DL/T 645 exchange made through the module: its figures measured on the module's UART."""

    carrier_figures: tuple[TimingFigure, ...] = ()


class Tunnel:
    """What the DL/T 645 client of a meter behind the module runs on, in place of a Link."""

    def __init__(self, carrier: ConcentratorClient, address: str, protocol: int,
                 carrier_position: int | None = None) -> None:
        self.carrier = carrier
        self.address = address
        self.protocol = protocol
        self.name = f"{carrier.link.name} via carrier module" + (
            f" at position {carrier_position}" if carrier_position is not None else "")
        self.exchanges: list[RelayedExchange] = []
        self.observers: list = []
        self.last_reply: Reply | None = None  # the 13 F1 uplink: R's phase and quality
        self._declared = False

    @property
    def character_time(self) -> float:
        return self.carrier.link.character_time

    @contextmanager
    def reserved(self) -> Iterator[Tunnel]:
        with self.carrier.link.reserved():
            yield self

    def set_baudrate(self, baudrate: int) -> None:
        raise MeterError(f"meter {self.address} is reached through a carrier module: the "
                         "module, not the rig, talks to it at its line rate")

    def settle(self, quiet: float) -> bytes:
        """Nothing to wait for: the module answers a relay request once (its sequence number
        pairs them, and the carrier's own master settles its UART after a stray frame)."""
        return b""

    def exchange(self, request: bytes, splitter: Splitter, *, reply_window: float,
                 byte_gap_limit: float, label: str = "", attempt: int = 1,
                 secret_spans: tuple[tuple[int, int], ...] = ()) -> RelayedExchange:
        """The request relayed by 13 F1; silence when the module says the meter did not
        answer, Denied when it refuses, NoReply when the module itself is silent."""
        if not self._declared:  # the module's own monitor timeout, once, if it gives it
            self._declared = True
            try:
                self.carrier.running_mode()
            except MeterError:
                pass  # the profile's figure stays, and its source says so
        transaction = self.carrier.relay(self.address, self.protocol, request, label,
                                         secret_spans)
        error = transaction.error
        reply = b""
        if isinstance(error, Denied):
            if error.code not in tables()["meter_silent_deny_codes"]:
                raise error
        elif error is not None:
            raise error
        else:
            self.last_reply = transaction.reply
            reply = transaction.reply.unit.frame
        carried = transaction.exchanges[-1]
        chunks: tuple[tuple[float, bytes], ...] = ()
        if reply:
            chunks = ((carried.t_last_reply, reply),)
            splitter.feed(reply)
        record = RelayedExchange(
            bus=self.name, label=label, request=request, started_at=carried.started_at,
            t_write=carried.t_write, t_request_end=carried.t_request_end, chunks=chunks,
            character_time=carried.character_time, baudrate=carried.baudrate,
            resolution=Resolution(None, f"reached through the carrier module on bus "
                                        f"{carried.bus}: the meter's own timing is not on a "
                                        "link the rig watches"),
            attempt=attempt, reply_window=carried.reply_window, secret_spans=secret_spans,
            carrier_figures=(self._latency(carried),) if reply else ())
        self.exchanges.append(record)
        for observer in self.observers:
            observer(record)
        return record

    def _latency(self, carried: Exchange) -> TimingFigure:
        limits = Limits(high=self.carrier.monitor_timeout_s * 1e3, unit="ms",
                        source=f"{CLAUSES['monitor']}; limit: "
                               f"{self.carrier.monitor_timeout_source}")
        return measured(LATENCY, carried.response_delay_bounds, limits, carried, 1, floor=0.0,
                        impossible="a reply cannot begin before the request has ended",
                        key=LATENCY_KEY)


def relay(carrier: ConcentratorClient, position: Any) -> Tunnel:
    """The tunnel of a position reached `via:` the carrier module."""
    if position.protocol not in PROTOCOL_BYTES:
        raise ValueError(f"position {position.number}: a carrier module carries "
                         f"{', '.join(PROTOCOL_BYTES)} frames, not {position.protocol}")
    return Tunnel(carrier, position.address, PROTOCOL_BYTES[position.protocol], position.via)
