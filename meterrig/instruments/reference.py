"""The reference standard: what the bench really delivered, against which meters are judged."""

from __future__ import annotations

import attrs

from .visa import InstrumentError, VisaInstrument


@attrs.frozen
class ReferenceReading:
    voltage: float
    current: float
    active_power_w: float
    power_factor: float
    frequency: float

    @classmethod
    def from_values(cls, io: VisaInstrument, values: tuple[float, ...]) -> ReferenceReading:
        """The five values of a `measure` reply, in the order of this class's fields."""
        expected = len(attrs.fields(cls))
        if len(values) != expected:
            raise InstrumentError(f"{io.label}: measure gave {len(values)} values, not {expected} "
                                  "(voltage, current, active power W, power factor, frequency)")
        return cls(*values)


@attrs.define
class ReferenceStandard:
    io: VisaInstrument

    def measure(self) -> ReferenceReading:
        return ReferenceReading.from_values(self.io, self.io.query("measure"))

    def constant(self) -> float:
        """Reference pulse constant, imp/kWh."""
        return float(self.io.query("constant"))

    def accuracy_class(self) -> str:
        return self.io.query("accuracy_class")

    def energy_kwh(self) -> float:
        """Energy integrated since the last reset_energy()."""
        return self.io.query("energy")

    def reset_energy(self) -> None:
        self.io.write("reset_energy")

    def close(self) -> None:
        self.io.close()
