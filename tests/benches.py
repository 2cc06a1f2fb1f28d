"""Small simulated benches the self-tests run suites against, as rig-file data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

RIGS = Path(__file__).parent / "rigs"

METER = {"bus": "rs485-1", "protocol": "dlt645-2007", "password": {"level": 2, "value": "123456"}}
# Several benches run at once on a CI machine of 2 cores: a simulated instrument may be starved
# for seconds (seen once: a 2 s VISA timeout), which must not pass for a verdict.
SLOW = {"timeout_ms": 10000}
INSTRUMENTS = {"source": {"driver": "sim-source", **SLOW},
               "reference": {"driver": "sim-reference", **SLOW},
               "error-calculator": {"driver": "sim-error-calculator", **SLOW}}
# bench -> (the suite it runs, its rig). One meter is enough to judge a protocol (a meter that
# answers for others would garble a neighbour's replies); the metering suites get a good
# neighbour to show that one position's failure leaves the others' verdicts alone.
BENCHES = {
    "protocol": ("protocol", {
        "name": "one simulated DL/T 645 meter",
        "buses": {"rs485-1": {}},
        "positions": [{"position": 1, "address": "000000000001", **METER}],
    }),
    "modbus": ("protocol", {
        "name": "one simulated Modbus meter and the bench instruments",
        "clock": {"speedup": 5000},
        "buses": {"modbus-1": {"baudrate": 9600, "parity": "N", "reply_timeout_ms": 500}},
        "positions": [{"position": 1, "bus": "modbus-1", "protocol": "modbus-rtu", "address": 1,
                       "profile": "sdm120", "un": 230, "ib": 5, "imax": 45, "constant": 1000,
                       "accuracy": {"standard": "en50470-3", "class": "B"}}],
        "instruments": INSTRUMENTS,
    }),
    "dlt645-1997": ("protocol", {
        "name": "one simulated DL/T 645-1997 meter",
        "buses": {"rs485-1": {}},
        "positions": [{"position": 1, "bus": "rs485-1", "protocol": "dlt645-1997",
                       "address": "000000000001"}],
    }),
    "robustness": ("robustness", {
        "name": "one simulated DL/T 645 meter for fuzzing",
        "clock": {"speedup": 1000},
        "buses": {"rs485-1": {}},
        "positions": [{"position": 1, "address": "000000000001", **METER}],
    }),
    "metering": ("metering", {
        "name": "two simulated meters and the bench instruments",
        "clock": {"speedup": 5000},
        "buses": {"rs485-1": {}},
        "positions": [{"position": 1, "address": "000000000001", **METER},
                      {"position": 2, "address": "000000000002", **METER}],
        "instruments": INSTRUMENTS,
    }),
}
# The prepaid benches (one prepaid meter each: its trip cuts the series current loop) run
# suites/prepaid; their rigs are the files the suite is run against by hand.
BENCHES |= {
    f"prepaid-{mode}": ("prepaid", yaml.safe_load((RIGS / f"prepaid-{mode}.yaml").read_text()))
    for mode in ("local", "remote")
}
# The carrier bench (a module, two meters behind it and also on RS485, the line instruments)
# runs suites/carrier; its rig is the shipped rigs/carrier.yaml.
BENCHES["carrier"] = ("carrier", yaml.safe_load(
    (RIGS.parents[1] / "rigs" / "carrier.yaml").read_text()))


def selected_benches(session: pytest.Session) -> set[tuple[str, str | None]]:
    """(bench, defect) of each selected test parametrized with a bench of BENCHES
    (another test's `bench` parameter may be something else: test_bus_timing's is a rig)."""
    return {(params["bench"], params.get("defect")) for item in session.items
            if isinstance(params := getattr(getattr(item, "callspec", None), "params", {}), dict)
            and isinstance(params.get("bench"), str) and params["bench"] in BENCHES}
