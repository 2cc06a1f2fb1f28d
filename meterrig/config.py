"""The rig file: what one bench is made of (buses, positions, instruments, simulation).

Each section is a pydantic model (meterrig/datafile.py reads the file: FILE:LINE for every
problem, duplicate keys, ${VAR}, all problems together); what a key allows is its declaration.
Its users are QA engineers, so the checks across keys below say what is wrong and what is
allowed. `docs/rig-file.md` documents every key.

Adding a key: one line in its model, e.g. in BusConfig `inter_frame_ms: float = Field(0.0,
ge=0)`; a key that needs other keys is checked in that model's (or RigConfig's) validator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .datafile import (
    DataFileError,
    Problem,
    Report,
    Schema,
    invalid,
    looks_like_path,
    read,
    refused,
    report,
    settle,
    show,
    suggest,
)
from .protocols import registry
from .secrets import Secret, register

__all__ = ["Problem"]  # with the RigFileError it makes: callers take both from here

BAUDRATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = ("N", "E", "O")
BYTESIZES = (7, 8)
STOPBITS = (1, 2)
METER_CLASSES = {"iec62053-21": ("1", "2"), "en50470-3": ("A", "B", "C")}
FREQUENCIES = (50, 60)
# Measuring elements of a meter: 1 single-phase, 2 three-phase three-wire, 3 three-phase
# four-wire (m in the creep and starting formulas of shared/spec/accuracy.md).
ELEMENTS = (1, 2, 3)
# The URL handlers pyserial ships (serial.serial_for_url); anything else with :// is a typo.
SERIAL_URL_SCHEMES = ("rfc2217", "socket", "loop", "spy", "hwgrep", "alt", "cp2110")
NAME = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_OPERATOR = "00000000"
UNPACED = "unpaced"
ECHO_AUTO = "auto"
PORT = ("a device path (/dev/ttyUSB0, COM3) or a pyserial URL ("
        + ", ".join(f"{s}://" for s in SERIAL_URL_SCHEMES) + ")")
RESOURCE = "a VISA resource string, e.g. TCPIP::192.0.2.20::5025::SOCKET"


# --- the kinds of value ------------------------------------------------------------------------


def _text(value: str) -> str:
    if not value.strip():
        raise invalid(f"got {show(value)}")
    return value


def _not_bool(value: Any) -> Any:
    # bool is an int in Python (True == 1), never an allowed option here.
    if isinstance(value, bool):
        raise invalid(f"got {show(value)}")
    return value


def _name(value: Any) -> Any:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise refused(f"name {value!r} is not allowed: use letters, digits, _ . -"
                      + (" (write it in quotes)" if not isinstance(value, str) else ""))
    return value


def _port(value: str) -> str:
    scheme, url, _ = value.partition("://")
    if url and scheme not in SERIAL_URL_SCHEMES:
        raise invalid(f"got {value!r}, an unknown URL scheme {scheme!r}")
    return value


def _hex_secret(digits: int) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, Secret):
            return value
        # The reason never shows the value: it is (or is meant to be) a secret.
        if not isinstance(value, str):
            raise invalid("got something other than text: write the digits in quotes")
        if not re.fullmatch(f"[0-9A-Fa-f]{{{digits}}}", value):
            raise invalid(f"got {len(value)} characters, not all hex digits")
        register(value.upper())
        return Secret(value.upper(), source=getattr(value, "source", None))

    return Annotated[Secret, BeforeValidator(convert),
                     Field(description=f"{digits} hex digits, in quotes")]


def _date(value: Any) -> Any:
    # YAML reads an unquoted 2027-03-01 as a date; a quoted one is text.
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid(f"got {show(value)}") from None
    if isinstance(value, datetime):
        raise invalid(f"got {show(value)}, a time as well as a date")
    return value


def _or_default(value: Any) -> Any:
    return {} if value is None else value  # an empty section: every default applies


def _one_of(*options: Any) -> Any:
    return Annotated[Literal[options], BeforeValidator(_not_bool)]


def _timing(value: Any) -> Any:
    if value == UNPACED:
        return TimingConfig(resolution_ms=None)
    if value is not None and not isinstance(value, dict | TimingConfig):
        raise invalid(f"got {show(value)}",
                      f"{UNPACED!r} or a mapping {{resolution_ms: a number > 0}}")
    return value


def _echo(value: Any) -> Any:
    if value == ECHO_AUTO:
        return None
    if not isinstance(value, bool):
        raise invalid(f"got {show(value)}")
    return value


def _meter_class(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return str(value).upper()
    raise invalid(f"got {show(value)}")


Text = Annotated[str, AfterValidator(_text)]
Name = Annotated[str, BeforeValidator(_name)]
OrDefault = BeforeValidator(_or_default)


# --- the schema ------------------------------------------------------------------------------


class Rs485Config(Schema):
    """Kernel RS485 mode (serial.rs485.RS485Settings), for adapters that need it."""

    rts_level_for_tx: bool = True
    rts_level_for_rx: bool = False
    delay_before_tx: float = Field(0.0, ge=0)
    delay_before_rx: float = Field(0.0, ge=0)


class TimingConfig(Schema):
    """A bus's declared timing resolution (buses.NAME.timing)."""

    # None: unpaced, no timing figure can be measured
    resolution_ms: Annotated[float, annotated_types.Gt(0)] | None


