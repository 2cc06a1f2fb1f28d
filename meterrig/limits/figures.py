"""A timing figure of one exchange, as a protocol's limits module gives it for judging."""

from __future__ import annotations

import attrs

from ..link.exchange import Exchange
from ..measure import Limits


@attrs.frozen
class TimingFigure:
    name: str
    value: float  # ms, as the link measured it: the middle of what it can vouch for
    limits: Limits
    # ± ms: half the span the link can vouch for (a host busy when the bytes came widens it)
    # plus the link's resolution; None on an unpaced link, where the figure cannot be measured.
    uncertainty: float | None
    # The least a physically possible value can be (ms); a figure below it is a rig fault.
    floor: float | None = None
    impossible: str = ""  # why a figure below the floor cannot be the device's
    key: str = attrs.field(kw_only=True)  # its measurement key (measure.Measurement.key)
    # ± ms of the uncertainty that is the host's: how late it ran the link (0: not at all).
    host_busy: float = attrs.field(default=0.0, kw_only=True)


def measured(name: str, bounds: tuple[float, float], limits: Limits, exchange: Exchange,
             digits: int, **rest) -> TimingFigure:
    """A figure from the (least, most) seconds the link can vouch for: their middle, ± half
    their span plus the link's resolution."""
    least, most = bounds
    half = round((most - least) / 2 * 1e3, 3)
    seconds = exchange.resolution.seconds
    uncertainty = None if seconds is None else round(half + seconds * 1e3, 3)
    return TimingFigure(name, round((least + most) / 2 * 1e3, digits), limits, uncertainty,
                        host_busy=half, **rest)
