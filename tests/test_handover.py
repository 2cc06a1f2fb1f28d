"""The hand-over lock between test workers (meterrig/link/handover.py): shared holders (tests
that only need the instruments left as they are) hold at once; a holder that drives them
waits for every one of them, and they for it; one exchange goes before spans of work that
waited longer."""

from __future__ import annotations

import threading
import uuid

from meterrig.link.handover import BusLock


def _acquired_within(lock: BusLock, seconds: float, *, shared: bool = False,
                     first: bool = False) -> threading.Event:
    done = threading.Event()

    def take() -> None:
        lock.acquire(shared=shared, first=first)
        done.set()

    threading.Thread(target=take, daemon=True).start()
    done.wait(seconds)
    return done


def test_shared_holders_hold_at_once_and_the_driver_waits_for_all():
    name = f"instruments test {uuid.uuid4()}"
    first, second, driver = BusLock(name), BusLock(name), BusLock(name)
    first.acquire(shared=True)
    assert _acquired_within(second, 2, shared=True).is_set(), "a second shared holder waited"
    waiting = _acquired_within(driver, 0.2, shared=False)
    assert not waiting.is_set(), "the driving holder got the lock beside shared holders"
    first.release()
    assert not waiting.wait(0.2), "the driving holder got the lock beside a shared holder"
    second.release()
    assert waiting.wait(2), "the driving holder still waits with no shared holder left"
    other = BusLock(name)
    pending = _acquired_within(other, 0.2, shared=True)
    assert not pending.is_set(), "a shared holder got the lock beside the driving holder"
    driver.release()
    assert pending.wait(2), "a shared holder still waits with the driving holder gone"
    other.release()


def test_an_exchange_goes_before_spans_that_waited_longer():
    name = f"bus test {uuid.uuid4()}"
    holder, span, exchange = BusLock(name), BusLock(name), BusLock(name)
    holder.acquire()
    span_waits = _acquired_within(span, 0.2)
    exchange_waits = _acquired_within(exchange, 0.2, first=True)
    assert not span_waits.is_set() and not exchange_waits.is_set(), "a waiter got a held port"
    holder.release()
    assert exchange_waits.wait(2), "the exchange still waits with the port given back"
    assert not span_waits.wait(0.3), "a span took the port beside an exchange"
    exchange.release()
    assert span_waits.wait(2), "the span still waits with the exchange done"
    late = _acquired_within(holder, 0.2)
    assert not late.is_set(), "a span got the port beside another span"
    span.release()
    assert late.wait(2)
    holder.release()
