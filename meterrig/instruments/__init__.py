"""Bench instruments through PyVISA: where (a VISA resource), how (a command map), what (a class).

The same drivers open a LAN instrument and a simulated one: the simulated bench serves SCPI on
loopback, so nothing here knows whether the bench is real.
"""

from __future__ import annotations

from .attenuator import Attenuator
from .button import ButtonActuator
from .command_map import CommandMap, CommandMapError, load_map
from .error_calculator import ErrorCalculator, RunStatus
from .noise_injector import NoiseInjector, NoiseSettings
from .reference import ReferenceReading, ReferenceStandard
from .security_unit import SecurityUnit
from .source import PowerSource
from .visa import InstrumentError, VisaInstrument

__all__ = [
    "Attenuator", "ButtonActuator", "CommandMap", "CommandMapError", "ErrorCalculator",
    "InstrumentError", "NoiseInjector", "NoiseSettings", "PowerSource", "ReferenceReading",
    "ReferenceStandard", "RunStatus", "SecurityUnit", "VisaInstrument", "load_map",
    "open_instrument",
]

DRIVER_CLASSES = {
    "source": PowerSource,
    "reference": ReferenceStandard,
    "error-calculator": ErrorCalculator,
    "noise-injector": NoiseInjector,
    "attenuator": Attenuator,
    "button": ButtonActuator,
    "security-unit": SecurityUnit,
}


def open_instrument(name: str, resource: str, driver: str,
                    timeout_ms: int) -> object:
    """Open `resource` with the command map `driver`; the map's kind picks the class."""
    command_map = load_map(driver)
    return DRIVER_CLASSES[command_map.kind](
        VisaInstrument.open(name, resource, command_map, timeout_ms))
