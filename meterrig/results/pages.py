"""HTML pages from the results database (certificates, reports): Jinja2 templates shipped in
templates/, plots as PNG."""

from __future__ import annotations

import base64
from typing import Any

import jinja2

from meterrig.measure import Limits

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("meterrig.results", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: Any) -> str:
    return ENVIRONMENT.get_template(template).render(**context)


def data_uri(png: bytes) -> str:
    """A PNG inside the page itself: the certificate is one file that travels alone."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def shown_value(row) -> str:
    """A measurement's value as a person reads it: number ± uncertainty, or the text."""
    if row.value is not None:
        text = f"{row.value:g}"
    elif row.value_text is not None:
        text = row.value_text
    else:
        return "—"
    if row.uncertainty is not None:
        text += f" ± {row.uncertainty:g}"
    return f"{text} {row.unit}".rstrip()


def shown_limits(row) -> str:
    if row.limit_low is not None or row.limit_high is not None:
        return f"{Limits(row.limit_low, row.limit_high)} {row.unit}".rstrip()
    return f"= {row.expected}" if row.expected is not None else ""


def shown_dimensions(dimensions: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in dimensions.items()
                     if name != "position")


ENVIRONMENT.filters.update(value=shown_value, limits=shown_limits, dimensions=shown_dimensions)
