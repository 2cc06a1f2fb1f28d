"""Command maps: the command set of one instrument model, as data (maps/*.yaml beside this file).

A map says how to ask a model for what its kind can do; the drivers only use the names. A map
is checked as a whole when it is loaded, so a lab's new map fails at once, naming the file and
the key, rather than on the bench halfway through a test.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import attrs
from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from ..datafile import (
    DataFileError,
    Problem,
    Schema,
    invalid,
    looks_like_path,
    read,
    refused,
    report,
    settle,
    show,
    suggest,
)

KINDS = ("source", "reference", "error-calculator", "noise-injector", "attenuator", "button",
         "security-unit")
DEFAULT_TERMINATION = "\n"

# Every format field a template may use, with a sample of the type the driver passes, so a
# template's format spec (e.g. "{channel:d}") is tried when the map is loaded.
FIELD_SAMPLES: dict[str, float | int] = {
    "voltage": 230.0, "current": 5.0, "phase_deg": 60.0, "frequency": 50.0,
    "channel": 1, "meter_constant": 1000, "pulses": 10, "reference_constant": 1e6,
    "level_vrms": 0.5, "start_hz": 3000.0, "stop_hz": 95000.0, "burst_s": 0.1, "period_s": 1.0,
    "attenuation_db": 30.0,
    "hold_s": 3.0, "amount_fen": 1000, "count": 2, "customer": "000000000001",
    # hex strings of the security unit's byte fields
    "random": "00" * 8, "random1": "00" * 8, "random2": "00" * 4, "dispersion": "00" * 8,
    "data": "00" * 8, "mac": "00" * 4,
}


def _number_list(reply: str) -> tuple[float, ...]:
    # "," separates values in one reply; ";" separates the replies of a compound SCPI query
    # ("MEAS:VOLT?;:MEAS:CURR?"), so either makes a list.
    return tuple(float(part) for part in reply.replace(";", ",").split(","))


def _integer(reply: str) -> int:
    # Instruments often answer counts in NR3 form ("+1.20000E+01"): accept it if it is whole.
    value = float(reply)
    if not value.is_integer():
        raise ValueError(f"{reply!r} is not a whole number")
    return int(value)


_TRUE = ("1", "ON", "TRUE")
_FALSE = ("0", "OFF", "FALSE")


def _boolean(reply: str) -> bool:
    word = reply.strip().upper().lstrip("+")
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"{reply!r} is none of {', '.join(_TRUE + _FALSE)}")


PARSERS: dict[str, Callable[[str], Any]] = {
    "float": float,
    "int": _integer,
    "bool": _boolean,
    "str": str.strip,
    "floats": _number_list,
}


@attrs.frozen
class Need:
    """What a driver needs of one named command or query."""

    fields: tuple[str, ...] = ()
    parses: tuple[str, ...] = ()  # queries only: the reply forms the driver can use
    required: bool = True


# The names each kind's driver uses. `error` (the instrument's error queue, SCPI "SYST:ERR?") is
# optional for every kind: with it the driver checks each command was accepted.
NEEDS: dict[str, dict[str, dict[str, Need]]] = {
    "source": {
        "commands": {
            "voltage": Need(("voltage",)),
            "current": Need(("current",)),
            "phase": Need(("phase_deg",)),
            "frequency": Need(("frequency",)),
            "output_on": Need(),
            "output_off": Need(),
        },
        "queries": {
            "settled": Need(parses=("bool",)),
            "measure": Need(parses=("floats",), required=False),
        },
    },
    "reference": {
        "commands": {"reset_energy": Need()},
        "queries": {
            "measure": Need(parses=("floats",)),
            "constant": Need(parses=("float", "int")),
            "accuracy_class": Need(parses=("str",)),
            "energy": Need(parses=("float",)),
        },
    },
    "error-calculator": {
        "commands": {
            "configure": Need(("channel", "meter_constant", "pulses", "reference_constant")),
            "start": Need(("channel",)),
            "start_counting": Need(("channel",)),
        },
        "queries": {
            "state": Need(("channel",), parses=("str",)),
            "pulses_seen": Need(("channel",), parses=("int",)),
            "result": Need(("channel",), parses=("float",)),
            "pulse_count": Need(("channel",), parses=("int",)),
        },
    },
    # A relay actuator that holds a meter's button down (close after close allowed, 1B).
    "button": {
        "commands": {"press": Need(("channel", "hold_s"))},
        "queries": {},
    },
    # The lab's encryption unit for ESAM money transactions (meterrig/protocols/dlt645/
    # security.py, docs/prepaid.md): byte fields and replies are hex strings.
    "security-unit": {
        "commands": {},
        "queries": {
            "random": Need(parses=("str",)),
            "authenticate": Need(("random", "dispersion"), parses=("str",)),
            "sign_recharge": Need(("random1", "random2", "dispersion", "amount_fen", "count",
                                   "customer"), parses=("str",)),
            "verify_reply_mac": Need(("random1", "random2", "dispersion", "data", "mac"),
                                     parses=("bool",)),
        },
    },
}
NEEDS["noise-injector"] = {
    "commands": {
        "level": Need(("level_vrms",)),
        "band": Need(("start_hz", "stop_hz")),
        "continuous": Need(),
        "burst": Need(("burst_s", "period_s")),
        "output_on": Need(),
        "output_off": Need(),
    },
    "queries": {
        "level": Need(parses=("float",)),
        "band": Need(parses=("floats",)),
        "bursting": Need(parses=("bool",)),
        "burst": Need(parses=("floats",)),
        "output": Need(parses=("bool",)),
    },
}
NEEDS["attenuator"] = {
    "commands": {"attenuation": Need(("attenuation_db",))},
    "queries": {"attenuation": Need(parses=("float", "int"))},
}
ERROR_QUERY = Need(parses=("str",), required=False)

# `settings:`: numbers a kind's driver needs of the model (or of the lab's wiring), name ->
# default; None = required. A kind not listed takes no settings.
SETTINGS: dict[str, dict[str, float | None]] = {
    # dB from the generator's output to the coupling point (a coupling network loses some).
    "noise-injector": {"coupling_gain_db": 0.0},
    # the attenuation the model can be set to: from min_db to max_db in steps of step_db
    "attenuator": {"min_db": None, "max_db": None, "step_db": None},
}


class CommandMapError(DataFileError):
    """A command map that cannot be used; the message names the file and every bad key."""


class Query(Schema):
    template: str
    parse: Literal[tuple(PARSERS)]

    def parse_reply(self, reply: str) -> Any:
        return PARSERS[self.parse](reply)


class Termination(Schema):
    read: str = Field(DEFAULT_TERMINATION, min_length=1)
    write: str = Field(DEFAULT_TERMINATION, min_length=1)


def _termination(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, str) and value:
        return {"read": value, "write": value}
    if isinstance(value, dict):
        return value
    raise invalid(f"got {show(value)}")


class CommandMap(Schema):
    FILLED = ("path",)
    path: Path = Path()  # the map file's, set when read
    model: str = Field(min_length=1, description="the instrument model, as text")
    kind: Literal[KINDS]
    termination: Annotated[Termination, BeforeValidator(_termination)] = Field(
        Termination(), description='a non-empty string for both directions (e.g. "\\n"), or '
                                   "{read: ..., write: ...}")
    commands: dict[str, str] = Field(
        {}, description='a mapping of name -> template, e.g. "SOUR:VOLT {voltage:.3f}"')
    queries: dict[str, Query] = {}
    settings: dict[str, Annotated[float, Field(strict=False)]] = Field(
        {}, description="a mapping of name -> number")

    @model_validator(mode="after")
    def _what_the_driver_needs(self, info: ValidationInfo) -> CommandMap:
        found = report(info)

        def problem(key: tuple[str, ...], message: str) -> None:
            if found is None:
                raise refused(message, at=key)
            found.add(key, message)

        needs = NEEDS[self.kind]
        for section, given, known in (("commands", self.commands, needs["commands"]),
                                      ("queries", self.queries,
                                       {**needs["queries"], "error": ERROR_QUERY})):
            for name, need in known.items():
                if need.required and name not in given:
                    problem((section, name), f"missing: a {self.kind} needs it")
            for name, value in given.items():
                if name not in known:
                    problem((section, name), f"unknown name{suggest(name, known)}; a "
                                             f"{self.kind} has {', '.join(known)}")
                    continue
                template = value if section == "commands" else value.template
                where = (section, name) if section == "commands" else (section, name, "template")
                wrong = _template_problem(template, known[name])
                if wrong:
                    problem(where, wrong)
                if section == "queries" and value.parse not in known[name].parses:
                    problem((section, name, "parse"), f"{value.parse!r}: the driver reads this "
                                                      f"reply as {' or '.join(known[name].parses)}")
        known = SETTINGS.get(self.kind, {})
        for name, default in known.items():
            if default is None and name not in self.settings:
                problem(("settings", name), f"missing: a {self.kind} needs it")
        for name in self.settings.keys() - known.keys():
            problem(("settings", name), f"unknown name{suggest(name, known)}; a {self.kind} has "
                                        f"{', '.join(known) or 'no settings'}")
        # Defaults filled in, so a driver reads every setting its kind has.
        settle(self, settings={name: self.settings.get(name, default)
                               for name, default in known.items()})
        return self

    @property
    def read_termination(self) -> str:
        return self.termination.read

    @property
    def write_termination(self) -> str:
        return self.termination.write

    @property
    def name(self) -> str:
        return self.path.stem


def _template_problem(template: str, need: Need) -> str | None:
    """What is wrong with a command's or query's template, if anything."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template)
                  if field is not None]
    except ValueError as exc:
        return f"not a valid template: {exc}"
    unknown = [field for field in fields if field not in need.fields]
    if unknown:
        allowed = ", ".join(f"{{{field}}}" for field in need.fields) or "no fields"
        return f"unknown field {', '.join(map(repr, unknown))}; it can use {allowed}"
    try:
        template.format(**{field: FIELD_SAMPLES[field] for field in need.fields})
    except (ValueError, TypeError) as exc:
        return f"cannot be formatted: {exc}"
    return None


def shipped_maps() -> list[str]:
    return sorted(Path(entry.name).stem for entry in _maps_dir().iterdir()
                  if entry.name.endswith(".yaml"))


def _maps_dir() -> Any:
    return resources.files(__package__).joinpath("maps")


def load_map(name_or_path: str | Path) -> CommandMap:
    """A shipped map by name ("generic-scpi-source"), or a lab's map file by path."""
    text = str(name_or_path)
    if looks_like_path(text):
        path = Path(text)
        if not path.is_file():
            raise CommandMapError(path, [Problem("", None, "no such command map file")])
    else:
        entry = _maps_dir().joinpath(f"{text}.yaml")
        if not entry.is_file():
            raise CommandMapError(Path(text), [Problem("", None, (
                f"no command map named {text!r}; shipped maps: {', '.join(shipped_maps())} "
                "(or give the path of a .yaml file)"))])
        path = Path(str(entry))
    found = read(path, CommandMap, what="command map", error=CommandMapError)
    return found.model_copy(update={"path": path})
