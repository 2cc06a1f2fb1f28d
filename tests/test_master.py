"""The master engine over a scripted link: frames taken as the link found them, each reply checked
once, retries counted, raw sends; DL/T 645 secrets masked from the codec; read-address replies
of the wrong length refused."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from meterrig.link.exchange import Exchange
from meterrig.link.resolution import Resolution
from meterrig.master import Encoded, Master
from meterrig.meter import GarbledReply, NoReply
from meterrig.protocols.dlt645 import commands as cmd
from meterrig.protocols.dlt645.client import Dlt645Client
from meterrig.protocols.dlt645.codec import Dlt645Codec
from meterrig.protocols.dlt645.frame import WILDCARD_ADDRESS, Frame, encode

METER = "000000000161"
TIME = 0x04000102
CHAR = 0.004583


class ScriptedLink:
    """A link whose replies are scripted: each exchange feeds the next reply to the splitter it
    was given, in the chunks scripted, as the real link does, and records what it sent."""

    name = "scripted"

    def __init__(self, *replies: bytes | tuple[bytes, ...]) -> None:
        self.replies = list(replies)
        self.sent: list[bytes] = []
        self.settled: list[float] = []  # the quiet asked of each settle

    @contextmanager
    def reserved(self) -> Iterator[ScriptedLink]:
        yield self

    def settle(self, quiet: float) -> bytes:
        self.settled.append(quiet)
        return b""

    def exchange(self, request: bytes, splitter, *, reply_window: float, byte_gap_limit: float,
                 label: str = "", attempt: int = 1,
                 secret_spans: tuple[tuple[int, int], ...] = ()) -> Exchange:
        self.sent.append(request)
        reply = self.replies.pop(0)
        chunks = reply if isinstance(reply, tuple) else ((reply,) if reply else ())
        fed = []
        for chunk in chunks:
            fed.append((0.1 + len(fed) * CHAR, chunk))
            if splitter.feed(chunk):
                break
        return Exchange(bus=self.name, label=label, request=request,
                        started_at=datetime.now(UTC), t_write=0.0, t_request_end=0.05,
                        chunks=tuple(fed), character_time=CHAR, baudrate=2400,
                        resolution=Resolution(None, "scripted"), attempt=attempt,
                        reply_window=reply_window, secret_spans=secret_spans)


class CountingCodec(Dlt645Codec):
    """The DL/T 645 codec, counting what the engine asks of it."""

    def __init__(self) -> None:
        self.splitters: list = []
        self.decoded: list[bytes] = []
        self.checked = 0

    def splitter(self):
        splitter = super().splitter()
        self.splitters.append(splitter)
        return splitter

    def decode(self, frame: bytes) -> Frame:
        self.decoded.append(frame)
        return super().decode(frame)

    def check(self, request: Frame, reply: Frame) -> None:
        self.checked += 1
        super().check(request, reply)


READ = cmd.read(METER, 0x00010000)
REPLY = encode(cmd.normal_reply(READ, METER, cmd.read_reply_data(0x00010000, bytes(4))),
               preamble=2)


def test_the_frame_the_link_found_is_the_one_decoded_and_checked_once():
    # noise before the frame, and the frame in two chunks: the splitter skips the noise
    link = ScriptedLink((b"\x00\x13" + REPLY[:7], REPLY[7:]))
    codec = CountingCodec()
    transaction = Master(link, codec, reply_window=0.5).transact(
        READ, label="read", target=f"meter {METER}", preamble=4)
    assert len(codec.splitters) == 1 and codec.splitters[0].complete()
    assert codec.decoded == [REPLY.lstrip(b"\xfe")]  # the splitter's frame, not the raw bytes
    assert codec.checked == 1
    assert transaction.reply.address == METER and transaction.error is None


def test_retries_are_counted_until_a_whole_frame_comes():
    garbled = REPLY[:-2] + bytes([REPLY[-2] ^ 1, REPLY[-1]])
    link = ScriptedLink(b"", garbled, REPLY)
    master = Master(link, CountingCodec(), reply_window=0.5, retries=2)
    transaction = master.transact(READ, label="read", target="meter X", preamble=0)
    assert [e.attempt for e in transaction.exchanges] == [1, 2, 3]
    assert transaction.retries == master.retries_used == 2
    assert master.codec.checked == 1  # only the reply that came whole


def test_no_whole_frame_raises_no_reply_or_garbled_naming_the_target():
    master = Master(ScriptedLink(b""), Dlt645Codec(), reply_window=0.5, retries=0)
    with pytest.raises(NoReply, match="meter X on bus scripted: no reply to read within 500 ms"):
        master.transact(READ, label="read", target="meter X", preamble=0)
    master = Master(ScriptedLink(REPLY[:-2] + b"\x00\x16"), Dlt645Codec(), reply_window=0.5,
                    retries=0)
    with pytest.raises(GarbledReply, match="garbled reply to read: checksum byte is 0x00"):
        master.transact(READ, label="read", target="meter X", preamble=0)


def test_a_raw_send_goes_as_given_once_and_is_not_checked():
    link = ScriptedLink(b"", b"", REPLY)
    spoilt = b"\x68\x01\x02"
    master = Master(link, CountingCodec(), reply_window=0.5, retries=3)
    transaction = master.send_raw(spoilt, label="spoilt", target="meter X", expect_reply=False)
    assert link.sent == [spoilt] and transaction.retries == 0 and transaction.reply is None
    with pytest.raises(NoReply):  # nothing came, once more: retries=0 unless asked
        master.send_raw(spoilt, label="spoilt", target="meter X", expect_reply=True,
                        retries=0)
    transaction = master.send_raw(spoilt, label="spoilt", target="meter X")
    assert transaction.reply.address == METER and master.codec.checked == 0
    assert link.sent == [spoilt] * 3 and master.retries_used == 0



def test_the_bus_settles_after_a_reply_to_another_request_not_after_an_abnormal_one():
    other = encode(cmd.normal_reply(cmd.read(METER, 0x00020000), METER,
                                    cmd.read_reply_data(0x00020000, bytes(4))), preamble=0)
    refused = encode(cmd.abnormal_reply(READ, METER, cmd.error_byte_of("no requested data")),
                     preamble=0)
    link = ScriptedLink(other, refused)
    master = Master(link, Dlt645Codec(), reply_window=0.5, retries=0)
    mismatched = master.transact(READ, label="read", target="meter X", preamble=0)
    assert isinstance(mismatched.error, cmd.ReplyMismatch) and link.settled == [0.5]
    abnormal = master.transact(READ, label="read", target="meter X", preamble=0)
    assert isinstance(abnormal.error, cmd.AbnormalReply) and link.settled == [0.5]

# --- secrets: where the codec puts them, traces mask them ---------------------------------------
A = cmd.Auth(level=2, password="123456", operator="89ABCDEF")
B = cmd.Auth(level=4, password="654321", operator="10203040")  # every byte differs from A's

# Every request builder that carries a password: built with A, and with B.
CARRIERS = {
    "write": lambda auth: cmd.write(METER, TIME, b"\x01\x02\x03", auth),
    "change_password": lambda auth: cmd.change_password(METER, 0x04000C01, auth, auth.level,
                                                        auth.password),
    "clear_demand": lambda auth: cmd.clear_demand(METER, auth),
    "meter_clear": lambda auth: cmd.meter_clear(METER, auth),
    "event_clear": lambda auth: cmd.event_clear(METER, auth),
    "relay": lambda auth: cmd.relay(METER, auth, cmd.RelayAction.TRIP,
                                    datetime(2026, 1, 2, 3, 4, 5)),
}


def test_every_builder_that_takes_a_password_is_checked_below():
    takes_auth = {name for name, builder in inspect.getmembers(cmd, inspect.isfunction)
                  if builder.__module__ == cmd.__name__
                  and any(p.annotation == "Auth"
                          for p in inspect.signature(builder).parameters.values())}
    assert takes_auth == set(CARRIERS)


@pytest.mark.parametrize("builder", list(CARRIERS))
@pytest.mark.parametrize("preamble", [0, 4])
def test_passwords_and_operator_codes_are_masked_in_the_trace(builder, preamble):
    """The bytes that change with the password are exactly the masked ones (bar the checksum):
    computed from what the codec encodes, so no layout can put a password in a trace."""
    shown: list[list[str]] = []
    wires = []
    for auth in (A, B):
        encoded: Encoded = Dlt645Codec().encode(CARRIERS[builder](auth), preamble=preamble)
        wires.append(encoded.wire)
        record = Master(ScriptedLink(b""), Dlt645Codec(), reply_window=0.1).send_raw(
            encoded.wire, label=builder, target="meter X", expect_reply=False,
            secret_spans=encoded.secret_spans).exchanges[0].to_record()
        shown.append(record["request"].split())
    checksum = len(wires[0]) - 2
    changed = {i for i, (a, b) in enumerate(zip(*wires, strict=True)) if a != b} - {checksum}
    masked = {i for i, byte in enumerate(shown[0]) if byte == "**"}
    # A and B differ in every byte, so the bytes that changed are all the password's bytes
    assert changed and masked == changed
    assert {i for i, byte in enumerate(shown[1]) if byte == "**"} == changed
    assert all(shown[0][i] == f"{wires[0][i]:02X}" for i in range(len(wires[0])) if i not in masked)


# --- read address ---------------------------------------------------------------------------------
def _address_reply(data: bytes, header: str = METER) -> bytes:
    return encode(Frame(header, 0x93, data), preamble=0)


def test_read_address_gives_the_address_the_reply_carries():
    client = Dlt645Client(ScriptedLink(_address_reply(bytes.fromhex("61 01 00 00 00 00"))),
                          WILDCARD_ADDRESS, retries=0)
    assert client.read_address() == METER


@pytest.mark.parametrize("data", [bytes.fromhex("61 01 00 00 00"),
                                  bytes.fromhex("61 01 00 00 00 00 00")])
def test_a_read_address_reply_of_the_wrong_length_is_refused(data):
    client = Dlt645Client(ScriptedLink(_address_reply(data)), WILDCARD_ADDRESS, retries=0)
    with pytest.raises(cmd.ReplyMismatch, match=f"read-address reply carries {len(data)} bytes, "
                                                "not 6") as refused:
        client.read_address()
    assert refused.value.reply == _address_reply(data)  # shown in the verdict


def test_a_read_address_reply_whose_data_and_header_disagree_is_refused():
    client = Dlt645Client(ScriptedLink(_address_reply(bytes.fromhex("62 01 00 00 00 00"))),
                          WILDCARD_ADDRESS, retries=0)
    with pytest.raises(cmd.ReplyMismatch, match="reply data gives address 000000000162, frame "
                                                f"header {METER}"):
        client.read_address()
