"""The toy protocol's codec, sans-IO: one ASCII line a message."""

from __future__ import annotations

from pathlib import Path

import attrs

REQUEST, REPLY, END = "?", "!", b"\n"
ITEMS = {"energy": "kWh", "voltage": "V"}
# The toy protocol's own "standard", cited by its suite.
CLAUSES = {"address": "toy protocol §1: a reply carries the address it answers",
           "read": "toy protocol §2: a read is answered with the value and its unit",
           "timing": "toy protocol §3: a reply begins within 500 ms"}


def models() -> tuple[str, ...]:
    return ("toy",)


def model(name: str) -> str:
    return name


def model_file(path: Path) -> str:
    raise ValueError(f"{path}: toy models are not read from files")


@attrs.frozen
class Message:
    lead: str
    address: str
    body: str


def request(address: str, item: str) -> bytes:
    return f"{REQUEST}{address} {item}".encode("ascii") + END


def reply(address: str, body: str) -> bytes:
    return f"{REPLY}{address} {body}".encode("ascii") + END


def parse(raw: bytes) -> Message:
    """A whole line; ValueError for bytes that are not one."""
    if not raw.endswith(END) or raw[:1] not in (REQUEST.encode(), REPLY.encode()):
        raise ValueError(f"not a toy message: {raw!r}")
    address, _, body = raw[1:-1].decode("ascii", errors="replace").partition(" ")
    return Message(raw[:1].decode(), address, body)


class LineSplitter:
    """The link's frame finder: whole lines."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(END)
        return [line + END for line in lines]
