"""Wall time of the IEC 62053-21 class 1 accuracy sequence for 1 and for 24 simulated positions.

Runs every standard load point as the metering suites do (`MeteringProcedure.accuracy`, called
for each position at each point: the first call makes the group measurement of the whole
same-rated group, the rest are given that recorded measurement) and times the sequence.
Target: 24 positions take at most 1.15x the time of one. Also shows the metrology speed-up
achieved: rig seconds spent in pulse-comparison gates / wall seconds.

    .venv/bin/python benchmarks/accuracy_sequence.py [--speedup 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for meterrig

from meterrig.metrology import MeteringBench, MeteringProcedure, Standard, rating  # noqa: E402
from meterrig.metrology.maths import pulse_period_s  # noqa: E402
from meterrig.protocols.dlt645.spec import DLT645_2007  # noqa: E402
from meterrig.rig import load, open_rig  # noqa: E402

BUSES = 4
PER_BUS = 6
TARGET_RATIO = 1.15  # issue 9, "the benchmarks hold"


class GateTimer:
    """The rig clock, noting how many rig seconds each `wait_for` (one gate) took."""

    def __init__(self, clock, gates: list[float]) -> None:
        self._clock = clock
        self._gates = gates

    def __getattr__(self, name: str):
        return getattr(self._clock, name)

    def wait_for(self, *args, **kwargs) -> bool:
        begin = self._clock.now()
        try:
            return self._clock.wait_for(*args, **kwargs)
        finally:
            self._gates.append(self._clock.now() - begin)


def rig_dict(positions: int, speedup: float) -> dict:
    """`positions` same-rated class 1 meters, 6 to a 2400 bit/s bus, on the simulated bench."""
    buses = sorted({f"rs485-{(n - 1) // PER_BUS + 1}" for n in range(1, positions + 1)})
    return {
        "name": f"benchmark: accuracy sequence, {positions} positions",
        "clock": {"speedup": speedup},
        "buses": {bus: {"baudrate": 2400, "parity": "E", "reply_timeout_ms": 1000,
                        "retries": 1} for bus in buses},
        "positions": [{"position": n, "bus": f"rs485-{(n - 1) // PER_BUS + 1}",
                       "protocol": DLT645_2007, "address": f"{n:012d}",
                       "profile": "single-phase",
                       "accuracy": {"standard": "iec62053-21", "class": "1"},
                       "un": 220, "ib": 5, "imax": 60, "fn": 50, "constant": 1200,
                       "password": {"level": 2, "value": "123456"},
                       "operator": "00000000"}
                      for n in range(1, positions + 1)],
        "instruments": {"source": {"driver": "sim-source"},
                        "reference": {"driver": "sim-reference"},
                        "error-calculator": {"driver": "sim-error-calculator"}},
        "simulation": {"meters": {n: {"response_delay_ms": 40}
                                  for n in range(1, positions + 1)}},
    }


def run(positions: int, speedup: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="meterrig-bench-") as tmp:
        path = Path(tmp) / "rig.yaml"
        path.write_text(yaml.safe_dump(rig_dict(positions, speedup), sort_keys=False))
        load(path)  # fail here, with the rig file's own messages, if the dict is wrong
        with open_rig(path) as rig:
            procedure = MeteringProcedure(MeteringBench(rig))
            clock = rig.clock
            gates: list[float] = []  # rig seconds of each pulse-comparison gate
            rig.clock = GateTimer(clock, gates)  # only the pulse comparison waits on it here
            meter = rating(rig.positions[0])
            standard = Standard.for_rating(meter)
            points = standard.load_points(meter)
            # what the gates should take: readings x m pulses x pulse period, per point
            nominal = sum(run.readings * run.dut_pulses * pulse_period_s(
                meter.constant, p.voltage, p.current, p.power_factor, meter.elements)
                for p in points for run in [standard.accuracy_run(meter, p)])
            unfinished = 0
            rig_start = clock.now()
            start = time.perf_counter()
            for point in points:
                for position in rig.positions:
                    unfinished += procedure.accuracy(position, point).figures.readings.count(None)
            wall = time.perf_counter() - start
            rig_total = clock.now() - rig_start
    gate_s = sum(gates)
    return {"positions": positions, "speedup": speedup, "load_points": len(points),
            "gates": len(gates), "unfinished_readings": unfinished, "wall_s": wall,
            "rig_s": gate_s, "rig_s_nominal": nominal, "achieved_speedup": gate_s / wall,
            "rig_s_whole_sequence": rig_total}


def table(results: list[dict], ratio: float) -> str:
    lines = [f"{'positions':>9} {'points':>6} {'gates':>5} {'wall s':>8} {'ratio':>6} "
             f"{'rig s':>8} {'speed-up':>8}"]
    for r in results:
        shown = f"{ratio:.3f}" if r is results[-1] else "1"
        lines.append(f"{r['positions']:>9} {r['load_points']:>6} {r['gates']:>5} "
                     f"{r['wall_s']:>8.2f} {shown:>6} {r['rig_s']:>8.0f} "
                     f"{r['achieved_speedup']:>8.1f}")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    lines.append(f"target 24/1 <= {TARGET_RATIO}: {verdict}; clock speedup "
                 f"{results[0]['speedup']:g}; rig s = sum of gate durations on the rig clock; "
                 f"unfinished readings {sum(r['unfinished_readings'] for r in results)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speedup", type=float, default=1000.0,
                        help="rig clock speed-up of the simulated bench (default 1000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    if args.speedup <= 0:
        parser.error("--speedup must be positive")
    results = [run(n, args.speedup) for n in (1, BUSES * PER_BUS)]
    ratio = results[1]["wall_s"] / results[0]["wall_s"]
    if args.json:
        print(json.dumps({"results": results, "ratio_24_to_1": ratio,
                          "target_ratio": TARGET_RATIO}, indent=2))
    else:
        print(table(results, ratio))


if __name__ == "__main__":
    main()
