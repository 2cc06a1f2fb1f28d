"""A carrier module's identity and initialisation (Q/GDW 1376.2 AFN 01, 03, 05)."""

from __future__ import annotations

import pytest

from fixtures.carrier import behind
from meterrig.measure import Limits
from meterrig.meter import MeterError
from meterrig.protocols.gdw13762.spec import GDW1376_2

pytestmark = pytest.mark.protocol(GDW1376_2)
# 03 F10 gives the monitor timeout in whole seconds, one byte: 0 would declare no wait at all.
DECLARED = Limits(low=1, high=255, source="Q/GDW 1376.2 03 F10: monitor timeout, 1 byte, s",
                  unit="s")


@pytest.mark.clause("query")
@pytest.mark.measures("data_init", "master_node_address", "monitor_timeout", "archive_count")
def test_identity_and_initialisation(rig, position, meter, verify):
    try:
        meter.data_init()
        version = meter.vendor_version()
        meter.set_master_node_address(position.address)
        address = meter.master_node_address()
        mode = meter.running_mode()
    except MeterError as exc:  # any reply becomes a verdict
        verify.equal("the module's replies to initialise and query", str(exc),
                     "replies that answer", "initialise", key="data_init")
        return
    verify.equal("data area initialise (01 F3) confirmed", True, True, "initialise",
                 detail=f"vendor {version}", key="data_init")
    verify.equal("master node address (03 F4) after setting it (05 F1)", address,
                 position.address, "query", key="master_node_address")
    verify.within("monitor timeout the module declares (03 F10)", mode.monitor_timeout_s, "s",
                  DECLARED, "query", key="monitor_timeout")
    verify.equal("slave count in the running mode (03 F10)", mode.current_slaves,
                 len(behind(rig, position)), "query", key="archive_count")
