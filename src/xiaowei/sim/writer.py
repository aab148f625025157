"""Streams simulated tables to Parquet, one row group per chunk, and fingerprints the content.

Why a fingerprint over content rather than file bytes: two runs must be comparable across
machines; we hash each batch's Arrow IPC serialisation (column names, types and values),
which does not depend on Parquet's compression or page layout.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ZONES = ("bank", "raw", "truth")


@dataclass
class TableSink:
    path: Path
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


class DatasetWriter:
    """One Parquet file per table under `<out>/<zone>/<table>.parquet`."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.sinks: dict[tuple[str, str], TableSink] = {}
        for zone in ZONES:
            (self.out / zone).mkdir(parents=True, exist_ok=True)

    def write(self, zone: str, table: str, batch: pa.Table | dict) -> None:
        if zone not in ZONES:
            raise ValueError(f"zone {zone!r} is not one of {ZONES}")
        if isinstance(batch, dict):
            batch = pa.table(batch)
        key = (zone, table)
        sink = self.sinks.get(key)
        if sink is None:
            path = self.out / zone / f"{table}.parquet"
            sink = self.sinks[key] = TableSink(path)
        if sink.writer is None:
            sink.schema = batch.schema
            sink.writer = pq.ParquetWriter(sink.path, batch.schema, compression="zstd")
        elif batch.schema != sink.schema:
            batch = batch.cast(sink.schema)
        if batch.num_rows == 0:
            return
        sink.writer.write_table(batch, row_group_size=1_000_000)
        sink.rows += batch.num_rows
        stream = pa.BufferOutputStream()
        with pa.ipc.new_stream(stream, batch.schema) as ipc:
            ipc.write_table(batch.combine_chunks())
        sink.digest.update(stream.getvalue().to_pybytes())

    def close(self, manifest_extra: dict) -> dict:
        """Close every file and write manifest.json; returns the manifest."""
        tables: dict[str, int] = {}
        digests: dict[str, str] = {}
        for (zone, table), sink in sorted(self.sinks.items()):
            if sink.writer is not None:
                sink.writer.close()
            tables[f"{zone}.{table}"] = sink.rows
            digests[f"{zone}.{table}"] = sink.digest.hexdigest()
        total = hashlib.sha256()
        for name in sorted(digests):
            total.update(f"{name}:{tables[name]}:{digests[name]}\n".encode())
        manifest = {**manifest_extra, "fingerprint": total.hexdigest(), "tables": tables,
                    "table_digests": digests}
        (self.out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False,
                                                           indent=2), encoding="utf-8")
        return manifest
