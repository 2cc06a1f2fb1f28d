"""`meterrig regress`, the nightly gate, on a results database seeded with runs: a drift beyond
the fraction of the limit width fails the night though every value still PASSes; values that
stay near their mean pass; an incomplete run is neither judged nor a baseline."""

from __future__ import annotations

import pytest

from meterrig.cli import main
from meterrig.measure import Limits, judge
from meterrig.results.database import open_database
from meterrig.results.regress import defaults
from meterrig.results.writer import ResultsWriter

CLASS_1 = Limits(-1.0, 1.0, "IEC 62053-21 class 1", "%")
TD = Limits(20.0, None, "DL/T 645-2007 §5.3.3 Td", "ms")


def _night(url: str, name: str, error: float, delay: float, complete: bool = True) -> None:
    writer = ResultsWriter.start(open_database(url), name=name, station="bench-1",
                                 rig_name="nightly", rig_file="rigs/bench.yaml", operator="ci")
    writer.record(judge("mean error at Ib PF 1", error, "%", CLASS_1, "class 1",
                        key="accuracy.mean_error", position=1,
                        dimensions={"position": 1, "load_point": "Ib PF 1"}))
    writer.record(judge("response delay Td", delay, "ms", TD, "Td", key="dlt645-2007.td",
                        position=1, dimensions={"position": 1, "exchange": 1}))
    writer.finish(complete=complete)
    writer.database.close()


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    for night, error in enumerate((0.10, 0.12, 0.08, 0.11, 0.09)):
        _night(url, f"night-{night}", error, delay=40.0 + night % 2)
    return url


def test_a_drift_beyond_the_fraction_of_the_limit_width_is_a_regression(url, capsys):
    # 0.55 % is well inside ±1 %, but 0.45 % from the nights' 0.10 %: beyond 0.2 × 2 %
    _night(url, "tonight", 0.55, delay=40.5)
    assert main(["regress", "--db", url]) == 1
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("accuracy.mean_error")]
    assert '"load_point": "Ib PF 1"' in row and "0.1 (5)" in row and "0.55 %" in row
    assert "+0.45" in row and "±0.4" in row
    assert "2 measurements compared, 1 drifted beyond 0.2 of their limit width" in out
    assert "dlt645-2007.td" not in out.split("run tonight")[0]  # Td stayed near its mean


def test_values_near_their_mean_pass_and_a_killed_run_is_not_judged(url, capsys):
    _night(url, "tonight", 0.15, delay=40.5)
    _night(url, "killed", 0.95, delay=400.0, complete=False)
    assert main(["regress", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run tonight (bench-1, nightly) against 5 previous complete runs: "
                          "2 measurements compared, 0 drifted"), out
    # a narrower gate catches the same night
    assert main(["regress", "--db", url, "--fraction", "0.01", "--nights", "2"]) == 1
    assert "against 2 previous complete runs" in capsys.readouterr().out


def test_the_defaults_are_data_with_their_reason():
    assert defaults() == (5, 0.2)
