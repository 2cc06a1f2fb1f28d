"""The serial link on a pseudo-terminal: parity refusal, exchange timing, silence, noise; its
timing resolution, echo handling, and how timing figures are judged with it."""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from datetime import UTC, datetime

import attrs
import pytest

from meterrig.limits import dlt645
from meterrig.limits.timing import judge_exchange
from meterrig.link import resolution
from meterrig.link.exchange import Exchange
from meterrig.link.serial_link import ECHO_PROBE, Link, LinkError
from meterrig.link.wire import character_time
from meterrig.measure import Limits, Outcome, judge, skipped

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


# -- timing resolution ----------------------------------------------------------------------------
def test_a_pty_is_unpaced_even_behind_a_symlink(tmp_path):
    controller, device = os.openpty()
    try:
        alias = tmp_path / "ttyMETER"  # as socat's link=… makes one
        alias.symlink_to(os.ttyname(device))
        with Link("pty", str(alias), baudrate=2400, parity="N") as link:
            assert not link.resolution.paced
            assert "pseudo-terminal" in link.resolution.basis
    finally:
        os.close(controller)
        os.close(device)


def test_a_url_port_is_unpaced():
    with Link("loop", "loop://", baudrate=2400, parity="E") as link:
        assert link.resolution == resolution.Resolution(
            None, "a loop:// port delivers bytes with no wire time")


@pytest.mark.parametrize("peer", [{"reply": b"hello\n", "delay": 0.050}], indirect=True)
def test_a_declared_resolution_is_the_exchanges_uncertainty(peer):
    declared = resolution.declared(2.5)
    with Link("test-bus", peer.port, baudrate=2400, parity="E", timing=declared) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert exchange.resolution == declared and declared.seconds == 0.0025
    td, tb = dlt645.exchange_timing(exchange)
    # The resolution, plus what the host's own time in the write and reads adds (a free host:
    # well under a millisecond; a loaded one more: tests/test_starved_host.py).
    for figure in (td, tb):
        assert figure.host_busy >= 0
        assert figure.uncertainty == pytest.approx(2.5 + figure.host_busy)


def fake_tty(tmp_path, major: int, minor: int, latency: str | None):
    """A /sys and /proc/devices where the device (major, minor) is a tty, maybe a USB one."""
    sysfs = tmp_path / "sys"
    device = sysfs / "dev" / "char" / f"{major}:{minor}" / "device"
    device.mkdir(parents=True)
    if latency is not None:
        (device / "latency_timer").write_text(latency)
    devices = tmp_path / "devices"
    devices.write_text("Character devices:\n  4 ttyS\n136 pts\n188 ttyUSB\n\nBlock devices:\n"
                       "  7 loop\n")
    return {"sysfs": sysfs, "proc_devices": devices}


def test_a_usb_adapters_latency_timer_is_measured(tmp_path):
    found = resolution.of_port("/dev/ttyUSB0", CHAR, os.makedev(188, 0),
                               **fake_tty(tmp_path, 188, 0, "16\n"))
    assert found.seconds == pytest.approx(0.016 + CHAR)
    assert "latency timer 16 ms" in found.basis


def test_a_tty_that_cannot_tell_gets_the_default_from_data(tmp_path):
    found = resolution.of_port("/dev/ttyS0", CHAR, os.makedev(4, 64),
                               **fake_tty(tmp_path, 4, 64, None))
    assert found.seconds == resolution.DEFAULT_TTY["value"]
    assert "rig-tolerances" in found.basis


def test_pty_majors_come_from_the_kernels_list(tmp_path):
    paths = fake_tty(tmp_path, 136, 3, None)
    assert resolution.pty_majors(paths["proc_devices"]) == {136}
    found = resolution.of_port("/dev/pts/3", CHAR, os.makedev(136, 3), **paths)
    assert not found.paced


