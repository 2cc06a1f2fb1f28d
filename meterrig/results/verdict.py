"""A meter's overall verdict from its measurements in one run.

FAIL if any measurement failed; otherwise INCONCLUSIVE if any was inconclusive, or was owed and
never made (UNSET) by a test that was not skipped (a crash, a failure elsewhere); otherwise PASS
when something was measured. A skipped test's own records (SKIPPED, and the UNSET keys it owed)
are shown but do not decide: the certificate lists them.
"""

from __future__ import annotations

from collections.abc import Iterable

from meterrig.measure import Outcome

from .models import Measurement

NOTHING = "not measured"


def overall(measurements: Iterable[Measurement]) -> str:
    rows = list(measurements)
    skipped_tests = {m.test for m in rows if m.outcome == Outcome.SKIPPED}
    outcomes = {m.outcome for m in rows
                if not (m.outcome == Outcome.UNSET and m.test in skipped_tests)}
    if Outcome.FAIL in outcomes:
        return str(Outcome.FAIL)
    if outcomes & {Outcome.INCONCLUSIVE, Outcome.UNSET}:
        return str(Outcome.INCONCLUSIVE)
    return str(Outcome.PASS) if Outcome.PASS in outcomes else NOTHING
