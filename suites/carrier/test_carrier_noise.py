"""Reads through the module at the line's levels (limits/carrier.yaml): success rate judged by
its confidence bounds, latency percentiles, the success-against-noise curve and the latency
histogram (PNG, in the run's curves/ and attached to the report); signal quality against
attenuation; recovery after a noise burst."""

from __future__ import annotations

import allure
import numpy as np
import pytest

from fixtures.carrier import behind, line_at, read_through
from fixtures.reporting import LOG
from meterrig.limits import table
from meterrig.limits.success import SuccessRequirement
from meterrig.measure import Limits
from meterrig.metrology.curves import pyplot
from meterrig.protocols.gdw13762.spec import CLAUSES, GDW1376_2

pytestmark = pytest.mark.protocol(GDW1376_2)
DATA = table("carrier")
REQUIREMENT = SuccessRequirement(DATA["success"]["required"], DATA["success"]["confidence"],
                                 DATA["success"]["source"])
LEVELS = {level["name"]: level for level in DATA["levels"]}
SEEN = pytest.StashKey[dict]()  # level name -> {"rate": %, "latencies": [ms]}, for the plots


@pytest.mark.parametrize("level", list(LEVELS))
@pytest.mark.clause("monitor")
@pytest.mark.measures("success_rate", "latency_median", "latency_tail")
def test_read_success_at_line_level(request, rig, position, meter, verify, noise_injector,
                                    attenuator, carrier_reads, level):
    setting = LEVELS[level]
    meters = behind(rig, position)
    with line_at(noise_injector, attenuator, setting["noise_dbuv"], setting["attenuation_db"]):
        reads = []
        for inner in meters:
            for _ in range(carrier_reads):
                reads.append(read_through(meter, inner))
                if _decided(reads, carrier_reads * len(meters)):
                    break
    good = [r for r in reads if r.ok]
    latencies = [1e3 * r.latency_s for r in good]
    seen = request.config.stash.setdefault(SEEN, {})
    seen[level] = {"rate": 100 * len(good) / len(reads), "latencies": latencies,
                   "noise": setting["noise_dbuv"], "attenuation": setting["attenuation_db"]}
    _plots(request, seen)
    at = {"level": level}
    timeout = Limits(high=meter.monitor_timeout_s * 1e3, unit="ms",
                     source=f"{CLAUSES['monitor']}; limit: {meter.monitor_timeout_source}")
    if latencies:
        verify.note("median latency through the module", float(np.percentile(latencies, 50)),
                    "ms", timeout, key="latency_median", at=at)
        verify.within("95th percentile latency through the module",
                      float(np.percentile(latencies, 95)), "ms", timeout, key="latency_tail",
                      at=at)
    verify.rate(f"read success at {level} ({setting['source']})", len(good), len(reads),
                REQUIREMENT, key="success_rate", at=at)


def _decided(reads: list, planned: int) -> bool:
    """Whether the verdict at `planned` reads is already FAIL whatever the rest bring: the
    upper bound with every remaining read good is below the requirement (the test's N stays
    the one planned; a read that cannot change the verdict is not made)."""
    good = sum(r.ok for r in reads)
    return REQUIREMENT.bounds(good + planned - len(reads), planned)[1] < REQUIREMENT.required


def _plots(request, seen: dict) -> None:
    """Success against the line's level, and the latency histogram, over the levels so far."""
    directory = request.config.stash[LOG].path.parent / "curves"
    directory.mkdir(parents=True, exist_ok=True)
    names = list(seen)
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(range(len(names)), [seen[n]["rate"] for n in names], marker="o")
    axes.axhline(100 * REQUIREMENT.required, linestyle="--", color="grey")
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axes.set_ylabel("read success (%)")
    axes.set_title("Reads through the carrier module against the line's level (dashed: "
                   "requirement)")
    _save(figure, directory / "carrier-success-against-noise.png", "success against noise")
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.hist([seen[n]["latencies"] for n in names], bins=20, label=names, stacked=True)
    axes.set_xlabel("latency through the module (ms)")
    axes.set_ylabel("reads")
    axes.legend()
    _save(figure, directory / "carrier-latency-histogram.png", "latency histogram")


def _save(figure, path, name: str) -> None:
    figure.savefig(path, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(figure)
    allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.PNG)


@pytest.mark.clause("information-field")
@pytest.mark.measures("signal_quality_falls")
def test_signal_quality_follows_attenuation(rig, position, meter, verify, noise_injector,
                                            attenuator):
    step = DATA["signal_quality"]
    for inner in behind(rig, position):
        at = {"meter": inner.address}
        with line_at(noise_injector, attenuator, None, 0):
            quiet = read_through(meter, inner)
        with line_at(noise_injector, attenuator, None, step["attenuation_db"]):
            weak = read_through(meter, inner)
        if not (quiet.ok and weak.ok):
            verify.equal(f"reads of {inner.address} for its signal quality",
                         [str(r.error) for r in (quiet, weak) if not r.ok], [],
                         "monitor", key="signal_quality_falls", at=at)
        before, after = quiet.reply.frame.info.reply_quality, weak.reply.frame.info.reply_quality
        verify.equal(f"signal quality of {inner.address} in R falls when the attenuator adds "
                     f"{step['attenuation_db']:g} dB", after < before, True,
                     "information-field", detail=f"signal quality {before} then {after}: the "
                     f"wrong signal quality is reported ({step['source']})",
                     key="signal_quality_falls", at=at)


@pytest.mark.clause("monitor")
@pytest.mark.measures("recovered")
def test_recovery_after_noise_burst(rig, position, meter, verify, noise_injector, attenuator):
    burst = DATA["burst"]
    inner = behind(rig, position)[0]
    with line_at(noise_injector, attenuator, burst["noise_dbuv"], 0):
        during = read_through(meter, inner)
    after = [read_through(meter, inner) for _ in range(burst["reads"])]
    verify.equal(f"a read of {inner.address} succeeded within {burst['reads']} reads after a "
                 f"{burst['noise_dbuv']:g} dBµV burst", any(r.ok for r in after), True, "monitor",
                 detail=f"during the burst: {'read' if during.ok else during.error}; "
                 f"{burst['source']}", key="recovered")
