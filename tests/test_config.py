"""The rig file: loading, defaults and normalisation, error reports, secrets, dump_rig."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterrig.config import (
    AccuracyConfig,
    ClockConfig,
    PasswordConfig,
    PositionConfig,
    RigConfig,
    RigFileError,
    Rs485Config,
    SimBusConfig,
    SimMeterConfig,
    TimingConfig,
    dump_rig,
    load_rig,
)
from meterrig.protocols.dlt645.profile import profile, profile_file, profiles
from meterrig.protocols.modbus.registers import map_file, map_names, register_map
from meterrig.secrets import Secret, mask
from meterrig.sim.bench import SimulatedBench

RIGS = Path(__file__).parent.parent / "rigs"
MAPS = Path(__file__).parent.parent / "meterrig" / "protocols" / "modbus" / "maps"
ENV = {"METER_PW": "5A7C3E", "METER_OPERATOR": "1A2B3C4D"}

BASE = """\
name: test bench
buses:
  rs485-1:
    port: /dev/ttyUSB0
    parity: E
  rs485-2:
    port: rfc2217://192.0.2.10:7002
positions:
  - position: 1
    bus: rs485-1
    protocol: dlt645-2007
    address: "000000000001"
    imax: 60
  - position: 2
    bus: rs485-1
    protocol: dlt645-2007
    address: "000000000002"
    password: {level: 2, value: "${METER_PW}"}
instruments:
  source:
    resource: "TCPIP::192.0.2.20::5025::SOCKET"
    driver: generic-scpi-source
"""

SIMULATION = """\
simulation:
  meters:
    1: {response_delay_ms: 10, defects: [wrong-checksum, wrong-checksun]}
    7: {response_delay_ms: 10}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    return path


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the base file"
    return text.replace(old, new)


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the only line of text containing marker."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"{marker!r} must occur on exactly one line"
    return lines[0]


def problems(tmp_path: Path, text: str, **kwargs) -> RigFileError:
    kwargs.setdefault("environ", ENV)
    with pytest.raises(RigFileError) as caught:
        load_rig(write(tmp_path, text), **kwargs)
    return caught.value


# --- valid files ------------------------------------------------------------------------------


def test_sim_rig_loads_with_defaults_and_env_defaults():
    rig = load_rig(RIGS / "sim.yaml", environ={})
    assert rig.name == "simulated bench"
    assert rig.clock == ClockConfig(speedup=5000.0)
    assert [p.number for p in rig.positions] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert {name: bus.port for name, bus in rig.buses.items()} == {
        "rs485-1": None, "rs485-2": None, "rs485-3": None, "carrier": None, "modbus-1": None}
    assert {rig.bus_protocol(name) for name in rig.buses} == {"dlt645-2007", "gdw1376-2",
                                                              "modbus-rtu"}
    assert rig.position(8).via == 7
    modbus = rig.position(5)
    assert (modbus.address, modbus.profile, modbus.protocol) == (1, "sdm120", "modbus-rtu")
    assert rig.buses["rs485-2"].bytesize == 8 and rig.buses["rs485-2"].retries == 1
    third = rig.position(3)
    assert (third.address, third.serial, third.ib, third.constant) == (
        "202608310003", "202608310003", 10.0, 1600)
    assert third.accuracy == AccuracyConfig(standard="iec62053-21", meter_class="2")
    assert third.password.value.reveal() == "123456"  # ${METER_PW:-123456}, unset
    assert third.operator.reveal() == "00000000"
    assert [p.number for p in rig.positions_on("rs485-1")] == [1, 2]
    assert [p.number for p in rig.positions_on("rs485-3")] == [3]
    assert rig.simulation.meter(2) == SimMeterConfig(position=2, response_delay_ms=60.0,
                                                     clock_offset_s=-95.0,
                                                     firmware="SIM-1PH 2.4.1")
    assert rig.simulation.meter(9) == SimMeterConfig(position=9)


def test_sim_rig_takes_passwords_from_the_environment():
    rig = load_rig(RIGS / "sim.yaml", environ=ENV)
    assert rig.position(1).password.value.reveal() == "5A7C3E"
    assert rig.position(4).operator.reveal() == "1A2B3C4D"


