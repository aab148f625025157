"""A hand-built analytic store small enough to check every relationship figure by hand.

As of 2025-06-30 (D). Parties:

* F1 — enterprise, credit code U1, legal representative X (ID ``33010219800101001X``),
  member of anchor A's supply chain. Loans: L0 (100,000, 2024, settled 2024-12-20) and L1
  (1,200,000 working capital from 2025-01-01, 200,000 repaid 2025-03-01, 1,000,000 due
  2025-12-31; 5% a year, manager M1 of branch B1). Account acc1 (basic) with month-end
  balances 60, 70, 80, 90, 100, 110 thousand for 2024-12 … 2025-05 and inflows of 1,000,000
  every month 2024-07 … 2025-05; the June flow (5,000,000) is known only on 07-01, and a
  second account opened 07-10: both after D. Application AP1 names guarantor G (ID
  ``330102198202020022``, a third party) and spouse S (``330102198303030033``).
* F2 — enterprise U2 with the same legal representative X (the registry writes the ID in
  full-width digits and a small x); loan L2 300,000 tax loan maturing 2025-08-31 (62 days).
* O3 — business owner: the person G.
* S  — enterprise US whose legal representative is the person S (F1's spouse guarantor);
  loan LS 500,000.
* A  — anchor enterprise UA, holds shares of F2 (a corporate holder); loan LA 2,000,000.
* Z  — an account only (a prospect); R — a registry record only (not a customer);
* L  — has legal representative X too, but the registry learned it on 2025-07-15 (after D).

Related to F1 on D: F2 (legal_rep), O3 (guarantor), S (spouse), A (supply_chain) — group
exposure 1,000,000 + 300,000 + 0 + 500,000 + 2,000,000 = 3,800,000.
"""

from __future__ import annotations

import datetime as dt

import duckdb

D = dt.date
AS_OF = D(2025, 6, 30)
X, G, S = "33010219800101001X", "330102198202020022", "330102198303030033"

PROFILES = [  # party_id, type, name, anchor, known_at
    ("F1", "enterprise", "杭州甲乙贸易有限公司", "A", D(2023, 1, 1)),
    ("F2", "enterprise", "杭州丙丁制造有限公司", None, D(2023, 1, 1)),
    ("O3", "business_owner", "王小明", None, D(2023, 1, 1)),
    ("S", "enterprise", "杭州戊己服饰有限公司", None, D(2023, 1, 1)),
    ("A", "enterprise", "杭州核心集团有限公司", None, D(2023, 1, 1)),
    ("Z", "individual_business", "杭州庚辛商店", None, D(2023, 1, 1)),
    ("R", "enterprise", "杭州壬癸科技有限公司", None, D(2023, 1, 1)),
    ("L", "enterprise", "杭州子丑建材有限公司", None, D(2023, 1, 1)),
]
KEYS = [("uscc", "U1", "F1"), ("uscc", "U2", "F2"), ("id", G, "O3"), ("uscc", "US", "S"),
        ("uscc", "UA", "A"), ("uscc", "UZ", "Z"), ("uscc", "UR", "R"), ("uscc", "UL", "L")]
REGISTRY = [("U1", X, D(2023, 1, 1)), ("U2", "３３０１０２１９８００１０１００１x", D(2023, 1, 1)),
            ("US", S, D(2023, 1, 1)), ("UL", X, D(2025, 7, 15))]
LOANS = [  # party, loan, principal, start, maturity, product
    ("F1", "L0", 100_000.0, D(2024, 1, 1), D(2024, 12, 31), "working_capital"),
    ("F1", "L1", 1_200_000.0, D(2025, 1, 1), D(2025, 12, 31), "working_capital"),
    ("F2", "L2", 300_000.0, D(2025, 2, 1), D(2025, 8, 31), "tax_loan"),
    ("S", "LS", 500_000.0, D(2024, 9, 1), D(2026, 9, 1), "tax_loan"),
    ("A", "LA", 2_000_000.0, D(2024, 6, 1), D(2026, 6, 1), "credit_line"),
]
REPAYMENTS = [  # party, loan, period, due, principal, paid_on
    ("F1", "L0", 1, D(2024, 12, 31), 100_000.0, D(2024, 12, 20)),
    ("F1", "L1", 1, D(2025, 3, 1), 200_000.0, D(2025, 3, 1)),
    ("F1", "L1", 2, D(2025, 12, 31), 1_000_000.0, None),
    ("F2", "L2", 1, D(2025, 8, 31), 300_000.0, None),
    ("S", "LS", 1, D(2026, 9, 1), 500_000.0, None),
    ("A", "LA", 1, D(2026, 6, 1), 2_000_000.0, None),
]


