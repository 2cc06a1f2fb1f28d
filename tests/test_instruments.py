"""Bench instrument drivers through real PyVISA, against the simulated instruments on loopback.

The physics here is a fake whose energy the test sets, with meters whose pulses come exactly
where a meter of known error would emit them, so every expected value is known in advance.
"""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from pathlib import Path

import attrs
import pytest
import yaml
from pyvisa import constants

from meterrig.instruments import (
    CommandMapError,
    InstrumentError,
    ReferenceReading,
    RunStatus,
    load_map,
    open_instrument,
)
from meterrig.instruments.command_map import Query, shipped_maps
from meterrig.instruments.visa import resource_manager
from meterrig.sim.instruments import REFERENCE_CLASS, REFERENCE_CONSTANT, SimulatedInstruments

METER_CONSTANT = 1200  # imp/kWh
METER_ERRORS = {1: 2.0, 2: 0.0}  # % registered above the true energy, per position
DRIVERS = {"source": "sim-source", "reference": "sim-reference",
           "calculator": "sim-error-calculator"}


@attrs.define
class FakeSource:
    voltage: float = 220.0
    current: float = 0.0
    phase_deg: float = 0.0
    frequency: float = 50.0
    output_on: bool = False

    @property
    def power_factor(self) -> float:
        return math.cos(math.radians(self.phase_deg))

    @property
    def active_power_w(self) -> float:
        return self.voltage * self.current * self.power_factor if self.output_on else 0.0


class FakePhysics:
    """The physics API the simulated instruments use; the test moves `energy_kwh` itself."""

    positions = tuple(METER_ERRORS)

    def __init__(self) -> None:
        self.source = FakeSource()
        self.changes: list[dict] = []
        self.is_settled = False
        self.energy_kwh = 10.0001  # true energy since the bench started; off any pulse instant

    @property
    def load(self) -> FakeSource:
        """The source as the current loop carries it (no relay opens here)."""
        return self.source

    def set_source(self, **changes: float | bool) -> None:
        self.changes.append(changes)
        self.source = attrs.evolve(self.source, **changes)

    def settled(self) -> bool:
        return self.is_settled

    def reference_energy_kwh(self) -> float:
        return self.energy_kwh

    def _pulses_per_kwh(self, position: int) -> float:
        # A meter registering e % too much emits its n-th pulse at energy n / C / (1 + e/100).
        return METER_CONSTANT * (1 + METER_ERRORS[position] / 100)

    def pulses(self, position: int) -> int:
        return math.floor(self.energy_kwh * self._pulses_per_kwh(position))

    def reference_energy_at_pulse(self, position: int, n: int) -> float | None:
        return n / self._pulses_per_kwh(position) if n <= self.pulses(position) else None

    def advance_to_pulse(self, position: int, n: int) -> None:
        """Deliver energy until just after that meter's n-th pulse."""
        self.energy_kwh = (n + 0.5) / self._pulses_per_kwh(position)


@pytest.fixture
def physics() -> FakePhysics:
    return FakePhysics()


@pytest.fixture
def sim(physics):
    instruments = SimulatedInstruments(physics, DRIVERS)
    resources = instruments.start()
    yield resources
    instruments.stop()


@pytest.fixture
def bench(sim):
    opened = {name: open_instrument(name, sim[name], driver, timeout_ms=1000)
              for name, driver in DRIVERS.items()}
    yield opened
    for instrument in opened.values():
        instrument.close()


@pytest.fixture
def source(bench):
    return bench["source"]


@pytest.fixture
def reference(bench):
    return bench["reference"]


@pytest.fixture
def calculator(bench):
    return bench["calculator"]


def test_resources_are_loopback_visa_sockets(sim):
    assert all(resource.startswith("TCPIP::127.0.0.1::") and resource.endswith("::SOCKET")
               for resource in sim.values())
    assert len(set(sim.values())) == len(DRIVERS)  # one port per instrument


