"""Applications, the traditional decision, loans and repayments of one chunk of parties.

The traditional process is a fair opponent (SIMULATOR.md §3): an expert sees what a manager
sees — financials, the site visit, obvious court or registry trouble — with judgement noise,
never the latent risk itself. Outcomes come from the party's ground-truth timeline, so any
other policy can later be scored on the same applicants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.entities.lending import Channel, ProductIntent, RepaymentMethod
from xiaowei.sim import hashing
from xiaowei.sim.calendar import (
    APPLICATION_FIRST_MONTH,
    HISTORY_MONTHS,
    SIM_END,
    add_months,
    month_of,
    month_start,
)
from xiaowei.sim.population import HAZARD_INTERCEPT, NEVER, Parties
from xiaowei.sim.staff import Staff

# Codes come from the domain types; the simulator indexes them by position.
CHANNELS = np.array([c.value for c in Channel])
PRODUCTS = np.array([p.value for p in ProductIntent])
METHODS = np.array([m.value for m in (RepaymentMethod.INTEREST_ONLY_BULLET,
                                      RepaymentMethod.EQUAL_INSTALMENT,
                                      RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.REVOLVING)])
APPLY_SHARE = np.array([0.34, 0.28, 0.22])  # by party type, over the 24-month window
APPROVAL_CUT = HAZARD_INTERCEPT + 0.35  # expert's seen log-odds above this → reject
FRAUD_DEFAULT_SHARE = 0.75
RENEWAL_BASE = 1.1


@dataclass
class Book:
    """Applications and loans of one chunk; arrays aligned per application / per loan."""

    app: dict[str, np.ndarray]
    loan: dict[str, np.ndarray]
    pay: dict[str, np.ndarray]


def _first_applications(seed: int, p: Parties, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(p)
    window = HISTORY_MONTHS - APPLICATION_FIRST_MONTH
    distressed = (p["signal_m"] >= APPLICATION_FIRST_MONTH) & (p["signal_m"] < HISTORY_MONTHS)
    share = APPLY_SHARE[p["ptype"]] * np.where(distressed, 1.4, 1.0)
    share = np.where(p["is_anchor"], 0.10, share)
    applies = rng.random(n) < share
    month = APPLICATION_FIRST_MONTH + rng.integers(0, window, n)
    # Firms in trouble look for credit: many apply around their signal month.
    near = distressed & (rng.random(n) < 0.5)
    month = np.where(near, np.clip(p["signal_m"] + rng.integers(-1, 3, n),
                                   APPLICATION_FIRST_MONTH, HISTORY_MONTHS - 1), month)
    ring = p["ring_member"]
    burst = APPLICATION_FIRST_MONTH + hashing.integers(seed, "ring-burst", p["ring_id"],
                                                       window - 3)
    month = np.where(ring, burst + rng.integers(0, 3, n), month)
    applies = applies | (ring & (rng.random(n) < 0.95))
    # New firms cannot apply before they exist.
    est = APPLICATION_FIRST_MONTH - np.round(p["years"] * 12).astype(np.int64)
    applies &= month >= est + 1
    pos = np.flatnonzero(applies)
    return {"pos": pos, "month": month[pos], "renewal": np.zeros(len(pos), bool)}


def _terms(p: Parties, pos: np.ndarray, renewal: np.ndarray, rng: np.random.Generator
           ) -> dict[str, np.ndarray]:
    k = len(pos)
    ring = p["ring_member"][pos]
    rev = p["revenue_wan"][pos] * np.where(ring, 3.0, 1.0)  # shells inflate their revenue
    amount = np.clip(rev * rng.uniform(0.06, 0.32, k), 3, 1000) * 10_000
    amount = np.round(amount / 10_000) * 10_000
    term = rng.choice(np.array([6, 12, 24, 36]), k, p=[0.05, 0.70, 0.15, 0.10])
    channel = rng.choice(4, k, p=[0.35, 0.30, 0.30, 0.05])
    channel = np.where(p["anchor_idx"][pos] >= 0, np.where(rng.random(k) < 0.6, 3, channel),
                       channel)
    channel = np.where(ring, np.where(rng.random(k) < 0.5, 2, 1), channel)
    channel = np.where(renewal, 4, channel)
    ptype = p["ptype"][pos]
    product = np.where(channel == 3, 5, rng.choice(np.array([0, 1, 2, 3, 4, 6]), k,
                                                   p=[0.30, 0.20, 0.10, 0.15, 0.15, 0.10]))
    product = np.where((ptype == 2) & (product == 2), 0, product)
    method = np.where(product == 6, 3, rng.choice(3, k, p=[0.50, 0.38, 0.12]))
    return {"amount": amount, "term": term, "channel": channel, "product": product,
            "method": method}


def _expert_view(p: Parties, pos: np.ndarray, month: np.ndarray, manager_bad: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """The approver's log-odds view: observable factors, noisy quality, visible trouble."""
    k = len(pos)
    seen_quality = np.where(p["ring_member"][pos], -0.1 + 0.6 * rng.standard_normal(k),
                            p["quality"][pos] + 0.75 * rng.standard_normal(k))
    young = (p["years"][pos] < 2.0).astype(float)
    trouble = (p["signal_m"][pos] <= month - 1) & (rng.random(k) < 0.65)
    view = (HAZARD_INTERCEPT + 0.45 * young + 0.20 * (p["ptype"][pos] == 1)
            - 0.22 * np.log1p(p["years"][pos]) + 0.55 * (p["leverage"][pos] + 1.2)
            - 0.60 * seen_quality + 0.45 * rng.standard_normal(k) + 1.6 * trouble)
    view = np.where(p["default_m"][pos] < month, view + 3.0, view)  # already in default
    return np.where(manager_bad, view - 0.6, view)  # a colluding manager dresses the file


