"""A simulated DL/T 645-2007 meter: registers, passwords, clock, relay — and its seeded defects.

It speaks through the same codec the master uses. Its values come from the bench physics, so
what the protocol reports is what the bench applied.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import attrs

from ..protocols.dlt645 import commands as cmd
from ..protocols.dlt645.catalogue import CATALOGUE
from ..protocols.dlt645.frame import BROADCAST_ADDRESS, LIMITS, Frame, Function, encode
from ..protocols.dlt645.positions import FIRMWARE_ITEM
from ..protocols.dlt645.profile import MeterProfile
from ..protocols.dlt645.security import (
    SECURITY,
    Recharge,
    SecurityRequest,
    command_di,
    security_refusal,
    security_reply,
)
from .defects import GAPPY_REPLY_DLT645_S, Defects
from .physics import BenchPhysics
from .prepaid_purse import LATE_TRIP_S, FactorySettings, PrepaidPurse, Refusal

ERR_OTHER = cmd.error_byte_of("other error")
ERR_NO_DATA = cmd.error_byte_of("no requested data")
ERR_PASSWORD = cmd.error_byte_of("password wrong / not authorised")
ERR_BAUD = cmd.error_byte_of("baud rate cannot be changed")
SUPPORTED_BAUDRATES = (1200, 2400, 4800, 9600)
NO_DEFECTS = Defects()
REPLY_PREAMBLE = 4  # FE bytes before a reply, as State Grid meters send them
DEFAULT_CLOCK = datetime(2000, 1, 1, 12)  # a restarted clock starts here (a seeded defect)

# Run status word 3 (DI 04000503): bit 4 relay open, bit 6 relay commanded open, bit 7 alarm.
STATUS3_RELAY_OPEN = 1 << 4
STATUS3_RELAY_COMMAND = 1 << 6
STATUS3_ALARM = 1 << 7
STATUS1_REVERSE_POWER = 1 << 4
# What a meter takes of a broadcast time sync (frame.LIMITS, with its source).
_BROADCAST = LIMITS["broadcast_time"]
BROADCAST_CORRECTION_MAX = timedelta(minutes=_BROADCAST["correction_max_min"])
MIDNIGHT_GUARD = timedelta(minutes=_BROADCAST["midnight_guard_min"])


@attrs.frozen
class Transmission:
    """What a device puts on the bus, and when: `delay` after the request's end (Td)."""

    data: bytes
    delay: float
    character_time: float
    pause: float = 0.0  # a silence in the middle of the reply (a seeded defect)


class Refused(Exception):
    """The meter answers with an abnormal reply carrying this error byte."""

    def __init__(self, error_byte: int) -> None:
        super().__init__(error_byte)
        self.error_byte = error_byte


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


