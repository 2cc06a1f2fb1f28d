"""A real suite run on the simulated bench lands in the results database, and what a person
sees of it: the certificate and the report page rendered in headless Chromium (the verdict,
the table rows, the plots loaded), and the Allure environment page's instruments.

One run serves every test here: a few accuracy points on two meters, the second registering
3 % fast, with the reference standard's calibration expired and overridden.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from meterrig.cli import main
from meterrig.results.certificate import certificate
from meterrig.results.database import open_existing
from tests.test_results_db import ENV, ROOT, expired_rig
from tests.tools import require

POINTS = ("Ib PF 1", "Imax PF 1", "Ib PF 0.5 ind")
TESTS = [f"suites/metering/test_accuracy.py::test_accuracy[pos{n}-{point}]"
         for n in (1, 2) for point in POINTS]


@pytest.fixture(scope="module")
def line_run(tmp_path_factory) -> Path:
    """The reports folder of the run (results.sqlite, runs/, allure-results/)."""
    folder = tmp_path_factory.mktemp("line-run")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *TESTS, "--rig", str(expired_rig(folder)),
         "--reports", str(folder), "--alluredir", str(folder / "allure-results"),
         "--allow-expired-calibration", "--station", "line-1", "--operator", "qa-7",
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    # position 2 is 3 % fast: its three accuracy tests fail, position 1's pass
    assert "3 failed, 3 passed" in done.stdout, done.stdout[-3000:] + done.stderr
    return folder


def _query(folder: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(folder / "results.sqlite") as connection:
        return connection.execute(sql).fetchall()


def test_a_suite_run_lands_in_the_database_as_measured(line_run):
    [run] = _query(line_run, "SELECT station, operator, complete, ended IS NOT NULL, overrides, "
                             "git_revision IS NOT NULL FROM runs")
    assert run == ("line-1", "qa-7", 1, 1, '{"allow_expired_calibration": ["reference: '
                   'calibration due 2020-01-31"]}', 1)
    assert _query(line_run, "SELECT position, serial, model, retest FROM positions JOIN meters "
                            "ON meters.id = meter_id ORDER BY position") == [
        (1, "SN-000001", "single-phase", 0), (2, "SN-000002", "single-phase", 0)]
    assert _query(line_run, "SELECT serial, meters.firmware, positions.firmware, "
                            "firmware_not_read IS NOT NULL FROM positions JOIN meters ON "
                            "meters.id = meter_id ORDER BY position") == [
        ("SN-000001", "MR-1PH 2.4.1", "MR-1PH 2.4.1", 0), ("SN-000002", None, None, 1)]
    assert _query(line_run, "SELECT name, identity, calibration_due FROM instruments "
                            "WHERE name = 'reference'") == [
        ("reference", "meterrig,sim-reference,reference,sim-1", "2020-01-31")]
    # every measurement of the run's JSON lines is a row, with its key, dimensions and outcome
    [jsonl] = line_run.glob("runs/*/measurements.jsonl")
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    rows = _query(line_run, "SELECT key, dimensions, outcome FROM measurements ORDER BY id")
    assert [(r[0], json.loads(r[1]), r[2]) for r in rows] == [
        (line["key"], line["dimensions"], line["verdict"]) for line in lines]
    assert _query(line_run, "SELECT DISTINCT outcome FROM measurements WHERE position = 2 AND "
                            "key = 'accuracy.mean_error'") == [("fail",)]


def test_the_allure_environment_page_shows_each_instrument_and_its_calibration(line_run):
    environment = (line_run / "allure-results" / "environment.properties").read_text()
    assert ("instrument.reference=meterrig,sim-reference,reference,sim-1; calibration due "
            "2020-01-31\n") in environment
    assert "position.1=SN-000001, dlt645-2007 single-phase, firmware MR-1PH 2.4.1\n" \
        in environment
    assert "position.2=SN-000002, dlt645-2007 single-phase, firmware not read: " in environment


class Seen(HTMLParser):
    """What the rendered DOM shows: text by element id, rows per table id, plots loaded."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.rows: dict[str, list[list[str]]] = {}
        self.images: list[tuple[str, str]] = []  # (id or alt, data-loaded)
        self._ids: list[str] = []
        self._table: str | None = None
        self._in_body = False
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append((attrs.get("id") or attrs.get("alt", ""),
                                attrs.get("data-loaded", "")))
        if tag == "table":
            self._table = attrs.get("id")
            self.rows[self._table] = []
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body:
            self.rows[self._table].append([])
        if "id" in attrs:
            self._ids.append(attrs["id"])
            self.text[attrs["id"]] = ""
        else:
            self._ids.append("")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        if tag not in ("img", "br", "meta"):
            self._ids.pop() if self._ids else None

    def handle_data(self, data):
        for element in filter(None, self._ids):
            self.text[element] += data
        if self._in_body and self._table and self.rows[self._table] and data.strip():
            self.rows[self._table][-1].append(data.strip())


