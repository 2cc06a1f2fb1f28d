"""A simulated RS485 bus behind a pseudo-terminal: what a USB-RS485 adapter would show.

The master opens the pty's device path like any serial port. The bus reads its frames, hands
each to every simulated meter on it, and puts the replies on the wire with real timing: a
request ends when its bytes would have left at the line rate, a reply starts Td later and its
bytes arrive one character time apart (written in pieces, each when its last is due:
`_transmit`). Two meters answering at once garble each other.

A bus carries one protocol. What differs between protocols is how the receiver tells where a
request ends and hands it to the meters: a `Receiver` (DL/T 645: the frame's own length and end
byte; Modbus RTU: a silence of t3.5). Timing, collisions and line rates are the bus's.

The pty's controller side sees the termios the master set, so the bus knows the master's line
rate: a meter listening at another rate hears only noise and stays silent, as on a real line.

With `echo`, the bus plays a 2-wire adapter that hears its own transmitter: each byte the master
sends comes back to it as it leaves, at the line rate.
"""

from __future__ import annotations

import logging
import os
import re
import select
import termios
import threading
import time
import tty
from typing import Protocol

import attrs

from ..link.wire import bits_per_character
from ..protocols.dlt645.frame import LIMITS, MIN_FRAME_LENGTH, Frame, FrameSplitter, decode
from ..protocols.modbus import rtu
from .dlt645_meter import SimulatedDlt645Meter, Transmission
from .modbus_meter import SimulatedModbusMeter
from .noise import Noise

log = logging.getLogger(__name__)

PREAMBLE_BYTE = 0xFE
# A DL/T 645 receiver drops a partial frame after this silence, so a truncated request cannot
# swallow the next one (the spec's longest gap inside a frame, Tb).
RECEIVE_RESET_S = 0.5
# A reply this late is logged: the host starved the bench, the delay is not the meter's.
LATE_BYTE_S = 0.005
# A reply goes to the pty in pieces of at most this much wire time. Each piece goes out in one
# write when its last byte is readable: a bench the host runs late delays a piece but cannot put
# a gap inside it, and a long reply's first byte still comes about when a UART's would (a
# 200-byte block at 2400 bit/s lasts a second: written whole, its first byte would miss the
# master's reply window).
PIECE_S = 0.05
# termios speed constant -> bit/s (B0 means "hang up", not a rate)
LINE_RATES = {value: int(name[1:]) for name, value in vars(termios).items()
              if re.fullmatch(r"B[1-9][0-9]*", name)}
TERMIOS_SPEEDS = {rate: value for value, rate in LINE_RATES.items()}

Meter = SimulatedDlt645Meter | SimulatedModbusMeter


@attrs.frozen
class Line:
    """How the master is sending: its rate, and the bus's bits per character."""

    baudrate: int
    character_bits: float

    @property
    def character_time(self) -> float:
        return self.character_bits / self.baudrate


@attrs.frozen
class Request:
    """A whole request as the meters hear it."""

    raw: bytes
    end: float  # when its last byte left the master, by wire time
    had_preamble: bool = False  # DL/T 645: FE bytes went before it
    # A silence longer than its protocol allows came inside it: a conforming meter drops it.
    split: bool = False


class Receiver(Protocol):
    """The protocol-specific receive part of a bus."""

    def timeout(self, now: float) -> float | None:
        """How long the bus may wait for bytes before it must call feed(b"", ...) again."""

    def feed(self, data: bytes, now: float, line: Line) -> list[Request]:
        """Bytes read at `now` (b"" when a timeout passed); the requests now complete."""

    def decode(self, request: Request) -> object:
        """The request's frame; a ValueError for bytes no meter can trust."""

    def decode_unchecked(self, request: Request) -> object:
        """The frame as a meter that never checks its checksum or CRC reads it."""

    def answer(self, frame, request: Request, meters: list) -> list[Transmission]:
        """The replies of these meters (those listening at the line rate) to a good frame."""

    def replied(self, meters: list) -> None:
        """The replies to the last request are on the wire."""


def _wire_end(first: float, last: float, size: int, line: Line) -> float:
    """The request's last byte leaves the master no sooner than its wire time allows."""
    return max(last, first + size * line.character_time)


