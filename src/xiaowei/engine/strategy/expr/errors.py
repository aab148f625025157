"""Errors of the rule language, each pointing at a line and column of the expression text.

Why positions: rules are written by people in YAML files and reviewed in diffs. A refusal must
say *where* — ``strategy.yaml:14:22: unknown name 'tag.tax_sale_12m' (did you mean
'tag.tax_sales_12m'?)`` — so that it can be fixed without reading a stack trace. The language
reports line and column inside the expression; :func:`yaml_position` maps them to the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from xiaowei.entities.datafiles import KeyPath, LoadedYaml

_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")


class ExprError(ValueError):
    """An expression is refused at load; ``line`` and ``column`` are 1-based in its text."""

    def __init__(self, message: str, line: int, column: int, source: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        super().__init__(f"{line}:{column}: {message}")

    def located(self, file: str, line: int, column: int) -> ExprError:
        """The same error re-anchored at ``file:line:column`` (of the expression's first char)."""
        out = ExprError(self.message, line, column, self.source)
        out.args = (f"{file}:{line}:{column}: {self.message}",)
        out.file = file  # type: ignore[attr-defined]
        return out


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of character ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def yaml_position(
    loaded: LoadedYaml, text_lines: Sequence[str], path: KeyPath, error: ExprError
) -> tuple[int, int]:
    """File (line, column) of ``error`` in the expression stored at ``path`` of a YAML file.

    Block scalars (``key: |``) start on the next line, indented; their lines map one to one.
    A plain or quoted scalar on the key's line is found by searching that line for the
    expression's first line of text (folded multi-line plain scalars map approximately).
    """
    line = loaded.line_of(path)
    if not 0 < line <= len(text_lines):
        return line, error.column
    here = text_lines[line - 1]
    if _BLOCK_SCALAR.search(here):
        first = text_lines[line] if line < len(text_lines) else ""
        indent = len(first) - len(first.lstrip(" "))  # the block's indentation
        return line + error.line, indent + error.column
    first = error.source.split("\n", 1)[0].strip()
    start = here.find(first, here.find(":") + 1 if ":" in here else 0) if first else -1
    if start < 0:
        start = here.find(first) if first else -1
    if error.line == 1 and start >= 0:
        lead = len(error.source.split("\n", 1)[0]) - len(error.source.split("\n", 1)[0].lstrip())
        return line, start + error.column - lead
    return line + error.line - 1, error.column


def locate(
    loaded: LoadedYaml, text_lines: Sequence[str], path: KeyPath, error: ExprError
) -> ExprError:
    """``error`` re-anchored as ``file:line:column`` for an expression read from YAML."""
    line, column = yaml_position(loaded, text_lines, path, error)
    return error.located(loaded.file, line, column)


@dataclass
class Problems:
    """Collects every problem of a definition so that one load reports them all.

    Each entry is ``(where, message)``; ``where`` is ``file:line:column: key`` when the
    definition came from YAML (``source`` = the parsed file and its lines), else ``key:l:c``.
    """

    source: tuple[LoadedYaml, Sequence[str]] | None
    base: KeyPath
    found: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: KeyPath, error: ExprError | str) -> None:
        key = ".".join(str(p) for p in (*self.base, *path))
        if isinstance(error, str):
            where = key
            if self.source is not None:
                loaded = self.source[0]
                where = f"{loaded.file}:{loaded.line_of((*self.base, *path))}: {key}"
            self.found.append((where, error))
            return
        if self.source is not None:
            error = locate(self.source[0], self.source[1], (*self.base, *path), error)
            where, _, _ = str(error).partition(f": {error.message}")
            self.found.append((f"{where}: {key}", error.message))
        else:
            self.found.append((f"{key}:{error.line}:{error.column}", error.message))