class SimulatedDlt645Meter:
    def __init__(
        self,
        *,
        position: int,
        address: str,
        profile: MeterProfile,
        passwords: dict[int, str],
        physics: BenchPhysics,
        meter_number: str,
        constant: int,
        baudrate: int,
        character_bits: float,
        response_delay: float,
        clock_offset_s: float = 0.0,
        defects: Defects = NO_DEFECTS,
        firmware: str | None = None,
    ) -> None:
        self.position = position
        self.address = address
        self.profile = profile
        self.passwords = passwords
        self.physics = physics
        self.meter_number = meter_number
        self.constant = constant
        self.baudrate = baudrate
        self.character_bits = character_bits
        self.response_delay = response_delay
        self.clock_offset = timedelta(seconds=clock_offset_s)
        self.defects = defects
        # Its software version (04800001), answered whatever its profile; None: refused, as a
        # meter that keeps none does.
        self.firmware = firmware
        self.relay_commanded_open = False
        self.close_allowed = False  # 1B taken: the customer's button closes the relay
        self._trip_at: float | None = None  # rig time the relay opens after a delayed trip
        self.alarm = False
        self._broadcast_taken: date | None = None
        self._follow_ups: dict[int, list[bytes]] = {}
        self._max_demand: dict[str, object] | None = None
        prepaid = profile.prepaid
        # A local prepaid meter keeps its money in a purse; a remote one obeys the master.
        self.purse = PrepaidPurse(position=position, address=address, prepaid=prepaid,
                                  physics=physics, defects=defects) \
            if prepaid is not None and prepaid.mode == "local" else None
        if profile.relay:
            physics.buttons[position] = self.press_button

    # -- receive path -------------------------------------------------------------------------
    def takes(self, frame: Frame, had_preamble: bool) -> bool:
        """Whether this meter acts on the frame at all."""
        if had_preamble and "ignores-preamble" in self.defects:
            return False
        if frame.from_slave:
            return False
        if frame.address == BROADCAST_ADDRESS or "answers-other-addresses" in self.defects:
            return True
        if "echoes-foreign-address" in self.defects and frame.function == Function.READ \
                and "AA" not in frame.address:
            return True
        return all(
            want in ("AA", own)
            for want, own in zip(
                (frame.address[i : i + 2] for i in range(0, 12, 2)),
                (self.address[i : i + 2] for i in range(0, 12, 2)),
                strict=True,
            )
        )

    def answer(self, frame: Frame, had_preamble: bool) -> Transmission | None:
        if not self.takes(frame, had_preamble):
            return None
        self._relay_settles()
        character_time = self.character_bits / self.baudrate  # before a baud change takes effect
        # Control code 03 is a local prepaid meter's (in DL/T 645-1997 it is a re-read).
        if self.purse is not None and frame.function == SECURITY \
                and frame.address != BROADCAST_ADDRESS:
            return Transmission(self._shape(encode(self._security(frame),
                                                   preamble=REPLY_PREAMBLE)),
                                self.defects.response_delay(self.response_delay), character_time,
                                self.defects.reply_pause(GAPPY_REPLY_DLT645_S))
        try:
            data, follow_up = self._serve(self._parse(frame))
            error_byte = None
        except Refused as refused:
            error_byte = refused.error_byte
        except cmd.RequestError as exc:  # a request we cannot make sense of
            error_byte = exc.error_byte
        # The address the reply carries: its own, unless a defect echoes the request's.
        sender = self.address
        if frame.address == BROADCAST_ADDRESS:
            broadcast_read = frame.function == Function.READ \
                and "answers-broadcast-read" in self.defects
            if "answers-broadcast" not in self.defects and not broadcast_read:
                return None
            sender = BROADCAST_ADDRESS if broadcast_read else self.address
            frame = attrs.evolve(frame, address=self.address)  # answered as if addressed to it
        elif "AA" not in frame.address and frame.address != self.address \
                and "echoes-foreign-address" in self.defects:
            sender = frame.address
        if error_byte is None:
            reply = cmd.normal_reply(frame, sender, data, follow_up=follow_up)
        else:
            reply = cmd.abnormal_reply(frame, sender, error_byte)
        return Transmission(self._shape(encode(reply, preamble=REPLY_PREAMBLE)),
                            self.defects.response_delay(self.response_delay), character_time,
                            self.defects.reply_pause(GAPPY_REPLY_DLT645_S))

    def _security(self, frame: Frame) -> Frame:
        """Control code 03 through the meter's ESAM (bench key: NOT the real algorithm)."""
        other = Refusal("other error")
        try:
            request = SecurityRequest.parse(frame)
            if request.di == command_di("authenticate") and len(request.body) == 24:
                data = self.purse.authenticate(request.body[:8], request.body[8:16],
                                               request.body[16:24])
            elif request.di == command_di("recharge"):
                data = self.purse.recharge(Recharge.from_bytes(request.body))
            else:
                raise other
        except ValueError:  # a request it cannot make sense of
            return security_refusal(frame, self.address, other.serr)
        except Refusal as refusal:
            return security_refusal(frame, self.address, refusal.serr)
        return security_reply(frame, self.address, data)

    def _parse(self, frame: Frame) -> object:
        """The request a frame carries (RequestError: one the meter cannot make sense of)."""
        return cmd.parse_request(frame)

    def _shape(self, raw: bytes) -> bytes:
        """The one place the wire image of a reply is spoiled by a seeded defect."""
        out = bytearray(raw)
        if "address-msb-first" in self.defects:
            start = REPLY_PREAMBLE + 1
            out[start : start + 6] = out[start : start + 6][::-1]  # same bytes: checksum holds
        if "wrong-checksum" in self.defects:
            out[-2] = (out[-2] + 0x5A) & 0xFF
        return bytes(out)

    # -- commands ----------------------------------------------------------------------------
    def _serve(self, request: object) -> tuple[bytes, bool]:
        match request:
            case cmd.ReadRequest(di=di):
                return self._read(di)
            case cmd.ReadFollowUpRequest(di=di, seq=seq):
                return self._read_follow_up(di, seq)
            case cmd.ReadAddressRequest():
                return bytes.fromhex(self.address)[::-1], False
            case cmd.WriteRequest(di=di, auth=auth, value=value):
                self._write(di, auth, value)
            case cmd.BroadcastTimeRequest(when=when):
                self._broadcast_time(when)
            case cmd.WriteAddressRequest(new_address=new_address):
                self.address = new_address
            case cmd.FreezeRequest():
                pass  # frozen data are not modelled; the meter acknowledges
            case cmd.ChangeBaudRequest(baudrate=baudrate):
                if baudrate not in SUPPORTED_BAUDRATES:
                    raise Refused(ERR_BAUD)
                self.baudrate = baudrate
                return bytes([cmd.BAUD_CODES[baudrate]]), False
            case cmd.ChangePasswordRequest(old=old, new_level=level, new_password=password):
                self._authorise(old, level)
                self.passwords[level] = password
                return bytes([level]) + bytes.fromhex(password)[::-1], False
            case cmd.ClearDemandRequest(auth=auth) | cmd.EventClearRequest(auth=auth):
                self._authorise(auth, self.profile.relay_level)
            case cmd.MeterClearRequest(auth=auth):
                self._authorise(auth, self.profile.relay_level)
                self.physics.clear_registers(self.position)
            case cmd.RelayRequest(auth=auth, action=action, expiry=expiry):
                self._relay(auth, action, expiry)
            case _:
                raise Refused(ERR_OTHER)
        return b"", False

    def _broadcast_time(self, when: datetime) -> None:
        """Taken once a day, within the correction a meter allows, away from midnight."""
        now = self.now()
        since_midnight = now - datetime.combine(now.date(), time())
        near_midnight = min(since_midnight, timedelta(days=1) - since_midnight) < MIDNIGHT_GUARD
        if self._broadcast_taken == now.date() or near_midnight \
                or abs(when - now) > BROADCAST_CORRECTION_MAX:
            return  # ignored: a broadcast gets no reply either way
        self._broadcast_taken = when.date()
        self.clock_offset = when - datetime.now()

    def _authorise(self, auth: cmd.Auth, highest_level: int) -> None:
        if auth.level > highest_level or self.passwords.get(auth.level) != auth.password:
            raise Refused(ERR_PASSWORD)

    def now(self) -> datetime:
        return datetime.now() + self.clock_offset

    def restart_clock(self) -> None:
        """Its clock from its default date (clock-resets-on-overlong-frame)."""
        self.clock_offset = DEFAULT_CLOCK - datetime.now()

    def _read(self, di: int) -> tuple[bytes, bool]:
        if di not in self.profile.data_items and not (di == FIRMWARE_ITEM and self.firmware):
            raise Refused(ERR_OTHER if "wrong-error-bits" in self.defects else ERR_NO_DATA)
        value = self._value(di)
        room = self.profile.max_reply_data - 4
        if len(value) <= room:
            return cmd.read_reply_data(di, value), False
        rest = value[room:]
        self._follow_ups[di] = [rest[i : i + room - 1] for i in range(0, len(rest), room - 1)]
        return cmd.read_reply_data(di, value[:room]), True

    def _read_follow_up(self, di: int, seq: int) -> tuple[bytes, bool]:
        parts = self._follow_ups.get(di, [])
        if not 1 <= seq <= len(parts):
            raise Refused(ERR_NO_DATA)
        return cmd.read_reply_data(di, parts[seq - 1], seq), seq < len(parts)

    def _value(self, di: int) -> bytes:
        """The register's bytes as the catalogue encodes them; a block (FF in one DI byte) is
        its siblings' values in order, as many as the meter has (tariffs + 1 for a tariff
        block). An item the meter declares but does not model reads zero."""
        item = CATALOGUE[di]
        values = self._values()
        if item.block is None:
            return item.encode(values[di]) if di in values else bytes(item.length)
        shift = 8 * next(i for i in range(4) if (di >> 8 * i) & 0xFF == 0xFF)
        siblings = [di & ~(0xFF << shift) | value << shift for value in range(256)]
        elements = [values[s] for s in siblings if s in values]
        if item.block_axis == "tariff":
            elements = elements[:self.profile.tariffs + 1]
        return item.encode(elements) if elements else bytes(item.length * item.block)

    def _values(self) -> dict[int, object]:
        """What this meter reads, by DI: each of its phases (1 or 3) sees the source's voltage,
        current and angle (a balanced load); totals are the sum of the phases."""
        registers = self.physics.registers(self.position)
        readings = self.physics.readings(self.position)
        phases = range(1, self.profile.phases + 1)
        n = self.profile.phases
        now = self.now()
        status3 = (
            (0 if registers.relay_closed and not (self.purse and self.purse.relay_reported_open)
             else STATUS3_RELAY_OPEN)
            | (STATUS3_RELAY_COMMAND if self.relay_commanded_open else 0)
            | (STATUS3_ALARM if self.alarm else 0)
        )
        apparent_kva = readings.voltage * readings.current / 1000
        reactive_kvar = apparent_kva * math.sin(math.radians(readings.phase_deg))
        active_kw = readings.active_power_w / 1000
        per_phase = {
            0x0201: _decimal(readings.voltage, 1),
            0x0202: _decimal(readings.current, 3),
            0x0203: _decimal(active_kw, 4),
            0x0204: _decimal(reactive_kvar, 4),
            0x0205: _decimal(apparent_kva, 4),
            0x0206: _decimal(readings.power_factor, 3),
            0x0207: _decimal(readings.phase_deg % 360, 1),
        }
        totals = {0x0203: active_kw * n, 0x0204: reactive_kvar * n, 0x0205: apparent_kva * n}
        values: dict[int, object] = {
            kind << 16 | phase << 8: value for kind, value in per_phase.items() for phase in phases
        }
        values.update({kind << 16: _decimal(total, 4) for kind, total in totals.items()})
        values[0x02060000] = _decimal(readings.power_factor, 3)
        forward = self._tariffs(registers.forward_kwh * n)
        reverse = self._tariffs(registers.reverse_kwh * n)
        for tariff in range(self.profile.tariffs + 1):
            values[0x00010000 | tariff << 8] = forward[tariff]
            values[0x00020000 | tariff << 8] = reverse[tariff]
            values[0x00000000 | tariff << 8] = forward[tariff] - reverse[tariff]
        if n > 1:  # Table A.1 phase energies: forward active at 15/29/3D, reverse one above
            for base in (0x15, 0x29, 0x3D):
                values[base << 16] = _decimal(registers.forward_kwh, 2)
                values[(base + 1) << 16] = _decimal(registers.reverse_kwh, 2)
        values[0x01010000] = self._maximum_demand(_decimal(max(active_kw * n, 0), 4), now)
        values.update({
            0x02800002: _decimal(readings.frequency, 2),
            0x04000101: now.date(),
            0x04000102: now.time().replace(microsecond=0),
            0x04000401: self.address,
            0x04000402: self.meter_number,
            0x04000409: self.constant,
            0x04000501: STATUS1_REVERSE_POWER if readings.active_power_w < 0 else 0,
            0x04000503: status3,
        })
        if self.firmware:
            values[FIRMWARE_ITEM] = self.firmware
        if self.purse is not None:
            self._prepaid_values(values)
        return values

    def _prepaid_values(self, values: dict[int, object]) -> None:
        """Credit, overdraft, price, purchases, settings; the credit states where the profile
        says the model shows them."""
        purse, settings = self.purse, self.purse.settings
        credit = purse.credit()
        values.update({
            0x00900200: max(credit, Decimal("0.00")),
            0x00900201: max(-credit, Decimal("0.00")),
            0x02800020: purse.price,
            0x03330201: purse.purchase_count,
            0x03330601: purse.purchased,
            0x0400040E: purse.customer,
            0x04001001: settings.alarm_1,
            0x04001002: settings.alarm_2,
            0x04001003: settings.overdraft_limit,
            0x04001004: settings.hoarding_limit,
            0x04001005: settings.close_allowed,
            **{0x04050100 + tariff: purse.price for tariff in range(1, self.profile.tariffs + 1)},
        })
        for state, on in purse.states().items():
            bit = self.profile.prepaid.status_bits.get(state)
            if on and bit is not None:
                values[bit.di] = values.get(bit.di, 0) | 1 << bit.bit

    def _maximum_demand(self, demand_kw: Decimal, now: datetime) -> dict[str, object]:
        """The largest total active power seen at a read, and the minute it was seen: a
        running maximum standing in for the demand over a period."""
        if self._max_demand is None or demand_kw > self._max_demand["demand"]:
            self._max_demand = {"demand": demand_kw,
                                "time": now.replace(second=0, microsecond=0)}
        return self._max_demand

    def _tariffs(self, total_kwh: float) -> list[Decimal]:
        """Total, then each tariff's share; the shares add up to the total to the last digit."""
        total = _decimal(total_kwh, 2)
        n = self.profile.tariffs
        share = (total / n).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
        tariffs = [share] * (n - 1) + [total - share * (n - 1)]
        return [total, *tariffs]

    def _write(self, di: int, auth: cmd.Auth, value: bytes) -> None:
        if di not in self.profile.writable:
            raise Refused(ERR_NO_DATA if di not in CATALOGUE else ERR_PASSWORD)
        self._authorise(auth, self.profile.writable[di])
        decoded = CATALOGUE[di].decode(value).value
        now = self.now()
        if di == 0x04000101:
            self.clock_offset += datetime.combine(decoded, now.time()) - now
        elif di == 0x04000102:
            self.clock_offset += datetime.combine(now.date(), decoded) - now
        elif di == 0x04000402:
            self.meter_number = decoded

    def _relay(self, auth: cmd.Auth, action: cmd.RelayAction, expiry: datetime | None) -> None:
        """Relay control as the profile declares it: an expired or zero deadline is refused,
        a trip opens after the trip delay, 1B only allows the customer to close, 1C closes."""
        self._authorise(auth, self.profile.relay_level)
        if not self.profile.relay or expiry is None or expiry < self.now() \
                or "refuses-relay-deadline" in self.defects:
            raise Refused(ERR_OTHER)
        modes = {cmd.RelayAction.CLOSE_ALLOWED: "allowed", cmd.RelayAction.DIRECT_CLOSE: "direct"}
        if action in modes and modes[action] not in self.profile.relay_close:
            raise Refused(ERR_OTHER)
        if action == cmd.RelayAction.TRIP:
            self.relay_commanded_open = True
            self.close_allowed = False
            if "relay-ignores-trip" not in self.defects:
                self._trip_at = self.physics.clock.now() + self._trip_delay()
                self._relay_settles()
        elif action in modes:
            self.relay_commanded_open = False
            self._trip_at = None
            direct = action == cmd.RelayAction.DIRECT_CLOSE \
                or "relay-closes-on-close-allowed" in self.defects
            self.close_allowed = not direct
            if direct:
                self.physics.set_relay(self.position, closed=True)
        elif action in (cmd.RelayAction.ALARM, cmd.RelayAction.ALARM_RELEASE):
            self.alarm = action == cmd.RelayAction.ALARM

    def _trip_delay(self) -> float:
        """A prepaid model's own trip delay is its factory setting, within what its profile
        declares; other models take the declared delay."""
        if self.profile.prepaid is None:
            return self.profile.trip_delay_s
        return FactorySettings().trip_delay_s + (LATE_TRIP_S if "trips-late" in self.defects
                                                 else 0.0)

    def _relay_settles(self) -> None:
        """A delayed trip takes effect once its time on the rig clock has come."""
        if self._trip_at is not None and self.physics.clock.now() >= self._trip_at:
            self._trip_at = None
            self.physics.set_relay(self.position, closed=False)

    def press_button(self) -> None:
        """The customer holds the button: after a close allowed (1B), or a local recharge above
        the close-allowed threshold, the relay closes."""
        if self.purse is not None and self.purse.press_button():
            return
        if self.close_allowed:
            self.close_allowed = False
            self.physics.set_relay(self.position, closed=True)
