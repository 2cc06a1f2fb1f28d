"""A simulated RS485 bus behind a pseudo-terminal: what a USB-RS485 adapter would show.

The master opens the pty's device path like any serial port. The bus reads its frames, hands
each to every simulated meter on it, and puts the replies on the wire with real timing: a
request ends when its bytes would have left at the bus rate, a reply starts Td later and its
bytes arrive one character time apart. Two meters answering at once garble each other.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty

from ..link.wire import character_time
from ..protocols.dlt645.frame import FrameError, FrameSplitter, decode
from .dlt645_meter import SimulatedDlt645Meter, Transmission

log = logging.getLogger(__name__)

PREAMBLE_BYTE = 0xFE
# A receiver drops a partial frame after this silence, so a truncated request cannot swallow the
# next one (the spec's longest gap inside a frame, Tb).
RECEIVE_RESET_S = 0.5


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
    return Transmission(bytes(garbled), first.delay, first.character_time)


class SimulatedBus:
    def __init__(self, name: str, *, baudrate: int, bytesize: int, parity: str,
                 stopbits: float, meters: list[SimulatedDlt645Meter]) -> None:
        self.name = name
        self.meters = meters
        self.character_time = character_time(baudrate, bytesize, parity, stopbits)
        self._controller, self._device = os.openpty()
        tty.setraw(self._device)  # no echo, no line discipline: bytes pass as they are
        self.port = os.ttyname(self._device)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name=f"sim-bus-{name}", daemon=True)

    def start(self) -> SimulatedBus:
        self._thread.start()
        return self

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._controller, self._device, self._wake_r, self._wake_w):
            os.close(fd)

    def _serve(self) -> None:
        splitter = FrameSplitter()
        burst = bytearray()  # bytes of the request being received, preamble included
        burst_start = last_byte = 0.0
        while True:
            ready, _, _ = select.select([self._controller, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            data = os.read(self._controller, 4096)
            now = time.monotonic()
            if now - last_byte > RECEIVE_RESET_S:
                splitter.reset()
                burst.clear()
            last_byte = now
            if not burst:
                burst_start = now
            burst += data
            for raw in splitter.feed(data):
                # The request's last byte leaves the master no sooner than its wire time allows.
                request_end = max(now, burst_start + len(burst) * self.character_time)
                prefix = burst[: burst.find(raw)] if raw in burst else b""
                self._dispatch(raw, prefix.endswith(bytes([PREAMBLE_BYTE])), request_end)
                burst.clear()

    def _dispatch(self, raw: bytes, had_preamble: bool, request_end: float) -> None:
        try:
            frame = decode(raw)
        except FrameError as exc:
            log.info("bus %s: ignored a bad frame (%s)", self.name, exc)
            return  # a meter stays silent on a frame it cannot trust
        try:
            replies = [t for m in self.meters if (t := m.answer(frame, had_preamble)) is not None]
        except Exception:  # a fault of the simulation: say so loudly, keep the bus alive
            log.exception("bus %s: simulated meter failed on %s", self.name, raw.hex(" "))
            return
        if replies:
            self._transmit(collide(replies), request_end)

    def _transmit(self, reply: Transmission, request_end: float) -> None:
        start = request_end + reply.delay
        for i, byte in enumerate(reply.data):
            # A byte is readable once its stop bit is on the wire.
            wait = start + (i + 1) * reply.character_time - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            os.write(self._controller, bytes([byte]))
