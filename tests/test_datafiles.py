"""Every kind of data file is read by one reader: a wrong type, an unknown key (with the nearest
allowed one) and a duplicate key are each reported as FILE:LINE: key: what."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from meterrig import limits
from meterrig.datafile import DataFileError, read
from meterrig.instruments.command_map import load_map as load_command_map
from meterrig.limits import StandardTable, Tolerances
from meterrig.protocols.dlt645.catalogue import Catalogue
from meterrig.protocols.dlt645.profile import load_profiles
from meterrig.protocols.modbus.registers import map_file

PROFILE = """\
my-meter:
  description: our own meter
  tariffs: 2
  relay: false
  relay_level: 2
  max_reply_data: 200
  data_items: ["00010000"]
  writable: {}
"""
REGISTER_MAP = """\
description: test
source: test
registers:
  voltage: {table: input, address: 0, type: float32, unit: V, quantity: voltage}
"""
CATALOGUE = """\
di_length: 2
sections:
  - source: test
    items:
      - {di: "9010", name: energy, format: XXXXXX.XX, unit: kWh, length: 4, signed: false}
"""
COMMAND_MAP = """\
model: test source
kind: reference
commands: {reset_energy: "E:RES"}
queries:
  measure: {template: "MEAS?", parse: floats}
  constant: {template: "CONST?", parse: float}
  accuracy_class: {template: "CLASS?", parse: str}
  energy: {template: "ENER?", parse: float}
"""
STANDARD = """\
standard: test standard
timing_ms:
  source: test notes
  td_max: 500
"""
TOLERANCES = """\
reply_gap_s:
  source: test reasoning
  max: 0.02
"""

# kind: (valid text, reader, (old, new) for a wrong type / an unknown key / a duplicate key,
# with the key each is reported under and a part of the message)
KINDS: dict[str, tuple[str, Callable[[Path], Any], list[tuple[str, str, str, str]]]] = {
    "profile": (PROFILE, load_profiles, [
        ("tariffs: 2", "tariffs: two", "my-meter.tariffs",
         "got 'two'; expected an integer from 1 to 63"),
        ("relay_level: 2", "relay_levle: 2", "my-meter.relay_levle",
         "did you mean 'relay_level'?"),
        ("tariffs: 2", "tariffs: 2\n  tariffs: 3", "my-meter.tariffs", "duplicate key"),
    ]),
    "register map": (REGISTER_MAP, map_file, [
        ("address: 0,", "address: zero,", "registers.voltage.address", "got 'zero'"),
        ("source: test", "sourse: test", "sourse", "did you mean 'source'?"),
        ("source: test", "source: test\nsource: again", "source", "duplicate key"),
    ]),
    "catalogue": (CATALOGUE, Catalogue.load, [
        ("length: 4", "length: four", "sections[0].items[0].length", "got 'four'"),
        ("signed: false", "signd: false", "sections[0].items[0].signd",
         "did you mean 'signed'?"),
        ("di_length: 2", "di_length: 2\ndi_length: 4", "di_length", "duplicate key"),
    ]),
    "command map": (COMMAND_MAP, load_command_map, [
        ("kind: reference", "kind: [reference]", "kind", "got a list"),
        ("model: test source", "modle: test source", "modle", "did you mean 'model'?"),
        ("model: test source", "model: test source\nmodel: again", "model", "duplicate key"),
    ]),
    "limits": (STANDARD, lambda path: read(path, StandardTable), [
        ("standard: test standard", "standard: 5", "standard", "got 5"),
        ("  source: test notes", "  sorce: test notes", "timing_ms.sorce",
         "unknown key 'sorce'"),
        ("  td_max: 500", "  td_max: 500\n  td_max: 200", "timing_ms.td_max", "duplicate key"),
    ]),
}
CASES = [(kind, index) for kind in KINDS for index in range(3)]


def line_of(text: str, marker: str) -> int:
    return max(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


@pytest.mark.parametrize(("kind", "index"), CASES,
                         ids=[f"{k}-{['wrong type', 'unknown key', 'duplicate key'][i]}"
                              for k, i in CASES])
def test_each_data_file_reports_file_line_and_key(tmp_path, kind, index):
    valid, load, mistakes = KINDS[kind]
    old, new, key, message = mistakes[index]
    assert valid.count(old) == 1
    path = tmp_path / "data.yaml"
    path.write_text(valid)
    load(path)  # the valid file loads
    text = valid.replace(old, new)
    path = tmp_path / "bad" / "data.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(DataFileError) as error:
        load(path)
    marker = new.splitlines()[-1].strip()
    [problem] = [p for p in error.value.problems if p.key == key]
    assert problem.line == line_of(text, marker), str(error.value)
    assert message in problem.message
    assert f"{path}:{problem.line}: {key}: " in str(error.value)


def test_a_limits_section_without_its_source_is_refused(tmp_path):
    path = tmp_path / "limits.yaml"
    path.write_text(STANDARD.replace("  source: test notes\n", ""))
    with pytest.raises(DataFileError, match=r"limits.yaml:2: timing_ms.source: missing required "
                                            "key 'source'"):
        read(path, StandardTable)


def test_a_rig_tolerance_without_a_unit_is_refused(tmp_path):
    path = tmp_path / "tolerances.yaml"
    path.write_text(TOLERANCES.replace("reply_gap_s", "reply_gap"))
    with pytest.raises(DataFileError, match=r"tolerances.yaml:3: reply_gap.max: 0.02 has no unit"):
        read(path, Tolerances)
    path.write_text(TOLERANCES)
    assert read(path, Tolerances).root["reply_gap_s"].model_extra == {"max": 0.02}


def test_every_shipped_limits_table_reads_against_its_schema():
    """A table added without a schema of its own is read as a standard's table, and refused
    if it is not one: each needs its schema in meterrig/limits SCHEMAS."""
    folder = resources.files(limits)
    names = sorted(Path(entry.name).stem for entry in folder.iterdir()
                   if entry.name.endswith(".yaml"))
    assert {"clauses", "rig-tolerances", "prepaid", "routine"} <= set(names)
    for name in names:
        assert limits.table(name), name
