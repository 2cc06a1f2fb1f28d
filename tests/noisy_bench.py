"""A fast simulated bench for runs on a noisy bus: one DL/T 645 and one Modbus meter, each on a
bus of its own (DL/T 645 at 115200 bit/s, Modbus at the 9600 its map allows), answering at once
and listened to briefly (timing is not judged here: noise is)."""

from __future__ import annotations

NOISY_BENCH = {
    "name": "two fast simulated meters for noise runs",
    "buses": {"dlt": {"baudrate": 115200, "reply_timeout_ms": 50},
              "modbus": {"baudrate": 9600, "parity": "N", "reply_timeout_ms": 50}},
    "positions": [
        {"position": 1, "bus": "dlt", "protocol": "dlt645-2007", "address": "000000000001"},
        {"position": 2, "bus": "modbus", "protocol": "modbus-rtu", "address": 1,
         "profile": "sdm120", "un": 230, "ib": 5, "imax": 45, "constant": 1000,
         "accuracy": {"standard": "en50470-3", "class": "B"}},
    ],
    "simulation": {"meters": {1: {"response_delay_ms": 1}, 2: {"response_delay_ms": 5}}},
}
# The noise of each run (set at run time on the bench's control channel): bit-error rate, the
# share of frames hit by a burst.
LEVELS = {"ber 1e-4": (1e-4, 0.0), "ber 1e-3 + bursts": (1e-3, 0.02)}
