"""Spec tables and limits as data (YAML beside this file), each with its source."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def table(name: str) -> dict:
    """The parsed YAML table `name`.yaml of this package."""
    return yaml.safe_load(resources.files(__package__).joinpath(f"{name}.yaml").read_text())
