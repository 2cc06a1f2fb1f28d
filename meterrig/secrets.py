"""Secrets in rig files: the Secret type, ${VAR} expansion, and masking in logs and reports.

Meter passwords and operator codes must reach the meter but never a log, a trace, a report or
an error message. They are held as `Secret`, whose str() and repr() show only MASK, and every
secret value the rig loader meets is registered so that `mask()` can scrub it from any text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

import attrs

MASK = "******"

# $$ is a literal $; ${NAME} or ${NAME:-default}; any other "${" is a mistake worth reporting.
_REFERENCE = re.compile(
    r"\$(?:(?P<dollar>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\{))"
)


@attrs.frozen(repr=False)
class Secret:
    """A secret string: shown as MASK, compared by value, `reveal()` gives it."""

    _value: str
    # The ${VAR} reference the value came from, so a rewritten rig file keeps the reference.
    source: str | None = attrs.field(default=None, eq=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:  # str() and f-strings use it too
        return MASK


class ExpansionError(ValueError):
    """A ${...} reference that cannot be expanded; the message names the variable."""


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, bool]:
    """Expand ${VAR} and ${VAR:-default} in text; True if any variable was referenced.

    As in the shell, the default is used when the variable is unset or empty.
    """
    referenced = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal referenced
        if match["dollar"]:
            return "$"
        if match["bad"]:
            raise ExpansionError(
                "malformed ${...}: write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), "
                "or $$ for a literal $"
            )
        referenced = True
        value = environ.get(match["name"], "")
        if value:
            return value
        if match["default"] is not None:
            return match["default"]
        if match["name"] in environ:
            return value
        raise ExpansionError(
            f"environment variable {match['name']} is not set; set it, or give a default: "
            f"${{{match['name']}:-default}}"
        )

    return _REFERENCE.sub(substitute, text), referenced


_lock = threading.Lock()
_registered: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(value: str) -> None:
    """Have mask() hide value from now on, in this process."""
    global _pattern
    # A value made of one repeated character (the default operator code 00000000, a password
    # 000000) also occurs in every hex dump and counter: masking it would wreck the traces while
    # hiding nothing anyone could not guess first. Such values are left visible.
    if len(set(value)) <= 1:
        return
    with _lock:
        if value in _registered:
            return
        _registered.add(value)
        # Longest first, so a secret containing another is masked whole.
        ordered = sorted(_registered, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def mask(text: str) -> str:
    """text with every registered secret value replaced by MASK."""
    pattern = _pattern
    return text if pattern is None else pattern.sub(MASK, text)
