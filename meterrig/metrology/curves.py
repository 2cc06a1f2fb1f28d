"""Error curves: each position's error against current, one line per power factor, limits drawn."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


def pyplot():
    """matplotlib, imported when a plot is drawn: every pytest-xdist worker imports the modules
    that draw (this one for the procedure's CurvePoint, the suites' plots) and most never draw
    (0.5 s each at start)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: benches and CI have no display
    import matplotlib.pyplot as plt

    return plt


@attrs.frozen
class CurvePoint:
    current: float  # A
    power_factor_label: str  # "PF 1", "PF 0.5 ind", …
    error: float | None  # percent; None: no result
    limit: float  # ± percent


def power_factor_label(power_factor: float, kind: str) -> str:
    """A curve's name: "PF 1", "PF 0.5 ind", "PF 0.8 cap"."""
    return "PF 1" if kind == "unity" else \
        f"PF {power_factor:g} {'ind' if kind == 'inductive' else 'cap'}"


def error_curve(position: int | str, points: list[CurvePoint]) -> plt.Figure:
    """One position's error against current, a line per power factor, limits dashed."""
    lines: dict[str, list[CurvePoint]] = defaultdict(list)
    for point in sorted(points, key=lambda p: p.current):
        lines[point.power_factor_label].append(point)
    figure, axes = pyplot().subplots(figsize=(7, 4.5))
    for label, line in lines.items():
        measured = [p for p in line if p.error is not None]
        drawn = axes.plot([p.current for p in measured], [p.error for p in measured],
                          marker="o", label=label)[0]
        currents = [p.current for p in line]
        for sign in (1, -1):
            axes.step(currents, [sign * p.limit for p in line], where="mid",
                      linestyle="--", linewidth=0.8, color=drawn.get_color())
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_xscale("log")
    axes.set_xlabel("current (A)")
    axes.set_ylabel("error (%)")
    axes.set_title(f"Position {position}: error against current (dashed: limits)")
    axes.legend()
    axes.grid(True, which="both", linewidth=0.3)
    return figure


def png(figure: plt.Figure) -> bytes:
    """The figure as PNG bytes, closed."""
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(figure)
    return out.getvalue()


def save_error_curves(curves: dict[int, list[CurvePoint]], directory: Path) -> list[Path]:
    """One PNG per position: position-<n>-error-curve.png."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for position, points in sorted(curves.items()):
        path = directory / f"position-{position}-error-curve.png"
        path.write_bytes(png(error_curve(position, points)))
        saved.append(path)
    return saved
