"""The words of value mining and retention, the offers pack, and the tags it reads as columns.

Why one module for the vocabulary: the offers, the renewal pipeline, the tasks, the plan and
the simulator's comparison all speak of the same five products and three retention actions;
their ids are spelled once, here (:data:`PRODUCTS`, :data:`RETENTION_ACTIONS`).

Why tags arrive as columns (:func:`tag_frame`): a tag run is one long row per (party, tag);
the pack reads ~30 tags for every customer side by side. One DuckDB aggregation turns the run
into one typed column per tag (numbers as ``float``, booleans, text) for a million parties in
seconds; the decide loop then only indexes lists. Tag names come from the checked catalogue.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.engine.strategy import Pack, load_pack
from xiaowei.postloan.loan_state import fetch_arrow
from xiaowei.store.analytic import quote_identifier

PACK_FILE = Path(__file__).parent / "packs" / "offers" / "pack.yaml"

PRODUCTS: dict[str, tuple[str, str]] = {
    "payroll_service": ("代发工资", "payroll service"),
    "wealth_management": ("理财/存款产品", "wealth and deposit products"),
    "invoice_credit": ("发票贷/税易贷或提额", "invoice or tax-based credit, or a limit increase"),
    "supply_chain_finance": ("供应链融资", "supply-chain finance"),
    "cash_management": ("结算与现金管理", "settlement and cash management"),
}
"""The products value mining may offer (id → zh, en); the order is the tie-break."""
CREDIT_PRODUCTS = ("invoice_credit", "supply_chain_finance")
NOT_AVAILABLE: dict[str, tuple[str, str]] = {
    "fx_settlement": ("国际结算：本行数据源无进出口数据，无法判断",
                      "FX settlement: the bank's sources carry no import/export data"),
}
"""Products the issue names that the bank's data cannot support; offered to nobody, said so."""
HELD_BY_LOAN = {"invoice_loan": "invoice_credit", "tax_loan": "invoice_credit",
                "supply_chain_finance": "supply_chain_finance"}
"""Loan product intents that mean a value-mining product is already held."""

RETENTION_ACTIONS: dict[str, tuple[str, str]] = {
    "preapproved_renewal": ("预授信续贷（符合条件的无还本续贷）",
                            "pre-approved renewal offer (无还本续贷 where eligible)"),
    "manager_visit": ("客户经理上门拜访", "customer manager's visit"),
    "reminder_call": ("到期提醒电话", "maturity reminder call"),
}
"""Retention actions at maturity (id → zh, en)."""

SYSTEM_REFUSALS: dict[str, tuple[str, str]] = {
    "UNKNOWN_CUSTOMER": ("客户不存在于本行治理数据", "no such customer in the governed data"),
    "NOT_OFFERED": ("该产品不在价值挖掘目录", "not a product value mining offers"),
    "STALE_TAGS": ("标签数据过期，不得据此营销", "tags are stale; no offer may rest on them"),
}


@functools.cache
def offers_pack() -> Pack:
    """The packaged offers pack (parsed once per process; packs are immutable)."""
    return load_pack(PACK_FILE)


def pack_tags(pack: Pack) -> tuple[str, ...]:
    """The catalogue tags a pack reads (its ``tag.*`` inputs)."""
    return tuple(name[4:] for name in pack.inputs if name.startswith("tag."))


def reason_texts(pack: Pack) -> dict[str, tuple[str, str]]:
    """Every code the pack or this module may give → (zh, en)."""
    return {**pack.outcomes.texts, **SYSTEM_REFUSALS, **NOT_AVAILABLE}


@functools.cache
def _catalogue_types() -> dict[str, str]:
    """Every catalogue tag's type, read once per process (reading the catalogue costs ~0.1 s;
    a plan asks for the types many times)."""
    from xiaowei.data.tags.service import bank_catalogue

    return {name: tag.definition.type for name, tag in bank_catalogue().tags.items()}


def tag_types(tags: Iterable[str]) -> dict[str, str]:
    """Each tag's catalogue type (``int``, ``float``, ``bool``, ``string`` …); unknown refused."""
    defined = _catalogue_types()
    unknown = [t for t in tags if t not in defined]
    if unknown:
        raise ValueError(f"tags not in the bank's tag catalogue: {unknown}")
    return {t: defined[t] for t in tags}


def _value_sql(kind: str) -> str:
    if kind == "bool":
        return "value_bool"
    if kind in ("string", "date"):
        return "value_text" if kind == "date" else "value_string"
    return ("COALESCE(CAST(value_float AS DOUBLE), CAST(value_int AS DOUBLE), "
            "CAST(value_decimal AS DOUBLE))")


