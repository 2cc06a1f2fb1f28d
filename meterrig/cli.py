"""The `meterrig` command: run the simulated bench, read a meter, scan a bus, decode frames."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

from . import decoding, fuzz
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

    decode = commands.add_parser(
        "decode", help="decode frames of any registered protocol from hex",
        description="Decode frames given as hex arguments, or one a line on stdin (a sniffer's "
                    "hex or a trace.jsonl); a reply on the line after its request is read as "
                    "its answer. Exit 0: all clean; 1: a frame had problems; 2: usage.")
    decode.add_argument("frames", nargs="*", metavar="HEX",
                        help="a frame in hex, spaces optional (none: read stdin)")
    decode.add_argument("--protocol", help="decode as this protocol only")
    decode.add_argument("--map", help="the register map naming registers (a shipped name or a "
                                      "file; default: its protocol's default map)")
    decode.set_defaults(run=run_decode)

    replay = commands.add_parser(
        "replay", help="send a saved robustness failure's frame to its meter again",
        description="Send the frame a fuzz test saved (reports/robustness-failures/*.json) to "
                    "the position it failed at, and show the meter's answer.")
    replay.add_argument("file", type=Path)
    replay.add_argument("--rig", type=Path, help="the bench (default: the one it failed on)")
    replay.set_defaults(run=run_replay)

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
        announcement = {"rig": str(out), "buses": bench.ports, "instruments": bench.resources,
                        "control": bench.control_address}
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


def run_decode(args: argparse.Namespace) -> int:
    specs = registry.specs()
    if args.protocol is not None and args.protocol not in specs:
        print(f"meterrig: no protocol {args.protocol!r}; registered: {', '.join(specs)}",
              file=sys.stderr)
        return 2
    chosen = [specs[args.protocol]] if args.protocol else list(specs.values())
    try:
        decoders = {spec.name: spec.load("decoder")(args.map)
                    for spec in chosen if spec.decoder is not None}
    except (KeyError, ValueError) as exc:  # a map that cannot be had
        print(f"meterrig: {exc.args[0]}", file=sys.stderr)
        return 2
    if not decoders:
        print(f"meterrig: protocol {args.protocol} has no decoder", file=sys.stderr)
        return 2
    sources = (decoding.from_arguments(args.frames) if args.frames
               else decoding.from_lines(sys.stdin))
    clean = True
    for source, reading in decoding.decode_all(sources, decoders):
        print(decoding.line(source, reading), flush=True)
        clean = clean and (reading is None or not reading.problems)
    return 0 if clean else 1


def run_replay(args: argparse.Namespace) -> int:
    try:
        failure = fuzz.Failure.load(args.file)
    except ValueError as exc:
        print(f"meterrig: {exc}", file=sys.stderr)
        return 2
    with rigs.open_rig(args.rig or failure.rig) as rig:
        master = rig.client(failure.position).master
        transaction = master.send_raw(failure.frame, label="a replayed frame",
                                      target=f"position {failure.position}", expect_reply=False)
    print(f"sent to position {failure.position} ({failure.protocol}): "
          f"{failure.frame.hex(' ').upper()}")
    print(f"answer: {transaction.raw.hex(' ').upper() or 'silence'}")
    print(f"saved verdict: {failure.verdict}")
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
