"""Meter profiles: what a DL/T 645 meter model declares it answers (data, see profiles.yaml).

The shipped profiles and a user's own profile file (same schema, one profile) are read and
checked by the same loader; every problem is reported as FILE:LINE: KEY: what is wrong.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BeforeValidator, ConfigDict, Field, RootModel, model_validator

from ...datafile import (
    DataFileError,
    Problem,
    Schema,
    looks_like_path,
    read,
    refused,
    settle,
    show,
)
from .catalogue import CATALOGUE, format_di
from .commands import DI_LENGTH, PASSWORD_LEVEL_MAX
from .frame import LIMITS
from .prepaid import PrepaidProfile

TARIFFS_MAX: int = LIMITS["tariffs"]["max"]
REPLY_DATA_MAX: int = LIMITS["frame"]["data_length_max"]["reply"]
PHASES = (1, 3)  # single-phase, three-phase four-wire
# How a model's relay closes (N1 of control code 1C): "direct" 1C closes it at once (State Grid
# amendment); "allowed" 1B only permits the customer to close it with the button.
RELAY_CLOSE_MODES = ("direct", "allowed")


DataIdentifier = Annotated[int, BeforeValidator(lambda value: _di(value))]


def _di(value: Any) -> int:
    """A data identifier as a profile writes it: 8 hex digits, in the catalogue."""
    try:
        di = int(value, 16) if isinstance(value, str) and len(value) == 8 else None
    except ValueError:
        di = None
    if di is None:
        raise refused(f"{show(value)} is not a data identifier; expected 8 hex digits in "
                      'quotes, e.g. "02010100"')
    if di not in CATALOGUE:
        raise refused(f"DI {format_di(di)} is not in the DL/T 645-2007 catalogue "
                      "(meterrig/protocols/dlt645/catalogue.yaml)")
    return di


class MeterProfile(Schema):
    FILLED = ("name",)
    name: str = ""  # its key in the profiles file
    description: Annotated[str, Field(min_length=1)]
    tariffs: int = Field(ge=1, le=TARIFFS_MAX)
    relay: bool
    relay_level: int = Field(ge=0, le=PASSWORD_LEVEL_MAX)
    # RELAY_CLOSE_MODES the model supports; () without a relay
    relay_close: tuple[Literal[RELAY_CLOSE_MODES], ...] = Field(
        (), strict=False, min_length=1,
        description="a list of one or both of " + ", ".join(RELAY_CLOSE_MODES))
    # Longest a model takes from an acknowledged trip to an open relay.
    trip_delay_s: float = Field(0.0, ge=0, description="a number of seconds, 0 or more")
    max_reply_data: int = Field(ge=DI_LENGTH + 1, le=REPLY_DATA_MAX)
    data_items: tuple[DataIdentifier, ...] = Field(
        strict=False, min_length=1,
        description="a list of data identifiers (8 hex digits, in quotes)")
    # DI -> highest password level allowed to write it
    writable: dict[DataIdentifier, Annotated[int, Ge(0), Le(PASSWORD_LEVEL_MAX)]] = Field(
        description="a mapping of data identifier to password level")
    # Measuring elements the meter reports per phase items for.
    phases: Literal[PHASES] = 1
    # A prepaid (cost-control) model's mode and where it shows its credit states.
    prepaid: PrepaidProfile | None = None

    @model_validator(mode="after")
    def _relay(self) -> MeterProfile:
        if not self.relay:
            settle(self, relay_close=())
        for key in ("relay_close", "trip_delay_s") if self.relay else ():
            if key not in self.model_fields_set:
                raise refused(f"missing key {key!r}: a model with a relay must declare it "
                              f"({type(self).model_fields[key].description})")
        return self

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


class _ProfilesFile(RootModel[dict[str, MeterProfile]]):
    model_config = ConfigDict(strict=True)
    root: dict[str, MeterProfile] = Field(
        min_length=1, description="a mapping of a profile name to its keys (see "
                                  "meterrig/protocols/dlt645/profiles.yaml)")


def load_profiles(path: Path, text: str | None = None) -> dict[str, MeterProfile]:
    """Every profile of a profiles file; ProfileError lists every problem as FILE:LINE."""
    found = read(path, _ProfilesFile, what="profile file", error=ProfileError, text=text).root
    return {name: body.model_copy(update={"name": name}) for name, body in found.items()}


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
        raise ProfileError(path, [Problem("", None, "no such profile file")])
    found = load_profiles(path)
    if len(found) != 1:
        raise ProfileError(path, [Problem("", None, f"holds {len(found)} profiles "
                                          f"({', '.join(found)}); a meter's own profile file "
                                          "holds exactly one")])
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
