"""The simulated power-line network: loss against noise and attenuation, routes, latency, defects.

Real simulated meters answer behind it; the line state is the physics model's, set here as the
line instruments would set it; time is a fake, so bursts fall where the test says.
"""

from __future__ import annotations

import math
import types

import pytest

from meterrig.clock import RigClock
from meterrig.config import RigFileError, load_rig
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import address_bytes, decode, encode
from meterrig.protocols.dlt645.profile import profile
from meterrig.sim.bench import SimulatedBench
from meterrig.sim.carrier_path import CarrierPath, RelayResult
from meterrig.sim.defects import DEFECTS, Defects
from meterrig.sim.dlt645_meter import SimulatedDlt645Meter
from meterrig.sim.physics import BenchPhysics, MeterPhysics
from meterrig.sim.plc_network import (
    MAX_SIGNAL_QUALITY,
    NetworkParameters,
    Node,
    PlcNetwork,
    carrier_path,
)

PARAMETERS = NetworkParameters.shipped()
ENERGY_DI = 0x00010000  # forward active energy, total
# Position -> (address, path attenuation dB, phase): a near meter, a middle one, a far one on
# the same phase as the middle one, and one on another phase.
METERS = {1: ("000000000011", 20.0, 1), 2: ("000000000012", 40.0, 1),
          3: ("000000000013", 75.0, 1), 4: ("000000000014", 40.0, 2)}
NEAR, MIDDLE, FAR = (address_bytes(METERS[n][0]) for n in (1, 2, 3))
CARRIER_BAND = PARAMETERS.carrier_band_hz


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def network(*defects: str, seed: int = 1, **kwargs) -> tuple[PlcNetwork, BenchPhysics]:
    physics = BenchPhysics(RigClock(1), {n: MeterPhysics() for n in METERS})
    nodes = [Node(address_bytes(address), SimulatedDlt645Meter(
        position=n, address=address, profile=profile("single-phase"), passwords={},
        physics=physics, meter_number=address, constant=1200, baudrate=2400, character_bits=11,
        response_delay=0.04), path_db, phase) for n, (address, path_db, phase) in METERS.items()]
    kwargs.setdefault("now", FakeTime())
    return PlcNetwork(physics, nodes, defects=Defects(frozenset(defects)), seed=seed,
                      **kwargs), physics


def read(net: PlcNetwork, destination: bytes) -> RelayResult:
    address = destination[::-1].hex()
    return net.relay(destination, encode(cmd.read(address, ENERGY_DI)))


def noise(physics: BenchPhysics, dbuv: float, **burst: float) -> None:
    """In-band noise at `dbuv`: the injector's band is the carrier band."""
    physics.set_line(noise_on=True, noise_dbuv=dbuv, noise_start_hz=CARRIER_BAND[0],
                     noise_stop_hz=CARRIER_BAND[1], **burst)


def direct_then_noise(dbuv: float, *defects: str, **kwargs) -> tuple[PlcNetwork, BenchPhysics]:
    """A network whose module found its direct route to the middle meter before the noise."""
    net, physics = network(*defects, **kwargs)
    read(net, MIDDLE)
    noise(physics, dbuv)
    return net, physics


def success_rate(net: PlcNetwork, destination: bytes, reads: int = 60) -> float:
    return sum(read(net, destination).reply is not None for _ in range(reads)) / reads


# -- the loss model ---------------------------------------------------------------------------
def test_frame_loss_falls_with_snr_and_rises_with_frame_length():
    snrs = [-10, -5, -3, -1, 0, 2, 5]
    losses = [PARAMETERS.frame_loss(snr, 40) for snr in snrs]
    assert losses == sorted(losses, reverse=True)
    assert losses[0] > 0.99 and losses[-1] < 1e-9
    assert PARAMETERS.frame_loss(-2, 80) > PARAMETERS.frame_loss(-2, 20)
    # DBPSK: BER = 1/2 exp(-Eb/N0), Eb/N0 = SNR * B / R
    assert PARAMETERS.bit_error_rate(0) == pytest.approx(
        0.5 * math.exp(-(CARRIER_BAND[1] - CARRIER_BAND[0]) / PARAMETERS.bit_rate_bps))


def test_loss_is_monotonic_in_noise_and_in_attenuation():
    net, physics = network()
    hop = (None, FAR)
    by_noise = []
    for dbuv in (0, 30, 40, 45, 50, 60):
        noise(physics, dbuv)
        by_noise.append(PARAMETERS.frame_loss(net.snr_db(hop, 0), 40))
    physics.set_line(noise_on=False)
    by_attenuation = []
    for db in (0, 5, 10, 15, 20, 40):
        physics.set_line(attenuation_db=db)
        by_attenuation.append(PARAMETERS.frame_loss(net.snr_db(hop, 0), 40))
    assert by_noise == sorted(by_noise) and by_noise[0] < by_noise[-1]
    assert by_attenuation == sorted(by_attenuation) and by_attenuation[0] < by_attenuation[-1]


