"""External programs some self-tests drive (ser2net, mbpoll, socat), installed by
tools/debian-packages."""

from __future__ import annotations

import os
import shutil

import pytest


def require(program: str) -> str:
    """The program's path. Missing: a skip on a developer's machine, a failure in CI (which
    installs it), so CI can never pass by skipping."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (bash tools/debian-packages installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
