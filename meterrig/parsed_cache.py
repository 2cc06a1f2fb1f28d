"""A data file parsed once, kept as a pickle keyed by what it was made from.

Every pytest-xdist worker and every `meterrig` process reads the DL/T 645 catalogues; parsing
and checking them costs about a second of CPU each time (more on a busy machine), a pickle a
third of that. The key is the hash of the data file and of the code that parses it, so an edit
to either parses afresh (and a bad file is reported as always: it is never cached). The cache
is a convenience: any failure to read or write it falls back to parsing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ENVIRONMENT = "METERRIG_CACHE"  # the cache folder; "off" parses every time


def folder() -> Path | None:
    chosen = os.environ.get(ENVIRONMENT)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(home) / "meterrig"


def parsed(path: Path, parse: Callable[[Path], T], *code: Path) -> T:
    """`parse(path)`, or the pickle of an earlier parse of the same file by the same code."""
    where = folder()
    if where is None:
        return parse(path)
    digest = hashlib.sha256(sys.version.encode())
    for source in (path, *code):
        digest.update(Path(source).read_bytes())
    cached = where / f"{path.stem}-{digest.hexdigest()[:32]}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    value = parse(path)
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, delete=False) as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(out.name, cached)  # whole or not at all, whoever writes at once
    except OSError:
        pass
    return value
