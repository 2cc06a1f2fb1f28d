"""Spec tables and limits as data (YAML beside this file), each with its source.

Every table is read by the data-file reader against a schema that refuses a limit without its
source (each section of a standard's table, each rig tolerance) and a rig tolerance whose
numbers carry no unit (in the tolerance's name or the value's key: `_s`, `_ms`, ...)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, RootModel, ValidationInfo, model_validator

from ..datafile import Schema, read, refused, report, suggest

# What a number's key (or its tolerance's name) ends with to say its unit.
UNIT_SUFFIXES = ("_s", "_ms", "_min", "_pulses", "_percent")


class Section(Schema):
    """A part of a table: its values (any keys) and where they come from."""

    model_config = ConfigDict(extra="allow")
    source: str = Field(min_length=1, description="where the values come from, as text")

    @model_validator(mode="before")
    @classmethod
    def _misspelt_source(cls, data: Any) -> Any:
        # Any key is allowed beside `source`: one that looks like it is its misspelling.
        if isinstance(data, dict) and "source" not in data:
            for key in data:
                if suggest(str(key), ["source"]):
                    raise refused(f"unknown key {key!r} (did you mean 'source'?); a section "
                                  "needs its source", at=str(key))
        return data


class StandardTable(Schema):
    """A standard's numbers (iec62053-21.yaml, ...): sections, each with its source."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Section] = Field(init=False)
    standard: str = Field(min_length=1)
    classes: list[str] = []


class Tolerances(RootModel[dict[str, Section]]):
    """rig-tolerances.yaml: the rig's own figures, each with why (source) and a unit."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="after")
    def _units(self, info: ValidationInfo) -> Tolerances:
        found = report(info)
        for name, tolerance in self.root.items():
            for key, value in (tolerance.model_extra or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool) \
                        and not (name.endswith(UNIT_SUFFIXES) or key.endswith(UNIT_SUFFIXES)):
                    message = (f"{value!r} has no unit: end the tolerance's name or this key "
                               f"with one of {', '.join(UNIT_SUFFIXES)}")
                    if found is None:
                        raise refused(message, at=(name, key))
                    found.add((name, key), message)
        return self


class Clauses(RootModel[dict[str, dict[str, str]]]):
    """clauses.yaml: protocol -> clause key -> the clause text its suites cite."""

    model_config = ConfigDict(strict=True)


class Quantity(Schema):
    """One of the rig's chosen figures: its value, unit and why."""

    value: float = Field(strict=False)
    unit: str  # "" for a plain factor
    source: str = Field(min_length=1, description="where the value comes from, as text")


class Quantities(RootModel[dict[str, Quantity]]):
    """A table of named figures, each with value, unit and source (prepaid.yaml)."""

    model_config = ConfigDict(strict=True)


class RoutinePoints(Schema):
    """The accuracy points of a standard's table the production line measures, and why."""

    source: str = Field(min_length=1, description="where the choice comes from, as text")
    points: list[str] = Field(min_length=1, description="a list of load point names")


class Routine(Schema):
    """routine.yaml: per standard, its routine points; under `line`, the line's own checks."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, RoutinePoints] = Field(init=False)
    line: dict[str, Section]


class Success(Schema):
    required: float = Field(gt=0, lt=1, description="a fraction of the reads")
    confidence: float = Field(gt=0.5, lt=1, description="one-sided, a fraction")
    source: str = Field(min_length=1, description="where the values come from, as text")


class Reads(Schema):
    default: int = Field(ge=1, description="reads per meter per level")
    source: str = Field(min_length=1, description="where the value comes from, as text")


class LineLevel(Schema):
    name: str = Field(min_length=1)
    noise_dbuv: float | None = Field(description="injected noise, dBµV; null: injector off")
    attenuation_db: float = Field(ge=0)
    source: str = Field(min_length=1, description="why this level, as text")


class LineStep(Schema):
    """A line setting one carrier test uses: its figures (unit in the key) and why."""

    source: str = Field(min_length=1, description="where the values come from, as text")
    attenuation_db: float | None = Field(None, ge=0)
    noise_dbuv: float | None = None
    reads: int | None = Field(None, ge=1)


class Carrier(Schema):
    """carrier.yaml: reads through a carrier module at the line's levels (suites/carrier)."""

    success: Success
    reads: Reads
    levels: list[LineLevel] = Field(min_length=1)
    signal_quality: LineStep
    route_repair: LineStep
    burst: LineStep


SCHEMAS: dict[str, type[Any]] = {"clauses": Clauses, "rig-tolerances": Tolerances,
                                 "prepaid": Quantities, "routine": Routine,
                                 "regression": Quantities, "carrier": Carrier}


@cache
def table(name: str) -> dict:
    """The YAML table `name`.yaml of this package, checked by its schema (FILE:LINE errors)."""
    entry = resources.files(__package__).joinpath(f"{name}.yaml")
    found = read(Path(str(entry)), SCHEMAS.get(name, StandardTable), what="limits table",
                 text=entry.read_text(encoding="utf-8"))
    return found.model_dump(exclude_unset=True)