def test_commands_are_sent_at_once_not_held_by_nagle(source):
    # Read back from the socket itself: pyvisa-py reports the real TCP_NODELAY option.
    assert source.io._session.get_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY) == \
        constants.VI_TRUE


def test_apply_sets_the_physics_and_turns_the_output_on_last(source, physics):
    source.apply(voltage=230.0, current=5.0, phase_deg=60.0, frequency=50.0)
    assert physics.source == FakeSource(230.0, 5.0, 60.0, 50.0, output_on=True)
    assert physics.changes[-1] == {"output_on": True}
    source.off()
    assert physics.source.output_on is False


def test_settled_follows_the_physics_and_wait_settled_times_out(source, physics):
    assert source.settled() is False
    with pytest.raises(InstrumentError, match=r"source \(.*\) at TCPIP::.*not settled after"):
        source.wait_settled(0.2)
    threading.Timer(0.1, lambda: setattr(physics, "is_settled", True)).start()
    source.wait_settled(5.0)
    assert source.settled() is True


def test_source_reads_back_what_it_drives(source):
    source.apply(voltage=230.0, current=5.0, phase_deg=60.0, frequency=50.0)
    assert attrs.astuple(source.measure()) == pytest.approx((230.0, 5.0, 575.0, 0.5, 50.0))


def test_reference_measures_true_values_and_nothing_when_the_output_is_off(source, reference):
    source.apply(voltage=230.0, current=10.0, phase_deg=0.0, frequency=50.0)
    assert reference.measure() == ReferenceReading(230.0, 10.0, 2300.0, 1.0, 50.0)
    source.off()
    assert reference.measure() == ReferenceReading(0.0, 0.0, 0.0, 1.0, 50.0)


def test_reference_energy_counts_from_its_reset(reference, physics):
    assert reference.constant() == REFERENCE_CONSTANT
    assert reference.accuracy_class() == REFERENCE_CLASS
    assert reference.energy_kwh() == 0.0  # nothing integrated since it was switched on
    physics.energy_kwh += 0.25
    assert reference.energy_kwh() == pytest.approx(0.25)
    reference.reset_energy()
    assert reference.energy_kwh() == 0.0
    physics.energy_kwh += 0.125
    assert reference.energy_kwh() == pytest.approx(0.125)


def test_error_calculator_measures_a_known_meter_error(calculator, physics):
    m = 20
    for channel in physics.positions:
        calculator.configure(channel, METER_CONSTANT, m, REFERENCE_CONSTANT)
        assert calculator.status(channel) == RunStatus("idle", 0)
        calculator.start(channel)
    n0 = physics.pulses(1)
    assert calculator.status(1) == RunStatus("running", 0)

    physics.advance_to_pulse(1, n0 + 1 + 10)  # gate open at n0+1, ten pulses since
    assert calculator.status(1) == RunStatus("running", 10)
    with pytest.raises(InstrumentError, match="calculator .* channel 1: no result: the run is "
                                              "running"):
        calculator.result(1)

    physics.advance_to_pulse(1, n0 + 1 + m + 5)  # beyond the closing pulse, for both meters
    assert calculator.status(1) == RunStatus("done", m)
    assert calculator.status(2) == RunStatus("done", m)
    for channel, error in METER_ERRORS.items():
        # The reference counts whole pulses: its resolution is one count in N_ref.
        n_ref = m * REFERENCE_CONSTANT / METER_CONSTANT / (1 + error / 100)
        assert calculator.result(channel) == pytest.approx(error, abs=100 / n_ref)


def test_pulse_counting_counts_from_start(calculator, physics):
    calculator.start_counting(1)
    assert calculator.pulse_count(1) == 0
    before = physics.pulses(1)
    physics.energy_kwh += 0.01  # about 12 pulses at 1200 imp/kWh
    assert calculator.pulse_count(1) == physics.pulses(1) - before > 0


