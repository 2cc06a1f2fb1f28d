"""Fuzz frames per second per protocol, and soak reads per second against the wire limit.

The bench is tests/noisy_bench.py (one DL/T 645 meter at 115200 bit/s, one Modbus meter at 9600,
each on its own bus, answering at once, a 50 ms reply window), quiet.

- fuzz: frames mutated from the meter's valid energy read (meterrig/fuzz.py, hypothesis), how
  many are made per second, and how many the rig sends and judges per second (each invalid
  frame is listened to for one reply window, then the line is left silent for the protocol's
  frame limit, as suites/robustness does);
- soak: the meter's energy read for --seconds; reads/s achieved against the wire limit
  (1 / mean(request + reply wire time), as benchmarks/reads_per_second.py computes it).

    .venv/bin/python benchmarks/robustness.py [--frames 200] [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meterrig import faults, fuzz, soak  # noqa: E402
from meterrig import rig as rigs  # noqa: E402
from meterrig.link.wire import character_time  # noqa: E402
from tests.noisy_bench import NOISY_BENCH  # noqa: E402


def fuzz_rate(rig, number: int, frames: int) -> dict:
    position = rig.config.position(number)
    bus = rig.config.buses[position.bus]
    link, client = rig.link_of(number), rig.client(number)
    rig.meter(number).forward_energy_kwh()
    wire = link.exchanges[-1].request
    strategy = fuzz.mutations(wire, fuzz.longest_frame(position.protocol))
    made: list[bytes] = []

    @settings(max_examples=frames, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(frame=strategy)
    def generate(frame: bytes) -> None:
        made.append(frame)

    start = time.monotonic()
    generate()
    generated_s = time.monotonic() - start
    silence = faults.SPLIT_GAP_FACTOR * (
        faults.inter_character_limit(position.protocol, bus.baudrate) or 0.0)
    sent = answered = 0
    start = time.monotonic()
    for frame in made:
        if fuzz.holds_valid_frame(position.protocol, frame, bus.baudrate):
            continue
        transaction = client.master.send_raw(frame, label="fuzz", target=f"position {number}",
                                             expect_reply=False)
        link.settle(max(0.0, silence - client.reply_window))
        sent += 1
        answered += bool(transaction.raw)
    sent_s = time.monotonic() - start
    return {"protocol": position.protocol, "generated": len(made),
            "generated_per_second": round(len(made) / generated_s, 1), "invalid_sent": sent,
            "answered": answered, "sent_per_second": round(sent / sent_s, 2),
            "reply_window_ms": client.reply_window * 1e3}


def soak_rate(rig, number: int, seconds: float) -> dict:
    position = rig.config.position(number)
    bus = rig.config.buses[position.bus]
    link = rig.link_of(number)
    first = len(link.exchanges)
    result = soak.poll(rig.meter(number), rig.client(number),
                       more=soak.for_seconds(seconds))
    exchanges = link.exchanges[first:]
    char_s = character_time(bus.baudrate, bus.bytesize, bus.parity, bus.stopbits)
    wire = sum(len(e.request) + len(e.reply) for e in exchanges) * char_s
    limit = len(exchanges) / wire if wire else float("nan")
    return {"protocol": position.protocol, "baudrate": bus.baudrate, "reads": result.reads,
            "retries": result.retries, "failed": len(result.failures),
            "reads_per_second": round(result.reads_per_second, 1),
            "wire_limit_reads_per_second": round(limit, 1),
            "of_wire_limit": round(result.reads_per_second / limit, 3),
            "p50_ms": round(result.percentile(50) * 1e3, 2),
            "p99_ms": round(result.percentile(99) * 1e3, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rig.yaml"
        path.write_text(yaml.safe_dump(NOISY_BENCH, sort_keys=False))
        with rigs.open_rig(path) as rig:
            numbers = [p.number for p in rig.positions]
            rows = {"fuzz": [fuzz_rate(rig, n, args.frames) for n in numbers],
                    "soak": [soak_rate(rig, n, args.seconds) for n in numbers]}
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows["fuzz"]:
            print(f"fuzz {r['protocol']:<12} {r['generated_per_second']} frames/s generated; "
                  f"{r['invalid_sent']} invalid sent at {r['sent_per_second']} frames/s "
                  f"(reply window {r['reply_window_ms']:g} ms), {r['answered']} answered")
        for r in rows["soak"]:
            print(f"soak {r['protocol']:<12} {r['reads_per_second']} reads/s, wire limit "
                  f"{r['wire_limit_reads_per_second']} ({r['of_wire_limit']:.0%}) at "
                  f"{r['baudrate']} bit/s; p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms; "
                  f"retries {r['retries']}, failed {r['failed']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
