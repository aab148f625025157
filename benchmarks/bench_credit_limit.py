"""Credit limit policy against a flat limit (and the traditional amounts) on the simulator.

    .venv/bin/python benchmarks/bench_credit_limit.py --size small --seed 7 [--work DIR]

The set: the traditional process's loans started in 2024 (12 months of outcome observed by
the end of the simulation, 2025-12), i.e. the same approved set for every policy.

How a limit becomes a loss (the evaluation's model, stated because the simulator has none):
- **need**: what the firm applied for (``gov.application.amount_yuan``; the simulator draws it
  as 6–32 % of the firm's declared revenue, so it is the firm's real demand for credit);
- **drawn** = min(need, limit): a firm draws what it needs, up to its limit;
- **expected loss** = PD × LGD × drawn, PD from the truth: the party's latent
  ``annual_hazard`` (a 12-month horizon for every loan), and for fraud-ring loans
  0.75 + 0.25 × hazard (the simulator's fraud default share);
- **realised loss** = [loan defaulted within 12 months] × LGD × drawn, the default read from
  the loan's own repayments (an instalment due within 12 months of the start never paid);
- **LGD** = 45 % for every loan (the simulator has no recoveries yet);
- **no exposure → default link**: the simulator's default belongs to the party, not the loan,
  so a larger loan is *not* riskier for the same firm. Limits help here only by *who* gets
  more (leverage, grade, verified revenue) — see docs/credit_limit.md, limitations.

Rating (the grade the multiplier reads) comes from a platform-visible model: the engine's
``Scorecard`` on application-time fields (bureau, registry, application, revenue sources)
with the bank-visible 12-month default as the label, cross-fitted on two halves (each half
graded by the card fitted on the other), PD → ``MasterScale`` grade. Truth never enters it.

Policies compared on the same loans: ours; **flat** — one limit for all, set so that total
granted equals ours; **flat @ traditional total**; and the **traditional** approved amounts.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from xiaowei.engine.models.master_scale import DEFAULT_NAMES, MasterScale
from xiaowei.engine.models.scorecard import Scorecard
from xiaowei.origination.credit_limit import LimitPolicy, application_inputs, inputs_from_row

LGD = 0.45
FRAUD_DEFAULT_SHARE = 0.75
COHORT = ("2024-01-01", "2024-12-31")

LOANS_SQL = """
with loans as (
  select replace(l.loan_id, 'LN', 'AP') as application_id, l.loan_id, l.start_date,
         l.principal_yuan::double as principal
  from gov.loan l where l.start_date between '{lo}' and '{hi}'),
missed as (
  select r.loan_id, max(case when r.paid_on is null and r.due_date <= l.start_date + 365
                             then 1 else 0 end) as bad
  from gov.repayment r join loans l using (loan_id) group by r.loan_id),
bureau as (
  select application_id, overdue_accounts_now, worst_overdue_months_24m, hard_inquiries_3m,
         other_bank_loans, guarantees from (
    select a.application_id, b.overdue_accounts_now, b.worst_overdue_months_24m,
           b.hard_inquiries_3m, b.other_bank_loans,
           b.guarantees_given_yuan::double as guarantees,
           row_number() over (partition by a.application_id order by b.query_date desc) as k
    from gov.application a join gov.bureau_report b on b.party_id = a.party_id
     and b.query_date <= a.applied_on) where k = 1),
profile as (
  select party_id, party_type, established_on from (
    select party_id, party_type, established_on,
           row_number() over (partition by party_id order by known_at desc) as k
    from gov.party_profile) where k = 1)
select l.application_id, l.principal, coalesce(m.bad, 0) as bad, a.amount_yuan as need,
       a.channel, a.product_intent, a.declared_revenue_yuan as declared_revenue,
       p.party_type, datediff('day', p.established_on, a.applied_on) / 365.25 as years,
       b.overdue_accounts_now, b.worst_overdue_months_24m, b.hard_inquiries_3m,
       b.other_bank_loans, b.guarantees
