"""Typed data units of every AFN/Fn in the notes (gdw1376-2.md, the AFN Fn table), both ways.

`read_unit(key, uplink, data, edition)` turns a frame's data unit into its typed value, and
`unit.encode(edition)` back; a UnitError names the byte (from the data unit's start) that is
wrong. Where the 2009 and 2013 layouts differ (tables.yaml: editions), the edition decides.
"""

from __future__ import annotations

import datetime

import attrs

from .frame import ADDRESS_LENGTH, Rate, is_bcd
from .tables import EDITION_2013, has_uplink_duration, tables


class UnitError(ValueError):
    """A data unit that does not fit its layout; `offset` counts from the unit's first byte."""

    def __init__(self, offset: int, field: str, message: str) -> None:
        super().__init__(f"data unit byte {offset} ({field}): {message}")
        self.offset = offset
        self.field = field
        self.message = message


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int, field: str) -> bytes:
        if self.at + n > len(self.data):
            raise UnitError(len(self.data), field, f"the data unit stops there, {field} needs "
                                                   f"{n} byte(s)")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def uint(self, n: int, field: str) -> int:
        return int.from_bytes(self.take(n, field), "little")

    def bcd(self, n: int, field: str) -> str:
        """n BCD bytes, low first -> printed digits, most significant first."""
        start = self.at
        raw = self.take(n, field)
        for i, byte in enumerate(raw):
            if not is_bcd(byte):
                raise UnitError(start + i, field, f"{byte:02X}, expected BCD")
        return raw[::-1].hex()

    def address(self, field: str) -> str:
        return self.bcd(ADDRESS_LENGTH, field)

    def date(self, field: str) -> datetime.date:
        start = self.at
        day, month, year = (int(self.bcd(1, field)) for _ in range(3))
        try:
            return datetime.date(2000 + year, month, day)
        except ValueError as exc:
            raise UnitError(start, field, f"{day:02d}-{month:02d}-{year:02d} (DD MM YY): "
                                          f"{exc}") from None

    def ascii(self, n: int, field: str) -> str:
        start = self.at
        raw = self.take(n, field)
        for i, byte in enumerate(raw):
            if not 0x20 <= byte < 0x7F:
                raise UnitError(start + i, field, f"{byte:02X}, expected printable ASCII")
        return raw.decode("ascii")

    def frame(self, length: int, field: str) -> bytes:
        return self.take(length, field)

    def end(self) -> None:
        if self.at != len(self.data):
            raise UnitError(self.at, "after the unit", f"{len(self.data) - self.at} byte(s) "
                                                       "beyond the layout")


def _bcd(digits: str, n: int) -> bytes:
    if len(digits) != 2 * n or not digits.isdigit():
        raise ValueError(f"{digits!r} is not {2 * n} decimal digits")
    return bytes.fromhex(digits)[::-1]


def _uint(value: int, n: int, field: str) -> bytes:
    if not 0 <= value < 1 << (8 * n):
        raise ValueError(f"{field} {value} does not fit {n} byte(s)")
    return value.to_bytes(n, "little")


def _date(day: datetime.date) -> bytes:
    if not 2000 <= day.year <= 2099:
        raise ValueError(f"{day}: YY carries 2000..2099")
    return b"".join(_bcd(f"{v:02d}", 1) for v in (day.day, day.month, day.year - 2000))


def _frame(frame: bytes, n: int) -> bytes:
    return _uint(len(frame), n, "frame length") + frame


# -- the units --------------------------------------------------------------------------------
@attrs.frozen
class Empty:
    """No data unit (01 F1-F3, 12 F1-F3, the queries of 03 and 10 F1)."""

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return b""

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> Empty:
        return cls()


@attrs.frozen
class Confirm:
    """00 F1: D0 command processed, D1-D31 channel 1-31 idle; the wait time in s."""

    processed: bool = True
    channels_idle: int = 0  # bit n-1: channel n idle
    wait_s: int = 0

    def encode(self, edition: int = EDITION_2013) -> bytes:
        if not 0 <= self.channels_idle < 1 << 31:
            raise ValueError("channels 1-31 only")
        return (_uint(int(self.processed) | self.channels_idle << 1, 4, "status")
                + _uint(self.wait_s, 2, "wait time"))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> Confirm:
        status = r.uint(4, "status")
        return cls(bool(status & 1), status >> 1, r.uint(2, "wait time"))


