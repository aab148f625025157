"""What the customer pack reads for one customer and what the batch keeps of its decision,
assembled the same way wherever it runs.

Why one module: the batch decides a million customers with these inputs, a test decides a
hand-made one, and the pages may re-decide a customer to explain it; if each built the
inputs itself, a renamed variable would silently become "missing" in one of them.

The inputs are the pack's own declarations: ``tag.X`` is the catalogue tag ``X`` as of the
day, ``rel.*`` the relationship row (:mod:`.relationship`), ``risk.*`` the post-loan
verdict (:func:`postloan_risk`). ``NaN`` and missing values become null (``None``), which the
pack's tables treat as "unknown" (only a ``-`` or ``null`` cell matches them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.customers.grades import POINTS, check_pack
from xiaowei.customers.related_parties import has_table
from xiaowei.engine.strategy import Decider, Pack, load_pack
from xiaowei.postloan.loan_state import fetch_arrow

PACK_FILE = Path(__file__).parent / "packs" / "default" / "pack.yaml"
DEFAULT_MAX_RISK_AGE_DAYS = 35
"""A post-loan verdict older than this is not used (the monthly backfill plus a few days)."""
WARNING_WINDOW_DAYS = 90

# rel.* input → the relationship column it reads (days-since inputs are derived).
_REL = {"rel.loans_ever": "loans_ever", "rel.balance": "balance", "rel.loan_rate": "loan_rate",
        "rel.products_held": "products_held", "rel.days_to_maturity": "days_to_maturity",
        "rel.inflow_6m": "inflow_6m", "rel.dpd": "dpd"}
_SINCE = {"rel.days_since_first_loan": "first_loan_on",
          "rel.days_since_last_loan_end": "last_loan_end"}


@functools.cache
def default_pack() -> Pack:
    """The packaged customer pack (parsed and checked once per process)."""
    pack = load_pack(PACK_FILE)
    check_pack(pack)
    return pack


def pack_tags(pack: Pack) -> list[str]:
    """The catalogue tags the pack reads (its ``tag.*`` inputs)."""
    return [name.removeprefix("tag.") for name in pack.inputs if name.startswith("tag.")]


def postloan_risk(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                  max_age_days: int = DEFAULT_MAX_RISK_AGE_DAYS) -> pa.Table:
    """Per monitored borrower: the worst stratum of its loans on its latest post-loan day
    within ``max_age_days`` before ``as_of`` (``postloan_as_of``), and the worst warning
    level raised in the last 90 days. Empty when the post-loan batch never ran."""
    empty = pa.table({"party_id": pa.array([], pa.string()),
                      "stratum": pa.array([], pa.string()),
                      "postloan_as_of": pa.array([], pa.date32()),
                      "warning_level": pa.array([], pa.int64())})
    if not has_table(con, "postloan", "loan_day"):
        return empty
    warnings = ("SELECT party_id, max(level_rank) AS level FROM postloan.warning "
                "WHERE raised_on <= $day AND raised_on > $day - CAST($window AS INTEGER) "
                "GROUP BY party_id") if has_table(con, "postloan", "warning") else \
        "SELECT NULL::VARCHAR AS party_id, NULL::INTEGER AS level WHERE false"
    return fetch_arrow(con, f"""
        WITH latest AS (
            SELECT party_id, as_of, stratum FROM postloan.loan_day
            WHERE as_of <= $day AND as_of >= $day - CAST($age AS INTEGER)
            QUALIFY as_of = max(as_of) OVER (PARTITION BY party_id)),
        verdict AS (
            SELECT party_id, max(as_of) AS postloan_as_of,
                   CASE max(CASE stratum WHEN 'critical' THEN 3 WHEN 'high' THEN 2
                                         WHEN 'medium' THEN 1 ELSE 0 END)
                        WHEN 3 THEN 'critical' WHEN 2 THEN 'high' WHEN 1 THEN 'medium'
                        ELSE 'low' END AS stratum
            FROM latest GROUP BY party_id),
        warned AS ({warnings})
        SELECT coalesce(v.party_id, w.party_id) AS party_id, v.stratum, v.postloan_as_of,
               w.level::BIGINT AS warning_level
        FROM verdict v FULL JOIN warned w USING (party_id)
        ORDER BY party_id""", {"day": as_of, "age": max_age_days,
                               "window": WARNING_WINDOW_DAYS})


def _nullable(values: np.ndarray) -> list[Any]:
    """A float column as a list with None for NaN (what the pack calls null)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()