def test_example_bench_loads():
    rig = load_rig(RIGS / "example-bench.yaml", environ=ENV)
    assert rig.simulation is None
    assert rig.buses["rs485-1"].port == "/dev/ttyUSB0"
    assert rig.buses["rs485-2"].port == "rfc2217://192.0.2.10:7002"
    assert rig.buses["rs485-1"].rs485 == Rs485Config()
    assert len(rig.positions) == 4
    assert {p.protocol for p in rig.positions} >= {"dlt645-2007", "modbus-rtu"}
    assert all(p.password.value.source == "${METER_PW}" for p in rig.positions if p.password)
    assert rig.instruments["source"].resource == "TCPIP::192.0.2.20::5025::SOCKET"


FULL = """\
name: full bench
clock: {speedup: 1}
buses:
  a:
    port: socket://192.0.2.30:4001
    baudrate: 9600
    parity: N
    bytesize: 7
    stopbits: 2
    rs485: {delay_before_tx: 0.002}
    reply_timeout_ms: 500
    retries: 0
  b: {port: /dev/ttyUSB0}
positions:
  - position: 7
    bus: a
    protocol: modbus-rtu
    address: "17"
    accuracy: {standard: en50470-3, class: b}
  - position: 2
    bus: b
    protocol: dlt645-2007
    address: 000000000010
    accuracy: {class: 2}
    un: 230
    fn: 60
    password: {level: 4, value: "abcdef"}
    operator: "0000000A"
instruments:
  src: {resource: "GPIB0::5::INSTR", driver: generic-scpi-source}
"""


def test_full_file_defaults_and_normalisation(tmp_path):
    rig = load_rig(write(tmp_path, FULL), environ={})
    bus = rig.buses["a"]
    assert (bus.baudrate, bus.parity, bus.bytesize, bus.stopbits) == (9600, "N", 7, 2)
    assert bus.rs485 == Rs485Config(delay_before_tx=0.002)
    assert (bus.reply_timeout_ms, bus.retries) == (500, 0)
    assert [p.number for p in rig.positions] == [2, 7]  # sorted by number
    modbus, dlt = rig.position(7), rig.position(2)
    assert modbus.address == 17 and modbus.serial == "17"
    assert modbus.accuracy == AccuracyConfig(standard="en50470-3", meter_class="B")
    assert (modbus.profile, modbus.un, modbus.ib, modbus.imax, modbus.fn, modbus.constant) == (
        "sdm120", 220.0, 5.0, 60.0, 50, 1200)
    assert dlt.profile == "single-phase"  # each protocol has its own default
    assert modbus.password is None and modbus.operator == Secret("00000000")
    # Unquoted, zero-padded: decimal 10, not YAML 1.1's octal 8.
    assert dlt.address == "000000000010"
    assert dlt.accuracy == AccuracyConfig(standard="iec62053-21", meter_class="2")
    assert (dlt.un, dlt.fn) == (230.0, 60)
    assert dlt.password == PasswordConfig(level=4, value=Secret("ABCDEF"))
    assert dlt.operator.reveal() == "0000000A"
    assert rig.instruments["src"].timeout_ms == 2000


def test_elements_are_read_and_default_to_one(tmp_path):
    rig = load_rig(write(tmp_path, edit("    imax: 60", "    imax: 60\n    elements: 3")),
                   environ=ENV)
    assert (rig.position(1).elements, rig.position(2).elements) == (3, 1)


def test_speedup_on_hardware_says_why_it_is_refused(tmp_path):
    text = edit("buses:", "clock: {speedup: 1000}\nbuses:")
    (problem,) = problems(tmp_path, text).problems
    assert problem.line == line_of(text, "speedup")
    assert "shorten every metrology period 1000×" in problem.message
    assert "a creeping meter would pass" in problem.message


def test_speedup_of_one_is_accepted_on_hardware(tmp_path):
    rig = load_rig(write(tmp_path, edit("buses:", "clock: {speedup: 1}\nbuses:")), environ=ENV)
    assert rig.clock == ClockConfig(speedup=1.0)
    assert rig.running_simulation is None


