"""The Allure results of a small real run under pytest-xdist (2 workers, the simulated bench):
each test's steps show its exchanges (request and reply in hex and decoded) and its
measurements (value, unit, limits, verdict; a FAIL's step failed), and the error curves are
attached. Position 2 registers 3 % fast, so its accuracy test fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_results_db import ENV, LINE_RIG, ROOT

TESTS = ["suites/metering/test_accuracy.py::test_accuracy[pos1-Ib PF 1]",
         "suites/metering/test_accuracy.py::test_accuracy[pos2-Ib PF 1]",
         "suites/protocol/test_dlt645_read.py::test_declared_data_item[pos1-00010000]"]


@pytest.fixture(scope="module")
def allure_results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("allure-run")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *TESTS, "-n", "2",
         "--rig", str(LINE_RIG),
         "--reports", str(folder), "--alluredir", str(folder / "allure-results"),
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert "1 failed" in done.stdout and " passed" in done.stdout, \
        done.stdout[-3000:] + done.stderr
    return folder / "allure-results"


def _results(folder: Path) -> dict[str, dict]:
    return {r["name"]: r for r in (json.loads(p.read_text())
                                   for p in folder.glob("*-result.json"))}


def _steps(steps: list[dict]) -> list[dict]:
    return [s for step in steps for s in (step, *_steps(step.get("steps", [])))]


def _attachment(folder: Path, step: dict, name: str) -> str:
    [source] = [a["source"] for a in step.get("attachments", []) if a["name"] == name]
    return (folder / source).read_text()


def test_each_exchange_is_a_step_with_its_frames_in_hex_and_decoded(allure_results):
    read = next(r for name, r in _results(allure_results).items()
                if name.startswith("test_declared_data_item"))
    exchanges = [s for s in read["steps"] if s["name"].startswith("exchange 1 on bus ")]
    assert exchanges, [s["name"] for s in read["steps"]]
    frames = _attachment(allure_results, exchanges[0], "request and reply")
    request, reply = frames.splitlines()
    assert request.startswith("request: FE FE FE FE 68 ") and "= dlt645-2007 request" in request
    assert "DI 00010000" in request and "= dlt645-2007 reply" in reply and "kWh" in reply
    # its timing figures are its sub-steps
    assert any(s["name"].startswith("response delay Td: ") and "ms (limits" in s["name"]
               for s in exchanges[0]["steps"])


def test_each_measurement_is_a_step_with_value_limits_and_verdict(allure_results):
    results = _results(allure_results)
    passed = _steps(results["test_accuracy[pos1-Ib PF 1]"]["steps"])
    failed = _steps(results["test_accuracy[pos2-Ib PF 1]"]["steps"])
    ok = [s for s in passed if s["name"].startswith("error at Ib PF 1")]
    bad = [s for s in failed if s["name"].startswith("error at Ib PF 1")]
    assert ok and ok[-1]["name"].endswith(": PASS") and ok[-1]["status"] == "passed", ok
    assert bad and bad[-1]["name"].endswith(": FAIL") and bad[-1]["status"] == "failed", bad
    assert "% (limits -1…1)" in bad[-1]["name"], bad[-1]["name"]
    record = json.loads(_attachment(allure_results, bad[-1], "measurement"))
    assert record["verdict"] == "fail" and record["unit"] == "%"


def test_the_error_curves_are_attached(allure_results):
    containers = [json.loads(p.read_text()) for p in allure_results.glob("*-container.json")]
    attached = {a["name"] for c in containers for after in c.get("afters", [])
                for a in after.get("attachments", [])}
    assert {"position-1-error-curve", "position-2-error-curve"} <= attached, attached
