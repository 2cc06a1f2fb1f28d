"""A Modbus meter seen as an EnergyMeter (the metering suites read its import energy)."""

from __future__ import annotations

from decimal import Decimal

from .client import ModbusClient

# A float32 register carries about 7 significant digits: kWh to 3 places up to 9999.999.
ENERGY_PLACES = Decimal("0.001")
SERIAL_NUMBER = "serial number"  # the register-map name of the meter's own number


class ModbusMeter:
    def __init__(self, client: ModbusClient) -> None:
        self.client = client
        self.energy = client.register_map.measuring("import energy")

    def forward_energy_kwh(self) -> Decimal:
        return Decimal(repr(self.client.read(self.energy.name))).quantize(ENERGY_PLACES)

    def meter_number(self) -> str:
        return str(self.client.read(SERIAL_NUMBER))

    def _no_relay(self) -> bool:
        # Register maps declare no relay, so suites that need one never select these meters.
        raise NotImplementedError(f"{self.client!r}: register map "
                                  f"{self.client.register_map.name} has no load relay")

    trip = close = relay_open = _no_relay
    closes_by_command = False
