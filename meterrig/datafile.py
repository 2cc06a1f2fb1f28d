"""One reader for every YAML data file: the line of every key, duplicate keys refused, ${VAR}
expanded (when asked), then a pydantic model validates it; every problem becomes
`FILE:LINE: key.path: message`, and all of them are reported together.

Schemas are pydantic v2 models with `extra="forbid"` (see `Schema`). What a key allows, for
messages, is derived from its declaration (`Literal` -> "one of ...", `Field(ge=1)` on an int ->
"an integer ≥ 1", a model -> "a mapping with keys ...") unless the field's `description` says
it. Validators refuse a value with `invalid(reason)` (the message becomes "REASON; expected
WHAT") or `refused(message)`; checks across entries add problems to the `Report` found in the
validation context (`report(info)`), so that one validator can report several.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, ClassVar

import annotated_types
import attrs
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    RootModel,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .secrets import ExpansionError, expand

Key = tuple[str | int, ...]  # mapping keys as str, list indexes as int


@attrs.frozen
class Problem:
    key: str  # dotted path, e.g. positions[3].address; "" for the file as a whole
    line: int | None
    message: str


class DataFileError(ValueError):
    """A data file that cannot be used; str() lists every problem as FILE:LINE: KEY: what."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(self._format(p) for p in problems))

    def _format(self, problem: Problem) -> str:
        where = str(self.path) if problem.line is None else f"{self.path}:{problem.line}"
        key = f" {problem.key}:" if problem.key else ""
        return f"{where}:{key} {problem.message}"


