"""The simulated carrier module behind a link-like object: bytes in, bytes out, no pty, no
clock; its meters behind a direct path (a trivial CarrierPath: no loss, one latency)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC

import attrs

from meterrig.link.exchange import Exchange
from meterrig.link.resolution import Resolution
from meterrig.protocols.dlt645.frame import START
from meterrig.protocols.dlt645.frame import decode as decode_645
from meterrig.sim.carrier_module import SimulatedCarrierModule
from meterrig.sim.carrier_path import RelayResult
from meterrig.sim.dlt645_meter import SimulatedDlt645Meter

CHAR = 11 / 9600
MASTER = "000000000001"
Meter = Callable[[bytes], bytes | None]  # a DL/T 645 request frame -> its reply (None: silent)


@attrs.define
class DirectPath:
    """Each meter answers over the mains after `latency_s`, never lost, never relayed."""

    meters: dict[str, Meter]
    latency_s: float = 0.8
    signal_quality: int = 9
    phase: int = 1

    def relay(self, destination: bytes, frame: bytes) -> RelayResult:
        meter = self.meters.get(destination[::-1].hex(), lambda _: None)
        return RelayResult(meter(frame), self.latency_s, (), self.signal_quality, self.phase)


class ModuleLink:
    """A link whose far end is a simulated module; each exchange dates the reply by the
    module's delay, as a paced link would."""

    name = "carrier"
    character_time = CHAR

    def __init__(self, module: SimulatedCarrierModule) -> None:
        self.module = module
        self.silent = False  # the module answers nothing (its own frames still go out)
        self.sent: list[bytes] = []
        self.windows: list[float] = []
        self.exchanges: list[Exchange] = []
        self.settled: list[float] = []  # the quiet asked of each settle

    @contextmanager
    def reserved(self) -> Iterator[ModuleLink]:
        yield self

    def settle(self, quiet: float) -> bytes:
        self.settled.append(quiet)
        return b""

    def exchange(self, request: bytes, splitter, *, reply_window: float,
                 byte_gap_limit: float, label: str = "", attempt: int = 1,
                 secret_spans: tuple[tuple[int, int], ...] = ()) -> Exchange:
        self.sent.append(request)
        self.windows.append(reply_window)
        if self.silent:
            out, delay = b"".join(self.module.pending), 0.03
            self.module.pending.clear()
        else:
            out, delay = self.module.respond(request)
        t_end = len(request) * CHAR
        chunks = ((t_end + delay + len(out) * CHAR, out),) if out else ()
        if out:
            splitter.feed(out)
        record = Exchange(bus=self.name, label=label, request=request,
                          started_at=datetime.datetime.now(UTC), t_write=0.0,
                          t_request_end=t_end, chunks=chunks, character_time=CHAR,
                          baudrate=9600, resolution=Resolution(0.001, "scripted, 1 ms"),
                          attempt=attempt, reply_window=reply_window,
                          secret_spans=secret_spans)
        self.exchanges.append(record)
        return record


def module(meters: dict[str, Meter], *, edition: int = 2013, defects: tuple[str, ...] = (),
           latency_s: float = 0.8) -> SimulatedCarrierModule:
    return SimulatedCarrierModule(position=1, master_address=MASTER,
                                  path=DirectPath(meters, latency_s), edition=edition,
                                  monitor_timeout_s=40, defects=frozenset(defects))


def bench_path(bench: object, position: object,
               meters: dict[str, SimulatedDlt645Meter]) -> DirectPath:
    """The bench's module reaching its simulated meters directly (the network model's stand-in:
    carrier_module.PATH_FACTORY), each answering as on its own bus, 0.2 s over the mains."""
    return DirectPath({address: lambda frame, m=meter: _answer(m, frame)
                       for address, meter in meters.items()}, latency_s=0.2)


def _answer(meter: SimulatedDlt645Meter, frame: bytes) -> bytes | None:
    """The meter's reply; none to a frame it cannot trust (as on its own bus)."""
    start = frame.find(START)
    try:
        request = decode_645(frame[start:])
    except ValueError:
        return None
    sent = meter.answer(request, had_preamble=start > 0)
    return None if sent is None else sent.data
