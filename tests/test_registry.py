"""The protocol registry: names live in their packages, every spec resolves, `via:` is checked,
DL/T 645-1997 works end to end, and a toy protocol from tests/ runs a suite test."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import yaml

from meterrig.config import RigFileError, load_rig
from meterrig.protocols import registry
from meterrig.rig import Rig
from meterrig.sim.bench import initial_register_kwh
from tests.benches import BENCHES

ROOT = Path(__file__).resolve().parents[1]
RIG_1997 = ROOT / "tests" / "rigs" / "dlt645-1997.yaml"
TOY = ROOT / "tests" / "toy_protocol"
# Where a protocol's name may be written out in Python: its own package, and the places the
# issue allows (rig files, docs, the self-tests). Everything else asks the registry or takes
# the name constant from the spec module: suites mark tests `protocol(DLT645_2007)`.
ALLOWED = ("rigs", "docs", "tests")
SKIPPED_DIRS = {".git", ".venv", "venv", "reports", "__pycache__", ".tox", ".ruff_cache"}


def _owners() -> dict[str, Path]:
    """Each shipped protocol name -> the package whose spec module registers it (the module
    holds the name as a constant)."""
    owners = {}
    for module_name in registry.PACKAGES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, str) and value in registry.names():
                owners[value] = Path(module.__file__).parent
    return owners


def _python_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.py")
            if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
            and path.relative_to(ROOT).parts[0] not in ALLOWED]


def test_every_shipped_protocol_has_one_owning_package():
    shipped = [name for name, spec in registry.specs().items()
               if spec.master.startswith("meterrig.")]
    assert sorted(_owners()) == sorted(shipped)


def test_no_protocol_name_is_written_outside_its_package():
    """Plain text, comments and docstrings included: a name in prose elsewhere is as stale
    as one in code when a protocol is renamed."""
    owners = _owners()
    found = [f"{path.relative_to(ROOT)}:{number}: {name}"
             for path in _python_files()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for name, package in owners.items()
             if name in line and not path.is_relative_to(package)]
    assert found == []


def test_the_check_sees_a_name_where_it_does_not_belong():
    # Guards the grep itself: suites are scanned, and a package may not hold another's name.
    files = {p.relative_to(ROOT).as_posix() for p in _python_files()}
    assert "suites/protocol/test_dlt645_read.py" in files
    assert "meterrig/config.py" in files
    assert not any(f.startswith("tests/") for f in files)
    owners = _owners()
    assert owners["modbus-rtu"] != owners["dlt645-2007"]


@pytest.mark.parametrize("spec", registry.specs().values(), ids=registry.names())
def test_every_reference_of_a_spec_resolves(spec):
    references = {f.name: getattr(spec, f.name) for f in attrs.fields(registry.ProtocolSpec)
                  if isinstance(getattr(spec, f.name), str) and ":" in getattr(spec, f.name)}
    references.update({f"features.{k}": v for k, v in spec.features.items()})
    references.update({f"per_position.{k}": v for k, v in spec.per_position.items()})
    assert all(callable(registry.resolve(r)) or isinstance(registry.resolve(r), dict)
               for r in references.values()), references
    assert set(spec.features) <= set(registry.FEATURES)


def test_a_second_spec_under_a_taken_name_is_refused():
    taken = registry.get("dlt645-2007")
    with pytest.raises(ValueError, match="'dlt645-2007' is already registered"):
        registry.register(attrs.evolve(taken, default_profile="another"))
    assert registry.register(taken) is taken  # the same spec again is no conflict


@pytest.mark.parametrize(("protocol", "address", "expected"), [
    ("dlt645-1997", "'12'", "12 decimal digits, as on the nameplate"),
    ("modbus-rtu", "248", "a Modbus address from 1 to 247"),
])
def test_address_kinds_come_from_the_specs(tmp_path, protocol, address, expected):
    rig = tmp_path / "rig.yaml"
    rig.write_text("name: r\nbuses: {b: {port: 'loop://'}}\npositions:\n"
                   f"  - {{position: 1, bus: b, protocol: {protocol}, address: {address}}}\n")
    with pytest.raises(RigFileError, match=rf"rig.yaml:4: positions\[0\].address: .*; expected "
                                           f"{expected}"):
        load_rig(rig)


# --- via: a meter reached through another device ---------------------------------------------

VIA_RIG = """\
name: via
buses: {b: {port: 'loop://'}}
positions:
  - {position: 1, bus: b, protocol: CARRIER, address: "000000000001"}
  - {position: 2, protocol: dlt645-2007, address: "000000000002", via: VIA}
