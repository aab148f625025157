"""Distribution sanity: the synthetic bank looks like Chinese inclusive SME lending.

Bands, not points: the checks hold for any honest calibration (SIMULATOR.md §2), and fail
when a change makes the bank implausible (defaults of 10%, fraud of 20%, no dirt at all).
"""

from __future__ import annotations

import numpy as np


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    order = np.argsort(score)
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = label.sum()
    neg = len(label) - pos
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * neg))


def test_population_default_rate_in_band(small) -> None:
    pd_2024 = small.one("SELECT AVG((default_month BETWEEN 12 AND 23)::INT) FROM truth.parties")
    assert 0.01 <= pd_2024 <= 0.05


def test_loan_default_rate_in_band(small) -> None:
    """Loans granted in 2024 that reach 90 days past due within a year: 1–6%."""
    rate = small.one("""
        WITH bad AS (
          SELECT loan_no, MIN(due_date) AS first_missed FROM bank.repayments
          WHERE paid_on IS NULL AND due_date <= DATE '2025-10-02' GROUP BY loan_no)
        SELECT AVG((first_missed IS NOT NULL
                    AND first_missed < start_date + INTERVAL 12 MONTH)::INT)
        FROM bank.loans LEFT JOIN bad USING (loan_no)
        WHERE start_date < DATE '2025-01-01'""")
    assert 0.01 <= rate <= 0.06


def test_riskier_segments_default_more(small) -> None:
    young, old = small.con.execute("""
        SELECT AVG(CASE WHEN years < 2 THEN (default_month BETWEEN 12 AND 35)::INT END),
               AVG(CASE WHEN years >= 5 THEN (default_month BETWEEN 12 AND 35)::INT END)
        FROM truth.parties WHERE fraud_ring < 0""").fetchone()
    assert young > old
    building, software = small.con.execute("""
        SELECT AVG(CASE WHEN industry_division IN ('47','48','49','50')
                   THEN (default_month BETWEEN 0 AND 47)::INT END),
               AVG(CASE WHEN industry_division IN ('63','64','65')
                   THEN (default_month BETWEEN 0 AND 47)::INT END)
        FROM truth.parties""").fetchone()
    assert building > software


def test_fraud_rings_are_a_few_percent_of_applications(small) -> None:
    share = small.one("SELECT AVG(is_fraud::INT) FROM truth.applications")
    assert 0.01 <= share <= 0.05
    modes = set(small.column("SELECT DISTINCT ring_share FROM truth.parties "
                             "WHERE fraud_ring >= 0"))
    assert {"phone", "address", "device"} <= modes  # some rings share little


def test_fraud_loans_default_early(small) -> None:
    early = small.one("""
        SELECT AVG((r.paid_on IS NULL)::INT) FROM bank.repayments r
        JOIN bank.loans l USING (loan_no) JOIN truth.applications t USING (application_no)
        WHERE t.is_fraud AND r.period <= 3 AND r.due_date < DATE '2025-12-01'""")
    honest = small.one("""
        SELECT AVG((r.paid_on IS NULL)::INT) FROM bank.repayments r
        JOIN bank.loans l USING (loan_no) JOIN truth.applications t USING (application_no)
        WHERE NOT t.is_fraud AND r.period <= 3 AND r.due_date < DATE '2025-12-01'""")
    assert early > 0.3 > 0.05 > honest


def test_even_the_latent_risk_cannot_predict_every_default(small) -> None:
    rows = small.con.execute("""
        SELECT p.latent_logit, t.default_within_12m FROM truth.applications t
        JOIN truth.parties p USING (party_idx) JOIN bank.applications a USING (application_no)
        WHERE NOT t.is_fraud AND a.applied_at < TIMESTAMP '2025-01-01'""").fetchnumpy()
    auc = _auc(rows["latent_logit"], rows["default_within_12m"].astype(bool))
    assert 0.70 <= auc <= 0.92


def test_loan_sizes_plausible(small) -> None:
    big = small.one("SELECT MAX(principal_fen) FROM bank.loans")
    assert big <= 10_000_000 * 100
    typical = small.one("SELECT AVG((principal_fen BETWEEN 100000 * 100 AND 3000000 * 100)"
                        "::INT) FROM bank.loans")
    assert typical >= 0.6