class Dlt645Receiver:
    """DL/T 645: a frame ends where its length field and end byte say; FE bytes may lead it."""

    # The longest frame a meter takes: the header and the largest L (frame.LIMITS).
    longest = MIN_FRAME_LENGTH + LIMITS["frame"]["data_length_max"]["reply"]

    def __init__(self) -> None:
        self._splitter = FrameSplitter()
        self._burst = bytearray()  # bytes of the request being received, preamble included
        self._burst_start = self._last_byte = 0.0
        # Seeded defect answers-split-frame: a silence over Tb does not clear a partial frame.
        self.keeps_partial_frames = False
        self._split = False
        self.overlong = False  # more bytes came in one go than the longest frame

    def timeout(self, now: float) -> float | None:
        return None  # a frame is told by its own bytes, never by a silence

    def feed(self, data: bytes, now: float, line: Line) -> list[Request]:
        if now - self._last_byte > RECEIVE_RESET_S:
            if self.keeps_partial_frames and self._burst:
                self._split = True
            else:
                self._splitter.reset()
                self._burst.clear()
        self._last_byte = now
        if not self._burst:
            self._burst_start = now
        self._burst += data
        self.overlong = len(self._burst) > self.longest
        requests = []
        for raw in self._splitter.feed(data):
            prefix = self._burst[: self._burst.find(raw)] if raw in self._burst else b""
            # A frame that came whole in this read left the master with this read's bytes up
            # to its end; older noise before it in the burst does not date it.
            start, size = (now, data.find(raw) + len(raw)) if raw in data \
                else (self._burst_start, len(self._burst))
            requests.append(Request(
                raw, _wire_end(start, now, size, line),
                had_preamble=prefix.endswith(bytes([PREAMBLE_BYTE])), split=self._split))
            self._burst.clear()
            self._split = False
        return requests

    def decode(self, request: Request) -> Frame:
        return decode(request.raw)

    def decode_unchecked(self, request: Request) -> Frame:
        raw = request.raw
        return decode(raw[:-2] + bytes([sum(raw[:-2]) & 0xFF]) + raw[-1:])

    def answer(self, frame: Frame, request: Request,
               meters: list[SimulatedDlt645Meter]) -> list[Transmission]:
        return [t for m in meters if (t := m.answer(frame, request.had_preamble)) is not None]

    def replied(self, meters: list[SimulatedDlt645Meter]) -> None:
        pass  # a DL/T 645 meter applies a change of its own when it builds the reply


class ModbusRtuReceiver:
    """Modbus RTU: bytes make one frame until the line has been silent for t3.5.

    A pty delivers a whole write at once, so the silence is a select timeout after the last
    read, at the master's rate.
    """

    longest = rtu.MAX_FRAME

    def __init__(self) -> None:
        self._frame = bytearray()
        self._first = self._last = 0.0
        self._line: Line | None = None
        self._split = False  # a gap over t1.5 came inside the frame being received
        self.keeps_partial_frames = False  # a frame is told by silence: nothing to keep
        self.overlong = False

    def _silence(self) -> float:
        return rtu.silent_intervals(self._line.baudrate)[1]

    def timeout(self, now: float) -> float | None:
        if not self._frame:
            return None
        return max(0.0, self._last + self._silence() - now)

    def feed(self, data: bytes, now: float, line: Line) -> list[Request]:
        requests = []
        if self._frame and now - self._last >= self._silence():
            requests.append(Request(bytes(self._frame),
                                    _wire_end(self._first, self._last, len(self._frame),
                                              self._line), split=self._split))
            self._frame.clear()
            self._split = False
        if data:
            if not self._frame:
                self._first = now
            elif now - self._last > rtu.silent_intervals(line.baudrate)[0]:
                self._split = True
            self._frame += data
            self._last, self._line = now, line
        self.overlong = len(self._frame) > self.longest
        return requests

    def decode(self, request: Request) -> rtu.Adu:
        return rtu.decode(request.raw)  # a bad CRC, or too short: RtuError

    def decode_unchecked(self, request: Request) -> rtu.Adu:
        body = request.raw[:-2]
        return rtu.decode(body + rtu.crc16(body).to_bytes(2, "little"))

    def answer(self, adu: rtu.Adu, request: Request,
               meters: list[SimulatedModbusMeter]) -> list[Transmission]:
        return [t for m in meters if (t := m.answer(adu)) is not None]

    def replied(self, meters: list[SimulatedModbusMeter]) -> None:
        for meter in meters:
            meter.reply_sent()


