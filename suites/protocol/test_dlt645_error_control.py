"""DL/T 645-2007 error control (§5.3.4): silence is required only on a parity or checksum error.

A bad checksum must get silence; a truncated frame never completes, so it gets silence too. A
write whose L is over the limit may be refused with an abnormal reply or ignored: only a normal
reply (the meter acted on it) is a violation."""

from __future__ import annotations

import pytest

from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645 import faults
from meterrig.protocols.dlt645.frame import LIMITS, Frame
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.dlt645.verdict import SILENT, answer_to

pytestmark = pytest.mark.protocol(DLT645_2007)

WRITE_LIMIT = LIMITS["frame"]["data_length_max"]["write_request"]
TIME = 0x04000102
# A made-up password, never the real one: a malformed frame is not a test of the password, and
# must not put the real one on the bus. Its digits are not BCD, so no meter can have it.
MADE_UP = cmd.Auth(level=9, password="ABCDEF", operator="00000000")
OVERLONG = f"L over {WRITE_LIMIT}"
# What each malformed request may get: silence, or (over-long write only) a refusal.
ALLOWED = {"bad checksum": (SILENT,), "truncated": (SILENT,),
           OVERLONG: (SILENT, "abnormal reply")}


def _malformed(meter, kind: str) -> tuple[bytes, Frame]:
    """The request's wire bytes and the frame an answer would be judged against."""
    read = cmd.read(meter.address, 0x00010000)
    if kind == OVERLONG:
        write = cmd.write(meter.address, TIME, b"\x00\x00\x00", MADE_UP)
        return faults.overlong(write, WRITE_LIMIT + 10), write
    return (faults.bad_checksum(read) if kind == "bad checksum" else faults.truncated(read)), read


@pytest.mark.clause("error-control")
@pytest.mark.parametrize("kind", list(ALLOWED))
@pytest.mark.measures("answer_to_malformed_request")
def test_malformed_request_is_ignored(meter, kind, verify):
    raw, request = _malformed(meter, kind)
    answer = answer_to(request, meter.send_raw(raw, label=f"{kind} request to {meter.address}"))
    allowed = " or ".join(ALLOWED[kind])
    verify.equal(f"answer to a request with {kind} is {allowed}",
                 answer.kind in ALLOWED[kind], True, "error-control", detail=str(answer),
                 key="answer_to_malformed_request", at={"malformed": kind})
