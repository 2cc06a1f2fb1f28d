"""YAML data files (profiles, register maps) read with the line of every key, so that a
problem in a user's file is reported as FILE:LINE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Key = tuple[str | int, ...]  # mapping keys as str, list indexes as int


class DataFileError(ValueError):
    """A data file that cannot be used; str() lists every problem as FILE:LINE: KEY: what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LinedFile:
    """The data of one YAML file and the line of each of its keys and list items."""

    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        self.lines: dict[Key, int] = {}
        try:
            text = path.read_text(encoding="utf-8") if text is None else text
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = f":{mark.line + 1}" if mark else ""
            raise DataFileError([f"{path}{line}: invalid YAML: {error.problem}"]) from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise DataFileError([f"{path}: cannot read it: {error}"]) from None
        if node is not None:
            self._note(node, ())

    def _note(self, node: yaml.Node, key: Key) -> None:
        self.lines[key] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    self._note(value, (*key, key_node.value))
                    self.lines[(*key, key_node.value)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._note(item, (*key, index))

    def where(self, key: Key) -> str:
        """FILE:LINE: KEY for a key of this file (the nearest enclosing key's line)."""
        probe = key
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe)
        dotted = ""
        for part in key:
            dotted += f"[{part}]" if isinstance(part, int) else f".{part}" if dotted else part
        return f"{self.path}" + (f":{line}" if line else "") + (f": {dotted}" if dotted else "")


def looks_like_path(text: str) -> bool:
    """A profile or map given as a file (a path) rather than a shipped name."""
    return text.endswith((".yaml", ".yml")) or "/" in text
