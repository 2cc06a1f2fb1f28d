"""The record of one exchange on a bus: what was sent, what came back, and when.

Everything that judges timing or shows frames reads these records, never the port.
Times are `time.monotonic()` seconds; `started_at` is wall-clock UTC for reports.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .resolution import Resolution


@attrs.frozen
class Exchange:
    bus: str
    label: str  # what the master meant, in the field's words ("read 00010000 from 000000000001")
    request: bytes
    started_at: datetime
    t_write: float  # write call began
    # last request byte left the adapter: its echo's end on a bus that echoes, else by wire time
    t_request_end: float
    chunks: tuple[tuple[float, bytes], ...]  # reply bytes as they arrived
    character_time: float  # seconds per character at the bus settings
    baudrate: int  # the bus rate the exchange ran at (protocols scale their silences with it)
    resolution: Resolution  # how precisely the link dated these bytes: the timing uncertainty
    attempt: int = 1
    stale: bytes = b""  # bytes that were waiting on the bus before the request: noise, kept
    reply_window: float = 0.0  # how long the master listened for a first reply byte
    # Byte ranges of the request that carry passwords or operator codes: traces show "**" there.
    secret_spans: tuple[tuple[int, int], ...] = ()
    # What the adapter heard of its own request, on a bus that echoes (None: no echo).
    echo: bytes | None = None
    # The fault the rig put into this request on purpose (meterrig/faults.py); "" for none.
    fault: str = ""
    # How closely the link could date the bytes, on a host that may be busy when they come.
    # The request ended after `t_request_end_earliest` and by `t_request_end` (None: at it).
    # The last byte of chunk i arrived after `chunks_since[i]` and by its time in `chunks` (a
    # read that found bytes already waiting cannot say when they came); () : each at its time.
    t_request_end_earliest: float | None = None
    chunks_since: tuple[float, ...] = ()

    @property
    def reply(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    @property
    def answered(self) -> bool:
        return bool(self.chunks)

    @property
    def t_first_reply(self) -> float | None:
        """When the first reply byte began to arrive: its chunk's arrival less its wire time."""
        if not self.chunks:
            return None
        t, data = self.chunks[0]
        return t - len(data) * self.character_time

    @property
    def t_last_reply(self) -> float | None:
        return self.chunks[-1][0] if self.chunks else None

    @property
    def response_delay(self) -> float | None:
        """Td: from the end of the request's last byte to the start of the reply's first byte."""
        first = self.t_first_reply
        return None if first is None else first - self.t_request_end

    @property
    def max_byte_gap(self) -> float:
        """Longest silence inside the reply beyond what its own bytes needed on the wire (Tb)."""
        gaps = [
            t_next - t_prev - len(data) * self.character_time
            for (t_prev, _), (t_next, data) in zip(self.chunks, self.chunks[1:], strict=False)
        ]
        return max([0.0, *gaps])

    @property
    def response_delay_bounds(self) -> tuple[float, float] | None:
        """Td as the link can vouch for it: (the least, the most it can have been), s."""
        if not self.chunks:
            return None
        earliest, latest = self._start_bounds(0)
        request_end_earliest = self.t_request_end if self.t_request_end_earliest is None \
            else self.t_request_end_earliest
        return earliest - self.t_request_end, latest - request_end_earliest

    @property
    def max_byte_gap_bounds(self) -> tuple[float, float]:
        """Tb as the link can vouch for it: (the least, the most the longest gap inside the
        reply can have been), s. Bytes found already waiting may hide a gap among them."""
        least, most = [0.0], [0.0]
        for i, (t, data) in enumerate(self.chunks):
            if len(data) > 1:  # its bytes all came after its `since`, each a character apart
                most.append(t - self._since(i) - (len(data) - 1) * self.character_time)
            if i:
                t_prev = self.chunks[i - 1][0]
                earliest, latest = self._start_bounds(i)
                least.append(earliest - t_prev)
                most.append(latest - self._since(i - 1))
        return max(least), max(most)

    def _since(self, i: int) -> float:
        return self.chunks_since[i] if self.chunks_since else self.chunks[i][0]

    def _start_bounds(self, i: int) -> tuple[float, float]:
        """When the first byte of chunk i began to arrive: at the latest its chunk's wire time
        before the chunk's time; no earlier than a character before its `since` (it came after
        that), unless the wire time puts it earlier still."""
        t, data = self.chunks[i]
        latest = t - len(data) * self.character_time
        return min(self._since(i) - self.character_time, latest), latest

    @property
    def echo_fault(self) -> str:
        """What is wrong with the echo of the request ("" when it is right or there is none)."""
        if self.echo is None or self.echo == self.request:
            return ""
        where = next((i for i, (sent, heard) in enumerate(zip(self.request, self.echo,
                                                              strict=False)) if sent != heard),
                     None)
        if where is None:
            return (f"the adapter echoed {len(self.echo)} of the request's {len(self.request)} "
                    "bytes: the line was cut or held by another driver (a wiring fault), or "
                    "the bus does not echo after all (buses.NAME.echo)")
        secret = where in self._secret_bytes()
        sent = "**" if secret else f"{self.request[where]:02X}"
        heard = "**" if secret else f"{self.echo[where]:02X}"
        return (f"the echo differs from the request at byte {where} (sent {sent}, heard "
                f"{heard}): a collision with another device on the bus, or a wiring fault")

    def _secret_bytes(self) -> set[int]:
        return {i for start, end in self.secret_spans for i in range(start, end)}

    def _shown(self, data: bytes) -> str:
        secret = self._secret_bytes()
        return " ".join("**" if i in secret else f"{b:02X}" for i, b in enumerate(data))

    def request_shown(self) -> str:
        """The request as hex with its secret bytes masked."""
        return self._shown(self.request)

    def echo_shown(self) -> str | None:
        """The echo as hex with the request's secret bytes masked (None: no echo)."""
        return None if self.echo is None else self._shown(self.echo)

    def to_record(self) -> dict:
        """Plain data for traces and reports (monotonic times made relative to the write)."""
        return {
            "bus": self.bus,
            "label": self.label,
            "started_at": self.started_at.isoformat(),
            "attempt": self.attempt,
            "request": self.request_shown(),
            "reply": self.reply.hex(" ").upper(),
            "stale": self.stale.hex(" ").upper(),
            "request_end_ms": round((self.t_request_end - self.t_write) * 1e3, 3),
            "response_delay_ms": None
            if self.response_delay is None
            else round(self.response_delay * 1e3, 3),
            "max_byte_gap_ms": round(self.max_byte_gap * 1e3, 3),
            # What the link can vouch for, on a host that may have been busy: least, most.
            "response_delay_bounds_ms": None if self.response_delay_bounds is None
            else [round(t * 1e3, 3) for t in self.response_delay_bounds],
            "max_byte_gap_bounds_ms": [round(t * 1e3, 3) for t in self.max_byte_gap_bounds],
            "reply_window_ms": round(self.reply_window * 1e3, 3),
            "resolution_ms": None if self.resolution.seconds is None
            else round(self.resolution.seconds * 1e3, 3),
            "echo": self.echo_shown(),
            "echo_fault": self.echo_fault,
            "fault": self.fault,
        }