@attrs.frozen
class Deny:
    """00 F2: the deny code (tables.yaml deny_codes)."""

    code: int

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(self.code, 1, "deny code")

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> Deny:
        return cls(r.uint(1, "deny code"))


@attrs.frozen
class Forward:
    """02 F1: protocol + L (1) + frame."""

    protocol: int
    frame: bytes

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(self.protocol, 1, "protocol") + _frame(self.frame, 1)

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> Forward:
        protocol = r.uint(1, "protocol")
        return cls(protocol, r.frame(r.uint(1, "L"), "frame"))


@attrs.frozen
class VendorVersion:
    """03 F1 (and the last 9 bytes of 03 F10): vendor and chip codes, date, version."""

    vendor: str  # 2 ASCII characters, in wire order
    chip: str
    date: datetime.date
    version: str  # 4 digits, BCD low byte first

    def encode(self, edition: int = EDITION_2013) -> bytes:
        if len(self.vendor) != 2 or len(self.chip) != 2:
            raise ValueError("vendor and chip codes have 2 characters")
        return (self.vendor.encode("ascii") + self.chip.encode("ascii") + _date(self.date)
                + _bcd(self.version, 2))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> VendorVersion:
        return cls(r.ascii(2, "vendor code"), r.ascii(2, "chip code"), r.date("version date"),
                   r.bcd(2, "version"))


@attrs.frozen
class NodeAddress:
    """03 F4 (up), 05 F1 (down): the master node address."""

    address: str

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _bcd(self.address, ADDRESS_LENGTH)

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> NodeAddress:
        return cls(r.address("master node address"))


@attrs.frozen
class RunningMode:
    """03 F10, the module's running mode (notes' layout, field by field)."""

    mode_word: bytes  # 6 bytes, as sent
    monitor_timeout_s: int  # the longest a 13 F1 may take the module
    broadcast_timeout_s: int
    max_frame_length: int
    max_file_packet: int
    upgrade_wait: int
    master_address: str
    max_slaves: int
    current_slaves: int
    protocol_date: datetime.date
    filing_date: datetime.date
    vendor_version: VendorVersion
    rates: tuple[Rate, ...] = ()

    def encode(self, edition: int = EDITION_2013) -> bytes:
        if len(self.mode_word) != 6:
            raise ValueError("the mode word has 6 bytes")
        return (self.mode_word + _uint(self.monitor_timeout_s, 1, "monitor timeout")
                + _uint(self.broadcast_timeout_s, 2, "broadcast timeout")
                + _uint(self.max_frame_length, 2, "max frame length")
                + _uint(self.max_file_packet, 2, "max file packet")
                + _uint(self.upgrade_wait, 1, "upgrade wait")
                + _bcd(self.master_address, ADDRESS_LENGTH)
                + _uint(self.max_slaves, 2, "max slaves")
                + _uint(self.current_slaves, 2, "current slaves")
                + _date(self.protocol_date) + _date(self.filing_date)
                + self.vendor_version.encode() + b"".join(rate.encode() for rate in self.rates))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> RunningMode:
        fields = (r.take(6, "mode word"), r.uint(1, "monitor timeout"),
                  r.uint(2, "broadcast timeout"), r.uint(2, "max frame length"),
                  r.uint(2, "max file packet"), r.uint(1, "upgrade wait"),
                  r.address("master address"), r.uint(2, "max slaves"),
                  r.uint(2, "current slaves"), r.date("protocol date"), r.date("filing date"),
                  VendorVersion.read(r, edition, key))
        rates = []
        while r.at < len(r.data):
            rates.append(Rate.of(r.take(2, f"rate {len(rates) + 1}")))
        return cls(*fields, rates=tuple(rates))


@attrs.frozen
class SendTest:
    """04 F1: how long to send, s."""

    duration_s: int

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(self.duration_s, 1, "duration")

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> SendTest:
        return cls(r.uint(1, "duration"))


@attrs.frozen
class ReportReadData:
    """06 F2: a read the module made in routing mode; the 2009 layout has no duration."""

    slave_index: int
    protocol: int
    frame: bytes
    duration_s: int | None = None  # uplink duration (2013); None in the 2009 layout

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.slave_index, 2, "slave index") + _uint(self.protocol, 1, "protocol")
                + _duration(self.duration_s, "06 F2", edition) + _frame(self.frame, 1))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> ReportReadData:
        index, protocol = r.uint(2, "slave index"), r.uint(1, "protocol")
        duration = _read_duration(r, key, edition)
        return cls(index, protocol, r.frame(r.uint(1, "L"), "frame"), duration)


