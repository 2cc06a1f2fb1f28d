"""Line mode on a simulated 24-position station (4 buses of 6): every position gets its row, the
one seeded with a defect (position 7: does not start) fails alone, and the exit code says so.
The scanned serials come from a file, as a barcode scanner fills it. Then the supervisor
re-seats position 7's meter and retests that position only: one row, a retest in the table and
the results database, the exit code by its verdict, and the first-pass yield without it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fixtures.production import read_serials
from meterrig.cli import main
from meterrig.results.database import open_existing
from meterrig.results.report import _by_meter, first_pass_yield

ROOT = Path(__file__).resolve().parents[1]
STATION = ROOT / "tests" / "rigs" / "line-24.yaml"


def _line(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meterrig", "line", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def _rows(table: str) -> dict[int, str]:
    """The PASS/FAIL table's rows by position (a row's first line)."""
    return {int(line.split("│")[1]): line for line in table.splitlines()
            if line.startswith("│ ") and line.split("│")[1].strip().isdigit()}


@pytest.fixture(scope="module")
def station_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The station's line run: its folder (scanned.txt, reports/) and the finished command."""
    folder = tmp_path_factory.mktemp("station")
    serials = folder / "scanned.txt"
    serials.write_text("# position serial, as scanned\n"
                       + "".join(f"{n} {n:012d}\n" for n in range(1, 25)))
    return folder, _line("--rig", str(STATION), "--serials", str(serials), "--reports",
                         str(folder / "reports"))


def test_a_24_position_station_fails_only_its_defective_position(station_run):
    folder, run = station_run
    assert run.returncode == 1, run.stdout + run.stderr
    rows = _rows(run.stdout)
    assert sorted(rows) == list(range(1, 25)), run.stdout
    assert "FAIL" in rows[7] and "test_starting" in rows[7], rows[7]
    assert all("PASS" in rows[n] for n in rows if n != 7), run.stdout
    assert "RETEST" not in run.stdout  # every serial is new to the database
    outcome = json.loads(next((folder / "reports" / "runs").glob("*/line-outcome.json"))
                         .read_text())
    verdicts = {p["position"]: p["verdict"] for p in outcome["positions"]}
    assert verdicts == {n: "FAIL" if n == 7 else "PASS" for n in range(1, 25)}
    assert [step for step, _ in outcome["positions"][6]["failed"]] == [
        "test_starting[pos7]"]
    assert all(p["done"] == p["steps"] > 0 for p in outcome["positions"])


def test_a_reseated_meter_retested_on_its_position_alone_is_a_retest(station_run):
    folder, first = station_run
    assert first.returncode == 1, first.stdout + first.stderr
    # The station with position 7's meter re-seated (it starts now), cut to position 7 and its
    # neighbour 8 (which --position leaves out): the others take no part in the retest and
    # would only make the simulated bench slower.
    station = yaml.safe_load(STATION.read_text())
    assert station["simulation"]["meters"] == {7: {"defects": ["no-start"]}}
    station["simulation"]["meters"] = {}
    station["buses"] = {"rs485-2": station["buses"]["rs485-2"]}
    station["positions"] = [p for p in station["positions"] if p["position"] in (7, 8)]
    reseated = folder / "reseated.yaml"
    reseated.write_text(yaml.safe_dump(station))
    # one position: one process is enough (a worker per bus would start for nothing)
    run = _line("--rig", str(reseated), "--position", "7", "--serial", "7=000000000007",
                "--reports", str(folder / "reports"), "--workers", "0")
    assert run.returncode == 0, run.stdout + run.stderr  # its verdict: it passes now
    rows = _rows(run.stdout)
    assert list(rows) == [7], run.stdout
    assert "RETEST" in rows[7] and "PASS" in rows[7] and "000000000007" in rows[7], rows[7]
    with sqlite3.connect(folder / "reports" / "results.sqlite") as db:
        retest_run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
        assert db.execute("SELECT position, serial, retest FROM positions JOIN meters ON "
                          "meters.id = meter_id WHERE run_id = ?", (retest_run,)).fetchall() \
            == [(7, "000000000007", 1)]
        assert db.execute("SELECT DISTINCT position FROM measurements WHERE run_id = ?",
                          (retest_run,)).fetchall() == [(7,)]
    # first-pass yield: the station's 24 first tests, 23 passed; the retest is not one of them
    database = open_existing(f"sqlite:///{folder / 'reports' / 'results.sqlite'}")
    with database.session() as session:
        [day] = first_pass_yield(session, _by_meter(session))
    database.close()
    assert (day.first_tested, day.passed) == (24, 23)


def test_an_unknown_position_is_refused_before_anything_runs(capsys):
    assert main(["line", "--rig", str(STATION), "--position", "25"]) == 2
    assert "--position 25: the rig has no such position; positions: 1, 2," \
        in capsys.readouterr().err


def test_a_bad_scanned_serials_line_is_named_by_file_and_line(tmp_path):
    serials = tmp_path / "scanned.txt"
    serials.write_text("1 000000000001\n2\n")
    with pytest.raises(ValueError, match=r"scanned.txt:2: expected 'POSITION SERIAL'"):
        read_serials(serials)