# -- echo -----------------------------------------------------------------------------------------
class EchoingPeer:
    """A 2-wire adapter that hears itself, with a device behind it: every write comes back a
    character time a byte, then (except for the echo probe) the device's reply."""

    def __init__(self, reply: bytes, delay: float, spoil: int | None = None) -> None:
        self.controller, self.device = os.openpty()
        tty.setraw(self.device)
        self.port = os.ttyname(self.device)
        self.reply, self.delay, self.spoil = reply, delay, spoil
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _paced(self, data: bytes, start: float) -> None:
        for i, byte in enumerate(data):
            wait = start + (i + 1) * CHAR - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            os.write(self.controller, bytes([byte]))

    def _serve(self) -> None:
        while not self.stop.is_set():
            ready, _, _ = select.select([self.controller], [], [], 0.05)
            if not ready:
                continue
            data, start = os.read(self.controller, 1024), time.monotonic()
            heard = bytearray(data)
            if self.spoil is not None:
                heard[self.spoil] ^= 0x10  # another driver on the pair at the same time
            self._paced(bytes(heard), start)
            if not data.startswith(bytes.fromhex(ECHO_PROBE["bytes"])):
                self._paced(self.reply, start + len(data) * CHAR + self.delay)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        os.close(self.controller)
        os.close(self.device)


@pytest.fixture
def echoing(request):
    made = EchoingPeer(**request.param)
    yield made
    made.close()


@pytest.mark.parametrize("echoing", [{"reply": b"hello\n", "delay": 0.060}], indirect=True)
def test_the_echo_is_stripped_and_dates_the_request_end(echoing):
    with Link("echo-bus", echoing.port, baudrate=2400, parity="N", echo=True) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert exchange.echo == b"ask\n" and not exchange.echo_fault
    assert exchange.reply == b"hello\n"  # never the echo
    assert exchange.t_request_end - exchange.t_write == pytest.approx(4 * CHAR, abs=0.015)
    assert exchange.response_delay == pytest.approx(0.060, abs=0.015)


@pytest.mark.parametrize("echoing", [{"reply": b"hello\n", "delay": 0.060, "spoil": 1}],
                         indirect=True)
def test_an_echo_that_differs_is_a_collision_not_the_reply(echoing):
    with Link("echo-bus", echoing.port, baudrate=2400, parity="N", echo=True) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=1.0, byte_gap_limit=1.0)
    assert exchange.echo == b"a\x63k\n"
    assert "differs from the request at byte 1 (sent 73, heard 63)" in exchange.echo_fault
    assert "collision" in exchange.echo_fault
    assert exchange.reply == b"hello\n"
    assert exchange.to_record()["echo_fault"] == exchange.echo_fault


def test_an_echo_shows_the_requests_secrets_masked():
    exchange = attrs.evolve(exchange_with(0.040, resolution.declared(1.0)), echo=b"a\x00k\n",
                            secret_spans=((1, 2),))
    assert exchange.echo_shown() == "61 ** 6B 0A"
    assert "(sent **, heard **)" in exchange.echo_fault


@pytest.mark.parametrize("peer", [{"reply": b"hello\n", "delay": 0.030}], indirect=True)
def test_a_declared_echo_that_never_comes_is_reported(peer):
    with Link("test-bus", peer.port, baudrate=2400, parity="E", echo=True) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=0.3, byte_gap_limit=0.3)
    # What came first is taken for the echo, and reported; it is never also read as the reply.
    assert exchange.echo == b"hell" and exchange.reply == b"o\n"
    assert "differs from the request at byte 0 (sent 61, heard 68)" in exchange.echo_fault


@pytest.mark.parametrize("peer", [{"reply": b"", "delay": 0.0}], indirect=True)
def test_a_missing_echo_is_a_wiring_fault(peer):
    with Link("test-bus", peer.port, baudrate=2400, parity="E", echo=True) as link:
        exchange = link.exchange(b"ask\n", LineSplitter(), reply_window=0.2, byte_gap_limit=0.2)
    assert exchange.echo == b"" and not exchange.answered
    assert exchange.echo_fault.startswith("the adapter echoed 0 of the request's 4 bytes")


@pytest.mark.parametrize("echoing", [{"reply": b"hello\n", "delay": 0.030}], indirect=True)
def test_an_echoing_adapter_is_found_when_the_bus_opens(echoing):
    with Link("echo-bus", echoing.port, baudrate=2400, parity="N", echo=None) as link:
        assert link.echo is True
        assert any("echoes what it sends" in note for note in link.notes)
        assert link.exchange(b"ask\n", LineSplitter(), reply_window=1.0,
                             byte_gap_limit=1.0).reply == b"hello\n"


