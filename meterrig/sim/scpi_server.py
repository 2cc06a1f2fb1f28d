"""A line-oriented SCPI server on loopback: how a simulated instrument appears on the LAN.

One message per line; a line is a header and comma-separated arguments ("ERR:CONF 1,1200,10,1e6").
A query's reply is one line. What a real instrument does with a bad command, this does too: it
puts an entry in the error queue (read with SYST:ERR?) and answers nothing; the server never
dies of a bad line.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[list[str]], str | None]  # arguments -> reply (queries) or None (commands)

ERROR_QUEUE_DEPTH = 16
NO_ERROR = '0,"No error"'
QUEUE_OVERFLOW = '-350,"Queue overflow"'
SHUTDOWN_POLL_S = 0.02  # how often the accept loop looks for stop(): a bench stops quickly


class ScpiError(Exception):
    """A SCPI error: the message is queued for SYST:ERR? and the command is not executed."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def entry(self) -> str:
        return f'{self.code},"{self.message}"'


def arguments(args: list[str], *types: Callable[[str], Any]) -> tuple[Any, ...]:
    """Exactly len(types) arguments, each converted; the matching SCPI error otherwise."""
    if len(args) < len(types):
        raise ScpiError(-109, "Missing parameter")
    if len(args) > len(types):
        raise ScpiError(-108, "Parameter not allowed")
    try:
        return tuple(convert(arg) for convert, arg in zip(types, args, strict=True))
    except ValueError as exc:
        raise ScpiError(-104, "Data type error") from exc


def boolean(arg: str) -> bool:
    """A SCPI <Boolean>: ON|OFF|1|0."""
    word = arg.upper()
    if word not in ("ON", "OFF", "1", "0"):
        raise ValueError(arg)
    return word in ("ON", "1")


class ScpiServer:
    def __init__(self, idn: str, handlers: Mapping[str, Handler]) -> None:
        self.idn = idn
        self._handlers: dict[str, Handler] = {
            "*IDN?": self._identify,
            "*CLS": self._clear,
            "SYST:ERR?": self._next_error,
            **{header.upper(): handler for header, handler in handlers.items()},
        }
        self._errors: deque[str] = deque()
        # One parser per instrument, as in a real one: messages from several connections are
        # executed one at a time, so handlers need no locking of their own.
        self._lock = threading.Lock()
        self.silent = False  # it stopped answering: messages are taken and dropped
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not running"
        return self._server.server_address[1]

    def start(self) -> int:
        """Listen on 127.0.0.1, on a port the OS picks; return the port."""
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        args=(SHUTDOWN_POLL_S,), name=f"scpi-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop listening, close every connection and wait for their threads."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()  # joins the connection threads
        self._thread.join()
        self._server = self._thread = None

    def execute(self, line: str) -> str | None:
        """Run one message; its reply, or None for a command or a message in error."""
        header, _, rest = line.strip().partition(" ")
        if not header or self.silent:
            return None
        args = [arg.strip() for arg in rest.split(",")] if rest.strip() else []
        with self._lock:
            handler = self._handlers.get(header.upper())
            try:
                if handler is None:
                    raise ScpiError(-113, "Undefined header")
                return handler(args)
            except ScpiError as exc:
                self._push(exc.entry())
            except Exception as exc:  # a simulator bug must not take the instrument down
                log.exception("SCPI %r failed", line)
                self._push(ScpiError(-300, f"Device-specific error;{exc}").entry())
            return None

    def _push(self, entry: str) -> None:
        # SCPI: a full queue keeps its oldest errors and says it overflowed in its last slot.
        if len(self._errors) >= ERROR_QUEUE_DEPTH:
            self._errors[-1] = QUEUE_OVERFLOW
        else:
            self._errors.append(entry)

    def _identify(self, args: list[str]) -> str:
        arguments(args)
        return self.idn

    def _next_error(self, args: list[str]) -> str:
        arguments(args)
        return self._errors.popleft() if self._errors else NO_ERROR

    def _clear(self, args: list[str]) -> None:
        arguments(args)
        self._errors.clear()


class _Server(socketserver.ThreadingTCPServer):
    # Connection threads are joined by server_close(), after stop() has closed their sockets.
    daemon_threads = False
    block_on_close = True

    def __init__(self, scpi: ScpiServer) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.scpi = scpi
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered here, before its thread starts, so stop() cannot miss a connection.
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            for connection in self._open:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the client has gone already


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        try:
            for raw in self.rfile:
                reply = self.server.scpi.execute(raw.decode("ascii", "replace"))
                if reply is not None:
                    self.wfile.write(reply.encode("ascii") + b"\n")
        except OSError:
            pass  # the client reset the connection: nothing to answer
