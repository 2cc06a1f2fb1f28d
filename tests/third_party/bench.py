"""A comms-only bench of third-party devices: each device on one end of a socat pty pair, the
rig's bus on the other, the protocol suites run against it in a subprocess.

Every process started here (socat, the devices) is stopped when `third_party_bench` exits,
however it exits, and dies with the test process if that is killed; `Processes.left_running`
tells a test whether any survived.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import attrs
import pytest
import serial
import yaml

from meterrig.protocols.modbus import pdu, rtu
from tests.tools import require

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# What the devices are told, and what the rig file says of them.
DLT645_ADDRESS = "202611290001"
DLT645_PASSWORD = {"level": 2, "value": "123456"}
DLT645_PROFILE = HERE / "dlt645-emulator-profile.yaml"  # the emulator as a model of its own
MODBUS_DEVICE_ID = 1  # the simulator's server device_id (sdm120-simulator.json)
STARTUP_S = 10.0  # a device gets this long to listen: two cores shared with other test runs
SUITE_TIMEOUT_S = 180.0


@attrs.frozen
class Outcome:
    """One suite test as JUnit reports it: passed, failed, error or skipped, and its message
    (the whole failure report, or the skip reason)."""

    outcome: str
    message: str = ""


def require_module(name: str) -> None:
    """A Python package the bench needs (the `test` extra installs it): missing, a skip on a
    developer's machine and a failure in CI, like tests.tools.require."""
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed (pip install -e .[test] installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """In the child before it runs: SIGTERM when the process that started it dies, so a killed
    test run (CI timeout, kill -9) leaves no device behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """The processes of one bench, each stopped on exit: first asked (stdin closed, SIGTERM),
    then killed."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], log: Path, **kwargs) -> subprocess.Popen:
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=kwargs.pop("stdout", out), stderr=out,
                                       cwd=ROOT, preexec_fn=_die_with_parent, **kwargs)
        self.started.append(process)
        self._stack.callback(self._stop, process)
        return process

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        if process.stdin:
            process.stdin.close()
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()

    def left_running(self) -> list[str]:
        return [" ".join(p.args) for p in self.started if p.poll() is None]


