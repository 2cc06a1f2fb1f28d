"""The timing every answered exchange is judged by, per protocol (its spec's timing rules).

Each figure is judged with the uncertainty its link can vouch for (measure.Limits.verdict): the
span between the earliest and latest its bytes can have been dated (a host too busy to run the
link when they came leaves an interval, not a point), plus the link's resolution.
On an unpaced link it cannot be measured; a physically impossible figure is a rig fault. Both
are INCONCLUSIVE, never a verdict on the device.
"""

from __future__ import annotations

from typing import Any

from ..link.exchange import Exchange
from ..measure import Measurement, inconclusive, judge, unmeasurable
from ..protocols import registry
from .figures import TimingFigure

RIG_FAULT = "rig fault:"
HOST_BUSY = "of the uncertainty is the host's"  # in the detail of a figure a busy host widened


def judge_figure(exchange: Exchange, figure: TimingFigure, **where: Any) -> Measurement:
    label = f"{exchange.label} on bus {exchange.bus}"
    if round(figure.host_busy, 1) > 0:
        label += (f"; ± {figure.host_busy:g} ms {HOST_BUSY}: it was busy when the bytes came "
                  "(a read found them already waiting, or a write returned late), so the link "
                  "can date them only to an interval")
    where = {**where, "key": figure.key}
    clause = figure.limits.source
    resolution = exchange.resolution
    if figure.uncertainty is None:
        return unmeasurable(figure.name, "ms", figure.limits, clause,
                            f"bus {exchange.bus} is unpaced ({resolution.basis}), so its timing "
                            "cannot be measured",
                            detail=f"{label}; the link read {figure.value:g} ms", **where)
    if figure.floor is not None and figure.value + figure.uncertainty < figure.floor:
        return inconclusive(
            figure.name, figure.value, "ms", figure.limits, clause,
            f"{RIG_FAULT} impossible, {figure.impossible}. The rig dates bytes wrongly: an "
            "adapter that hears its own "
            f"request (buses.{exchange.bus}.echo), one that buffers the reply, or a wrong "
            f"timing declaration (buses.{exchange.bus}.timing, now {resolution})",
            uncertainty=figure.uncertainty, detail=label, **where)
    return judge(figure.name, figure.value, "ms", figure.limits, clause,
                 uncertainty=figure.uncertainty, detail=label, **where)


def judge_exchange(exchange: Exchange, protocol: str, **where: Any) -> list[Measurement]:
    """Every timing figure of an answered exchange, judged; none for a protocol whose sources
    give no timing."""
    spec = registry.get(protocol)
    # An exchange made through a carrier brings the figures measured on the carrier's own
    # link (protocols/gdw13762/tunnel.py): its end-to-end latency.
    carried = [judge_figure(exchange, figure, **where)
               for figure in getattr(exchange, "carrier_figures", ())]
    if spec.exchange_timing is None:
        return carried
    return [*(judge_figure(exchange, figure, **where)
              for figure in spec.load("exchange_timing")(exchange)), *carried]
