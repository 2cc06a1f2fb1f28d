"""Prepaid (cost-control) meters, local or remote as the profile says: the credit drains with the
energy at the price, the alarms come at their thresholds, the relay opens at the trip level
within the trip delay AT THE LOAD (the source's current falls to zero), a recharge allows the
customer's button to close it, refused recharges leave the credit alone, and a power cycle
keeps credit, purchase count and relay state.

Money is in yuan, energy in kWh; every figure is recorded with its clause. The drain runs at the
rig clock's speed-up (100× on the simulated prepaid benches)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterrig.limits import table
from meterrig.measure import Limits
from meterrig.metrology.bench import unity_point
from meterrig.metrology.drain import save_drain_plot
from meterrig.metrology.group import rating
from meterrig.metrology.standards import Standard
from meterrig.protocols.dlt645.frame import Frame
from meterrig.protocols.dlt645.security import SecurityRefused
from meterrig.protocols.dlt645.spec import DLT645_2007

pytestmark = [pytest.mark.protocol(DLT645_2007), pytest.mark.needs("prepaid", "relay")]

DATA = table("prepaid")
RESOLUTION = Decimal(str(DATA["credit_resolution"]["value"]))
FUND_MARGIN = Decimal(str(DATA["fund_margin"]["value"]))
RIG = "meterrig/limits/prepaid.yaml"
RELAY_BIT = "run status word 3 bit 4"
RELAY_EVERY = 4  # drain samples per reading of the relay state


def _yuan(name: str) -> Decimal:
    return Decimal(str(DATA[name]["value"]))


def _class_percent(position) -> Limits:
    """The meter's accuracy at its full load (Imax PF 1): what a drain may be off by."""
    meter = rating(position)
    return Standard.for_rating(meter).accuracy_limits(meter, unity_point(
        position, "Imax PF 1", position.imax))


def _drain_seconds(amount: Decimal, price: Decimal, load) -> float:
    """Rig seconds the full load takes to spend `amount` yuan at `price`."""
    return float(amount / price) / load.power_kw * 3600


@pytest.mark.clause("prepaid-credit")
@pytest.mark.measures("reference_energy", "credit_drained", "drain_error")
def test_credit_drain(rig, account, fund, bench_load, reference, position, verify):
    settings = account.settings()
    accuracy = _class_percent(position)
    # Enough that two readings' resolution stays within 80 % of the meter's accuracy (a remote
    # balance moves in the energy register's steps × price: it needs a longer drain).
    amount = max(_yuan("drain_amount"),
                 2 * account.resolution * 100 / (Decimal("0.8") * Decimal(str(accuracy.high))))
    fund(settings.alarm_1 + amount + FUND_MARGIN)
    before = account.credit()
    reference.reset_energy()
    bench_load.on()
    rig.clock.sleep(_drain_seconds(amount, settings.price, bench_load))
    bench_load.idle()
    energy = Decimal(repr(reference.energy_kwh()))
    drained = before - account.credit()
    expected = energy * settings.price
    verify.note("reference energy of the drain", float(energy), "kWh",
                Limits(low=0, source="the reference standard", unit="kWh"), "prepaid-credit",
                key="reference_energy")
    verify.note("credit drained (00900200 − 00900201)", float(drained), "yuan",
                Limits(low=0, source="the meter", unit="yuan"), "prepaid-credit",
                detail=f"expected {expected:.2f} yuan: {energy:.4f} kWh × {settings.price} "
                f"yuan/kWh ({settings.source})", key="credit_drained")
    accuracy = _class_percent(position)
    error = float((drained - expected) / expected * 100)
    uncertainty = float(2 * account.resolution / expected * 100)
    verify.within("credit drained against reference energy × price (%)", error, "%",
                  Limits(accuracy.low, accuracy.high, f"the meter's accuracy at Imax PF 1: "
                         f"{accuracy.source}", "%"), "prepaid-credit",
                  detail=f"drained {drained} yuan, reference energy × price {expected:.4f} "
                  f"yuan: drains at the wrong price", key="drain_error", uncertainty=uncertainty)


