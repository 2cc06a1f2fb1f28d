"""Carrier module profiles (profiles.yaml, or a user's own file): edition, mode, waits."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import attrs

from ...yamllines import DataFileError, LinedFile, looks_like_path
from .tables import tables

SHIPPED = Path(__file__).with_name("profiles.yaml")
FIELDS = ("edition", "mode", "monitor_timeout_s")


@attrs.frozen
class ModuleProfile:
    name: str
    edition: int  # 2013 or 2009 (tables.yaml editions)
    mode: int  # C D5-D0 the rig writes
    monitor_timeout_s: float  # until 03 F10 gives the module's own


def _check(file: LinedFile, name: str, body: Any, problems: list[str]) -> ModuleProfile | None:
    if not isinstance(body, dict):
        problems.append(f"{file.where((name,))}: a mapping of {', '.join(FIELDS)}")
        return None
    for key in set(body) - set(FIELDS):
        problems.append(f"{file.where((name, key))}: unknown key; known: {', '.join(FIELDS)}")
    checks = {"edition": lambda v: v in tables()["editions"],
              "mode": lambda v: v in tables()["communication_modes"],
              "monitor_timeout_s": lambda v: isinstance(v, int | float) and 0 < v <= 255}
    wanted = {"edition": f"one of {tables()['editions']}",
              "mode": f"one of {sorted(tables()['communication_modes'])}",
              "monitor_timeout_s": "seconds, 0 < s <= 255 (03 F10 carries one byte)"}
    bad = False
    for key, check in checks.items():
        if key not in body or isinstance(body[key], bool) or not check(body[key]):
            problems.append(f"{file.where((name, key))}: {body.get(key)!r}, expected "
                            f"{wanted[key]}")
            bad = True
    return None if bad else ModuleProfile(name, **{k: body[k] for k in FIELDS})


def load_profiles(path: Path) -> dict[str, ModuleProfile]:
    file = LinedFile(path)
    if not isinstance(file.data, dict):
        raise DataFileError([f"{path}: a mapping of profile name -> fields"])
    problems: list[str] = []
    found = {name: _check(file, str(name), body, problems) for name, body in file.data.items()}
    if problems:
        raise DataFileError(problems)
    return found


@cache
def profiles() -> dict[str, ModuleProfile]:
    return load_profiles(SHIPPED)


def profile_file(path: str | Path) -> ModuleProfile:
    found = load_profiles(Path(path))
    if len(found) != 1:
        raise DataFileError([f"{path}: holds {len(found)} profiles; a module's own profile "
                             "file holds exactly one"])
    return next(iter(found.values()))


def profile(name: str) -> ModuleProfile:
    if looks_like_path(name):
        return profile_file(name)
    try:
        return profiles()[name]
    except KeyError:
        raise KeyError(f"no module profile {name!r}; known: {', '.join(profiles())} (or give "
                       "the path of your own profile file)") from None