def _until(ready, what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def pty_pair(processes: Processes, workdir: Path, name: str) -> tuple[str, str]:
    """Two linked pseudo-terminals (device end, rig end), as `socat` makes them."""
    device, rig = workdir / f"{name}-device", workdir / f"{name}-rig"
    socat = processes.start([require("socat"), "-d", "-d", f"pty,raw,echo=0,link={device}",
                             f"pty,raw,echo=0,link={rig}"], workdir / f"{name}-socat.log")
    _until(lambda: device.exists() and rig.exists(), f"socat pty pair {name}", socat,
           workdir / f"{name}-socat.log")
    return str(device), str(rig)


def start_dlt645_emulator(processes: Processes, port: str, workdir: Path) -> None:
    """The `dlt645` package's MeterServerService on `port` (tests/third_party/dlt645_emulator.py
    sets its address, password and values)."""
    log = workdir / "dlt645-emulator.log"
    emulator = processes.start(
        [sys.executable, "-m", "tests.third_party.dlt645_emulator", port, DLT645_ADDRESS,
         str(DLT645_PASSWORD["level"]), DLT645_PASSWORD["value"]], log,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = emulator.stdout.readline()  # "ready" once it listens; nothing if it died
    if line.strip() != b"ready":
        raise RuntimeError(f"the dlt645 emulator did not start: {line!r}")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers_modbus(port: str) -> bool:
    """Whether the device on `port` answers a voltage read."""
    request = rtu.encode(MODBUS_DEVICE_ID, pdu.ReadRequest(pdu.READ_INPUT, 0, 2).encode())
    with serial.Serial(port, baudrate=9600, timeout=1.0) as link:
        link.write(request)
        return len(link.read(9)) == 9


def start_pymodbus_simulator(processes: Processes, port: str, rig_port: str,
                             workdir: Path) -> None:
    """pymodbus's simulator (`pymodbus.simulator`, the `simulator` extra) serving the SDM120
    map of tests/third_party/sdm120-simulator.json on `port`; its HTTP console on a free
    loopback port."""
    setup = json.loads((HERE / "sdm120-simulator.json").read_text())
    setup["server_list"]["sdm120"]["port"] = port
    json_file = workdir / "sdm120-simulator.json"
    json_file.write_text(json.dumps(setup))
    log = workdir / "pymodbus-simulator.log"
    simulator = processes.start(
        [sys.executable, "-m", "pymodbus.server.simulator.main", "--json_file", str(json_file),
         "--modbus_server", "sdm120", "--modbus_device", "sdm120", "--http_host", "127.0.0.1",
         "--http_port", str(_free_tcp_port()), "--log", "info",
         "--log_file", str(workdir / "pymodbus-server.log")], log)
    # Asked before it listens, a request would wait in the pty and be answered later, into a
    # suite test.
    _until(lambda: "Server listening" in log.read_text(errors="replace"),
           "the pymodbus simulator", simulator, log)
    if not _answers_modbus(rig_port):
        raise RuntimeError(f"the pymodbus simulator does not answer: {log.read_text()[-2000:]}")


def comms_only_rig(dlt645_port: str, modbus_port: str) -> dict:
    """Buses and positions, no instruments: what a new user writes to try a meter's protocol."""
    return {
        "name": "third-party devices on pty pairs",
        "buses": {
            "dlt645": {"port": dlt645_port, "baudrate": 2400, "parity": "E"},
            "modbus": {"port": modbus_port, "baudrate": 9600, "parity": "N",
                       "reply_timeout_ms": 500},
        },
        "positions": [
            {"position": 1, "bus": "dlt645", "protocol": "dlt645-2007",
             "address": DLT645_ADDRESS, "password": DLT645_PASSWORD,
             "profile": str(DLT645_PROFILE)},
            {"position": 2, "bus": "modbus", "protocol": "modbus-rtu",
             "address": MODBUS_DEVICE_ID, "profile": "sdm120"},
        ],
    }


def run_suite(rig: dict, workdir: Path) -> dict[str, Outcome]:
    """suites/protocol and the fuzz suite against `rig`, in a subprocess: module::test name ->
    its outcome. The fuzz frames come from a fixed hypothesis seed: the same frames every run,
    so a device nobody here wrote gets the same verdicts every run."""
    rig_file = workdir / "rig.yaml"
    rig_file.write_text(yaml.safe_dump(rig, sort_keys=False))
    junit = workdir / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites" / "protocol"),
         str(ROOT / "suites" / "robustness" / "test_fuzz.py"), "--hypothesis-seed", "0",
         "--rig", str(rig_file), "--reports", str(workdir / "reports"),
         f"--junitxml={junit}", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S,
        preexec_fn=_die_with_parent)
    if not junit.exists():
        raise RuntimeError(f"the suites wrote no report:\n{done.stdout}\n{done.stderr}")
    return parse_junit(junit)


def parse_junit(path: Path) -> dict[str, Outcome]:
    results = {}
    for case in ET.parse(path).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        outcome = Outcome("passed")
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                text = element.get("message", "") if tag == "skipped" else \
                    _exception_lines(element.text or element.get("message", ""))
                outcome = Outcome({"failure": "failed"}.get(tag, tag), text)
                break
        results[f"{module}::{case.get('name')}"] = outcome
    return results


def _exception_lines(report: str) -> str:
    """What a failure said: the "E" lines of pytest's report (the message attribute is cut
    short, and the rest of the report quotes the test's source, messages it did not give
    included)."""
    lines = [line[1:].strip() for line in report.splitlines() if line.startswith("E ")]
    return "\n".join(lines) or report


@contextmanager
def third_party_bench(workdir: Path) -> Iterator[tuple[dict, Processes]]:
    """Both devices running on their pty pairs; yields the comms-only rig and the processes."""
    require_module("dlt645")
    require_module("aiohttp")  # pymodbus[simulator]: its HTTP console
    with ExitStack() as stack:
        processes = Processes(stack)
        dlt645_device, dlt645_rig = pty_pair(processes, workdir, "dlt645")
        modbus_device, modbus_rig = pty_pair(processes, workdir, "modbus")
        start_dlt645_emulator(processes, dlt645_device, workdir)
        start_pymodbus_simulator(processes, modbus_device, modbus_rig, workdir)
        yield comms_only_rig(dlt645_rig, modbus_rig), processes
