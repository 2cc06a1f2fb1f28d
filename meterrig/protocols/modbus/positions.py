"""A rig position speaking Modbus RTU: its master, its meter for the metering suites, what
`meterrig read` reads and the registers a suite test runs over (the spec module names these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .client import ModbusClient
from .meter import SERIAL_NUMBER, ModbusMeter
from .registers import Register, register_map


def master(link: Any, position: Any, bus: Any) -> ModbusClient:
    return ModbusClient(link, position.address, register_map(position.profile),
                        reply_window=bus.reply_timeout_ms / 1000, retries=bus.retries)


def has_serial_number(position: Any) -> bool:
    return SERIAL_NUMBER in register_map(position.profile).registers


def meter(rig: Any, position: int) -> ModbusMeter:
    return ModbusMeter(rig.client(position))


def reader(position: Any, item: str) -> Callable[[Any], str]:
    register = register_map(position.profile)[item]  # KeyError lists the map's registers
    return lambda client: f"{client.read(register.name):g} {register.unit}".rstrip()


def clock(position: Any) -> Callable[[Any], Any]:
    """A register map has no date and time type (registers.py): no map declares a clock."""
    raise LookupError(f"register map {position.profile} declares no clock (a register map has "
                      "no date and time type)")


def firmware(position: Any) -> Callable[[Any], Any]:
    """A register map has no text type (registers.py): no map declares a firmware register."""
    raise LookupError(f"register map {position.profile} declares no firmware register")


def settings(position: Any) -> list[str]:
    """The map's setting registers (device id, baud rate, serial number…): no load moves them."""
    return [r.name for r in register_map(position.profile).registers.values()
            if r.setting is not None]


def registers(position: Any) -> list[tuple[Register, str]]:
    return [(r, r.name) for r in register_map(position.profile).registers.values()]
