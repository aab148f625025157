"""The invoices of the 2020 Chinese SME credit contest (CUMCM 2020 C) as an invoice source.

Why: proof that governance and tags work on data nobody here generated. The contest gives,
for 123 firms with a credit history (and 302 without), every purchase (进项) and sales (销项)
invoice from 2016-10 to 2020-02, plus a bank's rating and whether each firm defaulted.

Mapping to the governed `invoice` table (docs/governed.md): the firm code (企业代号) is the
party, the counterparty code is the buyer key, 有效发票 with a negative amount is a red-letter
invoice (红冲), 作废发票 (some with a leading space in the source) is void (作废); the
bank learns an e-invoice on its issue date. Dates come as 2017/8/4.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

FOLDER_NAME = "cumcm2020c_sme_credit"
SETS = {"with_history": "attachment1", "without_history": "attachment2"}


@dataclass(frozen=True)
class ContestFiles:
    folder: Path

    @classmethod
    def find(cls, shared: Path | None = None) -> ContestFiles:
        """The contest folder under ../shared/data beside the repository (as CI lays it),
        or under $XIAOWEI_SHARED, or the given shared folder."""
        env = os.environ.get("XIAOWEI_SHARED")
        candidates = [shared] if shared else [
            *([Path(env)] if env else []),
            Path(__file__).resolve().parents[4] / ".." / "shared",
            Path.cwd() / ".." / "shared"]
        for base in candidates:
            folder = (base / "data" / FOLDER_NAME).resolve()
            if (folder / "attachment1_enterprise_info_123firms.csv").is_file():
                return cls(folder)
        raise FileNotFoundError(
            f"the contest data folder {FOLDER_NAME} was not found under "
            f"{', '.join(str(c) for c in candidates)}")

    def path(self, pattern: str) -> Path:
        found = sorted(self.folder.glob(pattern))
        if len(found) != 1:
            raise FileNotFoundError(f"{self.folder}: expected one file matching {pattern}")
        return found[0]


def load_invoices(con: duckdb.DuckDBPyConnection, files: ContestFiles, schema: str = "gov",
                  which: str = "with_history") -> dict[str, int]:
    """Create `schema.invoice`, `schema.purchase_invoice`, `schema.party_profile` and
    `schema.contest_label`; return row counts. Replaces earlier contents."""
    prefix = SETS[which]
    if not schema.isidentifier() or not schema.islower():
        raise ValueError(f"schema must be a lower-case identifier, got {schema!r}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    sales = str(files.path(f"{prefix}_output_invoices_*.csv.gz"))
    purchases = str(files.path(f"{prefix}_input_invoices_*.csv.gz"))
    info = str(files.path(f"{prefix}_enterprise_info_*.csv"))
    status = """CASE WHEN trim(发票状态) = '作废发票' THEN '作废'
                     WHEN CAST(金额 AS DECIMAL(18, 2)) < 0 THEN '红冲' ELSE '正常' END"""
    issue = "CAST(strptime(开票日期, '%Y/%m/%d') AS DATE)"
    con.execute(f"""
        CREATE OR REPLACE TABLE {schema}.invoice AS
        SELECT 企业代号 AS party_id, 购方单位代号 AS buyer_key, {issue} AS issue_date,
               CAST(金额 AS DECIMAL(18, 2)) AS amount_yuan,
               CAST(税额 AS DECIMAL(18, 2)) AS tax_yuan, {status} AS status,
               CAST(发票号码 AS VARCHAR) AS invoice_no, {issue} AS known_at
        FROM read_csv(?, header = true, all_varchar = true)""", [sales])
    con.execute(f"""
        CREATE OR REPLACE TABLE {schema}.purchase_invoice AS
        SELECT 企业代号 AS party_id, 销方单位代号 AS seller_key, {issue} AS issue_date,
               CAST(金额 AS DECIMAL(18, 2)) AS amount_yuan,
               CAST(税额 AS DECIMAL(18, 2)) AS tax_yuan, {status} AS status,
               {issue} AS known_at
        FROM read_csv(?, header = true, all_varchar = true)""", [purchases])
    has_label = which == "with_history"
    label_cols = ", 信誉评级 AS rating, 是否违约 = '是' AS defaulted" if has_label else ""
    con.execute(f"""
        CREATE OR REPLACE TABLE {schema}.contest_label AS
        SELECT 企业代号 AS party_id, 企业名称 AS name {label_cols}
        FROM read_csv(?, header = true, all_varchar = true)""", [info])
    con.execute(f"""
        CREATE OR REPLACE TABLE {schema}.party_profile AS
        SELECT l.party_id, 'enterprise' AS party_type, l.name, MIN(i.issue_date) AS known_at
        FROM {schema}.contest_label l LEFT JOIN {schema}.invoice i USING (party_id)
        GROUP BY l.party_id, l.name""")
    return {t: int(con.execute(f"SELECT COUNT(*) FROM {schema}.{t}").fetchall()[0][0])
            for t in ("invoice", "purchase_invoice", "contest_label", "party_profile")}


def data_end(con: duckdb.DuckDBPyConnection, schema: str = "gov") -> str:
    """The last invoice date: tags are computed as of the day after it."""
    return str(con.execute(f"SELECT MAX(issue_date) + 1 FROM {schema}.invoice").fetchall()[0][0])
