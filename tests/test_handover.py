"""The hand-over lock between test workers (meterrig/link/handover.py): shared holders (tests
that only need the instruments left as they are) hold at once; a holder that drives them
waits for every one of them, and they for it."""

from __future__ import annotations

import threading
import uuid

from meterrig.link.handover import BusLock


def _acquired_within(lock: BusLock, seconds: float, *, shared: bool) -> threading.Event:
    done = threading.Event()

    def take() -> None:
        lock.acquire(shared=shared)
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
