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
from .results.database import ENVIRONMENT as RESULTS_DB
from .results.database import ResultsError, open_existing
from .results.regress import defaults as regress_defaults
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

    certificate = commands.add_parser(
        "certificate", help="a meter's test certificate (HTML) from the results database",
        description="Render the certificate of the meter's latest run: identity, bench, "
                    "instruments with calibration dates, reference conditions, the results with "
                    "limits and outcomes, the error curve, the overall verdict.")
    certificate.add_argument("serial", help="the meter's serial number")
    _results_db_option(certificate)
    certificate.add_argument("--out", type=Path,
                             help="the HTML file (default: reports/certificate-SERIAL.html)")
    certificate.set_defaults(run=run_certificate)

    report = commands.add_parser(
        "report", help="yield, failing tests, error distribution and trends from the results "
                       "database: PNG plots and one HTML page")
    _results_db_option(report)
    report.add_argument("--out", type=Path, default=Path("reports/report"),
                        help="the folder for index.html and its plots (default: reports/report)")
    report.add_argument("--trend", action="append", metavar="KEY",
                        help="a measurement key to plot over time with its limits (repeatable; "
                             "default: accuracy.mean_error)")
    report.set_defaults(run=run_report)

    line = commands.add_parser(
        "line", help="the production line's routine sequence on every position at once",
        description="Comms, meter number against the scanned serial, written and read back, "
                    "address, clock, starting, creep, routine accuracy points, relay "
                    "(suites/production), the buses in parallel; --position: those positions "
                    "only (a retest). Exit 0: every position run passed; 1: a position failed, "
                    "was inconclusive or did not finish; 2: usage.")
    line.add_argument("--rig", type=Path, default=DEFAULT_RIG)
    line.add_argument("--serials", type=Path, help="the scanned serials: lines of 'POSITION "
                                                    "SERIAL' (default: the rig file's serial)")
    line.add_argument("--serial", action="append", default=[], metavar="POSITION=SERIAL",
                      help="one position's scanned serial (repeatable; over --serials)")
    line.add_argument("--position", action="append", type=int, default=[], metavar="N",
                      help="run the sequence on this position only, e.g. a re-seated meter's "
                           "retest (repeatable; default: every position)")
    line.add_argument("--reports", type=Path, help="where reports go (default: reports/)")
    line.add_argument("--workers", default="auto",
                      help="parallel workers (default auto: one per bus and one for the "
                           "instruments; 0: one process)")
    line.set_defaults(run=run_line)

    regress = commands.add_parser(
        "regress", help="the nightly gate: fail on a drift from the previous nights' values",
        description="Compare every measurement of the latest complete run with the mean of the "
                    "previous complete runs of its rig at its station; a drift beyond a fraction "
                    "of the limit width is a regression (defaults: limits/regression.yaml). "
                    "Exit 0: none (or no previous run); 1: a regression, tabled; 2: no "
                    "complete run.")
    _results_db_option(regress)
    nights, fraction = regress_defaults()
    regress.add_argument("--nights", type=int, default=nights,
                         help=f"previous complete runs to average (default {nights})")
    regress.add_argument("--fraction", type=float, default=fraction,
                         help=f"of the limit width a drift may reach (default {fraction:g})")
    regress.add_argument("--station", help="judge this station's latest run (default: the "
                                           "latest complete run of any)")
    regress.set_defaults(run=run_regress)

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
            ReplyMismatch, ResultsError) as exc:
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


def run_line(args: argparse.Namespace) -> int:
    from .line import LineError, main_line  # pytest and rich: only the line needs them

    config = rigs.load(args.rig)
    try:
        return main_line(args.rig, config, args.serials, args.serial, args.reports,
                         args.workers, args.position)
    except (OSError, ValueError) as exc:
        print(f"meterrig line: {exc}", file=sys.stderr)
        return 2
    except LineError as exc:
        print(f"meterrig line: {exc}", file=sys.stderr)
        return 1


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
        # A device that carries other meters' frames (a carrier module) knows its meters: its
        # archive is the scan ("(archive empty)" lists none); a bus of meters is scanned on the
        # wire.
        modules = [p for p in rig.positions if p.bus == args.bus and p.via is None
                   and registry.get(p.protocol).relay is not None]
        found = [line for m in modules for line in registry.get(m.protocol).load("reader")(
            m, "archive")(rig.client(m.number)).splitlines()
            if not line.startswith("(")] if modules \
            else scan_bus(rig.links[args.bus])
    for address in found:
        print(address)
    print(f"# {len(found)} meter(s) on bus {args.bus}", file=sys.stderr)
    return 0


def _results_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLAlchemy URL of the results database (default: "
                                     f"{RESULTS_DB}, else sqlite:///reports/results.sqlite)")


def run_certificate(args: argparse.Namespace) -> int:
    from .results.certificate import NoSuchMeter, certificate  # matplotlib: only when asked

    database = open_existing(args.db)
    try:
        with database.session() as session:
            html = certificate(session, args.serial).html()
    except NoSuchMeter as exc:
        print(f"meterrig: {exc}", file=sys.stderr)
        return 1
    finally:
        database.close()
    out = args.out or Path("reports") / f"certificate-{args.serial}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(out)
    return 0


def run_regress(args: argparse.Namespace) -> int:
    from .results.regress import NoRun, compare, table_text

    database = open_existing(args.db)
    try:
        with database.session() as session:
            try:
                comparison = compare(session, args.nights, args.fraction, args.station)
            except NoRun as exc:
                print(f"meterrig: {exc}", file=sys.stderr)
                return 2
            print(table_text(comparison, args.fraction))
    finally:
        database.close()
    return 1 if comparison.regressions else 0  # a first night has nothing to drift from


def run_report(args: argparse.Namespace) -> int:
    from .results.report import write_report

    database = open_existing(args.db)
    try:
        with database.session() as session:
            page = write_report(session, args.out, args.trend or None)
    finally:
        database.close()
    print(page)
    return 0