def _duration(duration: int | None, key: str, edition: int) -> bytes:
    if has_uplink_duration(key, edition) != (duration is not None):
        raise ValueError(f"{key} in the {edition} layout "
                         f"{'has' if duration is None else 'lacks'} the uplink duration")
    return b"" if duration is None else _uint(duration, 2, "uplink duration")


def _read_duration(r: _Reader, key: str, edition: int) -> int | None:
    return r.uint(2, "uplink duration") if has_uplink_duration(key, edition) else None


@attrs.frozen
class SlaveCount:
    """10 F1 (up)."""

    total: int
    max_supported: int

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(self.total, 2, "total") + _uint(self.max_supported, 2, "max supported")

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> SlaveCount:
        return cls(r.uint(2, "total"), r.uint(2, "max supported"))


@attrs.frozen
class SlaveInfoQuery:
    """10 F2 (down): from which index, how many."""

    start: int
    count: int

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(self.start, 2, "start index") + _uint(self.count, 1, "count")

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> SlaveInfoQuery:
        return cls(r.uint(2, "start index"), r.uint(1, "count"))


@attrs.frozen
class SlaveInfo:
    """One slave of 10 F2 (up): its address and info word."""

    address: str
    relay_level: int = 0  # D0-D3
    signal_quality: int = 0  # D4-D7
    phase: int = 0  # D8-D10
    protocol: int = 0  # D11-D13

    def encode(self) -> bytes:
        for value, bits in ((self.relay_level, 4), (self.signal_quality, 4), (self.phase, 3),
                            (self.protocol, 3)):
            if not 0 <= value < 1 << bits:
                raise ValueError(f"{value} does not fit {bits} bits")
        word = (self.relay_level | self.signal_quality << 4 | self.phase << 8
                | self.protocol << 11)
        return _bcd(self.address, ADDRESS_LENGTH) + word.to_bytes(2, "little")

    @classmethod
    def read(cls, r: _Reader, n: int) -> SlaveInfo:
        address = r.address(f"slave {n} address")
        word = r.uint(2, f"slave {n} info")
        return cls(address, word & 15, word >> 4 & 15, word >> 8 & 7, word >> 11 & 7)


@attrs.frozen
class SlaveInfoList:
    """10 F2 (up): the archive's total and n slaves."""

    total: int
    slaves: tuple[SlaveInfo, ...] = ()

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.total, 2, "total") + _uint(len(self.slaves), 1, "n")
                + b"".join(s.encode() for s in self.slaves))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> SlaveInfoList:
        total, n = r.uint(2, "total"), r.uint(1, "n")
        return cls(total, tuple(SlaveInfo.read(r, i + 1) for i in range(n)))


@attrs.frozen
class Slave:
    address: str
    protocol: int


@attrs.frozen
class AddSlaves:
    """11 F1 (down): n slaves, each address + protocol."""

    slaves: tuple[Slave, ...]

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(len(self.slaves), 1, "n") + b"".join(
            _bcd(s.address, ADDRESS_LENGTH) + _uint(s.protocol, 1, "protocol")
            for s in self.slaves)

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> AddSlaves:
        n = r.uint(1, "n")
        return cls(tuple(Slave(r.address(f"slave {i + 1} address"),
                               r.uint(1, f"slave {i + 1} protocol")) for i in range(n)))


@attrs.frozen
class DeleteSlaves:
    """11 F2 (down): n addresses."""

    addresses: tuple[str, ...]

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return _uint(len(self.addresses), 1, "n") + b"".join(
            _bcd(a, ADDRESS_LENGTH) for a in self.addresses)

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> DeleteSlaves:
        n = r.uint(1, "n")
        return cls(tuple(r.address(f"slave {i + 1} address") for i in range(n)))


@attrs.frozen
class MonitorSlave:
    """13 F1 (down): protocol, delay flag, attached nodes, the meter frame."""

    protocol: int
    frame: bytes
    delay_flag: int = 0
    attached: tuple[str, ...] = ()

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.protocol, 1, "protocol") + _uint(self.delay_flag, 1, "delay flag")
                + _uint(len(self.attached), 1, "attached node count")
                + b"".join(_bcd(a, ADDRESS_LENGTH) for a in self.attached)
                + _frame(self.frame, 1))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> MonitorSlave:
        protocol, delay = r.uint(1, "protocol"), r.uint(1, "delay flag")
        n = r.uint(1, "attached node count")
        attached = tuple(r.address(f"attached node {i + 1}") for i in range(n))
        return cls(protocol, r.frame(r.uint(1, "L"), "frame"), delay, attached)


