"""The module's slave archive (AFN 10, 11) and its deny codes (00 F2) for an unknown meter
and a silent one."""

from __future__ import annotations

import pytest

from fixtures.carrier import behind, read_through
from meterrig.meter import MeterError
from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.codec import Denied
from meterrig.protocols.gdw13762.spec import GDW1376_2
from meterrig.protocols.gdw13762.tables import tables
from meterrig.protocols.gdw13762.tunnel import PROTOCOL_BYTES

pytestmark = pytest.mark.protocol(GDW1376_2)
# A meter address no position of a rig uses (positions count up from 1): nothing on the line
# answers it. 99 99 99 99 99 99 is the broadcast address, so not that.
ABSENT = "999999999998"
NOT_PRESENT = 7  # deny code: meter number not present (tables.yaml deny_codes)


def _absent(rig, position):
    """An absent meter of the protocol the first meter behind the module speaks."""
    return behind(rig, position)[0].model_copy(update={"address": ABSENT})


@pytest.mark.clause("route-set")
@pytest.mark.measures("added", "deleted")
def test_archive_add_query_delete(rig, position, meter, verify):
    absent = _absent(rig, position)
    try:
        meter.add_slaves([u.Slave(ABSENT, PROTOCOL_BYTES[absent.protocol])])
        added = {s.address: s.protocol for s in meter.archive()}
        meter.delete_slaves([ABSENT])
        after = {s.address for s in meter.archive()}
    except MeterError as exc:
        verify.equal("the module's replies to archive commands", str(exc), "replies that answer",
                     "route-set", key="added")
        return
    verify.equal(f"protocol of {ABSENT} in the archive (10 F2) after adding it (11 F1)",
                 added.get(ABSENT), PROTOCOL_BYTES[absent.protocol], "route-query", key="added")
    verify.equal(f"{ABSENT} in the archive after deleting it (11 F2)", ABSENT in after, False,
                 "route-set", key="deleted")


@pytest.mark.clause("confirm-deny")
@pytest.mark.measures("unknown_meter_deny", "silent_meter_deny")
def test_deny_codes(rig, position, meter, verify):
    absent = _absent(rig, position)
    unknown = read_through(meter, absent)
    verify.equal(f"reply to a read of {ABSENT}, not in the archive",
                 getattr(unknown.error, "code", repr(unknown.error)), NOT_PRESENT,
                 "confirm-deny", detail="deny 7: meter number not present",
                 key="unknown_meter_deny")
    meter.add_slaves([u.Slave(ABSENT, PROTOCOL_BYTES[absent.protocol])])
    try:
        silent = read_through(meter, absent)
    finally:
        meter.delete_slaves([ABSENT])
    code = silent.error.code if isinstance(silent.error, Denied) else repr(silent.error)
    verify.equal(f"reply to a read of {ABSENT}, archived but not on the line, is a deny that "
                 "the meter did not answer", code in tables()["meter_silent_deny_codes"], True,
                 "confirm-deny", detail=f"came: {code}", key="silent_meter_deny")
