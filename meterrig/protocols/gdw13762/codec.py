"""The 1376.2 codec as the master engine uses it (meterrig.master.Codec).

A request is an AFN/Fn with its typed data unit, a sequence number and, for a command that
addresses a meter, the meter's address (R's module flag, A1 the master node, A3 the meter). A
reply must come up from the module (DIR 1, PRM 0), echo the sequence number and be the function
the request expects; a 00 F2 deny is a Denied error with its code. Frames the module starts
itself (PRM 1: 06 reports, 14 F1 route read requests) may come while a reply is awaited: the
splitter sets them aside in `initiated` for the client to answer, and waits on for the reply.
"""

from __future__ import annotations

import attrs

from ...master import Encoded
from ...meter import MeterError
from .frame import Address, Control, DownInfo, Frame, FrameError, FrameSplitter, decode, encode
from .tables import afn_name, deny_reason, function_name
from .units import Deny, Unit, read_unit

CONFIRM = "00 F1"
DENY = "00 F2"


@attrs.frozen
class Request:
    afn: int
    fn: int
    unit: Unit
    seq: int
    expects: tuple[str, ...]  # the reply functions that answer it normally ("00 F1")
    destination: str | None = None  # a meter's address: the module flag and field A
    source: str = "000000000000"  # A1: the master node address, with a destination
    # Byte ranges of the data unit that carry passwords (a relayed DL/T 645 write): masked in
    # traces as in the meter's own.
    secret_spans: tuple[tuple[int, int], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.afn:02X} F{self.fn}"


@attrs.frozen
class Reply:
    frame: Frame
    unit: Unit | bytes  # bytes: a function the notes give no layout for

    @property
    def key(self) -> str:
        return self.frame.key


class Denied(MeterError):
    """00 F2: the module refused; `code` and `reason` from the deny table."""

    def __init__(self, request: str, code: int) -> None:
        super().__init__(f"the module denied {request}: deny code {code} ({deny_reason(code)})")
        self.code = code
        self.reason = deny_reason(code)


class WrongReply(MeterError):
    """A whole frame came that does not answer the request (direction, sequence, function)."""


class NotAReply(ValueError):
    """What came is the module's own frame, not a reply to the request."""


class SequenceMismatch(WrongReply):
    def __init__(self, request: str, sent: int, echoed: int) -> None:
        super().__init__(f"reply to {request} carries sequence number {echoed}, the request "
                         f"{sent}")
        self.sent = sent
        self.echoed = echoed


def describe(key: str) -> str:
    return f"{key} ({function_name(key) or afn_name(int(key[:2], 16))})"


def parse(raw: bytes, edition: int) -> Reply:
    """A whole frame with its data unit typed; a ValueError (FrameError, UnitError) naming the
    byte when it is none."""
    frame = decode(raw)
    try:
        unit: Unit | bytes = read_unit(frame.key, frame.control.uplink, frame.data, edition)
    except LookupError:
        unit = frame.data
    except ValueError as exc:  # a UnitError: say where in the frame
        offset = len(raw) - 2 - len(frame.data) + exc.offset
        raise FrameError(offset, f"{frame.key} {exc.field}", exc.message) from None
    return Reply(frame, unit)


def is_initiated(frame: Frame) -> bool:
    """Started by the module (an uplink from the initiating station): not a reply."""
    return frame.control.uplink and frame.control.prm


class Gdw13762Codec:
    check_errors = (Denied, WrongReply)
    mismatch_errors = (WrongReply,)

    def __init__(self, edition: int, mode: int) -> None:
        self.edition = edition
        self.mode = mode
        self.initiated: list[Reply] = []  # the module's own frames, for the client to answer

    def request_frame(self, request: Request) -> Frame:
        address = None if request.destination is None else Address(request.source,
                                                                   request.destination)
        return Frame(Control(uplink=False, prm=True, mode=self.mode),
                     DownInfo(seq=request.seq, module=address is not None),
                     request.afn, request.fn, request.unit.encode(self.edition), address)

    def encode(self, request: Request) -> Encoded:
        frame = self.request_frame(request)
        wire = encode(frame)
        unit_at = len(wire) - 2 - len(frame.data)  # the data unit ends before CS and 16
        return Encoded(wire, tuple((start + unit_at, end + unit_at)
                                   for start, end in request.secret_spans))

    def splitter(self) -> _ReplySplitter:
        return _ReplySplitter(self)

    def decode(self, frame: bytes) -> Reply:
        """A reply; bytes that hold only frames the module started are none (NotAReply)."""
        found = parse(frame, self.edition)
        if is_initiated(found.frame):
            raise NotAReply(f"only the module's own {describe(found.key)} came, no reply")
        return found

    def check(self, request: Request, reply: Reply) -> None:
        asked = describe(request.key)
        control = reply.frame.control
        if not control.uplink or control.prm:
            raise WrongReply(f"reply to {asked} has C={control.byte:02X}: not a module's reply "
                             "(DIR 1, PRM 0)")
        if reply.frame.info.seq != request.seq:
            raise SequenceMismatch(asked, request.seq, reply.frame.info.seq)
        if reply.key == DENY and isinstance(reply.unit, Deny):
            raise Denied(asked, reply.unit.code)
        if reply.key not in request.expects:
            raise WrongReply(f"reply to {asked} is {describe(reply.key)}, expected "
                             f"{' or '.join(request.expects)}")

    def shown(self, raw: bytes, error: Exception) -> str:
        return f"{error}: {raw.hex(' ').upper() or 'no bytes'}"


class _ReplySplitter:
    """The frame finder of one reply: the module's own frames go to the codec's `initiated`."""

    def __init__(self, codec: Gdw13762Codec) -> None:
        self.codec = codec
        self.frames = FrameSplitter()

    def feed(self, data: bytes) -> list[bytes]:
        replies = []
        for raw in self.frames.feed(data):
            try:
                found = parse(raw, self.codec.edition)
            except ValueError:
                replies.append(raw)  # judged by decode: a garbled reply
                continue
            if is_initiated(found.frame):
                self.codec.initiated.append(found)
            else:
                replies.append(raw)
        return replies
