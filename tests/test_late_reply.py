"""A reply that comes after its window is taken by the next exchange on the bus. The master then
waits for that exchange's own reply, so the exchange after it gets its own answer: one late
reply costs two exchanges, not every later one on the bus (they would each be one behind)."""

from __future__ import annotations

import os
import threading
import time
import tty

import pytest

from meterrig.link.serial_link import Link
from meterrig.meter import MeterError
from meterrig.protocols.dlt645 import frame
from meterrig.protocols.dlt645.client import Dlt645Client
from meterrig.protocols.dlt645.commands import ReplyMismatch, di_bytes

ADDRESS = "000000000001"
WINDOW_S = 0.3
LATE_S = 0.45  # past the window, so the reply lands in the next exchange's
PROMPT_S = 0.05
DIS = (0x00010000, 0x00020000, 0x02010100, 0x02020100, 0x04000409)


class LateOnceMeter:
    """A DL/T 645-2007 meter on a pseudo-terminal answering every read with its DI and four
    value bytes: the first request after LATE_S, each later one after PROMPT_S."""

    def __init__(self) -> None:
        self.controller, self.device = os.openpty()
        tty.setraw(self.device)
        self.port = os.ttyname(self.device)
        self.answered: list[int] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        splitter = frame.FrameSplitter()
        while not self._stop:
            try:
                data = os.read(self.controller, 256)
            except OSError:
                return
            for raw in splitter.feed(data):
                request = frame.decode(raw)
                di = int.from_bytes(request.data[:4], "little")
                time.sleep(LATE_S if not self.answered else PROMPT_S)
                reply = frame.Frame(ADDRESS, 0x91, di_bytes(di) + bytes.fromhex("12345678"))
                os.write(self.controller, frame.encode(reply, preamble=0))
                self.answered.append(di)

    def close(self) -> None:
        self._stop = True
        os.close(self.device)
        os.close(self.controller)


@pytest.fixture
def client():
    meter = LateOnceMeter()
    with Link("late-bus", meter.port, baudrate=9600, parity="N") as link:
        yield Dlt645Client(link, ADDRESS, reply_window=WINDOW_S, retries=0)
    meter.close()


def test_one_late_reply_costs_two_exchanges_not_every_later_one(client):
    with pytest.raises(MeterError, match="no reply"):
        client.read_raw(DIS[0])
    # the late reply to DIS[0], taken in this exchange's window
    with pytest.raises(ReplyMismatch, match="echoes DI 00010000, request asked for 00020000"):
        client.read_raw(DIS[1])
    for di in DIS[2:]:
        value, transactions = client.read_raw(di)
        assert transactions[-1].reply is not None, f"no answer to {di:08X}"
        assert value == bytes.fromhex("12345678"), f"{di:08X} got another request's reply"
    # The reply to DIS[1] was heard while the master settled, and shown as stale bytes.
    assert any(e.stale for e in client.link.exchanges[2:]), [
        e.stale for e in client.link.exchanges]
