"""The meter under fuzzing: frames mutated from a valid request (hypothesis; the database is
kept under reports/hypothesis, failures shrunk and saved under reports/robustness-failures,
each replayable with `meterrig replay FILE --rig R`).

Verdicts: an invalid frame gets no answer; the next valid request gets its own, fresh answer;
an over-long frame does not reset the meter (its energy register and its clock never go back;
the clock is checked where the position's profile or map declares one, else the test is skipped
saying so); frames for another address get no answer. `--fuzz-examples N` sets the frames per
test (default 1)."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given

from meterrig import fuzz
from meterrig.meter import MeterError
from meterrig.protocols import registry

pytestmark = [pytest.mark.one_per_protocol, pytest.mark.needs("metering")]


def _answer(transaction) -> str:
    raw = transaction.raw
    return f"a reply: {raw.hex(' ').upper()}" if raw else "silence"


@pytest.mark.clause("robustness")
@pytest.mark.measures("answer_to_invalid_frame")
def test_invalid_frame_gets_no_answer(fuzzed, verify):
    @fuzzed.settings()
    @given(frame=fuzz_strategy(fuzzed))
    @example(frame=fuzzed.corrupted)
    def check(frame: bytes) -> None:
        assume(not fuzzed.valid(frame))
        answer = _answer(fuzzed.send(frame, "an invalid frame"))
        with fuzzed.saved_if_failing(frame):
            verify.equal("answer to an invalid frame", answer, "silence", "robustness",
                         detail=f"frame {frame.hex(' ').upper()}; the meter answered an "
                                "invalid frame" if answer != "silence" else "",
                         key="answer_to_invalid_frame", at={"frame": frame.hex()})

    check()


@pytest.mark.clause("robustness")
@pytest.mark.measures("answer_after_invalid_frame")
def test_next_valid_frame_gets_fresh_answer(fuzzed, verify):
    (_, read_before, text_before), (item, read_after, text_after) = fuzzed.readings()

    @fuzzed.settings()
    @given(frame=fuzz_strategy(fuzzed))
    @example(frame=fuzzed.corrupted)
    def check(frame: bytes) -> None:
        assume(not fuzzed.valid(frame))
        read_before(fuzzed.client)
        previous = fuzzed.link.exchanges[-1].reply
        fuzzed.send(frame, "an invalid frame")
        first = len(fuzzed.link.exchanges)
        try:
            text = read_after(fuzzed.client)
        except (MeterError, *fuzzed.client.master.codec.check_errors) as exc:
            text = f"no fresh answer ({type(exc).__name__}: {exc})"
        why = ""
        # The two readings' replies differ (their values do): the same bytes again are stale.
        if previous in (e.reply for e in fuzzed.link.exchanges[first:]):
            why = f"stale data: the meter sent its reply to the request before the invalid " \
                  f"one again ({text_before})"
        elif text != text_after:
            why = "the meter did not answer the next valid request as it does on a quiet bus"
        with fuzzed.saved_if_failing(frame):
            verify.equal(f"reading of {item} after an invalid frame", text, text_after,
                         "robustness", detail=f"frame {frame.hex(' ').upper()}; {why}".rstrip(
                             "; "), key="answer_after_invalid_frame",
                         at={"frame": frame.hex(), "item": item})

    check()


@pytest.mark.clause("robustness")
@pytest.mark.measures("energy_after_overlong_frame")
def test_overlong_frame_does_not_reset(fuzzed, verify):
    @fuzzed.settings()
    @given(frame=fuzz_strategy(fuzzed, overlong=True))
    def check(frame: bytes) -> None:
        before = fuzzed.energy()
        fuzzed.send(frame, f"an over-long frame ({len(frame)} bytes)")
        after = fuzzed.energy()
        with fuzzed.saved_if_failing(frame):
            verify.equal(f"energy register not below {before} kWh after a {len(frame)}-byte "
                         "frame", after >= before, True, "robustness",
                         detail=f"read {after} kWh: the meter reset (its register went back)"
                         if after < before else f"read {after} kWh",
                         key="energy_after_overlong_frame", at={"bytes": len(frame)})

    check()


@pytest.mark.clause("robustness")
@pytest.mark.measures("clock_after_overlong_frame")
def test_overlong_frame_does_not_reset_the_clock(position, fuzzed, verify):
    try:
        read_clock = registry.get(position.protocol).load("clock")(position)
    except LookupError as exc:
        pytest.skip(f"position {position.number}: the clock is not checked: {exc}")

    @fuzzed.settings()
    @given(frame=fuzz_strategy(fuzzed, overlong=True))
    def check(frame: bytes) -> None:
        before = read_clock(fuzzed.client)
        fuzzed.send(frame, f"an over-long frame ({len(frame)} bytes)")
        after = read_clock(fuzzed.client)
        with fuzzed.saved_if_failing(frame):
            verify.equal(f"clock not before {before:%Y-%m-%d %H:%M:%S} after a {len(frame)}-byte "
                         "frame", after >= before, True, "robustness",
                         detail=f"read {after:%Y-%m-%d %H:%M:%S}"
                         + (": the meter's clock went back (it reset)" if after < before else ""),
                         key="clock_after_overlong_frame", at={"bytes": len(frame)})

    check()


@pytest.mark.clause("robustness")
@pytest.mark.measures("answer_to_other_address")
def test_other_address_gets_no_answer(rig, position, fuzzed, verify):
    (item, _, _), _ = fuzzed.readings()
    spec = registry.get(position.protocol)
    taken = frozenset(p.address for p in rig.config.positions_on(position.bus))
    other = spec.address.foreign(position.address, taken)
    bus = rig.config.buses[position.bus]
    # A read that must get silence is not retried (as the master's own silence checks).
    client = spec.load("master")(fuzzed.link, position.model_copy(update={"address": other}),
                                 bus.model_copy(update={"retries": 0}))
    read = spec.load("reader")(position, item)
    try:
        answer = f"a reply: {read(client)}"
    except (MeterError, *client.master.codec.check_errors) as exc:  # an abnormal reply too
        answer = "silence" if "no reply" in str(exc) else f"a reply: {exc}"
    verify.equal(f"answer to a read of {item} for address {other}", answer, "silence",
                 "robustness", detail="" if answer == "silence" else
                 "the meter answered a frame for another address",
                 key="answer_to_other_address", at={"address": str(other), "item": item})


def fuzz_strategy(fuzzed, *, overlong: bool = False):
    return fuzz.mutations(fuzzed.wire, fuzzed.longest, overlong_only=overlong)