@pytest.mark.clause("prepaid-alarm")
@pytest.mark.parametrize("state", ["alarm_1", "alarm_2"])
@pytest.mark.measures("credit_at_alarm")
def test_alarm_at_threshold(account, fund, bench_load, meter_profile, state, verify):
    settings = account.settings()
    threshold = getattr(settings, state)
    bit = meter_profile.prepaid.status_bits[state]
    # A bit the model shares with a higher alarm is already on above this one's threshold.
    shared = any(other != state and b == bit and getattr(settings, other) > threshold
                 for other, b in meter_profile.prepaid.status_bits.items())
    fund(threshold + FUND_MARGIN, exact=True)
    bench_load.on()
    step = Decimal("0.00")  # the most the credit moved during one reading of the state
    shown, credit = False, account.credit()
    while credit > threshold - 3 * max(step, RESOLUTION):
        before = credit
        account.watch()
        shown = account.status(state)
        credit = account.credit()
        step = max(step, before - credit)
        if shown:
            break
    bench_load.idle()
    name = state.replace("_", " ")
    low = threshold - 2 * step - RESOLUTION
    verify.within(f"credit when {name} first showed in {bit} (yuan)", float(credit), "yuan",
                  Limits(float(low), None if shared else float(threshold + RESOLUTION),
                         f"{name} threshold {threshold} yuan ({settings.source}), less two "
                         f"readings' drain ({2 * step} yuan)", "yuan"), "prepaid-alarm",
                  detail=f"{bit} was {'on' if shown else 'never on'} down to {credit} yuan: "
                  + ("" if shown else f"no {name} at its threshold"),
                  key="credit_at_alarm", at={"state": state})


@pytest.mark.clause("prepaid-trip")
@pytest.mark.measures("credit_at_trip", "load_current_after_trip", "trip_delay_at_the_load",
                      "relay_open_after_trip")
def test_trip_at_the_load(rig, account, fund, bench_load, drain, meter_profile, position,
                          request, verify):
    settings = account.settings()
    declared = meter_profile.trip_delay_s
    fund(settings.trip_level + 2 * FUND_MARGIN, exact=True)
    bench_load.on()

    def credit() -> Decimal:
        value = account.credit()
        account.watch()  # a remote master trips here; a local meter by itself
        return value

    while True:
        # the relay state every few samples only: each reading widens the time brackets
        every = len(drain.samples) % RELAY_EVERY == 0
        drain.take(credit, bench_load.current, account.relay_open if every else None)
        crossed, stopped = drain.crossing(settings.trip_level), drain.current_stopped()
        if stopped or (crossed and rig.clock.now() - crossed[1]
                       > DATA["trip_watch_factor"]["value"] * declared):
            break
    last = drain.take(credit, bench_load.current, account.relay_open)
    bench_load.idle()
    plot = save_drain_plot(drain, f"position {position.number} ({meter_profile.name}): drain "
                           "to trip", _curves(request) / f"position-{position.number}-"
                           "drain-to-trip.png")
    _attach(plot)
    reached = [s.credit for s in drain.samples if s.credit <= settings.trip_level]
    verify.within("credit when the trip level was crossed (yuan)",
                  float(reached[0] if reached else last.credit), "yuan",
                  Limits(high=float(settings.trip_level), source=settings.source, unit="yuan"),
                  "prepaid-trip", detail="the load stopped before the credit reached the trip "
                  "level", key="credit_at_trip")
    verify.within("load current at the end of the drain (A)", last.current, "A",
                  Limits(high=0, source=f"the relay opens at {settings.trip_level} yuan",
                         unit="A"), "prepaid-trip",
                  detail=(f"the meter reports its relay open ({RELAY_BIT}) but the load keeps "
                          "flowing" if last.relay_open else
                          "the relay stayed closed: the load kept flowing")
                  + f" {last.current_at[1] - crossed[1]:.0f} s after the trip level",
                  key="load_current_after_trip")
    shortest, longest = stopped[0] - crossed[1], stopped[1] - crossed[0]
    verify.within("time from the trip level to no load current (s)", (shortest + longest) / 2,
                  "s", Limits(high=declared, source=f"profile {meter_profile.name}: trip "
                              f"delay {declared:g} s", unit="s"), "prepaid-trip",
                  detail="the relay opened late: later than its declared trip delay",
                  key="trip_delay_at_the_load", uncertainty=(longest - shortest) / 2)
    verify.equal(f"relay open after the trip ({RELAY_BIT})", account.relay_open(), True,
                 "prepaid-trip", detail="the load stopped but the meter reports its relay closed",
                 key="relay_open_after_trip")


def _curves(request) -> object:
    from fixtures.reporting import LOG
    return request.config.stash[LOG].path.parent / "curves"


def _attach(path) -> None:
    try:
        import allure
    except ImportError:
        return
    allure.attach.file(str(path), name=path.stem, attachment_type=allure.attachment_type.PNG)


@pytest.mark.clause("prepaid-recharge")
@pytest.mark.measures("load_current_before_button", "load_current_after_button",
                      "credit_after_recharge")
