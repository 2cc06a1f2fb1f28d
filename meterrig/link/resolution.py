"""How precisely a link dates bytes on the wire: its timing resolution, and the basis for it.

Every timing figure of an exchange (DL/T 645 Td and Tb, Modbus silences) is judged with the
resolution of its link as its uncertainty, widened where the host was too busy to date the bytes
closely (the link brackets each read and write: serial_link.Link, Exchange). A link that
delivers bytes with no wire time at all (a pseudo-terminal, a TCP socket, a remote serial
server) is *unpaced*: its timing figures cannot be measured, only recorded as inconclusive.

A bus's resolution is declared in the rig file (`buses.NAME.timing`), or decided when the link
opens: a URL port or a pseudo-terminal is unpaced; a USB serial adapter with a readable latency
timer is measured (the timer plus one character time); any other tty gets the default from
limits/rig-tolerances.yaml.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ..limits import table

SYSFS = Path("/sys")
PROC_DEVICES = Path("/proc/devices")
# Linux's fixed majors of pseudo-terminal slaves (Documentation/admin-guide/devices.txt:
# 136-143 Unix98 /dev/pts/*, 3 BSD /dev/ttyp*), for a system without /proc.
PTY_SLAVE_MAJORS = frozenset({3, *range(136, 144)})
DEFAULT_TTY = table("rig-tolerances")["tty_timing_resolution_s"]


@attrs.frozen
class Resolution:
    seconds: float | None  # None: unpaced, no timing figure can be measured
    basis: str  # why this resolution, in a QA engineer's words

    @property
    def paced(self) -> bool:
        return self.seconds is not None

    def __str__(self) -> str:
        if self.seconds is None:
            return f"unpaced ({self.basis})"
        return f"{self.seconds * 1e3:g} ms ({self.basis})"


def declared(resolution_ms: float | None, where: str = "the rig file") -> Resolution:
    """A resolution the rig file declares (None: declared unpaced)."""
    if resolution_ms is None:
        return Resolution(None, f"declared unpaced in {where}")
    return Resolution(resolution_ms / 1e3, f"declared in {where}")


def pty_majors(proc_devices: Path = PROC_DEVICES) -> frozenset[int]:
    """The character-device majors of pseudo-terminal slaves, as the kernel lists them."""
    try:
        text = proc_devices.read_text()
    except OSError:
        return PTY_SLAVE_MAJORS
    chars = text.split("Block devices:")[0]
    found = {int(major) for major, _, name in
             (line.strip().partition(" ") for line in chars.splitlines()[1:])
             if major.isdigit() and name in ("pts", "ttyp")}
    return frozenset(found) or PTY_SLAVE_MAJORS


def latency_timer_ms(rdev: int, sysfs: Path = SYSFS) -> int | None:
    """A USB serial adapter's latency timer (ms: how long it holds received bytes before handing
    them to the host), where its driver shows it (ftdi_sio); None elsewhere."""
    path = sysfs / "dev" / "char" / f"{os.major(rdev)}:{os.minor(rdev)}" / "device" \
        / "latency_timer"
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def of_port(port: str, character_time: float, rdev: int | None = None, *,
            sysfs: Path = SYSFS, proc_devices: Path = PROC_DEVICES) -> Resolution:
    """The resolution of an undeclared port. `rdev` is the open device's number (os.fstat);
    without it the path is looked at (OSError if it is not there)."""
    scheme, url, _ = port.partition("://")
    if url:
        return Resolution(None, f"a {scheme}:// port delivers bytes with no wire time")
    if rdev is None:
        rdev = os.stat(port).st_rdev
    if os.major(rdev) in pty_majors(proc_devices):
        return Resolution(None, f"{port} is a pseudo-terminal: it delivers bytes with no wire "
                                "time")
    latency = latency_timer_ms(rdev, sysfs)
    if latency is not None:
        return Resolution(latency / 1e3 + character_time,
                          f"USB serial adapter: latency timer {latency} ms + one character "
                          f"{character_time * 1e3:.3g} ms")
    return Resolution(DEFAULT_TTY["value"], "default for a tty whose buffering cannot be read: "
                                            "limits/rig-tolerances.yaml")
