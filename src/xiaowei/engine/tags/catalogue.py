"""Load a tag catalogue (a directory of YAML files) and refuse it whole if anything is wrong.

Why refuse whole: a catalogue is the contract between the data team and every strategy that
reads tags. A half-loaded catalogue would let a strategy run on a tag that silently is not
there. So every problem in every file — a bad field, a duplicate name, an undeclared table,
SQL that does not parse or reads the future — is collected and reported as
``file:line: tags.3.sql: …`` before anything runs; SQL positions are mapped to YAML lines.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from xiaowei.engine.tags.models import CatalogueFile, EntityDef, TableDef, TagDef
from xiaowei.engine.tags.sql import (
    SqlProblem,
    TableRead,
    check_tag_sql,
    normalised,
    parse_tag_sql,
    point_in_time,
)
from xiaowei.entities.datafiles import DataFileError, LoadedYaml, parse_yaml, validate_loaded

Problem = tuple[str, int, str, str]  # file, line, key path, message
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")

SQL_TYPES: dict[str, str] = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "date": "DATE",
}


class CatalogueError(DataFileError):
    """The catalogue is refused; each line of the message is ``file:line: key: problem``."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        lines = [f"{f}:{line}: {key or '<document>'}: {m}" for f, line, key, m in problems]
        ValueError.__init__(self, "\n".join(lines))
        self.file = problems[0][0] if problems else ""
        self.problems = [(line, key, message) for _, line, key, message in problems]
        self.located = list(problems)


@dataclass(frozen=True)
class Origin:
    """Where a definition was written: file and the lines of its item and its version."""

    file: str
    line: int
    version_line: int
    key: str


@dataclass(frozen=True)
class DefinedTag:
    """A tag that passed every check: its definition, parsed SQL and content hash."""

    definition: TagDef
    query: exp.Query
    reads: tuple[str, ...]
    content_hash: str
    origin: Origin

    @property
    def name(self) -> str:
        return self.definition.name

    def sql_type(self) -> exp.DataType:
        """The engine type of the value (DECIMAL carries the tag's scale)."""
        d = self.definition
        if d.type == "decimal":
            return exp.DataType.build(f"DECIMAL(38, {d.decimal_scale})")
        return exp.DataType.build(SQL_TYPES[d.type])


