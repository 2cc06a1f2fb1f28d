"""Alembic's entry: migrate the connection meterrig.results.database hands over, or the URL of
`alembic -x url=… upgrade head` (METERRIG_RESULTS_DB when no -x url)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, text

from meterrig.results.models import Base

# Several stations may open one PostgreSQL database at once: one migrates, the others wait.
ADVISORY_LOCK = 0x6D65746572  # "meter"


def run(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ["METERRIG_RESULTS_DB"]
    with create_engine(url).begin() as own:
        run(own)
