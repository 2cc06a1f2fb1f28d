"""How long the host kept a thread from running: the kernel's count of the time the thread spent
runnable but waiting for a CPU (Linux schedstat, its second field, in ns).

A read that waits for bytes is woken when they come; on a loaded host the thread may run only
later, and dates them late by as much. The growth of this count over the read bounds how late.
Where the kernel keeps no count (another system, schedstats off): None, and the link dates a
woken read at its return, to its resolution. Time spent waiting for Python's GIL is not in it.
"""

from __future__ import annotations

import os
import threading


def run_queue_wait() -> float | None:
    """Seconds the calling thread has so far waited runnable for a CPU; None if unknown."""
    try:
        fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
    except OSError:
        return None
    try:
        fields = os.read(fd, 128).split()
    finally:
        os.close(fd)
    return int(fields[1]) / 1e9 if len(fields) > 1 else None
