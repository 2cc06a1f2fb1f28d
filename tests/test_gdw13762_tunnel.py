"""The `via:` seam: the DL/T 645 client, unchanged, reads a meter through the carrier module
(13 F1), and its timing is judged as end-to-end latency through the module, not as Td."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterrig.limits.dlt645 import TD
from meterrig.limits.timing import judge_exchange
from meterrig.measure import Outcome
from meterrig.meter import NoReply
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.client import Dlt645Client
from meterrig.protocols.dlt645.frame import encode
from meterrig.protocols.dlt645.spec import DLT645_2007
from meterrig.protocols.gdw13762.client import ConcentratorClient
from meterrig.protocols.gdw13762.codec import Denied
from meterrig.protocols.gdw13762.frame import decode
from meterrig.protocols.gdw13762.profile import profiles
from meterrig.protocols.gdw13762.tunnel import LATENCY, Tunnel
from tests.gdw13762_fake_module import MASTER, ModuleLink, module

METER = "020247020276"
SILENT_METER = "000000000042"
READ = encode(cmd.read(METER, 0x00010000), preamble=0)
# The public vector forward-active-energy-reply (tests/data/vectors.yaml): 0.02 kWh.
METER_REPLY = bytes.fromhex("68 76 02 02 47 02 02 68 91 08 33 33 34 33 35 33 33 33 C9 16")
PROTOCOL_2007 = 2


def meter_through_module(address: str = METER, latency_s: float = 0.8
                         ) -> tuple[Dlt645Client, ModuleLink]:
    fake = module({METER: lambda f: METER_REPLY if f.lstrip(b"\xfe") == READ else None,
                   SILENT_METER: lambda f: None}, latency_s=latency_s)
    fake.archive.update({METER: PROTOCOL_2007, SILENT_METER: PROTOCOL_2007})
    link = ModuleLink(fake)
    carrier = ConcentratorClient(link, MASTER, profiles()["narrowband-2013"],
                                 reply_window=0.5, retries=0)
    return Dlt645Client(Tunnel(carrier, address, PROTOCOL_2007), address, retries=0), link


def test_the_dlt645_client_reads_through_13f1_unchanged():
    client, link = meter_through_module()
    reading = client.read(0x00010000)
    assert reading.quantity.value == Decimal("0.02")
    relayed = decode(link.sent[-1])
    assert (relayed.key, relayed.address.destination) == ("13 F1", METER)
    assert decode(link.sent[0]).key == "03 F10"  # the module's monitor timeout, asked once


def test_timing_through_the_module_is_its_latency_not_td():
    client, _ = meter_through_module()
    (exchange,) = client.read(0x00010000).transactions[0].exchanges
    judged = {m.name: m for m in judge_exchange(exchange, DLT645_2007)}
    assert judged[TD].verdict == Outcome.INCONCLUSIVE
    assert "reached through the carrier module" in judged[TD].detail
    latency = judged[LATENCY]
    assert latency.verdict == Outcome.PASS
    assert latency.value == pytest.approx(830, abs=1)  # 0.8 s mains + 30 ms module UART
    assert latency.limits.high == 40_000  # the module's 03 F10 monitor timeout
    assert "03 F10" in latency.limits.source


def test_a_read_later_than_the_modules_monitor_timeout_fails():
    client, _ = meter_through_module(latency_s=40.3)
    (exchange,) = client.read(0x00010000).transactions[0].exchanges
    latency = {m.name: m for m in judge_exchange(exchange, DLT645_2007)}[LATENCY]
    assert latency.verdict == Outcome.FAIL


def test_a_meter_the_module_cannot_hear_is_silence_to_the_client():
    client, _ = meter_through_module(SILENT_METER)
    with pytest.raises(NoReply):
        client.read(0x00010000)


def test_a_meter_not_in_the_modules_archive_is_the_modules_refusal():
    client, _ = meter_through_module("000000000099")
    with pytest.raises(Denied, match="meter number not present"):
        client.read(0x00010000)


def test_a_relayed_writes_password_is_masked_in_the_13f1_trace_too():
    client, link = meter_through_module()
    client.auth = cmd.Auth(level=2, password="123456", operator="00000000")
    with pytest.raises(NoReply):  # the scripted meter answers reads only
        client.write(0x04000401, "000000000009")
    relayed = [e for e in link.exchanges if e.label.startswith("13 F1")][0]
    inner = client.link.exchanges[0]

    def secret(exchange):
        return [exchange.request[i] for a, b in exchange.secret_spans for i in range(a, b)]

    assert relayed.request_shown().count("**") == 8  # level + password, operator code
    assert secret(relayed) == secret(inner)  # the very bytes the meter's own trace masks
