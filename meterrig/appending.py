"""Appending to a file that other processes append to at the same time (parallel test workers
share reports/runs/<run>/): each line is written whole, under an exclusive lock of the file."""

from __future__ import annotations

import fcntl
import threading
from typing import IO

# flock excludes other processes, not other threads of this one (they share the lock)
_THREADS = threading.Lock()


def append_line(file: IO[str], line: str) -> None:
    """Write `line` (its newline included) and flush it while no other process writes; a line
    longer than the buffer takes several writes, and they must not interleave with another's."""
    with _THREADS:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            file.write(line)
            file.flush()
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
