"""The nightly workflows in docs/ci are ready to copy: they are YAML their CI reads, they run
the tox environment that exists, and the gate they call takes the options they give it."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import yaml

from meterrig.cli import main

ROOT = Path(__file__).parent.parent
WORKFLOWS = sorted((ROOT / "docs" / "ci").glob("*-nightly.yml"))


def _commands(text: str) -> list[str]:
    """Every shell command line in the workflow, continuation lines joined."""
    return [line for line in re.sub(r"\\?\n\s+--", " --", text).splitlines()
            if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_a_nightly_workflow_runs_the_bench_and_the_gate(workflow, capsys):
    assert yaml.safe_load(workflow.read_text())  # the CI can read it
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    lines = _commands(workflow.read_text())
    [bench] = [line for line in lines if "tox -e " in line]
    assert f"testenv:{bench.split('tox -e ')[1].split()[0]}" in tox, bench
    [gate] = [line for line in lines if "meterrig regress" in line]
    options = re.findall(r"(--[a-z-]+)", gate.split("meterrig regress")[1])
    assert options and "--db" in options, gate
    with pytest.raises(SystemExit):
        main(["regress", "--help"])
    shown = capsys.readouterr().out
    assert all(option in shown for option in options), (options, shown)
    assert "reports/junit.xml" in workflow.read_text()
    assert "allure-results" in workflow.read_text()


def test_there_is_one_for_github_and_one_for_gitlab():
    assert [p.name for p in WORKFLOWS] == ["github-nightly.yml", "gitlab-nightly.yml"]
