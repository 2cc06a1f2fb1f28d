"""The `meterrig` command: run the simulated bench, read a meter, scan a bus."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

from . import rig as rigs
from .config import PositionConfig, RigConfig, RigFileError, dump_rig
from .link.serial_link import LinkError
from .meter import MeterError
from .protocols import registry
from .protocols.dlt645.commands import AbnormalReply, ReplyMismatch
from .protocols.dlt645.scan import scan_bus
from .sim.bench import SimulatedBench, SimulationError

DEFAULT_RIG = Path("rigs/sim.yaml")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="meterrig", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser("sim", help="run the simulated bench until interrupted")
    sim.add_argument("rig", nargs="?", type=Path, default=DEFAULT_RIG)
    sim.add_argument("--out", type=Path, help="where to write the hardware-like rig file")
    sim.set_defaults(run=run_sim)

    read = commands.add_parser("read", help="read one value from one meter")
    read.add_argument("--rig", type=Path, default=DEFAULT_RIG)
    read.add_argument("meter", help="position number, or the meter's address")
    read.add_argument("item", help="DL/T 645: a data identifier in hex (2007: 00010000, 1997: "
                                   "9010); Modbus: a register name of its map (e.g. voltage)")
    read.set_defaults(run=run_read)

    scan = commands.add_parser("scan", help="find the meters on a bus")
    scan.add_argument("--rig", type=Path, default=DEFAULT_RIG)
    scan.add_argument("bus")
    scan.set_defaults(run=run_scan)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (RigFileError, SimulationError, LinkError, MeterError, AbnormalReply,
            ReplyMismatch) as exc:
        print(f"meterrig: {exc}", file=sys.stderr)
        return 1


def run_sim(args: argparse.Namespace) -> int:
    config = rigs.load(args.rig)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with SimulatedBench(config) as bench, tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / f"{config.path.stem}-running.yaml"
        out.write_text(dump_rig(bench.hardware_rig()))
        announcement = {"rig": str(out), "buses": bench.ports, "instruments": bench.resources}
        print(json.dumps(announcement), flush=True)
        stop.wait()
    return 0


def run_read(args: argparse.Namespace) -> int:
    config = rigs.load(args.rig)
    position = _position(config, args.meter)
    try:
        read = registry.get(position.protocol).load("reader")(position, args.item)
    except (ValueError, KeyError) as exc:
        print(f"meterrig: {exc.args[0]}", file=sys.stderr)
        return 2
    with rigs.open_rig(args.rig) as rig:
        print(read(rig.client(position.number)))
    return 0


def _position(config: RigConfig, meter: str) -> PositionConfig:
    for position in config.positions:
        if meter in (str(position.address), str(position.number)):
            return position
    known = ", ".join(f"{p.number} ({p.address})" for p in config.positions)
    raise MeterError(f"no meter {meter!r} on this rig; positions: {known}")


def run_scan(args: argparse.Namespace) -> int:
    with rigs.open_rig(args.rig) as rig:
        if args.bus not in rig.links:
            raise MeterError(f"no bus {args.bus!r} on this rig; buses: {', '.join(rig.links)}")
        found = scan_bus(rig.links[args.bus])
    for address in found:
        print(address)
    print(f"# {len(found)} meter(s) on bus {args.bus}", file=sys.stderr)
    return 0
