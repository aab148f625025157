"""A source contract: what every raw row of one source must look like, kept as data.

Why data: the bank's data team, not a programmer, keeps these up to date as a source's
interface changes, and reviews each change in a diff. A contract says which columns a source
delivers and of which type, which values are impossible, which column carries the row's
business date (what period it is about) and when the bank learned the row (``known_at``, so
that no later backfill can leak a value the bank did not yet know), which columns match the
identifiers a bank holds at application time, and the source's unique key.

Dirt such as full-width characters or amounts in 万元 is *not* a contract failure: governance
standardises it later. A contract only refuses what no cleaning can mend: a wrong type, an
empty required value, an impossible range.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xiaowei.entities.datafiles import DataFileError, LoadedYaml, parse_yaml, validate_loaded

ColumnType = Literal["string", "int", "decimal", "float", "date", "timestamp", "bool", "month"]
PARTY_KEY_FIELDS = ("uscc", "id_number", "name", "phone")
_NUMERIC = {"int", "decimal", "float"}
_DATED = {"date", "timestamp"}
_NAME = r"^[a-z][a-z0-9_]*$"


class ColumnSpec(BaseModel):
    """One column: its type, whether it must have a value, and the checks on its values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    type: ColumnType
    required: bool = False
    description: str = ""
    regex: str | None = None
    min: float | int | dt.date | str | None = None
    max: float | int | dt.date | str | None = None
    allowed: list[str | int | float | bool] | None = Field(default=None, min_length=1)
    scale: int | None = Field(default=None, ge=0, le=12)

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value

    @model_validator(mode="after")
    def _checks_fit_type(self) -> ColumnSpec:
        if self.scale is not None and self.type != "decimal":
            raise ValueError("scale applies to decimal columns only")
        if self.regex is not None and self.type not in {"string", "month"}:
            raise ValueError("regex applies to string columns only")
        for bound in (self.min, self.max):
            if bound is None:
                continue
            if self.type in _NUMERIC and isinstance(bound, str):
                raise ValueError(f"min/max of a {self.type} column must be a number")
            if self.type in _DATED and not _is_iso_date(bound):
                raise ValueError("min/max of a date column must be an ISO date (2020-01-31)")
            if self.type not in _NUMERIC | _DATED:
                raise ValueError(f"min/max do not apply to {self.type} columns")
        return self

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type accepted rows carry for this column."""
        if self.type == "decimal":
            return pa.decimal128(18, 2 if self.scale is None else self.scale)
        return _ARROW[self.type]

    def bound(self, value: float | int | dt.date | str) -> Any:
        """A min/max bound as a value comparable with this column's Arrow values."""
        if self.type in _DATED:
            day = dt.date.fromisoformat(str(value))
            return day if self.type == "date" else dt.datetime.combine(day, dt.time())
        return value


_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(), "month": pa.string(), "int": pa.int64(), "float": pa.float64(),
    "date": pa.date32(), "timestamp": pa.timestamp("us"), "bool": pa.bool_(),
}


def _is_iso_date(value: object) -> bool:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


class BusinessDate(BaseModel):
    """The column saying which day a row is about; text dates list the formats they come in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    formats: list[str] | None = Field(default=None, min_length=1)


class KnownAt(BaseModel):
    """When the bank learned a row: from a column, business date + N days, or on load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    business_date_plus_days: int | None = Field(default=None, ge=0, le=3660)
    on_load: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> KnownAt:
        chosen = [self.column is not None, self.business_date_plus_days is not None, self.on_load]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of column, business_date_plus_days, on_load: true")
        return self


class SourceContract(BaseModel):
    """The whole contract of one source (one YAML file under ``sources/contracts``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=_NAME)
    version: int = Field(ge=1)
    title: str = ""
    description: str = ""
    columns: list[ColumnSpec] = Field(min_length=1)
    business_date: BusinessDate | None = None
    known_at: KnownAt
    party_keys: dict[str, list[str]] = Field(default_factory=dict)
    unique: list[str] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.source} has no column {name!r}")

    @property
    def arrow_schema(self) -> pa.Schema:
        """Schema of accepted rows: the contract's columns, in its order, with its types."""
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


def _cross_check(contract: SourceContract, loaded: LoadedYaml) -> list[tuple[int, str, str]]:
    """Checks across fields; each problem keeps the line of the key it is about."""
    problems: list[tuple[int, str, str]] = []

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append((loaded.line_of(path), ".".join(map(str, path)), message))

    types = {}
    for i, spec in enumerate(contract.columns):
        if spec.name in types:
            add(("columns", i, "name"), f"column {spec.name!r} is declared twice")
        types[spec.name] = spec.type
    stem = Path(loaded.file).stem
    if stem != contract.source and loaded.file.endswith(".yaml"):
        add(("source",), f"source {contract.source!r} must match the file name {stem!r}")
    if contract.business_date is not None:
        bd = contract.business_date
        kind = types.get(bd.column)
        if kind is None:
            add(("business_date", "column"), f"no column {bd.column!r}")
        elif bd.formats is not None and kind != "string":
            add(("business_date", "formats"), "formats apply to a string business date only")
        elif bd.formats is None and kind not in {"date", "timestamp", "month", "int"}:
            add(("business_date", "column"),
                f"a business date must be date, timestamp, month or int (a year), not {kind}"
                + (" (give formats: for a text date)" if kind == "string" else ""))
    rule = contract.known_at
    if rule.column is not None and types.get(rule.column) not in _DATED:
        add(("known_at", "column"), f"{rule.column!r} is not a date or timestamp column")
    if rule.business_date_plus_days is not None and contract.business_date is None:
        add(("known_at", "business_date_plus_days"), "the source declares no business_date")
    for key, columns in contract.party_keys.items():
        if not re.match(_NAME, key):
            add(("party_keys", key), f"key name {key!r} must be lower_snake_case")
        for j, name in enumerate(columns):
            if name not in types:
                add(("party_keys", key, j), f"no column {name!r}")
    for j, name in enumerate(contract.unique):
        if name not in types:
            add(("unique", j), f"no column {name!r}")
    return problems


def parse_contract(text: str, file: str) -> SourceContract:
    """Parse and check one contract's YAML text; errors name ``file:line``."""
    loaded = parse_yaml(text, file)
    contract = validate_loaded(SourceContract, loaded)
    problems = _cross_check(contract, loaded)
    if problems:
        raise DataFileError(file, problems)
    return contract


def load_contract(path: Path | str) -> SourceContract:
    """Load a contract from a file (a bank's own, or one of the shipped ones)."""
    path = Path(path)
    return parse_contract(path.read_text(encoding="utf-8"), path.name)


def packaged_contracts() -> dict[str, SourceContract]:
    """The contracts shipped for every simulated raw source, by source name."""
    folder = resources.files("xiaowei.data.sources").joinpath("contracts")
    out: dict[str, SourceContract] = {}
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".yaml"):
            contract = parse_contract(item.read_text(encoding="utf-8"), item.name)
            out[contract.source] = contract
    return out
