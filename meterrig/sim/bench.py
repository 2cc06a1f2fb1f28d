"""The simulated bench: the physics, the simulated buses and their meters, from one rig file."""

from __future__ import annotations

from ..clock import RigClock
from ..config import PositionConfig, RigConfig, TimingConfig
from ..limits import table
from ..link.resolution import Resolution
from ..protocols import registry
from .bus import SimulatedBus
from .control import BenchControlServer
from .defects import Defects
from .instruments import SimulatedInstruments
from .noise import Noise
from .physics import BenchPhysics, MeterPhysics

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
        }, current_loop=config.simulation.current_loop)
        first = config.positions[0]
        self.physics.set_source(voltage=first.un, frequency=first.fn)
        self._devices: dict[tuple[str, str], object] = {}  # (protocol, address) -> device
        self.buses = {name: self._bus(name) for name in config.buses}
        try:
            self.instruments = SimulatedInstruments(
                self.physics, {name: i.driver for name, i in config.instruments.items()})
        except ValueError as exc:
            raise SimulationError(f"{config.path}: {exc}") from exc
        self.resources: dict[str, str] = {}
        self.control = BenchControlServer(self.buses, self.instruments)
        self.control_address = ""

    def _bus(self, name: str) -> SimulatedBus:
        bus = self.config.buses[name]
        # A meter reached `via` another device is that device's to simulate, not the bus's.
        meters = [self._meter(p) for p in self.config.positions_on(name) if p.via is None]
        # The framing of the bus is its protocol's (one per bus); an empty bus hears nothing to
        # answer, and gets the bus's default receiver.
        protocol = self.config.bus_protocol(name)
        receiver = registry.get(protocol).load("receiver")() if protocol else None
        simulated = self.config.simulation.bus(name)
        return SimulatedBus(name, baudrate=bus.baudrate, bytesize=bus.bytesize,
                            parity=bus.parity, stopbits=bus.stopbits, meters=meters,
                            receiver=receiver, echo=simulated.echo,
                            noise=Noise(simulated.ber, simulated.bursts))

    def _meter(self, position: PositionConfig) -> object:
        """The simulated device of the position's protocol, as its spec builds it. Positions of
        one protocol and address are one device: a meter on an RS485 bus and also reached
        `via:` a carrier module (the first position built gives its settings)."""
        key = (str(position.protocol), str(position.address))
        if key not in self._devices:
            self._devices[key] = registry.get(position.protocol).load("simulated_device")(
                self, position)
        return self._devices[key]

    @property
    def ports(self) -> dict[str, str]:
        return {name: bus.port for name, bus in self.buses.items()}

    def hardware_rig(self) -> RigConfig:
        """This running bench described as if it were hardware: real ports and instrument
        resources, the buses' timing resolution (a pty would be taken for unpaced), no
        simulation; marked as the running simulated bench's, so that it keeps the bench's clock
        speed-up (refused in a hardware rig file)."""
        declared = TimingConfig(resolution_ms=SIMULATED_BUS_RESOLUTION.seconds * 1e3)
        buses = {name: bus.model_copy(update={"port": self.ports[name],
                                              "timing": bus.timing or declared})
                 for name, bus in self.config.buses.items()}
        instruments = {name: instrument.model_copy(update={"resource": self.resources[name]})
                       for name, instrument in self.config.instruments.items()}
        return self.config.model_copy(update={
            "buses": buses, "instruments": instruments, "simulation": None,
            "running_simulation": str(self.config.path.resolve())})

    def start(self) -> SimulatedBench:
        for bus in self.buses.values():
            bus.start()
        self.resources = self.instruments.start()
        self.control_address = self.control.start()
        return self

    def stop(self) -> None:
        self.control.stop()
        self.instruments.stop()
        for bus in self.buses.values():
            bus.stop()

    def __enter__(self) -> SimulatedBench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
