"""How a meter reacts when the rig spoils its request on purpose (meterrig/faults.py), for each
protocol on the rig: a bit flipped, the frame cut short, garbage before, inside or after it, a
silence inside it longer than its protocol allows, two frames back to back, a noise burst before
it, the wrong baud rate or parity.

A spoilt frame must get silence; a frame left whole beside the noise may be answered or not.
Either way the rig must not be fooled: the energy read through the fault (retried once, clean)
lies between the clean reads before and after it, or the read is reported as failed."""

from __future__ import annotations

import pytest

from meterrig import faults
from meterrig.link.serial_link import FaultNotApplied
from meterrig.meter import MeterError

pytestmark = [pytest.mark.one_per_protocol, pytest.mark.needs("metering")]

SILENT, ANSWERED, GARBLED = "silence", "a reply", "a reply that is no frame"


def _reaction(transaction) -> str:
    first = transaction.exchanges[0]
    if not first.answered:
        return SILENT
    return ANSWERED if len(transaction.exchanges) == 1 else GARBLED


@pytest.mark.clause("robustness")
@pytest.mark.parametrize("kind", faults.KINDS)
@pytest.mark.measures("reaction_to_fault", "energy_read_through_fault")
def test_fault_reaction(rig, position, kind, verify):
    bus = rig.config.buses[position.bus]
    fault = faults.catalogue(position.protocol, bus.baudrate, bus.parity)[kind]
    if fault is None:
        pytest.skip(f"{position.protocol}: its sources give no longest silence inside a frame, "
                    "so no split can be said to exceed it")
    meter, master = rig.meter(position.number), rig.client(position.number).master
    before = meter.forward_energy_kwh()
    seen: list = []
    master.observers.append(seen.append)
    try:
        with master.inject(fault):
            value = meter.forward_energy_kwh()
    except FaultNotApplied as exc:
        pytest.skip(str(exc))
    except (MeterError, *master.codec.check_errors) as exc:  # reported, not accepted
        value = None
        reported = f"{type(exc).__name__}: {exc}"
    finally:
        master.observers.remove(seen.append)
    after = meter.forward_energy_kwh()
    reaction = _reaction(seen[0])
    allowed = (SILENT,) if fault.spoils_frame else (SILENT, ANSWERED)
    verify.equal(f"reaction to a request with {fault}", reaction in allowed, True, "robustness",
                 detail=f"the meter's reaction: {reaction}; allowed: {' or '.join(allowed)}"
                 + ("; the meter answered a split frame" if kind == "split"
                    and reaction != SILENT else ""),
                 key="reaction_to_fault", at={"fault": kind})
    verify.equal(f"energy read through {fault} between the clean reads {before} and {after}",
                 value is None or before <= value <= after, True, "robustness",
                 detail=f"read {value}" if value is not None else f"reported: {reported}",
                 key="energy_read_through_fault", at={"fault": kind})
