"""A timing figure of one exchange, as a protocol's limits module gives it for judging."""

from __future__ import annotations

import attrs

from ..link.exchange import Exchange
from ..measure import Limits


@attrs.frozen
class TimingFigure:
    name: str
    value: float  # ms, as the link measured it
    limits: Limits
    # ± ms: the resolution of the exchange's link; None on an unpaced link, where the figure
    # cannot be measured at all.
    uncertainty: float | None
    # The least a physically possible value can be (ms); a figure below it is a rig fault.
    floor: float | None = None
    impossible: str = ""  # why a figure below the floor cannot be the device's
    key: str = attrs.field(kw_only=True)  # its measurement key (measure.Measurement.key)


def uncertainty_ms(exchange: Exchange) -> float | None:
    """The timing uncertainty of an exchange, ms: its link's resolution."""
    seconds = exchange.resolution.seconds
    return None if seconds is None else round(seconds * 1e3, 3)
