"""What the robustness suites share: a meter to fuzz, with the valid request its frames are
mutated from and two readings that tell a fresh reply from a stale one.

The readings are the meter's settings where its protocol declares them (nothing on the bench
moves them), so the fuzz tests run while other workers drive the source; a meter with none is
read by its first items, and its fuzz tests hold the bench steady (fixtures/rig.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from meterrig import faults, fuzz
from meterrig.meter import MeterError
from meterrig.protocols import registry

# Candidates for the two readings: the position's settings, or else the first of the items its
# protocol declares (its per-position parameter), until two stable, different ones are found.
CANDIDATES = 12


def settings_of(position: Any) -> list[str] | None:
    """The position's settings (ProtocolSpec.settings); None when its protocol declares none."""
    try:
        return registry.get(position.protocol).load("settings")(position) or None
    except LookupError:
        return None


@pytest.hookimpl(tryfirst=True)  # before fixtures/rig.py sorts by what holds the instruments
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        position = getattr(item, "callspec", None) and item.callspec.params.get("position")
        if "fuzzed" in item.fixturenames and position and settings_of(position) is None:
            item.add_marker(pytest.mark.steady_bench)


class Fuzzed:
    """One meter under fuzzing: its client, its energy register, its valid request."""

    def __init__(self, rig: Any, position: Any, config: pytest.Config, test: str) -> None:
        self.rig = rig
        self.position = position
        self.protocol = position.protocol
        self.test = test
        self.reports = Path(config.getoption("reports"))
        self.rig_file = str(config.getoption("rig"))
        self.examples = config.getoption("fuzz_examples")
        self.client = rig.client(position.number)
        self.energy_meter = rig.meter(position.number)
        self.link = rig.link_of(position.number)
        self.baudrate = rig.config.buses[position.bus].baudrate
        self.energy()
        self.wire = self.link.exchanges[-1].request  # the valid request: an energy read
        self.longest = fuzz.longest_frame(self.protocol)
        limit = faults.inter_character_limit(self.protocol, self.baudrate) or 0.0
        self.frame_silence = faults.SPLIT_GAP_FACTOR * limit
        # Tried first, every run: the request with a bit flipped that only its check catches.
        self.corrupted = fuzz.corrupted(self.protocol, self.wire, self.baudrate)
        self._readings_found: tuple | None = None

    def energy(self) -> Any:
        return self.energy_meter.forward_energy_kwh()

    def settings(self) -> settings:
        return settings(
            max_examples=self.examples, deadline=None, derandomize=False,
            database=DirectoryBasedExampleDatabase(self.reports / "hypothesis"),
            suppress_health_check=list(HealthCheck))

    def valid(self, frame: bytes) -> bool:
        return fuzz.holds_valid_frame(self.protocol, frame, self.baudrate)

    def send(self, frame: bytes, label: str) -> Any:
        """The frame as it is; listened to for one reply window, not retried. An answer may
        not be the only one: the bus is let settle after it."""
        transaction = self.client.master.send_raw(
            frame, label=label, target=f"position {self.position.number}", expect_reply=False)
        if transaction.raw:
            self.link.settle(self.client.reply_window)
        # A receiver drops a partial frame only after a silence over its protocol's limit.
        self.link.settle(max(0.0, self.frame_silence - self.client.reply_window))
        return transaction

    @contextmanager
    def saved_if_failing(self, frame: bytes) -> Iterator[None]:
        """A failing verdict saves its frame (the last one saved is the shrunk one)."""
        try:
            yield
        except AssertionError as exc:
            fuzz.save_failure(self.reports, self.test, rig=self.rig_file,
                              position=self.position.number, protocol=self.protocol,
                              frame=frame, verdict=str(exc).splitlines()[0])
            raise

    def readings(self) -> tuple[tuple[str, Any, str], tuple[str, Any, str]]:
        """Two (item, read, text) whose values stay put and differ: a reply to one read for
        the other shows. Found afresh in each test (a setting may have been written, or the
        source changed, between tests)."""
        if self._readings_found is None:
            self._readings_found = self._readings()
        return self._readings_found

    def _readings(self) -> tuple[tuple[str, Any, str], tuple[str, Any, str]]:
        spec = registry.get(self.protocol)
        reader = spec.load("reader")
        found: list[tuple[str, Any, str]] = []
        candidates, what = settings_of(self.position), "settings"
        if candidates is None:
            what = next(iter(spec.per_position))
            candidates = [i for _, i in registry.resolve(spec.per_position[what])(self.position)]
        for item in candidates[:CANDIDATES]:
            read = reader(self.position, item)
            try:
                first, second = read(self.client), read(self.client)
            except (MeterError, *self.client.master.codec.check_errors):
                continue  # not answered, or refused (an abnormal reply): the next candidate
            value = first.split()[0]
            if first == second and all(value != text.split()[0] for _, _, text in found):
                found.append((item, read, first))
            if len(found) == 2:
                return found[0], found[1]
        pytest.skip(f"position {self.position.number}: no two stable, different readings "
                    f"among the first {CANDIDATES} of its {what} items")


@pytest.fixture
def fuzzed(rig, position, pytestconfig, request) -> Fuzzed:
    return Fuzzed(rig, position, pytestconfig, request.node.nodeid)