def collide(transmissions: list[Transmission]) -> Transmission:
    """Two drivers on one pair: the earliest sets the start, overlapping bytes are garbled."""
    first = min(transmissions, key=lambda t: t.delay)
    garbled = bytearray(first.data)
    for other in transmissions:
        if other is first:
            continue
        for i, byte in enumerate(other.data):
            if i < len(garbled):
                garbled[i] &= byte  # a dominant low level wins on the line
            else:
                garbled.append(byte)
    return Transmission(bytes(garbled), first.delay, first.character_time, first.pause)


class SimulatedBus:
    def __init__(self, name: str, *, baudrate: int, bytesize: int, parity: str,
                 stopbits: float, meters: list[Meter], receiver: Receiver | None = None,
                 echo: bool = False, noise: Noise | None = None) -> None:
        self.name = name
        self.echo = echo
        # One Noise per direction (master to meters, meters to master), from one setting.
        self.noise = {"request": Noise(), "reply": Noise(seed=1)}
        if noise is not None:
            self.set_noise(noise.ber, noise.bursts)
        self._echo_free = 0.0  # when the echo of the bytes so far has left
        self.meters = meters
        self.baudrate = baudrate
        self.character_bits = bits_per_character(bytesize, parity, stopbits)
        self.receiver = receiver if receiver is not None else Dlt645Receiver()
        self.receiver.keeps_partial_frames = bool(self._with("answers-split-frame"))
        self._last_reply: dict[int, Transmission] = {}  # position -> its last reply
        self._stale: set[int] = set()  # positions that will repeat it (stale-after-garbled)
        self._controller, self._device = os.openpty()
        tty.setraw(self._device)  # no echo, no line discipline: bytes pass as they are
        self._set_initial_rate()
        self.port = os.ttyname(self._device)
        self._line_rate: int | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._pulled = False
        self._thread = threading.Thread(target=self._serve, name=f"sim-bus-{name}", daemon=True)

    def _set_initial_rate(self) -> None:
        """A master that never sets a rate (a plain open) sends at the bus's rate, as if the
        adapter had been configured for it."""
        speed = TERMIOS_SPEEDS.get(self.baudrate)
        if speed is None:
            return
        attributes = termios.tcgetattr(self._device)
        attributes[4] = attributes[5] = speed
        termios.tcsetattr(self._device, termios.TCSANOW, attributes)

    def set_noise(self, ber: float, bursts: float) -> None:
        """Noise from now on, both directions (0, 0: a quiet bus)."""
        for direction, noise in self.noise.items():
            self.noise[direction] = Noise(ber, bursts, seed=noise.seed)

    def start(self) -> SimulatedBus:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.pull()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def pull(self) -> None:
        """The adapter is pulled out: the bus stops and its pty goes away (the master's port
        fails as a vanished USB adapter's does)."""
        if self._pulled:
            return
        self._pulled = True
        os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (self._controller, self._device):
            os.close(fd)

    def _master_rate(self) -> int | None:
        """The rate the master's port is set to; None when the pty cannot tell."""
        try:
            return LINE_RATES.get(termios.tcgetattr(self._controller)[5])
        except termios.error:
            return None

    def _serve(self) -> None:
        while True:
            timeout = self.receiver.timeout(time.monotonic())
            ready, _, _ = select.select([self._controller, self._wake_r], [], [], timeout)
            if self._wake_r in ready:
                return
            data = os.read(self._controller, 4096) if ready else b""
            now = time.monotonic()
            data = self.noise["request"].corrupt(data)
            if data:
                self._line_rate = self._master_rate()
            line = Line(self._line_rate or self.baudrate, self.character_bits)
            if data and self.echo:
                self._echo(data, now, line.character_time)
            requests = self.receiver.feed(data, now, line)
            if getattr(self.receiver, "overlong", False):
                self._overlong()
            for request in requests:
                self._dispatch(request)

    def _overlong(self) -> None:
        """More bytes than any frame: a meter with a short receive buffer overruns it."""
        for meter in self._with("resets-on-overlong-frame"):
            meter.physics.clear_registers(meter.position)  # as a restart from defaults
        for meter in self._with("clock-resets-on-overlong-frame"):
            meter.restart_clock()

    def _dispatch(self, request: Request) -> None:
        # A frame with a silence inside is void; only a defective meter still reads it.
        meters = self._with("answers-split-frame") if request.split else self.meters
        try:
            frame = self.receiver.decode(request)
        except ValueError as exc:
            log.info("bus %s: ignored a bad frame (%s)", self.name, exc)
            self._stale |= {m.position for m in self._with("stale-after-garbled")}
            meters = [m for m in meters if m in self._with("answers-corrupted-frame")]
            if not meters:
                return  # a meter stays silent on a frame it cannot trust
            try:
                frame = self.receiver.decode_unchecked(request)
            except ValueError:
                return
        listening = [m for m in meters if self._hears(m)]
        try:
            replies = [self._reply(m, self.receiver.answer(frame, request, [m]))
                       for m in listening]
            replies = [r for r in replies if r is not None]
            if replies:
                self._transmit(collide(replies), request.end)
                self.receiver.replied(listening)
        except Exception:  # a fault of the simulation: say so loudly, keep the bus alive
            log.exception("bus %s: simulated meter failed on %s", self.name, request.raw.hex(" "))

    def _with(self, defect: str) -> list[Meter]:
        # A device of a protocol kept elsewhere (a test's toy) may have no seeded defects.
        return [m for m in self.meters if defect in getattr(m, "defects", ())]

    def _reply(self, meter: Meter, replies: list[Transmission]) -> Transmission | None:
        """The meter's reply; with stale-after-garbled, after a garbled request its last one
        again instead."""
        reply = replies[0] if replies else None
        if reply is not None and meter.position in self._stale \
                and meter.position in self._last_reply:
            reply = self._last_reply[meter.position]
        if reply is not None:
            self._stale.discard(meter.position)
            self._last_reply[meter.position] = reply
        return reply

    def _hears(self, meter: Meter) -> bool:
        if self._line_rate is None or meter.baudrate == self._line_rate:
            return True
        log.info("bus %s: position %s listens at %s bit/s, the master sends at %s: noise",
                 self.name, meter.position, meter.baudrate, self._line_rate)
        return False

    def _echo(self, data: bytes, now: float, character_time: float) -> None:
        """The master's bytes come back as they leave it, one character time apart (the bus
        hears them once the master has sent them, so the receiver is fed after)."""
        start = max(now, self._echo_free)
        for i, byte in enumerate(data):
            wait = start + (i + 1) * character_time - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            os.write(self._controller, bytes([byte]))
        self._echo_free = start + len(data) * character_time

    def _transmit(self, reply: Transmission, request_end: float) -> None:
        """The reply on the wire: it starts Td after the request's end, its bytes one character
        time apart, written in pieces (PIECE_S), each when its last byte is readable: the master
        dates a piece back by its wire time. Written byte by byte, a bench the host runs late
        would put gaps inside a reply that no meter's UART makes; this way it mostly delays it.
        A gappy meter pauses between the halves of its reply."""
        data = self.noise["reply"].corrupt(reply.data)
        middle = len(data) // 2 if reply.pause else len(data)
        per_piece = max(1, int(PIECE_S / reply.character_time))
        start = request_end + reply.delay
        for half, half_end in ((0, middle), (middle, len(data))):
            for first in range(half, half_end, per_piece):
                end = min(first + per_piece, half_end)
                # A byte is readable once its stop bit is on the wire.
                due = start + end * reply.character_time + (reply.pause if half else 0.0)
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                os.write(self._controller, data[first:end])
                late = time.monotonic() - due
                if late > LATE_BYTE_S:
                    log.warning("bus %s: reply bytes %d-%d went out %.1f ms late: the host did "
                                "not run the simulated bench in time (a delay no meter made)",
                                self.name, first, end - 1, late * 1e3)
