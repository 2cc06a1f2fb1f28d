"""Request builders, request parsing, reply builders and reply checks of DL/T 645-2007."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterrig.protocols.dlt645 import (
    BAUD_CODES,
    ERROR_BITS,
    AbnormalReply,
    Auth,
    BroadcastTimeRequest,
    ChangeBaudRequest,
    ChangePasswordRequest,
    ClearDemandRequest,
    EventClearRequest,
    Frame,
    FreezeRequest,
    FreezeTime,
    Function,
    MeterClearRequest,
    ReadAddressRequest,
    ReadFollowUpRequest,
    ReadReply,
    ReadRequest,
    RelayAction,
    RelayRequest,
    ReplyMismatch,
    RequestError,
    WriteAddressRequest,
    WriteRequest,
    abnormal_reply,
    broadcast_time,
    change_baud,
    change_password,
    check_reply,
    clear_demand,
    decode,
    encode,
    error_byte_of,
    event_clear,
    freeze,
    meter_clear,
    normal_reply,
    parse_read_address_reply,
    parse_read_reply,
    parse_request,
    read,
    read_address,
    read_follow_up,
    read_reply_data,
    relay,
    write,
    write_address,
)

METER = "000000000161"
AUTH = Auth(2, "123456", "89ABCDEF")
AUTH_BYTES = bytes.fromhex("02 56 34 12 EF CD AB 89")  # PA, P0..P2 low first, C0..C3 low first

real_addresses = st.integers(0, 10**12 - 1).map(lambda n: f"{n:012d}")
dis = st.integers(0, 0xFFFFFFFF)
auths = st.builds(
    Auth,
    st.integers(0, 9),
    st.integers(0, 0xFFFFFF).map(lambda n: f"{n:06X}"),
    st.integers(0, 0xFFFFFFFF).map(lambda n: f"{n:08X}"),
)
# The frame's YY field holds 2000..2099; the codec carries whole seconds.
moments = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31, 23, 59, 59)
                       ).map(lambda d: d.replace(microsecond=0))
freeze_times = st.builds(
    FreezeTime,
    st.none() | st.integers(0, 59),
    st.none() | st.integers(0, 23),
    st.none() | st.integers(1, 31),
    st.none() | st.integers(1, 12),
)


# --- builders: exact bytes ---------------------------------------------------------------------


def test_builders_reproduce_public_frames() -> None:
    assert encode(read(METER, 0x00010000), preamble=0) == bytes.fromhex(
        "68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16")
    assert encode(read("202208310002", 0x028022FF)) == bytes.fromhex(
        "FE FE FE FE 68 02 00 31 08 22 20 68 11 04 32 55 B3 35 D1 16")
    assert encode(read_address()) == bytes.fromhex(
        "FE FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16")
    assert encode(broadcast_time(datetime.datetime(2017, 6, 5, 10, 22, 51)), preamble=0) == (
        bytes.fromhex("68 99 99 99 99 99 99 68 08 06 84 55 43 38 39 4A 4B 16"))
    assert encode(relay("201905241006", Auth(2, "000000"), RelayAction.TRIP, None),
                  preamble=0) == bytes.fromhex(
        "68 06 10 24 05 19 20 68 1C 10 35 33 33 33 33 33 33 33 4D 33 33 33 33 33 33 33 C0 16")
    assert encode(relay("111111111111", Auth(0, "000000"), RelayAction.TRIP,
                        datetime.datetime(2018, 5, 12, 15, 41, 24)), preamble=0) == bytes.fromhex(
        "68 11 11 11 11 11 11 68 1C 10 33 33 33 33 33 33 33 33 4D 33 57 74 48 45 38 4B 55 16")


def test_builder_data_layouts() -> None:
    di = bytes.fromhex("00 01 00 04")  # DI 04000100, DI0 first
    assert write(METER, 0x04000100, b"\x12", AUTH).data == di + AUTH_BYTES + b"\x12"
    assert clear_demand(METER, AUTH) == Frame(METER, 0x19, AUTH_BYTES)
    assert meter_clear(METER, AUTH) == Frame(METER, 0x1A, AUTH_BYTES)
    assert event_clear(METER, AUTH) == Frame(METER, 0x1B, AUTH_BYTES + b"\xff" * 4)
    assert read_follow_up(METER, 0x00010000, 3) == Frame(METER, 0x12, bytes([0, 0, 1, 0, 3]))
    assert write_address("123456789012") == Frame(
        "AAAAAAAAAAAA", 0x15, bytes.fromhex("12 90 78 56 34 12"))
    # Freeze layout mm hh DD MM, 99 = every: the notes' layout (not cross-checked in the notes).
    assert freeze(METER, FreezeTime(minute=30, hour=0, day=1)).data == bytes.fromhex("30 00 01 99")
    assert freeze("999999999999", None).data == bytes.fromhex("99 99 99 99")
    assert change_baud(METER, 9600) == Frame(METER, 0x17, b"\x20")
    assert change_password(METER, 0x04000C03, AUTH, 2, "654321").data == (
        bytes.fromhex("03 0C 00 04") + bytes.fromhex("02 56 34 12") + bytes.fromhex("02 21 43 65"))


def test_baud_codes_are_the_one_bit_map() -> None:
    assert BAUD_CODES == {600: 0x02, 1200: 0x04, 2400: 0x08, 4800: 0x10, 9600: 0x20, 19200: 0x40}
    with pytest.raises(ValueError, match="2500"):
        change_baud(METER, 2500)


def test_relay_actions_and_error_bits_come_from_the_limits() -> None:
    assert {a.name: a.value for a in RelayAction} == {
        "TRIP": 0x1A, "CLOSE_ALLOWED": 0x1B, "DIRECT_CLOSE": 0x1C, "ALARM": 0x2A,
        "ALARM_RELEASE": 0x2B, "HOLD": 0x3A, "HOLD_RELEASE": 0x3B}
    assert ERROR_BITS[1] == "no requested data"
    assert ERROR_BITS[2] == "password wrong / not authorised"
    assert error_byte_of("other error", "baud rate cannot be changed") == 0x09


@pytest.mark.parametrize(("level", "password", "operator"),
                         [(10, "000000", "00000000"), (0, "12345", "00000000"),
                          (0, "000000", "0000000G")])
def test_auth_validates_its_fields(level: int, password: str, operator: str) -> None:
    with pytest.raises(ValueError):
        Auth(level, password, operator)


def test_time_fields_need_a_two_digit_year() -> None:
    with pytest.raises(ValueError, match="year 1999"):
        broadcast_time(datetime.datetime(1999, 12, 31, 23, 59, 59))


def test_write_address_refuses_wildcards() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        write_address("AAAAAA000161")


# --- builder -> parse_request identity -------------------------------------------------------


def _round_trip(frame: Frame) -> object:
    """Through the wire too, so the +0x33 and the checksum are part of the identity."""
    return parse_request(decode(encode(frame)))


@given(address=real_addresses, di=dis, extra=st.binary(max_size=6))
def test_read_round_trip(address: str, di: int, extra: bytes) -> None:
    assert _round_trip(read(address, di, extra)) == ReadRequest(di, extra)


@given(address=real_addresses, di=dis, seq=st.integers(0, 255))
def test_read_follow_up_round_trip(address: str, di: int, seq: int) -> None:
    assert _round_trip(read_follow_up(address, di, seq)) == ReadFollowUpRequest(di, seq)


def test_read_address_round_trip() -> None:
    assert _round_trip(read_address()) == ReadAddressRequest()


@given(address=real_addresses, di=dis, value=st.binary(max_size=38), auth=auths)
def test_write_round_trip(address: str, di: int, value: bytes, auth: Auth) -> None:
    assert _round_trip(write(address, di, value, auth)) == WriteRequest(di, auth, value)


@given(when=moments)
def test_broadcast_time_round_trip(when: datetime.datetime) -> None:
    assert _round_trip(broadcast_time(when)) == BroadcastTimeRequest(when)


@given(new_address=real_addresses)
def test_write_address_round_trip(new_address: str) -> None:
    assert _round_trip(write_address(new_address)) == WriteAddressRequest(new_address)


@given(address=real_addresses, when=freeze_times)
def test_freeze_round_trip(address: str, when: FreezeTime) -> None:
    assert _round_trip(freeze(address, when)) == FreezeRequest(when)


@given(address=real_addresses, baudrate=st.sampled_from(sorted(BAUD_CODES)))
def test_change_baud_round_trip(address: str, baudrate: int) -> None:
    assert _round_trip(change_baud(address, baudrate)) == ChangeBaudRequest(baudrate)


@given(address=real_addresses, di=dis, old=auths, new=auths)
def test_change_password_round_trip(address: str, di: int, old: Auth, new: Auth) -> None:
    parsed = _round_trip(change_password(address, di, old, new.level, new.password))
    # The frame carries no operator code, so the parsed old Auth has the default one.
    assert parsed == ChangePasswordRequest(di, Auth(old.level, old.password), new.level,
                                           new.password)


@given(address=real_addresses, auth=auths, di=dis)
def test_clear_round_trips(address: str, auth: Auth, di: int) -> None:
    assert _round_trip(clear_demand(address, auth)) == ClearDemandRequest(auth)
    assert _round_trip(meter_clear(address, auth)) == MeterClearRequest(auth)
    assert _round_trip(event_clear(address, auth, di)) == EventClearRequest(auth, di)


@given(address=real_addresses, auth=auths, action=st.sampled_from(list(RelayAction)),
       expiry=st.none() | moments)
def test_relay_round_trip(address: str, auth: Auth, action: RelayAction,
                          expiry: datetime.datetime | None) -> None:
    assert _round_trip(relay(address, auth, action, expiry)) == RelayRequest(auth, action, expiry)


# --- malformed requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message", "error"),
    [
        (Frame(METER, 0x91, bytes(4)), "D7", 0x01),
        (Frame(METER, 0x1D, b"\x00"), "function 1D", 0x01),
        (Frame(METER, 0x11, bytes(3)), "at least 4", 0x01),
        (Frame(METER, 0x1C, bytes(15)), "needs 16", 0x01),
        (Frame(METER, 0x17, b"\x03"), "Z=0x03", 0x08),
        (Frame(METER, 0x1C, AUTH_BYTES + bytes([0x1F]) + bytes(7)), "N1=0x1F", 0x01),
        (Frame("999999999999", 0x08, bytes.fromhex("00 00 00 32 13 17")), "BROADCAST_TIME", 0x01),
        (Frame("999999999999", 0x08, bytes.fromhex("00 00 00 1A 01 17")), "not BCD", 0x01),
        (Frame("AAAAAAAAAAAA", 0x15, bytes.fromhex("61 01 00 AA AA AA")), "wildcard", 0x01),
        (Frame(METER, 0x19, bytes([0x0A]) + bytes(7)), "level", 0x01),
    ],
)
def test_malformed_requests_raise_request_error(frame: Frame, message: str, error: int) -> None:
    with pytest.raises(RequestError, match=message) as caught:
        parse_request(frame)
    assert caught.value.frame == frame
    assert caught.value.error_byte == error


# --- reply builders ----------------------------------------------------------------------------


def test_reply_builders() -> None:
    request = read(METER, 0x00010000)
    data = read_reply_data(0x00010000, bytes.fromhex("02 00 00 00"))
    assert data == bytes.fromhex("00 00 01 00 02 00 00 00")
    assert normal_reply(request, METER, data) == Frame(METER, 0x91, data)
    assert normal_reply(request, METER, data, follow_up=True).control == 0xB1
    assert abnormal_reply(request, METER, 0x02) == Frame(METER, 0xD1, b"\x02")
    assert read_reply_data(0x00010000, b"\x01", seq=7) == bytes([0, 0, 1, 0, 1, 7])


def test_no_reply_to_broadcast_or_to_a_reply() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        normal_reply(freeze("999999999999", None), METER)
    with pytest.raises(ValueError, match="only requests"):
        abnormal_reply(Frame(METER, 0x91), METER, 0x01)


# --- check_reply / parse_read_reply -----------------------------------------------------------


def test_abnormal_reply_names_the_bits() -> None:
    reply = decode(bytes.fromhex("68 12 90 78 56 34 12 68 D1 01 35 8D 16"))
    with pytest.raises(AbnormalReply) as caught:
        check_reply(read("123456789012", 0x00010000), reply)
    assert caught.value.errors == ("no requested data",)
    assert (caught.value.function, caught.value.error_byte) == (Function.READ, 0x02)
    assert str(caught.value) == "abnormal reply D1, error byte 0x02: no requested data"


def test_abnormal_reply_with_several_bits() -> None:
    request = write(METER, 0x04000100, b"\x00", AUTH)
    with pytest.raises(AbnormalReply) as caught:
        check_reply(request, abnormal_reply(request, METER, 0x05))
    assert caught.value.errors == ("other error", "password wrong / not authorised")
    assert str(caught.value).startswith("abnormal reply D4, error byte 0x05")


def _energy_reply(address: str = METER, di: int = 0x00010000, control: int = 0x91) -> Frame:
    return Frame(address, control, read_reply_data(di, bytes.fromhex("02 00 00 00")))


@pytest.mark.parametrize(
    ("request_frame", "reply", "message"),
    [
        (read(METER, 0x00010000), _energy_reply(di=0x00020000), "DI 00020000"),
        (read(METER, 0x00010000), _energy_reply(control=0x92), "function 12"),
        (read(METER, 0x00010000), _energy_reply(control=0x11), "D7"),
        (read(METER, 0x00010000), _energy_reply(address="000000000162"), "000000000162"),
        (read("AAAAAA000161", 0x00010000), _energy_reply(address="123456000162"), "match"),
        (read(METER, 0x00010000), _energy_reply(address="AAAAAAAAAAAA"), "wildcard"),
        (read("999999999999", 0x00010000), _energy_reply(), "broadcast"),
        (read(METER, 0x00010000), Frame(METER, 0xD1, b"\x02\x00"), "2 data bytes"),
        (read(METER, 0x00010000), Frame(METER, 0x91, b"\x00\x00"), "DI 0000"),
        (read_follow_up(METER, 0x00010000, 2), Frame(METER, 0x92, bytes([0, 0, 1, 0, 9, 3])),
         "SEQ 3"),
    ],
)
def test_reply_mismatch(request_frame: Frame, reply: Frame, message: str) -> None:
    with pytest.raises(ReplyMismatch, match=message):
        check_reply(request_frame, reply)


@pytest.mark.parametrize("pattern", ["AAAAAAAAAAAA", "AAAAAA000161", "AAAAAAAAAA61"])
def test_wildcard_request_accepts_the_real_address(pattern: str) -> None:
    reply = parse_read_reply(read(pattern, 0x00010000), _energy_reply())
    assert reply == ReadReply(0x00010000, bytes.fromhex("02 00 00 00"), False, None)


def test_parse_read_reply_follow_up() -> None:
    request = read_follow_up(METER, 0x0001FF00, 1)
    reply = normal_reply(request, METER, read_reply_data(0x0001FF00, b"\x10\x00\x00\x00", seq=1),
                         follow_up=True)
    assert parse_read_reply(request, reply) == ReadReply(0x0001FF00, b"\x10\x00\x00\x00", True, 1)


def test_parse_read_reply_needs_a_read_request() -> None:
    with pytest.raises(ValueError, match="not a read"):
        parse_read_reply(meter_clear(METER, AUTH), _energy_reply())


def test_read_address_reply() -> None:
    reply = decode(bytes.fromhex("68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16"))
    assert parse_read_address_reply(read_address(), reply) == "000000000001"
    forged = Frame("000000000002", 0x93, reply.data)
    with pytest.raises(ReplyMismatch, match="frame header 000000000002"):
        parse_read_address_reply(read_address(), forged)
    short = Frame("000000000001", 0x93, reply.data[:5])
    with pytest.raises(ReplyMismatch, match="read-address reply carries 5 bytes, not 6"):
        check_reply(read_address(), short)  # what the master's engine checks every reply with