def test_the_running_bench_file_keeps_its_speedup(tmp_path):
    text = edit("buses:", "clock: {speedup: 1000}\nrunning_simulation: /x/rigs/sim.yaml\nbuses:")
    rig = load_rig(write(tmp_path, text), environ=ENV)
    assert rig.clock == ClockConfig(speedup=1000.0)
    assert rig.running_simulation == "/x/rigs/sim.yaml"
    assert rig.simulation is None


def test_a_simulated_bench_file_cannot_claim_to_be_running(tmp_path):
    text = BASE.replace("buses:", "running_simulation: sim.yaml\nbuses:") + "simulation:\n"
    error = problems(tmp_path, text)
    assert [(p.key, p.line) for p in error.problems] == [
        ("running_simulation", line_of(text, "running_simulation"))]


def test_a_simulated_rig_may_leave_out_ports_and_resources(tmp_path):
    text = edit("    port: /dev/ttyUSB0\n", "").replace(
        '    resource: "TCPIP::192.0.2.20::5025::SOCKET"\n', "") + "simulation:\n"
    rig = load_rig(write(tmp_path, text), environ=ENV)
    assert rig.buses["rs485-1"].port is None
    assert rig.instruments["source"].resource is None
    assert rig.simulation.meters == {}


def test_the_same_address_on_different_buses_is_fine(tmp_path):
    text = edit('address: "000000000002"\n    password', 'address: "000000000001"\n    password')
    text = edit("    bus: rs485-1\n    protocol: dlt645-2007\n    address: \"000000000001\"\n"
                "    password", "    bus: rs485-2\n    protocol: dlt645-2007\n"
                "    address: \"000000000001\"\n    password", text)
    rig = load_rig(write(tmp_path, text), environ=ENV)
    assert [p.address for p in rig.positions] == ["000000000001", "000000000001"]


def test_position_and_bus_lookups_name_what_exists():
    rig = load_rig(RIGS / "sim.yaml", environ={})
    with pytest.raises(KeyError, match="positions: 1, 2, 3, 4, 5, 6, 7, 8"):
        rig.position(9)
    with pytest.raises(KeyError, match="buses: rs485-1, rs485-2, rs485-3, carrier, modbus-1"):
        rig.positions_on("rs485-4")


# --- mistakes: file, key and line ---------------------------------------------------------------

