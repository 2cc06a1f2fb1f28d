"""What the self-tests share: each bench's suite on good meters, run once a session and read by
tests/test_measurements.py (its measurement records) and tests/test_suites_catch_defects.py
(its verdicts)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.benches import BENCHES


@pytest.fixture(scope="session")
def good_bench_runs(tmp_path_factory) -> dict[str, Future[Path]]:
    """bench -> its run on good meters (started at once, in the background): the work directory
    holding junit.xml and reports/ once the future is done."""
    from tests.test_suites_catch_defects import rig_with, run_suite

    base = tmp_path_factory.mktemp("good-benches")
    pool = ThreadPoolExecutor(max_workers=len(BENCHES))

    def run(bench: str) -> Path:
        run_suite(BENCHES[bench][0], rig_with(bench, None), base / bench)
        return base / bench

    yield {bench: pool.submit(run, bench) for bench in BENCHES}
    pool.shutdown(wait=True, cancel_futures=True)
