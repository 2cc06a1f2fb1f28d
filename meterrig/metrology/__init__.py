"""Metrology: accuracy standards as data (standards), the bench arithmetic (maths), the metering
bench's instruments (bench), group measurements (group) and the metering procedure (procedure).

Limits and test parameters come from meterrig/limits/iec62053-21.yaml and en50470-3.yaml, each
with its source in /work/shared/spec/accuracy.md or a stated assumption.
"""

from .bench import MeteringBench, PointResult
from .group import GroupLog, GroupMeasurement, rating
from .procedure import MeteringProcedure
from .standards import (
    AccuracyRun,
    ConstantTest,
    CreepTest,
    InfluencePoint,
    LoadPoint,
    MeterRating,
    Settling,
    Standard,
    StartingTest,
)

__all__ = [
    "AccuracyRun",
    "ConstantTest",
    "CreepTest",
    "GroupLog",
    "GroupMeasurement",
    "InfluencePoint",
    "LoadPoint",
    "MeterRating",
    "MeteringBench",
    "MeteringProcedure",
    "PointResult",
    "Settling",
    "Standard",
    "StartingTest",
    "rating",
]
