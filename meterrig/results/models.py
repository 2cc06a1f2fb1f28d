"""The results database's tables: runs, the meters on their positions, every measurement, the
instruments with their identity and calibration due date.

The schema is made by the Alembic migrations beside this file (migrations/versions/), never
by `create_all`: a database of any age is brought to this schema the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class Run(Base):
    """One pytest session (or line run) at one station."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # reports/runs/<name>: the JSONL files' folder
    station: Mapped[str] = mapped_column(String(128))
    rig_name: Mapped[str] = mapped_column(String(256))
    rig_file: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(128))
    git_revision: Mapped[str | None] = mapped_column(String(64))
    started: Mapped[datetime]
    ended: Mapped[datetime | None]
    # True only when the run ended cleanly: a killed run keeps its rows and stays False.
    complete: Mapped[bool] = mapped_column(default=False)
    # What the run was allowed to do that it would otherwise refuse, e.g.
    # {"allow_expired_calibration": ["source: due 2025-01-01"]}
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)

    positions: Mapped[list[RunPosition]] = relationship(back_populates="run")
    instruments: Mapped[list[Instrument]] = relationship(back_populates="run")


class Meter(Base):
    """A meter by its serial number, the same row in every run that tests it."""

    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str | None] = mapped_column(String(128))  # its profile or register map
    firmware: Mapped[str | None] = mapped_column(String(128))  # None: not read from the meter


class RunPosition(Base):
    """A meter on a position of the bench in one run."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    position: Mapped[int]
    bus: Mapped[str | None] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    # The rating and accuracy class it is judged by: the certificate's reference conditions.
    rating: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The meter was on a bench in an earlier run: not its first pass.
    retest: Mapped[bool] = mapped_column(default=False)
    # The firmware this run read from the meter (Meter.firmware: the latest read), or why it
    # did not; both None: not asked yet.
    firmware: Mapped[str | None] = mapped_column(String(128))
    firmware_not_read: Mapped[str | None] = mapped_column(Text)

    run: Mapped[Run] = relationship(back_populates="positions")
    meter: Mapped[Meter] = relationship()


class Measurement(Base):
    """One measurement as it was made (meterrig.measure.Measurement)."""

    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_key_time", "key", "time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    position: Mapped[int | None]  # the bench position; None for a bus or rig figure
    key: Mapped[str] = mapped_column(String(256))
    dimensions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    name: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)  # a number, when it is one
    value_text: Mapped[str | None] = mapped_column(Text)  # the value as recorded, when not
    expected: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(32), default="")
    uncertainty: Mapped[float | None] = mapped_column(Float)
    limit_low: Mapped[float | None] = mapped_column(Float)
    limit_high: Mapped[float | None] = mapped_column(Float)
    limits_source: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    clause: Mapped[str] = mapped_column(Text, default="")
    test: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[datetime]


class Instrument(Base):
    """A bench instrument as one run found it."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    driver: Mapped[str] = mapped_column(String(256))
    resource: Mapped[str | None] = mapped_column(Text)
    identity: Mapped[str | None] = mapped_column(Text)  # its *IDN? reply; None: not asked yet
    calibration_due: Mapped[date | None]

    run: Mapped[Run] = relationship(back_populates="instruments")
