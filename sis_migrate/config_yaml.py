"""YAML configuration read with line numbers, so every configuration error names file and line.

PyYAML forgets where a value came from once it is loaded. The loader here records the line of
every mapping key and every list item; :func:`validate` turns a pydantic validation error into a
:class:`ConfigurationError` that points at the line of the offending key, and :class:`Source`
lets later semantic checks (an unknown legacy column, a missing crosswalk file) do the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from sis_migrate.errors import ConfigurationError

ModelT = TypeVar("ModelT", bound=BaseModel)
Loc = Sequence[str | int]


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors and loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}


class LineList(list):
    """A YAML sequence that remembers its own line and the line of each item (1-based)."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry line numbers; a repeated key is an error."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            raise ConfigurationError(f"{loader.name}:{line}: key {key!r} is given twice in the same block")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    sequence = LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class Source:
    """One loaded configuration file: its path and its raw, line-numbered content."""

    def __init__(self, path: Path, raw: Any):
        self.path, self.raw = Path(path), raw

    @classmethod
    def read(cls, path: Path | str) -> Source:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigurationError(f"{path}: cannot be read ({err.strerror})") from err
        loader = _LineLoader(text)
        loader.name = str(path)
        try:
            raw = loader.get_single_data()
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ConfigurationError(f"{where}: not valid YAML ({getattr(err, 'problem', None) or err})") from err
        finally:
            loader.dispose()
        if not isinstance(raw, dict):
            raise ConfigurationError(f"{path}:1: expected a mapping of keys at the top of the file")
        return cls(path, raw)

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest node of ``loc`` that exists in the file (1 if none does)."""
        node, line = self.raw, getattr(self.raw, "line", 1) or 1
        for part in loc:
            if isinstance(node, LineDict) and part in node:
                line, node = node.key_lines.get(part, line), node[part]
            elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
                line, node = node.item_lines[part], node[part]
            else:
                break
        return line

    def _in_file(self, loc: Loc) -> list[str | int]:
        """``loc`` without the parts that name no node of the file (pydantic's tags for union members).

        The last part is kept whatever it is: it may be a key the file lacks (a required key).
        """
        node, kept = self.raw, []
        for position, part in enumerate(loc):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            elif position < len(loc) - 1:
                continue
            kept.append(part)
        return kept

    def error(self, loc: Loc, message: str) -> ConfigurationError:
        """A configuration error naming this file and the line of ``loc``."""
        where = ".".join(str(part) for part in loc)
        return ConfigurationError(f"{self.path}:{self.line_of(loc)}: {where + ': ' if where else ''}{message}")

    def validate(self, model: type[ModelT], loc: Loc = ()) -> ModelT:
        """Validate the node at ``loc`` as ``model``; the first problem becomes a ConfigurationError."""
        node = self.raw
        for part in loc:
            node = node[part]
        try:
            return model.model_validate(node)
        except ValidationError as err:
            errors = err.errors()
            # an unknown key says most about what is wrong; pydantic may list a missing one first
            first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
            problem_loc = self._in_file([*loc, *first["loc"]])
            message = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                message = f"unknown key {str(problem_loc[-1])!r}"
            elif first["type"] == "missing":
                message = f"required key {str(problem_loc[-1])!r} is missing"
            raise self.error(problem_loc, message) from err
