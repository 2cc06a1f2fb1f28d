"""A prepaid drain as the rig watches it: credit, load current and relay state against rig time,
each reading bracketed by the rig times before and after it (what the reading can tell), and
the plot of a drain to the trip."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs

from .curves import pyplot


@attrs.frozen
class Sample:
    credit: Decimal  # yuan
    credit_at: tuple[float, float]  # rig seconds before and after the credit reading
    current: float  # A, the source's measured load current
    current_at: tuple[float, float]
    relay_open: bool | None  # as the meter reports it (status word 3 bit 4); None: not read


@attrs.define
class Drain:
    """Readings taken one after another while the load drains the credit."""

    now: Callable[[], float]
    samples: list[Sample] = attrs.Factory(list)

    def bracket(self, read: Callable[[], object]) -> tuple[object, tuple[float, float]]:
        before = self.now()
        value = read()
        return value, (before, self.now())

    def take(self, credit: Callable[[], Decimal], current: Callable[[], float],
             relay_open: Callable[[], bool] | None = None) -> Sample:
        """One sample; the relay state only when asked (each reading widens the brackets)."""
        credit_value, credit_at = self.bracket(credit)
        current_value, current_at = self.bracket(current)
        sample = Sample(credit_value, credit_at, current_value, current_at,
                        None if relay_open is None else relay_open())
        self.samples.append(sample)
        return sample

    def crossing(self, level: Decimal) -> tuple[float, float] | None:
        """When the credit reached `level`: from the start of the last reading above it to the
        end of the first at or below it (None: not reached)."""
        for before, after in zip(self.samples, self.samples[1:], strict=False):
            if before.credit > level >= after.credit:
                return before.credit_at[0], after.credit_at[1]
        return None

    def current_stopped(self) -> tuple[float, float] | None:
        """When the load current fell to zero: from the last reading with current to the first
        without (None: it never fell)."""
        for before, after in zip(self.samples, self.samples[1:], strict=False):
            if before.current > 0 and after.current == 0:
                return before.current_at[0], after.current_at[1]
        return None


def save_drain_plot(drain: Drain, title: str, path: Path) -> Path:
    """Credit (yuan), load current (A) and relay state against rig time, one panel each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = drain.samples
    plt = pyplot()
    figure, (credit, current, relay) = plt.subplots(3, 1, sharex=True, figsize=(7, 6))
    credit.plot([s.credit_at[1] for s in samples], [float(s.credit) for s in samples],
                marker=".")
    credit.axhline(0, color="grey", linewidth=0.5)
    credit.set_ylabel("credit (yuan)")
    current.step([s.current_at[1] for s in samples], [s.current for s in samples], where="post")
    current.set_ylabel("load current (A)")
    read = [s for s in samples if s.relay_open is not None]
    relay.step([s.credit_at[1] for s in read], [int(s.relay_open) for s in read], where="post",
               marker=".")
    relay.set_yticks([0, 1], ["closed", "open"])
    relay.set_ylabel("relay")
    relay.set_xlabel("rig time (s)")
    credit.set_title(title)
    for axes in (credit, current, relay):
        axes.grid(True, linewidth=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path
