"""The concentrator master against the simulated carrier module, bytes in and out (no pty):
every transaction, deny codes as typed errors, the sequence number checked, the module's monitor
timeout waited, and the module's own reports and route read requests answered."""

from __future__ import annotations

import pytest

from meterrig.meter import GarbledReply, NoReply
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.frame import encode as encode_645
from meterrig.protocols.gdw13762 import units as u
from meterrig.protocols.gdw13762.client import ConcentratorClient
from meterrig.protocols.gdw13762.codec import Denied, SequenceMismatch
from meterrig.protocols.gdw13762.frame import decode
from meterrig.protocols.gdw13762.profile import profiles
from meterrig.sim.carrier_module import VENDOR
from tests.gdw13762_fake_module import MASTER, ModuleLink, module

METER = "020247020276"
SILENT_METER = "000000000042"
DLT645_2007 = 2  # protocol byte (tables.yaml protocols)
# The public vector forward-active-energy-reply (tests/data/vectors.yaml): 0.02 kWh.
METER_REPLY = bytes.fromhex("68 76 02 02 47 02 02 68 91 08 33 33 34 33 35 33 33 33 C9 16")
READ = encode_645(cmd.read(METER, 0x00010000), preamble=0)
METERS = {METER: lambda frame: METER_REPLY if frame == READ else None,
          SILENT_METER: lambda frame: None}


def rig(defects: tuple[str, ...] = (), profile: str = "hplc-2013", edition: int = 2013
        ) -> tuple[ConcentratorClient, ModuleLink]:
    fake = module(METERS, defects=defects, edition=edition)
    fake.archive.update({METER: DLT645_2007, SILENT_METER: DLT645_2007})
    link = ModuleLink(fake)
    # A clock that stands still: a module's wait time is not waited out here (below, it is).
    return ConcentratorClient(link, MASTER, profiles()[profile], reply_window=0.5, retries=0,
                              now=lambda: 0.0, sleep=lambda seconds: None), link


def test_initialise_identity_and_the_requests_on_the_wire():
    client, link = rig()
    assert client.hardware_reset().processed
    assert client.parameter_init().processed and link.module.archive == {}
    assert client.data_init().processed
    assert client.vendor_version() == VENDOR
    sent = [decode(raw) for raw in link.sent]
    assert [f.key for f in sent] == ["01 F1", "01 F2", "01 F3", "03 F1"]
    assert [f.info.seq for f in sent] == [1, 2, 3, 4]  # a fresh sequence number each
    assert {f.control.byte for f in sent} == {0x43}  # DIR 0, PRM 1, mode 3 (HPLC profile)


def test_master_node_address_set_then_queried():
    client, link = rig()
    client.set_master_node_address("123456789012")
    assert link.module.master_address == "123456789012"
    assert client.master_node_address() == "123456789012"
    assert decode(link.sent[0]).data == bytes.fromhex("12 90 78 56 34 12")


def test_archive_add_query_delete():
    client, _ = rig()
    client.parameter_init()
    added = [u.Slave(f"0000000000{n:02d}", DLT645_2007) for n in range(1, 14)]
    client.add_slaves(added)
    assert client.slave_count().total == 13
    archive = client.archive(page=5)  # three pages
    assert [s.address for s in archive] == [s.address for s in added]
    client.delete_slaves(["000000000003"])
    assert "000000000003" not in {s.address for s in client.archive()}
    with pytest.raises(Denied, match=r"deny code 6 \(meter number duplicated\)"):
        client.add_slaves(added[:1])


def test_route_control():
    client, link = rig()
    client.route_pause()
    assert link.module.route == "paused"
    client.route_resume()
    assert link.module.route == "running"
    assert client.route_restart().processed
    assert [decode(raw).key for raw in link.sent] == ["12 F2", "12 F3", "12 F1"]


def test_a_meter_read_through_13f1_carries_a1_a3_and_brings_the_meters_reply():
    client, link = rig()
    transaction = client.monitor(METER, DLT645_2007, READ)
    assert transaction.reply.unit.frame == METER_REPLY
    info = transaction.reply.frame.info
    assert (info.command_quality, info.reply_quality, info.phase) == (9, 9, 1)
    assert transaction.reply.frame.address.source == METER
    request = decode(link.sent[0])
    assert request.info.module and request.address.source == MASTER
    assert request.address.destination == METER
    assert u.read_unit("13 F1", False, request.data) == u.MonitorSlave(DLT645_2007, READ)


def test_concurrent_read():
    client, _ = rig()
    assert client.concurrent_read(METER, DLT645_2007, READ).reply.unit.frame == METER_REPLY


def test_the_2009_layout_is_read_as_2009():
    client, _ = rig(profile="narrowband-2009", edition=2009)
    assert client.monitor(METER, DLT645_2007, READ).reply.unit.duration_s is None


def test_a_meter_read_waits_the_modules_monitor_timeout():
    client, link = rig()
    client.monitor(METER, DLT645_2007, READ)
    assert link.windows[-1] == 90 + 0.5  # the profile's, until the module says
    assert client.running_mode().monitor_timeout_s == 40
    assert link.windows[-1] == 0.5  # a module command waits the bus's window
    client.monitor(METER, DLT645_2007, READ)
    assert link.windows[-1] == 40 + 0.5


