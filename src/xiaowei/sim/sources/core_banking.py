"""Core banking (核心系统): customers, accounts and monthly account flows at this bank."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt, hashing
from xiaowei.sim.activity import monthly_revenue_yuan
from xiaowei.sim.calendar import HISTORY_MONTHS, month_label, month_of
from xiaowei.sim.lending import Book
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk


def customers_accounts_flows(c: Chunk, book: Book) -> None:
    p, rng = c.parties, c.rng("core")
    n = len(p)
    # Settlement customers of the bank, plus every borrower (an account opens with the loan).
    settle = hashing.uniform(c.seed, "bank-customer", p["idx"]) < 0.45
    first_loan = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if book.loan:
        order = np.argsort(book.loan["start"])
        pos, first = np.unique(book.loan["pos"][order], return_index=True)
        first_loan[pos] = book.loan["start"][order][first]
    borrower = ~np.isnat(first_loan)
    cust = np.flatnonzero(settle | borrower)
    if len(cust) == 0:
        return
    k = len(cust)
    opened_early = np.datetime64("2023-01-01") - rng.integers(0, 3000, k).astype(
        "timedelta64[D]")
    opened = np.where(settle[cust], opened_early, first_loan[cust] - 3)
    is_firm = p["ptype"][cust] < 2
    cust_no = np.char.add("C", np.char.zfill((p["idx"][cust] * 13 + 100_003).astype(str), 11))
    id_no, _ = dirt.corrupt_ids(np.where(is_firm, p["uscc"][cust], p["id_number"][cust]),
                                     rng, 0.005)
    keys = record_keys("CUS", c.number, k)
    c.emit.raw("core_customers", arrow.table(
        record_id=keys, cust_no=cust_no, name=np.where(is_firm, p["name"][cust],
                                                       p["person_name"][cust]),
        id_type=np.where(is_firm, "统一社会信用代码", "居民身份证"),
        id_no=dirt.fullwidth(id_no, rng, 0.02), phone=(p["phone"][cust], dirt.pick(rng, k, 0.08)),
        address=(p["address"][cust], dirt.pick(rng, k, dirt.RATES["missing"])),
        opened_at=opened))
    c.emit.link("core_customers", keys, p["idx"][cust])
    # Accounts: one settlement account each, a second one for some firms.
    two = is_firm & (rng.random(k) < 0.25)
    ai = np.concatenate([np.arange(k), np.flatnonzero(two)])
    acct_no = np.char.add("62300", np.char.zfill(
        (p["idx"][cust][ai] * 2 + (np.arange(len(ai)) >= k)).astype(str), 11))
    acct_type = np.where(is_firm[ai], np.where(np.arange(len(ai)) < k, "基本存款账户",
                                               "一般存款账户"), "个人结算账户")
    c.emit.raw("core_accounts", arrow.table(
        account_no=acct_no, cust_no=cust_no[ai], account_type=acct_type,
        opened_at=opened[ai], status=np.full(len(ai), "正常")))
    # Monthly flows: a share of the business runs through this bank.
    owner = cust[ai]
    through = rng.uniform(0.2, 0.8, len(ai)) * np.where(np.arange(len(ai)) < k, 1.0, 0.35)
    start_m = np.maximum(month_of(opened[ai]), 0)
    lvl = c.level[owner]
    months = np.arange(HISTORY_MONTHS)[None, :]
    ring = p["ring_member"][owner]
    inflow = (monthly_revenue_yuan(p)[owner] * through)[:, None] * lvl
    inflow = np.where(ring[:, None], inflow * 4.0, inflow)  # money round-trips through shells
    present = (months >= start_m[:, None]) & (lvl > 0)
    r, m = np.nonzero(present)
    v = np.round(inflow[r, m] * np.exp(0.15 * rng.standard_normal(len(r))), 2)
    out_ratio = np.where(ring[r], rng.uniform(0.97, 1.01, len(r)), rng.uniform(0.85, 1.05,
                                                                               len(r)))
    c.emit.raw("core_flows", arrow.table(
        account_no=acct_no[r], period=month_label(m), inflow=v,
        outflow=np.round(v * out_ratio, 2),
        txn_count=rng.poisson(np.clip(v / 15_000.0, 1, 400) + np.where(ring[r], 30, 0)),
        end_balance=np.round(v * rng.uniform(0.05, 0.6, len(r)), 2)))
