"""Faults the rig puts into its own requests (meterrig/faults.py): what each does to the bytes,
how they compose, where a split's gap comes from, and that the link sends a plan and records
the fault by name."""

from __future__ import annotations

import time

import pytest

from meterrig import faults
from meterrig.faults import Segment
from meterrig.limits.dlt645 import BYTE_GAP
from meterrig.link.serial_link import Link
from meterrig.protocols.modbus.rtu import silent_intervals

FRAME = (Segment(bytes(range(10))),)


def test_each_fault_spoils_the_bytes_as_named():
    wire = faults.wire_of
    assert wire(faults.BitFlip(at=0.5, bit=3).apply(FRAME)) == bytes([0, 1, 2, 3, 4, 5 ^ 8,
                                                                      6, 7, 8, 9])
    assert wire(faults.Truncate(0.3).apply(FRAME)) == bytes(range(3))
    noise = b"\xAA"
    assert wire(faults.Garbage("before", noise).apply(FRAME)) == noise + bytes(range(10))
    assert wire(faults.Garbage("inside", noise).apply(FRAME)) == \
        bytes(range(5)) + noise + bytes(range(5, 10))
    assert wire(faults.Garbage("after", noise).apply(FRAME)) == bytes(range(10)) + noise
    assert wire(faults.Twice().apply(FRAME)) == bytes(range(10)) * 2
    split = faults.Split(0.7).apply(FRAME)
    assert [s.pause for s in split] == [0.0, 0.7] and wire(split) == bytes(range(10))
    burst = faults.NoiseBurst(0.2, size=6).apply(FRAME)
    assert len(burst[0].data) == 6 and burst[1].pause == 0.2
    assert {s.baudrate for s in faults.WrongLine(baudrate=1200).apply(FRAME)} == {1200}
    with pytest.raises(ValueError, match="before, inside or after"):
        faults.Garbage("beside")


def test_faults_compose_and_say_whether_the_frame_survives():
    both = faults.BitFlip() + faults.Truncate(0.8)
    assert both.name == "bit flip (bit 0 at 50%) + truncated to 80%"
    assert len(faults.wire_of(both.apply(FRAME))) == 8
    assert both.spoils_frame
    assert not faults.Garbage("after").spoils_frame and not faults.Twice().spoils_frame
    assert faults.Garbage("inside").spoils_frame


def test_a_split_exceeds_its_protocols_own_limit():
    dlt = faults.catalogue("dlt645-2007", 2400, "E")["split"]
    assert dlt.gap == faults.SPLIT_GAP_FACTOR * BYTE_GAP.high / 1e3
    modbus = faults.catalogue("modbus-rtu", 9600, "N")["split"]
    assert modbus.gap == pytest.approx(faults.SPLIT_GAP_FACTOR * silent_intervals(9600)[0])
    # The 1997 notes give no timing: no split can be said to exceed a limit.
    assert faults.catalogue("dlt645-1997", 2400, "E")["split"] is None
    assert set(faults.catalogue("modbus-rtu", 9600, "N")) == set(faults.KINDS)


def test_the_link_sends_the_plan_and_records_the_fault():
    link = Link("loop", "loop://", parity="N").open()

    class OneByte:  # loop:// hands the request back: the first byte ends the "reply"
        def feed(self, data):
            return [data[:1]] if data else []

    fault = faults.Split(0.05)
    began = time.monotonic()
    exchange = link.exchange(bytes(range(1, 9)), OneByte(), reply_window=0.2,
                             byte_gap_limit=0.2, plan=fault.apply((Segment(bytes(range(1, 9))),)),
                             fault=fault.name)
    assert time.monotonic() - began >= 0.05  # the gap was kept
    assert exchange.fault == "split by a 50 ms gap"
    assert exchange.to_record()["fault"] == exchange.fault
    assert exchange.request == bytes(range(1, 9))
    link.close()