def _month(year: int, month: int) -> dt.date:
    return D(year, month, 1)


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Create and fill the hand-built store's tables on ``con``."""
    for schema in ("gov", "raw"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("""CREATE TABLE gov.party_profile (party_id VARCHAR, party_type VARCHAR,
        name VARCHAR, industry_code VARCHAR, region_code VARCHAR, established_on DATE,
        supply_chain_role VARCHAR, anchor_party_id VARCHAR, known_at DATE)""")
    con.executemany("INSERT INTO gov.party_profile VALUES (?, ?, ?, '5100', '330102', "
                    "DATE '2015-01-01', ?, ?, ?)",
                    [(p, t, n, "member" if a else "none", a, k) for p, t, n, a, k in PROFILES])
    con.execute("CREATE TABLE gov.party_key (kind VARCHAR, value VARCHAR, party_id VARCHAR)")
    con.executemany("INSERT INTO gov.party_key VALUES (?, ?, ?)", KEYS)
    con.execute("""CREATE TABLE gov.loan (party_id VARCHAR, loan_id VARCHAR,
        principal_yuan DOUBLE, start_date DATE, maturity_date DATE, product_intent VARCHAR,
        known_at DATE)""")
    con.executemany("INSERT INTO gov.loan VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row, row[3]) for row in LOANS])
    con.execute("""CREATE TABLE gov.repayment (party_id VARCHAR, loan_id VARCHAR,
        period BIGINT, due_date DATE, principal_due_yuan DOUBLE, interest_due_yuan DOUBLE,
        paid_on DATE, known_at DATE)""")
    con.executemany("INSERT INTO gov.repayment VALUES (?, ?, ?, ?, ?, 0.0, ?, DATE "
                    "'2024-01-01')", REPAYMENTS)
    con.execute("""CREATE TABLE gov.bank_account (party_id VARCHAR, account_no VARCHAR,
        account_type VARCHAR, opened_on DATE, known_at DATE)""")
    con.executemany("INSERT INTO gov.bank_account VALUES (?, ?, ?, ?, ?)", [
        ("F1", "6230000000000001", "基本存款账户", D(2020, 1, 1), D(2020, 1, 1)),
        ("F1", "6230000000000002", "一般存款账户", D(2025, 7, 10), D(2025, 7, 10)),
        ("Z", "6230000000000009", "基本存款账户", D(2021, 1, 1), D(2021, 1, 1)),
        ("O3", "6230000000000003", "个人结算账户", D(2021, 1, 1), D(2021, 1, 1))])
    con.execute("""CREATE TABLE gov.account_flow (party_id VARCHAR, account_no VARCHAR,
        period DATE, inflow_yuan DECIMAL(18,2), outflow_yuan DECIMAL(18,2), txn_count BIGINT,
        end_balance_yuan DECIMAL(18,2), known_at TIMESTAMP)""")
    months = [_month(2024, m) for m in range(7, 13)] + [_month(2025, m) for m in range(1, 6)]
    balances = {_month(2024, 12): 60_000, _month(2025, 1): 70_000, _month(2025, 2): 80_000,
                _month(2025, 3): 90_000, _month(2025, 4): 100_000, _month(2025, 5): 110_000}
    flows = [("F1", "6230000000000001", m, 1_000_000, 900_000, 30, balances.get(m, 50_000),
              dt.datetime(m.year + m.month // 12, m.month % 12 + 1, 1)) for m in months]
    flows.append(("F1", "6230000000000001", _month(2025, 6), 5_000_000, 0, 9, 9_000_000,
                  dt.datetime(2025, 7, 1)))
    con.executemany("INSERT INTO gov.account_flow VALUES (?, ?, ?, ?, ?, ?, ?, ?)", flows)
    con.execute("""CREATE TABLE gov.application (party_id VARCHAR, application_id VARCHAR,
        applied_on DATE, channel VARCHAR, product_intent VARCHAR, amount_yuan DOUBLE,
        employees BIGINT, declared_revenue_yuan DOUBLE, decision VARCHAR, known_at DATE)""")
    con.executemany("INSERT INTO gov.application VALUES (?, ?, ?, 'walk_in', ?, ?, 5, 1e6, "
                    "'approve', ?)", [
                        ("F1", "AP1", D(2024, 12, 20), "working_capital", 1_200_000.0,
                         D(2024, 12, 20)),
                        ("A", "APA", D(2024, 5, 20), "credit_line", 2_000_000.0,
                         D(2024, 5, 20))])
    con.execute("""CREATE TABLE gov.shareholder (party_id VARCHAR, holder_id VARCHAR,
        holder_name VARCHAR, holder_kind VARCHAR, share_pct DOUBLE, known_at DATE)""")
    con.execute("INSERT INTO gov.shareholder VALUES ('F2', 'UA', '核心集团', '企业法人', 30.0, "
                "DATE '2023-01-01')")
    con.execute("""CREATE TABLE raw.registry_companies (uscc VARCHAR, legal_rep_id VARCHAR,
        received_at DATE)""")
    con.executemany("INSERT INTO raw.registry_companies VALUES (?, ?, ?)", REGISTRY)
    con.execute("""CREATE TABLE raw.bank_applications (application_no VARCHAR, uscc VARCHAR,
        id_number VARCHAR, manager_id VARCHAR, branch_id VARCHAR, product_intent VARCHAR,
        party_type VARCHAR)""")
    con.executemany("INSERT INTO raw.bank_applications VALUES (?, ?, ?, ?, ?, ?, "
                    "'enterprise')", [("AP1", "U1", X, "M1", "B1", "working_capital"),
                                      ("APA", "UA", None, "M2", "B1", "credit_line")])
    con.execute("""CREATE TABLE raw.bank_loans (loan_no VARCHAR, application_no VARCHAR,
        annual_rate DOUBLE)""")
    con.executemany("INSERT INTO raw.bank_loans VALUES (?, ?, ?)",
                    [("L1", "AP1", 0.05), ("LA", "APA", 0.04)])
    con.execute("""CREATE TABLE raw.bank_application_guarantors (application_no VARCHAR,
        guarantor_id VARCHAR, relation VARCHAR)""")
    con.executemany("INSERT INTO raw.bank_application_guarantors VALUES (?, ?, ?)",
                    [("AP1", G, "第三方自然人"), ("AP1", S, "配偶")])