@attrs.frozen
class MonitorReply:
    """13 F1 (up): [uplink duration, 2013] + protocol + L + the meter's reply frame."""

    protocol: int
    frame: bytes
    duration_s: int | None = None

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_duration(self.duration_s, "13 F1", edition) + _uint(self.protocol, 1, "protocol")
                + _frame(self.frame, 1))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> MonitorReply:
        duration = _read_duration(r, key, edition)
        protocol = r.uint(1, "protocol")
        return cls(protocol, r.frame(r.uint(1, "L"), "frame"), duration)


@attrs.frozen
class RouteReadRequest:
    """14 F1 (up): the module asks what to read from this slave."""

    phase: int
    address: str
    slave_index: int

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.phase, 1, "phase") + _bcd(self.address, ADDRESS_LENGTH)
                + _uint(self.slave_index, 2, "slave index"))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> RouteReadRequest:
        return cls(r.uint(1, "phase"), r.address("slave address"), r.uint(2, "slave index"))


@attrs.frozen
class RouteReadAnswer:
    """14 F1 (down): the rig's answer: read flag (tables.yaml read_flags), the frame to send."""

    read_flag: int
    frame: bytes = b""
    delay_flag: int = 0
    attached: tuple[str, ...] = ()

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.read_flag, 1, "read flag") + _uint(self.delay_flag, 1, "delay flag")
                + _frame(self.frame, 1) + _uint(len(self.attached), 1, "n")
                + b"".join(_bcd(a, ADDRESS_LENGTH) for a in self.attached))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> RouteReadAnswer:
        flag, delay = r.uint(1, "read flag"), r.uint(1, "delay flag")
        frame = r.frame(r.uint(1, "L"), "frame")
        n = r.uint(1, "n")
        return cls(flag, frame, delay, tuple(r.address(f"attached node {i + 1}")
                                             for i in range(n)))


@attrs.frozen
class ConcurrentRead:
    """F1 F1: protocol + reserved + L (2 bytes) + frame. The notes give the downlink; the
    module's reply is read with the same layout (its reply carries the meter's frame)."""

    protocol: int
    frame: bytes
    reserved: int = 0

    def encode(self, edition: int = EDITION_2013) -> bytes:
        return (_uint(self.protocol, 1, "protocol") + _uint(self.reserved, 1, "reserved")
                + _frame(self.frame, 2))

    @classmethod
    def read(cls, r: _Reader, edition: int, key: str) -> ConcurrentRead:
        protocol, reserved = r.uint(1, "protocol"), r.uint(1, "reserved")
        return cls(protocol, r.frame(r.uint(2, "L"), "frame"), reserved)


Unit = (Empty | Confirm | Deny | Forward | VendorVersion | NodeAddress | RunningMode | SendTest
        | ReportReadData | SlaveCount | SlaveInfoQuery | SlaveInfoList | AddSlaves
        | DeleteSlaves | MonitorSlave | MonitorReply | RouteReadRequest | RouteReadAnswer
        | ConcurrentRead)

# (AFN Fn, uplink) -> the unit's type, from tables.yaml `layouts` (the notes' AFN Fn table).
LAYOUTS: dict[tuple[str, bool], type] = {
    (key, direction == "up"): globals()[name]
    for key, directions in tables()["layouts"].items()
    for direction, name in directions.items()
}


def layout(key: str, uplink: bool) -> type | None:
    """The unit type of an AFN Fn in one direction; None: the notes give no layout."""
    return LAYOUTS.get((key, uplink))


def read_unit(key: str, uplink: bool, data: bytes, edition: int = EDITION_2013) -> Unit:
    """The typed data unit; LookupError when the notes give no layout, UnitError when the
    bytes do not fit it."""
    kind = layout(key, uplink)
    if kind is None:
        raise LookupError(f"{key} {'uplink' if uplink else 'downlink'}: no layout in the notes")
    r = _Reader(data)
    unit = kind.read(r, edition, key)
    r.end()
    return unit

