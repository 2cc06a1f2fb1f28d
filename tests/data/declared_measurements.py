"""Tests that declare what they measure and end in each way a test can end; run by
tests/test_measurements.py (the name keeps pytest from collecting it on its own)."""

from __future__ import annotations

import pytest

SOURCE = "self-test"
pytestmark = pytest.mark.measures("first", "second")


@pytest.fixture
def reference_standard():
    raise ConnectionError("the reference standard did not answer")


def test_crashes_after_the_first(verify):
    verify.holds("first check", 1, 1, SOURCE, key="first")
    raise RuntimeError("the meter caught fire")


def test_fails_on_the_first(verify):
    verify.holds("first check", 1, 2, SOURCE, key="first")
    verify.holds("second check", 1, 1, SOURCE, key="second")


def test_errors_in_setup(reference_standard, verify):
    verify.holds("first check", 1, 1, SOURCE, key="first")


def test_skips_after_the_first(verify):
    verify.holds("first check", 1, 1, SOURCE, key="first")
    pytest.skip("no source on this bench")


def test_passes_without_the_second(verify):
    verify.holds("first check", 1, 1, SOURCE, key="first")


def test_makes_both(verify):
    for n in (1, 2):
        verify.holds(f"first check, reading {n}", n, n, SOURCE, key="first", at={"reading": n})
    verify.holds("second check", 1, 1, SOURCE, key="second")