from loans l join gov.application a using (application_id)
left join missed m using (loan_id) left join bureau b using (application_id)
left join profile p on p.party_id = a.party_id
order by l.application_id
"""

TRUTH_SQL = """
select a.application_no as application_id, a.is_fraud, p.annual_hazard
from '{truth}/applications.parquet' a join '{truth}/parties.parquet' p using (party_idx)
"""

FEATURES = ["channel", "product_intent", "party_type", "industry_section", "years",
            "overdue_accounts_now", "worst_overdue_months_24m", "hard_inquiries_3m",
            "other_bank_loans", "debt_to_revenue", "guarantees_to_revenue", "log_revenue",
            "revenue_sources", "inflow_to_sales", "need_to_revenue"]
CATEGORICAL = ["channel", "product_intent", "party_type", "industry_section"]


def bucket(text: str) -> int:
    """0/1 from a stable hash of the application id (Python's own hash is salted)."""
    return zlib.crc32(text.encode()) % 2


def load_frame(analytic: Path, truth: Path) -> dict[str, np.ndarray]:
    """One row per loan of the cohort: platform inputs, need, outcome, and (apart) truth."""
    con = duckdb.connect(str(analytic), read_only=True)
    try:
        rel = con.sql(LOANS_SQL.format(lo=COHORT[0], hi=COHORT[1]))
        cols, rows = rel.columns, rel.fetchall()
        inputs = {r["application_id"]: r for r in application_inputs(con)}
        truth_rows = con.sql(TRUTH_SQL.format(truth=truth)).fetchall()
    finally:
        con.close()
    frame: dict[str, Any] = {c: np.array([r[i] for r in rows], dtype=object)
                             for i, c in enumerate(cols)}
    ids = frame["application_id"]
    frame["inputs"] = np.array([inputs[a] for a in ids], dtype=object)
    hazard = {a: (bool(f), float(h)) for a, f, h in truth_rows}
    frame["is_fraud"] = np.array([hazard[a][0] for a in ids])
    frame["hazard"] = np.array([hazard[a][1] for a in ids])
    return frame


def _num(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values])


def features(frame: dict[str, Any]) -> dict[str, np.ndarray]:
    """Application-time fields for the rating card (platform-visible only)."""
    inp = frame["inputs"]
    tax = _num(r["tax_sales_12m"] for r in inp)
    inv = _num(r["invoice_amount_12m"] for r in inp)
    flow = _num(r["account_inflow_12m"] for r in inp)
    with warnings.catch_warnings():  # a firm with no source at all is an all-NaN column
        warnings.simplefilter("ignore", RuntimeWarning)
        revenue = np.nanmax(np.vstack([tax, inv, flow]), axis=0) if len(tax) else tax
    declared = _num(frame["declared_revenue"])
    revenue = np.where(np.isnan(revenue), declared, revenue)
    debt = _num(r["other_bank_debt"] for r in inp)
    out: dict[str, np.ndarray] = {c: np.array(frame[c], dtype=object) for c in
                                  ("channel", "product_intent", "party_type")}
    out["industry_section"] = np.array([r["industry_section"] or "?" for r in inp], dtype=object)
    for c in ("years", "overdue_accounts_now", "worst_overdue_months_24m", "hard_inquiries_3m",
              "other_bank_loans"):
        out[c] = _num(frame[c])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["debt_to_revenue"] = debt / revenue
        out["guarantees_to_revenue"] = _num(frame["guarantees"]) / revenue
        out["log_revenue"] = np.log1p(revenue)
        out["inflow_to_sales"] = flow / tax
        out["need_to_revenue"] = _num(frame["need"]) / revenue
    out["revenue_sources"] = (~np.isnan(tax)).astype(float) + (~np.isnan(inv)) + (
        ~np.isnan(flow))
    return {k: np.where(np.isinf(v), np.nan, v) if v.dtype != object else v
            for k, v in out.items()}