class BusConfig(Schema):
    FILLED = ("name",)
    name: str = ""  # its key under buses:
    port: Annotated[Text, AfterValidator(_port)] | None = Field(None, description=PORT)
    baudrate: _one_of(*BAUDRATES) = 2400
    parity: _one_of(*PARITIES) = "E"
    bytesize: _one_of(*BYTESIZES) = 8
    stopbits: _one_of(*STOPBITS) = 1
    rs485: Rs485Config | None = None
    reply_timeout_ms: int = Field(1000, ge=1)
    retries: int = Field(1, ge=0)
    # None: the link decides when it opens
    timing: Annotated[TimingConfig | None, BeforeValidator(_timing)] = None
    # Does the adapter hear itself; None: found when the bus opens.
    echo: Annotated[bool | None, BeforeValidator(_echo)] = Field(
        None, description=f"true, false or {ECHO_AUTO}")


class AccuracyConfig(Schema):
    standard: _one_of(*METER_CLASSES) = "iec62053-21"
    meter_class: Annotated[str, BeforeValidator(_meter_class)] = Field(
        alias="class", description="one of " + ", ".join(c for cs in METER_CLASSES.values()
                                                          for c in cs))

    @model_validator(mode="after")
    def _class_of_the_standard(self) -> AccuracyConfig:
        classes = METER_CLASSES[self.standard]
        if self.meter_class not in classes:
            raise refused(f"got {self.meter_class!r}; expected one of {', '.join(classes)} "
                          f"(the classes of {self.standard})", at="class")
        return self


class PasswordConfig(Schema):
    level: int = Field(ge=0, le=9)
    value: _hex_secret(6)


class PositionConfig(Schema):
    number: int = Field(alias="position", ge=1)
    # None only for a meter reached `via` another position: that position's bus.
    bus: Text | None = Field(None, description="the name of a bus defined under buses:")
    protocol: str
    address: Any = Field(description="the meter's address, as its protocol writes it")
    # What the meter model declares: a DL/T 645 profile or a Modbus register map, by shipped
    # name or as the absolute path of the user's own file (resolved from the rig file's folder).
    # None in the file: the protocol's default.
    profile: Text | None = None
    # The serial number for records; a meter without one is known by its address.
    serial: Text | None = None
    accuracy: Annotated[AccuracyConfig, OrDefault] = AccuracyConfig(meter_class="1")
    un: float = Field(220.0, gt=0)
    ib: float = Field(5.0, gt=0)
    imax: float = Field(60.0, gt=0)
    fn: _one_of(*FREQUENCIES) = 50
    constant: int = Field(1200, ge=1)
    elements: _one_of(*ELEMENTS) = 1
    password: PasswordConfig | None = None
    operator: _hex_secret(8) = Secret(DEFAULT_OPERATOR)
    # The position (number) this meter is reached through, not its bus directly: a device of a
    # protocol that carries others' frames (registry.ProtocolSpec.relay). None: on its bus.
    via: int | None = Field(None, ge=1,
                            description="the number of the position it is reached through")

    @field_validator("protocol")
    @classmethod
    def _registered(cls, protocol: str) -> str:
        if protocol not in registry.specs():
            raise invalid(f"got {show(protocol)}{suggest(protocol, registry.names())}",
                          "one of " + ", ".join(registry.names()))
        return protocol

    @field_validator("address")
    @classmethod
    def _address_of_its_protocol(cls, address: Any, info: ValidationInfo) -> Any:
        """As the protocol's address kind reads it (registry.AddressKind)."""
        if info.data.get("protocol") not in registry.specs():
            return address  # the protocol's own problem is reported
        kind = registry.get(info.data["protocol"]).address
        try:
            return kind.parse(address)
        except ValueError as error:
            raise invalid(str(error) or f"got {show(address)}", kind.expected) from None

    @model_validator(mode="after")
    def _complete(self) -> PositionConfig:
        if self.bus is None and self.via is None:
            raise refused("missing required key 'bus': expected the name of a bus defined "
                          "under buses:", at="bus")
        if self.imax <= self.ib:
            raise refused(f"imax ({self.imax:g} A) must be greater than ib ({self.ib:g} A)",
                          at="imax" if "imax" in self.model_fields_set else "ib")
        settle(self, profile=self.profile or registry.get(self.protocol).default_profile,
               serial=self.serial or str(self.address))
        return self


