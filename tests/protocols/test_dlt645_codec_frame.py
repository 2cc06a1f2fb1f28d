"""Frame codec and streaming splitter of DL/T 645."""

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from meterrig.protocols.dlt645 import (
    BadAddress,
    BadChecksum,
    BadLength,
    BadStart,
    Frame,
    FrameError,
    FrameSplitter,
    LengthLimitExceeded,
    MissingEnd,
    Truncated,
    address_matches,
    decode,
    encode,
)
from meterrig.protocols.dlt645.frame import LIMITS_PATH

READ_ENERGY = bytes.fromhex("68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16")


def wire(address_low_first: str, control: int, plain: bytes) -> bytes:
    """A frame built by hand, independently of the codec: +0x33 on data, CS over 68..data."""
    body = bytes([0x68, *bytes.fromhex(address_low_first), 0x68, control, len(plain)])
    body += bytes((b + 0x33) % 256 for b in plain)
    return body + bytes([sum(body) % 256, 0x16])


bcd_or_wildcard_byte = st.one_of(
    st.integers(0, 99).map(lambda n: f"{n:02d}"), st.just("AA")
)
addresses = st.lists(bcd_or_wildcard_byte, min_size=6, max_size=6).map("".join)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    control = draw(st.integers(0, 0xFF))
    if control & 0x80:
        limit = 200
    elif control & 0x1F == 0x14:
        limit = 50
    else:
        limit = 255
    return Frame(draw(addresses), control, draw(st.binary(max_size=limit)))


def test_control_bits() -> None:
    frame = Frame("000000000161", 0xB1)
    assert (frame.function, frame.from_slave, frame.abnormal, frame.follow_up) == (
        0x11, True, False, True)
    error = Frame("000000000161", 0xD4)
    assert (error.function, error.from_slave, error.abnormal, error.follow_up) == (
        0x14, True, True, False)


def test_encode_matches_a_public_frame() -> None:
    frame = Frame("000000000161", 0x11, bytes([0x00, 0x00, 0x01, 0x00]))
    assert encode(frame, preamble=0) == READ_ENERGY
    assert encode(frame) == b"\xfe" * 4 + READ_ENERGY


def test_address_travels_lowest_byte_first() -> None:
    raw = encode(Frame("123456789012", 0x13), preamble=0)
    assert raw[1:7] == bytes.fromhex("12 90 78 56 34 12")
    assert decode(wire("12 90 78 56 34 12", 0x13, b"")).address == "123456789012"


def test_lowercase_address_is_normalised() -> None:
    assert Frame("aaaaaaaaaaaa", 0x13).address == "AAAAAAAAAAAA"


@given(frame=frames(), preamble=st.integers(0, 4))
def test_encode_decode_round_trip(frame: Frame, preamble: int) -> None:
    raw = encode(frame, preamble=preamble)
    assert raw[:preamble] == b"\xfe" * preamble
    assert decode(raw) == frame


@given(fe_count=st.integers(0, 12))
def test_decode_skips_any_number_of_fe(fe_count: int) -> None:
    assert decode(b"\xfe" * fe_count + READ_ENERGY).data == bytes([0, 0, 1, 0])


def test_encode_rejects_preamble_outside_the_spec() -> None:
    with pytest.raises(ValueError, match="preamble"):
        encode(Frame("000000000161", 0x11), preamble=5)


@given(cut=st.integers(0, len(READ_ENERGY) - 1))
def test_truncated(cut: int) -> None:
    with pytest.raises(Truncated) as caught:
        decode(READ_ENERGY[:cut])
    assert caught.value.raw == READ_ENERGY[:cut]


def test_missing_end() -> None:
    raw = READ_ENERGY[:-1] + b"\x00"
    with pytest.raises(MissingEnd, match="not 16"):
        decode(raw)


def test_bad_checksum_reports_both_values() -> None:
    raw = READ_ENERGY[:-2] + bytes([0x15, 0x16])
    with pytest.raises(BadChecksum) as caught:
        decode(raw)
    assert (caught.value.expected, caught.value.actual) == (0x14, 0x15)
    assert caught.value.raw == raw
    assert "checksum" in str(caught.value)


def test_second_68_missing() -> None:
    raw = bytearray(READ_ENERGY)
    raw[7] = 0x00
    with pytest.raises(BadStart, match="second 68"):
        decode(bytes(raw))


def test_bad_first_byte() -> None:
    with pytest.raises(BadStart, match="not 68"):
        decode(b"\x00" + READ_ENERGY[1:])


def test_bytes_after_the_end_are_a_length_error() -> None:
    with pytest.raises(BadLength, match="L=4"):
        decode(READ_ENERGY + b"\x16")


