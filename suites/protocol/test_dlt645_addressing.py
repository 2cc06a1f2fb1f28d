"""DL/T 645-2007 addressing: wildcard read-address; any reply to another address or to a
broadcast read is a violation, whatever address it carries and whether or not it is garbled."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import BROADCAST_ADDRESS
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.dlt645.verdict import SILENT, answer_to, as_verdict

pytestmark = pytest.mark.protocol(DLT645_2007)

ENERGY = 0x00010000


@pytest.mark.clause("read-address")
@pytest.mark.measures("address_read")
def test_read_address_with_wildcard(meter, wildcard_pattern, verify):
    with as_verdict(verify, f"reply to read-address {wildcard_pattern}", "read-address",
                    at={"pattern": wildcard_pattern}):
        address = meter.read_address(wildcard_pattern)
    verify.equal(f"address read with wildcard {wildcard_pattern}", address, meter.address,
                 "read-address", key="address_read", at={"pattern": wildcard_pattern})


def _carrying(answer, absent: str | None = None) -> str:
    """Who the reply claims to be from, in words."""
    if answer.address is None:
        return "the reply carries no readable address"
    if answer.address == absent:
        return f"echoing the absent meter's address {absent}"
    return f"the reply carried address {answer.address}"


@pytest.mark.clause("address")
@pytest.mark.measures("answer_to_other_address")
def test_other_address_is_silent(meter, foreign_address, verify):
    request = cmd.read(foreign_address, ENERGY)
    answer = answer_to(request, meter.send(
        request, expect_reply=False, label=f"read 00010000 from absent meter {foreign_address}"))
    # No position on the bus has this address, so any reply at all is a violation.
    verify.equal(f"answer to a frame addressed to {foreign_address}", str(answer), SILENT,
                 "address", detail=f"a meter on bus {meter.link.name} answers frames addressed "
                 f"to another meter, {_carrying(answer, foreign_address)}",
                 key="answer_to_other_address", at={"address": foreign_address})


@pytest.mark.clause("address")
@pytest.mark.measures("answer_to_broadcast_read")
def test_broadcast_read_is_silent(meter, verify):
    request = cmd.read(BROADCAST_ADDRESS, ENERGY)
    answer = answer_to(request, meter.send(request, expect_reply=False,
                                           label="read 00010000 broadcast"))
    verify.equal("answer to a broadcast read", str(answer), SILENT, "address",
                 detail=f"a meter on bus {meter.link.name} answers broadcast frames (a slave "
                 f"never does), {_carrying(answer)}", key="answer_to_broadcast_read")
