"""How good a resolution is, against labels someone else knows (the simulator's truth).

This module never reads ``truth/`` itself: tests and benchmarks load the labels and pass
them in, so the platform cannot learn from what it is graded on.

Measures:

- **pairwise** precision and recall: over all pairs of records put in one party, the share
  truly about one party; over all pairs truly about one party, the share put together. Per
  source, over the pairs with at least one record of that source;
- **split**: share of true parties whose records landed in more than one party;
- **mixed**: share of resolved parties holding records of more than one true party.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

__all__ = ["resolution_quality"]

_PAIRS = "(n * (n - 1) / 2) - ((n - s) * (n - s - 1) / 2)"  # pairs touching the source


def resolution_quality(links: pa.Table, labels: pa.Table) -> dict[str, Any]:
    """Quality of ``links`` (record_id, source, party_id) against ``labels``.

    ``labels`` has ``record_id`` and ``true_party`` (any type); records without a label are
    left out of every measure. Returns overall figures and a ``by_source`` dict.
    """
    con = duckdb.connect()
    con.register("links", links)
    con.register("labels", labels)
    con.execute(
        "CREATE TEMP TABLE j AS SELECT l.record_id, l.source, l.party_id AS p,"
        " CAST(t.true_party AS VARCHAR) AS t FROM links l JOIN labels t USING (record_id)"
    )
    sources = [s for (s,) in con.execute("SELECT DISTINCT source FROM j ORDER BY 1").fetchall()]

    def pair_count(group: str, source: str | None) -> float:
        s = f"count_if(source = '{source}')" if source else "count(*)"
        sql = (
            f"SELECT coalesce(sum({_PAIRS}), 0) FROM "
            f"(SELECT count(*)::DOUBLE AS n, {s}::DOUBLE AS s FROM j GROUP BY {group})"
        )
        row = con.execute(sql).fetchone()
        return float(row[0]) if row else 0.0

    def scores(source: str | None) -> dict[str, float]:
        true_pos = pair_count("p, t", source)
        predicted = pair_count("p", source)
        actual = pair_count("t", source)
        return {
            "precision": true_pos / predicted if predicted else 1.0,
            "recall": true_pos / actual if actual else 1.0,
            "predicted_pairs": predicted,
            "true_pairs": actual,
        }

    def share(sql: str) -> float:
        row = con.execute(sql).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    result: dict[str, Any] = scores(None)
    result["records"] = share("SELECT count(*) FROM j")
    result["true_parties"] = share("SELECT count(DISTINCT t) FROM j")
    result["resolved_parties"] = share("SELECT count(DISTINCT p) FROM j")
    result["split_share"] = share(
        "SELECT avg((n > 1)::INT) FROM (SELECT count(DISTINCT p) n FROM j GROUP BY t)"
    )
    result["mixed_share"] = share(
        "SELECT avg((n > 1)::INT) FROM (SELECT count(DISTINCT t) n FROM j GROUP BY p)"
    )
    result["by_source"] = {source: scores(source) for source in sources}
    con.close()
    return result
