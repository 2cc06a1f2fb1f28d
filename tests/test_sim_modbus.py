"""The simulated Modbus RTU meter on a simulated bus, driven through the real link and codec."""

from __future__ import annotations

import math
import time

import pytest

from meterrig import rig as rigs
from meterrig.clock import RigClock
from meterrig.link.exchange import Exchange
from meterrig.link.serial_link import Link
from meterrig.meter import GarbledReply, NoReply
from meterrig.protocols.dlt645.client import Dlt645Client
from meterrig.protocols.modbus import pdu as p
from meterrig.protocols.modbus import rtu
from meterrig.protocols.modbus.client import ModbusClient, ModbusException
from meterrig.protocols.modbus.registers import Register, register_map
from meterrig.sim import meters as sim_meters
from meterrig.sim.bench import SimulatedBench, SimulationError, initial_register_kwh
from meterrig.sim.bus import ModbusRtuReceiver, SimulatedBus
from meterrig.sim.defects import LATE_REPLY_S, Defects
from meterrig.sim.modbus_meter import SimulatedModbusMeter
from meterrig.sim.physics import BenchPhysics, MeterPhysics

SDM120 = register_map("sdm120")
BAUDRATE = 9600
T35 = rtu.silent_intervals(BAUDRATE)[1]  # 4.01 ms
RESPONSE_DELAY = 0.020
SERIAL_NUMBER = 20260001
HOURS_PER_SECOND = 3600  # metrology speed-up: one real second is one rig hour
UNMAPPED = SDM120.unmapped_address("input")


@pytest.fixture
def physics() -> BenchPhysics:
    bench = BenchPhysics(RigClock(1), {
        1: MeterPhysics(un=230, forward_kwh=1234.5, reverse_kwh=2.25, error_percent=1.0),
        2: MeterPhysics(un=230, forward_kwh=10.0, error_percent=-2.0),
    })
    bench.set_source(voltage=231.7, current=7.25, phase_deg=37.0, frequency=49.9)
    return bench


def simulated(physics: BenchPhysics, position: int = 1, *, device_id: int = 1,
              defects: tuple[str, ...] = (), **settings) -> SimulatedModbusMeter:
    return SimulatedModbusMeter(
        position=position, device_id=device_id, register_map=SDM120, physics=physics,
        serial_number=SERIAL_NUMBER, baudrate=BAUDRATE, framing="8N1",
        response_delay=RESPONSE_DELAY, defects=Defects(frozenset(defects)), **settings)


@pytest.fixture
def wire():
    """Start a bus with these meters; returns the master's link to it at 9600 8N1."""
    started: list[tuple[SimulatedBus, Link]] = []

    def start(*meters: SimulatedModbusMeter) -> Link:
        bus = SimulatedBus("modbus", baudrate=BAUDRATE, bytesize=8, parity="N", stopbits=1,
                           meters=list(meters), receiver=ModbusRtuReceiver()).start()
        link = Link("modbus", bus.port, baudrate=BAUDRATE, parity="N").open()
        started.append((bus, link))
        return link

    yield start
    for bus, link in started:
        link.close()
        bus.stop()


def send(link: Link, raw: bytes) -> Exchange:
    return link.exchange(raw, rtu.ReplySplitter(), reply_window=0.3, byte_gap_limit=0.05)


def ask(link: Link, request, device_id: int = 1) -> Exchange:
    return send(link, rtu.encode(device_id, request.encode()))


def reply(exchange: Exchange) -> tuple[int, p.Reply]:
    """The replying device id and its PDU, decoded strictly."""
    assert exchange.answered, "the meter stayed silent"
    adu = rtu.decode(exchange.reply)
    return adu.device_id, p.decode_reply(adu.pdu)


def read(link: Link, register: Register, device_id: int = 1) -> float:
    _, answer = reply(ask(link, p.ReadRequest(register.function, register.address,
                                              register.count), device_id))
    assert isinstance(answer, p.RegistersReply), answer
    return register.decode(answer.registers)