@pytest.mark.parametrize("peer", [{"reply": b"", "delay": 0.0}], indirect=True)
def test_a_quiet_adapter_is_found_not_to_echo(peer):
    with Link("test-bus", peer.port, baudrate=2400, parity="E", echo=None) as link:
        assert link.echo is False
    assert peer.received == bytes.fromhex(ECHO_PROBE["bytes"])  # the harmless probe, only


# -- judging with uncertainty ---------------------------------------------------------------------
TD_LIMITS = Limits(low=20, high=500, unit="ms")


@pytest.mark.parametrize(("value", "uncertainty", "outcome"), [
    (40, 1, Outcome.PASS),
    (21, 1, Outcome.PASS),  # 20 is inside: the limits are inclusive
    (20.5, 1, Outcome.INCONCLUSIVE),
    (19, 1, Outcome.INCONCLUSIVE),  # 20 is still possible
    (18.9, 1, Outcome.FAIL),
    (20, None, Outcome.PASS),
    (19.9, None, Outcome.FAIL),
    (499, 1, Outcome.PASS),
    (501, 1, Outcome.INCONCLUSIVE),
    (501.1, 1, Outcome.FAIL),
])
def test_a_verdict_needs_value_and_uncertainty_clear_of_the_limits(value, uncertainty, outcome):
    measured = judge("response delay Td", value, "ms", TD_LIMITS, "§5.3.3",
                     uncertainty=uncertainty, position=1)
    assert measured.verdict == outcome
    shown = measured.describe()
    sense = {Outcome.PASS: " is within 20…500 ms", Outcome.FAIL: " is not within 20…500 ms",
             Outcome.INCONCLUSIVE: " is inconclusive against 20…500 ms: "}[outcome]
    assert shown.startswith(f"position 1: response delay Td {value:g}"
                            + (f" ± {uncertainty:g}" if uncertainty else "") + " ms" + sense)
    if outcome == Outcome.INCONCLUSIVE:
        assert "reaches across the limit" in measured.detail


def exchange_with(td: float, timing: resolution.Resolution) -> Exchange:
    """An answered exchange whose reply began `td` s after its request ended."""
    return Exchange(bus="rs485-1", label="read 00010000", request=b"ask\n",
                    started_at=datetime.now(UTC), t_write=100.0, t_request_end=100.0,
                    chunks=((100.0 + td + CHAR, b"h"),), character_time=CHAR, baudrate=2400,
                    resolution=timing)


def test_an_impossible_figure_is_a_rig_fault_not_a_verdict():
    td, tb = judge_exchange(exchange_with(-0.200, resolution.declared(1.0)), "dlt645-2007")
    assert td.verdict == Outcome.INCONCLUSIVE and td.value == -200.0
    assert td.detail.startswith("rig fault: impossible, a reply cannot begin before the "
                                "request has ended")
    assert td.describe().startswith("response delay Td -200 ± 1 ms is inconclusive against "
                                    "20…500 ms: rig fault: ")
    assert "buses.rs485-1.echo" in td.detail and "buses.rs485-1.timing" in td.detail
    assert tb.verdict == Outcome.PASS


def test_a_figure_just_below_zero_within_the_resolution_is_judged():
    td, _ = judge_exchange(exchange_with(-0.0005, resolution.declared(1.0)), "dlt645-2007")
    assert td.verdict == Outcome.FAIL  # possible (≥ 0 within ± 1 ms), and surely under 20 ms


def test_an_unpaced_bus_cannot_measure_timing():
    unpaced = resolution.Resolution(None, "/dev/pts/4 is a pseudo-terminal")
    for measured in judge_exchange(exchange_with(-0.160, unpaced), "dlt645-2007"):
        assert measured.verdict == Outcome.INCONCLUSIVE and measured.value is None
        assert measured.detail.startswith("bus rs485-1 is unpaced (/dev/pts/4 is a "
                                          "pseudo-terminal)")
        assert " not measured, cannot be judged within " in measured.describe()


def test_a_skipped_test_reads_as_skipped():
    measured = skipped("test_relay[pos1]", "no source on this bench", "§9", position=1)
    assert measured.verdict == Outcome.SKIPPED
    assert measured.to_record()["verdict"] == "skipped"
    assert measured.describe() == "position 1: test_relay[pos1] skipped: no source on this " \
                                  "bench (§9)"
