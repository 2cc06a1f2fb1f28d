"""The line-noise injector and the attenuator through real PyVISA, against the simulated
instruments on loopback; what they set is the line state every simulated device reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fixtures.instruments import _instrument
from meterrig.clock import RigClock
from meterrig.config import load_rig
from meterrig.instruments import (
    Attenuator,
    CommandMapError,
    InstrumentError,
    NoiseInjector,
    NoiseSettings,
    load_map,
    open_instrument,
)
from meterrig.instruments.noise_injector import dbuv_to_vrms, vrms_to_dbuv
from meterrig.instruments.visa import resource_manager
from meterrig.rig import Rig
from meterrig.sim.instruments import SimulatedInstruments
from meterrig.sim.physics import BenchPhysics, MeterPhysics
from meterrig.sim.plc_network import Node, PlcNetwork
from tests.test_instruments import RecordingInstrument

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = {"noise": "sim-noise-injector", "attenuator": "sim-attenuator"}
CENELEC_A = (3_000.0, 95_000.0)  # EN 50065-1 band A


@pytest.fixture
def physics() -> BenchPhysics:
    return BenchPhysics(RigClock(1), {1: MeterPhysics()})


@pytest.fixture
def sim(physics):
    instruments = SimulatedInstruments(physics, DRIVERS)
    yield instruments.start()
    instruments.stop()


@pytest.fixture
def noise(sim) -> NoiseInjector:
    injector = open_instrument("noise", sim["noise"], DRIVERS["noise"], 1000)
    yield injector
    injector.close()


@pytest.fixture
def attenuator(sim) -> Attenuator:
    opened = open_instrument("attenuator", sim["attenuator"], DRIVERS["attenuator"], 1000)
    yield opened
    opened.close()


def test_dbuv_and_volts():
    assert dbuv_to_vrms(120) == 1.0 and vrms_to_dbuv(1e-6) == pytest.approx(0.0)
    assert vrms_to_dbuv(dbuv_to_vrms(83.5)) == pytest.approx(83.5)


def test_noise_settings_round_trip_and_reach_the_physics(noise, physics):
    noise.set_level(80.0)
    noise.set_band(*CENELEC_A)
    noise.set_burst(0.2, 2.0)
    noise.on()
    settings = noise.settings()
    assert settings.level_dbuv == pytest.approx(80.0, abs=1e-3)
    assert (settings.start_hz, settings.stop_hz, settings.burst, settings.on) == \
        (*CENELEC_A, (0.2, 2.0), True)
    line = physics.line
    assert line.noise_dbuv == pytest.approx(80.0, abs=1e-3)
    assert (line.noise_start_hz, line.noise_stop_hz, line.burst_s, line.burst_period_s,
            line.noise_on) == (*CENELEC_A, 0.2, 2.0, True)
    noise.continuous()
    noise.off()
    assert noise.settings() == NoiseSettings(settings.level_dbuv, *CENELEC_A, None, False)
    assert physics.line.burst_s is None and not physics.line.noise_on


def test_the_noise_level_is_set_at_the_coupling_point_through_the_coupling_gain(
        tmp_path, sim, physics):
    # The simulated generator's output is its coupling point; a map that says the coupler
    # loses 6 dB makes the driver drive the generator 6 dB harder for the same level.
    data = yaml.safe_load(load_map(DRIVERS["noise"]).path.read_text())
    data["settings"] = {"coupling_gain_db": -6.0}
    lossy = tmp_path / "lossy.yaml"
    lossy.write_text(yaml.safe_dump(data))
    noise = open_instrument("noise", sim["noise"], str(lossy), 1000)
    noise.set_level(80.0)
    assert physics.line.noise_dbuv == pytest.approx(86.0, abs=1e-3)
    assert noise.level_dbuv() == pytest.approx(80.0, abs=1e-3)
    noise.close()


def test_bad_noise_settings_are_refused_by_the_driver(noise):
    with pytest.raises(InstrumentError, match=r"noise .* band 95000-3000 Hz: the start must be "
                                              "below the stop"):
        noise.set_band(95_000, 3_000)
    with pytest.raises(InstrumentError, match=r"burst 2 s every 1 s: a burst must be shorter"):
        noise.set_burst(2.0, 1.0)


def test_the_simulated_generator_refuses_a_level_it_cannot_make(noise):
    with pytest.raises(InstrumentError, match=r"NOIS:LEV .*-222,\"Data out of range;level 0 to "
                                              r"10 V rms"):
        noise.set_level(150.0)  # 31.6 V rms


def test_attenuation_round_trips_and_reaches_the_physics(attenuator, physics):
    assert attenuator.range_db == (0.0, 100.0, 0.5)
    attenuator.set(42.5)
    assert attenuator.attenuation_db() == 42.5
    assert physics.line.attenuation_db == 42.5


@pytest.mark.parametrize("db", [100.5, -1.0, 42.3])
def test_an_attenuation_the_model_cannot_set_is_refused_naming_its_range(attenuator, db):
    with pytest.raises(InstrumentError, match=r"attenuator \(meterrig simulated programmable "
                                              r"attenuator\) at TCPIP::.*: it sets 0 to 100 dB "
                                              r"in steps of 0.5 dB"):
        attenuator.set(db)


def test_the_simulated_attenuator_refuses_off_step_values_itself(sim):
    session = resource_manager().open_resource(sim["attenuator"], read_termination="\n",
                                               write_termination="\n", timeout=1000)
    session.write("ATT 42.3")
    assert session.query("SYST:ERR?").startswith('-222,"Data out of range;0 to 100 dB')
    assert session.query("*IDN?") == "meterrig,sim-attenuator,attenuator,sim-1"
    session.close()


def test_the_network_sees_what_the_instruments_set(noise, attenuator, physics):
    network = PlcNetwork(physics, [Node(b"\x01\x00\x00\x00\x00\x00", meter=None, path_db=30)],
                         now=lambda: 0.0)
    hop = (None, b"\x01\x00\x00\x00\x00\x00")
    quiet = network.snr_db(hop, 0.0)
    attenuator.set(10)
    assert network.snr_db(hop, 0.0) == pytest.approx(quiet - 10)
    noise.set_band(*CENELEC_A)
    noise.set_level(90)
    assert network.snr_db(hop, 0.0) == pytest.approx(quiet - 10)  # the output is still off
    noise.on()
    assert network.snr_db(hop, 0.0) < quiet - 40


def test_an_attenuator_map_without_its_range_is_refused(tmp_path):
    data = yaml.safe_load(load_map("generic-scpi-attenuator").path.read_text())
    del data["settings"]["step_db"]
    data["settings"]["max"] = 90
    path = tmp_path / "att.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CommandMapError) as raised:
        load_map(path)
    lines = path.read_text().splitlines()
    settings = lines.index("settings:") + 1
    extra = lines.index("  max: 90") + 1
    assert str(raised.value).splitlines() == [
        f"{path}:{settings}: settings.step_db: missing: a attenuator needs it",
        f"{path}:{extra}: settings.max: unknown name (did you mean 'max_db'?); a attenuator has "
        "min_db, max_db, step_db"]


def test_the_generic_noise_map_drives_the_generator_through_its_coupling_gain():
    instrument = RecordingInstrument({"SYST:ERR?": '+0,"No error"', "VOLT?": "+2.00000E-02",
                                      "OUTP?": "1", "BURS:STAT?": "0",
                                      "NOIS:BAND:STAR?;STOP?": "+3.0E+03;+9.5E+04"})
    noise = open_instrument("noise", instrument.resource, "generic-scpi-noise-injector", 1000)
    noise.set_level(80.0)  # at the coupling point; the map's coupler loses 6 dB
    settings = noise.settings()
    noise.close()
    instrument.join()
    # 86 dBµV at the generator: 10^((86 - 120) / 20) V rms
    assert instrument.lines[:3] == ["SYST:ERR?", "VOLT:UNIT VRMS;:VOLT 0.0199526", "SYST:ERR?"]
    # read back: the generator's 0.02 V rms, less the coupler's 6 dB
    assert settings == NoiseSettings(pytest.approx(vrms_to_dbuv(0.02) - 6.0), *CENELEC_A, None,
                                     True)


def test_the_simulated_bench_has_both_instruments():
    rig = load_rig(ROOT / "rigs" / "sim.yaml")
    assert {rig.instruments[n].driver for n in ("noise-injector", "attenuator")} == \
        {"sim-noise-injector", "sim-attenuator"}



def test_a_bench_without_the_instrument_skips_naming_it(tmp_path):
    path = tmp_path / "comms.yaml"
    path.write_text("name: comms\nbuses: {rs485: {port: loop://}}\npositions:\n"
                    "  - {position: 1, bus: rs485, protocol: dlt645-2007, "
                    "address: \"000000000001\"}\n")
    rig = Rig(load_rig(path))
    with pytest.raises(pytest.skip.Exception, match="comms.yaml: the rig needs exactly one "
                                                    "NoiseInjector under instruments:, it has 0"):
        _instrument(rig, NoiseInjector)
