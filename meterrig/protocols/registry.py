"""The protocols a position can speak, by name: each package registers one ProtocolSpec.

Config, rig, CLI, simulated bench, fixtures and reporting ask here instead of keeping their own
tables keyed by protocol name. A spec names what it brings as "module:attribute" references,
imported when first used: a spec module stays light (config reads it), and the master, the
simulated device and the timing rules load only when a rig uses them.

Adding a protocol: its package gets a spec module that calls `register`, and PACKAGES one line.
A package kept elsewhere (a test's toy protocol) is named in the METERRIG_PROTOCOLS environment
variable (module names, comma-separated), so the simulated bench's own process sees it too.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import attrs

# The spec module of each shipped protocol package, one line per package.
PACKAGES = (
    "meterrig.protocols.dlt645.spec",
    "meterrig.protocols.modbus.spec",
    "meterrig.protocols.gdw13762.spec",
)
EXTRA_PACKAGES_VARIABLE = "METERRIG_PROTOCOLS"

# What a position can need of its meter (pytest marker `needs`): metering is having an
# EnergyMeter adapter, password is the rig file's; the others a spec declares per position.
# meter-number: the meter reports its own number (the line checks it against the scanned
# serial); meter-number-write: a master may write it with a password.
FEATURES = ("metering", "relay", "password", "follow-up", "prepaid", "meter-number",
            "meter-number-write")


def resolve(reference: str) -> Any:
    """The object a "module:attribute" reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@attrs.frozen
class AddressKind:
    """What a meter's address is in this protocol, for the rig file and for silence checks."""

    expected: str  # for messages: "12 decimal digits, as on the nameplate"
    parse: Callable[[Any], Any]  # the address as the master uses it; ValueError if not one
    # An address no device in `taken` has, near `address` (a silence check's target).
    foreign: Callable[[Any, frozenset], Any]


@attrs.frozen
class ProtocolSpec:
    """One protocol: every reference is "module:attribute", resolved when used."""

    name: str  # as the rig file writes it (positions[].protocol) and markers name it
    address: AddressKind
    clauses: str  # the mapping clause key -> spec clause text its suites cite
    # Profiles (or register maps): what the rig file's `profile:` names.
    profile_word: str  # "meter profile", "register map": for messages
    default_profile: str
    profile_names: str  # () -> the shipped names
    profile_file: str  # (path) -> the user's own file, read; ValueError names FILE:LINE
    profile: str  # (name or path) -> the declaration
    master: str  # (link, position, bus) -> the master for one position
    reader: str  # (position, item) -> (master -> text): `meterrig read`; ValueError/KeyError
    # (exchange) -> [TimingFigure]: what every answered exchange is judged by; None: the sources
    # give this protocol no timing, so none is judged.
    exchange_timing: str | None
    receiver: str  # () -> the simulated bus's receiver for this framing
    simulated_device: str  # (bench, position) -> the simulated device
    meter: str | None = None  # (rig, position) -> EnergyMeter; None: not for the metering suites
    # Feature -> (position) -> bool, for the features a spec decides (relay, follow-up).
    features: Mapping[str, str] = attrs.Factory(dict)
    # Fixture name -> (position) -> [(value, id)]: the parameters a suite test takes per position.
    per_position: Mapping[str, str] = attrs.Factory(dict)
    # (carrier master, inner position) -> a link-like tunnel the inner position's master runs
    # on; None: this protocol cannot carry another's frames, so no position can say `via:` it.
    relay: str | None = None
    # (map name or None) -> (wire, previous) -> Decoded | None: `meterrig decode`
    # (meterrig/decoding.py); None: its frames are not decoded there.
    decoder: str | None = None
    # (baudrate) -> seconds: the longest silence its sources allow inside a frame (a fault that
    # splits a frame exceeds it, meterrig/faults.py); None: its sources give none.
    inter_character_limit: str | None = None
    # (position) -> (master -> datetime): the meter's clock, read; LookupError saying why when
    # the position's profile or map declares none. None: the protocol's meters have no clock.
    clock: str | None = None
    # (position) -> (master -> str): the maker's software (firmware) version, read from the
    # meter; LookupError saying why when its profile or map declares none. None: the
    # protocol's meters have none to read.
    firmware: str | None = None
    # (position) -> [item]: the reader's items (`reader`) whose values nothing on the bench
    # moves (the source, a relay, the time): the meter's settings. None: none declared.
    settings: str | None = None

    def load(self, field: str) -> Any:
        reference = getattr(self, field)
        if reference is None:
            raise LookupError(f"protocol {self.name} has no {field}")
        return _resolved(reference)

    def offers(self, feature: str, position: Any) -> bool:
        """Whether a position of this protocol has a feature (see FEATURES)."""
        if feature == "metering":
            return self.meter is not None
        if feature == "password":
            return position.password is not None
        return feature in self.features and bool(_resolved(self.features[feature])(position))


@cache
def _resolved(reference: str) -> Any:
    return resolve(reference)


_SPECS: dict[str, ProtocolSpec] = {}


def register(spec: ProtocolSpec) -> ProtocolSpec:
    """Add a protocol; a second spec under a taken name is refused (it would shadow the first)."""
    if _SPECS.get(spec.name, spec) != spec:
        raise ValueError(f"protocol {spec.name!r} is already registered")
    _SPECS[spec.name] = spec
    return spec


@cache
def _load_packages(extra: str) -> None:
    for module in (*PACKAGES, *filter(None, (m.strip() for m in extra.split(",")))):
        importlib.import_module(module)


def specs() -> Mapping[str, ProtocolSpec]:
    """Every registered protocol, by name, in registration order."""
    _load_packages(os.environ.get(EXTRA_PACKAGES_VARIABLE, ""))
    return _SPECS


def names() -> tuple[str, ...]:
    return tuple(specs())


def get(name: str) -> ProtocolSpec:
    try:
        return specs()[name]
    except KeyError:
        raise KeyError(f"no protocol {name!r}; registered: {', '.join(specs())}") from None
