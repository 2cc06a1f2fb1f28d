"""The rig file: what one bench is made of (buses, positions, instruments, simulation).

`load_rig` reads and checks a rig file. Its users are QA engineers, so every mistake in the file
is reported with the file, the dotted key (`positions[3].address`) and the line, says what is
wrong and what is allowed, and all mistakes are reported together. `docs/rig-file.md` documents
every key.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from .protocols import registry
from .secrets import ExpansionError, Secret, expand, register
from .yamllines import looks_like_path

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


# --- the schema ------------------------------------------------------------------------------


@attrs.frozen
class Rs485Config:
    """Kernel RS485 mode (serial.rs485.RS485Settings), for adapters that need it."""

    rts_level_for_tx: bool = True
    rts_level_for_rx: bool = False
    delay_before_tx: float = 0.0
    delay_before_rx: float = 0.0


@attrs.frozen
class TimingConfig:
    """A bus's declared timing resolution (buses.NAME.timing)."""

    resolution_ms: float | None  # None: unpaced, no timing figure can be measured


UNPACED = "unpaced"
ECHO_AUTO = "auto"


@attrs.frozen
class BusConfig:
    name: str
    port: str | None = None  # None only on the simulated bench, which provides the port
    baudrate: int = 2400
    parity: str = "E"
    bytesize: int = 8
    stopbits: int = 1
    rs485: Rs485Config | None = None
    reply_timeout_ms: int = 1000
    retries: int = 1
    timing: TimingConfig | None = None  # None: the link decides when it opens
    echo: bool | None = None  # does the adapter hear itself; None: found when the bus opens


@attrs.frozen
class AccuracyConfig:
    standard: str = "iec62053-21"
    meter_class: str = "1"


@attrs.frozen
class PasswordConfig:
    level: int
    value: Secret


@attrs.frozen
class PositionConfig:
    number: int
    bus: str
    protocol: str
    address: str | int  # as the protocol's address kind reads it (registry.AddressKind)
    # What the meter model declares: a DL/T 645 profile or a Modbus register map, by shipped
    # name or as the absolute path of the user's own file (resolved from the rig file's folder).
    profile: str = attrs.Factory(lambda self: _default_profile(self.protocol), takes_self=True)
    # The serial number for records; a meter without one is known by its address.
    serial: str = attrs.Factory(lambda self: str(self.address), takes_self=True)
    accuracy: AccuracyConfig = attrs.Factory(AccuracyConfig)
    un: float = 220.0
    ib: float = 5.0
    imax: float = 60.0
    fn: int = 50
    constant: int = 1200
    elements: int = 1
    password: PasswordConfig | None = None
    operator: Secret = attrs.Factory(lambda: Secret(DEFAULT_OPERATOR))
    # The position (number) this meter is reached through, not its bus directly: a device of a
    # protocol that carries others' frames (registry.ProtocolSpec.relay). None: on its bus.
    via: int | None = None


def _default_profile(protocol: str) -> str:
    return registry.specs()[protocol].default_profile if protocol in registry.specs() else ""


@attrs.frozen
class InstrumentConfig:
    name: str
    resource: str | None  # None only on the simulated bench
    driver: str
    timeout_ms: int = 2000


@attrs.frozen
class SimMeterConfig:
    position: int
    response_delay_ms: float = 40.0
    clock_offset_s: float = 0.0
    defects: tuple[str, ...] = ()
    error_percent: float = 0.0


@attrs.frozen
class SimBusConfig:
    name: str
    echo: bool = False  # the simulated adapter writes each request back as it leaves
    ber: float = 0.0  # bit-error rate on the bus, both directions (meterrig/sim/noise.py)
    bursts: float = 0.0  # share of frames, each direction, hit by a noise burst


@attrs.frozen
class SimulationConfig:
    meters: dict[int, SimMeterConfig] = attrs.Factory(dict)
    buses: dict[str, SimBusConfig] = attrs.Factory(dict)

    def bus(self, name: str) -> SimBusConfig:
        """The settings of a simulated bus (the defaults if not listed)."""
        return self.buses.get(name, SimBusConfig(name=name))

    def meter(self, number: int) -> SimMeterConfig:
        """The settings of the simulated meter at a position (the defaults if not listed)."""
        return self.meters.get(number, SimMeterConfig(position=number))


