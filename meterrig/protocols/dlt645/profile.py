"""Meter profiles: what a DL/T 645 meter model declares it answers (data, see profiles.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import attrs
import yaml

from .catalogue import CATALOGUE
from .commands import DI_LENGTH

FORWARD_TARIFF_BLOCK = 0x0001FF00  # total + one element a tariff


@attrs.frozen
class MeterProfile:
    name: str
    description: str
    tariffs: int
    relay: bool
    relay_level: int
    max_reply_data: int
    data_items: tuple[int, ...]
    writable: dict[int, int]  # DI -> highest password level allowed to write it

    def value_length(self, item_length: int, di: int) -> int:
        """Bytes of a value; the tariff block has one 4-byte element per tariff plus the total."""
        return item_length * (self.tariffs + 1) if di == FORWARD_TARIFF_BLOCK else item_length

    @property
    def long_items(self) -> tuple[int, ...]:
        """The data identifiers whose value does not fit one reply: read with follow-ups."""
        return tuple(di for di in self.data_items
                     if DI_LENGTH + self.value_length(CATALOGUE[di].length, di)
                     > self.max_reply_data)


@cache
def profiles() -> dict[str, MeterProfile]:
    text = resources.files(__package__).joinpath("profiles.yaml").read_text()
    return {
        name: MeterProfile(
            name=name,
            description=body["description"],
            tariffs=body["tariffs"],
            relay=body["relay"],
            relay_level=body["relay_level"],
            max_reply_data=body["max_reply_data"],
            data_items=tuple(int(di, 16) for di in body["data_items"]),
            writable={int(di, 16): level for di, level in body["writable"].items()},
        )
        for name, body in yaml.safe_load(text).items()
    }


def profile(name: str) -> MeterProfile:
    try:
        return profiles()[name]
    except KeyError:
        raise KeyError(f"no meter profile {name!r}; known: {', '.join(profiles())}") from None