def test_applications_span_24_months(small) -> None:
    months = small.one("SELECT COUNT(DISTINCT strftime(applied_at, '%Y-%m')) "
                       "FROM bank.applications")
    assert months == 24


def test_signals_move_before_defaults(small) -> None:
    """Tax sales fall in the months before a default that had a warning lead."""
    ratio = small.one("""
        WITH f AS (
          SELECT p.party_idx, p.default_month, p.signal_month,
                 (CAST(substr(t.period, 1, 4) AS INT) - 2023) * 12
                   + CAST(substr(t.period, 6, 2) AS INT) - 1 AS m,
                 CASE WHEN t.unit = '万元' THEN t.sales * 10000 ELSE t.sales END AS sales
          FROM raw.tax_filings t JOIN truth.parties p ON p.uscc = t.taxpayer_id
          WHERE p.default_month BETWEEN 18 AND 35 AND p.signal_month < p.default_month
            AND p.fraud_ring < 0)
        SELECT AVG(CASE WHEN m BETWEEN default_month - 2 AND default_month - 1 THEN sales END)
             / AVG(CASE WHEN m BETWEEN default_month - 14 AND default_month - 12 THEN sales END)
        FROM f""")
    assert ratio < 0.85


def test_false_alarms_and_silent_defaults_exist(small) -> None:
    recovered = small.one("SELECT COUNT(*) FROM truth.parties WHERE recovery_month >= 0")
    silent = small.one("SELECT COUNT(*) FROM truth.parties "
                       "WHERE default_month >= 0 AND signal_month = default_month")
    led = small.one("SELECT COUNT(*) FROM truth.parties "
                    "WHERE default_month >= 0 AND signal_month < default_month")
    assert recovered > 0 and silent > 0 and led > silent


def test_dirt_rates(small) -> None:
    firms = small.one("SELECT COUNT(*) FROM truth.parties WHERE uscc <> ''")
    records = small.one("SELECT COUNT(*) FROM raw.registry_companies")
    assert 0.015 <= records / firms - 1 <= 0.05  # duplicates in format variants
    wan = small.one("SELECT AVG((unit = '万元')::INT) FROM raw.tax_filings")
    assert 0.05 <= wan <= 0.11
    late = small.one("SELECT AVG((filed_at > strptime(period || '-28', '%Y-%m-%d')::DATE "
                     "+ INTERVAL 45 DAY)::INT) FROM raw.tax_filings")
    assert 0.01 <= late <= 0.08
    fullwidth = small.one("SELECT AVG(regexp_matches(uscc, '[０-９Ａ-Ｚ]')::INT) "
                          "FROM raw.registry_companies")
    assert 0.02 <= fullwidth <= 0.07
    missing = small.one("SELECT AVG((address IS NULL)::INT) FROM raw.registry_companies")
    assert 0.02 <= missing <= 0.08


def test_invalid_identifiers_in_sources_at_the_dirt_rate(small) -> None:
    from stdnum.cn import uscc

    codes = small.column("SELECT uscc FROM raw.registry_companies")
    clean = ["".join(ch if ord(ch) < 0xFF00 else chr(ord(ch) - 0xFEE0) for ch in c)
             .replace(" ", "").replace("-", "") for c in codes]
    invalid = sum(not uscc.is_valid(c) for c in clean) / len(clean)
    assert 0.004 <= invalid <= 0.02


def test_truth_is_kept_apart(small_bank) -> None:
    """Nothing the platform reads (bank/, raw/) carries latent risk or fraud labels."""
    import pyarrow.parquet as pq

    forbidden = {"latent_logit", "quality", "unobservable", "is_fraud", "fraud_ring",
                 "behaviour", "party_idx", "default_month", "annual_hazard"}
    for zone in ("bank", "raw"):
        for f in (small_bank.out / zone).glob("*.parquet"):
            assert not forbidden & set(pq.read_schema(f).names), f.name


def test_managers_carry_about_120_customers_at_full_load(small) -> None:
    managers = small.one("SELECT COUNT(*) FROM bank.managers")
    behaviours = set(small.column("SELECT DISTINCT behaviour FROM truth.managers"))
    assert "colluding" in behaviours and "honest" in behaviours
    parties = small.one("SELECT COUNT(*) FROM truth.parties")
    assert 100 <= parties * 0.2 / managers <= 140