def test_reads_succeed_less_as_noise_rises():
    rates = []
    for dbuv in (70, 75.5, 77):
        # direct, no retry: the raw loss
        net, _ = direct_then_noise(dbuv, "module-route-never-repaired", retries=0)
        rates.append(success_rate(net, MIDDLE))
    assert rates[0] == 1.0 and rates[-1] < rates[1] < rates[0], rates


def test_at_zero_noise_a_near_meter_never_loses_and_answers_with_its_own_reply():
    net, _ = network(retries=0)
    results = [read(net, NEAR) for _ in range(200)]
    assert all(r.reply is not None and r.route == () for r in results)
    reply = decode(results[0].reply)
    assert reply.address == METERS[1][0] and reply.from_slave
    assert results[0].phase == 1


def test_noise_outside_the_carrier_band_does_not_hurt():
    net, physics = network()
    before = net.snr_db((None, FAR), 0)
    physics.set_line(noise_on=True, noise_dbuv=110, noise_start_hz=150_000, noise_stop_hz=500_000)
    assert net.snr_db((None, FAR), 0) == before
    physics.set_line(noise_start_hz=3_000, noise_stop_hz=95_000)  # CENELEC A: mostly in band
    assert net.snr_db((None, FAR), 0) < before - 50


def test_burst_noise_hurts_only_during_its_bursts():
    clock = FakeTime()
    net, physics = network(now=clock)
    noise(physics, 110, burst_s=1.0, burst_period_s=10.0)
    since = physics.line.noise_since
    assert net.noise_dbuv(since + 0.5) > net.noise_dbuv(since + 5.0) \
        == PARAMETERS.background_noise_dbuv


# -- latency, retries and routes -------------------------------------------------------------
def test_latency_is_the_hops_air_time_processing_and_the_meters_delay():
    net, _ = network()
    result = read(net, NEAR)
    request = len(encode(cmd.read(METERS[1][0], ENERGY_DI)))
    expected = PARAMETERS.hop_time_s(request) + 0.04 + PARAMETERS.hop_time_s(len(result.reply))
    assert result.latency_s == pytest.approx(expected)


def test_relaying_kicks_in_when_the_direct_path_is_too_weak_and_costs_latency_per_hop():
    net, _ = network()
    assert net.snr_db((None, FAR), 0) < PARAMETERS.route_snr_db  # 75 dB away, at zero noise
    direct = read(net, MIDDLE)
    relayed = read(net, FAR)
    assert direct.route == () and direct.reply is not None
    assert relayed.route == (MIDDLE,) and relayed.reply is not None
    # Both requests and replies are the same length: the relayed read pays one more hop each way.
    request = len(encode(cmd.read(METERS[3][0], ENERGY_DI)))
    one_hop = PARAMETERS.hop_time_s(request) + PARAMETERS.hop_time_s(len(relayed.reply))
    assert relayed.latency_s - direct.latency_s == pytest.approx(one_hop)


def test_the_route_avoids_a_relay_on_another_phase():
    net, _ = network()
    assert net.find_route(FAR, 0) == (MIDDLE,)  # not meter 4: same path, other phase


def test_a_failed_route_is_found_again_on_the_line_as_it_is():
    net, physics = network(retries=1)
    assert read(net, MIDDLE).route == ()  # found at zero noise: direct
    noise(physics, 95)  # direct to the middle meter now hopeless; via the near one fine
    failed = read(net, MIDDLE)
    assert failed.reply is None and failed.route == ()
    assert failed.latency_s == pytest.approx(2 * (PARAMETERS.answer_timeout_s
                                                  + PARAMETERS.hop_timeout_s)
                                             + PARAMETERS.retry_backoff_s)
    repaired = read(net, MIDDLE)
    assert repaired.route == (NEAR,) and repaired.reply is not None


def test_retries_inside_the_module_raise_the_success_rate():
    rates = {}
    for retries in (0, 3):
        net, _ = direct_then_noise(77, "module-route-never-repaired", retries=retries)
        rates[retries] = success_rate(net, MIDDLE)
    assert rates[0] < rates[3]


def test_the_same_seed_gives_the_same_run():
    runs = []
    for _ in range(2):
        net, physics = network(seed=7)
        noise(physics, 80)
        runs.append([read(net, MIDDLE) for _ in range(20)])
    assert runs[0] == runs[1]


