"""Line mode (`meterrig line`): the production line's routine sequence (suites/production) on
every position of a station at once, the buses in parallel (pytest-xdist, fixtures/rig.py),
live progress per position, then a table of verdicts and the exit code. `--position N` runs
the sequence on those positions only: a re-seated meter's retest (the results database marks
a meter whose serial it has seen before as a retest; the table shows it).

The outcome per position is a data object (LineOutcome, PositionOutcome): the table is drawn
from it, and it is written to reports/runs/<run>/line-outcome.json for whoever keeps records.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path

import attrs
import pytest
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .config import PositionConfig, RigConfig
from .measure import INCONCLUSIVE_SKIP

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "suites" / "production"
POSITION_ID = re.compile(r"::(\w+)\[pos(\d+)[-\]]")  # the test and its position (positions.py)
PASS, FAIL, INCONCLUSIVE, INCOMPLETE = "PASS", "FAIL", "INCONCLUSIVE", "INCOMPLETE"


@attrs.frozen
class PositionOutcome:
    """One position's result of a line run."""

    position: int
    bus: str
    serial: str  # as scanned (or the rig file's)
    retest: bool  # the results database has seen this serial in an earlier run
    # PASS; FAIL; INCONCLUSIVE (no step failed, a figure could not be judged: as the
    # certificate says, not a pass); INCOMPLETE (the run ended before all its steps)
    verdict: str
    steps: int  # the tests the sequence has for this position
    done: int
    failed: tuple[tuple[str, str], ...] = ()  # (step, first line of why)
    inconclusive: tuple[tuple[str, str], ...] = ()  # (step, its "INCONCLUSIVE: ..." reason)

    def to_record(self) -> dict:
        return {**attrs.asdict(self), "failed": [list(f) for f in self.failed],
                "inconclusive": [list(f) for f in self.inconclusive]}


@attrs.frozen
class LineOutcome:
    """A line run: every position's outcome; `run` names reports/runs/<run>."""

    rig: str
    run: str | None
    positions: tuple[PositionOutcome, ...]

    @property
    def passed(self) -> bool:
        return all(p.verdict == PASS for p in self.positions)

    def to_record(self) -> dict:
        return {"rig": self.rig, "run": self.run, "passed": self.passed,
                "positions": [p.to_record() for p in self.positions]}