def test_recharge_and_close_allowed(rig, account, fund, bench_load, reference, button,
                                    position, verify):
    settings = account.settings()
    if not account.relay_open():  # the trip test leaves it open; alone, this test trips it
        fund(settings.trip_level + FUND_MARGIN, exact=True)
        bench_load.on()
        while not account.relay_open():
            account.credit()
            account.watch()
    bench_load.on()
    old = account.credit()
    amount = _yuan("recharge_amount")
    account.recharge(amount)
    rig.clock.sleep(DATA["button_wait_s"]["value"])
    verify.within("load current after the recharge, before the button (A)",
                  bench_load.current(), "A", Limits(high=0, source="close allowed: only the "
                  "customer's button closes the relay", unit="A"), "prepaid-recharge",
                  detail="the load flowed again without the button",
                  key="load_current_before_button")
    reference.reset_energy()
    button.press(position.number)
    spend = _yuan("fund_margin")
    rig.clock.sleep(_drain_seconds(spend, settings.price, bench_load))
    current = bench_load.current()
    bench_load.idle()
    verify.within("load current after the button (A)", current, "A",
                  Limits(low=position.imax / 2, source="the relay closed by the button carries "
                         "the load", unit="A"), "prepaid-recharge",
                  detail="the button did not close the relay after the recharge",
                  key="load_current_after_button")
    spent = Decimal(repr(reference.energy_kwh())) * settings.price
    expected = old + amount - spent
    accuracy = _class_percent(position)
    allowed = spent * Decimal(str(accuracy.high)) / 100 + 2 * account.resolution
    verify.within("credit after recharge and use (yuan)", float(account.credit()), "yuan",
                  Limits(float(expected - allowed), float(expected + allowed),
                         f"old {old} + recharge {amount} − spent {spent:.2f} yuan (reference "
                         f"energy × price), ± the meter's accuracy and two readings", "yuan"),
                  "prepaid-recharge", key="credit_after_recharge")


def _spoilt(frame: Frame) -> Frame:
    """The same request with its last MAC byte changed."""
    return Frame(frame.address, frame.control, frame.data[:-1] + bytes([frame.data[-1] ^ 0xFF]))


@pytest.mark.clause("prepaid-refusal")
@pytest.mark.parametrize("case", ["a bad MAC", "a replayed recharge",
                                  "a purchase count out of sequence",
                                  "an amount above the hoarding limit"])
@pytest.mark.measures("recharge_reply", "credit_change", "purchase_count_change")
def test_refused_recharge(account, fund, case, verify):
    if account.mode != "local":
        pytest.skip("a remote prepaid model keeps no money: its master refuses recharges, the "
                    "meter takes none")
    settings = account.settings()
    fund(settings.alarm_1 + FUND_MARGIN)
    session = account.authenticate()
    count, customer = account.purchase_count(), account.customer()
    amount = FUND_MARGIN
    if case == "a replayed recharge":
        frame = account.recharge_frame(session, amount, count + 1, customer)
        account.send_recharge(session, frame)  # accepted once
    elif case == "a bad MAC":
        frame = _spoilt(account.recharge_frame(session, amount, count + 1, customer))
    elif case == "a purchase count out of sequence":
        frame = account.recharge_frame(session, amount, count + 2, customer)
    else:
        amount = settings.hoarding_limit - account.credit() + FUND_MARGIN
        frame = account.recharge_frame(session, amount, count + 1, customer)
    credit, count = account.credit(), account.purchase_count()
    try:
        account.send_recharge(session, frame)
        reply = "accepted"
    except SecurityRefused as refused:
        reply = f"refused ({', '.join(refused.meanings)})"
    at = {"case": case}
    verify.equal(f"reply to a recharge with {case}", reply.split(" (")[0], "refused",
                 "prepaid-refusal", detail=f"the meter accepted a recharge with {case}: {reply}",
                 key="recharge_reply", at=at)
    verify.equal("credit change after the refusal (yuan)", account.credit() - credit,
                 Decimal("0.00"), "prepaid-refusal", unit="yuan", key="credit_change", at=at)
    verify.equal("purchase count change after the refusal", account.purchase_count() - count,
                 0, "prepaid-refusal", key="purchase_count_change", at=at)


@pytest.mark.clause("prepaid-power-cycle")
@pytest.mark.measures("credit_kept", "purchase_count_kept", "relay_kept")
def test_power_cycle(rig, account, fund, bench_load, verify):
    settings = account.settings()
    fund(settings.alarm_1 + FUND_MARGIN)
    local = account.mode == "local"
    before = (account.credit(), account.purchase_count() if local else None,
              account.relay_open())
    bench_load.source.off()
    rig.clock.sleep(DATA["power_off_s"]["value"])
    bench_load.source.on()
    after = (account.credit(), account.purchase_count() if local else None,
             account.relay_open())
    verify.equal("credit after a power cycle (yuan)", after[0], before[0], "prepaid-power-cycle",
                 unit="yuan", detail="the meter lost its credit across a power cycle",
                 key="credit_kept")
    if local:
        verify.equal("purchase count after a power cycle", after[1], before[1],
                      "prepaid-power-cycle", key="purchase_count_kept")
    else:
        verify.not_applicable("purchase count after a power cycle", "a remote model keeps no "
                              "purchases: the master keeps the balance", "prepaid-power-cycle",
                              key="purchase_count_kept")
    verify.equal(f"relay open after a power cycle ({RELAY_BIT})", after[2], before[2],
                 "prepaid-power-cycle", key="relay_kept")
