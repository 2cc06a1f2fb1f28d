"""pytest entry: the --rig option and the plugins in fixtures/."""

from pathlib import Path

# In import order: a plugin is registered before another imports it.
pytest_plugins = ["fixtures.rig", "fixtures.reporting", "fixtures.metering", "fixtures.positions",
                  "fixtures.results", "fixtures.production", "fixtures.robustness",
                  "fixtures.rig_faults"]
pytest_plugins += ["fixtures.instruments"]  # the carrier line's noise injector and attenuator
pytest_plugins += ["fixtures.carrier"]  # suites/carrier: --carrier-reads, the line at a level
pytest_plugins += ["fixtures.allure_steps"]  # each exchange and measurement an Allure step

DEFAULT_RIG = Path(__file__).parent / "rigs" / "sim.yaml"


def pytest_addoption(parser):
    group = parser.getgroup("meterrig")
    group.addoption("--rig", default=str(DEFAULT_RIG),
                    help="rig file of the bench to run against (default: the simulated bench)")
    group.addoption("--reports", default=str(Path(__file__).parent / "reports"),
                    help="where measurements and frame traces are written (default: reports/)")
