"""Metrology: accuracy standards as data (standards) and the bench arithmetic (maths).

Limits and test parameters come from meterrig/limits/iec62053-21.yaml and en50470-3.yaml, each
with its source in /work/shared/spec/accuracy.md or a stated assumption.
"""

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
    "InfluencePoint",
    "LoadPoint",
    "MeterRating",
    "Settling",
    "Standard",
    "StartingTest",
]
