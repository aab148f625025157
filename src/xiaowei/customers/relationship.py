"""One relationship per customer (一户一视图): every loan, account, settlement flow and
application of a customer — and of its related parties, summed as a group — as of a day.

Why one SQL text for the whole book: today each product keeps its own ledger and nobody sees
that the firm borrowing working capital also settles its sales here, keeps its deposits here
and is guaranteed by the owner of another borrower. The grade, the life cycle and the pages
all read the same figures, computed once per day for every customer in one DuckDB query; the
one-party view (:func:`relationship`) runs the same text filtered to one party and adds the
detail rows.

Definitions, as of a day D (every source filtered to what the bank knew by D):

* a **customer** is a governed party with an account opened, an application made or a loan
  drawn by D (a party known only from public registries is not);
* **manager and branch**: those of the latest loan, else of the latest application (a
  prospect who applied has a manager); none for a customer who only holds an account;
* **loans** come from :func:`xiaowei.postloan.loan_state.loan_state`: *on book* = active or
  matured unpaid with a balance; ``balance`` is their outstanding principal, ``loan_rate``
  their balance-weighted annual rate (``raw.bank_loans``), ``dpd`` the worst days past due;
  a loan off book *ended* on its last payment (else its maturity);
* **deposits**: ``deposit_balance`` the month-end balance of the last full month,
  ``deposit_avg_6m`` the mean of the last six month-ends (the tag's definition),
  ``inflow_12m`` / ``inflow_6m`` settlement inflows over the last 12 / 6 full months;
* **products held** = kinds of credit product on book + kinds of account held;
* **group**: the customer plus its related parties (:mod:`.related_parties`, one hop):
  ``group_exposure`` = own balance + related parties' balances; ``group_deposits`` alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.customers.related_parties import RELATION_ZH, has_table, related_sql
from xiaowei.postloan.loan_state import fetch_arrow, loan_state

ON_BOOK = ("active", "matured_unpaid")

BOOK_COLUMNS = (
    "party_id", "party_type", "loans_ever", "open_loans", "balance", "loan_rate", "dpd",
    "open_products", "days_to_maturity", "first_loan_on", "last_loan_end", "manager_id",
    "branch_id", "accounts", "account_types", "basic_account", "first_account_on",
    "deposit_balance", "deposit_avg_6m", "inflow_12m", "inflow_6m", "applications",
    "applications_12m", "pending_applications", "last_applied_on", "products_held",
    "related_parties", "related_balance", "related_deposits", "group_exposure",
    "group_deposits",
)
"""The columns of :func:`relationship_book`, in order (money in yuan, float)."""

_BOOK_SQL = """
WITH related AS MATERIALIZED ({related}),
{scope}
loans AS (
    SELECT s.*, s.status IN ('active', 'matured_unpaid') AND s.outstanding_yuan > 0
               AS on_book,
           {rate} AS annual_rate,
           coalesce(e.last_paid, s.maturity_date) AS ended_on
    FROM cu_state s
    {rate_join}
    LEFT JOIN (SELECT loan_id, max(paid_on) AS last_paid FROM gov.repayment
               WHERE paid_on <= $day {in_scope} GROUP BY loan_id) e
      ON e.loan_id = s.loan_id
    WHERE s.status <> 'not_disbursed' {in_scope}),
own_loans AS (
    SELECT party_id, count(*) AS loans_ever,
           count(*) FILTER (WHERE on_book) AS open_loans,
           coalesce(sum(outstanding_yuan) FILTER (WHERE on_book), 0.0) AS balance,
           sum(outstanding_yuan * annual_rate) FILTER (WHERE on_book)
             / nullif(sum(outstanding_yuan) FILTER (WHERE on_book
                                                   AND annual_rate IS NOT NULL), 0)
             AS loan_rate,
           coalesce(max(dpd) FILTER (WHERE on_book), 0) AS dpd,
           count(DISTINCT product) FILTER (WHERE on_book) AS open_products,
           min(date_diff('day', $day::DATE, maturity_date))
             FILTER (WHERE on_book AND maturity_date >= $day) AS days_to_maturity,
           min(start_date) AS first_loan_on,
           max(ended_on) FILTER (WHERE NOT on_book) AS last_loan_end,
           arg_max(manager_id, start_date::VARCHAR || loan_id) AS manager_id,
           arg_max(branch_id, start_date::VARCHAR || loan_id) AS branch_id
    FROM loans GROUP BY party_id),
