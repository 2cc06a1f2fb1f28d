"""Reads through a simulated carrier module against direct RS485 reads, and the noise curve's
run time at 1 and at 8 meters behind the module.

Reads per minute: the same simulated meter (a position of one protocol and address is one
simulated device) read `--reads` times through the module (13 F1 over the simulated mains, at
the module's UART rate) and on an RS485 bus at the same rate. The curve: suites/carrier's
`test_read_success_at_line_level` over every level of limits/carrier.yaml, `--carrier-reads`
reads per meter per level, timed as a pytest run in a subprocess.

    python benchmarks/carrier.py [--reads 100] [--curve-reads 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.gdw13762.spec import GDW1376_2
from meterrig.rig import open_rig

ROOT = Path(__file__).resolve().parents[1]
ENERGY = 0x00010000


def rig_dict(meters: int) -> dict:
    """A module with `meters` meters behind it (paths 30 dB and 2 dB more each, phase 1), the
    same meters on an RS485 bus, the line instruments."""
    behind = range(2, meters + 2)
    return {
        "name": f"benchmark: a carrier module with {meters} meter(s)",
        "clock": {"speedup": 5000},
        "buses": {"carrier": {"baudrate": 9600, "parity": "E", "reply_timeout_ms": 300},
                  "rs485-1": {"baudrate": 9600, "parity": "E", "reply_timeout_ms": 1000}},
        "positions": [{"position": 1, "bus": "carrier", "protocol": GDW1376_2,
                       "address": "000000000100", "profile": "narrowband-2013"}]
        + [{"position": n, "protocol": DLT645_2007, "address": f"{n:012d}", "via": 1}
           for n in behind]
        + [{"position": 100 + n, "bus": "rs485-1", "protocol": DLT645_2007,
            "address": f"{n:012d}"} for n in behind],
        "instruments": {"noise-injector": {"driver": "sim-noise-injector"},
                        "attenuator": {"driver": "sim-attenuator"}},
        "simulation": {"meters": {n: {"plc_path_db": 30 + 2 * (n - 2), "phase": 1,
                                      "response_delay_ms": 40} for n in behind}},
    }


def _rig_file(tmp: Path, meters: int) -> Path:
    path = tmp / f"carrier-{meters}.yaml"
    path.write_text(yaml.safe_dump(rig_dict(meters), sort_keys=False))
    return path


def reads_per_minute(path: Path, reads: int) -> dict:
    with open_rig(path) as rig:
        result = {}
        for way, position in (("through the module", 2), ("direct RS485", 102)):
            client = rig.client(position)
            client.read(ENERGY)  # the module's 03 F10 and the first route, outside the timing
            start = time.monotonic()
            for _ in range(reads):
                client.read(ENERGY)
            seconds = time.monotonic() - start
            result[way] = {"reads": reads, "seconds": round(seconds, 2),
                           "reads_per_minute": round(60 * reads / seconds, 1)}
    return result


def curve_seconds(path: Path, carrier_reads: int, work: Path) -> dict:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites" / "carrier" / "test_carrier_noise.py"),
         "-k", "test_read_success_at_line_level", "--rig", str(path), "--carrier-reads",
         str(carrier_reads), "--reports", str(work / "reports"), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True)
    return {"seconds": round(time.monotonic() - start, 1), "exit": done.returncode,
            "summary": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--curve-reads", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meterrig-carrier-") as tmp:
        work = Path(tmp)
        result = {"reads": reads_per_minute(_rig_file(work, 1), args.reads),
                  "curve": {meters: curve_seconds(_rig_file(work, meters), args.curve_reads,
                                                  work / str(meters)) for meters in (1, 8)}}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for way, figures in result["reads"].items():
            print(f"{way}: {figures['reads_per_minute']} reads/min ({figures['reads']} reads "
                  f"in {figures['seconds']} s)")
        for meters, figures in result["curve"].items():
            print(f"noise curve, {meters} meter(s), {args.curve_reads} reads per meter per "
                  f"level: {figures['seconds']} s ({figures['summary']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
