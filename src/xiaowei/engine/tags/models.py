"""The shape of a tag catalogue file: entities, governed tables and tags, as pydantic models.

Why strict models: the catalogue is edited by bank staff and reviewed in diffs. An unknown key
is almost always a typo that would otherwise be ignored silently (``unti`` for ``unit``), so
every model forbids extra keys, and every name that ends up inside SQL — entity, table, column,
tag — must be lower-case snake case, which also makes it safe to quote on any engine.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]
Column = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", max_length=63)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

TagType = Literal["int", "float", "decimal", "bool", "string", "date"]
Category = Literal["fact", "risk", "business"]
Cadence = Literal["daily", "monthly", "on_demand"]
MAX_SCALE = 10  # the long table keeps decimals as DECIMAL(38, 10)
DEFAULT_SCALE = 2

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "fact": ("事实", "fact"),
    "risk": ("风险", "risk"),
    "business": ("业务属性", "business attribute"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    """A name shown to people: Chinese first, English second."""

    zh: Text
    en: Text


class EntityDef(_Strict):
    """A kind of thing tags describe; ``key`` is the usual name of its id column."""

    name: Name
    key: Column
    description: str = ""


class TableDef(_Strict):
    """A governed table a tag may read.

    ``known_at`` is the column that records when the bank learned each row (point-in-time
    filter); ``valid_from``, when declared, also hides rows not yet in force at as-of.
    ``keys`` maps an entity to the column that holds its id (a list of entity names means
    "the entity's usual key column"); online computation filters that column. A ``reference``
    table (codes, calendars) has no entity key and is read whole. An ``intraday`` table
    changes during the day with the case being decided (the application itself, the report
    pulled for it): a serving runtime computes the tags that read it online and may take every
    other tag from the latest batch run.
    """

    name: Name
    known_at: Column
    valid_from: Column | None = None
    keys: dict[Name, Column] | list[Name] = Field(default_factory=dict)
    reference: bool = False
    intraday: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _keys_or_reference(self) -> TableDef:
        if self.reference and self.keys:
            raise ValueError("a reference table has no entity keys; drop 'keys' or 'reference'")
        if not self.reference and not self.keys:
            raise ValueError("declare 'keys' (entity → column) or mark the table 'reference'")
        return self


class TagDef(_Strict):
    """One tag: what it means (labels, category, unit), who owns it, and its SQL.

    ``sql`` is one SELECT returning ``entity_id, value``; it may use ``:as_of`` (a DATE).
    ``scope: population`` marks a tag whose value for one entity depends on other entities'
    rows (ranks, peer shares): online it is computed over all rows, then filtered.
    """

    name: Name
    label: Label
    category: Category
    entity: Name
    type: TagType
    scale: int | None = Field(default=None, ge=0, le=MAX_SCALE)
    unit: str
    cadence: Cadence
    owner: Text
    version: int = Field(ge=1)
    description: Text
    sql: Text
    scope: Literal["entity", "population"] = "entity"

    @model_validator(mode="after")
    def _scale_for_decimal(self) -> TagDef:
        if self.scale is not None and self.type != "decimal":
            raise ValueError(f"scale applies to decimal tags only, this tag is {self.type}")
        return self

    @property
    def decimal_scale(self) -> int:
        """Digits after the point for a decimal tag (its declared scale, or 2)."""
        return DEFAULT_SCALE if self.scale is None else self.scale


class CatalogueFile(_Strict):
    """One YAML file of a catalogue; a catalogue is a directory of them."""

    entities: list[EntityDef] = Field(default_factory=list)
    tables: list[TableDef] = Field(default_factory=list)
    tags: list[TagDef] = Field(default_factory=list)