accounts AS (
    SELECT party_id, count(*) AS accounts, count(DISTINCT account_type) AS account_types,
           bool_or(account_type = '基本存款账户') AS basic_account,
           min(opened_on) AS first_account_on
    FROM gov.bank_account WHERE opened_on <= $day AND known_at <= $day {in_scope}
    GROUP BY party_id),
flows AS (
    SELECT party_id,
           sum(end_balance_yuan) FILTER (WHERE period = date_trunc('month', $day::DATE)
                                         - INTERVAL 1 MONTH)::DOUBLE AS deposit_balance,
           (sum(end_balance_yuan) FILTER (WHERE period >= date_trunc('month', $day::DATE)
                                          - INTERVAL 6 MONTH) / 6.0)::DOUBLE
             AS deposit_avg_6m,
           sum(inflow_yuan)::DOUBLE AS inflow_12m,
           sum(inflow_yuan) FILTER (WHERE period >= date_trunc('month', $day::DATE)
                                    - INTERVAL 6 MONTH)::DOUBLE AS inflow_6m
    FROM gov.account_flow
    WHERE period < date_trunc('month', $day::DATE)
      AND period >= date_trunc('month', $day::DATE) - INTERVAL 12 MONTH
      AND known_at <= $day {in_scope}
    GROUP BY party_id),
apps AS (
    SELECT g.party_id, count(*) AS applications,
           count(*) FILTER (WHERE applied_on > $day::DATE - INTERVAL 12 MONTH)
             AS applications_12m,
           count(*) FILTER (WHERE decision = 'pending') AS pending_applications,
           max(applied_on) AS last_applied_on,
           arg_max({app_manager}, applied_on::VARCHAR || application_id) AS app_manager_id,
           arg_max({app_branch}, applied_on::VARCHAR || application_id) AS app_branch_id
    FROM gov.application g {app_join}
    WHERE applied_on <= $day AND known_at <= $day {in_scope} GROUP BY g.party_id),
customers AS (
    SELECT party_id FROM own_loans UNION SELECT party_id FROM accounts
    UNION SELECT party_id FROM apps),
own AS (
    SELECT c.party_id, p.party_type,
           coalesce(l.loans_ever, 0) AS loans_ever, coalesce(l.open_loans, 0) AS open_loans,
           coalesce(l.balance, 0.0) AS balance, l.loan_rate, coalesce(l.dpd, 0) AS dpd,
           coalesce(l.open_products, 0) AS open_products, l.days_to_maturity,
           l.first_loan_on, l.last_loan_end,
           CASE WHEN l.manager_id IS NULL AND l.branch_id IS NULL THEN x.app_manager_id
                ELSE l.manager_id END AS manager_id,
           CASE WHEN l.manager_id IS NULL AND l.branch_id IS NULL THEN x.app_branch_id
                ELSE l.branch_id END AS branch_id,
           coalesce(a.accounts, 0) AS accounts, coalesce(a.account_types, 0) AS account_types,
           coalesce(a.basic_account, false) AS basic_account, a.first_account_on,
           coalesce(f.deposit_balance, 0.0) AS deposit_balance,
           coalesce(f.deposit_avg_6m, 0.0) AS deposit_avg_6m,
           coalesce(f.inflow_12m, 0.0) AS inflow_12m, coalesce(f.inflow_6m, 0.0) AS inflow_6m,
           coalesce(x.applications, 0) AS applications,
           coalesce(x.applications_12m, 0) AS applications_12m,
           coalesce(x.pending_applications, 0) AS pending_applications, x.last_applied_on,
           coalesce(l.open_products, 0) + coalesce(a.account_types, 0) AS products_held
    FROM customers c
    LEFT JOIN (SELECT party_id, any_value(party_type) AS party_type FROM gov.party_profile
               GROUP BY party_id) p USING (party_id)
    LEFT JOIN own_loans l USING (party_id)
    LEFT JOIN accounts a USING (party_id)
    LEFT JOIN flows f USING (party_id)
    LEFT JOIN apps x USING (party_id)
    {only}),
