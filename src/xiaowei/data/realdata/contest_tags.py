"""The bank's invoice tags computed on the contest firms, and how well each separates the
firms that defaulted (docs/contest_invoices.md).

The definitions are the catalogue's own: the bank catalogue's invoice tags, run by the same
engine with only the invoice table as input.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import numpy as np

from xiaowei.data.realdata.cumcm2020c import ContestFiles, data_end, load_invoices
from xiaowei.data.tags.service import bank_catalogue
from xiaowei.engine.tags import Catalogue, TagResult, run_duckdb


def invoice_tags(catalogue: Catalogue) -> list[str]:
    """The catalogue's tags that read nothing but the `invoice` table."""
    return [name for name, tag in catalogue.tags.items() if set(tag.reads) == {"invoice"}]


def contest_invoice_tags(files: ContestFiles, workdir: Path) -> tuple[TagResult, dict]:
    """Invoice tags of the 123 labelled firms as of the day after their last invoice."""
    con = duckdb.connect()
    load_invoices(con, files, schema="gov")
    as_of = dt.date.fromisoformat(data_end(con))
    workdir.mkdir(parents=True, exist_ok=True)
    invoice = workdir / "invoice.parquet"
    con.execute(f"COPY gov.invoice TO '{invoice}' (FORMAT parquet)")
    labels = dict(con.execute("SELECT party_id, defaulted FROM gov.contest_label").fetchall())
    con.close()
    cat = bank_catalogue()
    result = run_duckdb(cat, {"invoice": invoice}, as_of, tags=invoice_tags(cat))
    return result, labels


def separation(result: TagResult, labels: dict[str, bool]) -> list[dict]:
    """Per tag: AUC for default (0.5 = none; below 0.5 = lower values mean more risk),
    and the medians of defaulted and other firms."""
    rows = []
    by_tag: dict[str, dict[str, float]] = {}
    for r in result.table.select(["entity_id", "tag", "value_text"]).to_pylist():
        if r["value_text"] is None:
            continue
        try:
            by_tag.setdefault(r["tag"], {})[r["entity_id"]] = float(r["value_text"])
        except ValueError:
            continue
    for tag, values in sorted(by_tag.items()):
        firms = [f for f in labels if f in values]
        x = np.array([values[f] for f in firms])
        y = np.array([bool(labels[f]) for f in firms])
        if y.all() or not y.any():
            continue
        rows.append({"tag": tag, "firms": len(firms), "auc": round(_auc(x, y), 3),
                     "median_defaulted": float(np.median(x[y])),
                     "median_other": float(np.median(x[~y]))})
    return rows


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted half."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    pos, neg = label.sum(), (~label).sum()
    return float((r[label].sum() - pos * (pos + 1) / 2) / (pos * neg))


def main() -> None:
    """Print the separation table (`python -m xiaowei.data.realdata.contest_tags`)."""
    with tempfile.TemporaryDirectory(prefix="xiaowei-contest-") as tmp:
        result, labels = contest_invoice_tags(ContestFiles.find(), Path(tmp))
    bad = sum(1 for v in labels.values() if v)
    print(f"CUMCM 2020 C, {len(labels)} firms with a credit history ({bad} defaulted), "
          f"invoice tags as of {result.as_of}")
    print(f"{'tag':30} {'firms':>5} {'AUC':>6} {'strength':>8}  {'median: defaulted':>18} "
          f"{'others':>14}")
    for r in separation(result, labels):
        strength = abs(r["auc"] - 0.5) * 2
        bar = "█" * round(strength * 20)
        print(f"{r['tag']:30} {r['firms']:>5} {r['auc']:>6.3f} {strength:>8.2f}  "
              f"{r['median_defaulted']:>18,.3f} {r['median_other']:>14,.3f}  {bar}")


if __name__ == "__main__":
    main()
