"""The production line's routine sequence, its metering part, every position at once: starting,
creep, the routine accuracy points (limits/routine.yaml) and the relay. These are the metering
suites' own tests run again (fixtures/production.py, again): the same group measurements."""

from __future__ import annotations

import pytest

from fixtures.production import again
from suites.metering import test_accuracy as accuracy
from suites.metering import test_no_load as no_load
from suites.metering import test_relay as relay

test_starting = again(no_load.test_starting_current)
test_creep = again(no_load.test_no_load_creep)
test_accuracy = again(accuracy.test_accuracy, pytest.mark.routine)
test_relay = again(relay.test_relay_stops_and_resumes_registration)