def test_bad_commands_go_to_the_error_queue_and_the_server_carries_on(sim):
    session = resource_manager().open_resource(sim["calculator"], read_termination="\n",
                                               write_termination="\n", timeout=1000)
    try:
        session.write("FOO:BAR 1")
        assert session.query("SYST:ERR?") == '-113,"Undefined header"'
        session.write("ERR:CONF 9,1200,20,1e6")  # no position 9
        assert session.query("SYST:ERR?").startswith("-222,")
        session.write("ERR:CONF 1,abc,20,1e6")
        assert session.query("SYST:ERR?") == '-104,"Data type error"'
        assert session.query("*IDN?") == "meterrig,sim-error-calculator,calculator,sim-1"
        assert session.query("SYST:ERR?") == '0,"No error"'
        for _ in range(20):
            session.write("FOO")
        errors = [session.query("SYST:ERR?") for _ in range(17)]
        assert errors[:15] == ['-113,"Undefined header"'] * 15
        assert errors[15:] == ['-350,"Queue overflow"', '0,"No error"']
    finally:
        session.close()


def _lab_map(tmp_path: Path, base: str, **changes: object) -> Path:
    """A copy of a shipped map with some top-level keys changed, as a lab would write one."""
    data = yaml.safe_load(load_map(base).path.read_text())
    data.update(changes)
    path = tmp_path / "lab-map.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_refused_command_names_instrument_resource_and_command(sim, tmp_path):
    commands = {**load_map("sim-source").commands, "voltage": "SOUR:VOLTAGE {voltage:.1f}"}
    source = open_instrument("source", sim["source"], str(_lab_map(tmp_path, "sim-source",
                                                                    commands=commands)), 1000)
    try:
        with pytest.raises(InstrumentError) as refused:
            source.apply(voltage=230.0, current=5.0, phase_deg=0.0, frequency=50.0)
    finally:
        source.close()
    assert str(refused.value) == (
        f"source (meterrig simulated AC source) at {sim['source']}: voltage "
        "'SOUR:VOLTAGE 230.0': the instrument reports -113,\"Undefined header\"")


def test_an_unanswered_query_names_instrument_resource_and_query(sim, tmp_path):
    queries = {**yaml.safe_load(load_map("sim-source").path.read_text())["queries"],
               "settled": {"template": "STAT:SETTLED?", "parse": "bool"}}
    source = open_instrument("source", sim["source"], str(_lab_map(tmp_path, "sim-source",
                                                                    queries=queries)), 200)
    unanswered = (r"^source \(meterrig simulated AC source\) at TCPIP::127\.0\.0\.1::\d+::SOCKET: "
                  r"settled 'STAT:SETTLED\?': .*[Tt]imeout.*; "
                  r'the instrument reports -113,"Undefined header"$')
    try:
        with pytest.raises(InstrumentError, match=unanswered):
            source.settled()
    finally:
        source.close()


@pytest.mark.parametrize(("changes", "keys"), [
    ({"colour": "blue"}, ["colour: unknown key"]),
    ({"kind": "sink"}, ["kind: got 'sink'; expected one of source, reference"]),
    ({"model": ""}, ["model: got ''; expected the instrument model"]),
    ({"termination": 5}, ["termination: got 5; expected a non-empty string"]),
    ({"commands": {"voltage": "SOUR:VOLT {voltage}"}},
     ["commands.current: missing", "commands.output_off: missing"]),
    ({"commands": {**load_map("sim-source").commands, "volts": "V {voltage}"}},
     ["commands.volts: unknown name"]),
    ({"commands": {**load_map("sim-source").commands, "voltage": "SOUR:VOLT {volts}"}},
     ["commands.voltage: unknown field 'volts'"]),
    ({"commands": {**load_map("sim-source").commands, "voltage": "SOUR:VOLT {voltage:.3q}"}},
     ["commands.voltage: cannot be formatted"]),
    ({"queries": {"settled": {"template": "STAT:SETT?", "parse": "float"}}},
     ["queries.settled.parse: 'float': the driver reads this reply as bool"]),
    ({"queries": {"settled": {"template": "STAT:SETT?", "parse": "bool"},
                  "state": {"template": "S? {channel}", "parse": "str"}}},
     ["queries.state: unknown name"]),
])
def test_a_bad_map_names_the_file_and_every_bad_key(tmp_path, changes, keys):
    path = _lab_map(tmp_path, "sim-source", **changes)
    with pytest.raises(CommandMapError) as bad:
        load_map(path)
    for key in keys:  # FILE:LINE: KEY: what
        assert re.search(rf"^{re.escape(str(path))}:\d+: {re.escape(key)}", str(bad.value),
                         re.MULTILINE), str(bad.value)


