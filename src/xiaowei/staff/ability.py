"""Ability scoring and rating of customer managers (能力评分评级) and the assessment that
follows (考核与晋升).

Why a radar and not one number: a supervisor must see *why* a manager is rated B — strong
volume and weak quality call for a different conversation than the reverse — and DOMAIN.md §7
warns that rewarding volume alone raises defaults. So six dimensions are scored 0–100
(业务量 volume, 资产质量 portfolio quality, 风险抵御 risk resistance, 合规操守 conduct,
专业能力 professional skill, 工作负荷 workload), weighted by the staff pack with quality above
volume, banded into A–E with caps volume cannot lift, and explained by the dimension that held
the rating down (:mod:`.staff_pack`).

Inputs, all as of one day: the business-source figures (:mod:`.business_source`), the workload
(:mod:`.workload`), the static facts (``raw.bank_manager_profiles``: education,
certifications; tenure from ``raw.bank_managers.hired_on``), the last year's exams
(:mod:`.exams`), the staff behaviour signals when the caller has them (``manager_signals(con,
as_of)``: rows of ``manager_id, signal, level ∈ yellow/orange/red, category``; without them the
conduct dimension is scored from first-payment defaults and the reasons say so), and last
quarter's rating (for the promotion rule: A two quarters running).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal

import duckdb
import pyarrow as pa

from xiaowei.engine.strategy import Decider, Pack
from xiaowei.staff.business_source import WINDOW_DAYS, PeerBy, business_source
from xiaowei.staff.exams import bank_exams, exam_summary
from xiaowei.staff.staff_pack import (
    DIMENSIONS,
    Assessment,
    Dimension,
    Rating,
    decide_manager,
    load_staff_pack,
    pack_inputs,
    pack_weights,
)
from xiaowei.staff.workload import manager_workload

SignalSource = pa.Table | Callable[[duckdb.DuckDBPyConnection, dt.date], pa.Table]
LEVELS = ("yellow", "orange", "red")


def previous_quarter_end(as_of: dt.date) -> dt.date:
    """The last day of the quarter before the one ``as_of`` falls in."""
    first_month = 3 * ((as_of.month - 1) // 3) + 1
    return dt.date(as_of.year, first_month, 1) - dt.timedelta(days=1)


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                            "table_name = ?", [schema, table]).fetchall()[0][0])


def manager_facts(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """manager → education, certifications ("、"-joined) and tenure in years on ``as_of``."""
    out: dict[str, dict[str, Any]] = {}
    for mid, hired in con.execute("SELECT DISTINCT ON (manager_id) manager_id, hired_on FROM "
                                  "raw.bank_managers ORDER BY manager_id").fetchall():
        out[mid] = {"tenure_years": None if hired is None
                    else max(0.0, (as_of - hired).days / 365.25)}
    if _has(con, "raw", "bank_manager_profiles"):
        for mid, education, certs in con.execute(
                "SELECT DISTINCT ON (manager_id) manager_id, education, certifications "
                "FROM raw.bank_manager_profiles ORDER BY manager_id").fetchall():
            out.setdefault(mid, {}).update({"education": education, "certifications": certs})
    return out


def signal_counts(signals: pa.Table | None) -> dict[str, dict[str, int]] | None:
    """manager → distinct signals per level; None when no signals table was given."""
    if signals is None:
        return None
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in signals.select(["manager_id", "signal", "level"]).to_pylist():
        if r["level"] not in LEVELS:
            raise ValueError(f"signal level must be one of {list(LEVELS)}, got {r['level']!r} "
                             f"(manager {r['manager_id']!r}, signal {r['signal']!r})")
        found[r["manager_id"]][r["level"]].add(r["signal"])
    return {m: {level: len(s) for level, s in by.items()} for m, by in found.items()}


def _rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["manager_id"]: r for r in table.to_pylist()}


RATING_COLUMNS = ("as_of", "manager_id", "branch_id", "risk_tier", "rating", "rating_zh",
                  "score", *(f"dim_{d}" for d in DIMENSIONS), "conduct_basis", "driver",
                  "driver_zh", "strength", "strength_zh", "recommended_tier", "assessment",
                  "assessment_zh", "training", "previous_rating", "reasons", "reasons_zh",
                  "reasons_en", "pack", "pack_version")


def rate_managers(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                  signals: SignalSource | None = None, exams: pa.Table | None = None,
                  previous: pa.Table | Literal["auto"] | None = "auto",
                  pack: Pack | None = None, window_days: int = WINDOW_DAYS,
                  peer_by: PeerBy = "branch", handovers: pa.Table | None = None,
                  business: pa.Table | None = None, workload: pa.Table | None = None
                  ) -> pa.Table:
    """One rating per manager hired by ``as_of`` (:data:`RATING_COLUMNS`).

    ``business`` / ``workload``: the day's :func:`business_source` and
    :func:`manager_workload` tables when the caller already computed them (the staff batch
    stores them too); None: computed here.

    ``signals``: the staff signals as of ``as_of`` (a table) or a function ``(con, day)``
    giving them (then last quarter's rating uses that quarter's signals too); ``exams``: the
    accepted results (default: the bank's table); ``previous``: last quarter's ratings, or
    ``"auto"`` to compute them at :func:`previous_quarter_end` (without a previous of their
    own), or None for none (nobody can then be promoted).
    """
    pack = pack or load_staff_pack()
    decider = Decider(pack)
    if business is None:
        business = business_source(con, as_of, window_days=window_days, peer_by=peer_by,
                                   handovers=handovers)
    if workload is None:
        workload = manager_workload(con, as_of, window_days=window_days)
    by_business, by_workload = _rows(business), _rows(workload)
    facts = manager_facts(con, as_of)
    exam_rows = _rows(exam_summary(bank_exams(con) if exams is None else exams, as_of))
    current = signals(con, as_of) if callable(signals) else signals
    counts = signal_counts(current)
    if isinstance(previous, str):
        if previous != "auto":
            raise ValueError(f"previous must be a table, None or 'auto', got {previous!r}")
        earlier = previous_quarter_end(as_of)
        previous = rate_managers(con, earlier, signals=signals if callable(signals) else None,
                                 exams=exams, previous=None, pack=pack,
                                 window_days=window_days, peer_by=peer_by, handovers=handovers)
    before = {} if previous is None else dict(zip(previous["manager_id"].to_pylist(),
                                                  previous["rating"].to_pylist(), strict=True))
    out: list[dict[str, Any]] = []
    for mid, b in by_business.items():
        w = by_workload.get(mid, {})
        figures = {**b, "target_share": w.get("target_share"),
                   "utilisation": w.get("utilisation"), **facts.get(mid, {}),
                   "exam_mean": exam_rows.get(mid, {}).get("exam_mean"),
                   "signal_counts": None if counts is None else counts.get(mid, {}),
                   "previous_rating": before.get(mid)}
        d = decide_manager(decider, pack_inputs(figures))
        out.append({
            "as_of": as_of, "manager_id": mid, "branch_id": b["branch_id"],
            "risk_tier": b["risk_tier"], "rating": d["rating"],
            "rating_zh": Rating(d["rating"]).zh, "score": d["score"],
            **{f"dim_{k}": d[f"dim_{k}"] for k in DIMENSIONS},
            "conduct_basis": d["conduct_basis"], "driver": d["driver"],
            "driver_zh": Dimension(d["driver"]).zh if d["driver"] else None,
            "strength": d["strength"],
            "strength_zh": Dimension(d["strength"]).zh if d["strength"] else None,
            "recommended_tier": d["recommended_tier"], "assessment": d["assessment"],
            "assessment_zh": Assessment(d["assessment"]).zh if d["assessment"] else None,
            "training": d["training"], "previous_rating": before.get(mid),
            "reasons": d["reasons"], "reasons_zh": d["reasons_zh"],
            "reasons_en": d["reasons_en"], "pack": pack.name, "pack_version": pack.version})
    return pa.Table.from_pylist(out, schema=RATING_SCHEMA)


def _field(name: str) -> tuple[str, pa.DataType]:
    if name == "as_of":
        return name, pa.date32()
    if name in ("risk_tier", "recommended_tier"):
        return name, pa.int64()
    if name == "score" or name.startswith("dim_"):
        return name, pa.float64()
    if name in ("training", "reasons", "reasons_zh", "reasons_en"):
        return name, pa.list_(pa.string())
    return name, pa.string()


RATING_SCHEMA = pa.schema([_field(n) for n in RATING_COLUMNS])


def radar(ratings: pa.Table, manager_id: str, pack: Pack | None = None
          ) -> list[dict[str, Any]]:
    """The radar of one manager for a chart: per dimension its labels, score and the pack's
    weight (``pack``: the one that rated, default the packaged one), the driver marked."""
    rows = [r for r in ratings.to_pylist() if r["manager_id"] == manager_id]
    if not rows:
        raise LookupError(f"manager {manager_id!r} has no rating")
    r = rows[0]
    weights = pack_weights(pack or load_staff_pack())
    return [{"dimension": d.value, "zh": d.zh, "en": d.en, "score": r[f"dim_{d.value}"],
             "weight": weights[d.value], "driver": d.value == r["driver"]} for d in Dimension]


__all__ = ["LEVELS", "RATING_COLUMNS", "RATING_SCHEMA", "manager_facts",
           "previous_quarter_end", "radar", "rate_managers", "signal_counts"]
