"""The 1376.2 spec tables (tables.yaml, each with its source in the notes) as lookups."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

EDITION_2013 = 2013
EDITION_2009 = 2009


@cache
def tables() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("tables.yaml").read_text())


def _named(table: str, code: int) -> str:
    return tables()[table].get(code, f"{code} (not in the notes)")


def afn_name(afn: int) -> str:
    return tables()["afn"].get(afn, f"AFN {afn:02X} (not in the notes)")


def function_name(key: str) -> str | None:
    """'13 F1' -> 'monitor slave node'; None when the notes do not list it."""
    return tables()["functions"].get(key)


def deny_reason(code: int) -> str:
    return _named("deny_codes", code)


def protocol_name(code: int) -> str:
    return _named("protocols", code)


def mode_name(mode: int) -> str:
    return _named("communication_modes", mode)


def read_flag_name(flag: int) -> str:
    return _named("read_flags", flag)


def has_uplink_duration(key: str, edition: int) -> bool:
    """Whether this uplink's data unit leads with the 2-byte uplink duration in `edition`."""
    return edition != EDITION_2009 or key not in tables()["uplink_duration_since_2013"]
