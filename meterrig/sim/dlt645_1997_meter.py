"""A simulated DL/T 645-1997 meter: the 2007 meter's bus behaviour, addressing and defects, with
the 1997 read (C=01, reply 81, abnormal C1) of the 1997 catalogue's items."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..protocols.dlt645 import v1997
from ..protocols.dlt645.commands import di_bytes
from ..protocols.dlt645.frame import Frame
from .dlt645_meter import ERR_NO_DATA, ERR_OTHER, Refused, SimulatedDlt645Meter, _decimal


@attrs.frozen
class Read1997:
    di: int


class SimulatedDlt645v1997Meter(SimulatedDlt645Meter):
    # The notes give no 1997 error-byte bits; the meter sets the 2007 ones, and the suites judge
    # only that a refusal is an abnormal reply.
    def _parse(self, frame: Frame) -> object:
        if frame.function == v1997.Function1997.READ and len(frame.data) == v1997.DI_LENGTH:
            return Read1997(int.from_bytes(frame.data, "little"))
        raise Refused(ERR_OTHER)  # the rest of the 1997 command set is not simulated

    def _serve(self, request: Read1997) -> tuple[bytes, bool]:
        if request.di not in v1997.CATALOGUE:
            raise Refused(ERR_NO_DATA)
        item = v1997.CATALOGUE[request.di]
        places = len(item.format.partition(".")[2])
        return di_bytes(request.di, v1997.DI_LENGTH) + item.encode(
            _decimal(self._values_1997()[request.di], places)), False

    def _values_1997(self) -> dict[int, float | Decimal]:
        """The catalogue's items from the bench physics; unsigned, as the catalogue declares
        them (the notes give no sign bit), so power and power factor are magnitudes."""
        registers = self.physics.registers(self.position)
        readings = self.physics.readings(self.position)
        return {
            0x9010: registers.forward_kwh * self.profile.phases,
            0xB611: readings.voltage,
            0xB621: readings.current,
            0xB630: abs(readings.active_power_w) / 1000 * self.profile.phases,
            0xB650: abs(readings.power_factor),
        }
