"""Prepaid building blocks without a bench: the bench key module (not the ESAM algorithm) signs
what it verifies and nothing else, recharge frames round-trip, a profile's `prepaid:` mistakes
are reported as FILE:LINE, and the purse of a simulated local meter refuses what it must with
its credit unchanged."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from meterrig.clock import RigClock
from meterrig.protocols.dlt645.profile import ProfileError, load_profiles, profile
from meterrig.protocols.dlt645.security import (
    BenchKeyModule,
    Recharge,
    Session,
    dispersion_of,
    serr_meanings,
)
from meterrig.sim.defects import Defects
from meterrig.sim.physics import BenchPhysics, MeterPhysics
from meterrig.sim.prepaid_purse import PrepaidPurse, Refusal

ADDRESS = "000000000011"


def test_bench_key_module_verifies_only_its_own_mac():
    module = BenchKeyModule()
    session = Session(bytes(8), bytes(4), dispersion_of(ADDRESS))
    mac = module.reply_mac(session, b"reply")
    assert module.verify_reply_mac(session, b"reply", mac)
    assert not module.verify_reply_mac(session, b"reply!", mac)
    other = Session(bytes(8), b"\x01" * 4, dispersion_of(ADDRESS))
    assert not module.verify_reply_mac(other, b"reply", mac)


def test_recharge_round_trips():
    recharge = Recharge(1234, 7, b"\x01\x02\x03\x04", ADDRESS, b"\x05\x06\x07\x08")
    assert Recharge.from_bytes(recharge.to_bytes()) == recharge
    with pytest.raises(ValueError, match="22 bytes"):
        Recharge.from_bytes(recharge.to_bytes()[:-1])


def test_serr_bits_have_names():
    assert serr_meanings(0b0100010) == ("repeated recharge", "purchase count out of sequence")


def test_prepaid_profile_mistakes_name_the_line(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("m:\n  description: x\n  tariffs: 1\n  relay: false\n  max_reply_data: 200\n"
                    "  data_items: ['00900200']\n  writable: {}\n  prepaid:\n    mode: card\n"
                    "    status_bits: {alarm_1: {word: 9, bit: 1}}\n")
    with pytest.raises(ProfileError) as caught:
        load_profiles(path)
    text = str(caught.value)
    assert f"{path}:9: m.prepaid.mode: got 'card'" in text
    assert f"{path}:10: m.prepaid.status_bits.alarm_1.word: got 9" in text
    # Once each key is right, what the keys say together.
    path.write_text(path.read_text().replace("card", "local").replace("word: 9", "word: 3"))
    with pytest.raises(ProfileError, match=f"{path}:10: m.prepaid.status_bits: missing "
                                           "alarm_2: where the model shows it"):
        load_profiles(path)


@pytest.fixture
def purse():
    physics = BenchPhysics(RigClock(), {1: MeterPhysics()})
    purse = PrepaidPurse(position=1, address=ADDRESS, prepaid=profile("prepaid-local").prepaid,
                         physics=physics, defects=Defects())
    yield purse
    purse.stop()


def _signed(purse, module, amount_fen, count, customer=ADDRESS):
    random1 = module.random()
    random2 = purse.authenticate(module.authenticate(random1, dispersion_of(ADDRESS)), random1,
                                 dispersion_of(ADDRESS))[:4]
    session = Session(random1, random2, dispersion_of(ADDRESS))
    mac1, mac2 = module.sign_recharge(session, amount_fen, count, customer)
    return Recharge(amount_fen, count, mac1, customer, mac2)


@pytest.mark.parametrize(("case", "meaning"), [
    ("bad MAC", "ESAM verification failed"),
    ("replay", "repeated recharge"),
    ("count", "purchase count out of sequence"),
    ("hoarding", "recharge above the hoarding limit"),
])
def test_purse_refuses_with_credit_unchanged(purse, case, meaning):
    module = BenchKeyModule()
    count = purse.purchase_count
    if case == "replay":
        purse.recharge(_signed(purse, module, 100, count + 1))
        count += 1
    credit = purse.credit()
    recharge = {
        "bad MAC": lambda: attrs.evolve(_signed(purse, module, 100, count + 1),
                                        mac1=b"\x00" * 4),
        "replay": lambda: _signed(purse, module, 100, count),
        "count": lambda: _signed(purse, module, 100, count + 2),
        "hoarding": lambda: _signed(purse, module, 100_00 * 100, count + 1),
    }[case]()
    with pytest.raises(Refusal) as refused:
        purse.recharge(recharge)
    assert serr_meanings(refused.value.serr) == (meaning,)
    assert (purse.credit(), purse.purchase_count) == (credit, count)


def test_purse_takes_the_next_purchase(purse):
    module = BenchKeyModule()
    before = purse.credit()
    purse.recharge(_signed(purse, module, 250, purse.purchase_count + 1))
    assert purse.credit() == before + Decimal("2.50")