class LineProgress:
    """A pytest plugin (on the controller when workers run): counts each position's steps as
    their reports come, shows them live, and makes the outcome."""

    def __init__(self, config: RigConfig, serials: dict[int, str], console: Console,
                 positions: frozenset[int] | None = None) -> None:
        self.config = config
        # the positions that run: those chosen, else every one
        self.positions = [p for p in config.positions if positions is None
                          or p.number in positions]
        self.serials = {p.number: serials.get(p.number, p.serial) for p in self.positions}
        self.steps: dict[int, set[str]] = {p.number: set() for p in self.positions}
        self.done: dict[int, set[str]] = {p.number: set() for p in self.positions}
        self.failed: dict[int, dict[str, str]] = {p.number: {} for p in self.positions}
        self.inconclusive: dict[int, dict[str, str]] = {p.number: {} for p in self.positions}
        self.retests: dict[int, bool] = {}
        self.run: str | None = None
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[step]}"),
                                 TimeElapsedColumn(), console=console)
        self.tasks = {p.number: self.progress.add_task(self._label(p), total=None, step="")
                      for p in self.positions}

    def _label(self, p: PositionConfig, retest: bool = False) -> str:
        return (f"pos {p.number:>3} {p.bus:<10} {self.serials[p.number]:<14}"
                + (" retest" if retest else ""))

    def _collected(self, nodeids: list[str]) -> None:
        for nodeid in nodeids:
            if found := POSITION_ID.search(nodeid):
                self.steps.setdefault(int(found.group(2)), set()).add(nodeid)
        for number, task in self.tasks.items():
            self.progress.update(task, total=len(self.steps[number]))

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self._collected([item.nodeid for item in items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        self._collected(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = POSITION_ID.search(report.nodeid)
        if found is None or int(found.group(2)) not in self.tasks:
            return
        number, step = int(found.group(2)), found.group(1)
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            why = str(crash.message if crash else report.longrepr).strip().splitlines()
            # the first line, without the clause text the measurement names in brackets
            short = why[0].removeprefix("AssertionError: ").split(" (")[0] if why else ""
            self.failed[number].setdefault(report.nodeid, f"{step}: {short}")
        elif report.skipped and isinstance(report.longrepr, tuple):
            # fixtures/reporting.py ends a test whose figure it could not judge skipped,
            # INCONCLUSIVE_SKIP + why; other skips are steps that do not apply to the meter
            why = report.longrepr[2].removeprefix("Skipped: ")
            if why.startswith(INCONCLUSIVE_SKIP):
                self.inconclusive[number].setdefault(report.nodeid, f"{step}: {why}")
        if report.when == "teardown":
            self.done[number].add(report.nodeid)
            state = "[red]FAIL[/]" if self.failed[number] else step
            self.progress.update(self.tasks[number], completed=len(self.done[number]), step=state)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Which meters are retests, as the results database found when the run began."""
        from fixtures.results import WRITER

        if WRITER in session.config.stash:
            self.retests = session.config.stash[WRITER].retests()
        for p in self.positions:
            if self.retests.get(p.number):
                self.progress.update(self.tasks[p.number], description=self._label(p, True))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from fixtures.reporting import RUN_ID  # the run directory the reports went to

        self.run = session.config.stash.get(RUN_ID, None)

    def outcome(self, rig: str) -> LineOutcome:
        positions = []
        for p in self.positions:
            steps, done = len(self.steps[p.number]), len(self.done[p.number])
            failed, inconclusive = (tuple((nodeid.split("::", 1)[1], why)
                                          for nodeid, why in steps_of[p.number].items())
                                    for steps_of in (self.failed, self.inconclusive))
            verdict = FAIL if failed else INCOMPLETE if not steps or done < steps \
                else INCONCLUSIVE if inconclusive else PASS
            positions.append(PositionOutcome(p.number, p.bus, self.serials[p.number],
                                             self.retests.get(p.number, False), verdict, steps,
                                             done, failed, inconclusive))
        return LineOutcome(rig, self.run, tuple(positions))


def table(outcome: LineOutcome) -> Table:
    shown = Table(title=f"line run {outcome.run or ''}: {outcome.rig}")
    # the retest column only when there is a retest: the failures keep their width
    retests = any(p.retest for p in outcome.positions)
    for column in ("position", "bus", "serial", *("retest",) * retests, "verdict", "steps",
                   "why not PASS"):
        shown.add_column(column)
    colour = {PASS: "green", FAIL: "red", INCONCLUSIVE: "yellow", INCOMPLETE: "yellow"}
    for p in outcome.positions:
        shown.add_row(str(p.position), p.bus, p.serial,
                      *("RETEST" if p.retest else "",) * retests,
                      f"[{colour[p.verdict]}]{p.verdict}[/]", f"{p.done}/{p.steps}",
                      "\n".join(why for _, why in (*p.failed, *p.inconclusive)))
    return shown


def run_line(rig_path: Path, config: RigConfig, serials: dict[int, str], *, serials_file:
             Path | None, reports: Path | None, workers: str, console: Console,
             positions: frozenset[int] | None = None) -> LineOutcome:
    """Run the routine sequence on every position (or those given); the outcome (also written
    beside the run's measurements)."""
    progress = LineProgress(config, serials, console, positions)
    args = [str(SUITE), "--rig", str(rig_path), f"--rootdir={ROOT}", "-p", "no:cacheprovider",
            "-q", *(f"--position={n}" for n in sorted(positions or ()))]
    if workers != "0":
        args += ["-n", workers]
    if serials_file is not None:
        args += ["--serials", str(serials_file)]
    if reports is not None:
        args += ["--reports", str(reports)]
    # pytest's own output (failures in full) goes to a log beside the reports; the operator
    # sees the progress and the table.
    log_path = (reports or ROOT / "reports") / "line-pytest.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            Live(progress.progress, console=console, refresh_per_second=4,
                 redirect_stdout=False, redirect_stderr=False):
        code = pytest.main(args, plugins=[progress])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise LineError(f"the routine sequence could not run (pytest exit code {int(code)}; "
                        f"see {log_path})")
    outcome = progress.outcome(str(rig_path))
    if outcome.run is not None:
        out = (reports or ROOT / "reports") / "runs" / outcome.run / "line-outcome.json"
        out.write_text(json.dumps(outcome.to_record(), indent=2) + "\n", encoding="utf-8")
    return outcome


class LineError(Exception):
    pass


def main_line(rig_path: Path, config: RigConfig, serials_file: Path | None,
              serial_options: list[str], reports: Path | None, workers: str,
              positions: list[int] | None = None) -> int:
    """`meterrig line`: 0 when every position run passed, 1 when any failed, was
    inconclusive or did not finish."""
    from fixtures.production import read_serials

    known = {p.number for p in config.positions}
    if unknown := sorted(set(positions or ()) - known):
        raise ValueError(f"--position {', '.join(map(str, unknown))}: the rig has no such "
                         f"position; positions: {', '.join(map(str, sorted(known)))}")

    serials = read_serials(serials_file) if serials_file else {}
    for option in serial_options:
        number, _, serial = option.partition("=")
        if not number.isdigit() or not serial:
            raise ValueError(f"--serial {option!r}: expected POSITION=SERIAL")
        serials[int(number)] = serial
    unknown = set(serials) - known
    if unknown:
        raise ValueError(f"serials for positions the rig has not: {sorted(unknown)}")
    file = None
    if serials:  # one file for every worker: the scanned serials, options included
        file = (reports or ROOT / "reports") / "line-serials.txt"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("".join(f"{n} {s}\n" for n, s in sorted(serials.items())))
    console = Console(stderr=True)
    outcome = run_line(rig_path, config, serials, serials_file=file, reports=reports,
                       workers=workers, console=console,
                       positions=frozenset(positions) if positions else None)
    Console(file=sys.stdout).print(table(outcome))
    return 0 if outcome.passed else 1
