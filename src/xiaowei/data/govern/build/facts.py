"""SQL that turns each raw source into its governed table.

Every statement reads `raw.*` (as loaded), standardises values with the `std_*` macros of
the standardisation package, finds the party through entity resolution's links
(`gov.party_link` by source record, `gov.party_key` by a valid identifier), and sets
`known_at` — the day the bank learned the row (docs/governed.md says why each one).
Rows whose party cannot be found are counted as unlinked by the pipeline, not dropped
silently.
"""

from __future__ import annotations

# A USCC as the tax bureau or registry writes it, reduced to the form party_key holds.
_KEY = "upper(replace(replace(std_clean_text({col}), ' ', ''), '-', ''))"


def key(col: str) -> str:
    return _KEY.format(col=col)


GOVERNED_SQL: dict[str, str] = {
    "registry_change": f"""
        SELECT k.party_id, c.change_date AS changed_on, c.change_item AS item,
               c.received_at AS known_at
        FROM raw.registry_changes c JOIN gov.party_key k
          ON k.kind = 'uscc' AND k.value = {key('c.uscc')}""",
    "abnormal_listing": f"""
        SELECT k.party_id, a.listed_date AS listed_on, a.removed_date AS removed_on,
               a.reason, a.received_at AS known_at
        FROM raw.registry_abnormal a JOIN gov.party_key k
          ON k.kind = 'uscc' AND k.value = {key('a.uscc')}""",
    "shareholder": f"""
        SELECT k.party_id, {key('s.holder_id')} AS holder_id,
               (std_person_name(s.holder_name)).value AS holder_name, s.holder_kind,
               s.share_pct, p.known_at
        FROM raw.registry_shareholders s
        JOIN gov.party_key k ON k.kind = 'uscc' AND k.value = {key('s.uscc')}
        JOIN gov.party_profile p ON p.party_id = k.party_id""",
    "tax_filing": f"""
        SELECT k.party_id, CAST(strptime(t.period || '-01', '%Y-%m-%d') AS DATE) AS period,
               (std_amount_in_unit(t.sales, t.unit)).value AS sales_yuan,
               CAST(t.vat_payable AS DECIMAL(18, 2)) AS vat_payable_yuan,
               t.filed_at AS known_at
        FROM raw.tax_filings t JOIN gov.party_key k
          ON k.kind = 'uscc' AND k.value = {key('t.taxpayer_id')}""",
    "tax_grade": f"""
        SELECT k.party_id, g.year, g.grade,
               make_date(CAST(g.year + 1 AS INT), 4, 1) AS known_at
        FROM raw.tax_credit_grades g JOIN gov.party_key k
          ON k.kind = 'uscc' AND k.value = {key('g.taxpayer_id')}""",
    "invoice": f"""
        SELECT k.party_id, {key('i.buyer_tax_id')} AS buyer_key, i.issue_date,
               CAST(i.amount AS DECIMAL(18, 2)) AS amount_yuan,
               CAST(i.tax_amount AS DECIMAL(18, 2)) AS tax_yuan, i.status,
               i.issue_date AS known_at
        FROM raw.tax_invoices i JOIN gov.party_key k
          ON k.kind = 'uscc' AND k.value = {key('i.seller_tax_id')}""",
    "electricity": """
        SELECT l.party_id, CAST(strptime(r.period || '-01', '%Y-%m-%d') AS DATE) AS period,
               r.kwh, CAST(r.amount_yuan AS DECIMAL(18, 2)) AS amount_yuan,
               r.read_at AS known_at
        FROM raw.utility_readings r
        JOIN raw.utility_accounts a ON a.meter_no = r.meter_no
        JOIN gov.party_link l ON l.source = 'utility_accounts' AND l.record_id = a.record_id""",
    "bank_account": """
        SELECT l.party_id, a.account_no, a.account_type, a.opened_at AS opened_on,
               a.opened_at AS known_at
        FROM raw.core_accounts a
        JOIN raw.core_customers c ON c.cust_no = a.cust_no
        JOIN gov.party_link l ON l.source = 'core_customers' AND l.record_id = c.record_id""",
    "account_flow": """
        SELECT b.party_id, f.account_no,
               CAST(strptime(f.period || '-01', '%Y-%m-%d') AS DATE) AS period,
               CAST(f.inflow AS DECIMAL(18, 2)) AS inflow_yuan,
               CAST(f.outflow AS DECIMAL(18, 2)) AS outflow_yuan, f.txn_count,
               CAST(f.end_balance AS DECIMAL(18, 2)) AS end_balance_yuan,
               CAST(strptime(f.period || '-01', '%Y-%m-%d') AS DATE) + INTERVAL 1 MONTH
                 AS known_at
        FROM raw.core_flows f JOIN gov.bank_account b ON b.account_no = f.account_no""",
    "bureau_report": """
        SELECT l.party_id, r.query_date, r.query_reason AS reason, r.other_bank_loans,
               CAST(r.other_bank_balance AS DECIMAL(18, 2)) AS other_bank_balance_yuan,
               r.overdue_accounts_now, r.worst_overdue_months_24m, r.hard_inquiries_3m,
               CAST(r.guarantees_given AS DECIMAL(18, 2)) AS guarantees_given_yuan,
               r.query_date AS known_at
        FROM raw.bureau_reports r
        JOIN gov.party_link l ON l.source = 'bureau_reports' AND l.record_id = r.report_id""",
    "court_case": """
        SELECT l.party_id, (std_date_text(c.filed_date)).value AS filed_on, c.role,
               c.case_type, CAST(c.claim_amount AS DECIMAL(18, 2)) AS claim_amount_yuan,
               c.received_at AS known_at
        FROM raw.court_cases c
        JOIN gov.party_link l ON l.source = 'court_cases' AND l.record_id = c.record_id""",
    "enforcement": """
        SELECT l.party_id, e.listed_date AS listed_on,
               CAST(e.amount AS DECIMAL(18, 2)) AS amount_yuan, e.received_at AS known_at
        FROM raw.court_enforcement e
        JOIN gov.party_link l ON l.source = 'court_enforcement' AND l.record_id = e.record_id""",
    "dishonest_listing": """
        SELECT l.party_id, d.listed_date AS listed_on,
               CAST(d.amount AS DECIMAL(18, 2)) AS amount_yuan, d.received_at AS known_at
        FROM raw.court_dishonest d
        JOIN gov.party_link l ON l.source = 'court_dishonest' AND l.record_id = d.record_id""",
    "news": """
        SELECT l.party_id, n.published_at AS published_on, n.sentiment,
               n.published_at AS known_at
        FROM raw.web_news n
        JOIN gov.party_link l ON l.source = 'web_news' AND l.record_id = n.record_id""",
    "field_visit": """
        SELECT l.party_id, v.visit_date, v.visit_kind,
               regexp_matches(v.notes, '冷清|停用|积压|未在场|未接通|转让|无人|不符') AS adverse,
               v.visit_date AS known_at
        FROM raw.field_visits v
        JOIN gov.party_link l ON l.source = 'field_visits' AND l.record_id = v.record_id""",
    "application": """
        SELECT l.party_id, a.application_no AS application_id,
               CAST(a.applied_at AS DATE) AS applied_on, a.channel, a.product_intent,
               CAST(a.amount_fen AS DECIMAL(18, 2)) / 100 AS amount_yuan, a.employees,
               CAST(a.annual_revenue_fen AS DECIMAL(18, 2)) / 100 AS declared_revenue_yuan,
               d.decision, CAST(a.applied_at AS DATE) AS known_at
        FROM raw.bank_applications a
        JOIN gov.party_link l ON l.source = 'applications' AND l.record_id = a.application_no
        LEFT JOIN raw.bank_decisions d ON d.application_no = a.application_no""",
    "loan": """
        SELECT a.party_id, o.loan_no AS loan_id,
               CAST(o.principal_fen AS DECIMAL(18, 2)) / 100 AS principal_yuan,
               o.start_date, o.maturity_date, a.product_intent, o.start_date AS known_at
        FROM raw.bank_loans o JOIN gov.application a ON a.application_id = o.application_no""",
    "repayment": """
        SELECT o.party_id, r.loan_no AS loan_id, r.period, r.due_date,
               CAST(r.principal_due_fen AS DECIMAL(18, 2)) / 100 AS principal_due_yuan,
               CAST(r.interest_due_fen AS DECIMAL(18, 2)) / 100 AS interest_due_yuan,
               r.paid_on, o.start_date AS known_at
        FROM raw.bank_repayments r JOIN gov.loan o ON o.loan_id = r.loan_no""",
}

# Raw rows in, per governed table: the denominator of the linked share in the report.
RAW_SOURCE: dict[str, str] = {
    "registry_change": "registry_changes", "abnormal_listing": "registry_abnormal",
    "shareholder": "registry_shareholders", "tax_filing": "tax_filings",
    "tax_grade": "tax_credit_grades", "invoice": "tax_invoices",
    "electricity": "utility_readings", "bank_account": "core_accounts",
    "account_flow": "core_flows", "bureau_report": "bureau_reports",
    "court_case": "court_cases", "enforcement": "court_enforcement",
    "dishonest_listing": "court_dishonest", "news": "web_news", "field_visit": "field_visits",
    "application": "bank_applications", "loan": "bank_loans", "repayment": "bank_repayments",
}