class InstrumentConfig(Schema):
    FILLED = ("name",)
    name: str = ""  # its key under instruments:
    resource: Text | None = Field(None, description=RESOURCE)  # None only on the simulated bench
    driver: Text = Field(description="the name of a command map, e.g. generic-scpi-source")
    timeout_ms: int = Field(2000, ge=1)
    # Past it, a run is refused unless overridden (meterrig/calibration.py).
    calibration_due: Annotated[date | None, BeforeValidator(_date)] = Field(
        None, description="a date, YYYY-MM-DD")


class SimMeterConfig(Schema):
    FILLED = ("position",)
    position: int = 0  # its key under simulation.meters
    response_delay_ms: float = Field(40.0, ge=0)
    clock_offset_s: float = 0.0
    defects: tuple[Text, ...] = Field((), strict=False, description="a list of names")
    error_percent: float = 0.0
    firmware: str | None = None  # a DL/T 645 meter's software version (04800001); None: refused
    # A meter behind a carrier module: its power-line path (meterrig/sim/plc_network.py)
    plc_path_db: float = Field(0.0, ge=0)  # line attenuation from the module, attenuator excluded
    phase: int = Field(0, ge=0, le=3)  # 1..3, 0 unknown
    # A carrier module: the seed of its network's frame losses (None: its position number)
    plc_seed: int | None = None


class SimBusConfig(Schema):
    FILLED = ("name",)
    name: str = ""  # its key under simulation.buses
    echo: bool = False  # the simulated adapter writes each request back as it leaves
    # Noise on the bus, both directions (meterrig/sim/noise.py): the bit-error rate, and the
    # share of frames each direction hit by a burst.
    ber: float = Field(0.0, ge=0, le=1, description="a probability from 0 to 1 (e.g. 1e-4)")
    bursts: float = Field(0.0, ge=0, le=1, description="a probability from 0 to 1 (e.g. 0.02)")


class SimulationConfig(Schema):
    meters: Annotated[dict[Annotated[int, annotated_types.Ge(1)], SimMeterConfig],
                      OrDefault] = {}
    buses: Annotated[dict[Name, SimBusConfig], OrDefault] = {}
    # How the simulated bench wires its meters' current circuits (meterrig/sim/physics.py):
    # each through its own current transformer, or all in one series loop (an open relay
    # anywhere stops the current of every meter and of the reference).
    current_loop: _one_of("isolated", "series") = "isolated"

    @model_validator(mode="after")
    def _named(self) -> SimulationConfig:
        settle(self, meters={n: m.model_copy(update={"position": n})
                             for n, m in self.meters.items()},
               buses={n: b.model_copy(update={"name": n}) for n, b in self.buses.items()})
        return self

    def bus(self, name: str) -> SimBusConfig:
        """The settings of a simulated bus (the defaults if not listed)."""
        return self.buses.get(name, SimBusConfig(name=name))

    def meter(self, number: int) -> SimMeterConfig:
        """The settings of the simulated meter at a position (the defaults if not listed)."""
        return self.meters.get(number, SimMeterConfig(position=number))