def grades(frame: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted scorecard PD and master-scale grade of each loan."""
    X = features(frame)
    y = np.asarray(frame["bad"], dtype=int)
    half = np.array([bucket(a) for a in frame["application_id"]])
    pd = np.zeros(len(y))
    for k in (0, 1):
        train, test = half != k, half == k
        card = Scorecard(max_bins=5)
        card.fit({c: X[c][train] for c in FEATURES}, y[train], categorical=CATEGORICAL)
        pd[test] = card.predict_proba({c: X[c][test] for c in FEATURES})[:, 1]
    return pd, MasterScale().grades(pd)


def truth_pd(frame: dict[str, Any]) -> np.ndarray:
    """12-month PD of each loan from the truth: latent hazard, fraud loans mostly default."""
    return np.where(frame["is_fraud"], FRAUD_DEFAULT_SHARE + (1 - FRAUD_DEFAULT_SHARE)
                    * frame["hazard"], frame["hazard"])


def outcome(frame: dict[str, Any], limit: np.ndarray) -> dict[str, np.ndarray]:
    """Granted, drawn, expected and realised loss per loan under one set of limits."""
    need = _num(frame["need"])
    drawn = np.minimum(need, limit)
    pd = truth_pd(frame)
    bad = np.asarray(frame["bad"], dtype=float)
    return {"granted": limit, "drawn": drawn, "el": pd * LGD * drawn,
            "loss": bad * LGD * drawn, "lent_to": limit > 0}


def summary(o: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, float]:
    m = np.ones(len(o["granted"]), bool) if mask is None else mask
    g, d = o["granted"][m].sum(), o["drawn"][m].sum()
    return {"n": int(m.sum()), "lent_to": int(o["lent_to"][m].sum()), "granted": g, "drawn": d,
            "util": d / g if g else float("nan"), "el": o["el"][m].sum(),
            "loss": o["loss"][m].sum(), "el_rate": o["el"][m].sum() / d if d else float("nan"),
            "loss_rate": o["loss"][m].sum() / d if d else float("nan")}


def flat_limit(total: float, n: int, unit: int = 10_000) -> float:
    """The one limit that grants ``total`` over ``n`` loans, rounded to the unit."""
    return float(round(total / n / unit) * unit)


def evaluate(frame: dict[str, Any], policy: LimitPolicy | None = None
             ) -> dict[str, Any]:
    """Every policy's outcomes on the frame's loans (grades must be in frame['grade'])."""
    policy = policy or LimitPolicy()
    decided = [policy.limit(inputs_from_row(r, g)) for r, g in
               zip(frame["inputs"], frame["grade"], strict=True)]
    ours = np.array([float(x.limit_yuan) for x in decided])
    n = len(ours)
    trad = _num(frame["principal"])
    flat = flat_limit(ours.sum(), n)
    flat_t = flat_limit(trad.sum(), n)
    lent = ours > 0
    flat_lent = flat_limit(ours.sum(), max(int(lent.sum()), 1))
    return {"decided": decided, "flat_amount": flat, "flat_trad_amount": flat_t,
            "policies": {"ours": outcome(frame, ours),
                         f"flat {flat / 1e4:,.0f}万": outcome(frame, np.full(n, flat)),
                         f"flat {flat_lent / 1e4:,.0f}万 on ours' lent":
                             outcome(frame, np.where(lent, flat_lent, 0.0)),
                         f"flat {flat_t / 1e4:,.0f}万 (trad. total)":
                             outcome(frame, np.full(n, flat_t)),
                         "traditional amounts": outcome(frame, trad)}}


def _row(name: str, s: dict[str, float]) -> str:
    return (f"{name:<26} {s['n']:>6} {s['lent_to']:>6} {s['granted'] / 1e8:>9.2f} "
            f"{s['drawn'] / 1e8:>8.2f} {s['util']:>6.1%} {s['el'] / 1e4:>9.1f} "
            f"{s['el_rate']:>6.2%} {s['loss'] / 1e4:>9.1f} {s['loss_rate']:>6.2%}")


HEADER = (f"{'policy':<26} {'loans':>6} {'lent':>6} {'granted亿':>9} {'drawn亿':>8} "
          f"{'util':>6} {'EL万':>9} {'EL/dr':>6} {'loss万':>9} {'loss/dr':>6}")


def report(frame: dict[str, Any], result: dict[str, Any]) -> None:
    pols = result["policies"]
    print(HEADER)
    for name, o in pols.items():
        print(_row(name, summary(o)))
    print("\nby rating grade (ours vs flat at equal total granted):")
    flat_name = next(iter(k for k in pols if k.startswith("flat")))
    for g in DEFAULT_NAMES:
        m = frame["grade"] == g
        if not m.any():
            continue
        print(f"  {g}: truth PD mean {truth_pd(frame)[m].mean():.2%}, realised bad "
              f"{np.mean(frame['bad'][m].astype(float)):.1%}")
        print("  " + _row("  ours", summary(pols["ours"], m)))
        print("  " + _row(f"  {flat_name}", summary(pols[flat_name], m)))
    bindings: dict[str, int] = {}
    for x in result["decided"]:
        bindings[x.binding] = bindings.get(x.binding, 0) + 1
    print("\nours, binding constraint:", dict(sorted(bindings.items(), key=lambda kv: -kv[1])))
    fraud = frame["is_fraud"]
    for name, o in pols.items():
        print(f"  fraud-ring loans, {name}: drawn {o['drawn'][fraud].sum() / 1e4:,.0f}万 of "
              f"{o['drawn'].sum() / 1e4:,.0f}万")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/xiaowei-bench-credit-limit"))
    args = ap.parse_args(argv)
    root = args.work / f"{args.size}-{args.seed}"
    started = time.perf_counter()
    if not (root / "analytic.duckdb").is_file():
        from xiaowei.data.pipeline import simulate_and_load

        simulate_and_load(root, args.size, args.seed, transactional=False)
    print(f"data ready in {time.perf_counter() - started:.1f} s ({root})", flush=True)
    frame = load_frame(root / "analytic.duckdb", root / "ds" / "truth")
    pd, frame["grade"] = grades(frame)
    from xiaowei.engine.models.metrics import roc_auc

    print(f"{len(pd)} loans started in 2024; realised 12-month bad rate "
          f"{frame['bad'].astype(float).mean():.2%}; rating card cross-fitted AUC "
          f"{roc_auc(frame['bad'].astype(int), pd):.3f}; LGD {LGD:.0%}")
    t = time.perf_counter()
    result = evaluate(frame)
    print(f"limits set in {time.perf_counter() - t:.2f} s "
          f"({(time.perf_counter() - t) / len(pd) * 1e6:.0f} µs each)\n")
    report(frame, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
