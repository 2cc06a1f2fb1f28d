"""The simulated power-line network between a carrier module and its meters.

A frame crosses the mains hop by hop. Each hop has an SNR: the module's transmit level less the
hop's attenuation, against the line noise in the carrier band (the bench's own plus what the
line-noise injector puts in that band). The SNR gives a bit error rate for differential BPSK,
and the frame is lost with probability 1 - (1 - BER)^bits. The module retries on one route; a
meter too weak to reach directly is reached through other meters, on the route whose weakest hop
is strongest; a route that failed is found again on the next read. The model, its formulas and
its parameters (plc-network.yaml beside this file) are in docs/plc-network.md.

Everything the line instruments set comes from the one physics model (`physics.line`), so every
simulated device sees the same line. Randomness comes from one seeded generator: a run repeats.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import attrs
import yaml

from ..protocols.dlt645.frame import address_bytes, decode
from .carrier_path import RelayResult
from .defects import Defects
from .physics import LineState

PREAMBLE_BYTE = 0xFE
MAX_SIGNAL_QUALITY = 15
Hop = tuple[bytes | None, bytes]  # (from, to); None is the module


@cache
def _table() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("plc-network.yaml").read_text())


@attrs.frozen
class NetworkParameters:
    """The model's parameters; `shipped()` reads them, with their sources, from the data file."""

    carrier_band_hz: tuple[float, float]
    bit_rate_bps: float
    phy_overhead_bytes: int
    transmit_level_dbuv: float
    background_noise_dbuv: float
    hop_loss_db: float
    cross_phase_db: float
    processing_s: float
    retries: int
    retry_backoff_s: float
    answer_timeout_s: float
    hop_timeout_s: float
    max_relays: int
    route_snr_db: float
    quality_zero_snr_db: float
    quality_step_db: float
    collapse_noise_dbuv: float

    @classmethod
    def shipped(cls) -> NetworkParameters:
        table = _table()
        values = {name: entry["value"] for name, entry in table.items() if "value" in entry}
        values["carrier_band_hz"] = tuple(values["carrier_band_hz"])
        values["quality_zero_snr_db"] = table["signal_quality"]["zero_snr_db"]
        values["quality_step_db"] = table["signal_quality"]["step_db"]
        return cls(**values)

    @property
    def bandwidth_hz(self) -> float:
        low, high = self.carrier_band_hz
        return high - low

    def airtime_s(self, frame_bytes: int) -> float:
        return (frame_bytes + self.phy_overhead_bytes) * 8 / self.bit_rate_bps

    def hop_time_s(self, frame_bytes: int) -> float:
        """One hop: the frame on the wire, then the receiving node's processing."""
        return self.airtime_s(frame_bytes) + self.processing_s

    def bit_error_rate(self, snr_db: float) -> float:
        """Differential BPSK in white noise: BER = 1/2 exp(-Eb/N0), Eb/N0 = SNR * B / R."""
        eb_n0 = 10 ** (snr_db / 10) * self.bandwidth_hz / self.bit_rate_bps
        return 0.5 * math.exp(-eb_n0)

    def frame_loss(self, snr_db: float, frame_bytes: int) -> float:
        """P(a frame has a bit error) = 1 - (1 - BER)^bits, PHY overhead included."""
        bits = (frame_bytes + self.phy_overhead_bytes) * 8
        return -math.expm1(bits * math.log1p(-self.bit_error_rate(snr_db)))

    def signal_quality(self, snr_db: float) -> int:
        step = math.floor((snr_db - self.quality_zero_snr_db) / self.quality_step_db)
        return min(max(step, 0), MAX_SIGNAL_QUALITY)

    def injected_in_band_dbuv(self, line: LineState) -> float:
        """The injector's level (total over its band) falling in the carrier band, noise
        spread evenly over the injector's band; -inf when none of it does."""
        low, high = self.carrier_band_hz
        overlap = min(high, line.noise_stop_hz) - max(low, line.noise_start_hz)
        if overlap <= 0:
            return -math.inf
        return line.noise_dbuv + 10 * math.log10(overlap / (line.noise_stop_hz
                                                            - line.noise_start_hz))


def _power_sum_db(*levels: float) -> float:
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels if level > -math.inf))


