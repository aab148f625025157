"""Tags: a catalogue of SQL definitions, run point-in-time in batch, online and into history.

Why one package with these parts: the same definition must give the same value wherever it
runs — all entities on DuckDB or Spark, one entity online, and the daily history read back
later — so the catalogue (``catalogue``), the point-in-time rewrite (``sql``), the result
layout and fingerprint (``layout``) are shared, and each runtime is a thin module over them.
The Spark runner lives in ``xiaowei.engine.tags.spark`` and is imported on demand (pyspark
and Java are optional).
"""

from xiaowei.engine.tags.batch import DuckDBTagRunner, run_duckdb
from xiaowei.engine.tags.catalogue import Catalogue, CatalogueError, DefinedTag, load_catalogue
from xiaowei.engine.tags.history import TagChange, TagHistory
from xiaowei.engine.tags.layout import SCHEMA, TagResult, TagRunError, fingerprint
from xiaowei.engine.tags.lock import check_lock, lock, read_lock, write_lock
from xiaowei.engine.tags.online import OnlineTags

__all__ = [
    "SCHEMA",
    "Catalogue",
    "CatalogueError",
    "DefinedTag",
    "DuckDBTagRunner",
    "OnlineTags",
    "TagChange",
    "TagHistory",
    "TagResult",
    "TagRunError",
    "check_lock",
    "fingerprint",
    "load_catalogue",
    "lock",
    "read_lock",
    "run_duckdb",
    "write_lock",
]