def simulate(seed: int, p: Parties, staff: Staff, manager_of: np.ndarray,
             rng: np.random.Generator) -> Book:
    rounds = [_first_applications(seed, p, rng)]
    apps: list[dict[str, np.ndarray]] = []
    loans: list[dict[str, np.ndarray]] = []
    n_apps = 0
    while rounds:
        r = rounds.pop()
        pos, month, renewal = r["pos"], r["month"], r["renewal"]
        if len(pos) == 0:
            continue
        k = len(pos)
        t = _terms(p, pos, renewal, rng)
        day = month_start(month) + rng.integers(0, 28, k).astype("timedelta64[D]")
        day = np.where(renewal, r.get("day", day), day)
        mgr = manager_of[pos]
        bad_mgr = p["ring_member"][pos] & (staff.behaviour[mgr] == "colluding")
        view = _expert_view(p, pos, month, bad_mgr, rng)
        approve = view < APPROVAL_CUT
        decided = day + rng.integers(2, 13, k).astype("timedelta64[D]")
        pending = decided > SIM_END
        approved_amount = np.round(t["amount"] * rng.uniform(0.6, 1.0, k) / 10_000) * 10_000
        approved_amount = np.maximum(approved_amount, 10_000)
        rate = np.clip(0.0365 + 0.006 * (view - APPROVAL_CUT + 2.0)
                       + 0.004 * rng.standard_normal(k), 0.03, 0.12)
        app_no = n_apps + np.arange(k)
        n_apps += k
        apps.append({"app_no": app_no, "pos": pos, "day": day, "sec": rng.integers(
            8 * 3600, 18 * 3600, k), "manager": mgr, "renewal": renewal,
            "approve": approve & ~pending, "pending": pending, "decided": decided,
            "approved_amount": approved_amount, "rate": np.round(rate, 4), **t})
        lp = np.flatnonzero(approve & ~pending)
        start = decided[lp] + rng.integers(1, 6, len(lp)).astype("timedelta64[D]")
        keep = start <= SIM_END
        lp, start = lp[keep], start[keep]
        term = t["term"][lp]
        maturity = add_months(start, term)
        loan = {"app_no": app_no[lp], "pos": pos[lp], "start": start, "maturity": maturity,
                "principal": approved_amount[lp], "rate": np.round(rate[lp], 4),
                "term": term, "method": t["method"][lp]}
        loan["default_period"] = _default_period(seed, p, loan, rng)
        loans.append(loan)
        # Renewal: a matured loan that was repaid is renewed unless the customer leaves.
        repaid = loan["default_period"] > term
        matured = maturity <= SIM_END
        q = p["quality"][loan["pos"]]
        stay = rng.random(len(lp)) < 1.0 / (1.0 + np.exp(-(RENEWAL_BASE + 0.4 * q)))
        again = repaid & matured & stay & ~p["ring_member"][loan["pos"]]
        if again.any():
            rday = maturity[again] - rng.integers(0, 15, int(again.sum())).astype(
                "timedelta64[D]")
            rounds.append({"pos": loan["pos"][again], "month": month_of(rday), "day": rday,
                           "renewal": np.ones(int(again.sum()), bool)})
    app = {key: np.concatenate([a[key] for a in apps]) for key in apps[0]} if apps else {}
    loan = {key: np.concatenate([x[key] for x in loans]) for key in loans[0]} if loans else {}
    pay = _repayments(loan, rng) if loan and len(loan["pos"]) else {}
    return Book(app, loan, pay)


