"""Meter profiles: what a DL/T 645 meter model declares it answers (data, see profiles.yaml).

The shipped profiles and a user's own profile file (same schema, one profile) are read and
checked by the same loader; every problem is reported as FILE:LINE: KEY: what is wrong.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ...yamllines import DataFileError, LinedFile, looks_like_path
from .catalogue import CATALOGUE, format_di
from .commands import DI_LENGTH, PASSWORD_LEVEL_MAX
from .frame import LIMITS
from .prepaid import PrepaidProfile
from .prepaid import parse as parse_prepaid

TARIFFS_MAX: int = LIMITS["tariffs"]["max"]
REPLY_DATA_MAX: int = LIMITS["frame"]["data_length_max"]["reply"]
PHASES = (1, 3)  # single-phase, three-phase four-wire
# How a model's relay closes (N1 of control code 1C): "direct" 1C closes it at once (State Grid
# amendment); "allowed" 1B only permits the customer to close it with the button.
RELAY_CLOSE_MODES = ("direct", "allowed")


@attrs.frozen
class MeterProfile:
    name: str
    description: str
    tariffs: int
    relay: bool
    relay_level: int
    relay_close: tuple[str, ...]  # RELAY_CLOSE_MODES the model supports; () without a relay
    trip_delay_s: float  # longest a model takes from an acknowledged trip to an open relay
    max_reply_data: int
    data_items: tuple[int, ...]
    writable: dict[int, int]  # DI -> highest password level allowed to write it
    phases: int = 1  # measuring elements the meter reports per phase items for (1 or 3)
    prepaid: PrepaidProfile | None = None  # a prepaid (cost-control) model's mode and states

    @property
    def closes_directly(self) -> bool:
        """Whether the rig can close the relay by command (1C), not only the customer (1B)."""
        return "direct" in self.relay_close

    def value_length(self, item_length: int, di: int) -> int:
        """Bytes of a value: a block has one element per sibling, a tariff block one per
        tariff of this meter plus the total."""
        item = CATALOGUE[di]
        if item.block_axis == "tariff":
            return item_length * (self.tariffs + 1)
        return item_length * (item.block or 1)

    @property
    def long_items(self) -> tuple[int, ...]:
        """The data identifiers whose value does not fit one reply: read with follow-ups."""
        return tuple(di for di in self.data_items
                     if DI_LENGTH + self.value_length(CATALOGUE[di].length, di)
                     > self.max_reply_data)


class ProfileError(DataFileError):
    """A profile file that does not describe a meter model."""


# Each key of a profile: what it allows, and how its value is checked (None if it is fine).
def _integer(low: int, high: int) -> Any:
    return (f"an integer from {low} to {high}",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high)


_KEYS: dict[str, tuple[str, Any]] = {
    "description": ("text", lambda v: isinstance(v, str) and bool(v.strip())),
    "tariffs": _integer(1, TARIFFS_MAX),
    "relay": ("true or false", lambda v: isinstance(v, bool)),
    "relay_level": _integer(0, PASSWORD_LEVEL_MAX),
    "max_reply_data": _integer(DI_LENGTH + 1, REPLY_DATA_MAX),
    "relay_close": ("a list of one or both of " + ", ".join(RELAY_CLOSE_MODES),
                    lambda v: isinstance(v, list) and bool(v)
                    and set(v) <= set(RELAY_CLOSE_MODES)),
    "trip_delay_s": ("a number of seconds, 0 or more",
                     lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0),
    "phases": ("one of " + ", ".join(map(str, PHASES)), lambda v: v in PHASES),
    "data_items": ("a list of data identifiers (8 hex digits, in quotes)",
                   lambda v: isinstance(v, list) and bool(v)),
    "writable": ("a mapping of data identifier to password level",
                 lambda v: isinstance(v, dict)),
    "prepaid": ("a mapping (see meterrig/protocols/dlt645/prepaid.py)", lambda v: True),
}
_OPTIONAL = {"phases", "relay_close", "trip_delay_s", "prepaid"}
_WITH_RELAY = ("relay_close", "trip_delay_s")  # required of a model that has a relay
# converted, not as written
_BUILT = ("data_items", "writable", "relay_close", "trip_delay_s", "prepaid")


def _di(value: Any) -> int | None:
    if not isinstance(value, str) or len(value) != 8:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def _check_di(file: LinedFile, key: tuple, value: Any, problems: list[str]) -> int | None:
    di = _di(value)
    if di is None:
        problems.append(f"{file.where(key)}: {value!r} is not a data identifier; expected "
                        "8 hex digits in quotes, e.g. \"02010100\"")
    elif di not in CATALOGUE:
        problems.append(f"{file.where(key)}: DI {format_di(di)} is not in the DL/T 645-2007 "
                        "catalogue (meterrig/protocols/dlt645/catalogue.yaml)")
        return None
    return di


def _profile(file: LinedFile, name: str, body: Any, problems: list[str]) -> MeterProfile | None:
    at = (name,)
    if not isinstance(body, dict):
        problems.append(f"{file.where(at)}: a profile is a mapping with keys "
                        + ", ".join(_KEYS))
        return None
    before = len(problems)
    # A MeterProfile field without a check in _KEYS is still allowed (taken as written).
    allowed = [*_KEYS, *(f.name for f in attrs.fields(MeterProfile)
                         if f.name not in _KEYS and f.name not in ("name", *_BUILT))]
    for key in body:
        if key not in allowed:
            problems.append(f"{file.where((*at, key))}: unknown key {key!r}; allowed: "
                            + ", ".join(allowed))
    for key, (expected, ok) in _KEYS.items():
        if key not in body:
            if key not in _OPTIONAL:
                problems.append(f"{file.where(at)}: missing key {key!r}: expected {expected}")
        elif not ok(body[key]):
            problems.append(f"{file.where((*at, key))}: got {body[key]!r}; expected {expected}")
    if body.get("relay") is True:
        for key in _WITH_RELAY:
            if key not in body:
                problems.append(f"{file.where(at)}: missing key {key!r}: a model with a relay "
                                f"must declare it ({_KEYS[key][0]})")
    items = body.get("data_items") if isinstance(body.get("data_items"), list) else []
    data_items = tuple(_check_di(file, (*at, "data_items", i), v, problems)
                       for i, v in enumerate(items))
    writable = {}
    for di_text, level in (body.get("writable") or {}).items() \
            if isinstance(body.get("writable"), dict) else ():
        di = _check_di(file, (*at, "writable", di_text), di_text, problems)
        if not (isinstance(level, int) and 0 <= level <= PASSWORD_LEVEL_MAX):
            problems.append(f"{file.where((*at, 'writable', di_text))}: password level "
                            f"{level!r}; expected an integer from 0 to {PASSWORD_LEVEL_MAX}")
        writable[di] = level
    prepaid = parse_prepaid(lambda keys: file.where((*at, "prepaid", *keys)), body["prepaid"],
                            problems) if "prepaid" in body else None
    if len(problems) > before:
        return None
    return MeterProfile(name=name, data_items=data_items, writable=writable, prepaid=prepaid,
                        relay_close=tuple(body.get("relay_close") or ()) if body["relay"] else (),
                        trip_delay_s=float(body.get("trip_delay_s", 0)),
                        **{k: v for k, v in body.items() if k not in _BUILT})


def load_profiles(path: Path, text: str | None = None) -> dict[str, MeterProfile]:
    """Every profile of a profiles file; ProfileError lists every problem as FILE:LINE."""
    try:
        file = LinedFile(path, text)
    except DataFileError as error:
        raise ProfileError(error.problems) from None
    if not isinstance(file.data, dict) or not file.data:
        raise ProfileError([f"{file.where(())}: a profile file is a mapping of a profile name "
                            "to its keys (see meterrig/protocols/dlt645/profiles.yaml)"])
    problems: list[str] = []
    result = {str(name): _profile(file, str(name), body, problems)
              for name, body in file.data.items()}
    if problems:
        raise ProfileError(problems)
    return result


@cache
def profiles() -> dict[str, MeterProfile]:
    """The shipped profiles, by name."""
    shipped = resources.files(__package__).joinpath("profiles.yaml")
    return load_profiles(Path(str(shipped)), shipped.read_text(encoding="utf-8"))


@cache
def profile_file(path: str | Path) -> MeterProfile:
    """A user's own profile file: the same schema as profiles.yaml, one profile."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError([f"{path}: no such profile file"])
    found = load_profiles(path)
    if len(found) != 1:
        raise ProfileError([f"{path}: holds {len(found)} profiles ({', '.join(found)}); "
                            "a meter's own profile file holds exactly one"])
    return next(iter(found.values()))


def profile(name: str) -> MeterProfile:
    """A shipped profile by name, or a profile file by path."""
    if looks_like_path(name):
        return profile_file(name)
    try:
        return profiles()[name]
    except KeyError:
        raise KeyError(f"no meter profile {name!r}; known: {', '.join(profiles())} (or give "
                       "the path of your own profile file)") from None
