"""10,000 reads per meter on a noisy simulated bus: how many corrupted replies were caught, how
many wrong values were accepted (must be none), and the reads per second left under noise.

The bench is tests/noisy_bench.py (a DL/T 645 meter at 115200 bit/s and a Modbus meter at 9600,
each on its own bus); each noise level of tests/noisy_bench.py LEVELS is set at run time through
the simulated bench's control channel. The CI self-test (tests/test_bus_noise.py) runs a few
hundred reads of the same.

    .venv/bin/python benchmarks/noisy_reads.py [--reads 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meterrig import rig as rigs  # noqa: E402
from meterrig import soak  # noqa: E402
from tests.noisy_bench import LEVELS, NOISY_BENCH  # noqa: E402


def run(rig, number: int, reads: int, ber: float, bursts: float) -> dict:
    meter, client = rig.meter(number), rig.client(number)
    bus = rig.config.position(number).bus
    expected = meter.forward_energy_kwh()
    rig.bench_control.set_noise(bus, ber, bursts)
    try:
        before = rig.bench_control.noise(bus)
        result = soak.poll(meter, client, more=soak.reads(reads), expected=expected)
        after = rig.bench_control.noise(bus)
    finally:
        rig.bench_control.set_noise(bus, 0, 0)
    return {"protocol": rig.config.position(number).protocol, "reads": result.reads,
            "accepted": result.accepted, "reported": len(result.failures),
            "retries": result.retries, "wrong": len(result.wrong), "wrong_examples":
            result.wrong[:5], "bytes_on_bus": after.bytes_seen - before.bytes_seen,
            "bytes_hit": after.bytes_hit - before.bytes_hit,
            "reads_per_second": round(result.reads_per_second, 1),
            "p99_ms": round(result.percentile(99) * 1e3, 2),
            "longest_ms": round(result.longest * 1e3, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rig.yaml"
        path.write_text(yaml.safe_dump(NOISY_BENCH, sort_keys=False))
        with rigs.open_rig(path) as rig, ThreadPoolExecutor(max_workers=2) as pool:
            for level, (ber, bursts) in LEVELS.items():
                runs = [pool.submit(run, rig, p.number, args.reads, ber, bursts)
                        for p in rig.positions]
                rows += [{"level": level, **r.result()} for r in runs]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['level']:<18} {r['protocol']:<12} reads {r['reads']}, accepted "
                  f"{r['accepted']}, reported {r['reported']}, retries {r['retries']}, WRONG "
                  f"{r['wrong']}; bytes hit {r['bytes_hit']} of {r['bytes_on_bus']}; "
                  f"{r['reads_per_second']} reads/s, p99 {r['p99_ms']} ms, longest "
                  f"{r['longest_ms']} ms")
    return 1 if any(r["wrong"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