def test_an_unknown_map_name_lists_the_shipped_maps():
    with pytest.raises(CommandMapError, match="no command map named 'acme-9000'; shipped maps: "
                                              "generic-scpi-attenuator, .*generic-scpi-source, "
                                              ".*sim-button, .*sim-error-calculator"):
        load_map("acme-9000")


@pytest.mark.parametrize("name", shipped_maps())
def test_shipped_maps_load(name):
    assert load_map(name).name == name


@pytest.mark.parametrize(("parse", "reply", "value"), [
    ("bool", "1", True), ("bool", "OFF", False), ("int", "+1.20000E+01", 12),
    ("floats", "1.5;2,3", (1.5, 2.0, 3.0)), ("str", " running ", "running"),
])
def test_replies_are_parsed_as_instruments_send_them(parse, reply, value):
    assert Query(template="Q?", parse=parse).parse_reply(reply) == value


def test_a_count_that_is_not_whole_is_refused():
    with pytest.raises(ValueError, match="not a whole number"):
        Query(template="Q?", parse="int").parse_reply("12.5")


class RecordingInstrument:
    """A stand-in for a real source on the LAN: records every line, answers queries it knows."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.lines: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.resource = f"TCPIP::127.0.0.1::{self._listener.getsockname()[1]}::SOCKET"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection, connection.makefile("rb") as lines:
            for raw in lines:
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if line in self.replies:
                    connection.sendall(self.replies[line].encode() + b"\n")

    def join(self) -> None:
        self._thread.join(timeout=5)
        self._listener.close()


def test_generic_scpi_source_speaks_as_a_real_source_expects():
    measure = "MEAS:VOLT?;:MEAS:CURR?;:MEAS:POW?;:MEAS:PFAC?;:MEAS:FREQ?"
    instrument = RecordingInstrument({
        "SYST:ERR?": '+0,"No error"', "*OPC?": "1",
        measure: "+2.30000E+02;+5.00000E+00;+5.75000E+02;+5.00000E-01;+5.00000E+01",
    })
    source = open_instrument("source", instrument.resource, "generic-scpi-source", 1000)
    source.apply(voltage=230.0, current=5.0, phase_deg=60.0, frequency=50.0)
    source.wait_settled(1.0)
    reading = source.measure()
    source.off()
    source.close()
    instrument.join()
    checked = [line for command in ("VOLT 230.000", "CURR 5.0000", "PHAS 60.00", "FREQ 50.000",
                                    "OUTP ON") for line in (command, "SYST:ERR?")]
    assert instrument.lines == ["SYST:ERR?", *checked, "*OPC?", measure, "OUTP OFF", "SYST:ERR?"]
    assert reading == ReferenceReading(230.0, 5.0, 575.0, 0.5, 50.0)


def test_servers_stop_cleanly_with_a_client_connected(physics):
    instruments = SimulatedInstruments(physics, {"reference": "sim-reference"})
    resource = instruments.start()["reference"]
    session = resource_manager().open_resource(resource, read_termination="\n",
                                               write_termination="\n", timeout=500)
    assert session.query("*IDN?").startswith("meterrig,sim-reference,reference")
    started = time.monotonic()
    instruments.stop()
    assert time.monotonic() - started < 2
    port = int(resource.split("::")[2])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    session.close()


def test_the_simulated_bench_refuses_an_instrument_it_does_not_simulate(physics):
    with pytest.raises(ValueError, match="instrument source: the simulated bench has no "
                                         "'generic-scpi-source'"):
        SimulatedInstruments(physics, {"source": "generic-scpi-source"})
