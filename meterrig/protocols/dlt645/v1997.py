"""DL/T 645-1997: the older protocol on the same frame — other control codes, 2-byte DIs."""

from __future__ import annotations

import enum
from pathlib import Path

from .catalogue import Catalogue
from .commands import ReadReply, check_di_echo, check_reply_frame, di_bytes
from .frame import Frame

DI_LENGTH = 2
CATALOGUE_PATH = Path(__file__).with_name("catalogue-1997.yaml")
CATALOGUE = Catalogue.load(CATALOGUE_PATH)
# The notes give the 2007 error-byte bits only; 1997 errors are reported by bit number.
ERROR_BITS: dict[int, str] = {}


class Function1997(enum.IntEnum):
    """DL/T 645-1997 function codes (notes, "DL/T 645-1997"); replies are 0x80 | code."""

    READ = 0x01
    READ_FOLLOW_UP = 0x02
    REREAD = 0x03
    WRITE = 0x04
    BROADCAST_TIME = 0x08
    WRITE_ADDRESS = 0x0A
    CHANGE_BAUD = 0x0C
    CHANGE_PASSWORD = 0x0F
    CLEAR_DEMAND = 0x10


def read(address: str, di: int) -> Frame:
    return Frame(address, Function1997.READ, di_bytes(di, DI_LENGTH))


def parse_read_reply(request: Frame, reply: Frame) -> ReadReply:
    """Check a 1997 read reply (81 / A1, or C1 raising AbnormalReply) and split DI and value."""
    if request.function != Function1997.READ:
        raise ValueError(f"request function {request.function:02X} is not a 1997 read")
    check_reply_frame(request, reply, ERROR_BITS)
    check_di_echo(request, reply, DI_LENGTH)
    di = int.from_bytes(reply.data[:DI_LENGTH], "little")
    return ReadReply(di, reply.data[DI_LENGTH:], reply.follow_up, None)
