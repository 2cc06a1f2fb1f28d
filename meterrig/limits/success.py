"""A success rate judged by its confidence bounds (exact Clopper-Pearson, scipy.stats).

"At least `required` success with `confidence` confidence": PASS only when the one-sided lower
bound clears the requirement, FAIL only when the one-sided upper bound is below it, otherwise
INCONCLUSIVE (the rule of meterrig.measure.Limits.verdict: the reads cannot tell which side the
true rate is). `reads_needed` is the smallest number of reads with which a device that never
fails can PASS.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from ..measure import Limits, Measurement, Outcome


@attrs.frozen
class SuccessRequirement:
    required: float  # a fraction, 0..1
    confidence: float  # one-sided, 0..1
    source: str

    def bounds(self, successes: int, trials: int) -> tuple[float, float]:
        """One-sided bounds at `confidence`: the two-sided exact interval at 2*confidence-1."""
        # imported here: every pytest-xdist worker imports this module, scipy.stats costs each
        # a second at start and only the carrier's reads use it
        from scipy.stats import binomtest

        interval = binomtest(successes, trials).proportion_ci(
            confidence_level=2 * self.confidence - 1, method="exact")
        return interval.low, interval.high

    @property
    def reads_needed(self) -> int:
        """All n reads good give the lower bound (1-confidence)^(1/n): n at which it clears."""
        return math.ceil(math.log(1 - self.confidence) / math.log(self.required))

    def judge(self, name: str, successes: int, trials: int, clause: str, **where: Any
              ) -> Measurement:
        """The rate in %, its verdict by the bounds, the bounds and the reads needed shown."""
        low, high = self.bounds(successes, trials)
        limits = Limits(low=100 * self.required, source=self.source, unit="%")
        if low >= self.required:
            verdict, why = Outcome.PASS, ""
        elif high < self.required:
            verdict, why = Outcome.FAIL, ""
        else:
            verdict, why = Outcome.INCONCLUSIVE, (
                f"the bounds reach across {100 * self.required:g} %: {trials} reads cannot "
                f"tell; a device that never fails needs {self.reads_needed} to show it")
        shown = (f"{successes} of {trials} reads; {100 * self.confidence:g} % one-sided "
                 f"Clopper-Pearson bounds {100 * low:.1f}…{100 * high:.1f} %")
        return Measurement(name=name, value=round(100 * successes / trials, 2), unit="%",
                           clause=clause, verdict=verdict, limits=limits,
                           detail="; ".join(p for p in (why, shown) if p), **where)
