"""A simulated carrier module: speaks Q/GDW 1376.2 on its UART (a pty of the simulated bench)
and relays 13 F1 / F1 F1 frames to the simulated DL/T 645 meters over a CarrierPath (the
power-line network model, meterrig/sim/plc_network.py; carrier_path.py is the seam).

It keeps a slave archive and a master node address, answers queries and route control, denies
as the notes say (7 meter number not present, 11 slave no answer, 1 invalid data unit), and can
start frames of its own (06 reports, 14 F1 route read requests): they go out before its next
reply, as a module sends them while the concentrator's request is in flight, or unasked when
the line is quiet. In routing mode (after 12 F1) it asks the rig what to read from each meter
of its archive (14 F1), relays the frame the rig gives and reports the reply (06 F2).
`respond` is the whole behaviour, bytes in and bytes out, so self-tests drive it with no pty.
"""

from __future__ import annotations

import datetime
import logging

import attrs

from ..config import PositionConfig
from ..link.wire import bits_per_character
from ..protocols import registry
from ..protocols.gdw13762 import units as u
from ..protocols.gdw13762.codec import parse
from ..protocols.gdw13762.frame import (
    Address,
    Control,
    Frame,
    FrameSplitter,
    UpInfo,
    address_bytes,
    encode,
)
from ..protocols.gdw13762.profile import profile
from ..protocols.gdw13762.tunnel import PROTOCOL_BYTES
from .bench import SimulatedBench, SimulationError
from .bus import Line, Request, _wire_end
from .carrier_path import CarrierPath
from .defects import DEFECTS
from .dlt645_meter import Transmission

log = logging.getLogger(__name__)

VENDOR = u.VendorVersion("MR", "01", datetime.date(2026, 11, 30), "0100")
PROTOCOL_DATE = datetime.date(2013, 1, 1)  # the edition of Q/GDW 1376.2 it speaks
MAX_SLAVES = 1024
UART_DELAY_S = 0.030  # from a request's end to the module's reply on its UART
RESET_WAIT_S = 2  # the wait time its confirm of a hardware reset (01 F1) gives
POLL_S = 0.05  # how soon it sends a frame of its own when nothing else is on the line
CAN_READ = 2  # 14 F1 read flag (tables.yaml read_flags): the rig gives a frame to send
NOT_PRESENT, NO_ANSWER, INVALID_UNIT = 7, 11, 1  # deny codes (tables.yaml deny_codes)
RELAYED = ("13 F1", "F1 F1")
# The network model that gives the bench's module its CarrierPath: (bench, module position,
# {address: simulated meter}) -> CarrierPath.
PATH_FACTORY = "meterrig.sim.plc_network:carrier_path"


