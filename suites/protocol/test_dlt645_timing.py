"""DL/T 645-2007 response timing, measured on every reply of a run of reads.

(Every exchange of every other test is timed too, by the reporting plugin.) Each figure is
judged with its bus's timing resolution as its uncertainty: on a bus that cannot tell, the test
ends skipped as INCONCLUSIVE, with the reason.
"""

from __future__ import annotations

import pytest

from meterrig.limits.dlt645 import TB, TB_KEY, TD, TD_KEY
from meterrig.protocols.dlt645.spec import DLT645_2007

pytestmark = pytest.mark.protocol(DLT645_2007)

SAMPLE = (0x00010000, 0x02010100, 0x04000102, 0x04000401)  # short and long replies


@pytest.mark.clause("timing")
@pytest.mark.measures(TD_KEY, TB_KEY)
def test_response_timing(meter, verify):
    for di in SAMPLE:
        for transaction in meter.read(di).transactions:
            for exchange in transaction.exchanges:
                verify.reply_timing(exchange, TD, TB)
