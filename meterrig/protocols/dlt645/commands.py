"""DL/T 645-2007 commands: request builders and reply checks (master side), request parsers and
reply builders (slave side, for a simulated meter). All data here is plain (before +0x33)."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping

import attrs

from .frame import (
    ABNORMAL_BIT,
    BROADCAST_ADDRESS,
    CENTURY,
    DIRECTION_BIT,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    LIMITS,
    WILDCARD_ADDRESS,
    WILDCARD_BYTE,
    Frame,
    Function,
    address_bytes,
    address_from_bytes,
    address_matches,
    from_bcd,
    to_bcd,
)

ERROR_BITS: dict[int, str] = dict(LIMITS["error_bits"]["bits"])
BAUD_CODES: dict[int, int] = {rate: 1 << bit for rate, bit in LIMITS["baud_codes"]["bits"].items()}
PASSWORD_LEVEL_MAX: int = LIMITS["password"]["level_max"]
RelayAction = enum.IntEnum("RelayAction", LIMITS["relay_actions"]["codes"])
RelayAction.__doc__ = ("Relay command N1: TRIP, CLOSE_ALLOWED (1B: the customer closes it with the "
                       "button), DIRECT_CLOSE (1C), ALARM, ALARM_RELEASE, HOLD, HOLD_RELEASE.")

DI_LENGTH = 4
ADDRESS_LENGTH = 6  # a read-address reply's data: the meter's address, lowest byte first
EVERY = 0x99  # a freeze-time field of 99 means "every" (minute/hour/day/month)


def error_byte_of(*meanings: str) -> int:
    """Error byte with the bits of these meanings set: error_byte_of("no requested data") == 2."""
    by_name = {name: bit for bit, name in ERROR_BITS.items()}
    return sum(1 << by_name[m] for m in set(meanings))


def di_bytes(di: int, length: int = DI_LENGTH) -> bytes:
    """DI as sent: DI0 (lowest byte) first."""
    return di.to_bytes(length, "little")


def _hex_digits(count: int) -> Callable[[object, attrs.Attribute, str], None]:
    def check(instance: object, attribute: attrs.Attribute, value: str) -> None:
        if len(value) != count or any(c not in "0123456789ABCDEF" for c in value):
            raise ValueError(f"{attribute.name} must be {count} hex digits, got {value!r}")

    return check


def _printed_to_wire(printed: str) -> bytes:
    return bytes.fromhex(printed)[::-1]


def _wire_to_printed(raw: bytes) -> str:
    return raw[::-1].hex().upper()


class Masked(bytes):
    """Data bytes a trace must mask: a password with its level, an operator code."""


def _request(address: str, function: Function, *fields: bytes) -> Frame:
    """A request of these data fields in order, the spans of its Masked fields recorded where
    they land, so the spans follow any change of layout."""
    data, spans = b"", []
    for field in fields:
        if isinstance(field, Masked):
            spans.append((len(data), len(data) + len(field)))
        data += field
    return Frame(address, function, data, secret_spans=tuple(spans))


@attrs.frozen
class Auth:
    """Password level PA, password P0..P2 and operator code C0..C3, all printed high first."""

    level: int = attrs.field(validator=attrs.validators.in_(range(PASSWORD_LEVEL_MAX + 1)))
    password: str = attrs.field(converter=str.upper, validator=_hex_digits(6))
    # Change-password frames carry no operator code, hence the default.
    operator: str = attrs.field(default="00000000", converter=str.upper, validator=_hex_digits(8))

    def password_bytes(self) -> bytes:
        return Masked(bytes([self.level]) + _printed_to_wire(self.password))

    def to_bytes(self) -> bytes:
        return Masked(self.password_bytes() + _printed_to_wire(self.operator))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Auth:
        """PA P0 P1 P2 [C0 C1 C2 C3]."""
        operator = _wire_to_printed(raw[4:8]) if len(raw) == 8 else "00000000"
        return cls(raw[0], _wire_to_printed(raw[1:4]), operator)


def _in_range_or_none(low: int, high: int) -> Callable[[object, attrs.Attribute, int | None], None]:
    def check(instance: object, attribute: attrs.Attribute, value: int | None) -> None:
        if value is not None and not low <= value <= high:
            raise ValueError(f"{attribute.name} must be {low}..{high} or None, got {value}")

    return check


@attrs.frozen
class FreezeTime:
    """Freeze moment mm hh DD MM; None sends 99 = "every". Layout from the notes, which say it
    was not cross-checked against a second source; no public vector exists to check it by."""

    minute: int | None = attrs.field(default=None, validator=_in_range_or_none(0, 59))
    hour: int | None = attrs.field(default=None, validator=_in_range_or_none(0, 23))
    day: int | None = attrs.field(default=None, validator=_in_range_or_none(1, 31))
    month: int | None = attrs.field(default=None, validator=_in_range_or_none(1, 12))

    def to_bytes(self) -> bytes:
        fields = (self.minute, self.hour, self.day, self.month)
        return b"".join(bytes([EVERY]) if f is None else to_bcd(f, 1) for f in fields)

    @classmethod
    def from_bytes(cls, raw: bytes) -> FreezeTime:
        return cls(*(None if b == EVERY else from_bcd(bytes([b])) for b in raw))


def _datetime_bytes(when: datetime.datetime) -> bytes:
    """ss mm hh DD MM YY."""
    if not CENTURY <= when.year < CENTURY + 100:
        raise ValueError(f"year {when.year} does not fit the two-digit YY field")
    fields = (when.second, when.minute, when.hour, when.day, when.month, when.year - CENTURY)
    return b"".join(to_bcd(f, 1) for f in fields)


def _datetime_from_bytes(raw: bytes) -> datetime.datetime:
    ss, mm, hh, day, month, yy = (from_bcd(bytes([b])) for b in raw)
    return datetime.datetime(CENTURY + yy, month, day, hh, mm, ss)


# --- master side: request builders -------------------------------------------------------------


def read(address: str, di: int, extra: bytes = b"") -> Frame:
    """Read DI; ``extra`` is the optional block count / start time some reads take."""
    return Frame(address, Function.READ, di_bytes(di) + extra)


def read_follow_up(address: str, di: int, seq: int) -> Frame:
    return Frame(address, Function.READ_FOLLOW_UP, di_bytes(di) + bytes([seq]))


def read_address(pattern: str = WILDCARD_ADDRESS) -> Frame:
    """Ask the meters whose address matches ``pattern`` (AA: any byte) for their address: the
    only meter on a point-to-point link, by default."""
    return Frame(pattern, Function.READ_ADDRESS)


def write(address: str, di: int, value: bytes, auth: Auth) -> Frame:
    return _request(address, Function.WRITE, di_bytes(di), auth.to_bytes(), value)


def broadcast_time(when: datetime.datetime) -> Frame:
    """Time sync to every meter; the fields of ``when`` are sent as they are (meter local time)."""
    return Frame(BROADCAST_ADDRESS, Function.BROADCAST_TIME, _datetime_bytes(when))


def write_address(new_address: str) -> Frame:
    return Frame(WILDCARD_ADDRESS, Function.WRITE_ADDRESS, _real_address_bytes(new_address))


def freeze(address: str, when: FreezeTime | None) -> Frame:
    """Freeze at ``when``; None sends 99 in every field."""
    return Frame(address, Function.FREEZE, (when or FreezeTime()).to_bytes())


def change_baud(address: str, baudrate: int) -> Frame:
    if baudrate not in BAUD_CODES:
        raise ValueError(f"no baud code for {baudrate} bit/s; known: {sorted(BAUD_CODES)}")
    return Frame(address, Function.CHANGE_BAUD, bytes([BAUD_CODES[baudrate]]))


def change_password(
    address: str, di: int, old: Auth, new_level: int, new_password: str
) -> Frame:
    new = Auth(new_level, new_password)
    return _request(address, Function.CHANGE_PASSWORD, di_bytes(di), old.password_bytes(),
                    new.password_bytes())


def clear_demand(address: str, auth: Auth) -> Frame:
    return _request(address, Function.CLEAR_DEMAND, auth.to_bytes())


def meter_clear(address: str, auth: Auth) -> Frame:
    return _request(address, Function.METER_CLEAR, auth.to_bytes())


def event_clear(address: str, auth: Auth, di: int = 0xFFFFFFFF) -> Frame:
    """Clear the events of ``di``; FFFFFFFF clears all of them."""
    return _request(address, Function.EVENT_CLEAR, auth.to_bytes(), di_bytes(di))


def relay(
    address: str, auth: Auth, action: RelayAction, expiry: datetime.datetime | None
) -> Frame:
    """Relay command valid until ``expiry``; None sends six zero bytes, as some public frames
    do, which real meters refuse (the suites send it to check that refusal)."""
    expiry_bytes = bytes(6) if expiry is None else _datetime_bytes(expiry)
    reserved_n2 = bytes(1)
    return _request(address, Function.RELAY, auth.to_bytes(), bytes([action]), reserved_n2,
                    expiry_bytes)


def _real_address_bytes(address: str) -> bytes:
    raw = address_bytes(address)
    if WILDCARD_BYTE in raw:
        raise ValueError(f"address {address} has wildcard bytes; a meter needs a real one")
    return raw


# --- slave side: typed requests ----------------------------------------------------------------


@attrs.frozen
class ReadRequest:
    di: int
    extra: bytes = b""


@attrs.frozen
class ReadFollowUpRequest:
    di: int
    seq: int


@attrs.frozen
class ReadAddressRequest:
    pass


@attrs.frozen
class WriteRequest:
    di: int
    auth: Auth
    value: bytes


@attrs.frozen
class BroadcastTimeRequest:
    when: datetime.datetime


@attrs.frozen
class WriteAddressRequest:
    new_address: str


@attrs.frozen
class FreezeRequest:
    when: FreezeTime


@attrs.frozen
class ChangeBaudRequest:
    baudrate: int


@attrs.frozen
class ChangePasswordRequest:
    di: int
    old: Auth  # level and password only: the frame carries no operator code
    new_level: int
    new_password: str


@attrs.frozen
class ClearDemandRequest:
    auth: Auth


@attrs.frozen
class MeterClearRequest:
    auth: Auth


@attrs.frozen
class EventClearRequest:
    auth: Auth
    di: int


@attrs.frozen
class RelayRequest:
    auth: Auth
    action: RelayAction
    expiry: datetime.datetime | None


Request = (
    ReadRequest | ReadFollowUpRequest | ReadAddressRequest | WriteRequest | BroadcastTimeRequest
    | WriteAddressRequest | FreezeRequest | ChangeBaudRequest | ChangePasswordRequest
    | ClearDemandRequest | MeterClearRequest | EventClearRequest | RelayRequest
)


class RequestError(ValueError):
    """A request frame a slave cannot act on; ``error_byte`` is what the slave should answer."""

    def __init__(self, message: str, frame: Frame, error_byte: int) -> None:
        super().__init__(message)
        self.frame = frame
        self.error_byte = error_byte


class _BaudNotChangeable(ValueError):
    pass


def _di(raw: bytes) -> int:
    return int.from_bytes(raw, "little")


def _parse_baud(data: bytes) -> ChangeBaudRequest:
    rates = {code: rate for rate, code in BAUD_CODES.items()}
    if data[0] not in rates:
        raise _BaudNotChangeable(f"baud code Z=0x{data[0]:02X} is not one of {sorted(rates)}")
    return ChangeBaudRequest(rates[data[0]])


def _parse_relay(data: bytes) -> RelayRequest:
    try:
        action = RelayAction(data[8])
    except ValueError:
        raise ValueError(f"relay action N1=0x{data[8]:02X} is unknown") from None
    expiry = None if data[10:16] == bytes(6) else _datetime_from_bytes(data[10:16])
    return RelayRequest(Auth.from_bytes(data[:8]), action, expiry)


def _parse_change_password(data: bytes) -> ChangePasswordRequest:
    new = Auth.from_bytes(data[8:12])
    return ChangePasswordRequest(_di(data[:4]), Auth.from_bytes(data[4:8]), new.level, new.password)


def _parse_write(data: bytes) -> WriteRequest:
    return WriteRequest(_di(data[:4]), Auth.from_bytes(data[4:12]), data[12:])


def _parse_write_address(data: bytes) -> WriteAddressRequest:
    if WILDCARD_BYTE in data:
        raise ValueError(f"new address {address_from_bytes(data)} has wildcard bytes")
    return WriteAddressRequest(address_from_bytes(data))


# function -> (fewest data bytes, most data bytes or None for no limit, parser)
_PARSERS: dict[int, tuple[int, int | None, Callable[[bytes], Request]]] = {
    Function.READ: (4, None, lambda d: ReadRequest(_di(d[:4]), d[4:])),
    Function.READ_FOLLOW_UP: (5, 5, lambda d: ReadFollowUpRequest(_di(d[:4]), d[4])),
    Function.READ_ADDRESS: (0, 0, lambda d: ReadAddressRequest()),
    Function.WRITE: (12, None, _parse_write),
    Function.BROADCAST_TIME: (6, 6, lambda d: BroadcastTimeRequest(_datetime_from_bytes(d))),
    Function.WRITE_ADDRESS: (6, 6, _parse_write_address),
    Function.FREEZE: (4, 4, lambda d: FreezeRequest(FreezeTime.from_bytes(d))),
    Function.CHANGE_BAUD: (1, 1, _parse_baud),
    Function.CHANGE_PASSWORD: (12, 12, _parse_change_password),
    Function.CLEAR_DEMAND: (8, 8, lambda d: ClearDemandRequest(Auth.from_bytes(d))),
    Function.METER_CLEAR: (8, 8, lambda d: MeterClearRequest(Auth.from_bytes(d))),
    Function.EVENT_CLEAR: (12, 12, lambda d: EventClearRequest(Auth.from_bytes(d[:8]), _di(d[8:]))),
    Function.RELAY: (16, 16, _parse_relay),
}


def parse_request(frame: Frame) -> Request:
    """Request frame -> typed request, so a simulated meter can dispatch on its type."""
    other = error_byte_of("other error")
    if frame.from_slave:
        raise RequestError(f"control {frame.control:02X} has D7 set: a reply, not a request",
                           frame, other)
    if frame.function not in _PARSERS:
        raise RequestError(f"function {frame.function:02X} is not a known request", frame, other)
    fewest, most, parser = _PARSERS[frame.function]
    name = Function(frame.function).name
    n = len(frame.data)
    if n < fewest or (most is not None and n > most):
        wanted = f"{fewest}" if most == fewest else f"at least {fewest}"
        raise RequestError(f"{name} needs {wanted} data bytes, got {n}", frame, other)
    try:
        return parser(frame.data)
    except _BaudNotChangeable as exc:
        raise RequestError(str(exc), frame, error_byte_of("baud rate cannot be changed")) from None
    except ValueError as exc:
        raise RequestError(f"{name}: {exc}", frame, other) from None


# --- slave side: replies -----------------------------------------------------------------------


def _reply_control(request: Frame, flags: int) -> int:
    if request.from_slave:
        raise ValueError(f"control {request.control:02X} is a reply; only requests get replies")
    if request.address == BROADCAST_ADDRESS:
        raise ValueError("slaves never reply to a broadcast request")
    return DIRECTION_BIT | flags | request.function


def normal_reply(request_frame: Frame, address: str, data: bytes = b"",
                 follow_up: bool = False) -> Frame:
    flags = FOLLOW_UP_BIT if follow_up else 0
    return Frame(address, _reply_control(request_frame, flags), data)


def abnormal_reply(request_frame: Frame, address: str, error_byte: int) -> Frame:
    return Frame(address, _reply_control(request_frame, ABNORMAL_BIT), bytes([error_byte]))


def read_reply_data(di: int, value: bytes, seq: int | None = None) -> bytes:
    """Data of a read reply: DI, value, and SEQ in a follow-up (12) reply."""
    return di_bytes(di) + value + (b"" if seq is None else bytes([seq]))


# --- master side: reply checks -----------------------------------------------------------------


@attrs.frozen
class ReadReply:
    di: int
    value: bytes
    follow_up: bool
    seq: int | None


class AbnormalReply(Exception):
    """The meter answered with an error reply (D6 set)."""

    def __init__(self, control: int, error_byte: int,
                 bit_names: Mapping[int, str] = ERROR_BITS) -> None:
        self.control = control
        self.function = control & FUNCTION_MASK
        self.error_byte = error_byte
        self.errors = tuple(bit_names.get(bit, f"bit {bit}")
                            for bit in range(8) if error_byte >> bit & 1)
        meaning = ", ".join(self.errors) or "no bit set"
        super().__init__(f"abnormal reply {control:02X}, error byte 0x{error_byte:02X}: {meaning}")


class ReplyMismatch(Exception):
    """The reply does not answer the request."""


def check_reply_frame(request: Frame, reply: Frame,
                      bit_names: Mapping[int, str] = ERROR_BITS) -> None:
    """Direction, function, address and abnormal checks common to DL/T 645-2007 and -1997."""
    if request.from_slave:
        raise ValueError(f"request control {request.control:02X} has D7 set: it is a reply")
    if not reply.from_slave:
        raise ReplyMismatch(f"reply control {reply.control:02X} has the direction bit D7 clear")
    if reply.function != request.function:
        raise ReplyMismatch(f"reply function {reply.function:02X} does not answer request "
                            f"function {request.function:02X}")
    if request.address == BROADCAST_ADDRESS:
        raise ReplyMismatch(f"{reply.address} replied to a broadcast request")
    if WILDCARD_BYTE in address_bytes(reply.address):
        raise ReplyMismatch(f"reply address {reply.address} has wildcard bytes, not a real address")
    if not address_matches(request.address, reply.address):
        raise ReplyMismatch(f"reply from {reply.address} does not match request address "
                            f"{request.address}")
    if reply.abnormal:
        if len(reply.data) != 1:
            raise ReplyMismatch(f"abnormal reply carries {len(reply.data)} data bytes, "
                                "not the one error byte")
        raise AbnormalReply(reply.control, reply.data[0], bit_names)


def check_di_echo(request: Frame, reply: Frame, di_length: int) -> None:
    """A read reply must start with the DI it was asked for."""
    asked, echoed = request.data[:di_length], reply.data[:di_length]
    if echoed != asked:
        raise ReplyMismatch(f"reply echoes DI {_wire_to_printed(echoed) or 'none'}, "
                            f"request asked for {_wire_to_printed(asked)}")


def check_reply(request: Frame, reply: Frame) -> None:
    """Raise AbnormalReply or ReplyMismatch unless ``reply`` answers ``request`` normally."""
    check_reply_frame(request, reply)
    if request.function in (Function.READ, Function.READ_FOLLOW_UP):
        check_di_echo(request, reply, DI_LENGTH)
    if request.function == Function.READ_FOLLOW_UP:
        if len(reply.data) <= DI_LENGTH:
            raise ReplyMismatch("follow-up reply carries no SEQ byte")
        if reply.data[-1] != request.data[DI_LENGTH]:
            raise ReplyMismatch(f"follow-up reply SEQ {reply.data[-1]} does not echo "
                                f"request SEQ {request.data[DI_LENGTH]}")
    if request.function == Function.READ_ADDRESS:
        if len(reply.data) != ADDRESS_LENGTH:
            raise ReplyMismatch(f"read-address reply carries {len(reply.data)} bytes, "
                                f"not {ADDRESS_LENGTH}")
        if reply.data != address_bytes(reply.address):
            raise ReplyMismatch(f"reply data gives address {_wire_to_printed(reply.data)}, "
                                f"frame header {reply.address}")


def read_reply_fields(request: Frame, reply: Frame) -> ReadReply:
    """DI, value and SEQ of a read reply that check_reply has passed."""
    if request.function == Function.READ_FOLLOW_UP:
        return ReadReply(_di(reply.data[:DI_LENGTH]), reply.data[DI_LENGTH:-1], reply.follow_up,
                         reply.data[-1])
    return ReadReply(_di(reply.data[:DI_LENGTH]), reply.data[DI_LENGTH:], reply.follow_up, None)


def parse_read_reply(request: Frame, reply: Frame) -> ReadReply:
    if request.function not in (Function.READ, Function.READ_FOLLOW_UP):
        raise ValueError(f"request function {request.function:02X} is not a read")
    check_reply(request, reply)
    return read_reply_fields(request, reply)


def parse_read_address_reply(request: Frame, reply: Frame) -> str:
    """The address a meter gave in answer to read_address(): check_reply has made sure its
    data (6 bytes) and its header give the same one."""
    if request.function != Function.READ_ADDRESS:
        raise ValueError(f"request function {request.function:02X} is not read-address")
    check_reply(request, reply)
    return reply.address
