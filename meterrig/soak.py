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


def poll(meter: Any, client: Any, *, more: Callable[[Poll], bool],
         expected: Decimal | None = None) -> Poll:
    """Read `meter`'s energy while `more(poll)` says so; `client` counts the retries."""
    result = Poll()
    start = time.monotonic()
    while more(result):
        retries_before = client.retries_used
        began = time.monotonic()
        result.reads += 1
        try:
            value = meter.forward_energy_kwh()
        except MeterError as exc:
            result.failures.append(str(exc))
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
    result.elapsed = time.monotonic() - start
    return result


def reads(count: int) -> Callable[[Poll], bool]:
    return lambda p: p.reads < count


def for_seconds(duration: float) -> Callable[[Poll], bool]:
    end = time.monotonic() + duration
    return lambda p: time.monotonic() < end