def write(link: Link, register: Register, value: float, device_id: int = 1) -> Exchange:
    return ask(link, p.WriteRequest(register.address, register.encode(value)), device_id)


def expected(physics: BenchPhysics, position: int) -> dict[str, float]:
    """What each register must hold, from the physics the meter measures."""
    readings = physics.readings(position)
    energy = physics.registers(position)
    volt_amperes = readings.voltage * readings.current
    phi = math.radians(physics.source.phase_deg)
    return {
        "voltage": readings.voltage,
        "current": readings.current,
        "active power": readings.active_power_w,
        "apparent power": volt_amperes,
        "reactive power": volt_amperes * math.sin(phi),
        "power factor": math.cos(phi),
        "frequency": readings.frequency,
        "import active energy": energy.forward_kwh,
        "export active energy": energy.reverse_kwh,
        "total active energy": energy.forward_kwh + energy.reverse_kwh,
        "parity": 0,  # 8N1
        "device id": 1,
        "baud rate": 2,  # 9600
        "serial number": SERIAL_NUMBER,
    }


# -- values -------------------------------------------------------------------------------------
def test_every_register_reads_the_physics(wire, physics):
    link = wire(simulated(physics))
    want = expected(physics, 1)
    assert set(want) == set(SDM120.registers)
    for name, register in SDM120.registers.items():
        # float32 keeps 7 significant digits; the energies creep on at 1.7 kW meanwhile
        assert read(link, register) == pytest.approx(want[name], rel=1e-6, abs=1e-3), name
    assert read(link, SDM120["active power"]) == pytest.approx(
        231.7 * 7.25 * math.cos(math.radians(37)) * 1.01, rel=0.005)  # with the meter's error


def test_two_meters_each_answer_their_own_device_id(wire, physics):
    link = wire(simulated(physics, 1, device_id=1), simulated(physics, 2, device_id=2))
    power = SDM120["active power"]
    assert read(link, power, 1) == pytest.approx(physics.readings(1).active_power_w, rel=1e-6)
    assert read(link, power, 2) == pytest.approx(physics.readings(2).active_power_w, rel=1e-6)
    assert read(link, power, 1) > read(link, power, 2)  # +1 % against -2 %
    assert read(link, SDM120["import active energy"], 2) == pytest.approx(10.0, abs=1e-3)


def test_energy_registers_advance_with_energy(wire):
    physics = BenchPhysics(RigClock(HOURS_PER_SECOND), {1: MeterPhysics(forward_kwh=100.0)})
    link = wire(simulated(physics))
    imported, exported, total = (SDM120[f"{kind} active energy"]
                                 for kind in ("import", "export", "total"))
    physics.set_source(voltage=230.0, current=10.0, phase_deg=0.0)  # 2.3 kW forward
    time.sleep(0.5)  # half a rig hour
    physics.set_source(current=0.0)
    assert read(link, imported) - 100.0 == pytest.approx(1.15, rel=0.05)
    assert read(link, imported) == pytest.approx(physics.registers(1).forward_kwh, abs=1e-4)
    assert read(link, exported) == 0.0
    physics.set_source(current=10.0, phase_deg=180.0)  # 2.3 kW back to the grid
    time.sleep(0.5)
    physics.set_source(current=0.0)
    assert read(link, exported) == pytest.approx(1.15, rel=0.05)
    assert read(link, total) == pytest.approx(read(link, imported) + read(link, exported),
                                              abs=1e-4)


