"""Soak: every meter polled as fast as it answers for `--soak-seconds` (3 s by default; hours on
a real bench), the buses at once, each bus's meters in turn. Per meter: success rate, retries,
read durations (p50/p95/p99/max, a histogram PNG beside the measurements and attached to the
report), its energy register never going back, no wrong value accepted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest

from fixtures.reporting import LOG
from meterrig import soak
from meterrig.measure import Limits
from meterrig.meter import MeterError

pytestmark = pytest.mark.needs("metering")

RECORDED = Limits(source="soak figure, recorded: the standards set no limit on it")
SOAKED = pytest.StashKey[dict]()


@pytest.fixture
def soaked(rig, pytestconfig) -> dict[int, soak.Poll]:
    """The soak of every meter the metering suites can read on the buses this process holds
    (all of them in one process; its own bus on a pytest-xdist worker, while the other workers
    soak theirs), once per run."""
    polls = pytestconfig.stash.setdefault(SOAKED, {})
    seconds = pytestconfig.getoption("soak_seconds")
    buses: dict[str, list] = {}
    for position in rig.positions:
        try:
            rig.meter(position.number)
        except LookupError:
            continue  # no energy register to poll
        if position.number not in polls and rig.links[position.bus].held:
            buses.setdefault(position.bus, []).append(position)
    if buses:
        with ThreadPoolExecutor(max_workers=len(buses)) as pool:
            runs = [pool.submit(soak.poll_in_turn, {
                p.number: (rig.meter(p.number), rig.client(p.number)) for p in positions},
                seconds) for positions in buses.values()]
            polls.update({n: p for run in runs for n, p in run.result().items()})
        # named by the buses soaked: parallel workers each write their own
        path = soak.save_histogram(
            {f"position {p.number}": polls[p.number] for ps in buses.values() for p in ps},
            pytestconfig.stash[LOG].path.parent / f"soak-histogram-{'+'.join(sorted(buses))}.png")
        _attach(path)
    return polls


def _attach(path) -> None:
    try:
        import allure
    except ImportError:
        return
    allure.attach.file(str(path), name="soak read durations",
                       attachment_type=allure.attachment_type.PNG)


@pytest.mark.measures("reads", "success_rate", "retries", "reads_per_second", "read_duration",
                      "longest_read", "wrong_values")
def test_soak(soaked, position, verify):
    result = soaked[position.number]
    if not result.reads:
        raise MeterError(f"position {position.number}: not one read in the soak")
    figures = [("reads", "reads", result.reads, "", None),
               ("success_rate", "success rate", round(result.success_rate * 100, 3), "%", None),
               ("retries", "retries", result.retries, "", None),
               ("reads_per_second", "reads per second", round(result.reads_per_second, 2),
                "1/s", None)]
    figures += [("read_duration", f"read duration p{p}", round(result.percentile(p) * 1e3, 2),
                 "ms", {"percentile": p}) for p in soak.PERCENTILES]
    figures.append(("longest_read", "longest read", round(result.longest * 1e3, 2), "ms", None))
    for key, name, value, unit, at in figures:
        verify.note(name, value, unit, attrs.evolve(RECORDED, unit=unit), key=key, at=at,
                    detail=f"{len(result.failures)} reads reported failed"
                    + (f"; first: {result.failures[0]}" if result.failures else ""))
    verify.equal("wrong values accepted (energy register going back)", len(result.wrong), 0,
                 "robustness", detail="; ".join(result.wrong[:3]), key="wrong_values")

