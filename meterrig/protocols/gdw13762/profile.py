"""Carrier module profiles (profiles.yaml, or a user's own file): edition, mode, waits.

Read by the one data-file reader (meterrig/datafile.py): every problem is FILE:LINE: KEY.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, RootModel

from ...datafile import DataFileError, Problem, Schema, looks_like_path, read
from .tables import tables

SHIPPED = Path(__file__).with_name("profiles.yaml")


class ProfileError(DataFileError):
    """A module profile file that does not describe a carrier module."""


class ModuleProfile(Schema):
    FILLED = ("name",)
    name: str = ""  # its key in the profiles file
    edition: Literal[tuple(tables()["editions"])]  # 2013 or 2009 (tables.yaml editions)
    mode: Literal[tuple(sorted(tables()["communication_modes"]))]  # C D5-D0 the rig writes
    # Until 03 F10 gives the module's own; 03 F10 carries it in one byte.
    monitor_timeout_s: float = Field(gt=0, le=255, strict=False,
                                     description="seconds, 0 < s <= 255 (03 F10 carries one "
                                                 "byte)")


class _ProfilesFile(RootModel[dict[str, ModuleProfile]]):
    model_config = ConfigDict(strict=True)
    root: dict[str, ModuleProfile] = Field(
        min_length=1, description="a mapping of profile name -> edition, mode, "
                                  "monitor_timeout_s")


def load_profiles(path: Path) -> dict[str, ModuleProfile]:
    found = read(path, _ProfilesFile, what="module profile file", error=ProfileError).root
    return {name: body.model_copy(update={"name": name}) for name, body in found.items()}


@cache
def profiles() -> dict[str, ModuleProfile]:
    return load_profiles(SHIPPED)


def profile_file(path: str | Path) -> ModuleProfile:
    path = Path(path)
    if not path.is_file():
        raise ProfileError(path, [Problem("", None, "no such module profile file")])
    found = load_profiles(path)
    if len(found) != 1:
        raise ProfileError(path, [Problem("", None, f"holds {len(found)} profiles; a module's "
                                          "own profile file holds exactly one")])
    return next(iter(found.values()))


def profile(name: str) -> ModuleProfile:
    if looks_like_path(name):
        return profile_file(name)
    try:
        return profiles()[name]
    except KeyError:
        raise KeyError(f"no module profile {name!r}; known: {', '.join(profiles())} (or give "
                       "the path of your own profile file)") from None
