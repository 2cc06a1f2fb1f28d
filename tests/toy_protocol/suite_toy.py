"""A suite test for the toy protocol, run through the project's fixtures (positions, verify,
per-exchange timing) like any suite; tests/test_registry.py runs it in a subprocess."""

from __future__ import annotations

import pytest

from toy_protocol.codec import ITEMS
from toy_protocol.spec import TOY

pytestmark = pytest.mark.protocol(TOY)


@pytest.mark.clause("read")
@pytest.mark.measures("reply_address", "energy_unit")
def test_energy_read(meter, position, verify):
    reply = meter.read("energy")
    verify.equal("reply address", reply.address, position.address, "address",
                 key="reply_address")
    verify.equal("unit of the energy reply", reply.body.rpartition(" ")[2], ITEMS["energy"],
                 "read", key="energy_unit")