# -- exceptions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("request_pdu", "code"), [
    pytest.param(p.OtherRequest(0x06, bytes.fromhex("00140001")), p.ILLEGAL_FUNCTION,
                 id="write single register"),
    pytest.param(p.OtherRequest(0x01, bytes.fromhex("00000008")), p.ILLEGAL_FUNCTION,
                 id="read coils"),
    pytest.param(p.OtherRequest(0x04, bytes.fromhex("000002")), p.ILLEGAL_VALUE,
                 id="read PDU too short"),
    pytest.param(p.ReadRequest(0x04, 0x0000, 0), p.ILLEGAL_VALUE, id="count 0"),
    pytest.param(p.ReadRequest(0x04, 0x0000, 126), p.ILLEGAL_VALUE, id="count 126"),
    pytest.param(p.ReadRequest(0x04, 0x0001, 2), p.ILLEGAL_ADDRESS, id="odd start"),
    pytest.param(p.ReadRequest(0x04, 0x0000, 1), p.ILLEGAL_ADDRESS, id="odd count"),
    pytest.param(p.ReadRequest(0x04, UNMAPPED, 2), p.ILLEGAL_ADDRESS, id="unmapped"),
    pytest.param(p.ReadRequest(0x04, 0x0000, 4), p.ILLEGAL_ADDRESS, id="range over a hole"),
    pytest.param(p.ReadRequest(0x03, 0x0000, 2), p.ILLEGAL_ADDRESS, id="input address as holding"),
    pytest.param(p.ReadRequest(0x04, 0x0014, 2), p.ILLEGAL_ADDRESS, id="holding address as input"),
    pytest.param(p.WriteRequest(0x0000, (0, 0)), p.ILLEGAL_ADDRESS, id="write unmapped"),
    pytest.param(p.WriteRequest(0xFC00, (0, 1)), p.ILLEGAL_ADDRESS, id="write serial number"),
    pytest.param(p.WriteRequest(0x0015, (0, 0)), p.ILLEGAL_ADDRESS, id="write mid-register"),
    pytest.param(p.WriteRequest(0x0014, SDM120["device id"].encode(5)[:1]), p.ILLEGAL_ADDRESS,
                 id="write half a register"),
    pytest.param(p.WriteRequest(0x0014, SDM120["device id"].encode(5) * 2), p.ILLEGAL_ADDRESS,
                 id="write past the register"),
    pytest.param(p.WriteRequest(0x0014, ()), p.ILLEGAL_VALUE, id="write no registers"),
    pytest.param(p.WriteRequest(0x0014, SDM120["device id"].encode(0)), p.ILLEGAL_VALUE,
                 id="device id 0"),
    pytest.param(p.WriteRequest(0x0014, SDM120["device id"].encode(248)), p.ILLEGAL_VALUE,
                 id="device id 248"),
    pytest.param(p.WriteRequest(0x0014, SDM120["device id"].encode(2.5)), p.ILLEGAL_VALUE,
                 id="device id 2.5"),
    pytest.param(p.WriteRequest(0x001C, SDM120["baud rate"].encode(3)), p.ILLEGAL_VALUE,
                 id="baud code 3"),
    pytest.param(p.WriteRequest(0x0012, SDM120["parity"].encode(4)), p.ILLEGAL_VALUE,
                 id="parity code 4"),
    pytest.param(p.WriteRequest(0x0012, (0x7FC0, 0)), p.ILLEGAL_VALUE, id="parity NaN"),
])
def test_exception_replies(wire, physics, request_pdu, code):
    link = wire(simulated(physics))
    function = request_pdu.encode()[0]
    assert reply(ask(link, request_pdu)) == (1, p.ExceptionReply(function, code))
    assert read(link, SDM120["device id"]) == 1  # nothing was changed


# -- silence ------------------------------------------------------------------------------------
def read_voltage(device_id: int = 1) -> bytes:
    return rtu.encode(device_id, p.ReadRequest(p.READ_INPUT, 0x0000, 2).encode())


