"""Wall time of the production line's routine sequence (`meterrig line`) on a simulated station
of 24 positions on 4 buses against 6 positions on one bus: the buses run in parallel, so the
station should take at most 1.3x the time of one bus (issue 11).

Both stations are built in code from tests/rigs/line-24.yaml without its seeded defect (every
position should pass), run one after the other with `python -m meterrig line`. Two figures
each: the command's wall time (bench start, one worker process per bus and one for the
instruments, each importing and collecting, then the sequence), and the sequence itself (from
the run's first measurement to its last, measurements.jsonl). The target is judged on the
command's wall time.

    .venv/bin/python benchmarks/line_station.py [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STATION = ROOT / "tests" / "rigs" / "line-24.yaml"
TARGET_RATIO = 1.3


def station(positions: int) -> dict:
    """The first `positions` positions of the 24-position station, no defect."""
    rig = yaml.safe_load(STATION.read_text())
    rig["positions"] = rig["positions"][:positions]
    used = {p["bus"] for p in rig["positions"]}
    rig["buses"] = {name: bus for name, bus in rig["buses"].items() if name in used}
    rig["simulation"] = {"meters": {}}
    rig["name"] = f"benchmark: line station, {positions} positions on {len(used)} bus(es)"
    return rig


def timed_line(positions: int, workdir: Path) -> tuple[float, float, int]:
    """(wall s of the command, s from the first measurement to the last, exit code)"""
    rig_file = workdir / f"station-{positions}.yaml"
    rig_file.write_text(yaml.safe_dump(station(positions), sort_keys=False))
    reports = workdir / f"reports-{positions}"
    begin = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "meterrig", "line", "--rig", str(rig_file),
                          "--reports", str(reports)], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - begin
    times = [datetime.fromisoformat(json.loads(line)["time"])
             for path in reports.glob("runs/*/measurements.jsonl")
             for line in path.read_text().splitlines()]
    return wall, (max(times) - min(times)).total_seconds(), run.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one_bus, sequence_6, code_6 = timed_line(6, Path(tmp))
        station_24, sequence_24, code_24 = timed_line(24, Path(tmp))
    ratio = station_24 / one_bus
    result = {"6 positions, 1 bus (s)": round(one_bus, 1),
              "24 positions, 4 buses (s)": round(station_24, 1), "ratio": round(ratio, 2),
              "target": TARGET_RATIO,
              "sequence only, 6 (s)": round(sequence_6, 1),
              "sequence only, 24 (s)": round(sequence_24, 1),
              "sequence ratio": round(sequence_24 / sequence_6, 2),
              "exit codes": [code_6, code_24]}
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:>26}: {value}")
    return 0 if ratio <= TARGET_RATIO and code_6 == code_24 == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
