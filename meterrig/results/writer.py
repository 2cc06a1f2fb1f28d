"""Writes one run into the results database as it happens: the run row first, the meters on
their positions and the instruments, then each measurement as it is made (its own commit: a
run that is killed keeps what it measured), and `finish` last, which alone marks it complete.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import attrs
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meterrig import measure

from . import models
from .database import Database


@attrs.frozen
class MeterOnPosition:
    """A meter as the bench has it: where it sits and what it is."""

    position: int
    serial: str
    address: str
    protocol: str
    bus: str | None = None
    model: str | None = None
    firmware: str | None = None
    rating: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class InstrumentOnBench:
    name: str
    driver: str
    resource: str | None = None
    calibration_due: date | None = None


class ResultsWriter:
    def __init__(self, database: Database, run_id: int) -> None:
        self.database = database
        self.run_id = run_id
        self._lock = threading.Lock()  # measurements may come from several threads

    @classmethod
    def start(cls, database: Database, *, name: str, station: str, rig_name: str,
              rig_file: str, operator: str, git_revision: str | None = None,
              overrides: dict[str, Any] | None = None) -> ResultsWriter:
        def add(session: Session) -> int:
            run = models.Run(name=name, station=station, rig_name=rig_name, rig_file=rig_file,
                             operator=operator, git_revision=git_revision,
                             started=datetime.now(UTC), complete=False,
                             overrides=overrides or {})
            session.add(run)
            session.flush()
            return run.id

        return cls(database, database.retry(add))

    def positions(self, meters: Iterable[MeterOnPosition]) -> None:
        """The meters on the bench; a serial seen in an earlier run is a retest."""
        for meter in meters:
            self.database.retry(lambda session, meter=meter: self._position(session, meter))

    def _position(self, session: Session, on: MeterOnPosition) -> None:
        meter = session.scalar(select(models.Meter).where(models.Meter.serial == on.serial))
        if meter is None:
            meter = models.Meter(serial=on.serial, model=on.model, firmware=on.firmware)
            try:
                with session.begin_nested():  # another station may add the same serial now
                    session.add(meter)
            except IntegrityError:
                meter = session.scalar(select(models.Meter)
                                       .where(models.Meter.serial == on.serial))
        else:
            meter.model = on.model or meter.model
            meter.firmware = on.firmware or meter.firmware
        earlier = session.scalar(select(models.RunPosition.id).where(
            models.RunPosition.meter_id == meter.id, models.RunPosition.run_id != self.run_id
        ).limit(1))
        session.add(models.RunPosition(
            run_id=self.run_id, meter_id=meter.id, position=on.position, bus=on.bus,
            protocol=on.protocol, address=on.address, rating=on.rating,
            retest=earlier is not None))

    def instruments(self, instruments: Iterable[InstrumentOnBench]) -> None:
        def add(session: Session) -> None:
            session.add_all(models.Instrument(
                run_id=self.run_id, name=i.name, driver=i.driver, resource=i.resource,
                calibration_due=i.calibration_due) for i in instruments)

        self.database.retry(add)

    def identities(self, identities: dict[str, str],
                   resources: dict[str, str | None] | None = None) -> None:
        """Each instrument's identity as it answered (*IDN?), and the resource it was opened
        at (a simulated bench's are known only once it runs), by name."""
        def add(session: Session) -> None:
            for row in session.scalars(select(models.Instrument).where(
                    models.Instrument.run_id == self.run_id)):
                row.identity = identities.get(row.name, row.identity)
                row.resource = (resources or {}).get(row.name) or row.resource

        self.database.retry(add)

    def instrument_rows(self) -> list[models.Instrument]:
        with self.database.session() as session:
            return list(session.scalars(select(models.Instrument).where(
                models.Instrument.run_id == self.run_id).order_by(models.Instrument.id)))

    def firmware(self, position: int, version: str | None, why: str | None = None) -> None:
        """What the meter on `position` said its firmware is, or why it was not read."""
        def add(session: Session) -> None:
            on = session.scalar(select(models.RunPosition).where(
                models.RunPosition.run_id == self.run_id,
                models.RunPosition.position == position))
            if on is None:  # not a position of this run
                return
            if version is not None:
                on.meter.firmware = version
            on.firmware, on.firmware_not_read = version, None if version is not None else why

        self.database.retry(add)

    def firmware_rows(self) -> dict[int, tuple[str | None, str | None]]:
        """Position -> (the firmware this run read, why it did not); (None, None): not asked."""
        with self.database.session() as session:
            rows = session.execute(select(
                models.RunPosition.position, models.RunPosition.firmware,
                models.RunPosition.firmware_not_read)
                .where(models.RunPosition.run_id == self.run_id)).all()
        return {position: (version, why) for position, version, why in rows}

    def retests(self) -> dict[int, bool]:
        """Position -> whether its meter is a retest in this run (as `positions` found)."""
        with self.database.session() as session:
            return dict(session.execute(
                select(models.RunPosition.position, models.RunPosition.retest)
                .where(models.RunPosition.run_id == self.run_id)).all())

    def record(self, measurement: measure.Measurement) -> None:
        values = _row(self.run_id, measurement)
        with self._lock:
            self.database.execute(INSERT, values)

    def finish(self, complete: bool) -> None:
        """The run's end; `complete` only when it ran to its end (a kill never gets here)."""
        def end(session: Session) -> None:
            run = session.get(models.Run, self.run_id)
            run.ended = datetime.now(UTC)
            run.complete = complete

        self.database.retry(end)


INSERT = insert(models.Measurement)


def _row(run_id: int, m: measure.Measurement) -> dict[str, Any]:
    number = isinstance(m.value, int | float) and not isinstance(m.value, bool)
    limits = m.limits
    return dict(
        run_id=run_id, position=m.position, key=m.key or m.name,
        dimensions=m.to_record()["dimensions"], name=m.name,
        value=float(m.value) if number else None,
        value_text=None if number or m.value is None else str(m.value),
        expected=None if m.expected is None else str(m.expected), unit=m.unit,
        uncertainty=m.uncertainty,
        limit_low=None if limits is None else limits.low,
        limit_high=None if limits is None else limits.high,
        limits_source=None if limits is None else limits.source,
        outcome=str(m.verdict), clause=m.clause, test=m.test, detail=m.detail,
        time=datetime.fromisoformat(m.time))


def from_position(position: Any, serial: str | None = None) -> MeterOnPosition:
    """A rig file's position (meterrig.config.PositionConfig) as the database keeps it; `serial`
    as scanned on the line, else the rig file's (else its address)."""
    accuracy = position.accuracy
    rating = {name: getattr(position, name) for name in
              ("un", "ib", "imax", "fn", "constant", "elements") if hasattr(position, name)}
    if accuracy is not None:
        rating.update(standard=accuracy.standard, meter_class=str(accuracy.meter_class))
    return MeterOnPosition(
        position=position.number, serial=str(serial or position.serial or position.address),
        address=str(position.address), protocol=position.protocol, bus=position.bus,
        model=None if position.profile is None else str(position.profile), rating=rating)
