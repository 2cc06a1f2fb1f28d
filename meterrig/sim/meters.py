"""The simulated meter of each shipped protocol, built for one position of a simulated bench
(the protocol specs name these builders)."""

from __future__ import annotations

from ..config import PositionConfig
from ..link.wire import bits_per_character
from ..protocols.dlt645.profile import profile
from ..protocols.modbus.registers import register_map
from .bench import SimulatedBench, SimulationError
from .dlt645_1997_meter import SimulatedDlt645v1997Meter
from .dlt645_meter import SimulatedDlt645Meter
from .modbus_meter import SimulatedModbusMeter

MODBUS_SERIAL_BASE = 20260000  # + position number, for a position whose serial is not a number


def _dlt645(kind: type[SimulatedDlt645Meter], bench: SimulatedBench,
            position: PositionConfig) -> SimulatedDlt645Meter:
    settings = bench.config.simulation.meter(position.number)
    bus = bench.config.buses[position.bus]
    passwords = {position.password.level: position.password.value.reveal()} \
        if position.password else {}
    return kind(
        position=position.number,
        address=position.address,
        profile=profile(position.profile),
        passwords=passwords,
        physics=bench.physics,
        meter_number=position.address,
        constant=position.constant,
        baudrate=bus.baudrate,
        character_bits=bits_per_character(bus.bytesize, bus.parity, bus.stopbits),
        response_delay=settings.response_delay_ms / 1000,
        clock_offset_s=settings.clock_offset_s,
        defects=bench.physics.meters[position.number].defects,
        firmware=settings.firmware,
    )


def dlt645_2007(bench: SimulatedBench, position: PositionConfig) -> SimulatedDlt645Meter:
    return _dlt645(SimulatedDlt645Meter, bench, position)


def dlt645_1997(bench: SimulatedBench, position: PositionConfig) -> SimulatedDlt645Meter:
    return _dlt645(SimulatedDlt645v1997Meter, bench, position)


def modbus_rtu(bench: SimulatedBench, position: PositionConfig) -> SimulatedModbusMeter:
    where = f"{bench.config.path}: position {position.number}"
    try:
        registers = register_map(position.profile)
    except KeyError as exc:
        raise SimulationError(f"{where}: {exc.args[0]}") from exc
    if registers.phases != 1:
        raise SimulationError(
            f"{where}: register map {registers.name} is for a {registers.phases}-phase "
            "meter; the simulated bench's physics is single-phase")
    bus = bench.config.buses[position.bus]
    serial = position.serial
    try:
        return SimulatedModbusMeter(
            position=position.number,
            device_id=int(position.address),
            register_map=registers,
            physics=bench.physics,
            serial_number=int(serial) if serial.isdigit()
            else MODBUS_SERIAL_BASE + position.number,
            baudrate=bus.baudrate,
            framing=f"{bus.bytesize}{bus.parity}{bus.stopbits}",
            response_delay=bench.config.simulation.meter(position.number).response_delay_ms
            / 1000,
            defects=bench.physics.meters[position.number].defects,
        )
    except ValueError as exc:  # a setting the map cannot express, a too short delay
        raise SimulationError(f"{where}: {exc.args[0]}") from exc
