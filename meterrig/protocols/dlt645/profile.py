"""Meter profiles: what a DL/T 645 meter model declares it answers (data, see profiles.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import attrs
import yaml

from .catalogue import CATALOGUE
from .commands import DI_LENGTH

FORWARD_TARIFF_BLOCK = 0x0001FF00  # total + one element a tariff
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

    @property
    def closes_directly(self) -> bool:
        """Whether the rig can close the relay by command (1C), not only the customer (1B)."""
        return "direct" in self.relay_close

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
            relay_close=_relay_close(name, body),
            trip_delay_s=float(body.get("trip_delay_s", 0)),
            max_reply_data=body["max_reply_data"],
            data_items=tuple(int(di, 16) for di in body["data_items"]),
            writable={int(di, 16): level for di, level in body["writable"].items()},
        )
        for name, body in yaml.safe_load(text).items()
    }


def _relay_close(name: str, body: dict) -> tuple[str, ...]:
    """A model with a relay must say how it closes; the modes are checked here."""
    if not body["relay"]:
        return ()
    modes = tuple(body.get("relay_close") or ())
    if not modes or set(modes) - set(RELAY_CLOSE_MODES) or "trip_delay_s" not in body:
        raise ValueError(f"profiles.yaml: {name}: a relay needs relay_close (one or both of "
                         f"{', '.join(RELAY_CLOSE_MODES)}) and trip_delay_s, got "
                         f"relay_close={list(modes)}")
    return modes


def profile(name: str) -> MeterProfile:
    try:
        return profiles()[name]
    except KeyError:
        raise KeyError(f"no meter profile {name!r}; known: {', '.join(profiles())}") from None
