"""Data quality (数据质量): per raw source, how complete, valid, unique, fresh and linked it is.

``quality_report`` measures every loaded source against its contract in DuckDB and returns a
``QualityReport`` (``to_json()``); ``render_html`` turns it into one self-contained page
(inline SVG, no script, nothing fetched) that a bank's offline intranet can show and print.
Thresholds and the column → rule table live in ``rules``.
"""

from xiaowei.data.quality.measure import NothingLoaded, quality_report, report_as_of
from xiaowei.data.quality.model import (
    DIMENSIONS,
    ColumnQuality,
    Freshness,
    QualityReport,
    Quarantine,
    SourceQuality,
)
from xiaowei.data.quality.page import render_html
from xiaowei.data.quality.rules import THRESHOLDS, Thresholds

__all__ = [
    "DIMENSIONS",
    "THRESHOLDS",
    "ColumnQuality",
    "Freshness",
    "NothingLoaded",
    "QualityReport",
    "Quarantine",
    "SourceQuality",
    "Thresholds",
    "quality_report",
    "render_html",
    "report_as_of",
]
