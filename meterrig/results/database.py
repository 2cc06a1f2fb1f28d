"""Opening the results database: any SQLAlchemy URL, brought to the current schema by its
Alembic migrations on open.

SQLite (the default, reports/results.sqlite) is opened for several writers at once: WAL (readers
never block the writer), a busy timeout, and `retry` for the one case SQLite will not wait on
(a read transaction that turns into a write while another process writes).
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

ENVIRONMENT = "METERRIG_RESULTS_DB"
BUSY_TIMEOUT_MS = 30_000
RETRIES = 20

T = TypeVar("T")


def default_url(reports: Path) -> str:
    """METERRIG_RESULTS_DB if set, else SQLite in the reports folder."""
    return os.environ.get(ENVIRONMENT) or f"sqlite:///{(reports / 'results.sqlite').resolve()}"


def migrations_config():
    """Alembic's configuration (alembic imported here: a pytest-xdist worker writes into a
    database its controller has brought up to date, and needs none of it)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "meterrig.results:migrations")
    return config


class Database:
    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        if self.sqlite and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=not self.sqlite)
        if self.sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Apply every migration the database lacks (one process at a time)."""
        with self._migration_lock(), self.engine.begin() as connection:
            config = migrations_config()
            config.attributes["connection"] = connection
            from alembic import command

            command.upgrade(config, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        # PostgreSQL takes an advisory lock in migrations/env.py; SQLite has none to take.
        if not self.sqlite or not self.url.database:
            yield
            return
        with open(f"{self.url.database}.migrating", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def session(self) -> Session:
        return self.sessions()

    def retry(self, work: Callable[[Session], T]) -> T:
        """`work` in its own transaction, committed; done again when the database was busy."""
        return _retried(lambda: self._in_session(work))

    def _in_session(self, work: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return work(session)

    def execute(self, statement: Executable, values: dict[str, Any]) -> None:
        """One statement in its own transaction, committed (retried when busy): a fifth of
        what a session costs, for the write every measurement makes."""
        def run() -> None:
            with self.engine.begin() as connection:
                connection.execute(statement, values)

        _retried(run)

    def close(self) -> None:
        self.engine.dispose()


class ResultsError(Exception):
    """The results database cannot be read; the message says which and why."""


def open_existing(url: str | None) -> Database:
    """The database to read results from (default: METERRIG_RESULTS_DB, else
    reports/results.sqlite); a SQLite file that is not there is an error, not a new database."""
    url = url or default_url(Path("reports"))
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and \
            not Path(parsed.database).exists():
        raise ResultsError(f"no results database at {parsed.database}: run the suites first, "
                           "or name one with --db URL")
    return open_database(url)


def open_database(url: str) -> Database:
    database = Database(url)
    database.upgrade()
    return database


def _retried(work: Callable[[], T]) -> T:
    for attempt in range(RETRIES):
        try:
            return work()
        except OperationalError as exc:
            if attempt == RETRIES - 1 or not _busy(exc):
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def _busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text or "deadlock" in text \
        or "could not serialize" in text


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a killed process
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
