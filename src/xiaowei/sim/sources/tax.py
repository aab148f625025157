"""Tax bureau data (银税互动): monthly VAT filings, credit grades, and e-invoices."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt, hashing
from xiaowei.sim.activity import monthly_revenue_yuan
from xiaowei.sim.calendar import HISTORY_MONTHS, month_end, month_label, month_start
from xiaowei.sim.geography import geography
from xiaowei.sim.identity import firm_words, make_uscc
from xiaowei.sim.population import build
from xiaowei.sim.sizes import RING_BLOCK
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk

OUTSIDERS = 200_000  # firms outside the bank's population that buy from its customers
OUTSIDER_BASE = 30_000_000
BUYER_SLOTS = 4


def outside_firms(seed: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """USCC and name of outside counterparties number k (valid numbers, stable names)."""
    uk, inv = np.unique(np.asarray(k) + OUTSIDER_BASE, return_inverse=True)
    geo = geography(seed)
    county = geo.counties[hashing.integers(seed, "outsider-county", uk, len(geo.counties))]
    uscc = make_uscc(seed, uk, county, np.ones(len(uk), dtype=np.int64))
    name = np.char.add(np.char.add(np.array([geo.city_short[np.searchsorted(
        geo.counties, c)] for c in county]), firm_words(seed, uk)), "实业有限公司")
    return uscc[inv], name[inv]


def _filers(c: Chunk) -> np.ndarray:
    p = c.parties
    share = np.array([0.92, 0.55, 0.0])[p["ptype"]]
    return np.flatnonzero(hashing.uniform(c.seed, "tax-filer", p["idx"]) < share)


def filings(c: Chunk) -> None:
    p, rng = c.parties, c.rng("tax_filings")
    f = _filers(c)
    lvl = c.level[f]
    ring_boost = np.where(p["ring_member"][f], 3.0, 1.0)  # shells declare inflated sales
    sales = monthly_revenue_yuan(p)[f][:, None] * lvl * ring_boost[:, None]
    # After a default many firms simply stop filing ("filings stop": a red signal).
    stops = (rng.random(len(f)) < 0.6)[:, None] & (
        np.arange(HISTORY_MONTHS)[None, :] >= p["default_m"][f][:, None])
    present = (lvl > 0) & ~stops & (rng.random(lvl.shape) > 0.02)
    fi, m = np.nonzero(present)
    n = len(fi)
    amount = np.round(sales[fi, m], 2)
    in_wan = dirt.pick(rng, n, dirt.RATES["wan_unit"])
    reported = np.where(in_wan, np.round(amount / 10_000, 4), amount)
    vat_rate = np.where(p["ptype"][f][fi] == 0, 0.13, 0.01)
    c.emit.raw("tax_filings", arrow.table(
        taxpayer_id=p["uscc"][f][fi], period=month_label(m),
        sales=(reported, dirt.pick(rng, n, 0.01)), unit=np.where(in_wan, "万元", "元"),
        vat_payable=np.round(amount * vat_rate * rng.uniform(0.2, 0.5, n), 2),
        filed_at=dirt.late_received(month_end(m), rng, (5, 16))))
    years = np.array([2023, 2024, 2025])
    gi = np.repeat(f, 3)
    yr = np.tile(years, len(f))
    grade = p["tax_grade"][gi].astype(object)
    # A grade moves down after distress shows.
    worse = p["signal_m"][gi] <= (yr - 2023) * 12
    grade[worse & np.isin(grade, ["A", "B"])] = "C"
    c.emit.raw("tax_credit_grades", arrow.table(
        taxpayer_id=p["uscc"][gi], year=yr, grade=grade.astype(str)))


def invoices(c: Chunk) -> None:
    """Outgoing VAT invoices of general taxpayers; buyers are other parties or outsiders."""
    p, rng = c.parties, c.rng("tax_invoices")
    f = _filers(c)
    f = f[(p["ptype"][f] == 0) & (hashing.uniform(c.seed, "general-taxpayer", p["idx"][f])
                                  < np.where(p["revenue_wan"][f] > 500, 0.85, 0.35))]
    if len(f) == 0:
        return
    lam = np.clip(p["revenue_wan"][f] / 250.0, 0.5, 12.0)
    counts = rng.poisson(lam[:, None] * np.minimum(c.level[f], 1.5))
    fi, m = np.nonzero(counts)
    reps = counts[fi, m]
    seller = np.repeat(f[fi], reps)
    month = np.repeat(m, reps)
    n = len(seller)
    ring = p["ring_member"][seller]
    month_sales = monthly_revenue_yuan(p)[seller] * c.level[seller, month] * np.where(
        ring, 3.0, 1.0)
    amount = np.round(month_sales / np.repeat(reps, reps) * rng.exponential(1.0, n), 2)
    # Buyer: the anchor for suppliers in a chain; ring members invoice each other in circles.
    anchor = p["anchor_idx"][seller]
    # Firms sell to a few repeat customers, not to the whole province: each seller has four
    # buyer slots, fixed by hashing, that are either other parties or outside firms.
    slot = seller * BUYER_SLOTS + rng.integers(0, BUYER_SLOTS, n)
    other = hashing.integers(c.seed, "buyer", slot, p.n_parties)
    outsider = hashing.uniform(c.seed, "buyer-outside", slot) < 0.45
    buyer = np.where((anchor >= 0) & (rng.random(n) < 0.5), anchor, other)
    ring_peer = p["ring_id"][seller] * RING_BLOCK + 8 + rng.integers(0, 3, n)
    buyer = np.where(ring & (rng.random(n) < 0.7), ring_peer, buyer)
    outsider &= ~ring & (buyer != anchor)
    ub, inv = np.unique(buyer, return_inverse=True)
    bp = build(c.seed, ub, p.n_parties)
    b_uscc, b_name = bp["uscc"][inv], bp["name"][inv]
    ext_uscc, ext_name = outside_firms(c.seed, hashing.integers(c.seed, "outsider", slot,
                                                                OUTSIDERS))
    b_uscc = np.where(outsider | (b_uscc == ""), ext_uscc, b_uscc)
    b_name = np.where(outsider | (bp["uscc"][inv] == ""), ext_name, b_name)
    day = month_start(month) + rng.integers(0, 28, n).astype("timedelta64[D]")
    status = rng.choice(np.array(["正常", "作废", "红冲"]), n, p=[0.95, 0.03, 0.02])
    c.emit.raw("tax_invoices", arrow.table(
        invoice_no=record_keys("INV", c.number, n), seller_tax_id=p["uscc"][seller],
        seller_name=p["name"][seller], buyer_tax_id=b_uscc, buyer_name=b_name,
        issue_date=day, amount=amount, tax_amount=np.round(amount * 0.13, 2),
        status=status))
