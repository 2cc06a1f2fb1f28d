"""DL/T 645-2007 addressing: wildcard read-address, other addresses and broadcast get silence."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.client import Transaction
from meterrig.protocols.dlt645.frame import BROADCAST_ADDRESS, FrameError, decode

pytestmark = pytest.mark.protocol("dlt645-2007")

ENERGY = 0x00010000


def who_answered(transaction: Transaction) -> str | None:
    """The address that answered, "garbled" if the reply cannot be read, None for silence."""
    exchange = transaction.exchanges[-1]
    if not exchange.answered:
        return None
    try:
        return decode(exchange.reply).address
    except FrameError:
        return "garbled"


@pytest.mark.clause("read-address")
def test_read_address_with_wildcard(meter, wildcard_pattern, verify):
    verify.equal(f"address read with wildcard {wildcard_pattern}",
                 meter.read_address(wildcard_pattern), meter.address, "read-address")


@pytest.mark.clause("address")
def test_other_address_is_silent(meter, foreign_address, verify):
    transaction = meter.send(cmd.read(foreign_address, ENERGY), expect_reply=False,
                             label=f"read 00010000 from absent meter {foreign_address}")
    answered = who_answered(transaction)
    verify.equal(f"answer to a frame addressed to {foreign_address}",
                 "silent" if answered not in (meter.address, "garbled") else "answered",
                 "silent", "address",
                 detail=f"meter {meter.address} answers frames addressed to another meter")


@pytest.mark.clause("address")
def test_broadcast_read_is_silent(meter, verify):
    transaction = meter.send(cmd.read(BROADCAST_ADDRESS, ENERGY), expect_reply=False,
                             label="read 00010000 broadcast")
    answered = who_answered(transaction)
    verify.equal("answer to a broadcast frame",
                 "silent" if answered not in (meter.address, "garbled") else "answered",
                 "silent", "address",
                 detail=f"meter {meter.address} answers broadcast frames (a slave never does)")
