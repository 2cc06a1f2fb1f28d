"""Money through the ESAM: control code 03 frames, the security-module interface, and the bench
module that stands in for the real algorithm on the simulated bench.

The real ESAM algorithms live in the lab's encryption unit, not in public: a real bench drives
that unit as an instrument (meterrig/instruments/security_unit.py, docs/prepaid.md). The frame
layout and the SERR bits are assumptions (security.yaml says which and why).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Protocol

import attrs
import yaml

from .commands import di_bytes
from .frame import ABNORMAL_BIT, DIRECTION_BIT, Frame

SECURITY = 0x03  # control code of security authentication (notes: 03, reply 83, abnormal C3)
RANDOM_LENGTH = 8
MAC_LENGTH = 4
FEN = Decimal("0.01")  # the amount travels in fen (0.01 yuan)


@cache
def _data() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("security.yaml").read_text(
        encoding="utf-8"))


def command_di(name: str) -> int:
    return int(_data()["commands"][name]["di"], 16)


def serr_meanings(serr: int) -> tuple[str, ...]:
    bits = _data()["serr_bits"]
    return tuple(bits.get(bit, f"bit {bit}") for bit in range(16) if serr >> bit & 1)


def serr_of(meaning: str) -> int:
    return next(1 << bit for bit, text in _data()["serr_bits"].items() if text == meaning)


SOURCE = _data()["source"]


@attrs.frozen
class Session:
    """What one identity authentication established: both random numbers and the meter's
    dispersion factor (the modules are stateless: each call gets the session)."""

    random1: bytes
    random2: bytes
    dispersion: bytes


def dispersion_of(address: str) -> bytes:
    """The dispersion factor of a meter: 00 00 and its address (ASSUMPTION)."""
    return bytes(2) + bytes.fromhex(address)


class SecurityModule(Protocol):
    """What the rig needs of an ESAM-side security module (a lab encryption unit, or the bench
    module): all byte strings as on the wire."""

    def random(self) -> bytes: ...

    def authenticate(self, random1: bytes, dispersion: bytes) -> bytes:
        """Ciphertext 1 for identity authentication with this random number."""

    def sign_recharge(self, session: Session, amount_fen: int, count: int,
                      customer: str) -> tuple[bytes, bytes]:
        """MAC 1 (amount and count) and MAC 2 (customer number) of a recharge."""

    def verify_reply_mac(self, session: Session, data: bytes, mac: bytes) -> bool:
        """Whether a meter's reply data carry the MAC of this session."""


# NOT THE REAL ESAM ALGORITHM. HMAC-SHA256 under a key everyone can read, so that the simulated
# bench can refuse a bad MAC or a replay: it proves the rig's handling, never a meter's ESAM.
BENCH_KEY = b"meterrig bench key - not the ESAM algorithm"


def _mac(key: bytes, *parts: bytes, length: int = MAC_LENGTH) -> bytes:
    return hmac.new(key, b"|".join(parts), hashlib.sha256).digest()[:length]


class BenchKeyModule:
    """The simulated bench's security module (both sides: the rig's unit and the meter's
    ESAM). Labelled everywhere as not the real algorithm."""

    label = "bench key module (HMAC-SHA256, NOT the real ESAM algorithm)"

    def __init__(self, key: bytes = BENCH_KEY) -> None:
        self._key = key

    def _meter_key(self, dispersion: bytes) -> bytes:
        return _mac(self._key, b"meter", dispersion, length=16)

    def _session_key(self, session: Session) -> bytes:
        return _mac(self._meter_key(session.dispersion), b"session", session.random1,
                    session.random2, length=16)

    def random(self) -> bytes:
        return os.urandom(RANDOM_LENGTH)

    def authenticate(self, random1: bytes, dispersion: bytes) -> bytes:
        return _mac(self._meter_key(dispersion), b"auth", random1, length=8)

    def sign_recharge(self, session: Session, amount_fen: int, count: int,
                      customer: str) -> tuple[bytes, bytes]:
        key = self._session_key(session)
        return (_mac(key, b"amount", amount_fen.to_bytes(4, "little"), count.to_bytes(4, "little")),
                _mac(key, b"customer", customer.encode()))

    def reply_mac(self, session: Session, data: bytes) -> bytes:
        return _mac(self._session_key(session), b"reply", data)

    def verify_reply_mac(self, session: Session, data: bytes, mac: bytes) -> bool:
        return hmac.compare_digest(self.reply_mac(session, data), mac)


# --- frames --------------------------------------------------------------------------------


def _operator(operator: str) -> bytes:
    return bytes.fromhex(operator)[::-1]


def authenticate_request(address: str, operator: str, ciphertext: bytes, random1: bytes,
                         dispersion: bytes) -> Frame:
    data = di_bytes(command_di("authenticate")) + _operator(operator) + ciphertext + random1 \
        + dispersion
    return Frame(address, SECURITY, data)


@attrs.frozen
class Recharge:
    amount_fen: int
    count: int
    mac1: bytes
    customer: str  # 12 digits, as printed
    mac2: bytes

    def to_bytes(self) -> bytes:
        return (self.amount_fen.to_bytes(4, "little") + self.count.to_bytes(4, "little")
                + self.mac1 + bytes.fromhex(self.customer)[::-1] + self.mac2)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Recharge:
        if len(raw) != 22:
            raise ValueError(f"a recharge carries 22 bytes, got {len(raw)}")
        return cls(int.from_bytes(raw[:4], "little"), int.from_bytes(raw[4:8], "little"),
                   raw[8:12], raw[12:18][::-1].hex(), raw[18:22])


def recharge_request(address: str, operator: str, recharge: Recharge) -> Frame:
    data = di_bytes(command_di("recharge")) + _operator(operator) + recharge.to_bytes()
    return Frame(address, SECURITY, data)


@attrs.frozen
class SecurityRequest:
    """A control code 03 request as a meter reads it: its command DI and what follows the
    operator code."""

    di: int
    body: bytes

    @classmethod
    def parse(cls, frame: Frame) -> SecurityRequest:
        if len(frame.data) < 8:
            raise ValueError(f"a security request carries at least 8 bytes, got "
                             f"{len(frame.data)}")
        return cls(int.from_bytes(frame.data[:4], "little"), frame.data[8:])


def security_reply(request: Frame, address: str, data: bytes) -> Frame:
    return Frame(address, DIRECTION_BIT | SECURITY, data)


def security_refusal(request: Frame, address: str, serr: int) -> Frame:
    return Frame(address, DIRECTION_BIT | ABNORMAL_BIT | SECURITY, serr.to_bytes(2, "little"))


class SecurityRefused(Exception):
    """The meter answered a security request with C3 and this SERR."""

    def __init__(self, serr: int, label: str) -> None:
        self.serr = serr
        self.meanings = serr_meanings(serr)
        super().__init__(f"{label}: abnormal reply C3, SERR 0x{serr:04X}: "
                         f"{', '.join(self.meanings) or 'no bit set'}")