@pytest.mark.parametrize("raw", [
    pytest.param(read_voltage()[:-1] + bytes([read_voltage()[-1] ^ 0xFF]), id="bad CRC"),
    pytest.param(b"\x01" + rtu.crc16(b"\x01").to_bytes(2, "little"), id="3 bytes, CRC right"),
    pytest.param(read_voltage(2), id="another device id"),
    pytest.param(read_voltage(rtu.BROADCAST), id="broadcast read"),
    pytest.param(read_voltage() + read_voltage(), id="two frames without t3.5 between"),
])
def test_silence(wire, physics, raw):
    link = wire(simulated(physics))
    assert not send(link, raw).answered
    assert read(link, SDM120["voltage"]) == pytest.approx(231.7, rel=1e-6)  # the bus goes on


def test_broadcast_write_is_not_acted_on(wire, physics):
    link = wire(simulated(physics))
    assert not write(link, SDM120["device id"], 9, device_id=rtu.BROADCAST).answered
    assert read(link, SDM120["device id"]) == 1


# -- timing -------------------------------------------------------------------------------------
def test_reply_waits_for_t35_and_the_response_delay(wire, physics):
    link = wire(simulated(physics))
    delays = [ask(link, p.ReadRequest(p.READ_INPUT, 0x0000, 2)).response_delay for _ in range(5)]
    assert min(delays) >= T35
    assert delays == pytest.approx([RESPONSE_DELAY] * 5, abs=0.005)


def test_a_response_delay_shorter_than_t35_is_refused(physics):
    with pytest.raises(ValueError, match=r"shorter than t3.5 \(4.01 ms at 9600 bit/s\)"):
        SimulatedModbusMeter(position=1, device_id=1, register_map=SDM120, physics=physics,
                             serial_number=1, baudrate=9600, framing="8N1",
                             response_delay=0.003)


# -- settings -----------------------------------------------------------------------------------
def test_device_id_change_reconnect_and_restore(wire, physics):
    link = wire(simulated(physics))
    device_id = SDM120["device id"]
    assert reply(write(link, device_id, 17)) == (1, p.WriteReply(0x0014, 2))  # from the old id
    assert not send(link, read_voltage(1)).answered
    assert read(link, device_id, 17) == 17
    link.close()
    link.open()
    assert read(link, SDM120["voltage"], 17) == pytest.approx(231.7, rel=1e-6)
    assert reply(write(link, device_id, 1, device_id=17)) == (17, p.WriteReply(0x0014, 2))
    assert not send(link, read_voltage(17)).answered
    assert read(link, device_id, 1) == 1


def test_baud_change_takes_effect_after_the_reply(wire, physics):
    link = wire(simulated(physics))
    baud = SDM120["baud rate"]
    # The reply to the write still comes at 9600 bit/s, where the master listens.
    assert reply(write(link, baud, baud.code_of(4800))) == (1, p.WriteReply(0x001C, 2))
    assert not send(link, read_voltage()).answered  # at 9600 the meter hears noise
    link.set_baudrate(4800)
    exchange = send(link, read_voltage())
    assert SDM120["voltage"].decode(reply(exchange)[1].registers) == pytest.approx(231.7)
    # paced at 4800 bit/s 8N1: 9 bytes take 18.75 ms on the wire
    assert exchange.t_last_reply - exchange.t_first_reply == pytest.approx(9 * 10 / 4800,
                                                                           abs=0.004)
    assert read(link, baud) == baud.code_of(4800)


@pytest.mark.parametrize(("down", "up"), [
    pytest.param({"output_on": False}, {"output_on": True}, id="output off"),
    pytest.param({"voltage": 0.0}, {"voltage": 230.0}, id="voltage 0"),
])
def test_parity_waits_for_a_power_cycle(wire, physics, down, up):
    meter = simulated(physics)
    link = wire(meter)
    parity = SDM120["parity"]
    assert reply(write(link, parity, parity.code_of("8E1"))) == (1, p.WriteReply(0x0012, 2))
    assert read(link, parity) == 1  # the stored, pending value
    assert meter.framing == "8N1"
    physics.set_source(**down)
    # The simulated meters' communication stays powered: it answers, and measures nothing.
    assert read(link, SDM120["voltage"]) == 0.0
    assert meter.framing == "8N1"
    physics.set_source(**up)
    assert read(link, parity) == 1
    assert meter.framing == "8E1"
    assert meter.character_time == pytest.approx(11 / BAUDRATE)


