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
from typing import Any

import attrs
import yaml

KINDS = ("source", "reference", "error-calculator", "button", "security-unit")
TOP_KEYS = ("model", "kind", "termination", "commands", "queries")
DEFAULT_TERMINATION = "\n"

# Every format field a template may use, with a sample of the type the driver passes, so a
# template's format spec (e.g. "{channel:d}") is tried when the map is loaded.
FIELD_SAMPLES: dict[str, float | int] = {
    "voltage": 230.0, "current": 5.0, "phase_deg": 60.0, "frequency": 50.0,
    "channel": 1, "meter_constant": 1000, "pulses": 10, "reference_constant": 1e6,
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
ERROR_QUERY = Need(parses=("str",), required=False)


class CommandMapError(Exception):
    """A command map that cannot be used; the message names the file and every bad key."""


@attrs.frozen
class Query:
    template: str
    parse: str

    def parse_reply(self, reply: str) -> Any:
        return PARSERS[self.parse](reply)


@attrs.frozen
class CommandMap:
    path: Path
    model: str
    kind: str
    read_termination: str
    write_termination: str
    commands: dict[str, str]
    queries: dict[str, Query]

    @property
    def name(self) -> str:
        return self.path.stem


def shipped_maps() -> list[str]:
    return sorted(Path(entry.name).stem for entry in _maps_dir().iterdir()
                  if entry.name.endswith(".yaml"))


def _maps_dir() -> Any:
    return resources.files(__package__).joinpath("maps")


def load_map(name_or_path: str | Path) -> CommandMap:
    """A shipped map by name ("generic-scpi-source"), or a lab's map file by path."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise CommandMapError(f"{path}: no such command map file")
    else:
        entry = _maps_dir().joinpath(f"{text}.yaml")
        if not entry.is_file():
            raise CommandMapError(f"no command map named {text!r}; shipped maps: "
                                  f"{', '.join(shipped_maps())} (or give the path of a .yaml file)")
        path = Path(str(entry))
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise CommandMapError(f"{path}: not valid YAML: {exc}") from exc
    return _Checker(path).command_map(data)


class _Checker:
    """Reads one map, collecting every problem as `FILE: KEY: what is wrong`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, key: str, what: str) -> None:
        self.problems.append(f"{self.path}: {key}: {what}")

    def command_map(self, data: Any) -> CommandMap:
        if not isinstance(data, dict):
            raise CommandMapError(f"{self.path}: a command map is a mapping of "
                                  f"{', '.join(TOP_KEYS)}")
        for key in data:
            if key not in TOP_KEYS:
                self.problem(str(key), f"unknown key; a map has {', '.join(TOP_KEYS)}")
        model = data.get("model")
        if not isinstance(model, str) or not model.strip():
            self.problem("model", "required: the instrument model, as text")
        kind = data.get("kind")
        if kind not in KINDS:
            self.problem("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
            raise CommandMapError("\n".join(self.problems))
        read_termination, write_termination = self.termination(data.get("termination"))
        needs = NEEDS[kind]
        commands = self.section(data, "commands", needs["commands"], self.command)
        queries = self.section(data, "queries", {**needs["queries"], "error": ERROR_QUERY},
                               self.query)
        if self.problems:
            raise CommandMapError("\n".join(self.problems))
        return CommandMap(path=self.path, model=model, kind=kind,
                          read_termination=read_termination, write_termination=write_termination,
                          commands=commands, queries=queries)

    def termination(self, value: Any) -> tuple[str, str]:
        if value is None:
            return DEFAULT_TERMINATION, DEFAULT_TERMINATION
        if isinstance(value, str) and value:
            return value, value
        if isinstance(value, dict):
            for key in value:
                if key not in ("read", "write"):
                    self.problem(f"termination.{key}", "unknown key; termination has read, write")
            ends = [value.get(key, DEFAULT_TERMINATION) for key in ("read", "write")]
            if all(isinstance(end, str) and end for end in ends):
                return ends[0], ends[1]
        self.problem("termination", 'a non-empty string for both directions (e.g. "\\n"), '
                                    "or {read: ..., write: ...}")
        return DEFAULT_TERMINATION, DEFAULT_TERMINATION

    def section(self, data: dict, section: str, needs: dict[str, Need],
                read: Callable[[str, Any, Need], Any]) -> dict[str, Any]:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            self.problem(section, "a mapping of name -> template")
            return {}
        for name, need in needs.items():
            if need.required and name not in entries:
                self.problem(f"{section}.{name}", f"missing: a {data['kind']} needs it")
        known = {}
        for name, value in entries.items():
            if name not in needs:
                self.problem(f"{section}.{name}", f"unknown name; a {data['kind']} has "
                                                  f"{', '.join(needs)}")
            else:
                known[name] = read(f"{section}.{name}", value, needs[name])
        return known

    def command(self, key: str, value: Any, need: Need) -> str:
        if not isinstance(value, str):
            self.problem(key, "a template string, e.g. \"SOUR:VOLT {voltage:.3f}\"")
            return ""
        self.template(key, value, need)
        return value

    def query(self, key: str, value: Any, need: Need) -> Query:
        if not isinstance(value, dict) or not isinstance(value.get("template"), str):
            self.problem(key, "a mapping {template: ..., parse: ...}")
            return Query("", "str")
        for extra in value.keys() - {"template", "parse"}:
            self.problem(f"{key}.{extra}", "unknown key; a query has template, parse")
        self.template(f"{key}.template", value["template"], need)
        parse = value.get("parse")
        if parse not in need.parses:
            self.problem(f"{key}.parse", f"{parse!r}: the driver reads this reply as "
                                         f"{' or '.join(need.parses)}")
        return Query(value["template"], parse)

    def template(self, key: str, template: str, need: Need) -> None:
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(template)
                      if field is not None]
        except ValueError as exc:
            self.problem(key, f"not a valid template: {exc}")
            return
        unknown = [field for field in fields if field not in need.fields]
        if unknown:
            allowed = ", ".join(f"{{{field}}}" for field in need.fields) or "no fields"
            self.problem(key, f"unknown field {', '.join(map(repr, unknown))}; it can use "
                              f"{allowed}")
            return
        try:
            template.format(**{field: FIELD_SAMPLES[field] for field in need.fields})
        except (ValueError, TypeError) as exc:
            self.problem(key, f"cannot be formatted: {exc}")