def _default_period(seed: int, p: Parties, loan: dict[str, np.ndarray],
                    rng: np.random.Generator) -> np.ndarray:
    """First instalment the borrower misses for good (term + 1 = never)."""
    k = len(loan["pos"])
    start_m = month_of(loan["start"])
    dm = p["default_m"][loan["pos"]]
    # Periods are months after the start; the first whose due month reaches default is missed.
    period = np.where(dm >= NEVER, NEVER, np.maximum(1, dm - start_m + 1))
    fraud = p["ring_member"][loan["pos"]] & (rng.random(k) < FRAUD_DEFAULT_SHARE)
    period = np.where(fraud, 1 + rng.integers(0, 3, k), period)
    return np.minimum(period, loan["term"] + 1)


def _repayments(loan: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    term = loan["term"]
    li = np.repeat(np.arange(len(term)), term)
    k = np.concatenate([np.arange(1, t + 1) for t in term])
    t_l = term[li]
    principal = loan["principal"][li]
    r = loan["rate"][li] / 12.0
    method = loan["method"][li]
    # Scheduled principal and interest per period, in yuan, rounded to fen.
    instal = principal * r / (1.0 - (1.0 + r) ** (-t_l))
    bal_before_ei = principal * (1 + r) ** (k - 1) - instal * ((1 + r) ** (k - 1) - 1) / r
    ei_int = bal_before_ei * r
    ei_prin = instal - ei_int
    ep_prin = principal / t_l
    ep_int = (principal - ep_prin * (k - 1)) * r
    bullet_prin = np.where(k == t_l, principal, 0.0)
    bullet_int = principal * r
    prin = np.select([method == 1, method == 2], [ei_prin, ep_prin], bullet_prin)
    intr = np.select([method == 1, method == 2], [ei_int, ep_int], bullet_int)
    prin, intr = np.round(prin, 2), np.round(intr, 2)
    due = add_months(loan["start"][li], k)
    dp = loan["default_period"][li]
    missed = k >= dp
    # Prepayment: some good borrowers settle early; later periods then never fall due.
    prepay_at = np.where(rng.random(len(term)) < 0.12, 2 + (rng.random(len(term)) * np.maximum(
        term - 2, 1)).astype(np.int64), NEVER)
    pre = prepay_at[li]
    exists = (k <= pre) | missed
    late_days = np.where(rng.random(len(k)) < 0.025, rng.integers(1, 26, len(k)), 0)
    paid_on = due + late_days.astype("timedelta64[D]")
    known = paid_on <= SIM_END
    paid = ~missed & known
    settle = (k == pre) & ~missed
    outstanding = np.where(method == 1, bal_before_ei - ei_prin,
                           np.where(method == 2, principal - ep_prin * k,
                                    principal - bullet_prin))
    prin = np.where(settle, np.round(prin + np.maximum(outstanding, 0), 2), prin)
    amount = np.where(paid, prin + intr, 0.0)
    sel = exists
    return {"loan": li[sel], "period": k[sel], "due": due[sel], "principal_due": prin[sel],
            "interest_due": intr[sel], "paid": paid[sel], "paid_on": paid_on[sel],
            "paid_amount": np.round(amount[sel], 2)}