def _chromium(page: Path, screenshot: Path | None = None) -> Seen:
    """The page as Chromium renders it: its DOM after load (and a screenshot if asked)."""
    chromium = require("chromium")
    with tempfile.TemporaryDirectory() as profile:
        flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--virtual-time-budget=5000", "--window-size=1200,1600"]
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True,
                             text=True, timeout=120, check=True).stdout
        if screenshot is not None:
            subprocess.run([*flags, f"--screenshot={screenshot}", page.as_uri()],
                           capture_output=True, timeout=120, check=True)
            assert screenshot.stat().st_size > 20_000  # a page with a plot, not a blank one
    return Seen(dom)


def _db(folder: Path) -> str:
    return f"sqlite:///{folder / 'results.sqlite'}"


def test_the_certificate_shows_the_verdict_the_results_and_the_error_curve(
        line_run, tmp_path, capsys):
    out = tmp_path / "SN-000002.html"
    assert main(["certificate", "SN-000002", "--db", _db(line_run), "--out", str(out)]) == 0
    seen = _chromium(out, tmp_path / "SN-000002.png")
    assert seen.text["verdict"] == "fail"
    # it refuses the firmware's data identifier: not read, and why
    assert seen.text["firmware"] == (
        "not read: the meter did not give it: abnormal reply D1, error byte 0x02: "
        "no requested data"), seen.text["firmware"]
    recorded = _query(line_run, "SELECT name, outcome FROM measurements WHERE position = 2 "
                                "ORDER BY time, id")
    assert [(row[0], row[-2]) for row in seen.rows["results"]] == [
        (name, outcome.upper()) for name, outcome in recorded]
    assert seen.images == [("error-curve", "yes")]
    reference = next(row for row in seen.rows["instruments"] if row[0] == "reference")
    assert reference[1:] == ["meterrig,sim-reference,reference,sim-1", "sim-reference",
                             "2020-01-31 (expired)"]


def test_the_meter_that_passed_gets_a_pass_and_an_unknown_serial_is_named(line_run, capsys):
    database = open_existing(_db(line_run))
    with database.session() as session:
        passed = certificate(session, "SN-000001")
        assert passed.verdict == "pass"
        # the firmware as the simulated meter answered it (its rig file's simulation section)
        assert '<dd id="firmware">MR-1PH 2.4.1</dd>' in passed.html()
    database.close()
    assert main(["certificate", "SN-9", "--db", _db(line_run)]) == 1
    assert "no meter 'SN-9' in the results database; serials there: SN-000001, SN-000002" \
        in capsys.readouterr().err


def test_the_report_page_shows_yield_failing_tests_and_its_plots(line_run, tmp_path, capsys):
    assert main(["report", "--db", _db(line_run), "--out", str(tmp_path / "report")]) == 0
    assert sorted(p.name for p in (tmp_path / "report").glob("*.png")) == [
        "error-distribution.png", "trend-accuracy-mean_error.png"]
    seen = _chromium(tmp_path / "report" / "index.html")
    [(station, _day, tested, passed, percent)] = seen.rows["yield"]
    assert (station, tested, passed, percent) == ("line-1", "2", "1", "50.0 %")
    # position 2's readings and their means failed, once each for that meter in that run
    assert sorted(seen.rows["failing"]) == [
        ["accuracy.error", "1", "suites/metering/test_accuracy.py::test_accuracy"],
        ["accuracy.mean_error", "1", "suites/metering/test_accuracy.py::test_accuracy"]]
    assert [row[0] for row in seen.rows["spread"]] == list(POINTS)
    assert seen.images == [("error-distribution", "yes"),
                           ("accuracy.mean_error over time", "yes")]
