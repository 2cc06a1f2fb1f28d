"""A host too busy to run the link when bytes come: the timing verdicts stay honest.

The link runs on a scripted port and clock (no real load, no real time): a meter's reply bytes
arrive at set instants, and the host "stalls" (the clock jumps while the link does not run) at
set points. A good meter seen through a stall is INCONCLUSIVE, never FAIL; a late or gappy
meter is still FAIL, with or without a stall.
"""

from __future__ import annotations

import pytest

from meterrig.limits.timing import judge_exchange
from meterrig.link import resolution
from meterrig.link.serial_link import POLL_S, Link
from meterrig.link.wire import character_time
from meterrig.measure import Outcome
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.modbus.spec import MODBUS_RTU

BAUD = 9600
CHAR = character_time(BAUD, 8, "E", 1)
REPLY = bytes(range(9))  # a Modbus reply's length: address, function, count, 4 data, CRC


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedPort:
    """A serial port whose far end answers each request after `delay` (from the request's end),
    one byte a character time, with `pause` before byte `pause_at`. The host stalls for
    `stall_in_flush` s inside the request's flush, for `stall_after` = (n, s) once the link
    has read n reply bytes, and for `woken_late` = (n, s) when byte n wakes a waiting read: the
    clock runs on, the link does not (in the last case the kernel's count of the time the
    thread waited for a CPU, `waited`, grows by as much)."""

    def __init__(self, clock: Clock, delay: float, *, pause_at: int | None = None,
                 pause: float = 0.0, stall_in_flush: float = 0.0,
                 stall_after: tuple[int, float] | None = None,
                 woken_late: tuple[int, float] | None = None) -> None:
        self.clock, self.delay, self.pause_at, self.pause = clock, delay, pause_at, pause
        self.stall_in_flush, self.stall_after = stall_in_flush, stall_after
        self.woken_late, self.run_queue = woken_late, 0.0
        self.baudrate, self.parity = BAUD, "E"
        self.arrivals: list[float] = []  # when each reply byte has arrived (its stop bit)
        self.taken = 0

    def write(self, data: bytes) -> int:
        start = self.clock.now + len(data) * CHAR + self.delay
        self.arrivals = [start + (i + 1) * CHAR + (self.pause if self.pause_at is not None
                                                   and i >= self.pause_at else 0.0)
                         for i in range(len(REPLY))]
        return len(data)

    def flush(self) -> None:
        self.clock.now += self.stall_in_flush

    def _arrived(self) -> int:
        return sum(t <= self.clock.now for t in self.arrivals) - self.taken

    @property
    def in_waiting(self) -> int:
        if self.stall_after is not None and self.taken >= self.stall_after[0]:
            self.clock.now += self.stall_after[1]
            self.stall_after = None
        return self._arrived()

    def waited(self) -> float:
        return self.run_queue

    def read(self, size: int) -> bytes:
        if not self._arrived():  # wait for the next byte, at most one poll
            later = [t for t in self.arrivals if t > self.clock.now]
            self.clock.now = min([self.clock.now + POLL_S, *later[:1]])
            if self.woken_late is not None and self._arrived() \
                    and self.taken == self.woken_late[0]:
                self.clock.now += self.woken_late[1]
                self.run_queue += self.woken_late[1]
                self.woken_late = None
        n = min(size, self._arrived())
        self.taken += n
        return REPLY[self.taken - n:self.taken]


class Whole:
    """The reply is whole at its length."""

    def __init__(self) -> None:
        self.heard = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.heard += data
        return [self.heard] if len(self.heard) >= len(REPLY) else []


def verdicts(protocol: str, delay: float, **script) -> dict[str, tuple[Outcome, object]]:
    clock = Clock()
    port = ScriptedPort(clock, delay, **script)
    link = Link("rs485-2", "scripted", baudrate=BAUD, parity="E",
                timing=resolution.declared(1.0), clock=clock, waited=port.waited)
    link._port = port  # the seam: a port in place of a tty
    exchange = link.exchange(b"\x01\x04\x00\x00\x00\x02\x71\xcb", Whole(), reply_window=1.0,
                             byte_gap_limit=1.0)
    assert exchange.reply == REPLY
    return {m.name: (m.verdict, m) for m in judge_exchange(exchange, protocol)}


def outcomes(found: dict) -> dict[str, Outcome]:
    return {name: verdict for name, (verdict, _) in found.items()}


def test_a_free_host_dates_a_good_reply_tightly():
    found = verdicts(MODBUS_RTU, delay=0.008)
    assert outcomes(found) == {"silence before reply": Outcome.PASS,
                               "gap inside reply": Outcome.PASS}
    silence = found["silence before reply"][1]
    assert silence.value == pytest.approx(8.0, abs=0.01) and silence.uncertainty == 1.0


@pytest.mark.parametrize("script", [
    {"stall_in_flush": 0.030},  # the write returned 30 ms late: the reply was waiting
    {"stall_after": (3, 0.035)},  # the reader stalled mid-reply: the rest was waiting
    {"woken_late": (4, 0.040)},  # a read woken by byte 4 ran only 40 ms later
], ids=["late-write", "reader-stalled", "woken-late"])
def test_a_stalled_host_makes_a_good_reply_inconclusive_not_fail(script):
    found = verdicts(MODBUS_RTU, delay=0.008, **script)
    assert Outcome.FAIL not in outcomes(found).values()
    assert Outcome.INCONCLUSIVE in outcomes(found).values()
    for verdict, measurement in found.values():
        if verdict == Outcome.INCONCLUSIVE:
            assert "the host's: it was busy" in measurement.detail
    # What the link vouches for still holds the true figure (8 ms silence, no gap).
    silence = found["silence before reply"][1]
    assert abs(silence.value - 8.0) <= silence.uncertainty
    gap = found["gap inside reply"][1]
    assert gap.value - gap.uncertainty <= 0.0


def test_a_gappy_reply_fails_with_or_without_a_stall():
    # 30 ms inside the reply at byte 4: beyond t1.5 plus the host tolerance (21.7 ms).
    assert outcomes(verdicts(MODBUS_RTU, delay=0.008, pause_at=4, pause=0.030))[
        "gap inside reply"] == Outcome.FAIL
    assert outcomes(verdicts(MODBUS_RTU, delay=0.008, pause_at=4, pause=0.030,
                             stall_in_flush=0.005))["gap inside reply"] == Outcome.FAIL


def test_a_late_reply_fails_with_or_without_a_stall():
    # DL/T 645 Td at most 500 ms: 650 ms late stays late through a 30 ms stall in the write.
    for script in ({}, {"stall_in_flush": 0.030}):
        found = verdicts(DLT645_2007, delay=0.650, **script)
        assert outcomes(found)["response delay Td"] == Outcome.FAIL, found
