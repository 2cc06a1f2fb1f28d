"""Hand-over between processes: one holder of a bus (or of the bench's instruments) at a time.

Test workers run in parallel (one per bus), yet a group measurement of the metering suites
reaches meters on every bus it measures. So a process takes a bus for a span of work (a test,
or one exchange) and gives it back: a lock file per port, waited for, so the other process
carries on as soon as the bus is free instead of failing on a busy port. Ports opened through
the hand-over are opened shared (a process that waits keeps its port open and reads nothing),
so a lock that someone else holds is the only thing that keeps two masters off one bus.
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
        self.port = port
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, shared: bool = False) -> None:
        """Wait until no other process holds the port, then hold it; `shared`: wait only for a
        process holding it alone, and let any number of shared holders in at once (those that
        only need the port's state to stay put, none of them changing it)."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
