"""The calibration gate: an instrument past its calibration due date (`calibration_due` in the
rig file) makes every figure it takes unfit for a certificate, so a run is refused unless the
override is given, and then the override is recorded with the run."""

from __future__ import annotations

from datetime import date

import attrs

from .config import RigConfig

OVERRIDE = "--allow-expired-calibration"


@attrs.frozen
class Expired:
    instrument: str
    due: date

    def __str__(self) -> str:
        return f"{self.instrument}: calibration due {self.due.isoformat()}"


def expired(config: RigConfig, today: date) -> list[Expired]:
    """The rig's instruments whose calibration due date is before `today`."""
    return [Expired(name, i.calibration_due) for name, i in config.instruments.items()
            if i.calibration_due is not None and i.calibration_due < today]


def refusal(config: RigConfig, found: list[Expired]) -> str:
    """The one message that refuses the run."""
    listed = "; ".join(f"instrument {e.instrument!r} was due for calibration on "
                       f"{e.due.isoformat()}" for e in found)
    return (f"{config.path}: {listed}. Its measurements cannot be trusted: have it calibrated "
            f"and update instruments.NAME.calibration_due, or run with {OVERRIDE} (recorded "
            "in the run)")
