"""Hand-over between processes: one holder of a bus (or of the bench's instruments) at a time.

Test workers run in parallel (one per bus), yet a group measurement of the metering suites
reaches meters on every bus it measures. So a process takes a bus for a span of work (a test,
or one exchange) and gives it back: a lock file per port, waited for, so the other process
carries on as soon as the bus is free instead of failing on a busy port. Ports opened through
the hand-over are opened shared (a process that waits keeps its port open and reads nothing),
so a lock that someone else holds is the only thing that keeps two masters off one bus.

flock serves its waiters in no order, and a process that gives a bus back and takes it again at
once mostly wins: a group measurement's read would wait out a bus's whole run of tests. So one
exchange goes first: it waits at the port's gate, which a span of work passes before it takes
the port and looks at again once it has it (giving the port back if an exchange came to wait).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

LOCKS = Path(tempfile.gettempdir()) / "meterrig-bus-locks"


class BusLock:
    """The lock of one port (its device path or URL, or any name: the instruments' resources),
    shared by every process on this host."""

    def __init__(self, port: str) -> None:
        LOCKS.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(port.encode()).hexdigest()[:16]
        self.path = LOCKS / f"{digest}.lock"
        self.gate = LOCKS / f"{digest}.gate"
        self.port = port
        self._fd: int | None = None
        self._gate: int | None = None  # held by one exchange, from its wait to its end

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, shared: bool = False, first: bool = False) -> None:
        """Wait until no other process holds the port, then hold it; `shared`: wait only for a
        process holding it alone, and let any number of shared holders in at once (those that
        only need the port's state to stay put, none of them changing it). `first`: one
        exchange, which goes before any span of work still waiting (the module's text)."""
        if self._fd is not None:
            return
        gate = os.open(self.gate, os.O_RDWR | os.O_CREAT, 0o666)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if first:
                fcntl.flock(gate, fcntl.LOCK_EX)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._gate = gate
            else:
                self._after_exchanges(gate, fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                os.close(gate)
        except BaseException:
            os.close(fd)  # closing drops its locks
            os.close(gate)
            raise
        self._fd = fd

    @staticmethod
    def _after_exchanges(gate: int, fd: int, mode: int) -> None:
        while True:
            fcntl.flock(gate, fcntl.LOCK_SH)  # no exchange waiting or under way
            fcntl.flock(gate, fcntl.LOCK_UN)
            fcntl.flock(fd, mode)
            try:
                fcntl.flock(gate, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # an exchange came to wait meanwhile: it goes first
                fcntl.flock(fd, fcntl.LOCK_UN)
                continue
            fcntl.flock(gate, fcntl.LOCK_UN)
            return

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._gate is not None:
            os.close(self._gate)
            self._gate = None