MISTAKES = {
    # name: (old text, new text, key, marker of the reported line, part of the message)
    "unknown key": ("    parity: E", "    parityy: E", "buses.rs485-1.parityy", "parityy",
                    "did you mean 'parity'?"),
    "unknown top-level key": ("buses:", "clok: {speedup: 1}\nbuses:", "clok", "clok",
                              "did you mean 'clock'?"),
    "wrong type": ("    imax: 60", "    imax: lots", "positions[0].imax", "lots",
                   "got 'lots'; expected a number > 0"),
    "not allowed": ("    parity: E", "    parity: X", "buses.rs485-1.parity", "parity: X",
                    "expected one of N, E, O"),
    "out of range": ("  - position: 2", "  - position: 0", "positions[1].position",
                     "position: 0", "got 0; expected an integer ≥ 1"),
    "baudrate": ("    parity: E", "    baudrate: 2401", "buses.rs485-1.baudrate", "2401",
                 "expected one of 300, 600, 1200, 2400"),
    "missing required key": ('    address: "000000000001"\n', "", "positions[0].address",
                             "position: 1", "missing required key 'address'"),
    "undefined bus": ("    bus: rs485-1\n    protocol: dlt645-2007\n    address: \"000000000001\"",
                      "    bus: rs485-3\n    protocol: dlt645-2007\n    address: \"000000000001\"",
                      "positions[0].bus", "rs485-3", "no bus 'rs485-3'"),
    "duplicate position": ("  - position: 2", "  - position: 1  # again",
                           "positions[1].position", "# again",
                           "position 1 is already used by positions[0] (line 9)"),
    "duplicate address": ('address: "000000000002"', 'address: "000000000001"  # twin',
                          "positions[1].address", "# twin",
                          "address 000000000001 is already used on bus rs485-1"),
    "duplicate yaml key": ("    parity: E", "    parity: E\n    port: /dev/ttyUSB9",
                           "buses.rs485-1.port", "ttyUSB9", "duplicate key 'port' (first at "
                           "line 4)"),
    "imax not above ib": ("    imax: 60", "    imax: 5", "positions[0].imax", "imax: 5",
                          "imax (5 A) must be greater than ib (5 A)"),
    "missing port": ("    port: /dev/ttyUSB0\n", "", "buses.rs485-1.port", "rs485-1:",
                     "only a rig file with a simulation: section may leave it out"),
    "bad port url": ("/dev/ttyUSB0", "rfc2218://192.0.2.10:7001", "buses.rs485-1.port",
                     "rfc2218", "unknown URL scheme 'rfc2218'"),
    "bad dlt645 address": ('"000000000001"', '"00000001"', "positions[0].address",
                           '"00000001"', "expected 12 decimal digits"),
    "missing resource": ('    resource: "TCPIP::192.0.2.20::5025::SOCKET"\n', "",
                         "instruments.source.resource", "source:", "VISA resource"),
    "bad password": ('value: "${METER_PW}"', 'value: 123456', "positions[1].password.value",
                     "value: 123456", "write the digits in quotes"),
    "section of the wrong type": ("instruments:\n", "instruments: 5\nx:\n", "instruments",
                           "instruments: 5", "expected a mapping of instrument names"),
    "elements": ("    imax: 60", "    imax: 60\n    elements: 4", "positions[0].elements",
                 "elements: 4", "got 4; expected one of 1, 2, 3"),
    "a key the reader fills in": ("    parity: E", "    parity: E\n    name: x",
                                  "buses.rs485-1.name", "name: x", "unknown key 'name'"),
    "speed-up on hardware": ("buses:", "clock:\n  speedup: 1000\nbuses:", "clock.speedup",
                             "speedup: 1000", "got 1000 on a bench without a simulation: "
                             "section; real meters run in real time"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_reported_with_file_key_and_line(tmp_path, mistake):
    old, new, key, marker, message = MISTAKES[mistake]
    text = edit(old, new)
    error = problems(tmp_path, text)
    found = [p for p in error.problems if p.key == key]
    assert len(found) == 1, str(error)
    assert found[0].line == line_of(text, marker)
    assert message in found[0].message
    assert f"{tmp_path / 'bench.yaml'}:{found[0].line}: {key}: " in str(error)


def test_simulation_entries_for_undefined_positions_and_unknown_defects(tmp_path):
    text = BASE + SIMULATION
    error = problems(tmp_path, text, known_defects={"wrong-checksum", "late-reply"})
    by_key = {p.key: p for p in error.problems}
    assert set(by_key) == {"simulation.meters.7", "simulation.meters.1.defects[1]"}
    assert by_key["simulation.meters.7"].line == line_of(text, "7: {")
    assert "no position 7" in by_key["simulation.meters.7"].message
    defect = by_key["simulation.meters.1.defects[1]"]
    assert defect.line == line_of(text, "wrong-checksun")
    assert "did you mean 'wrong-checksum'?" in defect.message
    assert "known defects: late-reply, wrong-checksum" in defect.message


def test_defect_names_are_not_checked_without_known_defects(tmp_path):
    text = BASE + SIMULATION.replace("    7: {response_delay_ms: 10}\n", "")
    rig = load_rig(write(tmp_path, text), environ=ENV)
    assert rig.simulation.meter(1).defects == ("wrong-checksum", "wrong-checksun")


def test_an_entry_of_the_wrong_kind_is_one_problem_not_a_missing_key_per_key(tmp_path):
    text = edit("instruments:\n", "  - just text\ninstruments:\n")
    error = problems(tmp_path, text)
    assert [(p.key, p.line) for p in error.problems] == [
        ("positions[2]", line_of(text, "just text"))]
    assert "got 'just text'; expected a mapping with keys position, bus" in str(error)


def test_one_bus_carries_one_protocol(tmp_path):
    text = edit("    protocol: dlt645-2007\n    address: \"000000000002\"",
                "    protocol: modbus-rtu\n    address: 2")
    error = problems(tmp_path, text)
    [problem] = error.problems
    assert problem.key == "positions[1].protocol"
    assert "bus rs485-1 already carries dlt645-2007 meters" in problem.message
    assert "give modbus-rtu meters a bus of their own" in problem.message


def test_a_profile_must_name_one_of_the_protocols_profiles(tmp_path):
    known = {"dlt645-2007": ("single-phase", "multi-tariff"), "modbus-rtu": ("sdm120",)}
    text = edit('    address: "000000000002"\n', '    address: "000000000002"\n'
                "    profile: single-phaze\n")
    with pytest.raises(RigFileError) as caught:
        load_rig(write(tmp_path, text), environ=ENV, known_profiles=known)
    [problem] = caught.value.problems
    assert problem.key == "positions[1].profile"
    assert problem.line == line_of(text, "single-phaze")
    assert "no dlt645-2007 meter profile 'single-phaze' (did you mean 'single-phase'?)" \
        in problem.message


def test_merge_keys_share_settings_and_are_no_duplicates(tmp_path):
    text = """\
name: merged
buses:
  a: &serial {port: /dev/ttyUSB0, baudrate: 9600}
  b:
    <<: *serial
    port: /dev/ttyUSB1
positions:
  - {position: 1, bus: b, protocol: dlt645-2007, address: "000000000001"}
"""
    bus = load_rig(write(tmp_path, text), environ={}).buses["b"]
    assert (bus.port, bus.baudrate) == ("/dev/ttyUSB1", 9600)


def test_missing_top_level_key_has_no_line(tmp_path):
    error = problems(tmp_path, edit("name: test bench\n", ""))
    assert [(p.key, p.line) for p in error.problems] == [("name", None)]
    assert str(error) == f"{tmp_path / 'bench.yaml'}: name: missing required key 'name': " \
                         "expected text"


def test_missing_environment_variable_names_key_line_and_variable(tmp_path):
    error = problems(tmp_path, BASE, environ={})
    [problem] = error.problems
    assert problem.key == "positions[1].password.value"
    assert problem.line == line_of(BASE, "METER_PW")
    assert "environment variable METER_PW is not set" in problem.message


def test_bad_yaml_syntax_gives_the_line(tmp_path):
    text = edit("    parity: E", "    parity: E: O")
    error = problems(tmp_path, text)
    [problem] = error.problems
    assert problem.line == line_of(text, "E: O")
    assert "invalid YAML" in problem.message
    assert str(error).startswith(f"{tmp_path / 'bench.yaml'}:{problem.line}: invalid YAML")


def test_missing_file(tmp_path):
    with pytest.raises(RigFileError) as caught:
        load_rig(tmp_path / "nowhere.yaml")
    assert str(caught.value) == f"{tmp_path / 'nowhere.yaml'}: no such rig file"
    assert caught.value.path == tmp_path / "nowhere.yaml"


def test_empty_file(tmp_path):
    assert "empty" in str(problems(tmp_path, "# nothing yet\n"))


def test_all_mistakes_are_reported_together_in_line_order(tmp_path):
    text = edit("    parity: E", "    parity: X")
    text = edit("    imax: 60", "    imax: 1", text)
    text = edit("    driver: generic-scpi-source", "    drivr: generic-scpi-source", text)
    error = problems(tmp_path, text, environ={})
    assert [(p.key, p.line) for p in error.problems] == [
        ("buses.rs485-1.parity", line_of(text, "parity: X")),
        ("positions[0].imax", line_of(text, "imax: 1")),
        ("positions[1].password.value", line_of(text, "METER_PW")),
        ("instruments.source.driver", line_of(text, "  source:")),
        ("instruments.source.drivr", line_of(text, "drivr")),
    ]
    assert len(str(error).splitlines()) == 5


# --- secrets -------------------------------------------------------------------------------------


def test_password_is_a_secret_kept_out_of_str_and_repr(tmp_path):
    rig = load_rig(write(tmp_path, BASE), environ={"METER_PW": "9D8E7F"})
    password = rig.position(2).password
    assert isinstance(password.value, Secret)
    assert password.value.reveal() == "9D8E7F"
    assert password.value.source == "${METER_PW}"
    assert isinstance(rig.position(1).operator, Secret)
    for text in (str(rig), repr(rig), str(rig.position(2)), f"{password}"):
        assert "9D8E7F" not in text
    assert "******" in repr(password)
    assert mask("AUTH level 2 password 9D8E7F sent") == "AUTH level 2 password ****** sent"


def test_a_wrong_value_from_the_environment_is_not_echoed(tmp_path):
    text = edit("    parity: E", '    parity: "${BUS_PARITY}"')
    error = problems(tmp_path, text, environ={**ENV, "BUS_PARITY": "Q7secret"})
    [problem] = error.problems
    assert (problem.key, problem.line) == ("buses.rs485-1.parity", line_of(text, "BUS_PARITY"))
    assert problem.message == "got the value of ${BUS_PARITY}; expected one of N, E, O"
    assert "Q7secret" not in str(error)


def test_an_unknown_protocol_suggests_the_nearest(tmp_path):
    text = edit("    protocol: dlt645-2007\n    address: \"000000000002\"",
                "    protocol: dlt645-2070\n    address: \"000000000002\"")
    [problem] = problems(tmp_path, text).problems
    assert problem.key == "positions[1].protocol"
    assert "got 'dlt645-2070' (did you mean 'dlt645-2007'?); expected one of " in problem.message


def test_a_literal_dollar_is_written_doubled(tmp_path):
    rig = load_rig(write(tmp_path, edit("name: test bench", 'name: "Bench $$5"')), environ=ENV)
    assert rig.name == "Bench $5"


# --- dump_rig ------------------------------------------------------------------------------------


def reload(tmp_path: Path, rig: RigConfig, environ) -> RigConfig:
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_rig(rig))
    return load_rig(path, environ=environ).model_copy(update={"path": rig.path})


@pytest.mark.parametrize("rig_file", ["sim.yaml", "example-bench.yaml"])
def test_dump_round_trips_and_keeps_env_references(tmp_path, rig_file):
    rig = load_rig(RIGS / rig_file, environ=ENV)
    assert reload(tmp_path, rig, ENV) == rig
    text = dump_rig(rig)
    assert "${METER_PW" in text and "5A7C3E" not in text


def test_dump_round_trips_literal_secrets_and_dollars(tmp_path):
    text = edit('value: "${METER_PW}"', 'value: "ABC123"').replace("test bench", "Bench $$5")
    rig = load_rig(write(tmp_path, text), environ={})
    assert reload(tmp_path, rig, {}) == rig
    assert "ABC123" in dump_rig(rig)


def test_dump_of_a_running_simulation_is_a_hardware_rig(tmp_path):
    """As the simulated bench does (SimulatedBench.hardware_rig): ports and resources filled
    in, simulation dropped, marked as the running bench's so that it keeps its speed-up."""
    rig = load_rig(RIGS / "sim.yaml", environ={})
    with SimulatedBench(rig) as bench:
        hardware = bench.hardware_rig()
        again = reload(tmp_path, hardware, {})
    assert hardware.running_simulation == str((RIGS / "sim.yaml").resolve())
    assert again == hardware
    assert again.simulation is None and again.clock.speedup == 5000
    assert again.buses["rs485-2"].port == bench.ports["rs485-2"]
    assert again.instruments["source"].resource == bench.resources["source"]


def test_dump_round_trips_elements(tmp_path):
    rig = load_rig(write(tmp_path, edit("    imax: 60", "    imax: 60\n    elements: 2")),
                   environ=ENV)
    assert reload(tmp_path, rig, ENV).position(1).elements == 2


# --- timing and echo of a bus ------------------------------------------------------------------

TIMED = edit("    port: rfc2217://192.0.2.10:7002\n",
             "    port: rfc2217://192.0.2.10:7002\n    timing: unpaced\n    echo: true\n",
             edit("    parity: E\n", "    parity: E\n    timing: {resolution_ms: 1.5}\n"))


def test_bus_timing_and_echo_are_read_and_dumped(tmp_path):
    meters = SIMULATION.replace("    7: {response_delay_ms: 10}\n", "")
    rig = load_rig(write(tmp_path, TIMED + meters + "  buses:\n    rs485-2: {echo: true}\n"),
                   environ=ENV)
    assert rig.buses["rs485-1"].timing == TimingConfig(resolution_ms=1.5)
    assert rig.buses["rs485-1"].echo is None  # auto: the link finds out when it opens
    assert (rig.buses["rs485-2"].timing, rig.buses["rs485-2"].echo) == (
        TimingConfig(resolution_ms=None), True)
    assert rig.simulation.bus("rs485-2") == SimBusConfig(name="rs485-2", echo=True)
    assert rig.simulation.bus("rs485-1") == SimBusConfig(name="rs485-1", echo=False)
    assert reload(tmp_path, rig, ENV) == rig
    assert "echo: auto" in dump_rig(rig) and "timing: unpaced" in dump_rig(rig)


@pytest.mark.parametrize(("written", "message"), [
    ("timing: paced",
     "got 'paced'; expected 'unpaced' or a mapping {resolution_ms: a number > 0}"),
    ("timing: {resolution_ms: 0}", "got 0; expected a number > 0"),
    ("timing: {resolution: 1}", "unknown key 'resolution' (did you mean 'resolution_ms'?)"),
    ("echo: maybe", "got 'maybe'; expected true, false or auto"),
])
def test_bad_timing_or_echo_names_file_line_and_key(tmp_path, written, message):
    text = edit("    parity: E\n", f"    parity: E\n    {written}\n")
    error = problems(tmp_path, text)
    [problem] = [p for p in error.problems if message in p.message]
    assert problem.line == line_of(text, written.split(":")[0] + ":")
    assert problem.key.startswith("buses.rs485-1.")
    assert f"bench.yaml:{problem.line}: buses.rs485-1." in str(error)


def test_a_simulated_bus_must_exist(tmp_path):
    text = BASE + "simulation:\n  buses:\n    rs485-3: {echo: true}\n"
    [problem] = problems(tmp_path, text).problems
    assert problem.key == "simulation.buses.rs485-3"
    assert problem.line == line_of(text, "rs485-3")
    assert "no bus 'rs485-3'" in problem.message and "did you mean" in problem.message


def test_position_config_defaults_match_the_documented_ones():
    position = PositionConfig(number=1, bus="a", protocol="dlt645-2007", address="000000000001")
    assert position.serial == "000000000001"
    assert position.accuracy == AccuracyConfig(standard="iec62053-21", meter_class="1")
    assert (position.un, position.ib, position.imax, position.fn, position.constant,
            position.elements) == (220.0, 5.0, 60.0, 50, 1200, 1)
    assert position.operator.reveal() == "00000000"


# --- the user's own meter models: profile: PATH ---------------------------------------------

OWN_PROFILE = """\
my-meter:
  description: our own single-phase meter
  tariffs: 2
  relay: false
  relay_level: 2
  max_reply_data: 200
  data_items: ["00010000", "02010100"]
  writable: {}
"""
MODBUS_POSITION = ("  - position: 3\n    bus: rs485-2\n    protocol: modbus-rtu\n"
                   "    address: 7\n    profile: {map}\n")


def own_models(tmp_path: Path, profile_text: str = OWN_PROFILE, map_text: str | None = None,
               dlt645: str = "models/my-meter.yaml", modbus: str = "models/my-map.yaml") -> str:
    """A rig file text whose position 2 has its own profile file and position 3 its own
    register map (both files written under tmp_path/models)."""
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "my-meter.yaml").write_text(profile_text)
    (tmp_path / "models" / "my-map.yaml").write_text(
        map_text if map_text is not None else (MAPS / "sdm120.yaml").read_text())
    text = edit('    address: "000000000002"\n', '    address: "000000000002"\n'
                f"    profile: {dlt645}\n")
    return edit("instruments:\n", MODBUS_POSITION.format(map=modbus) + "instruments:\n", text)