groups AS (
    SELECT r.party_id, count(*) AS related_parties,
           coalesce(sum(o.balance), 0.0) AS related_balance,
           coalesce(sum(o.deposit_avg_6m), 0.0) AS related_deposits
    FROM related r LEFT JOIN own o ON o.party_id = r.related_id
    GROUP BY r.party_id)
SELECT own.*, coalesce(g.related_parties, 0) AS related_parties,
       coalesce(g.related_balance, 0.0) AS related_balance,
       coalesce(g.related_deposits, 0.0) AS related_deposits,
       own.balance + coalesce(g.related_balance, 0.0) AS group_exposure,
       own.deposit_avg_6m + coalesce(g.related_deposits, 0.0) AS group_deposits
FROM own LEFT JOIN groups g USING (party_id)
ORDER BY party_id"""


def _book_sql(con: duckdb.DuckDBPyConnection, one_party: bool) -> str:
    rates = has_table(con, "raw", "bank_loans")
    raw_apps = has_table(con, "raw", "bank_applications")
    # One party: `own` holds the party and its related parties only — the party's group
    # figures are complete, the related parties' own figures too (their groups are not).
    return _BOOK_SQL.format(
        rate="r.annual_rate" if rates else "NULL::DOUBLE",
        rate_join=("LEFT JOIN (SELECT DISTINCT ON (loan_no) loan_no, annual_rate "
                   "FROM raw.bank_loans) r ON r.loan_no = s.loan_id") if rates else "",
        app_manager="a.manager_id" if raw_apps else "NULL::VARCHAR",
        app_branch="a.branch_id" if raw_apps else "NULL::VARCHAR",
        app_join=("LEFT JOIN (SELECT DISTINCT ON (application_no) application_no, manager_id, "
                  "branch_id FROM raw.bank_applications) a "
                  "ON a.application_no = g.application_id") if raw_apps else "",
        # one party: its pairs, computed once by the caller and registered as cu_related
        related="SELECT * FROM cu_related" if one_party else related_sql(con),
        scope=("scope AS MATERIALIZED (SELECT $party AS party_id UNION "
               "SELECT related_id FROM related WHERE party_id = $party),") if one_party else "",
        in_scope="AND party_id IN (SELECT party_id FROM scope)" if one_party else "",
        only="WHERE c.party_id IN (SELECT party_id FROM scope)" if one_party else "")


def relationship_book(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                      state: pa.Table | None = None) -> pa.Table:
    """One row per customer as of ``as_of`` with :data:`BOOK_COLUMNS`; ``state`` is the day's
    :func:`loan_state` when the caller has it already."""
    return _run(con, as_of, state, None)


def _run(con: duckdb.DuckDBPyConnection, as_of: dt.date, state: pa.Table | None,
         party_id: str | None, related: pa.Table | None = None) -> pa.Table:
    state = state if state is not None else loan_state(con, as_of)
    con.register("cu_state", state)
    if related is not None:
        con.register("cu_related", related)
    try:
        params: dict[str, object] = {"day": as_of}
        if party_id is not None:
            params["party"] = party_id
        table = fetch_arrow(con, _book_sql(con, party_id is not None), params)
    finally:
        con.unregister("cu_state")
        if related is not None:
            con.unregister("cu_related")
    return table.select(list(BOOK_COLUMNS))


@dataclass(frozen=True)
class Relationship:
    """One customer's whole relationship with the bank on a day (the one-party view)."""

    party_id: str
    as_of: dt.date
    profile: dict[str, Any]
    summary: dict[str, Any] | None  # the book row; None: not a customer on that day
    loans: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    related: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_customer(self) -> bool:
        return self.summary is not None

    def to_json(self) -> dict[str, Any]:
        return {"party_id": self.party_id, "as_of": self.as_of.isoformat(),
                "profile": self.profile, "is_customer": self.is_customer,
                "summary": self.summary, "loans": self.loans, "accounts": self.accounts,
                "applications": self.applications, "related": self.related}


