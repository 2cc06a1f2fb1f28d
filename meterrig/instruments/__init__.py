"""Bench instruments through PyVISA: where (a VISA resource), how (a command map), what (a class).

The same drivers open a LAN instrument and a simulated one: the simulated bench serves SCPI on
loopback, so nothing here knows whether the bench is real.
"""

from __future__ import annotations

from .attenuator import Attenuator
from .command_map import CommandMap, CommandMapError, load_map
from .error_calculator import ErrorCalculator, RunStatus
from .noise_injector import NoiseInjector, NoiseSettings
from .reference import ReferenceReading, ReferenceStandard
from .source import PowerSource
from .visa import InstrumentError, VisaInstrument

__all__ = [
    "Attenuator", "CommandMap", "CommandMapError", "ErrorCalculator", "InstrumentError",
    "NoiseInjector", "NoiseSettings", "PowerSource",
    "ReferenceReading", "ReferenceStandard", "RunStatus", "VisaInstrument", "load_map",
    "open_instrument",
]

DRIVER_CLASSES = {
    "source": PowerSource,
    "reference": ReferenceStandard,
    "error-calculator": ErrorCalculator,
    "noise-injector": NoiseInjector,
    "attenuator": Attenuator,
}


def open_instrument(name: str, resource: str, driver: str,
                    timeout_ms: int) -> (PowerSource | ReferenceStandard | ErrorCalculator
                                         | NoiseInjector | Attenuator):
    """Open `resource` with the command map `driver`; the map's kind picks the class."""
    command_map = load_map(driver)
    return DRIVER_CLASSES[command_map.kind](
        VisaInstrument.open(name, resource, command_map, timeout_ms))
