"""Every public DL/T 645 vector in tests/data/vectors.yaml decodes to its stated meaning."""

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from meterrig.protocols.dlt645 import (
    CATALOGUE,
    AbnormalReply,
    BadChecksum,
    BroadcastTimeRequest,
    Frame,
    FrameSplitter,
    Function,
    RelayRequest,
    check_reply,
    decode,
    encode,
    parse_read_address_reply,
    parse_read_reply,
    parse_request,
    read,
    read_address,
    v1997,
)

VECTORS_PATH = Path(__file__).parents[1] / "data" / "vectors.yaml"


def _load_vectors() -> dict[str, Any]:
    # The copied file nests a `negative:` key inside the dlt645_2007 list, which is not valid
    # YAML. The copy stays verbatim; the key is lifted to the top level here before parsing.
    text = VECTORS_PATH.read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("\n  negative:", "\ndlt645_2007_negative:", 1))


VECTORS = _load_vectors()


def _by_id(section: str) -> list[Any]:
    return [pytest.param(v, id=v["id"]) for v in VECTORS[section]]


def _expected(meaning: dict[str, Any]) -> dict[str, Any]:
    """The YAML meaning in the codec's types: exact decimals, datetimes."""
    out = dict(meaning)
    if isinstance(out.get("value"), float):
        out["value"] = Decimal(str(out["value"]))
    for key in ("time", "expiry"):
        if out.get(key) is not None:
            out[key] = datetime.datetime.fromisoformat(out[key])
    return out


def _meaning_2007(frame: Frame) -> dict[str, Any]:
    """What the codec makes of a frame, in the vectors' terms."""
    out: dict[str, Any] = {"address": frame.address, "control": frame.control,
                           "data": frame.data.hex()}
    if not frame.from_slave:
        request = parse_request(frame)
        if hasattr(request, "di"):
            out["di"] = request.di
        if isinstance(request, BroadcastTimeRequest):
            out["time"] = request.when
        if isinstance(request, RelayRequest):
            out.update(password_level=request.auth.level, password=request.auth.password,
                       operator=request.auth.operator, n1=request.action,
                       expiry=request.expiry)
    elif frame.abnormal:
        # Any DI will do: an abnormal reply carries no DI.
        with pytest.raises(AbnormalReply) as caught:
            check_reply(Frame(frame.address, frame.function, bytes(4)), frame)
        out.update(error_byte=caught.value.error_byte, error=", ".join(caught.value.errors))
    elif frame.function == Function.READ_ADDRESS:
        out["reply_address"] = parse_read_address_reply(read_address(), frame)
    else:
        di = int.from_bytes(frame.data[:4], "little")
        reply = parse_read_reply(read(frame.address, di), frame)
        quantity = CATALOGUE[reply.di].decode(reply.value)
        out.update(di=reply.di, value=quantity.value, unit=quantity.unit)
    return out


@pytest.mark.parametrize("vector", _by_id("dlt645_2007"))
def test_2007_vector_means_what_it_says(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    frame = decode(raw)
    meaning = _meaning_2007(frame)
    expected = _expected(vector["meaning"])
    assert {key: meaning[key] for key in expected} == expected
    # Re-encoding with the same preamble gives the public bytes back.
    preamble = len(raw) - len(raw.lstrip(b"\xfe"))
    assert encode(frame, preamble=preamble) == raw


@pytest.mark.parametrize("vector", _by_id("dlt645_2007_negative"))
def test_wrong_checksum_vector_is_rejected(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    with pytest.raises(BadChecksum) as caught:
        decode(raw)
    assert caught.value.expected == vector["correct_cs"]
    assert caught.value.actual == raw[-2]
    # The splitter still delivers it: judging the checksum is decode's job.
    assert FrameSplitter().feed(raw) == [raw]


@pytest.mark.parametrize("vector", _by_id("dlt645_1997"))
def test_1997_vector_means_what_it_says(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    frame = decode(raw)
    di = int.from_bytes(frame.data[:2], "little")
    reply = v1997.parse_read_reply(v1997.read(frame.address, di), frame)
    quantity = v1997.CATALOGUE[reply.di].decode(reply.value)
    meaning = {"address": frame.address, "control": frame.control, "di": reply.di,
               "value": quantity.value, "unit": quantity.unit}
    expected = _expected(vector["meaning"])
    assert {key: meaning[key] for key in expected} == expected
    assert encode(frame, preamble=0) == raw


def test_every_dlt645_vector_is_exercised() -> None:
    counts = {s: len(VECTORS[s]) for s in ("dlt645_2007", "dlt645_2007_negative", "dlt645_1997")}
    assert counts == {"dlt645_2007": 9, "dlt645_2007_negative": 2, "dlt645_1997": 1}