class SimulatedCarrierModule:
    def __init__(self, *, position: int, master_address: str, path: CarrierPath,
                 edition: int = 2013, mode: int = 3, baudrate: int = 9600,
                 character_bits: float = 11, monitor_timeout_s: int = 60,
                 archive: dict[str, int] | None = None,
                 defects: frozenset[str] = frozenset()) -> None:
        unknown = defects - DEFECTS.keys()
        if unknown:
            raise ValueError(f"unknown defects: {sorted(unknown)}")
        self.position = position
        self.master_address = master_address
        self.path = path
        self.edition = edition
        self.mode = mode
        self.baudrate = baudrate
        self.character_bits = character_bits
        self.monitor_timeout_s = monitor_timeout_s
        self.archive: dict[str, int] = dict(archive or {})  # address -> protocol byte
        self.defects = defects
        self.route = "running"
        self.routing: list[str] = []  # meters still to ask the rig about in this round
        self._asked: str | None = None  # the meter its last 14 F1 asked about
        self.pending: list[bytes] = []  # own frames: out before the next reply, or unasked
        self.answers: list[Frame] = []  # the concentrator's answers to them
        self._own_seq = 0

    # -- frames of its own ---------------------------------------------------------------------
    def start(self, afn: int, fn: int, unit: u.Unit) -> bytes:
        self._own_seq = (self._own_seq + 1) & 0xFF
        raw = encode(Frame(Control(uplink=True, prm=True, mode=self.mode),
                           UpInfo(seq=self._own_seq), afn, fn, unit.encode(self.edition)))
        self.pending.append(raw)
        return raw

    # -- the bus side --------------------------------------------------------------------------
    def answer(self, frame: bytes) -> Transmission | None:
        out, delay = self.respond(frame)
        if not out:
            return None
        return Transmission(out, delay, self.character_bits / self.baudrate)

    def respond(self, raw: bytes) -> tuple[bytes, float]:
        """Its bytes in answer to one frame from the concentrator (b"": silence) and their
        delay after the request's end (its UART delay, plus the mains for a relayed read)."""
        own, self.pending = b"".join(self.pending), []
        if not raw:  # the line is quiet: its own frames go out unasked
            return own, 0.0
        try:
            asked = parse(raw, self.edition)
        except ValueError as exc:
            log.info("carrier module %s: ignored a bad frame (%s)", self.position, exc)
            return own, UART_DELAY_S
        frame = asked.frame
        if frame.control.uplink:
            return own, UART_DELAY_S
        if not frame.control.prm:  # the concentrator answering one of ours
            self.answers.append(frame)
            if isinstance(asked.unit, u.RouteReadAnswer):
                self._route_read(asked.unit)
            return own, UART_DELAY_S
        latency = 0.0
        info = UpInfo(seq=frame.info.seq)
        address = None
        if asked.key in RELAYED and frame.address is not None:
            afn, fn, unit, result = self._relay(asked.key, asked.unit, frame.address.destination)
            if result is not None:
                latency = result.latency_s
                info = attrs.evolve(info, module=True, phase=result.phase,
                                    command_quality=result.signal_quality,
                                    reply_quality=result.signal_quality,
                                    relay_level=min(len(result.route), 15))
                address = Address(frame.address.destination, self.master_address)
        elif isinstance(asked.unit, bytes):  # a function the notes give no layout for
            afn, fn, unit = 0x00, 2, u.Deny(INVALID_UNIT)
        else:
            afn, fn, unit = self._command(asked.key, asked.unit)
        if afn in (0x13, 0xF1):
            info, address, unit = self._defective(info, address, unit)
        reply = bytearray(encode(Frame(Control(uplink=True, prm=False, mode=self.mode), info,
                                       afn, fn, unit.encode(self.edition), address)))
        if "module-wrong-checksum" in self.defects:
            reply[-2] ^= 0x5A
        return own + bytes(reply), UART_DELAY_S + latency

    def _defective(self, info: UpInfo, address: Address | None, unit: u.Unit
                   ) -> tuple[UpInfo, Address | None, u.Unit]:
        names = self.defects
        if "module-seq-not-echoed" in names:
            info = attrs.evolve(info, seq=(info.seq + 1) & 0xFF)
        if "module-wrong-signal-quality" in names:
            info = attrs.evolve(info, command_quality=15, reply_quality=15)
        if "module-drops-destination" in names:
            info, address = attrs.evolve(info, module=False), None
        if "module-wrong-protocol-byte" in names and hasattr(unit, "protocol"):
            unit = attrs.evolve(unit, protocol=unit.protocol ^ 3)
        return info, address, unit

    def _relay(self, key: str, unit: u.Unit, meter: str):
        if meter not in self.archive:
            return 0x00, 2, u.Deny(NOT_PRESENT), None
        result = self.path.relay(address_bytes(meter), unit.frame)
        if result.reply is None:
            return 0x00, 2, u.Deny(NO_ANSWER), None
        if key == "F1 F1":
            return 0xF1, 1, u.ConcurrentRead(unit.protocol, result.reply), result
        duration = max(1, round(result.latency_s)) if self.edition == 2013 else None
        return 0x13, 1, u.MonitorReply(unit.protocol, result.reply, duration), result

    def _command(self, key: str, unit: u.Unit) -> tuple[int, int, u.Unit]:
        if key == "01 F1":
            return 0x00, 1, u.Confirm(wait_s=RESET_WAIT_S)
        if key == "01 F2":
            self.archive.clear()
        elif key == "05 F1":
            self.master_address = unit.address
        elif key == "11 F1":
            if any(s.address in self.archive for s in unit.slaves):
                return 0x00, 2, u.Deny(6)  # meter number duplicated
            self.archive.update({s.address: s.protocol for s in unit.slaves})
        elif key == "11 F2":
            if any(a not in self.archive for a in unit.addresses):
                return 0x00, 2, u.Deny(NOT_PRESENT)
            for address in unit.addresses:
                del self.archive[address]
        elif key == "12 F1":  # a new round: it asks the rig what to read, meter by meter
            self.route, self.routing, self._asked = "running", list(self.archive), None
            self._ask_next()
        elif key == "12 F3":
            self.route = "running"
            self._ask_next()
        elif key == "12 F2":
            self.route = "paused"
        elif key == "03 F1":
            return 0x03, 1, VENDOR
        elif key == "03 F4":
            return 0x03, 4, u.NodeAddress(self.master_address)
        elif key == "03 F10":
            return 0x03, 10, u.RunningMode(
                bytes((self.mode, 0, 1, 1, 0, 0)), self.monitor_timeout_s, 30, 512, 128, 1,
                self.master_address, MAX_SLAVES, len(self.archive), PROTOCOL_DATE, VENDOR.date,
                VENDOR)
        elif key == "10 F1":
            return 0x10, 1, u.SlaveCount(len(self.archive), MAX_SLAVES)
        elif key == "10 F2":
            listed = list(self.archive.items())[unit.start - 1:unit.start - 1 + unit.count]
            return 0x10, 2, u.SlaveInfoList(len(self.archive), tuple(
                u.SlaveInfo(a, protocol=p) for a, p in listed))
        elif key not in ("01 F3", "04 F1"):
            return 0x00, 2, u.Deny(10)  # not supported
        return 0x00, 1, u.Confirm()


    # -- routing mode: it asks (14 F1), the rig answers, it reads and reports (06 F2) -------
    def _ask_next(self) -> None:
        if self.route != "running" or self._asked is not None or not self.routing:
            return
        self._asked = self.routing.pop(0)
        index = list(self.archive).index(self._asked) + 1
        self.start(0x14, 1, u.RouteReadRequest(1, self._asked, index))

    def _route_read(self, answer: u.RouteReadAnswer) -> None:
        meter, self._asked = self._asked, None
        if meter is not None and answer.read_flag == CAN_READ and answer.frame:
            result = self.path.relay(address_bytes(meter), answer.frame)
            if result.reply is not None:
                duration = max(1, round(result.latency_s)) if self.edition == 2013 else None
                self.start(0x06, 2, u.ReportReadData(list(self.archive).index(meter) + 1,
                                                     self.archive[meter], result.reply,
                                                     duration))
        self._ask_next()


