"""The rig under faults ends a run cleanly: a bus's pty pulled mid-run, and a Ctrl-C. Each run is
a pytest subprocess of suites/robustness on a one-meter simulated bench: it must end with one
clear line and no traceback, keep the measurements it made, say in run.json that it is
incomplete and why, and leave no simulated bench process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from meterrig.sim.control import BenchControl
from meterrig.sim.launcher import running_bench
from tests.benches import BENCHES

ROOT = Path(__file__).resolve().parents[1]
SUITE = "suites/robustness/test_faults.py"
STARTUP_S = 60  # a loaded CI machine: the run may take long to make its first measurements


def _rig_file(tmp_path: Path) -> Path:
    path = tmp_path / "rig.yaml"
    path.write_text(yaml.safe_dump({**BENCHES["robustness"][1], "simulation": {"meters": {}}},
                                   sort_keys=False))
    return path


def _pytest(rig: Path, reports: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", SUITE, "--rig", str(rig), "--reports", str(reports),
         "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group, as a terminal's foreground job


def _mid_run(reports: Path) -> None:
    """Wait until the run has made measurements (it has many left): the fault comes mid-run."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if any(p.stat().st_size for p in reports.glob("runs/*/measurements.jsonl")):
            return
        time.sleep(0.2)
    raise AssertionError(f"the run made no measurement in {STARTUP_S} s")


def _ended_cleanly(output: str, reports: Path, why: str) -> None:
    assert "Traceback" not in output and "BrokenPipe" not in output, output[-3000:]
    (run,) = (reports / "runs").iterdir()
    status = json.loads((run / "run.json").read_text())
    assert status["complete"] is False and why in status["reason"], status
    measured = (run / "measurements.jsonl").read_text().splitlines()
    assert measured, "the measurements made before the fault were not kept"


def _benches_of(rig: Path) -> list[int]:
    """Processes still running a simulated bench from this rig file."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"sim" in cmdline and str(rig).encode() in cmdline:
            found.append(int(proc.name))
    return found


def _pull_pty(tmp_path: Path) -> tuple[subprocess.Popen, str, list[int]]:
    rig = _rig_file(tmp_path)
    with running_bench(rig) as announcement:
        run = _pytest(Path(announcement["rig"]), tmp_path / "reports")
        _mid_run(tmp_path / "reports")
        BenchControl(announcement["control"]).pull("rs485-1")  # the adapter is pulled out
        output, _ = run.communicate(timeout=60)
    return run, output, _benches_of(rig)


def _ctrl_c(tmp_path: Path) -> tuple[subprocess.Popen, str, list[int]]:
    rig = _rig_file(tmp_path)
    run = _pytest(rig, tmp_path / "reports")
    _mid_run(tmp_path / "reports")
    assert _benches_of(rig), "the run started no simulated bench"
    os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: to the terminal's foreground process group
    output, _ = run.communicate(timeout=60)
    return run, output, _benches_of(rig)


@pytest.fixture(scope="module")
def faulted_runs(tmp_path_factory) -> dict[str, Future]:
    """Both runs at once: they spend their time waiting on the wire."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(scenario, tmp_path_factory.mktemp(name))
               for name, scenario in (("pull", _pull_pty), ("ctrl-c", _ctrl_c))}


def test_pulled_pty_ends_the_run_cleanly(faulted_runs):
    run, output, left = faulted_runs["pull"].result()
    assert run.returncode != 0
    assert "meterrig: run incomplete: rig fault: bus rs485-1" in output, output[-3000:]
    _ended_cleanly(output, Path(run.args[run.args.index("--reports") + 1]),
                   "rig fault: bus rs485-1")
    assert not left, f"simulated bench processes left behind: {left}"


def test_ctrl_c_ends_the_run_cleanly_and_stops_the_bench(faulted_runs):
    run, output, left = faulted_runs["ctrl-c"].result()
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "meterrig: run incomplete: interrupted (Ctrl-C)" in output, output[-3000:]
    _ended_cleanly(output, Path(run.args[run.args.index("--reports") + 1]), "interrupted")
    assert not left, f"the simulated bench outlived the run: {left}"