@attrs.frozen
class Node:
    """A meter on the network: its simulated device and where it sits on the line."""

    address: bytes  # 6 bytes, lowest first, as in the 1376.2 address field and on the wire
    meter: Any  # a simulated meter: answer(frame, had_preamble) -> Transmission | None
    path_db: float  # line attenuation from the module, attenuator excluded
    phase: int = 0  # 1..3, 0 unknown


@attrs.frozen
class _Attempt:
    reply: bytes | None
    seconds: float
    signal_quality: int = 0


class PlcNetwork:
    """A `CarrierPath` over the simulated mains (meterrig/sim/carrier_path.py)."""

    def __init__(self, physics: Any, nodes: Iterable[Node], *,
                 parameters: NetworkParameters | None = None, defects: Defects | None = None,
                 seed: int = 0, retries: int | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.physics = physics
        self.nodes = {node.address: node for node in nodes}
        self.parameters = parameters or NetworkParameters.shipped()
        self.retries = self.parameters.retries if retries is None else retries
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        self.defects = defects or Defects()
        self._rng = random.Random(seed)
        self._now = now
        self._routes: dict[bytes, tuple[bytes, ...]] = {}
        # One medium: a module reading concurrently still puts one exchange on it at a time,
        # and the draws from the generator stay in a reproducible order.
        self._medium = threading.Lock()

    # -- the line ----------------------------------------------------------------------------
    def noise_dbuv(self, at: float) -> float:
        """Noise in the carrier band at real time `at`: the bench's own plus the injected."""
        line = self.physics.line
        injected = self.parameters.injected_in_band_dbuv(line) if line.noise_present(at) \
            else -math.inf
        return _power_sum_db(self.parameters.background_noise_dbuv, injected)

    def attenuation_db(self, hop: Hop) -> float:
        """A hop from the module crosses the attenuator and the meter's path; between meters,
        the line between them (a feeder: the difference of their paths) and the phase change."""
        p = self.parameters
        start, end = hop
        target = self.nodes[end]
        if start is None:
            return p.hop_loss_db + self.physics.line.attenuation_db + target.path_db
        source = self.nodes[start]
        crossing = p.cross_phase_db if 0 not in (source.phase, target.phase) \
            and source.phase != target.phase else 0.0
        return p.hop_loss_db + abs(source.path_db - target.path_db) + crossing

    def snr_db(self, hop: Hop, at: float) -> float:
        return self.parameters.transmit_level_dbuv - self.attenuation_db(hop) \
            - self.noise_dbuv(at)

    # -- routes ------------------------------------------------------------------------------
    def find_route(self, destination: bytes, at: float) -> tuple[bytes, ...]:
        """Direct if its SNR is enough; else the fewest relays with which every hop's SNR is
        enough, the strongest weakest hop among those; if none is enough, the strongest
        weakest hop of all."""
        def hop_snr(start: bytes | None, end: bytes) -> float:
            return self.snr_db((start, end), at)

        needed = self.parameters.route_snr_db
        direct = hop_snr(None, destination)
        if direct >= needed:
            return ()
        best = (direct, ())
        relays = [address for address in self.nodes if address != destination]
        # Widest paths with k relays: the weakest hop so far and the relays, per last relay.
        layer: dict[bytes | None, tuple[float, tuple[bytes, ...]]] = {None: (math.inf, ())}
        for _ in range(self.parameters.max_relays):
            grown: dict[bytes | None, tuple[float, tuple[bytes, ...]]] = {}
            for last, (weakest, path) in layer.items():
                for relay in relays:
                    if relay in path:
                        continue
                    candidate = (min(weakest, hop_snr(last, relay)), (*path, relay))
                    if relay not in grown or candidate[0] > grown[relay][0]:
                        grown[relay] = candidate
            layer = grown
            ends = [(min(weakest, hop_snr(path[-1], destination)), path)
                    for weakest, path in layer.values()]
            if not ends:
                break
            strongest = max(ends, key=lambda end: end[0])
            if strongest[0] >= needed:
                return strongest[1]
            best = max(best, strongest, key=lambda end: end[0])
        return best[1]

    # -- relaying ----------------------------------------------------------------------------
    def relay(self, destination: bytes, frame: bytes) -> RelayResult:
        """Hand the frame to the meter at `destination` and bring its reply back (the reply as
        the meter sent it, wake-up preamble included), or None if every try was lost; the
        signal quality is that of the reply's last hop, into the module."""
        with self._medium:
            return self._relay(destination, frame)

    def _relay(self, destination: bytes, frame: bytes) -> RelayResult:
        start = self._now()
        if destination not in self.nodes:  # no such meter on the line: nothing ever answers
            timeout = self._timeout(())
            tries = 1 + self.retries
            return RelayResult(None, tries * timeout + self.retries * self.parameters
                               .retry_backoff_s, (), 0, 0)
        route = self._routes.get(destination)
        if route is None:
            route = self._routes[destination] = self.find_route(destination, start)
        elapsed = 0.0
        for attempt in range(1 + self.retries):
            if attempt:
                elapsed += self.parameters.retry_backoff_s
            outcome = self._attempt(route, destination, frame, start + elapsed)
            elapsed += outcome.seconds
            if outcome.reply is not None:
                return RelayResult(outcome.reply, elapsed, route, outcome.signal_quality,
                                   self.nodes[destination].phase)
        if "module-route-never-repaired" not in self.defects:
            del self._routes[destination]  # found again, on the line as it is, next time
        return RelayResult(None, elapsed, route, 0, 0)

    def _timeout(self, route: tuple[bytes, ...]) -> float:
        return self.parameters.answer_timeout_s + self.parameters.hop_timeout_s * (len(route) + 1)

    def _attempt(self, route: tuple[bytes, ...], destination: bytes, frame: bytes,
                 at: float) -> _Attempt:
        """One transmission on the route and the reply back; a loss costs the module its
        whole wait."""
        timeout = self._timeout(route)
        lost = _Attempt(None, timeout)
        stops: list[bytes | None] = [None, *route, destination]
        hops = list(zip(stops, stops[1:], strict=False))
        elapsed = 0.0
        for hop in hops:
            if self._lost(hop, len(frame), at + elapsed):
                return lost
            elapsed += self.parameters.hop_time_s(len(frame))
        reply = self._answer(self.nodes[destination], frame)
        if reply is None:
            return lost
        elapsed += reply[1]
        snr = 0.0
        for hop in reversed(hops):  # a hop's attenuation is the same both ways
            snr = self.snr_db(hop, at + elapsed)  # last: the hop into the module
            if self._lost(hop, len(reply[0]), at + elapsed):
                return lost
            elapsed += self.parameters.hop_time_s(len(reply[0]))
        if elapsed > timeout:
            return lost  # the module stopped waiting before the reply came
        return _Attempt(reply[0], elapsed, self.parameters.signal_quality(snr))

    def _lost(self, hop: Hop, frame_bytes: int, at: float) -> bool:
        if "module-collapses-under-noise" in self.defects and self.physics.line.noise_present(at) \
                and self.parameters.injected_in_band_dbuv(self.physics.line) \
                >= self.parameters.collapse_noise_dbuv:
            return True
        return self._rng.random() < self.parameters.frame_loss(self.snr_db(hop, at),
                                                               frame_bytes)

    @staticmethod
    def _answer(node: Node, frame: bytes) -> tuple[bytes, float] | None:
        """The meter's reply (as it sends it, preamble included) and its delay; None if it
        stays silent or cannot read the frame."""
        try:
            request = decode(frame)
        except ValueError:
            return None
        transmission = node.meter.answer(request, frame[:1] == bytes([PREAMBLE_BYTE]))
        if transmission is None:
            return None
        return transmission.data, transmission.delay


def carrier_path(bench: Any, module: Any, meters: dict[str, Any], *,
                 retries: int | None = None) -> PlcNetwork:
    """The network behind the carrier module at position `module` of a simulated bench, as the
    module's builder asks for it: `meters` maps the address of each position reached `via`
    the module to its simulated device; each sits on the path the rig file's simulation section
    gives that position (plc_path_db, phase). The module position's seeded defects apply;
    the generator is seeded with the module position's plc_seed, else its number, so a bench's
    run repeats."""
    config = bench.config
    positions = {p.address: p for p in config.positions if p.via == module.number}
    nodes = []
    for address, meter in meters.items():
        settings = config.simulation.meter(positions[address].number)
        nodes.append(Node(address_bytes(address), meter, settings.plc_path_db, settings.phase))
    seed = config.simulation.meter(module.number).plc_seed
    return PlcNetwork(bench.physics, nodes, defects=bench.physics.meters[module.number].defects,
                      seed=module.number if seed is None else seed, retries=retries)
