"""Sources and connectors: every raw source read in bulk or online, checked by its contract.

The public API lives here; see each module for the why:
``contract`` (contracts as YAML), ``validate`` (rows accepted or quarantined), ``text``
(typing text values), ``dates`` (business date and known_at), ``connector``
(the interface, party keys, errors, the plugin registry), ``files`` (Parquet, CSV, JSON
Lines), ``http`` and ``resilience`` (online pulls), ``report`` (per-load counts), ``config``
(where each source is read from), ``testing`` (a fake source server).
"""

from xiaowei.data.sources.config import connectors_for_dataset, connectors_from_config
from xiaowei.data.sources.connector import (
    CONNECTOR_TYPES,
    Connector,
    NotSupported,
    PartyKey,
    PartyKeyError,
    SourceError,
    SourceRows,
    SourceUnavailable,
    connector_class,
    register_connector,
)
from xiaowei.data.sources.contract import (
    ColumnSpec,
    SourceContract,
    load_contract,
    packaged_contracts,
    parse_contract,
)
from xiaowei.data.sources.dates import business_dates, known_at
from xiaowei.data.sources.files import (
    CsvConnector,
    FileSourceConfig,
    JsonLinesConnector,
    ParquetConnector,
    export_table,
)
from xiaowei.data.sources.http import HttpConnector, HttpSourceConfig
from xiaowei.data.sources.report import SourceLoad, SourceLoadReport, load_source
from xiaowei.data.sources.validate import quarantine_schema, validate

__all__ = [
    "CONNECTOR_TYPES", "ColumnSpec", "Connector", "CsvConnector", "FileSourceConfig",
    "HttpConnector", "HttpSourceConfig", "JsonLinesConnector", "NotSupported",
    "ParquetConnector", "PartyKey", "PartyKeyError", "SourceContract", "SourceError",
    "SourceLoad", "SourceLoadReport", "SourceRows", "SourceUnavailable", "business_dates",
    "connector_class",
    "connectors_for_dataset", "connectors_from_config", "export_table", "known_at",
    "load_contract", "load_source", "packaged_contracts", "parse_contract",
    "quarantine_schema", "register_connector", "validate",
]
