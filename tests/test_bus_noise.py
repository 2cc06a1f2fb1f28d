"""Reads on a noisy simulated bus accept no wrong value: every corrupted reply is caught (its
checksum or CRC, its length, its format), retried or reported, and no read hangs. Noise is set
and cleared at run time through the simulated bench's control channel; the rig file sets it too.
The 10,000-read run is benchmarks/noisy_reads.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from meterrig import rig as rigs
from meterrig import soak
from meterrig.config import RigFileError
from meterrig.sim.noise import Noise
from tests.noisy_bench import LEVELS, NOISY_BENCH

READS = 200  # per meter and noise level: enough to see a hundred corrupted bytes


@pytest.fixture(scope="module")
def noisy_rig(tmp_path_factory):
    path = tmp_path_factory.mktemp("noise") / "rig.yaml"
    path.write_text(yaml.safe_dump(NOISY_BENCH, sort_keys=False))
    with rigs.open_rig(path) as rig:
        yield rig


def _noisy_reads(rig, number: int, ber: float, bursts: float) -> tuple[soak.Poll, int, object]:
    """READS reads of the meter at `number` with noise on its bus: the poll, the bytes the noise
    hit, and the value the register held before."""
    meter, client = rig.meter(number), rig.client(number)
    bus = rig.config.position(number).bus
    expected = meter.forward_energy_kwh()  # no load: the register stands still
    rig.bench_control.set_noise(bus, ber, bursts)
    try:
        hit_before = rig.bench_control.noise(bus).bytes_hit
        result = soak.poll(meter, client, more=soak.reads(READS), expected=expected)
        hit = rig.bench_control.noise(bus).bytes_hit - hit_before
    finally:
        rig.bench_control.set_noise(bus, 0, 0)
    assert meter.forward_energy_kwh() == expected, "the register moved: no fixed value to judge"
    return result, hit, expected


@pytest.mark.timeout(120)
@pytest.mark.parametrize("level", list(LEVELS))
def test_noisy_reads_accept_no_wrong_value(noisy_rig, level):
    # The two meters are on buses of their own: polled at once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {p.protocol: pool.submit(_noisy_reads, noisy_rig, p.number, *LEVELS[level])
                for p in noisy_rig.positions}
    for protocol, run in runs.items():
        result, hit, _ = run.result()
        assert hit > 0, f"{protocol}, {level}: the noise hit no byte in {READS} reads"
        assert not result.wrong, f"{protocol}, {level}: wrong values accepted: {result.wrong[:5]}"
        assert result.accepted + len(result.failures) == READS
        # Corrupted replies were caught: retried (counted) or reported, never taken.
        assert result.retries + len(result.failures) > 0, \
            f"{protocol}, {level}: {hit} bytes hit, none caught"


def test_rig_file_noise_keys(tmp_path):
    rig = {**NOISY_BENCH, "simulation": {**NOISY_BENCH["simulation"],
                                         "buses": {"dlt": {"ber": 1e-4, "bursts": 0.5}}}}
    path = tmp_path / "rig.yaml"
    path.write_text(yaml.safe_dump(rig, sort_keys=False))
    assert rigs.load(path).simulation.bus("dlt").ber == 1e-4
    rig["simulation"]["buses"]["dlt"]["ber"] = 2
    path.write_text(yaml.safe_dump(rig, sort_keys=False))
    with pytest.raises(RigFileError, match="ber.*probability from 0 to 1"):
        rigs.load(path)


def test_noise_hits_content_and_timing():
    data = bytes(range(200))
    assert Noise().corrupt(data) == data  # a quiet bus
    assert Noise(ber=1.0).corrupt(data) == b""  # every start bit hit: nothing arrives
    flipped = Noise(ber=0.01, seed=3).corrupt(data)
    assert flipped != data and len(flipped) <= len(data)
    burst = Noise(bursts=1.0, seed=3).corrupt(data)
    assert len(burst) > len(data)  # a burst adds bytes, and so wire time
    with pytest.raises(ValueError, match="probability"):
        Noise(ber=2)