class Gdw13762Receiver:
    """The bench bus's receive side for a module's UART: a frame ends where its L says."""

    def __init__(self) -> None:
        self._splitter = FrameSplitter()
        self._start = 0.0
        self._waiting = False
        self._modules: list[SimulatedCarrierModule] = []  # as the bus hands them over

    def _sending(self) -> bool:
        """A module has frames of its own and no request is coming in."""
        return not self._splitter.buffer and any(m.pending for m in self._modules)

    def timeout(self, now: float) -> float | None:
        return POLL_S if self._sending() else None

    def feed(self, data: bytes, now: float, line: Line) -> list[Request]:
        if not data:  # the line was quiet: an empty request lets the modules send their own
            return [Request(b"", now)] if self._sending() else []
        if not self._waiting:
            self._start, self._waiting = now, True
        frames = self._splitter.feed(data)
        requests = [Request(raw, _wire_end(self._start, now, len(raw), line)) for raw in frames]
        if frames:
            self._waiting = bool(self._splitter.buffer)
        return requests

    def decode(self, request: Request) -> bytes:
        return request.raw  # the module judges the frame itself (respond)

    def answer(self, frame: bytes, request: Request,
               modules: list[SimulatedCarrierModule]) -> list[Transmission]:
        self._modules = modules
        return [t for m in modules if (t := m.answer(frame)) is not None]

    def replied(self, modules: list[SimulatedCarrierModule]) -> None:
        pass


def device(bench: SimulatedBench, position: PositionConfig) -> SimulatedCarrierModule:
    """The bench's module at `position`, its archive the positions `via:` it, their simulated
    meters behind the network model's path."""
    behind = [p for p in bench.config.positions if p.via == position.number]
    meters = {p.address: bench._meter(p) for p in behind}
    try:
        factory = registry.resolve(PATH_FACTORY)
    except (ImportError, AttributeError) as exc:
        raise SimulationError(f"{bench.config.path}: position {position.number}: no power-line "
                              f"network model ({PATH_FACTORY}): {exc}") from exc
    bus = bench.config.buses[position.bus]
    module_profile = profile(position.profile)
    return SimulatedCarrierModule(
        position=position.number, master_address=position.address,
        path=factory(bench, position, meters), edition=module_profile.edition,
        mode=module_profile.mode, baudrate=bus.baudrate,
        character_bits=bits_per_character(bus.bytesize, bus.parity, bus.stopbits),
        archive={p.address: PROTOCOL_BYTES[p.protocol] for p in behind},
        defects=bench.physics.meters[position.number].defects.names)
