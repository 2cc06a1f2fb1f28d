"""The simulated bench: the physics, the simulated buses and their meters, from one rig file."""

from __future__ import annotations

import attrs

from ..clock import RigClock
from ..config import PositionConfig, RigConfig, TimingConfig
from ..limits import table
from ..link.resolution import Resolution
from ..link.wire import bits_per_character
from ..protocols.dlt645.profile import profile
from ..protocols.modbus.registers import register_map
from .bus import Dlt645Receiver, ModbusRtuReceiver, SimulatedBus
from .defects import Defects
from .dlt645_meter import SimulatedDlt645Meter
from .instruments import SimulatedInstruments
from .modbus_meter import SimulatedModbusMeter
from .physics import BenchPhysics, MeterPhysics

# How a bus of each protocol tells where a request ends: the protocols the bench simulates.
# An empty bus gets the DL/T 645 receiver; it hears nothing to answer either way.
RECEIVERS = {"dlt645-2007": Dlt645Receiver, "modbus-rtu": ModbusRtuReceiver}
SIMULATED_PROTOCOLS = tuple(RECEIVERS)
MODBUS_SERIAL_BASE = 20260000  # + position number, for a position whose serial is not a number
# Its buses pace replies by wire time, so their timing is measurable: the hardware-like rig file
# declares this resolution (the reasons are in the data).
SIMULATED_BUS_RESOLUTION = Resolution(
    table("rig-tolerances")["simulated_bus_resolution_s"]["value"],
    "the simulated bench paces its buses by wire time: limits/rig-tolerances.yaml")


class SimulationError(Exception):
    """The rig file asks for something the simulated bench cannot provide."""


def initial_register_kwh(position: int) -> float:
    """A recognisable, different starting reading per position (1234.56 kWh at position 1)."""
    return 1233.56 + position


class SimulatedBench:
    def __init__(self, config: RigConfig) -> None:
        if config.simulation is None:
            raise SimulationError(f"{config.path}: has no simulation section: it is a real bench")
        self.config = config
        self.clock = RigClock(config.clock.speedup)
        self.physics = BenchPhysics(self.clock, {
            p.number: MeterPhysics(
                un=p.un, ib=p.ib, imax=p.imax, fn=p.fn, constant=p.constant,
                error_percent=config.simulation.meter(p.number).error_percent,
                defects=Defects(frozenset(config.simulation.meter(p.number).defects)),
                forward_kwh=initial_register_kwh(p.number),
            )
            for p in config.positions
        })
        first = config.positions[0]
        self.physics.set_source(voltage=first.un, frequency=first.fn)
        self.buses = {name: self._bus(name) for name in config.buses}
        try:
            self.instruments = SimulatedInstruments(
                self.physics, {name: i.driver for name, i in config.instruments.items()})
        except ValueError as exc:
            raise SimulationError(f"{config.path}: {exc}") from exc
        self.resources: dict[str, str] = {}

    def _bus(self, name: str) -> SimulatedBus:
        bus = self.config.buses[name]
        # _meter refuses a protocol the bench cannot simulate; the rig file keeps one per bus
        meters = [self._meter(p) for p in self.config.positions_on(name)]
        receiver = RECEIVERS[self.config.bus_protocol(name) or "dlt645-2007"]()
        return SimulatedBus(name, baudrate=bus.baudrate, bytesize=bus.bytesize,
                            parity=bus.parity, stopbits=bus.stopbits, meters=meters,
                            receiver=receiver, echo=self.config.simulation.bus(name).echo)

    def _meter(self, position: PositionConfig) -> SimulatedDlt645Meter | SimulatedModbusMeter:
        if position.protocol not in SIMULATED_PROTOCOLS:
            raise SimulationError(
                f"{self.config.path}: position {position.number}: the simulated bench has no "
                f"{position.protocol} meter (it simulates {', '.join(SIMULATED_PROTOCOLS)})"
            )
        build = {"dlt645-2007": self._dlt645_meter, "modbus-rtu": self._modbus_meter}
        return build[position.protocol](position)

    def _dlt645_meter(self, position: PositionConfig) -> SimulatedDlt645Meter:
        settings = self.config.simulation.meter(position.number)
        bus = self.config.buses[position.bus]
        passwords = {position.password.level: position.password.value.reveal()} \
            if position.password else {}
        return SimulatedDlt645Meter(
            position=position.number,
            address=position.address,
            profile=profile(position.profile),
            passwords=passwords,
            physics=self.physics,
            meter_number=position.address,
            constant=position.constant,
            baudrate=bus.baudrate,
            character_bits=bits_per_character(bus.bytesize, bus.parity, bus.stopbits),
            response_delay=settings.response_delay_ms / 1000,
            clock_offset_s=settings.clock_offset_s,
            defects=self.physics.meters[position.number].defects,
        )

    def _modbus_meter(self, position: PositionConfig) -> SimulatedModbusMeter:
        where = f"{self.config.path}: position {position.number}"
        try:
            registers = register_map(position.profile)
        except KeyError as exc:
            raise SimulationError(f"{where}: {exc.args[0]}") from exc
        if registers.phases != 1:
            raise SimulationError(
                f"{where}: register map {registers.name} is for a {registers.phases}-phase "
                "meter; the simulated bench's physics is single-phase")
        bus = self.config.buses[position.bus]
        serial = position.serial
        try:
            return SimulatedModbusMeter(
                position=position.number,
                device_id=int(position.address),
                register_map=registers,
                physics=self.physics,
                serial_number=int(serial) if serial.isdigit()
                else MODBUS_SERIAL_BASE + position.number,
                baudrate=bus.baudrate,
                framing=f"{bus.bytesize}{bus.parity}{bus.stopbits}",
                response_delay=self.config.simulation.meter(position.number).response_delay_ms
                / 1000,
                defects=self.physics.meters[position.number].defects,
            )
        except ValueError as exc:  # a setting the map cannot express, a too short delay
            raise SimulationError(f"{where}: {exc.args[0]}") from exc

    @property
    def ports(self) -> dict[str, str]:
        return {name: bus.port for name, bus in self.buses.items()}

    def hardware_rig(self) -> RigConfig:
        """This running bench described as if it were hardware: real ports and instrument
        resources, the buses' timing resolution (a pty would be taken for unpaced), no
        simulation; marked as the running simulated bench's, so that it keeps the bench's clock
        speed-up (refused in a hardware rig file)."""
        declared = TimingConfig(SIMULATED_BUS_RESOLUTION.seconds * 1e3)
        buses = {name: attrs.evolve(bus, port=self.ports[name], timing=bus.timing or declared)
                 for name, bus in self.config.buses.items()}
        instruments = {name: attrs.evolve(instrument, resource=self.resources[name])
                       for name, instrument in self.config.instruments.items()}
        return attrs.evolve(self.config, buses=buses, instruments=instruments, simulation=None,
                            running_simulation=str(self.config.path.resolve()))

    def start(self) -> SimulatedBench:
        for bus in self.buses.values():
            bus.start()
        self.resources = self.instruments.start()
        return self

    def stop(self) -> None:
        self.instruments.stop()
        for bus in self.buses.values():
            bus.stop()

    def __enter__(self) -> SimulatedBench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