@pytest.mark.parametrize(
    ("control", "length", "allowed"),
    [
        (0x91, 200, True),  # read reply at the limit
        (0x91, 201, False),
        (0xB2, 201, False),  # any reply
        (0x14, 50, True),  # write request at the limit
        (0x14, 51, False),
        (0x11, 51, True),  # the write limit is for writes only
    ],
)
def test_length_limit_by_direction(control: int, length: int, allowed: bool) -> None:
    raw = wire("61 01 00 00 00 00", control, bytes(length))
    frame = Frame("000000000161", control, bytes(length))
    if allowed:
        assert decode(raw) == frame
        assert encode(frame, preamble=0) == raw
    else:
        with pytest.raises(LengthLimitExceeded, match=f"L={length}"):
            decode(raw)
        with pytest.raises(LengthLimitExceeded):
            encode(frame)


def test_length_limit_is_a_length_error() -> None:
    assert issubclass(LengthLimitExceeded, BadLength)
    assert all(issubclass(e, FrameError) and issubclass(e, ValueError)
               for e in (BadStart, BadChecksum, BadLength, MissingEnd, Truncated, BadAddress))


@pytest.mark.parametrize("address_byte", [0x1A, 0xA1, 0xFF, 0x0B])
def test_non_bcd_address_in_a_frame(address_byte: int) -> None:
    raw = wire(f"61 01 00 00 00 {address_byte:02X}", 0x11, bytes(4))
    with pytest.raises(BadAddress) as caught:
        decode(raw)
    assert caught.value.raw == raw


@pytest.mark.parametrize("address", ["1A0000000161", "A00000000161", "00000000161", "0000000001G1"])
def test_non_bcd_address_in_a_frame_object(address: str) -> None:
    with pytest.raises(BadAddress):
        Frame(address, 0x11)


def test_address_matches_wildcard_bytes_only() -> None:
    assert address_matches("AAAAAAAAAAAA", "000000000161")
    assert address_matches("AAAAAA000161", "123456000161")
    assert not address_matches("AAAAAA000162", "123456000161")
    assert not address_matches("000000000162", "000000000161")


def test_limits_file_sections_name_their_source() -> None:
    limits = yaml.safe_load(LIMITS_PATH.read_text(encoding="utf-8"))
    sections = [v for v in limits.values() if isinstance(v, dict)]
    assert sections and all(s.get("source") for s in sections)
    assert limits["timing_ms"] == {"source": limits["timing_ms"]["source"], "td_min": 20,
                                   "td_max": 500, "tb_max": 500}
    assert limits["character"]["bits_per_character"] == 11


# --- splitter --------------------------------------------------------------------------------

# Noise without 68 cannot open a header, so the frames a stream holds are known exactly.
noise = st.binary(max_size=20).map(lambda b: b.replace(b"\x68", b""))


@st.composite
def noisy_streams(draw: st.DrawFn) -> tuple[list[bytes], bytes, int]:
    """(frames without preamble, the stream, count of non-FE noise bytes)."""
    found, stream, junk = [], b"", 0
    for frame in draw(st.lists(frames(), max_size=5)):
        before = draw(noise)
        raw = encode(frame, preamble=draw(st.integers(0, 4)))
        found.append(raw.lstrip(b"\xfe"))
        stream += before + raw
        junk += len(before.replace(b"\xfe", b""))
    after = draw(noise)
    return found, stream + after, junk + len(after.replace(b"\xfe", b""))


@given(data=noisy_streams(), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_splitter_finds_exactly_the_frames(data: tuple[list[bytes], bytes, int],
                                           cuts: list[int]) -> None:
    expected, stream, junk = data
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    splitter = FrameSplitter()
    found = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        found += splitter.feed(stream[start:end])
    assert found == expected
    assert splitter.discarded == junk
    assert splitter.complete() == bool(expected)


def test_splitter_rejects_a_false_header_in_noise() -> None:
    # 68 <6 bytes> 68 00 00 looks like a header, but its end byte is CD, not 16.
    false_header = bytes.fromhex("68 11 22 33 44 55 66 68 11 00 AB CD")
    splitter = FrameSplitter()
    assert splitter.feed(false_header + READ_ENERGY) == [READ_ENERGY]
    assert splitter.discarded == len(false_header)


def test_splitter_leaves_the_checksum_to_decode() -> None:
    corrupted = READ_ENERGY[:-2] + bytes([0x00, 0x16])
    [candidate] = FrameSplitter().feed(corrupted)
    with pytest.raises(BadChecksum):
        decode(candidate)


def test_splitter_keeps_partial_data_and_resets() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(b"\x01\xfe" + READ_ENERGY[:-1]) == []
    assert not splitter.complete()
    assert splitter.feed(READ_ENERGY[-1:]) == [READ_ENERGY]
    assert splitter.complete()
    assert splitter.discarded == 1  # the 01; FE is preamble, not noise

    splitter.feed(READ_ENERGY[:5])
    splitter.reset()
    assert (splitter.complete(), splitter.discarded) == (False, 0)
    assert splitter.feed(READ_ENERGY[5:]) == []  # the partial frame went with the reset
