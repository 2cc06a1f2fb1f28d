"""One instrument session through PyVISA: the map's commands by name, errors that say where.

This is the only place that talks to instruments, simulated or not: a simulated instrument is a
SCPI server on loopback, opened with the same resource string a LAN instrument would have.
"""

from __future__ import annotations

import functools
import socket
from typing import Any

import attrs
import pyvisa
from pyvisa.resources import MessageBasedResource

from .command_map import CommandMap

# Enough to empty any instrument's error queue (SCPI's is at least 2 deep; real ones ~10-30).
MAX_QUEUED_ERRORS = 64


class InstrumentError(Exception):
    """An instrument did not do what was asked; the message names it, its resource and command."""


@functools.cache
def resource_manager() -> pyvisa.ResourceManager:
    # pyvisa-py: no vendor VISA library to install on bench PCs or CI.
    return pyvisa.ResourceManager("@py")


@attrs.define
class VisaInstrument:
    name: str
    resource: str
    command_map: CommandMap
    _session: MessageBasedResource

    @classmethod
    def open(cls, name: str, resource: str, command_map: CommandMap,
             timeout_ms: int) -> VisaInstrument:
        try:
            session = resource_manager().open_resource(
                resource,
                read_termination=command_map.read_termination,
                write_termination=command_map.write_termination,
                timeout=timeout_ms,
            )
        except (pyvisa.Error, OSError) as exc:
            raise InstrumentError(f"{name} ({command_map.model}) at {resource}: "
                                  f"cannot open: {exc}") from exc
        _disable_nagle(session)
        instrument = cls(name, resource, command_map, session)
        instrument._drain_errors()
        return instrument

    @property
    def label(self) -> str:
        """How errors name this instrument: name, model and where it is."""
        return f"{self.name} ({self.command_map.model}) at {self.resource}"

    def write(self, command: str, **fields: Any) -> None:
        message = self.command_map.commands[command].format(**fields)
        try:
            self._session.write(message)
        except (pyvisa.Error, OSError) as exc:
            raise self._error(command, message, str(exc)) from exc
        if "error" in self.command_map.queries:
            # A source that silently ignores a command would leave the bench at the wrong load.
            reply = self.query("error")
            if _error_code(reply) != 0:
                raise self._error(command, message, f"the instrument reports {reply}")

    def query(self, name: str, **fields: Any) -> Any:
        query = self.command_map.queries[name]
        message = query.template.format(**fields)
        try:
            reply = self._session.query(message)
        except (pyvisa.Error, OSError) as exc:
            raise self._error(name, message, f"{exc}{self._why_unanswered(name)}") from exc
        try:
            return query.parse_reply(reply)
        except ValueError as exc:
            raise self._error(name, message,
                              f"reply {reply!r} is not {query.parse}: {exc}") from exc

    def identity(self) -> str:
        """Its *IDN? reply (IEEE 488.2 §10.14: maker, model, serial, firmware), for records."""
        try:
            return self._session.query("*IDN?").strip()
        except (pyvisa.Error, OSError) as exc:
            raise self._error("identity", "*IDN?", str(exc)) from exc

    def close(self) -> None:
        self._session.close()

    def _drain_errors(self) -> None:
        """Empty the error queue, so the first command is not blamed for older errors."""
        if "error" not in self.command_map.queries:
            return
        for _ in range(MAX_QUEUED_ERRORS):
            if _error_code(self.query("error")) == 0:
                return

    def _why_unanswered(self, name: str) -> str:
        """An instrument answers nothing to a query it refuses; its error queue says why."""
        if name == "error" or "error" not in self.command_map.queries:
            return ""
        try:
            reply = self._session.query(self.command_map.queries["error"].template)
        except (pyvisa.Error, OSError):
            return ""  # the link itself is down: the first failure says enough
        return f"; the instrument reports {reply}" if _error_code(reply) != 0 else ""

    def _error(self, command: str, message: str, problem: str) -> InstrumentError:
        return InstrumentError(f"{self.label}: {command} {message!r}: {problem}")


def _disable_nagle(session: MessageBasedResource) -> None:
    """Send each message at once on raw LAN sockets, as NI-VISA does by default.

    pyvisa-py 0.8 leaves Nagle's algorithm on for ::SOCKET sessions and refuses
    VI_ATTR_TCPIP_NODELAY, so a command followed by a query waits for the instrument's delayed
    ACK (40 ms on Linux), and some instruments' LAN firmware fails on the coalesced segments
    (nominal-io/instro#156). Other resources (GPIB, USB, VXI-11) have no such socket.
    """
    backend_session = getattr(session.visalib, "sessions", {}).get(session.session)
    interface = getattr(backend_session, "interface", None)
    if isinstance(interface, socket.socket):
        interface.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _error_code(reply: str) -> int:
    """The number of a SCPI error queue entry: `-113,"Undefined header"` -> -113; 0 = none."""
    try:
        return int(reply.split(",", 1)[0])
    except ValueError:
        return -1  # not a SCPI error entry: treat as an error so it is shown, not lost