def tag_frame(rows: pa.Table, tags: Sequence[str], parties: Sequence[str]) -> pa.Table:
    """One row per party (in the order given, duplicates kept as given) and one typed column
    per tag: DOUBLE for numbers, BOOLEAN, VARCHAR; NULL where the party has no value."""
    types = tag_types(tags)
    wanted = pa.table({"entity_id": pa.array(list(parties), pa.string()),
                       "ord": pa.array(range(len(parties)), pa.int64())})
    picks = ", ".join(
        f"ANY_VALUE({_value_sql(types[t])}) FILTER (WHERE tag = $t{i}) AS "
        f"{quote_identifier(t, 'tag name')}" for i, t in enumerate(tags))
    con = duckdb.connect()
    try:
        con.register("tag_rows", rows)
        con.register("wanted", wanted)
        if not tags:
            return fetch_arrow(con, "SELECT entity_id FROM wanted ORDER BY ord")
        sql = (f"WITH w AS (SELECT entity_id, {picks} FROM tag_rows WHERE entity_id IN "
               f"(SELECT entity_id FROM wanted) GROUP BY entity_id) "
               f"SELECT wanted.entity_id, w.* EXCLUDE (entity_id) FROM wanted "
               f"LEFT JOIN w USING (entity_id) ORDER BY wanted.ord")
        return fetch_arrow(con, sql, {f"t{i}": t for i, t in enumerate(tags)})
    finally:
        con.close()


def plain(value: Any) -> Any:
    """A column value as the pack takes it: NaN → null; numbers stay float."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def columns_of(frame: pa.Table, names: Iterable[str]) -> dict[str, list[Any]]:
    """Python lists of the frame's columns (the decide loop indexes them)."""
    return {n: [plain(v) for v in frame[n].to_pylist()] for n in names}


def limit_steps(tags: Mapping[str, Any]) -> dict[str, float | None]:
    """``lim.*`` as numbers: the credit-limit policy's grade-independent steps (verified
    revenue, room after existing debt, caps) — the very code an application's limit runs
    (:func:`xiaowei.origination.decide.limit_inputs`); ``None`` without any revenue source."""
    from xiaowei.origination.decide import limit_inputs

    if all(tags.get(k) is None for k in ("tax_sales_12m", "invoice_amount_12m",
                                        "account_inflow_12m")):
        return {"lim.verified_revenue": None, "lim.room": None, "lim.cap": None}
    steps = limit_inputs(tags)
    return {k: float(v) for k, v in steps.items()}


WARNING_LOOKBACK_DAYS = 90
"""Warnings the monitoring batch raised this many days before the day still close the gate."""
CLASS_RANK = {"正常": 0, "关注": 1, "次级": 2, "可疑": 3, "损失": 4}


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                            "table_name = ?", [schema, table]).fetchall()[0][0])


def stored_risk(con: duckdb.DuckDBPyConnection, as_of: dt.date
                ) -> tuple[dict[str, int], dict[str, int] | None]:
    """(worst warning level raised in the lookback, worst class rank) per party from the
    monitoring batch's tables, when it has run; classes ``None`` when there is no table."""
    warned: dict[str, int] = {}
    if _has(con, "postloan", "warning"):
        warned = dict(con.execute(
            "SELECT party_id, max(level_rank) FROM postloan.warning WHERE raised_on <= $d "
            "AND raised_on > $d - CAST($days AS INTEGER) GROUP BY party_id",
            {"d": as_of, "days": WARNING_LOOKBACK_DAYS}).fetchall())
    if not _has(con, "postloan", "loan_day"):
        return warned, None
    rows = con.execute("""
        WITH last AS (SELECT max(as_of) AS d FROM postloan.loan_day
                      WHERE as_of <= $d AND as_of > $d - 31)
        SELECT party_id, list(class) FROM postloan.loan_day, last
        WHERE as_of = last.d GROUP BY party_id""", {"d": as_of}).fetchall()
    classes = {p: max(CLASS_RANK.get(c, 0) for c in cs) for p, cs in rows}
    return warned, classes


def held_by_loans(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, set[str]]:
    """Value-mining products held through open loans on the day (started, not fully paid)."""
    rows = con.execute("""
        SELECT DISTINCT l.party_id, l.product_intent FROM gov.loan l
        WHERE l.start_date <= $d AND l.product_intent IN (SELECT unnest($kinds))
          AND EXISTS (SELECT 1 FROM gov.repayment r WHERE r.loan_id = l.loan_id
                      AND (r.paid_on IS NULL OR r.paid_on > $d))""",
                       {"d": as_of, "kinds": list(HELD_BY_LOAN)}).fetchall()
    held: dict[str, set[str]] = {}
    for party, intent in rows:
        held.setdefault(party, set()).add(HELD_BY_LOAN[intent])
    return held


def known_parties(con: duckdb.DuckDBPyConnection, parties: Sequence[str]) -> set[str]:
    """Which of ``parties`` the governed data knows."""
    return {r[0] for r in con.execute(
        "SELECT DISTINCT party_id FROM gov.party_profile WHERE party_id IN "
        "(SELECT unnest($p))", {"p": list(parties)}).fetchall()}


LIMIT_TAGS = ("tax_sales_12m", "invoice_amount_12m", "account_inflow_12m", "other_bank_balance",
              "outstanding_principal", "tax_months_filed_12m", "industry_section")
"""Tags :func:`limit_steps` reads (the limit policy's inputs)."""


__all__ = ["CLASS_RANK", "CREDIT_PRODUCTS", "HELD_BY_LOAN", "LIMIT_TAGS", "NOT_AVAILABLE",
           "PACK_FILE", "PRODUCTS", "RETENTION_ACTIONS", "SYSTEM_REFUSALS",
           "WARNING_LOOKBACK_DAYS", "columns_of", "held_by_loans", "known_parties",
           "limit_steps", "offers_pack", "pack_tags", "plain", "reason_texts", "stored_risk",
           "tag_frame", "tag_types"]
