"""The rig under faults ends a run cleanly: a bus's pty pulled mid-run, and a Ctrl-C. Each run is
a pytest subprocess of suites/robustness on a one-meter simulated bench: it must end with one
clear line and no traceback, keep the measurements it made, say in run.json that it is
incomplete and why, and leave no simulated bench process behind.

During a metering test (suites/metering on a bench with instruments), an instrument that stops
answering and a Ctrl-C end the run the same way, leave no process of the run behind, and switch
the source off first: the simulated source's last output command is an off, made before the run
ended (the end that run.json gives)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from meterrig.sim.control import BenchControl
from meterrig.sim.launcher import running_bench
from tests.benches import BENCHES

ROOT = Path(__file__).resolve().parents[1]
SUITE = "suites/robustness/test_faults.py"
METERING_SUITE = "suites/metering/test_accuracy.py"
MUTED = "reference"  # the instrument that stops answering; the source must still be reachable
STARTUP_S = 60  # a loaded CI machine: the run may take long to make its first measurements


def _rig_file(tmp_path: Path) -> Path:
    path = tmp_path / "rig.yaml"
    path.write_text(yaml.safe_dump({**BENCHES["robustness"][1], "simulation": {"meters": {}}},
                                   sort_keys=False))
    return path


def _metering_rig_file(tmp_path: Path) -> Path:
    """The metering bench; the muted instrument's silence is a timeout of 3 s, not 10 s."""
    rig = BENCHES["metering"][1]
    instruments = {**rig["instruments"], MUTED: {**rig["instruments"][MUTED], "timeout_ms": 3000}}
    path = tmp_path / "rig.yaml"
    path.write_text(yaml.safe_dump({**rig, "instruments": instruments,
                                    "simulation": {"meters": {}}}, sort_keys=False))
    return path


def _pytest(rig: Path, reports: Path, suite: str = SUITE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", suite, "--rig", str(rig), "--reports", str(reports),
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


def _left_of(run: subprocess.Popen) -> list[str]:
    """Processes still in the run's session (it was started as a session of its own)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            # /proc/PID/stat: "pid (command) state ppid pgrp session ..."
            command, _, fields = (proc / "stat").read_text().rpartition(")")
        except OSError:
            continue
        if proc.name.isdigit() and int(fields.split()[3]) == run.pid:
            found.append(f"{proc.name} {command.partition('(')[2]}")
    return found


def _metering_fault(tmp_path: Path, fault) -> tuple[subprocess.Popen, str, list[str], list, Path]:
    """A metering run on a bench started apart from it (so the bench can be asked afterwards),
    `fault(run, control)` mid-run: the run, its output, its processes left, the source's output
    commands, its reports."""
    reports = tmp_path / "reports"
    with running_bench(_metering_rig_file(tmp_path)) as announcement:
        control = BenchControl(announcement["control"])
        run = _pytest(Path(announcement["rig"]), reports, METERING_SUITE)
        _mid_run(reports)
        fault(run, control)
        output, _ = run.communicate(timeout=120)
        left = _left_of(run)
        switched = control.source_switched()
    return run, output, left, switched, reports


def _instrument_silent(tmp_path: Path):
    return _metering_fault(tmp_path, lambda run, control: control.mute(MUTED))


def _ctrl_c_metering(tmp_path: Path):
    return _metering_fault(tmp_path, lambda run, control: os.killpg(run.pid, signal.SIGINT))


def _source_off_first(switched: list, reports: Path) -> None:
    (run,) = (reports / "runs").iterdir()
    ended = datetime.fromisoformat(json.loads((run / "run.json").read_text())["ended"]).timestamp()
    assert switched and switched[0][1], f"the run never switched the source on: {switched}"
    at, on = switched[-1]
    assert not on, f"the source was left on: its output commands {switched}"
    assert at <= ended, f"the source was switched off {at - ended:.3f} s after the run ended"


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
    """Every run at once: they spend their time waiting on the wire or the clock."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield {name: pool.submit(scenario, tmp_path_factory.mktemp(name))
               for name, scenario in (("pull", _pull_pty), ("ctrl-c", _ctrl_c),
                                      ("instrument", _instrument_silent),
                                      ("ctrl-c-metering", _ctrl_c_metering))}


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


def test_silent_instrument_ends_the_run_cleanly_source_off_first(faulted_runs):
    run, output, left, switched, reports = faulted_runs["instrument"].result()
    assert run.returncode != 0
    assert f"meterrig: run incomplete: rig fault: {MUTED}" in output, output[-3000:]
    _ended_cleanly(output, reports, f"rig fault: {MUTED}")
    assert not left, f"processes of the run left behind: {left}"
    _source_off_first(switched, reports)


def test_ctrl_c_in_a_metering_test_switches_the_source_off_first(faulted_runs):
    run, output, left, switched, reports = faulted_runs["ctrl-c-metering"].result()
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "meterrig: run incomplete: interrupted (Ctrl-C)" in output, output[-3000:]
    _ended_cleanly(output, reports, "interrupted")
    assert not left, f"processes of the run left behind: {left}"
    _source_off_first(switched, reports)
