"""The programmable attenuator in the line between the carrier module and the meters."""

from __future__ import annotations

import math

import attrs

from .visa import InstrumentError, VisaInstrument

# An attenuation this close to a step counts as on it (float text from the caller).
STEP_TOLERANCE = 1e-6


@attrs.define
class Attenuator:
    io: VisaInstrument

    @property
    def range_db(self) -> tuple[float, float, float]:
        """(min, max, step) in dB, from the model's map."""
        s = self.io.command_map.settings
        return s["min_db"], s["max_db"], s["step_db"]

    def set(self, attenuation_db: float) -> None:
        """Set the attenuation; one the model cannot set is refused, not rounded."""
        low, high, step = self.range_db
        steps = (attenuation_db - low) / step
        if not low <= attenuation_db <= high or abs(steps - round(steps)) > STEP_TOLERANCE:
            raise InstrumentError(f"{self.io.label}: {attenuation_db:g} dB: it sets {low:g} to "
                                  f"{high:g} dB in steps of {step:g} dB")
        self.io.write("attenuation", attenuation_db=float(attenuation_db))

    def attenuation_db(self) -> float:
        value = float(self.io.query("attenuation"))
        if not math.isfinite(value):
            raise InstrumentError(f"{self.io.label}: attenuation read back as {value}")
        return value

    def close(self) -> None:
        self.io.close()
