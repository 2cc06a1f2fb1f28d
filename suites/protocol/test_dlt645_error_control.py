"""DL/T 645-2007 error control: a meter ignores frames it cannot trust."""

from __future__ import annotations

import pytest

from meterrig.limits import table
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645 import faults
from meterrig.protocols.dlt645.frame import FrameSplitter

pytestmark = pytest.mark.protocol("dlt645-2007")

WRITE_LIMIT = table("dlt645-2007")["frame"]["data_length_max"]["write_request"]


def _malformed(meter) -> dict[str, bytes]:
    read = cmd.read(meter.address, 0x00010000)
    write = cmd.write(meter.address, 0x04000102, b"\x00\x00\x00", meter.auth or cmd.Auth(
        level=4, password="000000", operator="00000000"))
    return {
        "bad checksum": faults.bad_checksum(read),
        "truncated": faults.truncated(read),
        f"L over {WRITE_LIMIT}": faults.overlong(write, WRITE_LIMIT + 10),
    }


@pytest.mark.clause("error-control")
@pytest.mark.parametrize("kind", ["bad checksum", "truncated", f"L over {WRITE_LIMIT}"])
def test_malformed_request_is_ignored(meter, link, kind, verify):
    exchange = link.exchange(_malformed(meter)[kind], FrameSplitter(),
                             reply_window=meter.reply_window, byte_gap_limit=meter.reply_window,
                             label=f"{kind} request to {meter.address}")
    verify.equal(f"answer to a request with {kind}", exchange.reply.hex(" ").upper() or "silent",
                 "silent", "error-control",
                 detail="a slave stays silent on a frame it cannot trust")
