"""The rig: the buses, positions and instruments of one bench, opened from its rig file.

Suites see only this (through fixtures). A rig file with a `simulation:` section names a
simulated bench: it is started first, in its own process, and then opened exactly like
hardware through the ports it announces.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import serial.rs485

from .clock import RigClock
from .config import BusConfig, PositionConfig, RigConfig, load_rig
from .instruments import open_instrument
from .link import resolution
from .link.resolution import Resolution
from .link.serial_link import Link
from .link.wire import character_time
from .meter import EnergyMeter
from .protocols.dlt645.client import Dlt645Client
from .protocols.dlt645.commands import Auth
from .protocols.dlt645.meter import Dlt645Meter
from .protocols.dlt645.profile import profile as dlt645_profile
from .protocols.dlt645.profile import profile_file, profiles
from .protocols.modbus.client import ModbusClient
from .protocols.modbus.meter import ModbusMeter
from .protocols.modbus.registers import map_file, map_names, register_map
from .sim.bench import SIMULATED_BUS_RESOLUTION
from .sim.defects import DEFECTS
from .sim.launcher import running_bench

T = TypeVar("T")


def load(path: str | Path) -> RigConfig:
    return load_rig(Path(path), known_defects=DEFECTS.keys(), known_profiles={
        "dlt645-2007": tuple(profiles()), "modbus-rtu": map_names()},
        profile_files={"dlt645-2007": profile_file, "modbus-rtu": map_file})


class Rig:
    def __init__(self, config: RigConfig) -> None:
        self.config = config
        self.clock = RigClock(config.clock.speedup)
        self.links = {name: _link(bus) for name, bus in config.buses.items()}
        self.instruments: dict[str, object] = {}
        self._clients: dict[int, Dlt645Client | ModbusClient] = {}

    def open(self) -> Rig:
        for link in self.links.values():
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

    def instrument(self, kind: type[T]) -> T:
        """The bench's one instrument of this kind (source, reference standard, …)."""
        found = [i for i in self.instruments.values() if isinstance(i, kind)]
        if len(found) != 1:
            raise LookupError(f"{self.config.path}: the rig needs exactly one {kind.__name__} "
                              f"under instruments:, it has {len(found)}")
        return found[0]

    def meter(self, position: int) -> EnergyMeter:
        """The meter at a position, as the metering suites see it (any protocol)."""
        return METERED[self.config.position(position).protocol](self, position)

    @property
    def positions(self) -> tuple[PositionConfig, ...]:
        return self.config.positions

    def link_of(self, position: int) -> Link:
        return self.links[self.config.position(position).bus]

    def client(self, position: int) -> Dlt645Client | ModbusClient:
        """The master for one position, in its protocol (one per position, kept for the run)."""
        if position not in self._clients:
            pos = self.config.position(position)
            bus = self.config.buses[pos.bus]
            self._clients[position] = CLIENTS[pos.protocol](self.links[pos.bus], pos, bus)
        return self._clients[position]


def _dlt645_client(link: Link, position: PositionConfig, bus: BusConfig) -> Dlt645Client:
    auth = None
    if position.password is not None:
        auth = Auth(level=position.password.level, password=position.password.value.reveal(),
                    operator=position.operator.reveal())
    return Dlt645Client(link, position.address, auth=auth,
                        reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


def _modbus_client(link: Link, position: PositionConfig, bus: BusConfig) -> ModbusClient:
    return ModbusClient(link, position.address, register_map(position.profile),
                        reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


# The master of each protocol a position can speak.
CLIENTS = {"dlt645-2007": _dlt645_client, "modbus-rtu": _modbus_client}

# Protocols whose meters the metering suites can read, and how.
METERED = {
    "dlt645-2007": lambda rig, position: Dlt645Meter(
        rig.client(position), dlt645_profile(rig.config.position(position).profile), rig.clock),
    "modbus-rtu": lambda rig, position: ModbusMeter(rig.client(position)),
}


def _link(bus: BusConfig) -> Link:
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
                timing=declared_resolution(bus), echo=bus.echo)


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
def open_rig(path: str | Path) -> Iterator[Rig]:
    """Open the bench a rig file describes; start it first if it is the simulated bench."""
    config = load(path)
    with ExitStack() as stack:
        if config.simulation is not None:
            config = load(stack.enter_context(running_bench(config.path))["rig"])
        rig = Rig(config)
        stack.callback(rig.close)
        yield rig.open()