def load_with_models(path: Path) -> RigConfig:
    return load_rig(path, environ=ENV, known_profiles={
        "dlt645-2007": tuple(profiles()), "modbus-rtu": map_names()},
        profile_files={"dlt645-2007": profile_file, "modbus-rtu": map_file})


def test_a_profile_may_be_the_path_of_the_users_own_file(tmp_path):
    rig = load_with_models(write(tmp_path, own_models(tmp_path)))
    dlt645, modbus = rig.position(2), rig.position(3)
    # Kept absolute, so the rig file a running simulated bench dumps elsewhere still finds it.
    assert dlt645.profile == str(tmp_path / "models" / "my-meter.yaml")
    assert profile(dlt645.profile).name == "my-meter"
    assert profile(dlt645.profile).data_items == (0x00010000, 0x02010100)
    assert register_map(modbus.profile)["voltage"].address == 0
    assert load_rig(write(tmp_path, dump_rig(rig)), environ=ENV).position(2).profile \
        == dlt645.profile


def test_a_missing_profile_file_names_the_rig_files_key_and_line(tmp_path):
    text = own_models(tmp_path, dlt645="models/no-such-meter.yaml")
    [problem] = problems(tmp_path, text).problems
    assert (problem.key, problem.line) == ("positions[1].profile",
                                           line_of(text, "no-such-meter"))
    assert f"no such profile file '{tmp_path / 'models' / 'no-such-meter.yaml'}'" \
        in problem.message


