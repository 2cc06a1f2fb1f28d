"""Every meter behind the module read through it (13 F1), the reply's framing checked, and its
value compared with a direct RS485 read of the same meter (a position of the same protocol and
address on a bus of its own)."""

from __future__ import annotations

import pytest

from fixtures.carrier import ENERGY, behind, read_through
from meterrig.meter import MeterError
from meterrig.protocols.dlt645.frame import START, decode
from meterrig.protocols.gdw13762.spec import GDW1376_2
from meterrig.protocols.gdw13762.tunnel import PROTOCOL_BYTES

pytestmark = pytest.mark.protocol(GDW1376_2)


@pytest.mark.clause("monitor")
@pytest.mark.measures("reply_answers", "protocol_byte", "destination", "reply_meter",
                      "same_as_direct")
def test_every_meter_read_through_the_module(rig, position, meter, verify):
    for inner in behind(rig, position):
        at = {"meter": inner.address}
        read = read_through(meter, inner)
        verify.equal(f"reply to a 13 F1 read of {inner.address}",
                     "a reply that answers" if read.ok else str(read.error),
                     "a reply that answers", "monitor", key="reply_answers", at=at)
        verify.equal(f"protocol byte of the 13 F1 reply for {inner.address}",
                     read.reply.unit.protocol, PROTOCOL_BYTES[inner.protocol], "monitor",
                     key="protocol_byte", at=at)
        address = read.reply.frame.address
        verify.equal(f"destination address (A) of the 13 F1 reply for {inner.address}",
                     address.source if address else "no address field", inner.address,
                     "address-field", detail="the uplink's A1 is the meter that answered",
                     key="destination", at=at)
        relayed = read.reply.unit.frame
        verify.equal(f"address of the meter's frame inside the reply for {inner.address}",
                     decode(relayed[relayed.find(START):]).address, inner.address, "monitor",
                     key="reply_meter", at=at)
        direct = next((p for p in rig.positions if p.via is None and p.bus is not None
                       and (p.protocol, p.address) == (inner.protocol, inner.address)), None)
        if direct is None:
            continue  # recorded UNSET at the end: this rig has the meter on no direct bus
        try:
            through, straight = (rig.client(inner.number).read(ENERGY).quantity,
                                 rig.client(direct.number).read(ENERGY).quantity)
        except (MeterError, *rig.client(inner.number).master.codec.check_errors) as exc:
            verify.equal(f"read of {ENERGY:08X} through the module and on RS485", str(exc),
                         "a reading", "monitor", key="same_as_direct", at=at)
            continue
        verify.equal(f"{ENERGY:08X} of {inner.address} through the module (position "
                     f"{inner.number}) against on RS485 (position {direct.number})",
                     through.value, straight.value, "monitor", unit=str(through.unit),
                     key="same_as_direct", at=at)
