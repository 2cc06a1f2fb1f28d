"""The DL/T 645 codec as the master engine uses it (meterrig.master.Codec)."""

from __future__ import annotations

from ...master import Encoded
from . import commands as cmd
from .frame import Frame, FrameSplitter, decode, encode, encode_spans
from .verdict import describe


class Dlt645Codec:
    check_errors = (cmd.AbnormalReply, cmd.ReplyMismatch)
    mismatch_errors = (cmd.ReplyMismatch,)

    def encode(self, request: Frame, *, preamble: int) -> Encoded:
        """The frame after `preamble` FE bytes, its passwords and operator codes where the
        command builder put them."""
        return Encoded(encode(request, preamble=preamble),
                       encode_spans(request, preamble=preamble))

    def splitter(self) -> FrameSplitter:
        return FrameSplitter()

    def decode(self, frame: bytes) -> Frame:
        return decode(frame)

    def check(self, request: Frame, reply: Frame) -> None:
        cmd.check_reply(request, reply)

    def shown(self, raw: bytes, error: Exception) -> str:
        return f"{error}: {describe(raw)}"
