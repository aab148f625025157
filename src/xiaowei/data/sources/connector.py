"""One connector interface for every source, in two modes: bulk and online.

Why two modes on one interface: the same source feeds the nightly batch (load a whole date
range into the analytic store) and an application being decided now (pull one party's
records in seconds). Both return rows checked by the same contract, so a tag computed online
and in batch sees the same accepted rows.

Why each result carries its quarantine: a consumer that only took the accepted rows could
lose the rejected ones silently. ``SourceRows`` keeps both together, and
``report.load_source`` adds them up so that in = accepted + quarantined for every load.

Connector kinds are plugins: a short type name ('parquet', 'csv', 'jsonl', 'http') maps to a
class path, as Feast maps its offline stores, so a bank can add its own kind of source
without editing this package.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from xiaowei.data.sources.contract import PARTY_KEY_FIELDS, SourceContract
from xiaowei.data.sources.text import as_text
from xiaowei.data.sources.validate import quarantine_schema


class SourceError(Exception):
    """Base of every error a source connector raises."""


class NotSupported(SourceError):
    """The connector cannot serve this mode (an online-only API asked for a bulk load)."""


class PartyKeyError(SourceError, ValueError):
    """The party key holds none of the identifiers this source can be searched by."""


class SourceUnavailable(SourceError):
    """A source could not answer; names the source and the cause, so the caller can route
    the application (e.g. to manual review) and say which source failed.

    ``cause`` is one of: timeout, http_error, connection, circuit_open, malformed_payload.
    """

    def __init__(self, source: str, cause: str, detail: str) -> None:
        self.source, self.cause, self.detail = source, cause, detail
        super().__init__(f"source {source!r} unavailable ({cause}): {detail}")


@dataclass(frozen=True)
class PartyKey:
    """What the bank holds about an applicant at application time.

    ``refs`` carries source-specific numbers learned from another source (a core-banking
    ``cust_no`` or ``account_no``, a meter number, a bureau report id).
    """

    uscc: str | None = None
    id_number: str | None = None
    name: str | None = None
    phone: str | None = None
    refs: Mapping[str, str] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        """The identifier named ``key`` (a standard field, or one of ``refs``)."""
        raw = getattr(self, key) if key in PARTY_KEY_FIELDS else self.refs.get(key)
        return raw.strip() if isinstance(raw, str) and raw.strip() else None

    def values_for(self, contract: SourceContract) -> dict[str, str]:
        """The identifiers this contract can match on that this key actually holds."""
        return {k: v for k in contract.party_keys if (v := self.value(k)) is not None}

    def cache_key(self) -> str:
        """A stable text of every identifier held, for caching a pull."""
        parts = {k: self.value(k) for k in PARTY_KEY_FIELDS}
        parts.update({f"ref:{k}": self.value(k) for k in sorted(self.refs)})
        return json.dumps({k: v for k, v in parts.items() if v}, sort_keys=True,
                          ensure_ascii=False)


def require_key(contract: SourceContract, key: PartyKey) -> dict[str, str]:
    """The key's identifiers this source matches on; refuses a key that holds none."""
    wanted = key.values_for(contract)
    if not wanted:
        keys = ", ".join(contract.party_keys) or "nothing (no party_keys)"
        raise PartyKeyError(f"source {contract.source!r} is searched by {keys}; "
                            "the party key holds none of them")
    return wanted


def party_mask(contract: SourceContract, table: pa.Table, key: PartyKey) -> pa.Array:
    """Rows that match the party: any declared column equal to the key's identifier."""
    wanted = require_key(contract, key)
    mask = pa.repeat(False, table.num_rows)
    for key_name, value in wanted.items():
        for column in contract.party_keys[key_name]:
            if column in table.column_names:
                text = pc.utf8_trim_whitespace(as_text(table.column(column)))
                mask = pc.or_(mask, pc.fill_null(pc.equal(text, value), False))
    return mask


@dataclass
class SourceRows:
    """Rows from one source: accepted (contract types) and quarantined (raw text + reason).

    ``outside_range`` counts rows a bulk load skipped because their business date fell
    outside the range; ``from_cache`` says an online pull was answered from the cache.
    """

    source: str
    accepted: pa.Table
    quarantined: pa.Table
    outside_range: int = 0
    extra_columns: list[str] = field(default_factory=list)
    from_cache: bool = False

    @property
    def rows_in(self) -> int:
        return self.accepted.num_rows + self.quarantined.num_rows

    @classmethod
    def empty(cls, contract: SourceContract) -> SourceRows:
        return cls(contract.source, contract.arrow_schema.empty_table(),
                   quarantine_schema(contract).empty_table())


def concat_rows(contract: SourceContract, parts: list[SourceRows]) -> SourceRows:
    """Many batches' rows as one result."""
    if not parts:
        return SourceRows.empty(contract)
    extra = sorted({c for p in parts for c in p.extra_columns})
    return SourceRows(
        contract.source,
        pa.concat_tables([p.accepted for p in parts]),
        pa.concat_tables([p.quarantined for p in parts]),
        sum(p.outside_range for p in parts), extra, all(p.from_cache for p in parts))


class Connector(ABC):
    """A source the bank reads: in bulk over a date range, or online for one party.

    ``bulk`` yields one ``SourceRows`` per read batch, so a large source never has to fit in
    memory; a source without a business date loads whole whatever the range.
    """

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    name: str
    contract: SourceContract

    @abstractmethod
    def bulk(self, start: dt.date | None = None, end: dt.date | None = None
             ) -> Iterator[SourceRows]:
        """Rows whose business date lies in [start, end] (either end may be open)."""

    @abstractmethod
    def online(self, key: PartyKey) -> SourceRows:
        """One party's rows, pulled at application time."""

    @classmethod
    @abstractmethod
    def from_config(cls, name: str, contract: SourceContract, config: Any,
                    base_dir: Any = None) -> Connector:
        """Build from this kind's config model (see ``sources.config``)."""


CONNECTOR_TYPES: dict[str, str] = {
    "parquet": "xiaowei.data.sources.files:ParquetConnector",
    "csv": "xiaowei.data.sources.files:CsvConnector",
    "jsonl": "xiaowei.data.sources.files:JsonLinesConnector",
    "http": "xiaowei.data.sources.http:HttpConnector",
}


def register_connector(type_name: str, class_path: str) -> None:
    """Add a kind of source: ``class_path`` is 'package.module:ClassName'."""
    if ":" not in class_path:
        raise ValueError(f"class_path must look like 'package.module:Class', got {class_path!r}")
    CONNECTOR_TYPES[type_name] = class_path


def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered under ``type_name``."""
    try:
        path = CONNECTOR_TYPES[type_name]
    except KeyError:
        known = ", ".join(sorted(CONNECTOR_TYPES))
        raise ValueError(f"unknown connector type {type_name!r} (known: {known})") from None
    module_name, class_name = path.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{path} is not a Connector")
    return cls
