"""The lab's encryption unit for ESAM money transactions, driven through its command map like
any instrument (the rig file names it under instruments:, its map gives its commands). It is
the security module the prepaid suites use; on the simulated bench the unit is the bench key
module behind a SCPI server (not the real ESAM algorithm)."""

from __future__ import annotations

import attrs

from ..protocols.dlt645.security import Session
from .visa import InstrumentError, VisaInstrument


def _bytes(io: VisaInstrument, what: str, reply: str) -> bytes:
    try:
        return bytes.fromhex(reply)
    except ValueError:
        raise InstrumentError(f"{io.label}: {what} answered {reply!r}, not hex") from None


@attrs.define
class SecurityUnit:
    """meterrig.protocols.dlt645.security.SecurityModule over a VISA instrument."""

    io: VisaInstrument

    def random(self) -> bytes:
        return _bytes(self.io, "random", self.io.query("random"))

    def authenticate(self, random1: bytes, dispersion: bytes) -> bytes:
        return _bytes(self.io, "authenticate", self.io.query(
            "authenticate", random=random1.hex(), dispersion=dispersion.hex()))

    def sign_recharge(self, session: Session, amount_fen: int, count: int,
                      customer: str) -> tuple[bytes, bytes]:
        reply = self.io.query("sign_recharge", random1=session.random1.hex(),
                              random2=session.random2.hex(), dispersion=session.dispersion.hex(),
                              amount_fen=amount_fen, count=count, customer=customer)
        macs = reply.split(",")
        if len(macs) != 2:
            raise InstrumentError(f"{self.io.label}: sign_recharge answered {reply!r}, not "
                                  "MAC 1,MAC 2")
        return _bytes(self.io, "sign_recharge", macs[0]), _bytes(self.io, "sign_recharge", macs[1])

    def verify_reply_mac(self, session: Session, data: bytes, mac: bytes) -> bool:
        return self.io.query("verify_reply_mac", random1=session.random1.hex(),
                             random2=session.random2.hex(), dispersion=session.dispersion.hex(),
                             data=data.hex(), mac=mac.hex())

    def close(self) -> None:
        self.io.close()