@attrs.frozen
class ClockConfig:
    speedup: float = 1.0


@attrs.frozen
class RigConfig:
    path: Path
    name: str
    clock: ClockConfig
    buses: dict[str, BusConfig]
    positions: tuple[PositionConfig, ...]  # sorted by number
    instruments: dict[str, InstrumentConfig] = attrs.Factory(dict)
    simulation: SimulationConfig | None = None
    # In the file a running simulated bench writes (it has no simulation: section): the rig
    # file that bench was started from. It lets that file keep the bench's clock speed-up.
    running_simulation: str | None = None

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


# --- errors ----------------------------------------------------------------------------------


@attrs.frozen
class Problem:
    key: str  # dotted path, e.g. positions[3].address; "" for the file as a whole
    line: int | None
    message: str


class RigFileError(Exception):
    """A rig file that cannot be used; str() lists every problem, one per line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(self._format(p) for p in problems))

    def _format(self, problem: Problem) -> str:
        where = str(self.path) if problem.line is None else f"{self.path}:{problem.line}"
        key = f" {problem.key}:" if problem.key else ""
        return f"{where}:{key} {problem.message}"


# --- reading YAML, with the line of every key --------------------------------------------------

_Path = tuple[str | int, ...]  # mapping keys as str, list indexes as int
_BROKEN = object()  # a value whose problem is already reported: check nothing more about it
_ABSENT = object()  # an optional key left out: the schema class's default applies


class _Loader(yaml.SafeLoader):
    """SafeLoader reading zero-padded integers as decimal.

    YAML 1.1 reads 000000000010 as octal 8: a meter address typed unquoted from the nameplate
    would silently become another meter's.
    """

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        if re.fullmatch(r"[-+]?0[0-7]+", text):
            return int(text, 10)
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


class _FromEnv(str):
    """A string expanded from ${...}; `source` is the text as written, kept for dump_rig."""

    source: str


def _dotted(path: _Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class _Report:
    """The problems found so far, and the line of every key of the file."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.lines: dict[_Path, int] = {}

    def line(self, path: _Path) -> int | None:
        # A missing key has no line of its own: use that of the mapping it is missing from.
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)

    def add(self, path: _Path, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(_dotted(path), line or self.line(path), message))


def _mark_line(error: yaml.MarkedYAMLError) -> int | None:
    mark = error.problem_mark or error.context_mark
    return None if mark is None else mark.line + 1


class _Tree:
    """Plain data from the composed node tree: notes lines, duplicate keys, expands ${...}."""

    def __init__(self, loader: _Loader, report: _Report, environ: Mapping[str, str]) -> None:
        self.loader = loader
        self.report = report
        self.environ = environ
        self.active: set[int] = set()  # collections being read, to catch recursive aliases

    def value(self, node: yaml.Node, path: _Path) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            self.report.add(path, "a recursive alias (*name inside &name)",
                            node.start_mark.line + 1)
            return _BROKEN
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            items = []
            for index, item in enumerate(node.value):
                self.report.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.value(item, (*path, index)))
            return items
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: _Path) -> Any:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key, line = self._construct(key_node, path, quiet=True), key_node.start_mark.line + 1
            if key is _BROKEN:
                continue  # reported below, when the key is read
            if key in first:
                # PyYAML would silently keep the last one: a typo-made twin must not go unseen.
                self.report.add((*path, str(key)), f"duplicate key {key!r} (first at line "
                                f"{first[key]}): YAML keeps only one; remove the other", line)
            first.setdefault(key, line)
        try:
            self.loader.flatten_mapping(node)  # merge keys (<<: *anchor)
        except yaml.MarkedYAMLError as error:
            self.report.add(path, f"bad merge key (<<): {error.problem}", _mark_line(error))
            return _BROKEN
        data = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.report.add(path, "a key must be a plain value, not a list or a mapping", line)
                continue
            key = self._construct(key_node, path)
            if key is _BROKEN:
                continue
            self.report.lines[(*path, str(key))] = line
            data[key] = self.value(value_node, (*path, str(key)))
        return data

    def _scalar(self, node: yaml.ScalarNode, path: _Path) -> Any:
        value = self._construct(node, path)
        if not isinstance(value, str):
            return value
        try:
            expanded, referenced = expand(value, self.environ)
        except ExpansionError as error:
            self.report.add(path, str(error), node.start_mark.line + 1)
            return _BROKEN
        if not referenced:
            return expanded
        result = _FromEnv(expanded)
        result.source = value
        return result

    def _construct(self, node: yaml.ScalarNode, path: _Path, *, quiet: bool = False) -> Any:
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as error:  # unknown tag, bad !!timestamp
            # PyYAML leaves a failed node marked as under construction: unmark it, so that
            # reading it again reports the same error rather than a "recursive node".
            self.loader.recursive_objects.pop(node, None)
            if not quiet:
                problem = getattr(error, "problem", None) or error
                self.report.add(path, f"cannot read this value: {problem}",
                                node.start_mark.line + 1)
            return _BROKEN