class ClockConfig(Schema):
    speedup: float = Field(1.0, ge=1)


class RigConfig(Schema):
    FILLED = ("path",)
    path: Path = Path()  # the rig file's, set by load_rig
    name: Text
    clock: Annotated[ClockConfig, OrDefault] = ClockConfig()
    buses: dict[Name, BusConfig] = Field(
        min_length=1, description="a mapping of bus names to buses, at least one bus")
    positions: tuple[PositionConfig, ...] = Field(  # sorted by number
        min_length=1, strict=False, description="a list of at least one position")
    instruments: Annotated[dict[Name, InstrumentConfig], OrDefault] = Field(
        {}, description="a mapping of instrument names to instruments")
    simulation: Annotated[SimulationConfig | None, OrDefault] = None
    # In the file a running simulated bench writes (it has no simulation: section): the rig
    # file that bench was started from. It lets that file keep the bench's clock speed-up.
    running_simulation: Text | None = Field(
        None, description="the rig file the running simulated bench was started from")

    @model_validator(mode="after")
    def _across_entries(self, info: ValidationInfo) -> RigConfig:
        found = report(info)
        positions = list(self.positions)
        if found is not None:
            context = info.context or {}
            _check_speedup(found, self)
            _check_simulated_only(found, self)
            _cross_check(found, positions, self.buses)
            _check_via(found, positions)
            _profile_files(found, context["path"], positions, context.get("profile_files") or {})
            if context.get("known_profiles") is not None:
                _check_profiles(found, positions, context["known_profiles"])
            if self.simulation is not None:
                _check_simulation(found, self, positions, context.get("known_defects"))
        settle(self, buses={n: b.model_copy(update={"name": n}) for n, b in self.buses.items()},
               instruments={n: i.model_copy(update={"name": n})
                            for n, i in self.instruments.items()},
               positions=tuple(sorted(positions, key=lambda p: p.number)))
        return self

    def position(self, number: int) -> PositionConfig:
        for position in self.positions:
            if position.number == number:
                return position
        known = ", ".join(str(p.number) for p in self.positions)
        raise KeyError(f"{self.path}: no position {number}; positions: {known}")

    def positions_on(self, bus: str) -> tuple[PositionConfig, ...]:
        if bus not in self.buses:
            raise KeyError(f"{self.path}: no bus {bus!r}; buses: {', '.join(self.buses)}")
        return tuple(p for p in self.positions if p.bus == bus)

    def bus_protocol(self, bus: str) -> str | None:
        """The protocol whose framing a bus carries: its directly reached meters' (one per
        bus); None for a bus with no meter on it. A meter reached `via` another device speaks
        its own protocol inside that device's frames."""
        return next((p.protocol for p in self.positions_on(bus) if p.via is None), None)


class RigFileError(DataFileError):
    """A rig file that cannot be used; str() lists every problem, one per line."""


# --- what no single key can tell ---------------------------------------------------------------


def _check_speedup(report: Report, rig: RigConfig) -> None:
    """Only simulated time may run fast: on hardware a 1000× clock would cut a creep test's
    period a thousandfold, and a creeping meter would pass."""
    simulated, running = rig.simulation is not None, rig.running_simulation is not None
    if simulated and running:
        report.add(("running_simulation",), "a file with a simulation: section describes the "
                   "bench to start, not a running one; leave running_simulation out (the "
                   "running bench writes it into the file it announces)")
    speedup = rig.clock.speedup
    if speedup == 1 or simulated or running:
        return
    report.add(("clock", "speedup"), f"got {speedup:g} on a bench without a simulation: section; "
               "real meters run in real time, so a faster clock would shorten every metrology "
               f"period {speedup:g}× (a creeping meter would pass the creep test): remove it or "
               "set 1 (only the simulated bench's file, or the file a running simulated bench "
               "writes, may set more)")


def _check_simulated_only(report: Report, rig: RigConfig) -> None:
    """Ports and instrument resources: only the simulated bench provides its own."""
    if rig.simulation is not None:
        return
    for name, bus in rig.buses.items():
        if bus.port is None:
            report.add(("buses", name, "port"), f"missing required key 'port': expected {PORT}; "
                       "only a rig file with a simulation: section may leave it out")
    for name, instrument in rig.instruments.items():
        if instrument.resource is None:
            report.add(("instruments", name, "resource"), "missing required key 'resource': "
                       f"expected {RESOURCE}; only a rig file with a simulation: section may "
                       "leave it out")


