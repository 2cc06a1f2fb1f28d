"""Wire time: how long bytes take on an asynchronous serial line.

A pseudo-terminal or a TCP socket delivers bytes at once, so both the link (to date the end of a
request) and the simulated bus (to pace its replies) compute wire time themselves.
"""

from __future__ import annotations


def bits_per_character(bytesize: int, parity: str, stopbits: float) -> float:
    """Start bit + data bits + parity bit (if any) + stop bits: 11 for 8E1."""
    return 1 + bytesize + (0 if parity.upper() == "N" else 1) + stopbits


def character_time(baudrate: int, bytesize: int = 8, parity: str = "E",
                   stopbits: float = 1) -> float:
    """Seconds one character occupies on the line (4.583 ms at 2400 bit/s 8E1)."""
    return bits_per_character(bytesize, parity, stopbits) / baudrate
