"""What the self-tests share: each bench's suite on good meters, run once a session and read by
tests/test_measurements.py (its measurement records) and tests/test_suites_catch_defects.py
(its verdicts)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.benches import BENCHES, selected_benches

# No self-test judges speed (benchmarks/ does): an example's run time is the machine's load (the
# good benches run beside the tests), so hypothesis sets no deadline and does not judge how fast
# it generates inputs.
settings.register_profile("meterrig", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("meterrig")


@pytest.fixture(scope="session")
def good_bench_runs(request, tmp_path_factory) -> dict[str, Future[Path]]:
    """bench -> its run on good meters (started at once, in the background): the work directory
    holding junit.xml and reports/ once the future is done. Only the benches the selected tests
    are parametrized with run (`-k robustness` runs the robustness bench's alone)."""
    from tests.test_suites_catch_defects import rig_with, run_suite

    selected = {bench for bench, _ in selected_benches(request.session)}

    base = tmp_path_factory.mktemp("good-benches")
    pool = ThreadPoolExecutor(max_workers=len(BENCHES))

    def run(bench: str) -> Path:
        # A soak of half a second shows it passes and makes its measurements (3 s by default).
        run_suite(BENCHES[bench][0], rig_with(bench, None), base / bench, "--soak-seconds", "0.5")
        return base / bench

    yield {bench: pool.submit(run, bench) for bench in BENCHES if bench in selected}
    pool.shutdown(wait=True, cancel_futures=True)