def _days_since(column: pa.ChunkedArray, as_of: dt.date) -> list[Any]:
    days = pc.days_between(column, pa.scalar(as_of, pa.date32()))
    return days.to_pylist()


def risk_index(risk: pa.Table) -> dict[str, tuple[str | None, int | None]]:
    """:func:`postloan_risk` as party → (stratum, warning level), what the inputs look up."""
    return dict(zip(risk["party_id"].to_pylist(),
                    zip(risk["stratum"].to_pylist(), risk["warning_level"].to_pylist(),
                        strict=True), strict=True))


def input_columns(pack: Pack, book: pa.Table, as_of: dt.date,
                  tags: Mapping[str, np.ndarray],
                  risk: Mapping[str, tuple[str | None, int | None]]) -> dict[str, list[Any]]:
    """Every pack input as a list aligned with ``book``'s rows: ``tags`` maps a tag name to
    a float column aligned with the book (NaN: none), ``risk`` is :func:`risk_index`."""
    n = book.num_rows
    columns: dict[str, list[Any]] = {"customer.party_id": book["party_id"].to_pylist()}
    for name, column in _REL.items():
        columns[name] = book[column].to_pylist()
    for name, column in _SINCE.items():
        columns[name] = _days_since(book[column], as_of)
    for name in pack.inputs:
        if name.startswith("tag."):
            values = tags.get(name.removeprefix("tag."))
            columns[name] = [None] * n if values is None else _nullable(values)
    verdicts = [risk.get(p, (None, None)) for p in columns["customer.party_id"]]
    columns["risk.stratum"] = [v[0] for v in verdicts]
    columns["risk.warning_level"] = [v[1] for v in verdicts]
    missing = sorted(set(pack.inputs) - set(columns))
    if missing:
        raise ValueError(f"pack {pack.name!r} reads inputs nobody gives: {missing}")
    return columns


def cases(columns: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """The columns as one input mapping per customer."""
    names = list(columns)
    for values in zip(*(columns[n] for n in names), strict=True):
        yield dict(zip(names, values, strict=True))


KEPT = ("grade", "value_score", "value_band", *(f"points_{p}" for p in POINTS), "risk_level",
        "risk_basis", "lifecycle_stage", "visit_every_days", "manager_tier",
        "service_package", "pricing_latitude_bp", "contribution_yuan", "reasons")
"""What the batch keeps of each decision (the columns :func:`decide_all` returns)."""


def decide_all(decider: Decider, columns: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """The pack once per customer (no trace): grade, value, risk, strategy, stage, reasons.
    The reasons are the grade's reason and the risk basis (both declared reason codes)."""
    out: dict[str, list[Any]] = {k: [] for k in KEPT}
    for inputs in cases(columns):
        decision = decider.decide(inputs["customer.party_id"], inputs, trace=False)
        v = decision.variables
        if decision.outcome != v.get("grade"):  # a failed node: fail-safe D, say why
            v = {**v, "grade": decision.outcome}
        out["grade"].append(decision.outcome)
        out["value_score"].append(_number(v.get("value.score")))
        out["value_band"].append(v.get("value.band") or "low")
        for p in POINTS:
            out[f"points_{p}"].append(int(v.get(f"points.{p}") or 0))
        out["risk_level"].append(v.get("risk.level") or "critical")
        out["risk_basis"].append(v.get("risk.basis"))
        stage = v.get("lifecycle.stage")
        if stage is None:  # the stage table has a catch-all row: only a broken pack gets here
            raise ValueError(f"pack {decider.pack.name!r} gave customer "
                             f"{inputs['customer.party_id']!r} no life-cycle stage: "
                             f"{[r.code for r in decision.reasons]}")
        out["lifecycle_stage"].append(stage)
        out["visit_every_days"].append(int(v.get("maintain.visit_every_days") or 0))
        out["manager_tier"].append(v.get("maintain.manager_tier") or "senior")
        out["service_package"].append(v.get("maintain.service_package") or "risk_control")
        out["pricing_latitude_bp"].append(int(v.get("maintain.pricing_latitude_bp") or 0))
        out["contribution_yuan"].append(_number(v.get("value.contribution")))
        codes = [r.code for r in decision.reasons]
        basis = v.get("risk.basis")
        out["reasons"].append(codes + ([basis] if basis and basis not in codes else []))
    return out


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


__all__ = ["DEFAULT_MAX_RISK_AGE_DAYS", "KEPT", "PACK_FILE", "WARNING_WINDOW_DAYS", "cases",
           "decide_all", "default_pack", "input_columns", "pack_tags", "postloan_risk",
           "risk_index"]