def _dicts(con: duckdb.DuckDBPyConnection, sql: str,
           params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def relationship(con: duckdb.DuckDBPyConnection, party_id: str, as_of: dt.date,
                 state: pa.Table | None = None) -> Relationship:
    """The one-party view; raise ``LookupError`` when ``party_id`` is not a governed party."""
    profile = _dicts(con, """
        SELECT party_id, party_type, name, industry_code, region_code, established_on,
               supply_chain_role, anchor_party_id
        FROM gov.party_profile WHERE party_id = ? LIMIT 1""", [party_id])
    if not profile:
        raise LookupError(f"{party_id!r} is not a governed party")
    state = state if state is not None else loan_state(con, as_of)
    # the party's pairs both ways (the book's group sums read the reverse ones too)
    both = fetch_arrow(con, f"SELECT * FROM ({related_sql(con, one_party=True)}) "
                            "ORDER BY party_id, related_id", {"day": as_of, "party": party_id})
    pairs = both.filter(pc.equal(both["party_id"], party_id))
    scope = {row["party_id"]: row
             for row in _run(con, as_of, state, party_id, both).to_pylist()}
    summary = scope.get(party_id)
    mine = state.filter(pc.equal(state["party_id"], party_id))
    con.register("cu_mine", mine)
    try:
        rate = ("(SELECT any_value(annual_rate) FROM raw.bank_loans WHERE loan_no = s.loan_id)"
                if has_table(con, "raw", "bank_loans") else "NULL::DOUBLE")
        loans = _dicts(con, f"""
            SELECT loan_id, product, principal_yuan, outstanding_yuan, {rate} AS annual_rate,
                   start_date, maturity_date, dpd, bucket, status, manager_id, branch_id
            FROM cu_mine s WHERE status <> 'not_disbursed'
            ORDER BY start_date DESC, loan_id""", [])
    finally:
        con.unregister("cu_mine")
    accounts = _dicts(con, """
        SELECT '****' || right(a.account_no, 4) AS account, a.account_type, a.opened_on,
               f.end_balance_yuan::DOUBLE AS month_end_balance, f.period AS balance_month
        FROM gov.bank_account a
        LEFT JOIN (SELECT account_no, end_balance_yuan, period FROM gov.account_flow
                   WHERE period < date_trunc('month', $1::DATE) AND known_at <= $1
                     AND party_id = $2
                   QUALIFY period = max(period) OVER (PARTITION BY account_no)) f
          ON f.account_no = a.account_no
        WHERE a.party_id = $2 AND a.opened_on <= $1 AND a.known_at <= $1
        ORDER BY a.opened_on, a.account_no""", [as_of, party_id])
    applications = _dicts(con, """
        SELECT application_id, applied_on, channel, product_intent, amount_yuan, decision
        FROM gov.application WHERE party_id = ? AND applied_on <= ? AND known_at <= ?
        ORDER BY applied_on DESC, application_id""", [party_id, as_of, as_of])
    related = _related_rows(con, pairs, scope)
    return Relationship(party_id, as_of, profile[0], summary, loans, accounts, applications,
                        related)


def _related_rows(con: duckdb.DuckDBPyConnection, pairs: pa.Table,
                  scope: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The related parties with how they are related and their own balance and deposits."""
    con.register("cu_pairs", pairs)
    try:
        rows = _dicts(con, """
            SELECT r.related_id AS party_id, p.party_type, p.name, r.relation, r.relations
            FROM cu_pairs r
            LEFT JOIN (SELECT party_id, any_value(party_type) AS party_type,
                              any_value(name) AS name FROM gov.party_profile
                       WHERE party_id IN (SELECT related_id FROM cu_pairs)
                       GROUP BY party_id) p ON p.party_id = r.related_id
            ORDER BY r.related_id""", [])
    finally:
        con.unregister("cu_pairs")
    for row in rows:
        own = scope.get(row["party_id"]) or {}
        row["relation_zh"] = RELATION_ZH.get(row["relation"], row["relation"])
        row["balance"] = float(own.get("balance") or 0.0)
        row["deposit_avg_6m"] = float(own.get("deposit_avg_6m") or 0.0)
        row["is_customer"] = bool(own)
    return rows


__all__ = ["BOOK_COLUMNS", "ON_BOOK", "Relationship", "relationship", "relationship_book"]
