"""One link per bus: owns the port, serialises access, and records every exchange with timing."""

from __future__ import annotations

import errno
import logging
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

import serial
import serial.rs485

from .exchange import Exchange
from .wire import character_time

log = logging.getLogger(__name__)

# How long one port read may block: bounds how late a deadline is noticed, not how precisely
# bytes are dated (a read returns as soon as a byte is there).
POLL_S = 0.01


class LinkError(Exception):
    """The bus could not be used (port missing, refused, or gone)."""


class Splitter(Protocol):
    """What a link needs from a codec to know when a reply is complete (sans-IO frame finder)."""

    def feed(self, data: bytes) -> list[bytes]: ...


class Link:
    """A serial bus: a pyserial port or URL (tty, rfc2217://, socket://, loop://).

    Several meters share one bus, so every exchange holds the bus lock; a client that needs
    several exchanges in a row (a read with follow-up frames) holds `reserved()` around them.
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
    ) -> None:
        self.name = name
        self.port_name = port
        self.baudrate = baudrate
        self.parity = parity
        self.bytesize = bytesize
        self.stopbits = stopbits
        self.rs485 = rs485
        self.notes: list[str] = []  # what the port could not do, for reports
        self.exchanges: list[Exchange] = []
        self.observers: list[Callable[[Exchange], None]] = []
        self._lock = threading.RLock()
        self._port: serial.SerialBase | None = None

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
        if self.parity != "N" and not self._parity_kept():
            self._note(f"{self.port_name} cannot keep parity {self.parity} (a pseudo-terminal?); "
                       "running without parity")
        if self.rs485 is not None:
            try:
                self._port.rs485_mode = self.rs485
            except (ValueError, OSError, AttributeError, NotImplementedError) as exc:
                self._note(f"{self.port_name} has no kernel RS485 mode ({exc}); "
                           "relying on the adapter's automatic direction control")
        return self

    def _parity_kept(self) -> bool:
        """Whether the tty really has parity on (a pty accepts the setting, then drops it)."""
        fd = getattr(self._port, "fd", None)
        return fd is None or bool(termios.tcgetattr(fd)[2] & termios.PARENB)

    def _open_port(self, parity: str) -> serial.SerialBase:
        # A local tty is locked against a second user and guarded against a stuck write; URL
        # handlers (rfc2217://, socket://) support neither option.
        local = {} if "://" in self.port_name else {"exclusive": True, "write_timeout": 5}
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
        log.info("bus %s: %s", self.name, text)
        self.notes.append(text)

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

    @contextmanager
    def reserved(self) -> Iterator[Link]:
        """Hold the bus for a sequence of exchanges."""
        with self._lock:
            yield self

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
    ) -> Exchange:
        """Send `request` and collect the reply until the splitter finds a whole frame.

        Gives up when no first byte came within `reply_window` of the request's end, or when a
        started reply pauses longer than `byte_gap_limit`. A reply that never forms a frame is
        kept as it came: judging it is the client's job.
        """
        with self._lock:
            port = self.port
            try:
                stale = port.read(port.in_waiting) if port.in_waiting else b""
                started_at = datetime.now(UTC)
                t_write = time.monotonic()
                port.write(request)
                port.flush()
                # flush() returns early on many USB adapters and at once on a pty: the request
                # cannot have left sooner than its wire time.
                t_request_end = max(time.monotonic(),
                                    t_write + len(request) * self.character_time)
                chunks = self._collect(port, splitter, t_request_end + reply_window,
                                       byte_gap_limit)
            except (serial.SerialException, OSError) as exc:
                raise LinkError(f"bus {self.name}: {self.port_name} failed: {exc}") from exc
            record = Exchange(
                bus=self.name,
                label=label,
                request=request,
                started_at=started_at,
                t_write=t_write,
                t_request_end=t_request_end,
                chunks=tuple(chunks),
                character_time=self.character_time,
                baudrate=self.baudrate,
                attempt=attempt,
                stale=stale,
                reply_window=reply_window,
                secret_spans=secret_spans,
            )
            self.exchanges.append(record)
        for observer in self.observers:
            observer(record)
        return record

    def _collect(self, port, splitter: Splitter, first_deadline: float,
                 byte_gap_limit: float) -> list[tuple[float, bytes]]:
        chunks: list[tuple[float, bytes]] = []
        deadline = first_deadline
        while time.monotonic() < deadline:
            data = port.read(1)
            if not data:
                continue
            if port.in_waiting:
                data += port.read(port.in_waiting)
            now = time.monotonic()
            chunks.append((now, data))
            if splitter.feed(data):
                break
            deadline = now + byte_gap_limit
        return chunks