def _cross_check(report: Report, positions: list[PositionConfig], buses: Any) -> None:
    """What no single position can tell: unique numbers and addresses, buses that exist."""
    numbers: dict[int, int] = {}
    addresses: dict[tuple[str, Any], int] = {}
    protocols: dict[str, int] = {}  # bus -> index of its first position
    for index, position in enumerate(positions):
        at = ("positions", index)
        if position.number is not None:
            first = numbers.setdefault(position.number, index)
            if first != index:
                report.add((*at, "position"), f"position {position.number} is already used by "
                           f"positions[{first}] (line {report.line(('positions', first))})")
        if isinstance(buses, dict) and position.bus is not None and position.bus not in buses:
            report.add((*at, "bus"), f"no bus {position.bus!r}{suggest(position.bus, buses)}; "
                       f"buses defined: {', '.join(buses) or 'none'}")
        if position.bus is not None and position.protocol is not None and position.via is None:
            # One framing per bus: protocols' line settings and framing differ.
            first = protocols.setdefault(position.bus, index)
            if positions[first].protocol != position.protocol:
                report.add((*at, "protocol"), f"bus {position.bus} already carries "
                           f"{positions[first].protocol} meters (positions[{first}], line "
                           f"{report.line(('positions', first))}); give {position.protocol} "
                           "meters a bus of their own")
        if position.bus is not None and position.address is not None:
            first = addresses.setdefault((position.bus, position.address), index)
            if first != index:
                report.add((*at, "address"), f"address {position.address} is already used on "
                           f"bus {position.bus} by positions[{first}] "
                           f"(line {report.line(('positions', first))})")


def _check_via(report: Report, positions: list[PositionConfig]) -> None:
    """A meter reached `via` another device: that device is another position of this rig, of a
    protocol that carries others' frames; the meter is on that device's bus."""
    numbers = {p.number: i for i, p in enumerate(positions) if p.number is not None}
    for index, position in enumerate(positions):
        if position.via is None:
            continue
        at = ("positions", index, "via")
        target = numbers.get(position.via)
        if target is None or target == index:
            others = ", ".join(str(n) for n, i in numbers.items() if i != index) or "none"
            report.add(at, f"no other position {position.via} to reach this meter through; "
                       f"positions: {others}")
            continue
        carrier = positions[target]
        where = f"position {carrier.number} (positions[{target}], line " \
                f"{report.line(('positions', target))})"
        spec = registry.specs().get(carrier.protocol)
        if spec is not None and spec.relay is None:
            relaying = [name for name, s in registry.specs().items() if s.relay is not None]
            report.add(at, f"{where} speaks {carrier.protocol}, which cannot carry another "
                       "protocol's frames; protocols that can: "
                       + (", ".join(relaying) or "none yet"))
        elif position.bus is None:
            positions[index] = position.model_copy(update={"bus": carrier.bus})
        elif position.bus != carrier.bus:
            report.add(("positions", index, "bus"), f"bus {position.bus}, but {where}, which "
                       f"this meter is reached through, is on bus {carrier.bus}")


def _check_profiles(report: Report, positions: list[PositionConfig],
                    known_profiles: Mapping[str, Collection[str]]) -> None:
    """A profile names a DL/T 645 meter profile or a Modbus register map of the position's
    protocol."""
    for index, position in enumerate(positions):
        known = known_profiles.get(position.protocol)
        if known is None or position.protocol is None or position.profile in known \
                or _is_profile_file(position.profile):
            continue
        what = registry.get(position.protocol).profile_word
        report.add(("positions", index, "profile"), f"no {position.protocol} {what} "
                   f"{position.profile!r}{suggest(position.profile, known)}; known: "
                   + ", ".join(sorted(known)))


def _is_profile_file(profile: str | None) -> bool:
    return isinstance(profile, str) and looks_like_path(profile)


