"""Polling a meter's energy register as fast as it answers: the figures of a soak run and of a
run on a noisy bus.

Every read is counted: a value accepted, or a failure reported (no reply, a garbled reply after
its retries, a reply that does not answer). A value is wrong when it goes back below the one
before (an energy register only grows), or differs from `expected` where the caller knows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from .meter import MeterError

PERCENTILES = (50, 95, 99)


@attrs.define
class Poll:
    reads: int = 0
    failures: list[str] = attrs.Factory(list)  # each reported failure's message
    retries: int = 0
    seconds: list[float] = attrs.Factory(list)  # each accepted read's duration, retries included
    values: list[Decimal] = attrs.Factory(list)
    wrong: list[str] = attrs.Factory(list)  # each wrong value accepted, said why
    elapsed: float = 0.0

    @property
    def accepted(self) -> int:
        return len(self.values)

    @property
    def success_rate(self) -> float:
        return self.accepted / self.reads if self.reads else 0.0

    @property
    def reads_per_second(self) -> float:
        return self.reads / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile of the accepted reads' durations (nearest rank), seconds."""
        if not self.seconds:
            return float("nan")
        ranked = sorted(self.seconds)
        return ranked[min(len(ranked) - 1, max(0, round(p / 100 * len(ranked)) - 1))]

    @property
    def longest(self) -> float:
        return max(self.seconds, default=float("nan"))


def read_once(result: Poll, meter: Any, client: Any, expected: Decimal | None = None) -> None:
    """One read of `meter`'s energy, counted in `result`; `client` counts the retries. A reply
    its codec's check refuses (from another address, for another item) is a failure reported,
    like silence or a garbled reply."""
    retries_before = client.retries_used
    began = time.monotonic()
    result.reads += 1
    try:
        value = meter.forward_energy_kwh()
    except (MeterError, *client.master.codec.check_errors) as exc:
        result.failures.append(f"{type(exc).__name__}: {exc}")
    else:
        result.seconds.append(time.monotonic() - began)
        previous = result.values[-1] if result.values else None
        if previous is not None and value < previous:
            result.wrong.append(f"read {result.reads}: {value} kWh after {previous} kWh")
        elif expected is not None and value != expected:
            result.wrong.append(f"read {result.reads}: {value} kWh, expected {expected}")
        result.values.append(value)
    finally:
        result.retries += client.retries_used - retries_before


def poll(meter: Any, client: Any, *, more: Callable[[Poll], bool],
         expected: Decimal | None = None) -> Poll:
    """Read `meter`'s energy while `more(poll)` says so."""
    result = Poll()
    start = time.monotonic()
    while more(result):
        read_once(result, meter, client, expected)
    result.elapsed = time.monotonic() - start
    return result


def poll_in_turn(meters: dict[Any, tuple[Any, Any]], seconds: float) -> dict[Any, Poll]:
    """The meters of one bus (key -> (meter, client)) read in turn for `seconds`."""
    results = {key: Poll() for key in meters}
    start = time.monotonic()
    while time.monotonic() < start + seconds:
        for key, (meter, client) in meters.items():
            read_once(results[key], meter, client)
    for result in results.values():
        result.elapsed = time.monotonic() - start
    return results


def reads(count: int) -> Callable[[Poll], bool]:
    return lambda p: p.reads < count




def save_histogram(polls: dict[str, Poll], path: Path) -> Path:
    """Each meter's read durations as a histogram (ms), one line of bars per meter, with its
    p50/p95/p99 in the legend."""
    import matplotlib

    matplotlib.use("Agg")  # files only: benches and CI have no display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    for label, result in polls.items():
        if result.seconds:
            figures = ", ".join(f"p{p} {result.percentile(p) * 1e3:.1f}" for p in PERCENTILES)
            axes.hist([s * 1e3 for s in result.seconds], bins=40, histtype="step",
                      label=f"{label}: {figures} ms")
    axes.set_xlabel("read duration, request to value (ms)")
    axes.set_ylabel("reads")
    axes.set_title("soak: read durations per meter")
    axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def for_seconds(duration: float) -> Callable[[Poll], bool]:
    end = time.monotonic() + duration
    return lambda _: time.monotonic() < end
