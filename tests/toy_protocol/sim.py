"""The toy protocol on the simulated bench: the bus's receiver and the device."""

from __future__ import annotations

from typing import Any

from meterrig.link.wire import bits_per_character
from meterrig.sim.bus import Line, Request
from meterrig.sim.dlt645_meter import Transmission

from . import codec


class ToyReceiver:
    """A request ends with its line."""

    def __init__(self) -> None:
        self._line = bytearray()
        self._first = 0.0

    def timeout(self, now: float) -> float | None:
        return None

    def feed(self, data: bytes, now: float, line: Line) -> list[Request]:
        requests = []
        for byte in data:
            if not self._line:
                self._first = now
            self._line.append(byte)
            if bytes([byte]) == codec.END:
                end = max(now, self._first + len(self._line) * line.character_time)
                requests.append(Request(bytes(self._line), end))
                self._line.clear()
        return requests

    def decode(self, request: Request) -> codec.Message:
        return codec.parse(request.raw)

    def answer(self, message: codec.Message, request: Request, devices: list) -> list:
        return [t for d in devices if (t := d.answer(message)) is not None]

    def replied(self, devices: list) -> None:
        pass


class ToyDevice:
    def __init__(self, *, position: int, address: str, physics: Any, baudrate: int,
                 character_bits: float, response_delay: float) -> None:
        self.position = position
        self.address = address
        self.physics = physics
        self.baudrate = baudrate
        self.character_time = character_bits / baudrate
        self.response_delay = response_delay

    def answer(self, message: codec.Message) -> Transmission | None:
        if message.lead != codec.REQUEST or message.address != self.address \
                or message.body not in codec.ITEMS:
            return None
        value = {"energy": lambda: self.physics.registers(self.position).forward_kwh,
                 "voltage": lambda: self.physics.readings(self.position).voltage}[message.body]()
        body = f"{value:.2f} {codec.ITEMS[message.body]}"
        return Transmission(codec.reply(self.address, body), self.response_delay,
                            self.character_time)


def device(bench: Any, position: Any) -> ToyDevice:
    bus = bench.config.buses[position.bus]
    return ToyDevice(position=position.number, address=position.address, physics=bench.physics,
                     baudrate=bus.baudrate,
                     character_bits=bits_per_character(bus.bytesize, bus.parity, bus.stopbits),
                     response_delay=bench.config.simulation.meter(position.number)
                     .response_delay_ms / 1000)
