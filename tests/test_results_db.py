"""The results database: its migrations make the models' schema, two writers at once lose
nothing (SQLite; PostgreSQL when its server binaries are installed), a killed run keeps what it
measured and stays incomplete, a meter seen before is a retest; the calibration gate."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import alembic.config
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select

from fixtures.results import read_firmware
from meterrig.config import RigFileError
from meterrig.results import models
from meterrig.results.database import open_database
from meterrig.results.writer import MeterOnPosition, ResultsWriter
from meterrig.rig import load

ROOT = Path(__file__).resolve().parents[1]
LINE_RIG = ROOT / "tests" / "rigs" / "results-line.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# One station writing: a run, its meter, N measurements each committed as made; with "hold" it
# then says so and waits to be killed.
WRITER = """
import sys
from meterrig.measure import Limits, judge
from meterrig.results.database import open_database
from meterrig.results.writer import MeterOnPosition, ResultsWriter
url, station, count, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "hold"
writer = ResultsWriter.start(open_database(url), name=station, station=station,
                             rig_name="bench", rig_file="bench.yaml", operator="qa")
writer.positions([MeterOnPosition(1, "SN-" + station, "000000000001", "dlt645-2007")])
for n in range(count):
    writer.record(judge("mean error", n / 1000, "%", Limits(-1, 1, "class 1", "%"), "class 1",
                        position=1, key="accuracy.mean_error", dimensions={"n": n}))
if hold:
    print("written", flush=True)
    sys.stdin.read()
writer.finish(complete=True)
"""


def _writers(url: str, count: int, stations: tuple[str, ...]) -> None:
    running = [subprocess.Popen([sys.executable, "-c", WRITER, url, s, str(count), "go"],
                                env=ENV, stderr=subprocess.PIPE, text=True) for s in stations]
    for process in running:
        assert process.wait(timeout=120) == 0, process.stderr.read()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = dict(connection.execute(
            select(models.Run.station, func.count(models.Measurement.id))
            .join(models.Measurement, models.Measurement.run_id == models.Run.id)
            .where(models.Run.complete).group_by(models.Run.station)).all())
    engine.dispose()
    return found


def test_alembic_upgrade_head_on_an_empty_database_gives_the_models_schema(tmp_path):
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = "
                                          "meterrig.results:migrations\n")
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    alembic.config.main(["-c", str(tmp_path / "alembic.ini"), "-x", f"url={url}", "upgrade",
                         "head"])
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection),
                                       models.Base.metadata)
    assert differences == []
    assert set(models.Base.metadata.tables) == {"runs", "meters", "positions", "measurements",
                                                "instruments"}


def test_two_writers_at_once_on_sqlite_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    _writers(url, 200, ("station-1", "station-2"))
    assert _counts(url) == {"station-1": 200, "station-2": 200}


@pytest.fixture
def postgresql():
    """A throwaway PostgreSQL server on a unix socket in a folder of its own (its URL)."""
    binaries = Path("/usr/lib/postgresql")
    found = sorted(binaries.glob("*/bin/pg_ctl")) if binaries.exists() else []
    pg_ctl = shutil.which("pg_ctl") or (str(found[-1]) if found else None)
    if pg_ctl is None:
        message = "PostgreSQL server binaries are not installed (bash tools/debian-packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    bin_dir = Path(pg_ctl).resolve().parent
    # Not under pytest's tmp_path: as root that is private to root, and initdb refuses to run
    # as root, so the server runs as the postgres user the package adds, in a folder it owns.
    folder = Path(tempfile.mkdtemp(prefix="meterrig-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-N"], check=True, capture_output=True, timeout=120)
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(folder / "server.log"), "-o",
                    f"-c listen_addresses='' -k {sockets} -c fsync=off", "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sockets}"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_writers_at_once_on_postgresql_lose_nothing(postgresql):
    _writers(postgresql, 200, ("station-1", "station-2"))
    assert _counts(postgresql) == {"station-1": 200, "station-2": 200}


def test_a_killed_run_keeps_what_it_measured_and_is_marked_incomplete(tmp_path):
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    process = subprocess.Popen([sys.executable, "-c", WRITER, url, "station-1", "25", "hold"],
                               env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "written\n"
    process.kill()
    process.wait(timeout=30)
    with sqlite3.connect(tmp_path / "results.sqlite") as connection:
        runs = connection.execute("SELECT complete, ended FROM runs").fetchall()
        measured = connection.execute("SELECT count(*) FROM measurements").fetchone()[0]
    assert runs == [(0, None)]
    assert measured == 25


def test_a_meter_seen_in_an_earlier_run_is_a_retest(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'results.sqlite'}")
    for run in ("first", "second"):
        writer = ResultsWriter.start(database, name=run, station="s", rig_name="bench",
                                     rig_file="bench.yaml", operator="qa")
        writer.positions([MeterOnPosition(1, "SN-1", "000000000001", "dlt645-2007"),
                          MeterOnPosition(2, f"SN-{run}", "000000000002", "dlt645-2007")])
        writer.finish(complete=True)
    with database.session() as session:
        rows = session.execute(select(models.Run.name, models.Meter.serial,
                                      models.RunPosition.retest)
                               .join(models.RunPosition.run).join(models.RunPosition.meter)
                               .order_by(models.Run.id, models.RunPosition.position)).all()
    database.close()
    assert [tuple(row) for row in rows] == [
        ("first", "SN-1", False), ("first", "SN-first", False),
        ("second", "SN-1", True), ("second", "SN-second", False)]


def expired_rig(tmp_path: Path) -> Path:
    """The line rig with its reference standard's calibration expired."""
    rig = tmp_path / "expired.yaml"
    rig.write_text(LINE_RIG.read_text().replace(
        "reference: {driver: sim-reference, calibration_due: 2099-12-31}",
        "reference: {driver: sim-reference, calibration_due: 2020-01-31}"))
    return rig


def test_an_instrument_past_its_calibration_due_date_refuses_the_run(tmp_path):
    rig = expired_rig(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pytest", "suites/metering", "--rig", str(rig),
                           "--reports", str(tmp_path / "reports"), "-p", "no:cacheprovider"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert (f"{rig}: instrument 'reference' was due for calibration on 2020-01-31"
            in done.stderr), done.stderr
    assert "--allow-expired-calibration" in done.stderr


def test_a_calibration_due_date_that_is_not_a_date_is_refused_with_its_line(tmp_path):
    rig = tmp_path / "bad.yaml"
    rig.write_text(LINE_RIG.read_text().replace("calibration_due: 2099-12-31}",
                                                "calibration_due: next spring}", 1))
    with pytest.raises(RigFileError) as refused:
        load(rig)
    assert f"{rig}:14: instruments.source.calibration_due: got 'next spring'; expected a " \
           "date, YYYY-MM-DD" in str(refused.value)


def test_a_meter_whose_register_map_declares_no_firmware_gives_not_read_and_why():
    # The reader is refused before any exchange: no rig is needed to hear why.
    modbus = next(p for p in load(ROOT / "rigs" / "sim.yaml").positions
                  if p.protocol == "modbus-rtu")
    assert read_firmware(None, modbus) == (
        None, f"register map {modbus.profile} declares no firmware register")
