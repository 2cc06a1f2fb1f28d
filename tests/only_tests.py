"""A plugin the defect self-tests load into a suite run (`-p tests.only_tests`): `--only NAME`
(repeatable) keeps just the tests so named, function[parameters] as junit names them, in
whichever files define them; `-k` would keep every parametrization of the function."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--only", action="append", default=[],
                     help="run only the test of this name, e.g. test_x[pos1-split] (repeatable)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    names = set(config.getoption("only"))
    if not names:
        return
    config.hook.pytest_deselected(items=[item for item in items if item.name not in names])
    items[:] = [item for item in items if item.name in names]
