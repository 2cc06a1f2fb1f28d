"""A simulated Modbus RTU energy meter (SDM120-style): a register map served from the physics.

It speaks through the same codec the master uses (rtu, pdu, registers), so what the map says a
register holds is what the meter sends. Its values come from the bench physics; its settings
(device id, baud rate, parity) are holding registers that take effect when the map says: at
once, after the reply to the write has gone, or after the next power-up of the bench source.
"""

from __future__ import annotations

import math
from typing import Any

from ..link.wire import bits_per_character
from ..protocols.modbus import pdu as p
from ..protocols.modbus import rtu
from ..protocols.modbus.registers import Register, RegisterMap
from .defects import Defects
from .dlt645_meter import Transmission
from .physics import BenchPhysics

NO_DEFECTS = Defects()
# "early-reply": starts its reply a quarter of t3.5 after the request, long before the silence
# that tells every other device on the bus the request has ended.
EARLY_REPLY_T35 = 0.25
# "answers-unimplemented-function": a read coils reply of one byte, all coils off.
COILS_OFF = bytes([1, 0])


class Refused(Exception):
    """The meter answers with an exception reply carrying this code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def character_bits(framing: str) -> float:
    """Bits per character of a framing such as 8N1 or 8E1 (10 and 11)."""
    return bits_per_character(int(framing[0]), framing[1], int(framing[2]))


class SimulatedModbusMeter:
    """One Modbus RTU meter on a simulated bus.

    `device_id`, `baudrate` and `framing` are the settings in effect; the holding registers
    show the stored ones, which differ while a written setting waits for its moment.
    """

    def __init__(
        self,
        *,
        position: int,
        device_id: int,
        register_map: RegisterMap,
        physics: BenchPhysics,
        serial_number: int,
        baudrate: int,
        framing: str,
        response_delay: float,
        defects: Defects = NO_DEFECTS,
    ) -> None:
        self.position = position
        self.register_map = register_map
        self.physics = physics
        self.response_delay = response_delay
        self.defects = defects
        self._in_effect: dict[str, int | str] = {
            "device id": device_id, "baud rate": baudrate, "parity": framing}
        self._stored: dict[str, int] = {"serial number": serial_number}
        for setting, meaning in self._in_effect.items():
            try:
                register = register_map.setting(setting)
            except KeyError:
                continue  # a model without this setting keeps it fixed
            if register.codes and meaning not in register.codes.values():
                raise ValueError(f"register map {register_map.name} cannot express {setting} "
                                 f"{meaning}; it knows {sorted(register.codes.values())}")
            self._stored[setting] = register.code_of(meaning) if register.codes else meaning
        self._after_reply: set[str] = set()  # written "immediately" settings, due once replied
        self._after_restart: dict[str, int] = {}  # setting -> physics.power_downs when written
        t35 = self.t35
        if response_delay < t35:
            raise ValueError(
                f"response delay {response_delay * 1e3:g} ms is shorter "
                f"than t3.5 ({t35 * 1e3:.2f} ms at {baudrate} bit/s): a Modbus RTU meter must "
                "stay silent that long after a request")

    # -- settings in effect ---------------------------------------------------------------------
    @property
    def device_id(self) -> int:
        return self._setting("device id")

    @property
    def baudrate(self) -> int:
        return self._setting("baud rate")

    @property
    def framing(self) -> str:
        return self._setting("parity")

    @property
    def character_time(self) -> float:
        return character_bits(self.framing) / self.baudrate

    @property
    def t35(self) -> float:
        """The silence that ends a frame at this meter's rate (the spec's 11-bit character)."""
        return rtu.silent_intervals(self.baudrate)[1]

    def _setting(self, setting: str) -> Any:
        self._restart_if_powered_up()
        return self._in_effect[setting]

    def _restart_if_powered_up(self) -> None:
        """Apply "after restart" settings once the source has gone off and come back on."""
        if not self.physics.source.powered:
            return
        for setting, power_downs in list(self._after_restart.items()):
            if self.physics.power_downs > power_downs:
                self._apply(setting)
                del self._after_restart[setting]

    def _apply(self, setting: str) -> None:
        register = self.register_map.setting(setting)
        code = self._stored[setting]
        self._in_effect[setting] = register.codes[code] if register.codes else code

    def reply_sent(self) -> None:
        """The bus has put this meter's reply on the wire: settings written "immediately" take
        effect now, so the reply to a device-id or baud-rate write went out under the old one."""
        for setting in self._after_reply:
            self._apply(setting)
        self._after_reply.clear()

    # -- receive path -----------------------------------------------------------------------------
    def takes(self, adu: rtu.Adu) -> bool:
        """Whether this meter acts on the frame at all."""
        if adu.device_id == rtu.BROADCAST:
            # The spec's broadcast carries writes and gets no reply; meters commonly ignore it.
            return "answers-broadcast" in self.defects
        return adu.device_id == self.device_id or "answers-other-addresses" in self.defects

    def answer(self, adu: rtu.Adu) -> Transmission | None:
        if not self.takes(adu):
            return None
        # Timing and the reply's id come from the settings the request arrived under.
        device_id, character_time, t35 = self.device_id, self.character_time, self.t35
        try:
            reply = self._serve(p.decode_request(adu.pdu))
        except Refused as refused:
            reply = p.ExceptionReply(adu.function, refused.code)
        except p.PduError:
            reply = p.ExceptionReply(adu.function, p.ILLEGAL_VALUE)
        raw = bytearray(rtu.encode(device_id, reply.encode()))
        if "wrong-checksum" in self.defects:
            raw[-1] ^= 0x5A
        # A real meter waits out t3.5 at whatever rate it runs, even where its usual delay is
        # shorter (after a change to a slower rate).
        delay = self.defects.response_delay(max(self.response_delay, t35),
                                            early=EARLY_REPLY_T35 * t35)
        return Transmission(bytes(raw), delay, character_time, self.defects.reply_pause())

    def _serve(self, request: p.Request) -> p.RegistersReply | p.WriteReply | p.OtherReply:
        match request:
            case p.ReadRequest(function=function, address=address, count=count):
                return p.RegistersReply(function, self._read(function, address, count))
            case p.WriteRequest(address=address, registers=registers):
                self._write(address, registers)
                return p.WriteReply(address, len(registers))
            case p.OtherRequest(function=p.READ_COILS) if \
                    "answers-unimplemented-function" in self.defects:
                return p.OtherReply(p.READ_COILS, COILS_OFF)
        raise Refused(p.ILLEGAL_FUNCTION)

    # -- reads ------------------------------------------------------------------------------------
    def _read(self, function: int, address: int, count: int) -> tuple[int, ...]:
        if not 1 <= count <= p.MAX_READ:
            raise Refused(p.ILLEGAL_VALUE)
        if self.register_map.pairs and (address % 2 or count % 2):
            raise Refused(p.ILLEGAL_ADDRESS)
        words: dict[str, tuple[int, ...]] = {}  # each register read once, whole
        out = []
        for at in range(address, address + count):
            register = self.register_map.at(function, at)
            if register is None:
                raise Refused(p.DEVICE_FAILURE if "wrong-exception-code" in self.defects
                              else p.ILLEGAL_ADDRESS)
            if register.name not in words:
                words[register.name] = self._words(register)
            out.append(words[register.name][at - register.address])
        return tuple(out)

    def _words(self, register: Register) -> tuple[int, ...]:
        words = register.encode(self._value(register))
        return words[::-1] if "swapped-words" in self.defects else words

    def _value(self, register: Register) -> float | int:
        if register.setting is not None:
            return self._stored[register.setting]
        return self._measured()[register.quantity]

    def _measured(self) -> dict[str, float]:
        readings = self.physics.readings(self.position)
        energy = self.physics.registers(self.position)
        apparent = readings.voltage * readings.current
        return {
            "voltage": readings.voltage,
            "current": readings.current,
            "active power": readings.active_power_w,
            "apparent power": apparent,
            # inductive positive, as the source's phase angle is
            "reactive power": apparent * math.sin(math.radians(self.physics.source.phase_deg)),
            "power factor": readings.power_factor,
            "frequency": readings.frequency,
            "import energy": energy.forward_kwh,
            "export energy": energy.reverse_kwh,
            "total energy": energy.forward_kwh + energy.reverse_kwh,
        }

    # -- writes -----------------------------------------------------------------------------------
    def _write(self, address: int, registers: tuple[int, ...]) -> None:
        if not 1 <= len(registers) <= p.MAX_WRITE:
            raise Refused(p.ILLEGAL_VALUE)
        register = self.register_map.at(p.READ_HOLDING, address)
        if register is None or not register.writable or register.address != address \
                or len(registers) != register.count:
            raise Refused(p.ILLEGAL_ADDRESS)
        value = register.decode(registers)
        if not (math.isfinite(value) and value == int(value) and _valid(register, int(value))):
            raise Refused(p.ILLEGAL_VALUE)
        self._stored[register.setting] = int(value)
        if register.applies == "immediately":
            self._after_reply.add(register.setting)
        else:
            self._after_restart[register.setting] = self.physics.power_downs


def _valid(register: Register, value: int) -> bool:
    if register.codes:
        return value in register.codes
    low, high = register.allowed or (-math.inf, math.inf)
    return low <= value <= high
