"""DL/T 645 reads per second from 8 simulated meters on one 2400 bit/s 8E1 bus.

Compares what the rig achieves with what the wire allows for the very same frames, so a reader
sees where a read's time goes: bytes on the wire, the meter's response delay (Td), and what is
left (link + client + pseudo-terminal + simulator scheduling).

    .venv/bin/python benchmarks/reads_per_second.py [--reads 200] [--response-delay-ms 40]
        [--di 00010000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from meterrig.link.wire import character_time
from meterrig.protocols.dlt645.client import MeterError
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.rig import load, open_rig

BUS = "rs485-1"
METERS = 8


def rig_dict(response_delay_ms: float) -> dict:
    """8 meters on one bus, with a simulation section so open_rig starts the simulated bench."""
    return {
        "name": "benchmark: 8 meters on one bus",
        "buses": {BUS: {"baudrate": 2400, "parity": "E", "bytesize": 8, "stopbits": 1,
                        "reply_timeout_ms": 1000, "retries": 1}},
        "positions": [{"position": n, "bus": BUS, "protocol": DLT645_2007,
                       "address": f"{n:012d}", "profile": "single-phase"}
                      for n in range(1, METERS + 1)],
        "simulation": {"meters": {n: {"response_delay_ms": response_delay_ms}
                                  for n in range(1, METERS + 1)}},
    }


def run(reads: int, response_delay_ms: float, di: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="meterrig-bench-") as tmp:
        path = Path(tmp) / "rig.yaml"
        path.write_text(yaml.safe_dump(rig_dict(response_delay_ms), sort_keys=False))
        config = load(path)  # fail here, with the rig file's own messages, if the dict is wrong
        bus = config.buses[BUS]
        char_s = character_time(bus.baudrate, bus.bytesize, bus.parity, bus.stopbits)
        with open_rig(path) as rig:
            positions = [p.number for p in rig.positions]
            clients = [rig.client(n) for n in positions]
            link = rig.link_of(positions[0])
            # One untimed round first, so that one-off start-up costs (a fresh pty, the
            # simulator's first requests) are not counted as steady-state reads.
            for client in clients:
                client.read(di)
            link.exchanges.clear()
            retries_before = sum(c.retries_used for c in clients)
            failed = 0
            start = time.perf_counter()
            for i in range(reads):
                try:
                    clients[i % len(clients)].read(di)
                except MeterError:
                    failed += 1  # counted, not fatal: a benchmark should still report
            wall = time.perf_counter() - start
            retries = sum(c.retries_used for c in clients) - retries_before
            exchanges = list(link.exchanges)
            notes = list(link.notes)  # e.g. a pty cannot keep parity: wire time is computed

    # Everything below is from the link's exchange records of the timed reads only.
    request_wire = sum(len(e.request) for e in exchanges) * char_s
    reply_wire = sum(len(e.reply) for e in exchanges) * char_s
    tds = [e.response_delay for e in exchanges if e.response_delay is not None]
    wire = request_wire + reply_wire
    td = sum(tds)
    achieved = reads / wall
    limit_wire = reads / wire  # = 1 / mean(request + reply wire time per read)
    limit_wire_td = reads / (wire + td)  # = 1 / mean(wire + Td per read)
    per_read_ms = {
        "cycle": wall / reads * 1e3,
        "request_wire": request_wire / reads * 1e3,
        "reply_wire": reply_wire / reads * 1e3,
        "td": td / reads * 1e3,
    }
    per_read_ms["overhead"] = per_read_ms["cycle"] - (wire + td) / reads * 1e3
    return {
        "meters": len(positions),
        "bus": f"{bus.baudrate} bit/s {bus.bytesize}{bus.parity}{bus.stopbits}",
        "character_time_ms": char_s * 1e3,
        "di": f"{di:08X}",
        "response_delay_ms_configured": response_delay_ms,
        "reads": reads,
        "failed": failed,
        "retries": retries,
        "exchanges": len(exchanges),
        "request_bytes": sum(len(e.request) for e in exchanges) / len(exchanges),
        "reply_bytes": sum(len(e.reply) for e in exchanges) / len(exchanges),
        "wall_s": wall,
        "reads_per_s": achieved,
        "limit_wire_reads_per_s": limit_wire,
        "ratio_wire": achieved / limit_wire,
        "limit_wire_td_reads_per_s": limit_wire_td,
        "ratio_wire_td": achieved / limit_wire_td,
        # Unanswered exchanges have no Td; with no reply at all there is nothing to show.
        "td_ms": {"mean": statistics.fmean(tds) * 1e3, "min": min(tds) * 1e3,
                  "max": max(tds) * 1e3} if tds else None,
        "per_read_ms": per_read_ms,
        "link_notes": notes,
    }


def table(r: dict) -> str:
    ms = r["per_read_ms"]
    td = r["td_ms"]
    rows = [
        ("setup", f"{r['meters']} meters, {r['bus']} (char {r['character_time_ms']:.3f} ms), "
                  f"DI {r['di']}, Td set {r['response_delay_ms_configured']:g} ms"),
        ("reads", f"{r['reads']} ({r['failed']} failed, {r['retries']} retries, "
                  f"{r['exchanges']} exchanges)"),
        ("frame bytes", f"request {r['request_bytes']:.0f}, reply {r['reply_bytes']:.0f} "
                        "(preambles included)"),
        ("wall", f"{r['wall_s']:.2f} s"),
        ("achieved", f"{r['reads_per_s']:.3f} reads/s"),
        ("wire limit", f"{r['limit_wire_reads_per_s']:.3f} reads/s   "
                       f"achieved/limit {r['ratio_wire']:.3f}"),
        ("wire+Td limit", f"{r['limit_wire_td_reads_per_s']:.3f} reads/s   "
                          f"achieved/limit {r['ratio_wire_td']:.3f}"),
        ("Td measured", f"mean {td['mean']:.1f} ms, min {td['min']:.1f}, max {td['max']:.1f}"
                        if td else "no replies"),
        ("per read", f"{ms['cycle']:.1f} ms = request wire {ms['request_wire']:.1f} "
                     f"+ Td {ms['td']:.1f} + reply wire {ms['reply_wire']:.1f} "
                     f"+ overhead {ms['overhead']:.1f}"),
    ]
    rows += [("link note", note) for note in r["link_notes"]]
    return "\n".join(f"{name:<14} {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200, help="timed reads (default 200)")
    parser.add_argument("--response-delay-ms", type=float, default=40.0,
                        help="every simulated meter's Td (default 40, the simulator's default)")
    parser.add_argument("--di", default="00010000", help="data identifier, hex (default 00010000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    if args.reads < 1:
        parser.error("--reads must be at least 1")
    result = run(args.reads, args.response_delay_ms, int(args.di, 16))
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
