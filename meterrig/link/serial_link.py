"""One link per bus: owns the port, serialises access, and records every exchange with timing."""

from __future__ import annotations

import errno
import logging
import os
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

import attrs
import serial
import serial.rs485

from ..faults import Segment, coalesced, wire_of
from ..limits import table
from . import host, resolution
from .exchange import Exchange
from .handover import BusLock
from .resolution import Resolution
from .wire import character_time

log = logging.getLogger(__name__)

# How long one port read may block: bounds how late a deadline is noticed, not how precisely
# bytes are dated (a read returns as soon as a byte is there).
POLL_S = 0.01
ECHO_PROBE = table("rig-tolerances")["echo_probe"]


class LinkError(Exception):
    """The bus could not be used (port missing, refused, or gone)."""


class FaultNotApplied(Exception):
    """The port cannot send a fault as asked (a pseudo-terminal has no parity to get wrong)."""


class Splitter(Protocol):
    """What a link needs from a codec to know when a reply is complete (sans-IO frame finder)."""

    def feed(self, data: bytes) -> list[bytes]: ...


class Link:
    """A serial bus: a pyserial port or URL (tty, rfc2217://, socket://, loop://).

    Several meters share one bus, so every exchange holds the bus lock; a client that needs
    several exchanges in a row (a read with follow-up frames) holds `reserved()` around them.

    `timing` is the declared timing resolution (None: decide when the port opens, see
    resolution.of_port). `echo`: whether the adapter hears its own transmission (None: find out
    when the port opens). On a bus that echoes, each exchange reads its request back first,
    checks it, and dates the request's end by the echo's end.

    Every time the link records is bracketed by when it could have happened (Exchange: a read
    that finds bytes already waiting, or a write the host was slow to finish, dates them to an
    interval, not a point). `clock` is where it reads the time, `waited` how long the host has
    kept its thread waiting for a CPU (host.py); both are a test's seam for a host too busy to
    run the link when bytes come.
    """

    def __init__(
        self,
        name: str,
        port: str,
        *,
        baudrate: int = 2400,
        parity: str = "E",
        bytesize: int = 8,
        stopbits: float = 1,
        rs485: serial.rs485.RS485Settings | None = None,
        timing: Resolution | None = None,
        echo: bool | None = False,
        handover: bool = False,
        clock: Callable[[], float] = time.monotonic,
        waited: Callable[[], float | None] = host.run_queue_wait,
    ) -> None:
        self.name = name
        self.clock = clock
        self.waited = waited
        self.port_name = port
        self.baudrate = baudrate
        self.parity = parity
        self.bytesize = bytesize
        self.stopbits = stopbits
        self.rs485 = rs485
        self.declared_timing = timing
        self.resolution = timing  # decided when the port opens, unless declared
        self.echo = echo
        self.notes: list[str] = []  # what the port could not do, for reports
        self.exchanges: list[Exchange] = []
        self.observers: list[Callable[[Exchange], None]] = []
        self._lock = threading.RLock()
        self._port: serial.SerialBase | None = None
        # Shared with other processes (handover.py): used only while taken.
        self.handover = BusLock(port) if handover else None
        self.parity_kept = True  # whether the port really sends with parity (a pty cannot)
        self._late = b""  # bytes heard while settling, shown as the next exchange's stale bytes

    # -- port ---------------------------------------------------------------------------------
    def open(self) -> Link:
        try:
            self._port = self._open_port(self.parity)
        except serial.SerialException as exc:
            raise LinkError(f"bus {self.name}: cannot open {self.port_name}: {exc}") from exc
        except (OSError, termios.error) as exc:
            if exc.args[0] != errno.EINVAL or self.parity == "N":
                raise LinkError(f"bus {self.name}: cannot open {self.port_name}: {exc}") from exc
            # A pseudo-terminal cannot keep parity (the kernel drops PARENB and refuses it on a
            # later open): carry on without, and say so in every report of this bus.
            self._port = self._open_port("N")
        self.parity_kept = self.parity == "N" or self._parity_kept()
        if not self.parity_kept:
            self._note(f"{self.port_name} cannot keep parity {self.parity} (a pseudo-terminal?); "
                       "running without parity")
        if self.rs485 is not None:
            try:
                self._port.rs485_mode = self.rs485
            except (ValueError, OSError, AttributeError, NotImplementedError) as exc:
                self._note(f"{self.port_name} has no kernel RS485 mode ({exc}); "
                           "relying on the adapter's automatic direction control")
        self.resolution = self._resolution()
        if self.echo is None:
            self.echo = self._probe_echo()
        return self

    def _resolution(self) -> Resolution:
        if self.declared_timing is not None:
            return self.declared_timing
        fd = getattr(self._port, "fd", None)
        return resolution.of_port(self.port_name, self.character_time,
                                  None if fd is None else os.fstat(fd).st_rdev)

    def _probe_echo(self) -> bool:
        """Whether the adapter hears its own transmission: send a probe no DL/T 645 or Modbus
        device answers (the reasons are in limits/rig-tolerances.yaml, echo_probe) and listen
        until every receiver on the bus has dropped it."""
        probe = bytes.fromhex(ECHO_PROBE["bytes"])
        port = self.port
        try:
            if port.in_waiting:
                port.read(port.in_waiting)  # older noise is not an answer to the probe
            port.write(probe)
            port.flush()
            heard = bytearray()
            deadline = self.clock() + ECHO_PROBE["listen_s"]
            while self.clock() < deadline:
                heard += port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"bus {self.name}: {self.port_name} failed: {exc}") from exc
        echoes = heard.startswith(probe)
        if echoes:
            self._note(f"{self.port_name} echoes what it sends (found when the bus opened): "
                       "each request is read back, checked and stripped from the reply")
        if heard != (probe if echoes else b""):
            self._note(f"the echo probe {probe.hex(' ').upper()} heard "
                       f"{bytes(heard).hex(' ').upper()}: noise on the bus?")
        return echoes

    def _parity_kept(self) -> bool:
        """Whether the tty really has parity on (a pty accepts the setting, then drops it)."""
        fd = getattr(self._port, "fd", None)
        return fd is None or bool(termios.tcgetattr(fd)[2] & termios.PARENB)

    def _open_port(self, parity: str) -> serial.SerialBase:
        # A local tty is locked against a second user and guarded against a stuck write; URL
        # handlers (rfc2217://, socket://) support neither option.
        local = {} if "://" in self.port_name else {"exclusive": self.handover is None,
                                                     "write_timeout": 5}
        return serial.serial_for_url(
            self.port_name,
            baudrate=self.baudrate,
            parity=parity,
            bytesize=self.bytesize,
            stopbits=self.stopbits,
            timeout=POLL_S,
            **local,
        )

    def _note(self, text: str) -> None:
        if text not in self.notes:  # a handed-over bus opens once per process, notes once
            log.info("bus %s: %s", self.name, text)
            self.notes.append(text)

    def take(self, *, one_exchange: bool = False) -> Link:
        """Hold a handed-over bus: wait until no other process holds it, open it the first time,
        and drop what came while another held it (no reply to anything this process sent).
        `one_exchange`: taken for one use, it goes before spans of work waiting (handover.py)."""
        self.handover.acquire(first=one_exchange)
        try:
            if self._port is None:
                self.open()
            else:
                self.port.reset_input_buffer()
        except BaseException:
            self.handover.release()
            raise
        return self

    def give_back(self) -> None:
        self.handover.release()

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def __enter__(self) -> Link:
        return self if self._port is not None else self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> serial.SerialBase:
        if self._port is None:
            raise LinkError(f"bus {self.name} is not open")
        return self._port

    @property
    def character_time(self) -> float:
        return character_time(self.baudrate, self.bytesize, self.parity, self.stopbits)

    def set_baudrate(self, baudrate: int) -> None:
        """Follow a meter to a new rate (after a baud-change command)."""
        with self._lock:
            self.port.baudrate = baudrate
            self.baudrate = baudrate
            self.resolution = self._resolution()  # a USB adapter's includes a character time

    @contextmanager
    def reserved(self) -> Iterator[Link]:
        """Hold the bus for a sequence of exchanges."""
        with self._lock, self._held():
            yield self

    @property
    def held(self) -> bool:
        """Whether this process holds the bus now (one not handed over it always holds)."""
        return self.handover is None or self.handover.held

    @contextmanager
    def _held(self) -> Iterator[None]:
        """A handed-over bus not held for a span of work is taken for one use."""
        if self.held:
            yield
            return
        self.take(one_exchange=True)
        try:
            yield
        finally:
            self.give_back()

    # -- exchanges ----------------------------------------------------------------------------
    def exchange(
        self,
        request: bytes,
        splitter: Splitter,
        *,
        reply_window: float,
        byte_gap_limit: float,
        label: str = "",
        attempt: int = 1,
        secret_spans: tuple[tuple[int, int], ...] = (),
        plan: Sequence[Segment] | None = None,
        fault: str = "",
    ) -> Exchange:
        """Send `request` and collect the reply until the splitter finds a whole frame.

        Gives up when no first byte came within `reply_window` of the request's end, or when a
        started reply pauses longer than `byte_gap_limit`. A reply that never forms a frame is
        kept as it came: judging it is the client's job. A `plan` (meterrig/faults.py) says how
        a request spoilt by `fault` goes out: segments, pauses, other line settings.
        """
        if plan is not None:
            request = wire_of(plan)
            self._check_plan(plan)
        with self._lock, self._held():
            port = self.port
            try:
                stale = self._late + (port.read(port.in_waiting) if port.in_waiting else b"")
                self._late = b""
                started_at = datetime.now(UTC)
                t_write = self.clock()
                wire_time, left_by = self._send(port, (Segment(request),) if plan is None
                                                else plan)
                # The request cannot have left sooner than its wire time after the write call
                # (flush() returns early on many USB adapters and at once on a pty); it had
                # left by when flush() returned, or by its last write's return plus its wire
                # time, whichever is later (a host busy before or inside the write).
                t_request_end_earliest = t_write + wire_time
                t_request_end = max(self.clock(), t_request_end_earliest, left_by)
                listen_until = t_request_end + reply_window
                echo, early = None, []
                if self.echo:
                    echo, echo_end, early = self._read_echo(port, len(request), listen_until,
                                                            t_write)
                    if echo_end is None:
                        # No whole echo came: what came is no reply (Exchange.echo_fault).
                        listen_until = 0.0
                    else:  # the echo's end is the measured end of the request
                        t_request_end_earliest, t_request_end = echo_end
                        listen_until = t_request_end + reply_window
                # The last look at the port: before the write (what was waiting then is
                # stale), or when the echo ended.
                looked = early[-1].looked if early else \
                    t_request_end_earliest if echo is not None else t_write
                chunks = self._collect(port, splitter, listen_until, byte_gap_limit, early,
                                       looked)
            except (serial.SerialException, OSError) as exc:
                raise LinkError(f"bus {self.name}: {self.port_name} failed: {exc}") from exc
            record = Exchange(
                bus=self.name,
                label=label,
                request=request,
                started_at=started_at,
                t_write=t_write,
                t_request_end=t_request_end,
                t_request_end_earliest=t_request_end_earliest,
                chunks=tuple((c.latest, c.data) for c in chunks),
                chunks_since=tuple(c.earliest for c in chunks),
                character_time=self.character_time,
                baudrate=self.baudrate,
                attempt=attempt,
                stale=stale,
                reply_window=reply_window,
                secret_spans=secret_spans,
                resolution=self.resolution,
                echo=echo,
                fault=fault,
            )
            self.exchanges.append(record)
        for observer in self.observers:
            observer(record)
        return record

    def settle(self, quiet: float) -> bytes:
        """Listen until the bus has been silent for `quiet` seconds (after a spoilt request was
        answered, more may follow: a second reply to two frames back to back), so the next
        exchange does not take them for its reply; what came is shown as its stale bytes."""
        with self._lock:
            heard = bytearray()
            deadline = self.clock() + quiet
            looked = self.clock()
            try:
                while self.clock() < deadline:
                    read = self._read_waiting(self.port, looked)
                    looked = read.looked
                    if read.data:
                        heard += read.data
                        deadline = self.clock() + quiet
            except (serial.SerialException, OSError) as exc:
                raise LinkError(f"bus {self.name}: {self.port_name} failed: {exc}") from exc
            self._late += heard
            return bytes(heard)

    def _check_plan(self, plan: Sequence[Segment]) -> None:
        if any(s.parity not in (None, "N") for s in plan) and not self.parity_kept:
            raise FaultNotApplied(f"bus {self.name}: {self.port_name} cannot send with parity "
                                  "(a pseudo-terminal?), so no parity can be got wrong")

    def _send(self, port, plan: Sequence[Segment]) -> tuple[float, float]:
        """Write the segments, each after its pause and at its settings: (their wire time, when
        the last of them had left at the latest: its write's return plus its own wire time)."""
        wire_time, start = 0.0, self.clock()
        left_by = start
        for segment in coalesced(plan):
            if segment.pause:
                port.flush()
                # The silence is the fault; it begins when the bytes before it have left.
                time.sleep(max(0.0, start + wire_time - self.clock()) + segment.pause)
                wire_time += segment.pause
            settings = {"baudrate": segment.baudrate or self.baudrate,
                        "parity": segment.parity or port.parity}
            own = {"baudrate": port.baudrate, "parity": port.parity}
            if settings != own:
                port.flush()
                try:
                    port.apply_settings(settings)
                except (ValueError, OSError, termios.error, serial.SerialException) as exc:
                    port.apply_settings(own)
                    raise FaultNotApplied(f"bus {self.name}: {self.port_name} cannot send at "
                                          f"{settings}: {exc}") from exc
            segment_time = len(segment.data) * character_time(
                settings["baudrate"], self.bytesize, settings["parity"], self.stopbits)
            port.write(segment.data)
            left_by = self.clock() + segment_time
            port.flush()
            if settings != own:
                # The bytes must be on the wire before the line goes back to the bus's settings.
                time.sleep(segment_time)
                port.apply_settings(own)
            wire_time += segment_time
        return wire_time, left_by

    def _read_echo(self, port, size: int, deadline: float, looked: float
                   ) -> tuple[bytes, tuple[float, float] | None, list[Chunk]]:
        """The adapter's echo of a request of `size` bytes: (the bytes heard, the earliest and
        latest time the last of them arrived, or None if they did not all come, reply bytes that
        came with them). `looked`: when the link last looked at the port before."""
        heard, end = bytearray(), None
        while len(heard) < size and self.clock() < deadline:
            read = self._read_waiting(port, looked)
            looked = read.looked
            if not read.data:
                continue
            need = size - len(heard)
            heard += read.data[:need]
            end = (read.earliest, read.latest)
            if len(read.data) > need:  # the reply began in the same read: date the echo's end back
                rest = read.data[need:]
                echo_end = read.latest - len(rest) * self.character_time
                return bytes(heard), (min(read.earliest, echo_end), echo_end), [
                    attrs.evolve(read, data=rest)]
        return bytes(heard), end if len(heard) == size else None, []

    def _collect(self, port, splitter: Splitter, first_deadline: float, byte_gap_limit: float,
                 early: list[Chunk], looked: float) -> list[Chunk]:
        chunks = list(early)
        deadline = first_deadline
        for chunk in early:
            if splitter.feed(chunk.data):
                return chunks
            deadline = chunk.latest + byte_gap_limit
        while self.clock() < deadline:
            read = self._read_waiting(port, looked)
            looked = read.looked
            if not read.data:
                continue
            chunks.append(read)
            if splitter.feed(read.data):
                break
            deadline = read.latest + byte_gap_limit
        return chunks

    def _read_waiting(self, port, looked: float) -> Chunk:
        """The next bytes (waiting at most one poll for them), bracketed by when they can have
        arrived. `looked`: the earliest time the link can last have looked at the port.

        Bytes already waiting when asked came while the host was busy elsewhere: somewhere
        between that last look and now, not now. A read that had to wait was woken by its first
        byte, so dates it by its return (to the link's resolution), or up to as long before as
        the host kept the thread waiting for a CPU meanwhile. A read that waited in vain looked
        last when its poll ran out, or at its return if that came first."""
        asked = self.clock()
        waiting = port.in_waiting
        checked = self.clock()  # the port was looked at between `asked` and now
        if waiting:
            return Chunk(port.read(waiting), earliest=looked, latest=checked, looked=asked)
        before = self.waited()
        data = port.read(1)
        returned = self.clock()
        if not data:
            return Chunk(b"", earliest=returned, latest=returned,
                         looked=min(returned, asked + POLL_S))
        after = self.waited()
        woken = returned if before is None or after is None \
            else max(looked, returned - (after - before))
        waiting = port.in_waiting
        if not waiting:
            return Chunk(data, earliest=woken, latest=returned, looked=returned)
        # Bytes that came after the first: by the second look, which the host may have been
        # slow to make.
        checked = self.clock()
        return Chunk(data + port.read(waiting), earliest=woken, latest=checked, looked=returned)


@attrs.frozen
class Chunk:
    """Bytes one read returned: the last of them arrived after `earliest` and by `latest`;
    `looked` is the earliest the read can have last seen the port (the next read's bytes came
    after it)."""

    data: bytes
    earliest: float
    latest: float
    looked: float
