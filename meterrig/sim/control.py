"""The simulated bench's control channel: what a test changes on the bench while it runs.

A SCPI server on loopback, like the simulated instruments, announced with the bench's ports
(`control` in the announcement). It is the bench's, not an instrument's: a real bench has no
such thing, so only a rig started from a simulated bench's rig file has one (Rig.bench_control).

    SIM:NOIS <bus>,<ber>,<bursts>   noise on a bus from now on (0,0: quiet)
    SIM:NOIS? <bus>                 -> ber,bursts,bytes seen,bytes hit (both directions)
    SIM:PULL <bus>                  the bus's pty goes away, as a USB adapter pulled out
    SIM:MUTE <instrument>           the instrument stops answering (hung, or off the LAN)
    SIM:SOUR:OUTP?                  -> time,state,... each source output command (unix time;
                                       1 on, 0 off), oldest first; empty if none
"""

from __future__ import annotations

import socket
from typing import Any

import attrs

from .scpi_server import Handler, ScpiError, ScpiServer, arguments

IDN = "meterrig,sim-bench-control,0,sim-1"
TIMEOUT_S = 5


class BenchControlServer:
    def __init__(self, buses: dict[str, Any], instruments: Any) -> None:
        self.buses = buses
        self.instruments = instruments
        self.server = ScpiServer(IDN, self.handlers())

    def handlers(self) -> dict[str, Handler]:
        return {"SIM:NOIS": self._set_noise, "SIM:NOIS?": self._noise, "SIM:PULL": self._pull,
                "SIM:MUTE": self._mute, "SIM:SOUR:OUTP?": self._source_switched}

    def _mute(self, args: list[str]) -> None:
        (name,) = arguments(args, str)
        try:
            self.instruments.silence(name)
        except ValueError as exc:
            raise ScpiError(-224, f"Illegal parameter value;{exc}") from exc

    def _source_switched(self, args: list[str]) -> str:
        arguments(args)
        switched = self.instruments.source_switched()
        return ",".join(f"{at!r},{int(on)}" for at, on in switched)

    def _pull(self, args: list[str]) -> None:
        (name,) = arguments(args, str)
        self._bus(name).pull()

    def _bus(self, name: str) -> Any:
        if name not in self.buses:
            raise ScpiError(-224, f"Illegal parameter value;no bus {name}")
        return self.buses[name]

    def _set_noise(self, args: list[str]) -> None:
        name, ber, bursts = arguments(args, str, float, float)
        try:
            self._bus(name).set_noise(ber, bursts)
        except ValueError as exc:
            raise ScpiError(-224, f"Illegal parameter value;{exc}") from exc

    def _noise(self, args: list[str]) -> str:
        (name,) = arguments(args, str)
        noise = self._bus(name).noise
        request, reply = noise["request"], noise["reply"]
        return (f"{request.ber!r},{request.bursts!r},{request.bytes_seen + reply.bytes_seen},"
                f"{request.bytes_hit + reply.bytes_hit}")

    def start(self) -> str:
        return f"127.0.0.1:{self.server.start()}"

    def stop(self) -> None:
        self.server.stop()


@attrs.frozen
class NoiseState:
    ber: float
    bursts: float
    bytes_seen: int
    bytes_hit: int


class BenchControl:
    """The client a test uses: one line out, one line back."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))

    def _send(self, line: str, *, reply: bool) -> str | None:
        with socket.create_connection(self.address, timeout=TIMEOUT_S) as sock:
            sock.sendall(line.encode() + b"\n")
            if not reply:
                sock.sendall(b"SYST:ERR?\n")
            answer = sock.makefile().readline().strip()
        if not reply and not answer.startswith("0,"):
            raise ValueError(f"the simulated bench refused {line!r}: {answer}")
        return answer if reply else None

    def set_noise(self, bus: str, ber: float, bursts: float = 0.0) -> None:
        self._send(f"SIM:NOIS {bus},{ber!r},{bursts!r}", reply=False)

    def pull(self, bus: str) -> None:
        self._send(f"SIM:PULL {bus}", reply=False)

    def mute(self, instrument: str) -> None:
        self._send(f"SIM:MUTE {instrument}", reply=False)

    def source_switched(self) -> list[tuple[float, bool]]:
        """Each source output command the bench took: (unix time, on), oldest first."""
        answer = self._send("SIM:SOUR:OUTP?", reply=True)
        fields = answer.split(",") if answer else []
        return [(float(at), on == "1") for at, on in zip(fields[::2], fields[1::2], strict=True)]

    def noise(self, bus: str) -> NoiseState:
        ber, bursts, seen, hit = self._send(f"SIM:NOIS? {bus}", reply=True).split(",")
        return NoiseState(float(ber), float(bursts), int(seen), int(hit))
