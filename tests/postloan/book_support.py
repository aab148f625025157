"""A hand-written loan book small enough to check every post-loan figure by hand.

Six loans, 2024, monthly instalments (principal + interest, paid_on None = unpaid):

* L1 (P1, 1500, from 01-15): 3 × 500+10 due 02-15, 03-15, 04-15, all paid on the day.
* L2 (P2, 3000, from 01-10): 3 × 1000+30 due 02-10 (paid), 03-10 and 04-10 (both paid 04-20).
* L3 (P3, 2400, from 01-20): 6 × 400+20 due 02-20 … 07-20; only the first is paid — a default.
* L4 (P1, 5000, from 02-05, maturity 08-05): 1000+50 due 03-05 (paid), then prepaid: the
  settle row due 04-05 carries the other 4000 (+40), paid on the day; no rows after it.
* L5 (P4, 1500, from 05-10): 3 × 500+5 due 06-10 (paid), 07-10 and 08-10 (both paid 08-25).
* L6 (P5, 3000, from 01-25): 3 × 1000+10 due 02-25 (paid 03-05, 9 days late), 03-25, 04-25.

Month-end states 2024-01-31 … 2024-08-31 (dpd, bucket; "—" = not on book):

    loan  01-31 02-29  03-31   04-30    05-31  06-30    07-31     08-31
    L1    0 M0  0 M0   0 M0    settled  —      —        —         —
    L2    0 M0  0 M0   21 M1   settled  —      —        —         —
    L3    0 M0  0 M0   11 M1   41 M2    72 M3  102 M4+  133 M4+   164 M4+   (matured 07-20)
    L4    —     0 M0   0 M0    settled  —      —        —         —
    L5    —     —      —       —        0 M0   0 M0     21 M1     settled
    L6    0 M0  4 M1   0 M0    settled  —      —        —         —
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

D = dt.date
AS_OF = D(2024, 8, 31)

# loan_id, party_id, principal, start, maturity, product, branch, manager, segment
LOANS = [
    ("L1", "P1", 1500.0, D(2024, 1, 15), D(2024, 4, 15), "tax_loan", "B1", "M01", "enterprise"),
    ("L2", "P2", 3000.0, D(2024, 1, 10), D(2024, 4, 10), "tax_loan", "B1", "M01",
     "individual_business"),
    ("L3", "P3", 2400.0, D(2024, 1, 20), D(2024, 7, 20), "guaranteed", "B2", "M02",
     "enterprise"),
    ("L4", "P1", 5000.0, D(2024, 2, 5), D(2024, 8, 5), "guaranteed", "B2", "M02", "enterprise"),
    ("L5", "P4", 1500.0, D(2024, 5, 10), D(2024, 8, 10), "tax_loan", "B1", "M01",
     "business_owner"),
    ("L6", "P5", 3000.0, D(2024, 1, 25), D(2024, 4, 25), "guaranteed", "B2", "M02",
     "enterprise"),
]

# loan_id, period, due_date, principal_due, interest_due, paid_on
REPAYMENTS = [
    ("L1", 1, D(2024, 2, 15), 500.0, 10.0, D(2024, 2, 15)),
    ("L1", 2, D(2024, 3, 15), 500.0, 10.0, D(2024, 3, 15)),
    ("L1", 3, D(2024, 4, 15), 500.0, 10.0, D(2024, 4, 15)),
    ("L2", 1, D(2024, 2, 10), 1000.0, 30.0, D(2024, 2, 10)),
    ("L2", 2, D(2024, 3, 10), 1000.0, 30.0, D(2024, 4, 20)),
    ("L2", 3, D(2024, 4, 10), 1000.0, 30.0, D(2024, 4, 20)),
    *(("L3", k, D(2024, 1 + k, 20), 400.0, 20.0, D(2024, 2, 20) if k == 1 else None)
      for k in range(1, 7)),
    ("L4", 1, D(2024, 3, 5), 1000.0, 50.0, D(2024, 3, 5)),
    ("L4", 2, D(2024, 4, 5), 4000.0, 40.0, D(2024, 4, 5)),
    ("L5", 1, D(2024, 6, 10), 500.0, 5.0, D(2024, 6, 10)),
    ("L5", 2, D(2024, 7, 10), 500.0, 5.0, D(2024, 8, 25)),
    ("L5", 3, D(2024, 8, 10), 500.0, 5.0, D(2024, 8, 25)),
    ("L6", 1, D(2024, 2, 25), 1000.0, 10.0, D(2024, 3, 5)),
    ("L6", 2, D(2024, 3, 25), 1000.0, 10.0, D(2024, 3, 25)),
    ("L6", 3, D(2024, 4, 25), 1000.0, 10.0, D(2024, 4, 25)),
]


def write_book(path: Path | str = ":memory:", as_of: dt.date = AS_OF
               ) -> duckdb.DuckDBPyConnection:
    """The governed and raw tables the loan state reads, holding the book above."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA gov; CREATE SCHEMA raw")
    con.execute("CREATE TABLE gov.loan (party_id VARCHAR, loan_id VARCHAR, principal_yuan "
                "DOUBLE, start_date DATE, maturity_date DATE, product_intent VARCHAR, "
                "known_at DATE)")
    con.execute("CREATE TABLE gov.repayment (party_id VARCHAR, loan_id VARCHAR, period BIGINT, "
                "due_date DATE, principal_due_yuan DOUBLE, interest_due_yuan DOUBLE, "
                "paid_on DATE, known_at DATE)")
    con.execute("CREATE TABLE raw.bank_loans (loan_no VARCHAR, application_no VARCHAR, "
                "principal_fen BIGINT, start_date DATE, maturity_date DATE)")
    con.execute("CREATE TABLE raw.bank_applications (application_no VARCHAR, manager_id "
                "VARCHAR, branch_id VARCHAR, product_intent VARCHAR, party_type VARCHAR)")
    con.execute("CREATE TABLE gov.meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO gov.meta VALUES ('as_of', ?)", [as_of.isoformat()])
    party = {}
    for loan, who, principal, start, maturity, product, branch, manager, segment in LOANS:
        party[loan] = (who, start)
        con.execute("INSERT INTO gov.loan VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [who, loan, principal, start, maturity, product, start])
        con.execute("INSERT INTO raw.bank_loans VALUES (?, ?, ?, ?, ?)",
                    [loan, f"A{loan}", int(principal * 100), start, maturity])
        con.execute("INSERT INTO raw.bank_applications VALUES (?, ?, ?, ?, ?)",
                    [f"A{loan}", manager, branch, product, segment])
    for loan, period, due, principal, interest, paid in REPAYMENTS:
        who, start = party[loan]
        con.execute("INSERT INTO gov.repayment VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [who, loan, period, due, principal, interest, paid, start])
    return con


def by_loan(table: pa.Table) -> dict[str, dict]:
    """Rows of a one-day state table keyed by loan id."""
    return {r["loan_id"]: r for r in table.to_pylist()}


def at(snapshots: pa.Table, day: dt.date) -> dict[str, dict]:
    """Rows of month-end snapshots at ``day``, keyed by loan id."""
    return {r["loan_id"]: r for r in snapshots.to_pylist() if r["as_of"] == day}
