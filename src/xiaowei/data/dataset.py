"""A dataset folder in the simulator's layout, checked before anything is loaded.

Why check first: a load must either take the whole folder or nothing. Structural faults —
a missing manifest or file, a file that is not Parquet, a missing column, a wrong type, a
missing or repeated key — stop the load with an error naming file, row and column. Row-level
dirt in otherwise sound files is not an error: the loader quarantines it with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xiaowei.data.contracts import BANK_CONTRACTS, TableContract


class DatasetError(ValueError):
    """The folder cannot be loaded as it is; says which file, row and column, and why."""

    def __init__(self, file: Path | str, reason: str, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.reason, self.row, self.column = str(file), reason, row, column
        where = self.file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Dataset:
    root: Path
    manifest: dict

    @classmethod
    def open(cls, root: Path | str) -> Dataset:
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(root, "is not a folder")
        mpath = root / "manifest.json"
        if not mpath.is_file():
            raise DatasetError(mpath, "is missing: every dataset folder carries a manifest")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DatasetError(mpath, f"is not valid JSON ({e.msg})", row=e.lineno) from None
        for key in ("fingerprint", "tables"):
            if key not in manifest:
                raise DatasetError(mpath, f"has no '{key}' entry")
        return cls(root, manifest)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])

    @property
    def as_of(self) -> str:
        return str(self.manifest.get("as_of", "2025-12-31"))

    def raw_files(self) -> dict[str, Path]:
        """Source tables (dirty by nature: loaded as they are into the analytic store)."""
        files = sorted((self.root / "raw").glob("*.parquet"))
        for f in files:
            _read_schema(f)
        return {f.stem: f for f in files}

    def bank_table(self, name: str) -> pa.Table:
        """Read a bank-zone table and check it against its contract."""
        contract = BANK_CONTRACTS[name]
        path = self.root / "bank" / f"{name}.parquet"
        if not path.is_file():
            raise DatasetError(path, "is missing")
        schema = _read_schema(path)
        for col in contract.columns:
            if col.name not in schema.names:
                raise DatasetError(path, "required column is missing", column=col.name)
            actual = schema.field(col.name).type
            if not col.accepts(actual):
                raise DatasetError(path, f"has type {actual}, expected {col.kind}",
                                   column=col.name)
        table = pq.read_table(path, columns=[c.name for c in contract.columns])
        _check_keys(path, table, contract)
        return table


def _read_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(path, f"is not a readable Parquet file ({e})") from None


def _check_keys(path: Path, table: pa.Table, contract: TableContract) -> None:
    """Keys must be present and unique: without them nothing else can be linked."""
    for name in contract.required:
        col = table.column(name)
        if col.null_count:
            row = pc.index(pc.is_null(col), True).as_py()
            raise DatasetError(path, "a required value is empty", row=row + 1, column=name)
    if contract.key:
        keys = table.select(list(contract.key))
        if keys.num_rows:
            grouped = keys.group_by(list(contract.key)).aggregate([([], "count_all")])
            dup = grouped.filter(pc.greater(grouped.column("count_all"), 1))
            if dup.num_rows:
                first = dup.slice(0, 1).to_pylist()[0]
                first.pop("count_all")
                mask = None
                for k, v in first.items():
                    eq = pc.equal(table.column(k), v)
                    mask = eq if mask is None else pc.and_(mask, eq)
                rows = pc.indices_nonzero(mask).to_pylist() if mask is not None else []
                row = rows[1] + 1 if len(rows) > 1 else None
                raise DatasetError(path, f"duplicate key {first}", row=row,
                                   column=",".join(contract.key))