def _parse(text: str, report: _Report, environ: Mapping[str, str]) -> Any:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            report.add((), "the rig file is empty")
            return _BROKEN
        return _Tree(loader, report, environ).value(root, ())
    except yaml.MarkedYAMLError as error:
        message = f"invalid YAML: {error.problem}"
        if error.context:
            where = error.context_mark
            message += f" ({error.context}" + (f" at line {where.line + 1})" if where else ")")
        report.add((), message, _mark_line(error))
        return _BROKEN
    except yaml.YAMLError as error:  # e.g. a control character in the file
        report.add((), f"invalid YAML: {error}")
        return _BROKEN
    finally:
        loader.dispose()


# --- checking values ---------------------------------------------------------------------------


class _Invalid(Exception):
    """A value is not allowed; the message, if any, says why better than "got VALUE"."""


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


def _suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@attrs.frozen
class _Check:
    """What a key allows (`expected`, for messages) and how its value is read."""

    expected: str
    convert: Callable[[Any], Any]  # the normalised value, or raises _Invalid

    def __call__(self, value: Any) -> Any:
        try:
            return self.convert(value)
        except _Invalid as error:
            reason = str(error) or f"got {_show(value)}"
            raise _Invalid(f"{reason}; expected {self.expected}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(low: int, high: int | None = None) -> _Check:
    def convert(value: Any) -> int:
        if (not isinstance(value, int) or isinstance(value, bool) or value < low
                or (high is not None and value > high)):
            raise _Invalid
        return value

    expected = f"an integer from {low} to {high}" if high is not None else f"an integer ≥ {low}"
    return _Check(expected, convert)


def _number(low: float | None = None, *, above: bool = False) -> _Check:
    def convert(value: Any) -> float:
        if not _is_number(value) or (low is not None and (value <= low if above else value < low)):
            raise _Invalid
        return float(value)

    if low is None:
        return _Check("a number", convert)
    return _Check(f"a number {'>' if above else '≥'} {low:g}", convert)


def _one_of(options: Collection[Any]) -> _Check:
    def convert(value: Any) -> Any:
        for option in options:
            # bool is an int in Python (True == 1), never an allowed option here.
            if value == option and not isinstance(value, bool):
                return option
        raise _Invalid

    return _Check("one of " + ", ".join(map(str, options)), convert)


def _text_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid
    return str(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid
    return value


def _port(value: Any) -> str:
    port = _text_value(value)
    scheme, url, _ = port.partition("://")
    if url and scheme not in SERIAL_URL_SCHEMES:
        raise _Invalid(f"got {port!r}, an unknown URL scheme {scheme!r}")
    return port


def _address(protocol: Any) -> _Check:
    """A meter's address as its protocol reads it; of an unknown protocol, unchecked yet."""
    if protocol not in registry.specs():
        kinds = "; ".join(f"{name}: {spec.address.expected}"
                          for name, spec in registry.specs().items())
        return _Check(f"the meter's address ({kinds})", lambda value: value)
    kind = registry.get(protocol).address

    def convert(value: Any) -> Any:
        try:
            return kind.parse(value)
        except ValueError as error:
            raise _Invalid(str(error)) from None

    return _Check(kind.expected, convert)


def _meter_class(options: tuple[str, ...]) -> _Check:
    def convert(value: Any) -> str:
        text = str(value).upper() if _is_number(value) or isinstance(value, str) else None
        if text not in options:
            raise _Invalid
        return text

    return _Check("one of " + ", ".join(options), convert)


def _hex_secret(digits: int) -> _Check:
    def convert(value: Any) -> Secret:
        # The reason never shows the value: it is (or is meant to be) a secret.
        if not isinstance(value, str):
            raise _Invalid("got something other than text: write the digits in quotes")
        if not re.fullmatch(f"[0-9A-Fa-f]{{{digits}}}", value):
            raise _Invalid(f"got {len(value)} characters, not all hex digits")
        register(value.upper())
        return Secret(value.upper(), source=getattr(value, "source", None))

    return _Check(f"{digits} hex digits, in quotes", convert)


def _collection(kind: type, expected: str, *, empty: bool) -> _Check:
    def convert(value: Any) -> Any:
        if value is None and empty:
            return kind()
        if not isinstance(value, kind) or (not value and not empty):
            raise _Invalid
        return value

    return _Check(expected, convert)


_TEXT = _Check("text", _text_value)
_RESOURCE = _Check("a VISA resource string, e.g. TCPIP::192.0.2.20::5025::SOCKET", _text_value)
_DRIVER = _Check("the name of a command map, e.g. generic-scpi-source", _text_value)
_BUS_NAME = _Check("the name of a bus defined under buses:", _text_value)
_BOOL = _Check("true or false", _boolean)


def _probability(value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise _Invalid
    return float(value)


_PROBABILITY = _Check("a probability from 0 to 1 (e.g. 1e-4)", _probability)
_PORT = _Check("a device path (/dev/ttyUSB0, COM3) or a pyserial URL ("
               + ", ".join(f"{s}://" for s in SERIAL_URL_SCHEMES) + ")", _port)
_MAPPING = _collection(dict, "a mapping", empty=True)
_RUNNING_SIMULATION = _Check("the rig file the running simulated bench was started from",
                             _text_value)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid
    return [_text_value(item) for item in value]


_NAMES = _Check("a list of names", _names)


def _echo(value: Any) -> bool | None:
    if value == ECHO_AUTO:
        return None
    return _boolean(value)


_ECHO = _Check(f"true, false or {ECHO_AUTO}", _echo)


def _given(**values: Any) -> dict[str, Any]:
    """The keyword arguments for a schema class: absent keys leave its defaults."""
    return {name: value for name, value in values.items() if value is not _ABSENT}


class _Section:
    """One mapping of the rig file: unknown keys are reported, known ones read and checked."""

    def __init__(self, report: _Report, path: _Path, data: Any, keys: tuple[str, ...]) -> None:
        self.report = report
        self.path = path
        # Keys missing from a mapping that is not there say nothing new: report none.
        self.broken = not isinstance(data, dict)
        if self.broken and data is not _BROKEN:
            report.add(path, f"got {_show(data)}; expected a mapping with keys {', '.join(keys)}")
        self.data = data if isinstance(data, dict) else {}
        for key in self.data:
            if key not in keys:
                report.add(self.at(key), f"unknown key {str(key)!r}{_suggest(str(key), keys)}; "
                           f"allowed here: {', '.join(keys)}")

    def at(self, key: Any) -> _Path:
        return (*self.path, str(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, check: _Check, *, required: bool = False) -> Any:
        """The checked value; None if wrong or missing (and reported), _ABSENT if left out."""
        if key not in self.data:
            if not required:
                return _ABSENT
            if self.broken:
                return None
            self.report.add(self.at(key), f"missing required key {key!r}: "
                            f"expected {check.expected}")
            return None
        value = self.data[key]
        if value is _BROKEN:
            return None
        try:
            return check(value)
        except _Invalid as error:
            self.report.add(self.at(key), str(error))
            return None

    def section(self, key: str, keys: tuple[str, ...]) -> _Section | None:
        """The nested mapping under key; None if absent or empty (then defaults apply)."""
        if self.data.get(key) is None:
            return None
        return _Section(self.report, self.at(key), self.data[key], keys)


# --- the rig file, section by section ----------------------------------------------------------

_TOP_KEYS = ("name", "clock", "buses", "positions", "instruments", "simulation",
             "running_simulation")
_BUS_KEYS = ("port", "baudrate", "parity", "bytesize", "stopbits", "rs485", "reply_timeout_ms",
             "retries", "timing", "echo")
_RS485_KEYS = ("rts_level_for_tx", "rts_level_for_rx", "delay_before_tx", "delay_before_rx")
_POSITION_KEYS = ("position", "bus", "protocol", "address", "profile", "serial", "accuracy", "un",
                  "ib", "imax", "fn", "constant", "elements", "password", "operator", "via")
_VIA = attrs.evolve(_integer(1), expected="the number of the position it is reached through")
_INSTRUMENT_KEYS = ("resource", "driver", "timeout_ms")
_SIM_METER_KEYS = ("response_delay_ms", "clock_offset_s", "defects", "error_percent")
_SIM_BUS_KEYS = ("echo", "ber", "bursts")


def _rig(report: _Report, path: Path, data: Any, known_defects: Collection[str] | None,
         known_profiles: Mapping[str, Collection[str]] | None,
         profile_files: Mapping[str, Callable[[Path], Any]] | None = None) -> RigConfig | None:
    top = _Section(report, (), data, _TOP_KEYS)
    simulated = top.has("simulation")
    name = top.get("name", _TEXT, required=True)
    running = top.get("running_simulation", _RUNNING_SIMULATION)
    clock = top.section("clock", ("speedup",))
    speedup = clock.get("speedup", _number(1)) if clock else _ABSENT
    _check_speedup(report, speedup, simulated, running)
    buses = _named(report, top, "buses", "bus", required=True,
                   read=lambda at, n, value: _bus(report, at, n, value, simulated))
    instruments = _named(report, top, "instruments", "instrument", required=False,
                         read=lambda at, n, value: _instrument(report, at, n, value, simulated))
    listed = top.get("positions", _collection(list, "a list of at least one position",
                                              empty=False), required=True)
    positions = [_position(report, ("positions", i), item) for i, item in
                 enumerate(listed if isinstance(listed, list) else [])]
    _cross_check(report, positions, buses)
    _check_via(report, positions)
    _profile_files(report, path, positions, profile_files or {})
    if known_profiles is not None:
        _check_profiles(report, positions, known_profiles)
    simulation = None
    if simulated:
        numbers = {p.number for p in positions if p.number is not None}
        simulation = _simulation(report, top.section("simulation", ("meters", "buses")),
                                 numbers, known_defects, buses)
    if report.problems:
        return None
    return RigConfig(
        path=path, name=name, clock=ClockConfig(**_given(speedup=speedup)), buses=buses,
        positions=tuple(sorted(positions, key=lambda p: p.number)),
        instruments=instruments if instruments is not _ABSENT else {}, simulation=simulation,
        **_given(running_simulation=running),
    )


def _check_speedup(report: _Report, speedup: Any, simulated: bool, running: Any) -> None:
    """Only simulated time may run fast: on hardware a 1000× clock would cut a creep test's
    period a thousandfold, and a creeping meter would pass."""
    if simulated and running is not _ABSENT:
        report.add(("running_simulation",), "a file with a simulation: section describes the "
                   "bench to start, not a running one; leave running_simulation out (the "
                   "running bench writes it into the file it announces)")
    if speedup in (_ABSENT, None, 1) or simulated or running not in (_ABSENT, None):
        return
    report.add(("clock", "speedup"), f"got {speedup:g} on a bench without a simulation: section; "
               "real meters run in real time, so a faster clock would shorten every metrology "
               f"period {speedup:g}× (a creeping meter would pass the creep test): remove it or "
               "set 1 (only the simulated bench's file, or the file a running simulated bench "
               "writes, may set more)")


def _named(report: _Report, top: _Section, key: str, what: str, *, required: bool,
           read: Callable[[_Path, str, Any], Any]) -> Any:
    """A mapping of named entries (buses, instruments): name -> read(path, name, value)."""
    check = _collection(dict, f"a mapping of {what} names to {key}"
                        + (f", at least one {what}" if required else ""), empty=not required)
    entries = top.get(key, check, required=required)
    if not isinstance(entries, dict):
        return entries
    result = {}
    for name, value in entries.items():
        at = (key, str(name))
        if not isinstance(name, str) or not NAME.fullmatch(name):
            report.add(at, f"{what} name {name!r} is not allowed: use letters, digits, _ . -"
                       + (" (write it in quotes)" if not isinstance(name, str) else ""))
            continue
        result[name] = read(at, name, value)
    return result


def _bus(report: _Report, at: _Path, name: str, data: Any, simulated: bool) -> BusConfig:
    bus = _Section(report, at, data, _BUS_KEYS)
    if not simulated and not bus.has("port"):
        report.add((*at, "port"), f"missing required key 'port': expected {_PORT.expected}; "
                   "only a rig file with a simulation: section may leave it out")
    rs485 = bus.section("rs485", _RS485_KEYS)
    return BusConfig(name=name, **_given(
        port=bus.get("port", _PORT),
        baudrate=bus.get("baudrate", _one_of(BAUDRATES)),
        parity=bus.get("parity", _one_of(PARITIES)),
        bytesize=bus.get("bytesize", _one_of(BYTESIZES)),
        stopbits=bus.get("stopbits", _one_of(STOPBITS)),
        rs485=_rs485(rs485) if rs485 else _ABSENT,
        reply_timeout_ms=bus.get("reply_timeout_ms", _integer(1)),
        retries=bus.get("retries", _integer(0)),
        timing=_timing(report, bus),
        echo=bus.get("echo", _ECHO),
    ))


def _timing(report: _Report, bus: _Section) -> Any:
    """buses.NAME.timing: `unpaced`, or {resolution_ms: X}."""
    value = bus.data.get("timing", _ABSENT)
    if value is _ABSENT or value is _BROKEN:
        return _ABSENT
    if isinstance(value, dict):
        declared = _Section(report, bus.at("timing"), value, ("resolution_ms",))
        return TimingConfig(declared.get("resolution_ms", _number(0, above=True), required=True))
    if value == UNPACED:
        return TimingConfig(None)
    report.add(bus.at("timing"), f"got {_show(value)}; expected {UNPACED!r} or a mapping "
               "{resolution_ms: a number > 0}")
    return None


def _rs485(section: _Section) -> Rs485Config:
    return Rs485Config(**_given(
        rts_level_for_tx=section.get("rts_level_for_tx", _BOOL),
        rts_level_for_rx=section.get("rts_level_for_rx", _BOOL),
        delay_before_tx=section.get("delay_before_tx", _number(0)),
        delay_before_rx=section.get("delay_before_rx", _number(0)),
    ))


def _position(report: _Report, at: _Path, data: Any) -> PositionConfig:
    position = _Section(report, at, data, _POSITION_KEYS)
    protocol = position.get("protocol", _one_of(registry.names()), required=True)
    password = position.section("password", ("level", "value"))
    via = position.get("via", _VIA)
    # A meter reached through another device is on that device's bus (_check_via).
    bus = position.get("bus", _BUS_NAME, required=via is _ABSENT)
    config = PositionConfig(**_given(
        number=position.get("position", _integer(1), required=True),
        bus=None if bus is _ABSENT else bus,
        protocol=protocol,
        address=position.get("address", _address(protocol), required=True),
        profile=position.get("profile", _TEXT),
        serial=position.get("serial", _TEXT),
        accuracy=_accuracy(position.section("accuracy", ("standard", "class"))),
        un=position.get("un", _number(0, above=True)),
        ib=position.get("ib", _number(0, above=True)),
        imax=position.get("imax", _number(0, above=True)),
        fn=position.get("fn", _one_of(FREQUENCIES)),
        constant=position.get("constant", _integer(1)),
        elements=position.get("elements", _one_of(ELEMENTS)),
        password=PasswordConfig(
            level=password.get("level", _integer(0, 9), required=True),
            value=password.get("value", _hex_secret(6), required=True),
        ) if password else _ABSENT,
        operator=position.get("operator", _hex_secret(8)),
        via=via,
    ))
    if config.ib is not None and config.imax is not None and config.imax <= config.ib:
        report.add(position.at("imax" if position.has("imax") else "ib"),
                   f"imax ({config.imax:g} A) must be greater than ib ({config.ib:g} A)")
    return config


def _accuracy(section: _Section | None) -> Any:
    if section is None:
        return _ABSENT
    standard = section.get("standard", _one_of(METER_CLASSES))
    if standard is _ABSENT:
        standard = attrs.fields(AccuracyConfig).standard.default
    # With the standard itself wrong, the class can only be checked against every standard's.
    classes = METER_CLASSES.get(standard) or tuple(c for cs in METER_CLASSES.values() for c in cs)
    return AccuracyConfig(**_given(
        standard=standard, meter_class=section.get("class", _meter_class(classes), required=True),
    ))


def _instrument(report: _Report, at: _Path, name: str, data: Any,
                simulated: bool) -> InstrumentConfig:
    instrument = _Section(report, at, data, _INSTRUMENT_KEYS)
    resource = instrument.get("resource", _RESOURCE, required=not simulated)
    return InstrumentConfig(
        name=name,
        resource=None if resource is _ABSENT else resource,
        driver=instrument.get("driver", _DRIVER, required=True),
        **_given(timeout_ms=instrument.get("timeout_ms", _integer(1))),
    )


def _cross_check(report: _Report, positions: list[PositionConfig], buses: Any) -> None:
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
            report.add((*at, "bus"), f"no bus {position.bus!r}{_suggest(position.bus, buses)}; "
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


def _check_via(report: _Report, positions: list[PositionConfig]) -> None:
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
            positions[index] = attrs.evolve(position, bus=carrier.bus)
        elif position.bus != carrier.bus:
            report.add(("positions", index, "bus"), f"bus {position.bus}, but {where}, which "
                       f"this meter is reached through, is on bus {carrier.bus}")


def _check_profiles(report: _Report, positions: list[PositionConfig],
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
                   f"{position.profile!r}{_suggest(position.profile, known)}; known: "
                   + ", ".join(sorted(known)))


def _is_profile_file(profile: str | None) -> bool:
    return isinstance(profile, str) and looks_like_path(profile)


def _profile_files(report: _Report, path: Path, positions: list[PositionConfig],
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
        positions[index] = attrs.evolve(position, profile=str(resolved))
        load = loaders.get(position.protocol)
        if load is None:
            continue
        try:
            load(resolved)
        except ValueError as error:
            report.add(at, f"profile file {resolved} is not valid:\n  "
                       + str(error).replace("\n", "\n  "))


def _simulation(report: _Report, section: _Section | None, numbers: set[int],
                known_defects: Collection[str] | None, buses: Any) -> SimulationConfig:
    meters = section.get("meters", _MAPPING) if section else _ABSENT
    result = {}
    for number, data in (meters if isinstance(meters, dict) else {}).items():
        at = ("simulation", "meters", str(number))
        if not isinstance(number, int) or isinstance(number, bool) or number not in numbers:
            report.add(at, f"no position {number!r} in positions; positions defined: "
                       + (", ".join(map(str, sorted(numbers))) or "none"))
            continue
        meter = _Section(report, at, data, _SIM_METER_KEYS)
        defects = meter.get("defects", _NAMES)
        for index, defect in enumerate(defects if isinstance(defects, list) else []):
            if known_defects is not None and defect not in known_defects:
                report.add((*at, "defects", index), f"unknown defect {defect!r}"
                           f"{_suggest(defect, known_defects)}; known defects: "
                           + ", ".join(sorted(known_defects)))
        result[number] = SimMeterConfig(position=number, **_given(
            response_delay_ms=meter.get("response_delay_ms", _number(0)),
            clock_offset_s=meter.get("clock_offset_s", _number()),
            defects=tuple(defects) if isinstance(defects, list) else defects,
            error_percent=meter.get("error_percent", _number()),
        ))
    return SimulationConfig(meters=result, buses=_sim_buses(report, section, buses))


def _sim_buses(report: _Report, section: _Section | None, buses: Any) -> dict[str, SimBusConfig]:
    listed = section.get("buses", _MAPPING) if section else _ABSENT
    names = buses if isinstance(buses, dict) else {}
    result = {}
    for name, data in (listed if isinstance(listed, dict) else {}).items():
        at = ("simulation", "buses", str(name))
        if name not in names:
            report.add(at, f"no bus {name!r}{_suggest(str(name), names)}; buses defined: "
                       + (", ".join(names) or "none"))
            continue
        bus = _Section(report, at, data, _SIM_BUS_KEYS)
        result[name] = SimBusConfig(name=name, **_given(
            echo=bus.get("echo", _BOOL), ber=bus.get("ber", _PROBABILITY),
            bursts=bus.get("bursts", _PROBABILITY)))
    return result


# --- the API -----------------------------------------------------------------------------------


def load_rig(path: str | Path, *, environ: Mapping[str, str] | None = None,
             known_defects: Collection[str] | None = None,
             known_profiles: Mapping[str, Collection[str]] | None = None,
             profile_files: Mapping[str, Callable[[Path], Any]] | None = None) -> RigConfig:
    """Read and check a rig file; RigFileError lists every problem found in it.

    `known_defects` and `known_profiles` (per protocol) are checked when given; a profile
    given as a file is read by `profile_files[protocol]` (ValueError: it is not valid)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (looked for {path.absolute()})"
        raise RigFileError(path, [Problem("", None, f"no such rig file{where}")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RigFileError(path, [Problem("", None, f"cannot read the rig file: {error}")]) \
            from None
    report = _Report()
    data = _parse(text, report, os.environ if environ is None else environ)
    config = None if data is _BROKEN else _rig(report, path, data, known_defects,
                                               known_profiles, profile_files)
    if config is None:
        problems = sorted(report.problems, key=lambda p: (p.line is not None, p.line or 0))
        raise RigFileError(path, problems)
    return config


def dump_rig(config: RigConfig) -> str:
    """YAML that load_rig reads back to an equal RigConfig; ${VAR} references are kept."""
    data: dict[str, Any] = {
        "name": _literal(config.name),
        "clock": {"speedup": config.clock.speedup},
        "buses": {name: _dump_bus(bus) for name, bus in config.buses.items()},
        "positions": [_dump_position(p) for p in config.positions],
    }
    if config.instruments:
        data["instruments"] = {name: _drop_none({
            "resource": _literal(i.resource), "driver": _literal(i.driver),
            "timeout_ms": i.timeout_ms,
        }) for name, i in config.instruments.items()}
    if config.running_simulation is not None:
        data["running_simulation"] = _literal(config.running_simulation)
    if config.simulation is not None:
        data["simulation"] = {"meters": {n: {
            "response_delay_ms": m.response_delay_ms, "clock_offset_s": m.clock_offset_s,
            "defects": [_literal(d) for d in m.defects], "error_percent": m.error_percent,
        } for n, m in config.simulation.meters.items()},
            "buses": {name: {"echo": b.echo, "ber": b.ber, "bursts": b.bursts}
                      for name, b in config.simulation.buses.items()}}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _literal(text: str | None) -> str | None:
    """text as written in a rig file: $ doubled, since load_rig expands ${...} in every string."""
    return None if text is None else text.replace("$", "$$")


def _dump_secret(secret: Secret) -> str:
    return secret.source if secret.source is not None else _literal(secret.reveal())


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _dump_bus(bus: BusConfig) -> dict[str, Any]:
    return _drop_none({
        "port": _literal(bus.port), "baudrate": bus.baudrate, "parity": bus.parity,
        "bytesize": bus.bytesize, "stopbits": bus.stopbits,
        "rs485": attrs.asdict(bus.rs485) if bus.rs485 else None,
        "reply_timeout_ms": bus.reply_timeout_ms, "retries": bus.retries,
        "timing": None if bus.timing is None else UNPACED if bus.timing.resolution_ms is None
        else {"resolution_ms": bus.timing.resolution_ms},
        "echo": ECHO_AUTO if bus.echo is None else bus.echo,
    })


def _dump_position(p: PositionConfig) -> dict[str, Any]:
    return _drop_none({
        "position": p.number, "bus": p.bus, "protocol": p.protocol,
        "address": _literal(p.address) if isinstance(p.address, str) else p.address,
        "profile": _literal(p.profile), "serial": _literal(p.serial),
        "accuracy": {"standard": p.accuracy.standard, "class": p.accuracy.meter_class},
        "un": p.un, "ib": p.ib, "imax": p.imax, "fn": p.fn, "constant": p.constant,
        "elements": p.elements,
        "password": {"level": p.password.level, "value": _dump_secret(p.password.value)}
        if p.password else None,
        "operator": _dump_secret(p.operator), "via": p.via,
    })
