"""The serial link on a pseudo-terminal: parity refusal, exchange timing, silence, noise."""

from __future__ import annotations

import os
import threading
import time
import tty

import pytest

from meterrig.link.serial_link import Link, LinkError
from meterrig.link.wire import character_time

CHAR = character_time(2400, 8, "E", 1)


class LineSplitter:
    """A frame is anything up to a newline: enough to test the link without a codec."""

    def feed(self, data: bytes) -> list[bytes]:
        return [data] if data.endswith(b"\n") else []


class Peer:
    """The far end of a pty: answers each request after `delay`, one byte a character time."""

    def __init__(self, reply: bytes, delay: float, pause_at: int | None = None,
                 pause: float = 0.0) -> None:
        self.controller, self.device = os.openpty()
        tty.setraw(self.device)
        self.port = os.ttyname(self.device)
        self.reply, self.delay, self.pause_at, self.pause = reply, delay, pause_at, pause
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        data = os.read(self.controller, 1024)
        self.received = data
        start = time.monotonic() + len(data) * CHAR + self.delay
        for i, byte in enumerate(self.reply):
            if i == self.pause_at:
                start += self.pause
            wait = start + (i + 1) * CHAR - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            os.write(self.controller, bytes([byte]))

    def close(self) -> None:
        self.thread.join(timeout=5)
        os.close(self.controller)
        os.close(self.device)


@pytest.fixture
def peer(request):
    made = Peer(**request.param)
    yield made
    made.close()


def open_link(port: str) -> Link:
    return Link("test-bus", port, baudrate=2400, parity="E").open()


@pytest.mark.parametrize("peer", [{"reply": b"hello\n", "delay": 0.080}], indirect=True)
def test_exchange_times_the_reply(peer):
    with open_link(peer.port) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert peer.received == b"ask\n"
    assert exchange.reply == b"hello\n"
    assert exchange.response_delay == pytest.approx(0.080, abs=0.015)
    assert exchange.max_byte_gap < 0.015
    # The request cannot have ended before its wire time, even though a pty takes it at once.
    assert exchange.t_request_end - exchange.t_write >= 4 * CHAR - 1e-9
    assert link.exchanges == [exchange]


@pytest.mark.parametrize("peer", [{"reply": b"hello\n", "delay": 0.030, "pause_at": 3,
                                   "pause": 0.300}], indirect=True)
def test_exchange_measures_a_gap_inside_the_reply(peer):
    with open_link(peer.port) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert exchange.reply == b"hello\n"
    assert exchange.max_byte_gap == pytest.approx(0.300, abs=0.030)


@pytest.mark.parametrize("peer", [{"reply": b"", "delay": 0.0}], indirect=True)
def test_silence_is_recorded_not_raised(peer):
    with open_link(peer.port) as link:
        started = time.monotonic()
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=0.2, byte_gap_limit=0.2)
    assert not exchange.answered
    assert exchange.response_delay is None
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("peer", [{"reply": b"late\n", "delay": 0.0}], indirect=True)
def test_noise_waiting_on_the_bus_is_kept(peer):
    with open_link(peer.port) as link:
        os.write(peer.controller, b"\x00\xff")  # garbage before the request
        time.sleep(0.05)
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert exchange.stale == b"\x00\xff"
    assert exchange.reply == b"late\n"


def test_a_pty_refusing_parity_is_noted_not_fatal():
    controller, device = os.openpty()
    try:
        port = os.ttyname(device)
        first = open_link(port)  # the kernel silently drops even parity on a pty …
        first.close()
        with open_link(port) as link:  # … and refuses it on the next open
            assert any("parity" in note for note in link.notes)
    finally:
        os.close(controller)
        os.close(device)


def test_missing_port_names_bus_and_port():
    with pytest.raises(LinkError, match=r"bus test-bus: cannot open /dev/ttyNOSUCH"):
        open_link("/dev/ttyNOSUCH")


def test_secrets_are_masked_in_the_record():
    with Link("loop", "loop://", baudrate=2400, parity="E") as link:
        exchange = link.exchange(b"\x01\x02\x03\x04\n", LineSplitter(), reply_window=0.5,
                                 byte_gap_limit=0.5, secret_spans=((1, 3),))
    assert exchange.to_record()["request"] == "01 ** ** 04 0A"
