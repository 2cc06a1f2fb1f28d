"""Independent Modbus masters read the simulated meter: it is their Modbus, not just ours."""

from __future__ import annotations

import re
import subprocess

import pytest
from pymodbus.client import ModbusSerialClient

from meterrig.clock import RigClock
from meterrig.protocols.modbus import pdu as p
from meterrig.protocols.modbus.registers import register_map
from meterrig.sim.bus import ModbusRtuReceiver, SimulatedBus
from meterrig.sim.modbus_meter import SimulatedModbusMeter
from meterrig.sim.physics import BenchPhysics, MeterPhysics
from tests.tools import require

SDM120 = register_map("sdm120")
QUANTITIES = ("voltage", "current", "frequency")
UNMAPPED = SDM120.unmapped_address("input")


@pytest.fixture
def physics() -> BenchPhysics:
    bench = BenchPhysics(RigClock(1), {1: MeterPhysics(un=230)})
    bench.set_source(voltage=229.4, current=12.35, phase_deg=25.0, frequency=50.03)
    return bench


@pytest.fixture
def port(physics):
    """The pty of a running bus at 9600 8N1 with one SDM120-style meter, device id 1."""
    meter = SimulatedModbusMeter(position=1, device_id=1, register_map=SDM120, physics=physics,
                                 serial_number=20260001, baudrate=9600, framing="8N1",
                                 response_delay=0.020)
    bus = SimulatedBus("modbus", baudrate=9600, bytesize=8, parity="N", stopbits=1,
                       meters=[meter], receiver=ModbusRtuReceiver()).start()
    yield bus.port
    bus.stop()


def physics_value(physics: BenchPhysics, quantity: str) -> float:
    return getattr(physics.readings(1), quantity)


def mbpoll(program: str, port: str, address: int) -> subprocess.CompletedProcess:
    """One float32 from the input registers, high word first, PDU addressing (-0)."""
    return subprocess.run(
        [program, "-m", "rtu", "-a", "1", "-b", "9600", "-d", "8", "-s", "1", "-P", "none",
         "-t", "3:float", "-B", "-0", "-r", str(address), "-c", "1", "-1", "-o", "1", port],
        capture_output=True, text=True, timeout=10)


def test_mbpoll_reads_the_meter(port, physics):
    program = require("mbpoll")
    for quantity in QUANTITIES:
        register = SDM120.measuring(quantity)
        done = mbpoll(program, port, register.address)
        assert done.returncode == 0, done.stderr
        # mbpoll prints "[<reference>]: \t<value>" per value read
        printed = re.search(rf"^\[{register.address}\]:\s+(\S+)$", done.stdout, re.MULTILINE)
        assert printed, done.stdout
        assert float(printed[1]) == pytest.approx(physics_value(physics, quantity), abs=0.01)


def test_mbpoll_sees_an_exception_for_an_unmapped_address(port):
    done = mbpoll(require("mbpoll"), port, UNMAPPED)
    assert done.returncode != 0
    assert "Illegal data address" in done.stderr


@pytest.fixture
def client(port):
    client = ModbusSerialClient(port, baudrate=9600, bytesize=8, parity="N", stopbits=1,
                                timeout=1, retries=0)
    assert client.connect()
    yield client
    client.close()


def test_pymodbus_reads_the_meter(client, physics):
    for quantity in QUANTITIES:
        register = SDM120.measuring(quantity)
        response = client.read_input_registers(register.address, count=register.count,
                                               device_id=1)
        assert not response.isError(), response
        value = client.convert_from_registers(response.registers,
                                              client.DATATYPE.FLOAT32, word_order="big")
        assert value == pytest.approx(physics_value(physics, quantity), abs=0.01)


def test_pymodbus_sees_an_exception_for_an_unmapped_address(client):
    response = client.read_input_registers(UNMAPPED, count=2, device_id=1)
    assert response.isError()
    assert response.exception_code == p.ILLEGAL_ADDRESS
