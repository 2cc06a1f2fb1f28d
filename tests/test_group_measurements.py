"""A load point is measured once for a group of same-rated positions, as a recorded group
measurement that every verdict names: the order the tests run in changes no verdict and no
figure, and each verdict shows which measurement it rests on."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

from meterrig.instruments import ErrorCalculator, PowerSource, ReferenceStandard
from meterrig.metrology import GroupLog, MeteringBench, MeteringProcedure, Standard, rating
from meterrig.metrology.group import same_rated
from meterrig.metrology.maths import mean
from meterrig.rig import load
from tests.fakes import Clock as SleepingClock
from tests.fakes import Source
from tests.test_suites_catch_defects import rig_with, run_suite

ROOT = Path(__file__).resolve().parents[1]

REVERSE_ORDER = """import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    items.reverse()
"""


class Clock(SleepingClock):
    """Polls a pulse-comparison run in steps of 10 rig seconds."""

    def wait_for(self, done, seconds: float) -> bool:
        self.t += 10
        return done()


class Instruments(Source):
    """Source, reference standard and error calculator in one: each pulse-comparison run gives
    every started position an error that grows with the runs made so far (a drifting bench), so
    measuring positions one by one would give figures that depend on their order."""

    def __init__(self) -> None:
        self.runs = 0
        self.started: set[int] = set()

    def constant(self) -> int:
        return 100000

    def configure(self, *args: object) -> None:
        pass

    def start(self, number: int) -> None:
        self.started.add(number)

    def status(self, number: int) -> SimpleNamespace:
        return SimpleNamespace(state="done")

    def result(self, number: int) -> float:
        self.runs += 1
        return 0.1 * number + 0.01 * self.runs


def procedure(tmp_path: Path) -> MeteringProcedure:
    config = load(ROOT / "rigs" / "sim.yaml")
    instruments = Instruments()
    kinds = (PowerSource, ReferenceStandard, ErrorCalculator)
    rig = SimpleNamespace(clock=Clock(), config=config, positions=config.positions,
                          instrument=lambda kind: instruments if kind in kinds else None)
    return MeteringProcedure(MeteringBench(rig), GroupLog(tmp_path / "groups.jsonl"))


def test_any_order_gives_one_group_measurement_with_the_same_figures(tmp_path):
    positions = load(ROOT / "rigs" / "sim.yaml").positions
    group = same_rated(positions, positions[0])
    assert len(group) >= 2, "rigs/sim.yaml needs two same-rated positions for this test"
    meter = rating(group[0])
    point = Standard.for_rating(meter).load_points(meter)[0]
    figures = []
    for n, order in enumerate((group, group[::-1])):
        run = procedure(tmp_path / str(n))
        asked = {p.number: run.accuracy(p, point) for p in order}
        made = {id(measured.group) for measured in asked.values()}
        assert len(made) == 1, f"{len(made)} group measurements for one load point"
        figures.append({n: m.figures for n, m in asked.items()})
        records = run.log.path.read_text().splitlines()
        assert len(records) == 1, records
        record = json.loads(records[0])
        assert record["what"] == "accuracy" and record["points"][0]["name"] == point.name
        assert record["positions"] == [p.number for p in group]
        for n, measured in asked.items():
            assert record["figures"][str(n)]["readings"] == list(measured.figures.readings)
            assert str(measured.group) == f"group measurement {record['group_measurement']}"
    forward, backward = figures
    assert forward == backward


def test_reversed_suite_order_gives_the_same_verdicts_each_naming_its_measurement(
        tmp_path, monkeypatch):
    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "reverse_order.py").write_text(REVERSE_ORDER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "plugin"))
    rig = rig_with("metering", "low-current-error")  # position 1 fails at 0.05 Ib PF 1
    runs = {"forward": (), "reversed": ("-p", "reverse_order")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = {name: pool.submit(run_suite, "metering/test_accuracy.py", rig,
                                     tmp_path / name, *options) for name, options in runs.items()}
    forward, reverse = started["forward"].result(), started["reversed"].result()
    assert list(reverse) == list(forward)[::-1], "the reversing plugin did not reverse the order"
    assert list(forward)[0].startswith("test_accuracy[pos1"), list(forward)
    verdicts = {name: message is None for name, message in forward.items()}
    assert verdicts == {name: message is None for name, message in reverse.items()}
    assert not verdicts["test_accuracy[pos1-0.05 Ib PF 1]"], "the seeded defect passed"
    for name in runs:
        run_dir = next((tmp_path / name / "reports" / "runs").iterdir())
        groups = {g["group_measurement"]: g for g in map(
            json.loads, (run_dir / "group-measurements.jsonl").read_text().splitlines())}
        records = [json.loads(line) for line in
                   (run_dir / "measurements.jsonl").read_text().splitlines()]
        means = [m for m in records if m["name"].startswith("mean error at ")]
        assert len(means) == len(forward), f"{name}: {len(means)} mean errors recorded"
        for m in records:
            named = re.search(r"group measurement (\d+)", m["detail"])
            assert named, f"{name}: {m['test']} names no group measurement: {m['detail']}"
            group = groups[int(named[1])]
            assert m["position"] in group["positions"] and group["points"][0]["name"] in m["name"]
            if m in means:  # the verdict's value is the named measurement's figures
                readings = group["figures"][str(m["position"])]["readings"]
                assert round(mean(readings), 4) == m["value"], (m, group)
        # one measurement per load point, for both positions, whoever asked first
        assert len(groups) == len(forward) // 2
        assert all(g["positions"] == [1, 2] for g in groups.values())
