"""DL/T 645-2007 response timing, measured on every reply of a run of reads.

(Every exchange of every other test is timed too, by the reporting plugin.)
"""

from __future__ import annotations

import pytest

from meterrig.limits.dlt645 import BYTE_GAP, RESPONSE_DELAY

pytestmark = pytest.mark.protocol("dlt645-2007")

SAMPLE = (0x00010000, 0x02010100, 0x04000102, 0x04000401)  # short and long replies


@pytest.mark.clause("timing")
def test_response_timing(meter, verify):
    for di in SAMPLE:
        for transaction in meter.read(di).transactions:
            for exchange in transaction.exchanges:
                if not exchange.answered:
                    continue
                verify.within("response delay Td", round(exchange.response_delay * 1e3, 1), "ms",
                              RESPONSE_DELAY, "timing", detail=exchange.label)
                verify.within("inter-byte gap Tb", round(exchange.max_byte_gap * 1e3, 1), "ms",
                              BYTE_GAP, "timing", detail=exchange.label)
