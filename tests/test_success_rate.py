"""A carrier read-success rate judged by its one-sided Clopper-Pearson bounds
(meterrig/limits/success.py), checked against the closed forms of the exact interval, and near
the requirement, where only INCONCLUSIVE is honest."""

from __future__ import annotations

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
    assert REQUIREMENT.judge("rate", needed, needed, "c").verdict is Outcome.PASS
    short = REQUIREMENT.judge("rate", needed - 1, needed - 1, "c")
    assert short.verdict is Outcome.INCONCLUSIVE and f"needs {needed}" in short.detail
    # the figure the data's own text gives its readers
    assert f"({needed} are needed)" in table("carrier")["reads"]["source"]


ALLOWED = 1 - REQUIREMENT.required  # the loss the requirement allows
DEFAULT_READS = table("carrier")["reads"]["default"]


@pytest.mark.parametrize(("share_of_allowed_loss", "trials", "verdict"), [
    (0, 300, Outcome.PASS),  # no loss (98 %, 95 %: lower bound 99.0 %)
    (1 / 3, 300, Outcome.INCONCLUSIVE),  # 2 lost: the lower bound 97.9 % misses 98 %
    (1, 300, Outcome.INCONCLUSIVE),  # exactly the requirement: never decided
    (1, 3000, Outcome.INCONCLUSIVE),  # nor with ten times the reads
    (2.5, 300, Outcome.FAIL),  # 5 % loss: the upper bound 96.9 % is below
])
def test_near_the_requirement_the_verdict_waits_for_the_reads(share_of_allowed_loss, trials,
                                                              verdict):
    successes = trials - round(trials * ALLOWED * share_of_allowed_loss)
    judged = REQUIREMENT.judge("rate", successes, trials, "carrier")
    assert judged.verdict is verdict, judged.detail
    low, high = REQUIREMENT.bounds(successes, trials)
    assert low <= successes / trials <= high


def test_the_default_reads_fail_a_module_that_loses_them_all_and_pass_none():
    verdicts = [REQUIREMENT.judge("rate", k, DEFAULT_READS, "c").verdict
                for k in range(DEFAULT_READS + 1)]
    assert verdicts[0] is Outcome.FAIL and verdicts[-1] is Outcome.INCONCLUSIVE
    assert Outcome.PASS not in verdicts
