"""Limit inputs from the governed tables, as the bank knew them on each application's day.

Why here and not the batch tag run: a limit is set at application time, and each application
has its own as-of. The SQL below follows the catalogue's tags (``tax_sales_12m``,
``invoice_amount_12m``, ``account_inflow_12m``, ``other_bank_balance``, ``industry_section``)
but evaluates them per application with ``known_at <= applied_on``, so no value the bank did
not yet know can raise a limit. It reads schema ``gov`` only — never the simulator's truth.

Months covered (for annualising): first to last month with data inside the 12-month window;
a firm that began filing four months ago has four months, not twelve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from xiaowei.origination.credit_limit.policy import LimitInputs

APPLICATION_INPUTS_SQL = """
with app as (
  select application_id, party_id, applied_on as as_of,
         date_trunc('month', applied_on) as m0 from {gov}.application),
tax as (
  select a.application_id, sum(t.sales_yuan)::double as tax_sales_12m,
         date_diff('month', min(t.period), max(t.period)) + 1 as tax_sales_months
  from app a join {gov}.tax_filing t on t.party_id = a.party_id
   and t.period >= a.m0 - interval 12 month and t.period < a.m0
   and cast(t.known_at as date) <= a.as_of
  group by a.application_id),
inv as (
  select a.application_id, sum(i.amount_yuan)::double as invoice_amount_12m,
         least(12, date_diff('month', min(date_trunc('month', i.issue_date)),
                   max(date_trunc('month', i.issue_date))) + 1) as invoice_amount_months
  from app a join {gov}.invoice i on i.party_id = a.party_id and i.status = '正常'
   and i.issue_date > a.as_of - interval 12 month and i.issue_date <= a.as_of
   and cast(i.known_at as date) <= a.as_of
  group by a.application_id),
flow as (
  select a.application_id, sum(f.inflow_yuan)::double as account_inflow_12m,
         date_diff('month', min(f.period), max(f.period)) + 1 as account_inflow_months
  from app a join {gov}.account_flow f on f.party_id = a.party_id
   and f.period >= a.m0 - interval 12 month and f.period < a.m0
   and cast(f.known_at as date) <= a.as_of
  group by a.application_id),
bureau as (
  select application_id, other_bank_debt from (
    select a.application_id, b.other_bank_balance_yuan::double as other_bank_debt,
           row_number() over (partition by a.application_id
                              order by b.query_date desc, b.known_at desc) as k
    from app a join {gov}.bureau_report b on b.party_id = a.party_id
     and b.query_date <= a.as_of and cast(b.known_at as date) <= a.as_of) where k = 1),
open_loans as (
  -- Loans outstanding here on the day, except those maturing within 30 days (a renewal
  -- replaces them).
  select a.application_id, a.as_of, l.loan_id, l.principal_yuan
  from app a join {gov}.loan l on l.party_id = a.party_id
   and l.start_date <= a.as_of and l.maturity_date > a.as_of + interval 30 day),
exposure as (
  -- Principal still owed: repayments count only once paid by the day.
  select o.application_id, sum(o.principal_yuan - coalesce(r.repaid, 0))::double
         as bank_exposure
  from open_loans o left join (
    select o2.application_id, o2.loan_id, sum(r.principal_due_yuan) as repaid
    from open_loans o2 join {gov}.repayment r on r.loan_id = o2.loan_id
     and r.paid_on <= o2.as_of group by o2.application_id, o2.loan_id) r
    on r.application_id = o.application_id and r.loan_id = o.loan_id
  group by o.application_id),
industry as (
  select party_id, industry_section from (
    select party_id, industry_section,
           row_number() over (partition by party_id order by known_at desc) as k
    from {gov}.party_profile) where k = 1)
select a.application_id, a.party_id, a.as_of, ind.industry_section,
       tax.tax_sales_12m, coalesce(tax.tax_sales_months, 0) as tax_sales_months,
       inv.invoice_amount_12m, coalesce(inv.invoice_amount_months, 0) as invoice_amount_months,
       flow.account_inflow_12m, coalesce(flow.account_inflow_months, 0) as account_inflow_months,
       bureau.other_bank_debt, coalesce(exposure.bank_exposure, 0) as bank_exposure
from app a
left join tax using (application_id) left join inv using (application_id)
left join flow using (application_id) left join bureau using (application_id)
left join exposure using (application_id) left join industry ind on ind.party_id = a.party_id
order by a.application_id
"""


def application_inputs(connection: Any, schema: str = "gov") -> list[dict[str, Any]]:
    """One row of limit inputs per application (DuckDB connection over the analytic store)."""
    if not schema.isidentifier():
        raise ValueError(f"schema must be an identifier, got {schema!r}")
    rel = connection.sql(APPLICATION_INPUTS_SQL.format(gov=schema))
    names = rel.columns
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def _yuan(value: Any, what: str) -> str | None:
    """A governed DOUBLE as an exact fen string; NaN and infinity are refused."""
    if value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be a finite number, got {value}")
        return f"{value:.2f}"
    return str(value)


def inputs_from_row(row: Mapping[str, Any], grade: str) -> LimitInputs:
    """``LimitInputs`` from a row of ``application_inputs`` (or tags of the same names)."""
    return LimitInputs(
        grade=grade, industry_section=row.get("industry_section"),
        tax_sales_12m=_yuan(row.get("tax_sales_12m"), "tax_sales_12m"),
        invoice_amount_12m=_yuan(row.get("invoice_amount_12m"), "invoice_amount_12m"),
        account_inflow_12m=_yuan(row.get("account_inflow_12m"), "account_inflow_12m"),
        tax_sales_months=int(row.get("tax_sales_months", 12)),
        invoice_amount_months=int(row.get("invoice_amount_months", 12)),
        account_inflow_months=int(row.get("account_inflow_months", 12)),
        other_bank_debt=_yuan(row.get("other_bank_debt"), "other_bank_debt"),
        bank_exposure=_yuan(row.get("bank_exposure"), "bank_exposure") or 0)


def inputs_from_tags(tags: Mapping[str, Any], grade: str) -> LimitInputs:
    """``LimitInputs`` from one party's catalogue tags (online, ``OnlineTags.values``).

    The catalogue's 12-month tags are full windows; the months of tax filings come from
    ``tax_months_filed_12m`` when present. Other-bank debt is the ``other_bank_balance`` tag.
    """
    row = dict(tags)
    row["other_bank_debt"] = tags.get("other_bank_balance")
    if tags.get("tax_months_filed_12m") is not None:
        row["tax_sales_months"] = int(tags["tax_months_filed_12m"])
    return inputs_from_row(row, grade)