# -- seeded defects -----------------------------------------------------------------------------
def test_defect_wrong_checksum(wire, physics):
    link = wire(simulated(physics, defects=("wrong-checksum",)))
    exchange = send(link, read_voltage())
    with pytest.raises(rtu.CrcError):
        rtu.decode(exchange.reply)
    body = exchange.reply[:-2]  # all but the CRC is right
    assert p.decode_reply(body[1:]) == p.RegistersReply(p.READ_INPUT,
                                                        SDM120["voltage"].encode(231.7))


def test_defect_early_reply(wire, physics):
    link = wire(simulated(physics, defects=("early-reply",)))
    delay = send(link, read_voltage()).response_delay
    assert delay < T35  # other devices still take the request for unfinished


def test_defect_late_reply_is_honoured(physics):
    meter = simulated(physics, defects=("late-reply",))
    assert meter.answer(rtu.decode(read_voltage())).delay == LATE_REPLY_S


def test_defect_answers_other_addresses(wire, physics):
    link = wire(simulated(physics, defects=("answers-other-addresses",)))
    device_id, answer = reply(send(link, read_voltage(5)))
    assert device_id == 1
    assert SDM120["voltage"].decode(answer.registers) == pytest.approx(231.7)


def test_defect_answers_broadcast(wire, physics):
    link = wire(simulated(physics, defects=("answers-broadcast",)))
    device_id, answer = reply(send(link, read_voltage(rtu.BROADCAST)))
    assert device_id == 1
    assert SDM120["voltage"].decode(answer.registers) == pytest.approx(231.7)


def test_defect_swapped_words(wire, physics):
    link = wire(simulated(physics, defects=("swapped-words",)))
    voltage = SDM120["voltage"]
    _, answer = reply(send(link, read_voltage()))
    assert answer.registers == voltage.encode(231.7)[::-1]
    assert voltage.decode(answer.registers) != pytest.approx(231.7, rel=0.01)


def test_defect_wrong_exception_code(wire, physics):
    link = wire(simulated(physics, defects=("wrong-exception-code",)))
    assert reply(ask(link, p.ReadRequest(p.READ_INPUT, UNMAPPED, 2))) == \
        (1, p.ExceptionReply(p.READ_INPUT, p.DEVICE_FAILURE))
    # only the unmapped address: an odd start is still 02
    assert reply(ask(link, p.ReadRequest(p.READ_INPUT, 0x0001, 2))) == \
        (1, p.ExceptionReply(p.READ_INPUT, p.ILLEGAL_ADDRESS))



def test_defect_answers_unimplemented_function(wire, physics):
    coils = p.OtherRequest(p.READ_COILS, bytes.fromhex("0000 0001"))
    assert reply(ask(wire(simulated(physics)), coils)) == \
        (1, p.ExceptionReply(p.READ_COILS, p.ILLEGAL_FUNCTION))
    link = wire(simulated(physics, 2, device_id=2, defects=("answers-unimplemented-function",)))
    assert reply(ask(link, coils, 2)) == (2, p.OtherReply(p.READ_COILS, bytes([1, 0])))
    # only read coils: another unknown function is still refused
    assert reply(ask(link, p.OtherRequest(0x2B, b"\x0e\x01\x00"), 2)) == \
        (2, p.ExceptionReply(0x2B, p.ILLEGAL_FUNCTION))


