"""A relay actuator that presses a meter's button: the customer's close after close allowed."""

from __future__ import annotations

import attrs

from .visa import VisaInstrument

HOLD_S = 3.0  # notes: the button held >= 3 s on most meters (relay control 1B)


@attrs.define
class ButtonActuator:
    io: VisaInstrument

    def press(self, position: int, hold_s: float = HOLD_S) -> None:
        """Hold the button of the meter at `position` for `hold_s` seconds."""
        self.io.write("press", channel=position, hold_s=hold_s)

    def close(self) -> None:
        self.io.close()