def test_a_malformed_own_profile_names_its_file_and_lines(tmp_path):
    broken = OWN_PROFILE.replace("tariffs: 2", "tariffs: 99").replace(
        '"02010100"', '"0F0F0F0F"').replace("  relay: false\n", "  relay: false\n  relais: 1\n")
    error = problems(tmp_path, own_models(tmp_path, profile_text=broken),
                     known_profiles={"dlt645-2007": tuple(profiles())},
                     profile_files={"dlt645-2007": profile_file})
    [problem] = error.problems
    assert problem.key == "positions[1].profile"
    own = tmp_path / "models" / "my-meter.yaml"
    assert f"{own}:{line_of(broken, 'tariffs')}: my-meter.tariffs: got 99; expected an " \
           "integer from 1 to 63" in problem.message
    assert f"{own}:{line_of(broken, 'relais')}: my-meter.relais: unknown key 'relais'" \
        in problem.message
    assert f"{own}:{line_of(broken, 'data_items')}: my-meter.data_items[1]: DI 0F0F0F0F is " \
           "not in the DL/T 645-2007 catalogue" in problem.message


def test_an_own_profile_file_holds_one_profile_of_valid_yaml(tmp_path):
    own = tmp_path / "models" / "my-meter.yaml"
    error = problems(tmp_path, own_models(tmp_path, profile_text=OWN_PROFILE + "  - x\n"),
                     profile_files={"dlt645-2007": profile_file})
    assert f"{own}:" in str(error) and "invalid YAML" in str(error)
    two = OWN_PROFILE + OWN_PROFILE.replace("my-meter", "other-meter")
    (tmp_path / "two").mkdir()
    error = problems(tmp_path / "two", own_models(tmp_path / "two", profile_text=two),
                     profile_files={"dlt645-2007": profile_file})
    assert "holds 2 profiles (my-meter, other-meter); a meter's own profile file holds " \
           "exactly one" in str(error)


def test_a_malformed_own_register_map_names_its_file_and_line(tmp_path):
    bad_map = (MAPS / "sdm120.yaml").read_text().replace(
        "voltage:              {table: input,", "voltage:              {table: inputs,")
    error = problems(tmp_path, own_models(tmp_path, map_text=bad_map),
                     profile_files={"modbus-rtu": map_file})
    [problem] = error.problems
    assert problem.key == "positions[2].profile"
    own = tmp_path / "models" / "my-map.yaml"
    assert f"{own}:{line_of(bad_map, 'table: inputs')}: registers.voltage.table: got " \
           "'inputs'; expected one of input, holding" in problem.message