def test_the_client_turns_any_reply_into_an_answer_or_a_typed_error(wire, physics):
    """Issue 8: a normal reply to read coils crashed the decoder. The client shows it instead:
    an outcome to judge (ask), a reply decoded as far as it goes, or a typed MeterError with the
    bytes (transact), never a PduError."""
    client = ModbusClient(wire(simulated(physics, defects=("answers-unimplemented-function",))),
                          1, SDM120, reply_window=0.3)
    coils = p.OtherRequest(p.READ_COILS, bytes.fromhex("0000 0001"))
    answer = client.ask(coils)
    assert answer.outcome() == "a normal reply to function 01"
    assert answer.shown().startswith(rtu.encode(1, bytes.fromhex("01 01 00")).hex(" ").upper())
    assert client.transact(coils) == p.OtherReply(p.READ_COILS, bytes([1, 0]))
    with pytest.raises(ModbusException, match="exception 02 illegal data address"):
        client.transact(p.ReadRequest(p.READ_INPUT, UNMAPPED, 2))
    client.device_id = 9  # nobody: silence is an answer too, and NoReply to transact
    assert client.ask(coils).outcome() == "silence"
    with pytest.raises(NoReply):
        client.transact(coils)
    # a frame from another device is no reply to this request, whatever it carries
    stray = ModbusClient(wire(simulated(physics, defects=("answers-other-addresses",))), 5,
                         SDM120, reply_window=0.3)
    with pytest.raises(GarbledReply, match="is a reply from device 1: 01 04 04 "):
        stray.transact(p.ReadRequest(p.READ_INPUT, 0x0000, 2))

# -- the simulated bench builds Modbus meters from a rig file -------------------------------
RIG = """
name: two Modbus meters beside a DL/T 645 meter
buses: {{modbus-1: {{baudrate: 9600, parity: N}}, rs485-1: {{}}}}
positions:
  - {{position: 1, bus: modbus-1, protocol: modbus-rtu, address: 7, profile: sdm120,
     serial: "SDM-A1"}}
  - {{position: 2, bus: modbus-1, protocol: modbus-rtu, address: 8, profile: sdm120,
     serial: "12345678"}}
  - {{position: 3, bus: rs485-1, protocol: dlt645-2007, address: "000000000003"}}
simulation: {{meters: {{1: {{response_delay_ms: {delay}}}}}}}
"""


def rig_file(tmp_path, delay: float = 25):
    path = tmp_path / "rig.yaml"
    path.write_text(RIG.format(delay=delay))
    return rigs.load(path)


def test_the_bench_builds_modbus_meters_from_the_rig_file(tmp_path):
    with SimulatedBench(rig_file(tmp_path)) as bench:
        with Link("modbus-1", bench.ports["modbus-1"], baudrate=9600, parity="N") as link:
            exchange = send(link, read_voltage(7))
            assert SDM120["voltage"].decode(reply(exchange)[1].registers) == 220.0
            assert exchange.response_delay == pytest.approx(0.025, abs=0.005)
            # a serial that is not a number gives 20260000 + the position
            assert read(link, SDM120["serial number"], 7) == 20260001
            assert read(link, SDM120["serial number"], 8) == 12345678
        with Link("rs485-1", bench.ports["rs485-1"], baudrate=2400, parity="E") as link:
            energy = Dlt645Client(link, "000000000003", reply_window=0.6).read(0x00010000)
            assert float(energy.quantity.value) == pytest.approx(initial_register_kwh(3))


def test_the_bench_refuses_a_delay_shorter_than_t35(tmp_path):
    with pytest.raises(SimulationError, match=r"position 1: response delay 2 ms is shorter"):
        SimulatedBench(rig_file(tmp_path, delay=2))


def test_the_bench_refuses_a_polyphase_map(tmp_path, monkeypatch):
    monkeypatch.setattr(sim_meters, "register_map",
                        lambda name: register_map(name).model_copy(update={"phases": 3}))
    with pytest.raises(SimulationError, match="3-phase meter; the simulated bench's physics"):
        SimulatedBench(rig_file(tmp_path))
