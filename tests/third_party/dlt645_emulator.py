"""Run the PyPI `dlt645` package's meter server (MeterServerService) on a serial port until
stdin closes or a signal ends it: a DL/T 645-2007 meter this project did not write.

    python -m tests.third_party.dlt645_emulator PORT ADDRESS PASSWORD_LEVEL PASSWORD

It prints "ready" once it listens. ADDRESS and PASSWORD are as the rig file writes them.
"""

from __future__ import annotations

import sys
from datetime import datetime

from dlt645 import MeterServerService

# What the meter shows: forward and reverse energy (kWh), voltage, current, power, PF, frequency.
ENERGY = {0x00000000: 1234.56, 0x00010000: 1234.56, 0x00020000: 0.0}
VARIABLES = {0x02010100: 220.1, 0x02020100: 5.012, 0x02030000: 1.1032, 0x02060000: 0.998,
             0x02800002: 50.01}


def wire_order(digits: str) -> bytes:
    """BCD bytes lowest first, as DL/T 645-2007 §5.2.2 sends an address (and §7.3 a password)."""
    return bytes.fromhex(digits)[::-1]


def main(port: str, address: str, level: str, password: str) -> None:
    # The emulator compares an address and a password byte for byte with the frame; its string
    # setters would store the digits highest byte first (the notes' "Known traps"), so it is
    # given the bytes in wire order. A pty keeps no parity (N is what it gets anyway); an
    # unfinished frame is dropped after 0.5 s of silence, the longest gap Tb DL/T 645-2007
    # §5.3.3 allows inside a frame.
    meter = MeterServerService.new_rtu_server(port=port, data_bits=8, stop_bits=1,
                                              baud_rate=2400, parity="N", timeout=0.5)
    meter.set_address(wire_order(address))
    meter.set_password(f"{int(level):02d}" + wire_order(password).hex())
    for di, value in ENERGY.items():
        meter.set_00(di, value)
    for di, value in VARIABLES.items():
        meter.set_02(di, value)
    now = datetime.now()
    meter.set_04(0x04000101, now.strftime("%y%m%d") + f"{now.isoweekday() % 7:02d}")
    meter.set_04(0x04000102, now.strftime("%H%M%S"))
    if not meter.start():
        sys.exit(f"dlt645 emulator: cannot open {port}")
    print("ready", flush=True)
    try:
        sys.stdin.read()  # the harness closes stdin to stop it
    finally:
        meter.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