@pytest.mark.parametrize(("meter", "code", "reason"), [
    ("000000000099", 7, "meter number not present"),  # not in the archive
    (SILENT_METER, 11, "slave no answer"),  # in the archive, silent
])
def test_deny_codes_are_typed_errors(meter, code, reason):
    client, _ = rig()
    with pytest.raises(Denied, match=f"deny code {code} \\({reason}\\)") as denied:
        client.monitor(meter, DLT645_2007, READ)
    assert (denied.value.code, denied.value.reason) == (code, reason)


def test_a_reply_with_the_wrong_sequence_number_is_refused():
    client, _ = rig(defects=("module-seq-not-echoed",))
    with pytest.raises(SequenceMismatch, match="sequence number 2, the request 1"):
        client.monitor(METER, DLT645_2007, READ)


def test_the_modules_own_frame_alone_is_no_reply_and_is_still_confirmed():
    client, link = rig()
    link.module.start(0x06, 2, u.ReportReadData(1, DLT645_2007, METER_REPLY, 2))
    link.silent = True  # the module sends its report, and no reply
    with pytest.raises(GarbledReply, match="only the module's own 06 F2 .* came, no reply"):
        client.vendor_version()
    assert len(client.reports) == 1


def test_silence_says_how_long_it_waited():
    client, link = rig()
    link.silent = True
    with pytest.raises(NoReply, match="no reply to query vendor code and version within "
                                      "500 ms"):
        client.vendor_version()


def test_a_broken_checksum_is_a_garbled_reply_naming_the_byte():
    client, _ = rig(defects=("module-wrong-checksum",))
    with pytest.raises(GarbledReply, match=r"byte \d+ \(CS\)"):
        client.vendor_version()


@pytest.mark.parametrize(("defect", "seen"), [
    ("module-drops-destination", lambda reply: reply.frame.address is None),
    ("module-wrong-protocol-byte", lambda reply: reply.unit.protocol != DLT645_2007),
    ("module-wrong-signal-quality", lambda reply: reply.frame.info.reply_quality == 15),
])
def test_a_defective_modules_reply_shows_its_defect(defect, seen):
    """What a suite judges (the path's signal quality is 9, its reply carries the meter's
    address and the protocol byte asked)."""
    good, _ = rig()
    client, _ = rig(defects=(defect,))
    assert not seen(good.monitor(METER, DLT645_2007, READ).reply)
    assert seen(client.monitor(METER, DLT645_2007, READ).reply)


def test_a_report_during_a_read_is_confirmed_and_the_read_still_answers():
    client, link = rig()
    report = link.module.start(0x06, 2, u.ReportReadData(1, DLT645_2007, METER_REPLY, 2))
    transaction = client.monitor(METER, DLT645_2007, READ)
    assert transaction.reply.unit.frame == METER_REPLY
    assert [r.unit.frame for r in client.reports] == [METER_REPLY]
    (answer,) = link.module.answers
    assert (answer.key, answer.control.byte) == ("00 F1", 0x03)  # DIR 0, PRM 0, its mode
    assert answer.info.seq == decode(report).info.seq


def test_a_route_read_request_is_answered_with_what_to_read():
    asked = []

    def reader(request: u.RouteReadRequest) -> u.RouteReadAnswer:
        asked.append(request)
        return u.RouteReadAnswer(2, READ)  # 02: can read, this frame

    client, link = rig()
    client.route_reader = reader
    link.module.start(0x14, 1, u.RouteReadRequest(1, METER, 1))
    assert client.serve(0.5) == 1
    assert asked == [u.RouteReadRequest(1, METER, 1)]
    (answer,) = link.module.answers
    assert answer.key == "14 F1"
    assert u.read_unit("14 F1", False, answer.data) == u.RouteReadAnswer(2, READ)


def test_with_no_route_reader_the_rig_answers_failed():
    client, link = rig()
    link.module.start(0x14, 1, u.RouteReadRequest(1, METER, 1))
    client.serve(0.5)
    assert u.read_unit("14 F1", False, link.module.answers[0].data).read_flag == 0


def test_a_function_the_module_has_no_layout_for_is_denied():
    client, _ = rig()
    error = client.send(0x03, 2, u.Empty(), expects=("03 F2",), label="03 F2").error
    assert isinstance(error, Denied) and error.code == 1  # invalid data unit


def test_after_a_confirm_with_a_wait_time_the_next_request_waits_it():
    slept = []
    fake = module(METERS)
    client = ConcentratorClient(ModuleLink(fake), MASTER, profiles()["hplc-2013"],
                                reply_window=0.5, retries=0, now=lambda: 100.0,
                                sleep=slept.append)
    assert client.hardware_reset().wait_s == 2
    client.vendor_version()
    assert slept == [2.0]


def test_routing_mode_the_module_asks_what_to_read_and_reports_what_it_read():
    client, link = rig()
    link.module.archive.pop(SILENT_METER)
    client.route_reader = lambda asked: u.RouteReadAnswer(2, READ)  # 02: can read this
    client.route_restart()
    while client.serve(0.5):
        pass
    assert [r.address for r in client.route_requests] == [METER]
    assert [(r.unit.slave_index, r.unit.frame) for r in client.reports] == [(1, METER_REPLY)]
    assert [a.key for a in link.module.answers] == ["14 F1", "00 F1"]
