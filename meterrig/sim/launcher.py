"""Start the simulated bench in its own process, as `meterrig sim` does, and stop it.

A separate process is what hardware looks like to the suites: ports to open, nothing shared.
It runs in a session of its own, so a Ctrl-C at the terminal stops the run, not the bench: the
run's teardown still reaches the bench (the source is switched off, the buses closed), then
stops it. If the run itself dies, the kernel sends the bench SIGTERM (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import json
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_TIMEOUT_S = 30
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up here, not in the forked child; None where there is no prctl (not Linux).
_PRCTL = getattr(ctypes.CDLL(None), "prctl", None)


class BenchStartError(Exception):
    pass


@contextmanager
def running_bench(rig_path: Path) -> Iterator[dict]:
    """Yield the bench's announcement: {"rig": PATH, "buses": {...}, "instruments": {...}}."""
    with tempfile.TemporaryDirectory(prefix="meterrig-sim-") as tmp:
        log_path = Path(tmp) / "sim.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "meterrig", "sim", str(rig_path),
                 "--out", str(Path(tmp) / "rig.yaml")],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
            try:
                yield _announcement(process, log_path)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _die_with_parent() -> None:
    """In the child before exec (nothing that takes a lock): SIGTERM when the parent dies."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def _announcement(process: subprocess.Popen, log_path: Path) -> dict:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line:
                return json.loads(line)
        if process.poll() is not None:
            break
    problem = log_path.read_text().strip().splitlines()[-20:]
    process.kill()
    raise BenchStartError("the simulated bench did not start:\n" + "\n".join(problem))