class Schema(BaseModel):
    """The base of every data file's model: unknown keys refused, no silent conversions
    ("17" is not 17, 1 is not true), immutable once read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_by_name=True,
                              validate_by_alias=True, arbitrary_types_allowed=True)
    # Fields the reader fills in (a bus's name from its key), never written in the file.
    FILLED: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _not_written(cls, data: Any, info: ValidationInfo) -> Any:
        if report(info) is not None and isinstance(data, dict):
            for key in cls.FILLED:
                if key in data:
                    allowed = _keys(cls)
                    raise refused(f"unknown key {key!r}{suggest(key, allowed)}; allowed here: "
                                  + ", ".join(allowed), at=key)
        return data


# --- what validators use ---------------------------------------------------------------------


def invalid(reason: str, expected: str | None = None) -> PydanticCustomError:
    """A value refused: REASON; expected WHAT (WHAT: the key's declaration, unless given)."""
    return PydanticCustomError("invalid", "{reason}", {"reason": reason, "expected": expected})


def refused(message: str, at: str | Key | None = None) -> PydanticCustomError:
    """A value refused with a message of its own; `at`: the key (or key path) it is about,
    inside the model whose validator raises it."""
    return PydanticCustomError("refused", "{message}", {"message": message, "at": at})


def show(value: Any) -> str:
    """A value as a message shows it; one from the environment is never shown."""
    if isinstance(value, FromEnv):
        return f"the value of {value.source}"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


def suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def dotted(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class Report:
    """The problems found in one file, and the line of each of its keys and list items."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.lines: dict[Key, int] = {}

    def line(self, key: Key) -> int | None:
        # A missing key has no line of its own: use that of the mapping it is missing from.
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key)

    def add(self, key: Key, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(dotted(key), line or self.line(key), message))


def settle(model: BaseModel, **values: Any) -> None:
    """Set fields of an immutable model from its own after-validator (a default that depends on
    other fields, a key filled in from the mapping it is under)."""
    for name, value in values.items():
        object.__setattr__(model, name, value)


def report(info: ValidationInfo) -> Report | None:
    """The report of the file being read; None when a model is built in code."""
    return (info.context or {}).get("report")


# --- reading YAML ------------------------------------------------------------------------------

BROKEN = object()  # a value whose problem is already reported: the schema says nothing more


class FromEnv(str):
    """A string expanded from ${...}; `source` is the text as written (kept by rewriters, and
    shown in messages instead of the value, which may be a secret)."""

    source: str


class _Loader(yaml.SafeLoader):
    """SafeLoader reading zero-padded integers as decimal.

    YAML 1.1 reads 000000000010 as octal 8: a meter address typed unquoted from the nameplate
    would silently become another meter's.
    """

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        if re.fullmatch(r"[-+]?0[0-7]+", text):
            return int(text, 10)
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _mark_line(error: yaml.MarkedYAMLError) -> int | None:
    mark = error.problem_mark or error.context_mark
    return None if mark is None else mark.line + 1


class _Tree:
    """Plain data from the composed node tree: notes lines, duplicate keys, expands ${...}."""

    def __init__(self, loader: _Loader, report: Report, environ: Mapping[str, str] | None):
        self.loader = loader
        self.report = report
        self.environ = environ
        self.active: set[int] = set()  # collections being read, to catch recursive aliases

    def value(self, node: yaml.Node, key: Key) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, key)
        if id(node) in self.active:
            self.report.add(key, "a recursive alias (*name inside &name)", node.start_mark.line + 1)
            return BROKEN
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, key)
            items = []
            for index, item in enumerate(node.value):
                self.report.lines[(*key, index)] = item.start_mark.line + 1
                items.append(self.value(item, (*key, index)))
            return items
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, key: Key) -> Any:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            name, line = self._construct(key_node, key, quiet=True), key_node.start_mark.line + 1
            if name is BROKEN:
                continue  # reported below, when the key is read
            if name in first:
                # PyYAML would silently keep the last one: a typo-made twin must not go unseen.
                self.report.add((*key, str(name)), f"duplicate key {name!r} (first at line "
                                f"{first[name]}): YAML keeps only one; remove the other", line)
            first.setdefault(name, line)
        try:
            self.loader.flatten_mapping(node)  # merge keys (<<: *anchor)
        except yaml.MarkedYAMLError as error:
            self.report.add(key, f"bad merge key (<<): {error.problem}", _mark_line(error))
            return BROKEN
        data = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.report.add(key, "a key must be a plain value, not a list or a mapping", line)
                continue
            name = self._construct(key_node, key)
            if name is BROKEN:
                continue
            self.report.lines[(*key, str(name))] = line
            data[name] = self.value(value_node, (*key, str(name)))
        return data

    def _scalar(self, node: yaml.ScalarNode, key: Key) -> Any:
        value = self._construct(node, key)
        if not isinstance(value, str) or self.environ is None:
            return value
        try:
            expanded, referenced = expand(value, self.environ)
        except ExpansionError as error:
            self.report.add(key, str(error), node.start_mark.line + 1)
            return BROKEN
        if not referenced:
            return expanded
        result = FromEnv(expanded)
        result.source = value
        return result

    def _construct(self, node: yaml.ScalarNode, key: Key, *, quiet: bool = False) -> Any:
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as error:  # unknown tag, bad !!timestamp
            # PyYAML leaves a failed node marked as under construction: unmark it, so that
            # reading it again reports the same error rather than a "recursive node".
            self.loader.recursive_objects.pop(node, None)
            if not quiet:
                problem = getattr(error, "problem", None) or error
                self.report.add(key, f"cannot read this value: {problem}",
                                node.start_mark.line + 1)
            return BROKEN


def _parse(text: str, report: Report, environ: Mapping[str, str] | None, what: str) -> Any:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            report.add((), f"the {what} is empty")
            return BROKEN
        return _Tree(loader, report, environ).value(root, ())
    except yaml.MarkedYAMLError as error:
        message = f"invalid YAML: {error.problem}"
        if error.context:
            where = error.context_mark
            message += f" ({error.context}" + (f" at line {where.line + 1})" if where else ")")
        report.add((), message, _mark_line(error))
        return BROKEN
    except yaml.YAMLError as error:  # e.g. a control character in the file
        report.add((), f"invalid YAML: {error}")
        return BROKEN
    finally:
        loader.dispose()


def read(path: str | Path, schema: type[BaseModel], *, what: str = "data file",
         environ: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None,
         error: type[DataFileError] = DataFileError, text: str | None = None) -> Any:
    """The file's data as `schema` validates it; `error` lists every problem (FILE:LINE).

    `environ`: expand ${VAR} from it (None: no expansion). `context`: for the schema's
    validators, besides the `report`."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            where = "" if path.is_absolute() else f" (looked for {path.absolute()})"
            raise error(path, [Problem("", None, f"no such {what}{where}")]) from None
        except (OSError, UnicodeDecodeError) as problem:
            raise error(path, [Problem("", None, f"cannot read the {what}: {problem}")]) \
                from None
    found = Report(path)
    data = _parse(text, found, environ, what)
    result = None
    if data is not BROKEN:
        try:
            result = schema.model_validate(data, context={**(context or {}), "report": found})
        except ValidationError as validation:
            errors = validation.errors()
            for problem in errors:
                # pydantic counts a list's items after dropping the wrong ones: "too short"
                # says nothing more than their own problems.
                if problem["type"] != "too_short" or not any(
                        other["loc"][:len(problem["loc"])] == problem["loc"]
                        and other is not problem for other in errors):
                    _translate(problem, data, schema, found)
    if found.problems:
        raise error(path, sorted(found.problems, key=lambda p: (p.line is not None, p.line or 0)))
    return result


# --- pydantic's errors in the rig's words ------------------------------------------------------


def _translate(error: Any, data: Any, schema: type[BaseModel], found: Report) -> None:
    loc = tuple(error["loc"])
    context = error.get("ctx") or {}
    if error["type"] == "refused" and context.get("at"):
        at = context["at"]
        loc = (*loc, *((at,) if isinstance(at, str) else at))
    if error.get("input") is BROKEN:
        return
    key, node = [], data
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(node, dict):
            key.append(str(part))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            key.append(part)
            node = node[part] if part < len(node) else None
        elif node is None and index == len(loc) - 1:
            key.append(str(part))  # a missing key
    if node is BROKEN:
        return
    annotation, field = _declared(schema, loc)
    expected = _expected(annotation, field)
    kind = error["type"]
    if kind == "missing":
        message = f"missing required key {str(loc[-1])!r}" + (f": expected {expected}"
                                                              if expected else "")
    elif kind == "extra_forbidden":
        allowed = _keys(_declared(schema, loc[:-1])[0])
        message = (f"unknown key {str(loc[-1])!r}{suggest(str(loc[-1]), allowed)}; "
                   f"allowed here: {', '.join(allowed)}")
    elif kind == "refused":
        message = context["message"]
    else:
        reason = context["reason"] if kind == "invalid" else f"got {show(error.get('input'))}"
        expected = (context.get("expected") if kind == "invalid" else None) or expected
        message = f"{reason}; expected {expected}" if expected else f"{reason}: {error['msg']}"
    found.add(tuple(key), message)


def _bare(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside Annotated[...] and Optional[...], and the Annotated metadata."""
    metadata: list[Any] = []
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = annotation.__origin__
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            others = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(others) != 1:
                return annotation, metadata
            annotation = others[0]
        else:
            return annotation, metadata


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _declared(schema: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """The annotation at loc, and its model field (None inside a list or a mapping)."""
    annotation, field = schema, None
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        bare, _ = _bare(annotation)
        origin = typing.get_origin(bare)
        if _is_model(bare) and issubclass(bare, RootModel):
            annotation = bare.model_fields["root"].annotation
            parts.insert(0, part)  # the root model's loc names no field of its own
        elif _is_model(bare):
            named = {f.alias or n: f for n, f in bare.model_fields.items()}
            if part not in named:
                continue  # a part pydantic adds (a union member's name)
            field = named[part]
            annotation = field.annotation
        elif origin in (dict, Mapping, typing.Mapping):
            key_type, value_type = typing.get_args(bare)
            is_key = bool(parts) and parts[0] == "[key]"
            annotation, field = (key_type if is_key else value_type), None
            if is_key:
                parts.pop(0)
        elif origin in (list, tuple):
            annotation, field = typing.get_args(bare)[0], None
    return annotation, field


def _keys(annotation: Any) -> list[str]:
    bare, _ = _bare(annotation)
    if _is_model(bare) and issubclass(bare, RootModel):
        return _keys(bare.model_fields["root"].annotation)
    if not _is_model(bare):
        return []
    return [f.alias or n for n, f in bare.model_fields.items()
            if n not in getattr(bare, "FILLED", ())]


def _expected(annotation: Any, field: Any) -> str:
    """What a key allows, in words: its description, or what its declaration says."""
    if _is_model(annotation) and issubclass(annotation, RootModel):
        field = annotation.model_fields["root"]
        annotation = field.annotation
    if field is not None and field.description:
        return field.description
    bare, metadata = _bare(annotation)
    if field is not None:
        metadata = [*metadata, *field.metadata]
    bounds = {name.capitalize(): getattr(m, name) for m in metadata
              for name in ("gt", "ge", "le") if isinstance(m, annotated_types.BaseMetadata)
              and hasattr(m, name)}
    if typing.get_origin(bare) is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(bare)))
    if bare is bool:
        return "true or false"
    if bare is int:
        if "Ge" in bounds and "Le" in bounds:
            return f"an integer from {bounds['Ge']} to {bounds['Le']}"
        return f"an integer ≥ {bounds['Ge']}" if "Ge" in bounds else "an integer"
    if bare is float:
        if "Gt" in bounds:
            return f"a number > {bounds['Gt']:g}"
        return f"a number ≥ {bounds['Ge']:g}" if "Ge" in bounds else "a number"
    if bare is str:
        return "text"
    if _is_model(bare):
        return "a mapping with keys " + ", ".join(_keys(bare))
    origin = typing.get_origin(bare)
    if origin in (dict, Mapping, typing.Mapping):
        return "a mapping"
    if origin in (list, tuple):
        return "a list"
    return ""


def looks_like_path(text: str) -> bool:
    """A profile or map given as a file (a path) rather than a shipped name."""
    return text.endswith((".yaml", ".yml")) or "/" in text