def content_hash(tag: TagDef, query: exp.Query) -> str:
    """sha256 of what decides a tag's values; labels, owner and description do not count."""
    payload = {
        "entity": tag.entity,
        "type": tag.type,
        "scale": tag.decimal_scale if tag.type == "decimal" else None,
        "scope": tag.scope,
        "sql": normalised(query),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Catalogue:
    """Entities, governed tables and tags, all checked together; immutable once loaded."""

    def __init__(
        self,
        entities: dict[str, EntityDef],
        tables: dict[str, TableDef],
        tags: dict[str, DefinedTag],
    ) -> None:
        self.entities = entities
        self.tables = tables
        self.tags = tags

    def key_of(self, table: str, entity: str) -> str | None:
        """Column of ``table`` holding ``entity``'s id (None for reference tables)."""
        keys = self.tables[table].keys
        if isinstance(keys, list):
            return self.entities[entity].key if entity in keys else None
        return keys.get(entity)

    def select(self, names: Iterable[str] | None = None) -> list[DefinedTag]:
        """The named tags (all, in catalogue order, when ``names`` is None)."""
        if names is None:
            return list(self.tags.values())
        chosen = list(dict.fromkeys(names))
        unknown = [n for n in chosen if n not in self.tags]
        if unknown:
            raise KeyError(f"unknown tags {unknown}; the catalogue has {len(self.tags)} tags")
        return [self.tags[n] for n in chosen]

    def reads(self, tag: DefinedTag) -> dict[str, TableRead]:
        """How ``tag`` may read each table it uses (point-in-time columns, entity key)."""
        out = {}
        for name in tag.reads:
            t = self.tables[name]
            key = self.key_of(name, tag.definition.entity)
            out[name] = TableRead(name, t.known_at, t.valid_from, key)
        return out

    def compiled(
        self, tag: DefinedTag, *, entity_filter: bool = False, staged: Collection[str] = ()
    ) -> exp.Select:
        """The tag's point-in-time query tree (render it with ``sql.render``)."""
        return point_in_time(
            tag.query, self.reads(tag), tag.sql_type(), entity_filter=entity_filter,
            staged=staged,
        )


def _sql_line(loaded: LoadedYaml, text_lines: list[str], path: tuple[str | int, ...]) -> int:
    """YAML line on which the SQL's first line is written (block scalars start one below)."""
    line = loaded.line_of(path)
    if 0 < line <= len(text_lines) and _BLOCK_SCALAR.search(text_lines[line - 1]):
        return line + 1
    return line


def _files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(source, str | Path):
        root = Path(source)
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
            if not found:
                raise CatalogueError([(str(root), 1, "", "no .yaml files in the catalogue")])
            return found
        return [root]
    return [Path(p) for p in source]


def load_catalogue(source: str | Path | Sequence[str | Path]) -> Catalogue:
    """Load a directory (recursively), a file, or a list of files; raise ``CatalogueError``."""
    problems: list[Problem] = []
    parsed: list[tuple[LoadedYaml, list[str], CatalogueFile]] = []
    for path in _files(source):
        text = path.read_text("utf-8")
        try:
            loaded = parse_yaml(text, str(path))
            parsed.append((loaded, text.splitlines(), validate_loaded(CatalogueFile, loaded)))
        except DataFileError as exc:
            problems.extend((exc.file, line, key, msg) for line, key, msg in exc.problems)
    entities: dict[str, EntityDef] = {}
    tables: dict[str, TableDef] = {}
    tags: dict[str, DefinedTag] = {}
    seen: dict[tuple[str, str], str] = {}

    def first(kind: str, name: str, loaded: LoadedYaml, path: tuple[str | int, ...]) -> bool:
        here = f"{loaded.file}:{loaded.line_of(path)}"
        if (kind, name) in seen:
            problems.append(
                (
                    loaded.file,
                    loaded.line_of((*path, "name")),
                    _key((*path, "name")),
                    f"duplicate {kind} {name!r} (first at {seen[kind, name]})",
                )
            )
            return False
        seen[kind, name] = here
        return True

    for loaded, _, doc in parsed:
        for i, entity in enumerate(doc.entities):
            if first("entity", entity.name, loaded, ("entities", i)):
                entities[entity.name] = entity
        for i, table in enumerate(doc.tables):
            if first("table", table.name, loaded, ("tables", i)):
                tables[table.name] = table
    for loaded, _, doc in parsed:
        for i, table in enumerate(doc.tables):
            listed = table.keys if isinstance(table.keys, list) else list(table.keys)
            for entity_name in listed:
                if entity_name not in entities:
                    path = ("tables", i, "keys")
                    problems.append(
                        (
                            loaded.file,
                            loaded.line_of(path),
                            _key(path),
                            f"entity {entity_name!r} is not declared",
                        )
                    )
    catalogue = Catalogue(entities, tables, tags)
    for loaded, lines, doc in parsed:
        for i, tag in enumerate(doc.tags):
            if first("tag", tag.name, loaded, ("tags", i)):
                defined = _define(catalogue, tag, loaded, lines, ("tags", i), problems)
                if defined is not None:
                    tags[tag.name] = defined
    if problems:
        raise CatalogueError(problems)
    return catalogue


def _key(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


def _define(
    catalogue: Catalogue,
    tag: TagDef,
    loaded: LoadedYaml,
    lines: list[str],
    path: tuple[str | int, ...],
    problems: list[Problem],
) -> DefinedTag | None:
    def refuse(field: str, message: str, line: int | None = None) -> None:
        where = line if line is not None else loaded.line_of((*path, field))
        problems.append((loaded.file, where, _key((*path, field)), message))

    if tag.entity not in catalogue.entities:
        refuse("entity", f"entity {tag.entity!r} is not declared")
        return None
    try:
        query = parse_tag_sql(tag.sql)
        reads = check_tag_sql(query, catalogue.tables, tag.sql)
    except SqlProblem as exc:
        line = _sql_line(loaded, lines, (*path, "sql")) + exc.line - 1
        refuse("sql", f"{exc.message} (SQL line {exc.line}, column {exc.col})", line)
        return None
    if tag.scope == "entity":
        for name in reads:
            if not catalogue.tables[name].reference and catalogue.key_of(name, tag.entity) is None:
                refuse(
                    "sql",
                    f"table {name!r} has no key for entity {tag.entity!r}; declare it "
                    "in the table's keys, or mark the tag scope: population",
                    _sql_line(loaded, lines, (*path, "sql")),
                )
                return None
    origin = Origin(
        loaded.file, loaded.line_of(path), loaded.line_of((*path, "version")), _key(path)
    )
    return DefinedTag(tag, query, reads, content_hash(tag, query), origin)
