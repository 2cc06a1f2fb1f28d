"""The toy protocol's master over a meterrig Link, its CLI reader and its timing rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meterrig.limits.figures import TimingFigure, measured
from meterrig.link.exchange import Exchange
from meterrig.measure import Limits
from meterrig.meter import GarbledReply, NoReply

from . import codec

REPLY_DELAY = Limits(high=500.0, source=codec.CLAUSES["timing"], unit="ms")


class ToyMaster:
    def __init__(self, link: Any, address: str, *, reply_window: float, retries: int) -> None:
        self.link = link
        self.address = address
        self.reply_window = reply_window
        self.retries = retries

    def read(self, item: str) -> codec.Message:
        for attempt in range(1, self.retries + 2):
            exchange = self.link.exchange(
                codec.request(self.address, item), codec.LineSplitter(),
                reply_window=self.reply_window, byte_gap_limit=self.reply_window,
                label=f"read {item}", attempt=attempt)
            if exchange.answered:
                try:
                    return codec.parse(exchange.reply)
                except ValueError as exc:
                    raise GarbledReply(f"toy device {self.address}: {exc}", exc) from exc
        raise NoReply(f"toy device {self.address}: no reply to read {item}")


def master(link: Any, position: Any, bus: Any) -> ToyMaster:
    return ToyMaster(link, position.address, reply_window=bus.reply_timeout_ms / 1000,
                     retries=bus.retries)


def reader(position: Any, item: str) -> Callable[[ToyMaster], str]:
    if item not in codec.ITEMS:
        raise ValueError(f"{item!r} is no toy item; items: {', '.join(codec.ITEMS)}")
    return lambda client: client.read(item).body


def exchange_timing(exchange: Exchange) -> list[TimingFigure]:
    return [measured("toy reply delay", exchange.response_delay_bounds, REPLY_DELAY, exchange, 1,
                     floor=0.0, key="toy.reply_delay",
                     impossible="a reply cannot begin before the request has ended")]