def _profile_files(report: Report, path: Path, positions: list[PositionConfig],
                   loaders: Mapping[str, Callable[[Path], Any]]) -> None:
    """A profile given as a path: resolved from the rig file's folder (kept absolute, so a
    dumped rig file finds it from anywhere), and read by its protocol's loader, whose
    problems name the profile file and its lines."""
    for index, position in enumerate(positions):
        if not _is_profile_file(position.profile):
            continue
        at = ("positions", index, "profile")
        resolved = (path.parent / position.profile).absolute()
        if not resolved.is_file():
            report.add(at, f"no such profile file {str(resolved)!r} (a relative path is taken "
                       "from the rig file's folder)")
            continue
        positions[index] = position.model_copy(update={"profile": str(resolved)})
        load = loaders.get(position.protocol)
        if load is None:
            continue
        try:
            load(resolved)
        except ValueError as error:
            report.add(at, f"profile file {resolved} is not valid:\n  "
                       + str(error).replace("\n", "\n  "))


def _check_simulation(report: Report, rig: RigConfig, positions: list[PositionConfig],
                      known_defects: Collection[str] | None) -> None:
    """Simulated meters of positions that exist, with defects the simulation knows; simulated
    buses that exist."""
    numbers = sorted(p.number for p in positions)
    for number, meter in rig.simulation.meters.items():
        at = ("simulation", "meters", str(number))
        if number not in numbers:
            report.add(at, f"no position {number!r} in positions; positions defined: "
                       + (", ".join(map(str, numbers)) or "none"))
            continue
        for index, defect in enumerate(meter.defects):
            if known_defects is not None and defect not in known_defects:
                report.add((*at, "defects", index), f"unknown defect {defect!r}"
                           f"{suggest(defect, known_defects)}; known defects: "
                           + ", ".join(sorted(known_defects)))
    for name in rig.simulation.buses:
        if name not in rig.buses:
            report.add(("simulation", "buses", name), f"no bus {name!r}"
                       f"{suggest(name, rig.buses)}; buses defined: {', '.join(rig.buses)}")


# --- the API -----------------------------------------------------------------------------------


def load_rig(path: str | Path, *, environ: Mapping[str, str] | None = None,
             known_defects: Collection[str] | None = None,
             known_profiles: Mapping[str, Collection[str]] | None = None,
             profile_files: Mapping[str, Callable[[Path], Any]] | None = None) -> RigConfig:
    """Read and check a rig file; RigFileError lists every problem found in it.

    `known_defects` and `known_profiles` (per protocol) are checked when given; a profile
    given as a file is read by `profile_files[protocol]` (ValueError: it is not valid)."""
    path = Path(path)
    rig = read(path, RigConfig, what="rig file", error=RigFileError,
               environ=os.environ if environ is None else environ,
               context={"path": path, "known_defects": known_defects,
                        "known_profiles": known_profiles, "profile_files": profile_files})
    return rig.model_copy(update={"path": path})


def dump_rig(config: RigConfig) -> str:
    """YAML that load_rig reads back to an equal RigConfig; ${VAR} references are kept.

    Every field of every model is written (a new key needs nothing here), under its name in
    the file; what the reader fills in is left out."""
    return yaml.safe_dump(_written(config), sort_keys=False, allow_unicode=True)


def _written(value: Any) -> Any:
    """A value as the rig file writes it."""
    if isinstance(value, BusConfig):
        # The words the reader turns into None: `timing: unpaced`, `echo: auto`.
        timing = value.timing
        return {**_fields(value), "echo": ECHO_AUTO if value.echo is None else value.echo,
                **({} if timing is None else {"timing": UNPACED if timing.resolution_ms is None
                                              else _written(timing)})}
    if isinstance(value, Schema):
        return _fields(value)
    if isinstance(value, Secret):
        return value.source if value.source is not None else _literal(value.reveal())
    if isinstance(value, str):
        return _literal(value)
    if isinstance(value, dict):
        return {key: _written(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_written(item) for item in value]
    return value


def _fields(model: Schema) -> dict[str, Any]:
    written = {field.alias or name: _written(getattr(model, name))
               for name, field in type(model).model_fields.items() if name not in model.FILLED}
    return {key: value for key, value in written.items() if value is not None}


def _literal(text: str) -> str:
    """text as written in a rig file: $ doubled, since load_rig expands ${...} in every string."""
    return text.replace("$", "$$")
