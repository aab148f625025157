"""Load the YAML data files shipped with the package, with line-numbered errors.

Why: reference data (industry codes, size thresholds) is edited by people who are not
programmers, reviewed in diffs, and versioned. A mistake in such a file must be reported as
``industry_gbt4754_2017.yaml:131: sections.2.divisions.4.zh: Field required`` — file, line
and key — not as a stack trace from deep inside a lookup. We compose the YAML once to keep each
node's line, build the Python data from the same nodes, and validate that data with a pydantic
model whose error locations map back to those lines. Duplicate mapping keys, which plain YAML
loading silently resolves to the last one, are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

KeyPath = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


class DataFileError(ValueError):
    """A shipped or edited data file is malformed; the message leads with ``file:line``."""

    def __init__(self, file: str, problems: list[tuple[int, str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}:{line}: {key or '<document>'}: {msg}" for line, key, msg in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LoadedYaml:
    """A YAML document's data and the 1-based line on which each key path starts."""

    file: str
    data: Any
    lines: dict[KeyPath, int]

    def line_of(self, path: KeyPath) -> int:
        """Line of the deepest known node along ``path`` (a missing key reports its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def _dotted(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problem = f"duplicate key {key!r} (first on line {seen[key]})"
                raise DataFileError(file, [(line, _dotted((*path, key)), problem)])
            seen[key] = line
            _record_lines(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines, file)


def parse_yaml(text: str, file: str) -> LoadedYaml:
    """Parse YAML text; syntax errors and duplicate keys become ``DataFileError``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DataFileError(file, [(1, "", "the file is empty")])
        lines: dict[KeyPath, int] = {}
        _record_lines(node, (), lines, file)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise DataFileError(file, [(line, "", str(exc.problem or exc))]) from None
    finally:
        loader.dispose()
    return LoadedYaml(file, data, lines)


def validate_loaded(model: type[ModelT], loaded: LoadedYaml) -> ModelT:
    """Validate parsed data with ``model``; every error is reported with its line."""
    try:
        return model.model_validate(loaded.data)
    except ValidationError as exc:
        problems = [
            (loaded.line_of(tuple(err["loc"])), _dotted(tuple(err["loc"])), err["msg"])
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise DataFileError(loaded.file, problems) from None


def packaged_text(name: str) -> str:
    """Text of ``entities/data/<name>`` as installed with the package."""
    return resources.files("xiaowei.entities").joinpath("data").joinpath(name).read_text("utf-8")


def load_packaged(model: type[ModelT], name: str) -> ModelT:
    """Load and validate ``entities/data/<name>`` from the installed package."""
    return validate_loaded(model, parse_yaml(packaged_text(name), name))


def load_data_file(model: type[ModelT], package: str, default_file: str,
                   path: Path | str | None = None) -> ModelT:
    """``model`` from an edited file at ``path``, or from ``default_file`` shipped in
    ``package``; a mistake is a :class:`DataFileError` naming ``file:line: key: problem``.

    Why one loader: every domain keeps its rules as YAML beside its code (warning signals,
    classification ladders, collection steps …) and each must fail the same clear way."""
    if path is None:
        text = resources.files(package).joinpath(default_file).read_text("utf-8")
        return validate_loaded(model, parse_yaml(text, default_file))
    path = Path(path)
    return validate_loaded(model, parse_yaml(path.read_text("utf-8"), path.name))