"""


def _via_rig(tmp_path: Path, carrier: str = "dlt645-2007", via: str = "1") -> Path:
    path = tmp_path / "via.yaml"
    path.write_text(VIA_RIG.replace("CARRIER", carrier).replace("VIA", via))
    return path


def test_via_a_protocol_that_cannot_carry_frames_is_refused(tmp_path):
    with pytest.raises(RigFileError) as error:
        load_rig(_via_rig(tmp_path))
    assert str(error.value).endswith(
        "via.yaml:5: positions[1].via: position 1 (positions[0], line 4) speaks dlt645-2007, "
        "which cannot carry another protocol's frames; protocols that can: gdw1376-2")


def test_via_names_another_position_of_the_rig(tmp_path):
    with pytest.raises(RigFileError, match=r"via.yaml:5: positions\[1\].via: no other position "
                                           r"9 to reach this meter through; positions: 1"):
        load_rig(_via_rig(tmp_path, via="9"))


@attrs.frozen
class Tunnel:
    """What a relaying protocol gives the inner master to run on: here, just the carrier and
    the inner position."""

    carrier: object
    position: object


def test_a_carrier_spec_wraps_the_inner_master(tmp_path, monkeypatch):
    carrier = attrs.evolve(registry.get("dlt645-2007"), name="carrier-test",
                           relay=f"{__name__}:Tunnel")
    monkeypatch.setitem(registry.specs(), carrier.name, carrier)
    config = load_rig(_via_rig(tmp_path, carrier=carrier.name))
    assert config.position(2).bus == "b"  # the carrier's bus
    assert config.bus_protocol("b") == carrier.name  # the bus's framing is the carrier's
    rig = Rig(config)
    inner = rig.client(2)
    assert inner.link == Tunnel(rig.client(1), config.position(2))
    assert inner.address == "000000000002"


# --- DL/T 645-1997 end to end ----------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_meterrig_reads_a_1997_meter():
    done = _run("-m", "meterrig", "read", "--rig", str(RIG_1997), "7", "9010")
    assert (done.returncode, done.stdout.strip()) == (0, f"{initial_register_kwh(7):.2f} kWh"), \
        done.stderr


def test_2007_suites_do_not_select_1997_positions():
    done = _run("-m", "pytest", "suites/protocol", "--collect-only", "-q", "--rig",
                str(RIG_1997), "-p", "no:cacheprovider")
    chosen = {line.split("::")[0] for line in done.stdout.splitlines()
              if "[pos7" in line or "[pos8" in line}
    assert chosen == {"suites/protocol/test_dlt645_v1997_meter.py"}, done.stdout[-2000:]


def test_the_1997_suite_passes_on_simulated_1997_meters(tmp_path):
    done = _run("-m", "pytest", "suites/protocol/test_dlt645_v1997_meter.py", "-q", "--rig",
                str(RIG_1997), "--reports", str(tmp_path), "-p", "no:cacheprovider")
    # Two 1997 meters: five catalogued items each, the reply frame, the foreign address.
    assert "14 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_metering_suites_read_a_1997_meter(tmp_path):
    """Through the 1997 spec's EnergyMeter adapter (9010); it has no relay, so the relay test
    has no position."""
    rig = {**BENCHES["metering"][1], "simulation": {"meters": {}}, "positions": [
        {"position": 1, "bus": "rs485-1", "protocol": "dlt645-1997", "address": "000000000001"}]}
    (tmp_path / "rig.yaml").write_text(yaml.safe_dump(rig))
    done = _run("-m", "pytest", "suites/metering/test_constant.py", "suites/metering/test_relay.py",
                "-q", "--rig", str(tmp_path / "rig.yaml"), "--reports", str(tmp_path),
                "-p", "no:cacheprovider")
    assert "1 passed, 1 skipped" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


# --- a protocol from outside meterrig --------------------------------------------------------

TOY_ENV = {"PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
           registry.EXTRA_PACKAGES_VARIABLE: "toy_protocol.spec"}


def test_a_toy_protocol_from_the_test_folder_runs_a_suite_test(tmp_path):
    done = _run("-m", "pytest", str(TOY / "suite_toy.py"), "-q", "--rig", str(TOY / "toy.yaml"),
                "--reports", str(tmp_path), "-p", "no:cacheprovider", env=TOY_ENV)
    assert "2 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    records = [json.loads(line) for path in tmp_path.glob("runs/*/measurements.jsonl")
               for line in path.read_text().splitlines()]
    # Its own clauses, and every reply timed by its own rule through the reporting plugin.
    assert {r["name"] for r in records} >= {"reply address", "toy reply delay"}
    assert any(r["clause"].startswith("toy protocol §1") for r in records)


def test_meterrig_reads_a_toy_device():
    done = _run("-m", "meterrig", "read", "--rig", str(TOY / "toy.yaml"), "2", "energy",
                env=TOY_ENV)
    assert (done.returncode, done.stdout.strip()) == (0, f"{initial_register_kwh(2):.2f} kWh"), \
        done.stderr


# --- settings: what the fuzz tests read while other workers drive the source -----------------


def test_settings_are_what_no_load_relay_or_clock_moves():
    sim = load_rig(ROOT / "rigs" / "sim.yaml", environ={})
    dlt645, modbus = sim.position(1), sim.position(5)
    assert registry.get(dlt645.protocol).load("settings")(dlt645) == [
        "04000401", "04000402", "04000409"]  # address, meter number, constant: no clock, no
    # run status word (040005xx follow the relay), though the profile declares them
    assert registry.get(modbus.protocol).load("settings")(modbus) == [
        "parity", "device id", "baud rate", "serial number"]
    with pytest.raises(LookupError, match="has no settings"):
        registry.get(load_rig(RIG_1997, environ={}).position(7).protocol).load("settings")


@pytest.mark.parametrize(("rig_file", "steady"), [(ROOT / "rigs" / "sim.yaml", False),
                                                   (RIG_1997, True)])
def test_fuzz_tests_hold_the_bench_steady_only_without_settings(rig_file, steady):
    done = _run("-m", "pytest", "suites/robustness/test_fuzz.py", "--collect-only", "-q",
                "-m", "steady_bench", "--rig", str(rig_file), "-p", "no:cacheprovider")
    held = [line for line in done.stdout.splitlines() if "::test_" in line]
    assert bool(held) == steady, done.stdout[-2000:] + done.stderr[-2000:]
