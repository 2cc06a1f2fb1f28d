"""A bus behind an RFC 2217 server (ser2net), as a remote bench is reached: the same link and
client as for a local port."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from meterrig import rig as rigs
from meterrig.link.serial_link import Link
from meterrig.protocols.dlt645.client import Dlt645Client
from meterrig.sim.bench import SimulatedBench, initial_register_kwh
from tests.tools import require

RIG = """
name: one meter behind ser2net
buses: {rs485-1: {baudrate: 2400, parity: E}}
positions:
  - {position: 1, bus: rs485-1, protocol: dlt645-2007, address: "000000000001"}
simulation: {meters: {}}
"""
# ser2net 4 configuration, as ../shared/ENVIRONMENT.md found it to work
SER2NET = """
connection: &bus
  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}
  connector: serialdev,{device},2400e81,local
  options:
    kickolduser: true
    chardelay: false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def remote_bus(tmp_path):
    ser2net = require("ser2net")
    rig_file = tmp_path / "rig.yaml"
    rig_file.write_text(RIG)
    with SimulatedBench(rigs.load(rig_file)) as bench:
        port = free_port()
        config = tmp_path / "ser2net.yaml"
        config.write_text(SER2NET.format(port=port, device=bench.ports["rs485-1"]))
        server = subprocess.Popen([ser2net, "-d", "-n", "-c", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"rfc2217://127.0.0.1:{port}?ign_set_control"
        finally:
            server.terminate()
            server.wait(timeout=5)


def test_a_meter_read_through_rfc2217(remote_bus):
    with Link("remote", remote_bus, baudrate=2400, parity="E") as link:
        reading = Dlt645Client(link, "000000000001", reply_window=1.0).read(0x00010000)
    assert float(reading.quantity.value) == pytest.approx(initial_register_kwh(1))
    exchange = reading.transactions[0].exchanges[0]
    assert exchange.response_delay == pytest.approx(0.040, abs=0.030)