def test_an_unknown_meter_never_answers():
    net, _ = network()
    result = net.relay(address_bytes("000000000099"), encode(cmd.read("000000000099",
                                                                      ENERGY_DI)))
    assert result == RelayResult(None, result.latency_s, (), 0, 0) and result.latency_s > 0


# -- signal quality -----------------------------------------------------------------------------
def test_signal_quality_is_linear_in_snr_from_0_to_15():
    zero, step = PARAMETERS.quality_zero_snr_db, PARAMETERS.quality_step_db
    assert PARAMETERS.signal_quality(zero - 10) == 0
    assert PARAMETERS.signal_quality(zero + 3 * step) == 3
    assert PARAMETERS.signal_quality(zero + 40 * step) == MAX_SIGNAL_QUALITY


def test_reported_signal_quality_falls_with_noise_and_distance():
    net, physics = network()
    near, middle = read(net, NEAR).signal_quality, read(net, MIDDLE).signal_quality
    noise(physics, 70)
    assert near == MAX_SIGNAL_QUALITY > middle > read(net, MIDDLE).signal_quality


# -- seeded defects ----------------------------------------------------------------------------
def test_the_network_defects_are_named_in_the_defect_table():
    assert {"module-route-never-repaired", "module-collapses-under-noise"} <= DEFECTS.keys()


def test_route_never_repaired_keeps_failing_where_a_good_module_recovers():
    outcomes = {}
    for defects in ((), ("module-route-never-repaired",)):
        net, _ = direct_then_noise(95, *defects)
        outcomes[defects] = [read(net, MIDDLE).reply is not None for _ in range(5)]
    assert outcomes[()][1:] == [True] * 4
    assert outcomes[("module-route-never-repaired",)] == [False] * 5


def test_collapses_under_noise_loses_everything_at_a_moderate_level_a_good_module_reads_at():
    for defects, expected in (((), 1.0), (("module-collapses-under-noise",), 0.0)):
        net, physics = network(*defects)
        noise(physics, PARAMETERS.collapse_noise_dbuv)
        assert success_rate(net, NEAR, 20) == expected


def test_it_is_a_carrier_path():
    net: CarrierPath = network()[0]
    assert isinstance(net.relay(NEAR, encode(cmd.read(METERS[1][0], ENERGY_DI))), RelayResult)


# -- from a rig file ----------------------------------------------------------------------------
RIG = """\
name: carrier
buses:
  plc: {baudrate: 9600}
positions:
  - {position: 1, bus: plc, protocol: dlt645-2007, address: "000000000001"}
  - {position: 2, bus: plc, protocol: dlt645-2007, address: "000000000002"}
  - {position: 3, bus: plc, protocol: dlt645-2007, address: "000000000003"}
simulation:
  meters:
    1: {defects: [module-route-never-repaired]}
    2: {plc_path_db: 30, phase: 2}
    3: {plc_path_db: PATH}
"""


def test_the_network_behind_a_module_comes_from_the_rig_file(tmp_path):
    path = tmp_path / "carrier.yaml"
    path.write_text(RIG.replace("PATH", "55.5"))
    config = load_rig(path)
    # Position 1 plays the module: its meters are the positions reached `via` it (a carrier
    # protocol is another branch's, so `via` is set here rather than in the file).
    config = config.model_copy(update={"positions": tuple(
        p.model_copy(update={"via": 1}) if p.number != 1 else p for p in config.positions)})
    bench = types.SimpleNamespace(config=config, _devices={}, physics=BenchPhysics(
        RigClock(1), {p.number: MeterPhysics(defects=Defects(frozenset(
            config.simulation.meter(p.number).defects))) for p in config.positions}))
    # As the module's builder does: the simulated device of each position behind it.
    meters = {p.address: SimulatedBench._meter(bench, p) for p in config.positions[1:]}
    net = carrier_path(bench, config.positions[0], meters)
    assert [(n.address, n.path_db, n.phase) for n in net.nodes.values()] == [
        (address_bytes("000000000002"), 30.0, 2), (address_bytes("000000000003"), 55.5, 0)]
    assert net.defects == Defects(frozenset({"module-route-never-repaired"}))
    assert decode(read(net, address_bytes("000000000002")).reply).address == "000000000002"


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("plc_path_db", "-3", "simulation.meters.3.plc_path_db: got -3; expected a number ≥ 0"),
    ("phase", "4", "simulation.meters.3.phase: got 4; expected an integer from 0 to 3"),
])
def test_bad_path_data_is_refused_naming_the_line(tmp_path, key, value, problem):
    path = tmp_path / "carrier.yaml"
    path.write_text(RIG.replace("plc_path_db: PATH", f"{key}: {value}"))
    with pytest.raises(RigFileError, match=f"carrier.yaml:12: {problem}"):
        load_rig(path)
