"""Route control (AFN 12), the module's own uplinks (14 F1 route read requests, 06 reports)
answered while reads are in flight, and a route repaired when the line to a meter weakens."""

from __future__ import annotations

import pytest

from fixtures.carrier import ENERGY, behind, line_at, read_through
from meterrig.limits import table
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import START, decode, encode
from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.spec import GDW1376_2

pytestmark = pytest.mark.protocol(GDW1376_2)
CAN_READ = 2  # 14 F1 read flag: the rig gives the frame to send (tables.yaml read_flags)
REPAIR = table("carrier")["route_repair"]


def _reader(asked: u.RouteReadRequest) -> u.RouteReadAnswer:
    return u.RouteReadAnswer(CAN_READ, encode(cmd.read(asked.address, ENERGY), preamble=0))


def _reported(carrier) -> list[str]:
    return [decode(r.unit.frame[r.unit.frame.find(START):]).address for r in carrier.reports]


@pytest.mark.clause("route-control")
@pytest.mark.measures("asked", "reported", "paused_resumed")
def test_route_control(rig, position, meter, verify):
    archived = [p.address for p in behind(rig, position)]
    meter.route_reader = _reader
    meter.reports.clear()
    meter.route_requests.clear()
    meter.route_restart()
    while meter.serve(1.0):  # until the module has nothing more to ask or report
        pass
    verify.equal("meters the module asked to read (14 F1) after route restart (12 F1)",
                 sorted(r.address for r in meter.route_requests), sorted(archived),
                 "route-read-request", key="asked")
    verify.equal("meters the module reported read (06 F2)", sorted(_reported(meter)),
                 sorted(archived), "report", key="reported")
    meter.route_pause()
    meter.route_resume()
    verify.equal("route pause (12 F2) and resume (12 F3) confirmed", True, True,
                 "route-control", key="paused_resumed")


@pytest.mark.clause("report")
@pytest.mark.measures("reads_in_flight", "reports_in_flight")
def test_uplinks_answered_while_reads_are_in_flight(rig, position, meter, verify):
    meters = behind(rig, position)
    meter.route_reader = _reader
    meter.reports.clear()
    meter.route_restart()  # the module starts asking while the rig's reads go on
    failed = [f"{p.address}: {read.error}" for p in meters
              if not (read := read_through(meter, p)).ok]
    while meter.serve(1.0):
        pass
    verify.equal("13 F1 reads that failed while the module sent its own frames", failed, [],
                 "monitor", key="reads_in_flight")
    verify.equal("meters reported (06 F2, each confirmed) while reads were in flight",
                 sorted(_reported(meter)), sorted(p.address for p in meters), "report",
                 key="reports_in_flight")


@pytest.mark.clause("monitor")
@pytest.mark.measures("route_repaired")
def test_route_repaired_when_the_line_weakens(rig, position, meter, verify, noise_injector,
                                              attenuator):
    farthest = behind(rig, position)[-1]
    read_through(meter, farthest)  # a route found on the quiet line
    with line_at(noise_injector, attenuator, None, REPAIR["attenuation_db"]):
        reads = [read_through(meter, farthest) for _ in range(REPAIR["reads"])]
    verify.equal(f"a read of {farthest.address} succeeded within {REPAIR['reads']} reads after "
                 f"the attenuator went to {REPAIR['attenuation_db']:g} dB",
                 any(r.ok for r in reads), True, "monitor",
                 detail="the module kept a route that no longer works: it never repaired it; "
                 f"came: {[str(r.error) for r in reads]}", key="route_repaired")
