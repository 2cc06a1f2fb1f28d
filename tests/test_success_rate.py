"""A carrier read-success rate judged by its one-sided Clopper-Pearson bounds
(meterrig/limits/success.py), checked against the closed forms of the exact interval, and near
the requirement, where only INCONCLUSIVE is honest."""

from __future__ import annotations

import math

import pytest

from meterrig.limits import table
from meterrig.limits.success import SuccessRequirement
from meterrig.measure import Outcome

SHIPPED = table("carrier")["success"]
REQUIREMENT = SuccessRequirement(SHIPPED["required"], SHIPPED["confidence"], SHIPPED["source"])


@pytest.mark.parametrize("trials", [4, 10, 149, 1000])
def test_bounds_match_the_closed_forms_at_the_ends(trials):
    # With every read good the exact lower bound is alpha^(1/n); with none, the upper bound is
    # 1 - alpha^(1/n) (alpha = 1 - confidence).
    alpha = 1 - REQUIREMENT.confidence
    low, high = REQUIREMENT.bounds(trials, trials)
    assert low == pytest.approx(alpha ** (1 / trials), rel=1e-9) and high == 1.0
    low, high = REQUIREMENT.bounds(0, trials)
    assert low == 0.0 and high == pytest.approx(1 - alpha ** (1 / trials), rel=1e-9)


def test_the_reads_a_perfect_device_needs_are_the_fewest_that_pass():
    needed = REQUIREMENT.reads_needed
    assert needed == math.ceil(math.log(0.05) / math.log(0.98)) == 149  # the shipped 98 %, 95 %
    assert REQUIREMENT.judge("rate", needed, needed, "c").verdict is Outcome.PASS
    short = REQUIREMENT.judge("rate", needed - 1, needed - 1, "c")
    assert short.verdict is Outcome.INCONCLUSIVE and "needs 149" in short.detail


@pytest.mark.parametrize(("successes", "trials", "verdict"), [
    (300, 300, Outcome.PASS),  # no loss: lower bound 99.0 %
    (298, 300, Outcome.INCONCLUSIVE),  # 0.7 % loss: the lower bound 97.9 % misses 98 %
    (294, 300, Outcome.INCONCLUSIVE),  # 2 % loss, exactly the requirement: never decided
    (2940, 3000, Outcome.INCONCLUSIVE),  # nor with ten times the reads
    (285, 300, Outcome.FAIL),  # 5 % loss: the upper bound 96.9 % is below
    (0, 4, Outcome.FAIL),  # the default 4 reads fail a module that loses them all
    (3, 4, Outcome.INCONCLUSIVE),  # and cannot tell one lost read of 4
])
def test_near_the_requirement_the_verdict_waits_for_the_reads(successes, trials, verdict):
    judged = REQUIREMENT.judge("rate", successes, trials, "carrier")
    assert judged.verdict is verdict, judged.detail
    low, high = REQUIREMENT.bounds(successes, trials)
    assert low <= successes / trials <= high
