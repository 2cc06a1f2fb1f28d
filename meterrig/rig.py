"""The rig: the buses, positions and instruments of one bench, opened from its rig file.

Suites see only this (through fixtures). A rig file with a `simulation:` section names a
simulated bench: it is started first, in its own process, and then opened exactly like
hardware through the ports it announces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import serial.rs485

from .clock import RigClock
from .config import BusConfig, PositionConfig, RigConfig, load_rig
from .instruments import open_instrument
from .link import resolution
from .link.handover import BusLock
from .link.resolution import Resolution
from .link.serial_link import Link
from .link.wire import character_time
from .meter import EnergyMeter
from .protocols import registry
from .sim.bench import SIMULATED_BUS_RESOLUTION
from .sim.control import BenchControl
from .sim.defects import DEFECTS
from .sim.launcher import running_bench

T = TypeVar("T")


def load(path: str | Path) -> RigConfig:
    specs = registry.specs().values()
    return load_rig(Path(path), known_defects=DEFECTS.keys(),
                    known_profiles={s.name: tuple(s.load("profile_names")()) for s in specs},
                    profile_files={s.name: s.load("profile_file") for s in specs})


class Rig:
    """`handover`: the buses are shared with other processes (parallel test workers): each is
    opened and used only while held (`holding`), see link/handover.py."""

    def __init__(self, config: RigConfig, *, handover: bool = False) -> None:
        self.config = config
        self.clock = RigClock(config.clock.speedup)
        self.handover = handover
        # Run before the instruments are given back to another process: each leaves them in
        # a state the next holder knows (the metering bench switches the source off).
        self.on_give_back: list[Callable[[], None]] = []
        self.links = {name: _link(bus, handover) for name, bus in config.buses.items()}
        self.instruments: dict[str, object] = {}
        self._clients: dict[int, Any] = {}
        # The simulated bench's control channel (meterrig/sim/control.py); None on hardware.
        self.bench_control: BenchControl | None = None

    def open(self) -> Rig:
        for link in self.links.values():
            if not self.handover:  # a handed-over bus opens when first held
                link.open()
        for name, instrument in self.config.instruments.items():
            self.instruments[name] = open_instrument(name, instrument.resource, instrument.driver,
                                                     instrument.timeout_ms)
        return self

    def close(self) -> None:
        for link in self.links.values():
            link.close()
        for instrument in self.instruments.values():
            instrument.close()
        self.instruments.clear()

    @contextmanager
    def holding(self, buses: Iterable[str], *, instruments: bool = False,
                steady: bool = False) -> Iterator[Rig]:
        """Hold these buses, and the instruments if asked, for a span of work (a rig without
        hand-over holds all, always; a bus not held is taken for each exchange). Taken in one
        order (instruments, then buses by name), so two holders never wait on each other.
        `steady`: the work only needs the instruments' state to stay put (it drives none of
        them), so other steady holders share them and only a holder that drives them waits."""
        taken: list[Link | BusLock] = []
        try:
            if self.handover and instruments:
                lock = BusLock("instruments " + " ".join(sorted(
                    str(i.resource) for i in self.config.instruments.values())))
                lock.acquire(shared=steady)
                taken.append(lock)
            for name in sorted(set(buses)) if self.handover else ():
                taken.append(self.links[name].take())
            yield self
        finally:
            try:
                if self.handover and instruments and not steady:  # a steady holder changed nothing
                    for callback in self.on_give_back:
                        callback()
            finally:
                for held in reversed(taken):
                    held.give_back() if isinstance(held, Link) else held.release()

    def instrument(self, kind: type[T]) -> T:
        """The bench's one instrument of this kind (source, reference standard, …)."""
        found = [i for i in self.instruments.values() if isinstance(i, kind)]
        if len(found) != 1:
            raise LookupError(f"{self.config.path}: the rig needs exactly one {kind.__name__} "
                              f"under instruments:, it has {len(found)}")
        return found[0]

    def meter(self, position: int) -> EnergyMeter:
        """The meter at a position, as the metering suites see it (any protocol)."""
        return registry.get(self.config.position(position).protocol).load("meter")(self, position)

    @property
    def positions(self) -> tuple[PositionConfig, ...]:
        return self.config.positions

    def link_of(self, position: int) -> Link:
        return self.links[self.config.position(position).bus]

    def client(self, position: int) -> Any:
        """The master for one position, in its protocol (one per position, kept for the run).
        A meter reached `via` another device talks through that device's master: the carrier's
        spec turns it (with the inner position) into the link the inner master runs on."""
        if position not in self._clients:
            pos = self.config.position(position)
            if pos.via is None:
                link = self.links[pos.bus]
            else:
                carrier = self.config.position(pos.via).protocol
                link = registry.get(carrier).load("relay")(self.client(pos.via), pos)
            self._clients[position] = registry.get(pos.protocol).load("master")(
                link, pos, self.config.buses[pos.bus])
        return self._clients[position]


def _link(bus: BusConfig, handover: bool) -> Link:
    rs485 = None
    if bus.rs485 is not None:
        rs485 = serial.rs485.RS485Settings(
            rts_level_for_tx=bus.rs485.rts_level_for_tx,
            rts_level_for_rx=bus.rs485.rts_level_for_rx,
            delay_before_tx=bus.rs485.delay_before_tx,
            delay_before_rx=bus.rs485.delay_before_rx,
        )
    return Link(bus.name, bus.port, baudrate=bus.baudrate, parity=bus.parity,
                bytesize=bus.bytesize, stopbits=bus.stopbits, rs485=rs485,
                timing=declared_resolution(bus), echo=bus.echo, handover=handover)


def declared_resolution(bus: BusConfig) -> Resolution | None:
    return None if bus.timing is None else resolution.declared(
        bus.timing.resolution_ms, "the rig file")


def expected_resolution(config: RigConfig, name: str) -> Resolution | str:
    """A bus's timing resolution as far as it can be told before the bus opens (for report
    headers); the link decides for itself when it opens."""
    bus = config.buses[name]
    if bus.timing is not None:
        return declared_resolution(bus)
    if bus.port is None:  # the simulated bench provides the port, and declares its timing
        return SIMULATED_BUS_RESOLUTION
    try:
        return resolution.of_port(bus.port, character_time(bus.baudrate, bus.bytesize,
                                                           bus.parity, bus.stopbits))
    except OSError as exc:
        return f"decided when the bus opens ({bus.port}: {exc.strerror})"


@contextmanager
def open_rig(path: str | Path, *, handover: bool = False) -> Iterator[Rig]:
    """Open the bench a rig file describes; start it first if it is the simulated bench.
    `handover`: the buses are shared with other processes (Rig)."""
    config = load(path)
    with ExitStack() as stack:
        control = None
        if config.simulation is not None:
            announcement = stack.enter_context(running_bench(config.path))
            config = load(announcement["rig"])
            control = BenchControl(announcement["control"])
        rig = Rig(config, handover=handover)
        rig.bench_control = control
        stack.callback(rig.close)
        yield rig.open()
