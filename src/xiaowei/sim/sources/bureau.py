"""Credit bureau (人行征信) reports: one at each application, then monthly for borrowers."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt
from xiaowei.sim.calendar import SIM_END, month_of, month_start
from xiaowei.sim.lending import Book
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk

LENDERS = np.array(["某国有大行", "某股份制银行", "某城商行", "某农商行", "某村镇银行",
                    "某消费金融公司", "某小贷公司"])


def reports(c: Chunk, book: Book) -> None:
    p, rng = c.parties, c.rng("bureau")
    if not book.app:
        return
    # Pre-loan: at each application. Post-loan: monthly while a loan runs (to the sim's end).
    a_pos, a_day = book.app["pos"], book.app["day"]
    parts_pos, parts_day, parts_reason = [a_pos], [a_day], [np.full(len(a_pos), "贷前审批")]
    if book.loan:
        lo = book.loan
        end = np.minimum(lo["maturity"], SIM_END)
        months = np.maximum(0, month_of(end) - month_of(lo["start"]))
        li = np.repeat(np.arange(len(months)), months)
        k = np.concatenate([np.arange(1, x + 1) for x in months]) if len(li) else li
        parts_pos.append(lo["pos"][li])
        parts_day.append(month_start(month_of(lo["start"][li]) + k) + 4)
        parts_reason.append(np.full(len(li), "贷后管理"))
    pos = np.concatenate(parts_pos)
    day = np.concatenate(parts_day).astype("datetime64[D]")
    reason = np.concatenate(parts_reason)
    n = len(pos)
    m = month_of(day)
    q, lev = p["quality"][pos], p["leverage"][pos]
    distressed = (m >= p["signal_m"][pos]) & (m < p["recovery_m"][pos])
    defaulted = m >= p["default_m"][pos]
    ring = p["ring_member"][pos]
    n_loans = np.minimum(8, rng.poisson(np.exp(lev + 1.2) * 1.1))
    n_loans = np.where(ring, rng.integers(0, 2, n), n_loans)
    balance = np.where(n_loans > 0, p["revenue_wan"][pos] * 10_000 * np.exp(lev)
                       * rng.uniform(0.7, 1.3, n), 0.0)
    overdue_now = np.where(defaulted, 1 + rng.integers(0, 2, n), np.where(
        distressed & (rng.random(n) < 0.35), 1, (rng.random(n) < 0.005).astype(int)))
    overdue_now = np.where(defaulted, overdue_now, np.minimum(overdue_now, n_loans))
    hist_p = 1.0 / (1.0 + np.exp(2.6 + 1.1 * q))
    worst = np.where(rng.random(n) < hist_p, 1 + rng.integers(0, 3, n), 0)
    worst = np.maximum(worst, np.where(overdue_now > 0, 1 + rng.integers(0, 4, n), 0))
    inquiries = rng.poisson(0.6 + 2.2 * distressed + 3.0 * ring)
    keys = record_keys("CRD", c.number, n)
    subject = np.where(p["ptype"][pos] < 2, p["uscc"][pos], p["id_number"][pos])
    name = np.where(p["ptype"][pos] < 2, p["name"][pos], p["person_name"][pos])
    c.emit.raw("bureau_reports", arrow.table(
        report_id=keys, subject_id=subject, subject_name=name, query_date=day,
        query_reason=reason, other_bank_loans=n_loans, other_bank_balance=np.round(balance, -2),
        overdue_accounts_now=overdue_now, worst_overdue_months_24m=worst,
        hard_inquiries_3m=inquiries,
        guarantees_given=(np.round(balance * rng.uniform(0, 0.5, n), -2),
                          dirt.pick(rng, n, 0.3))))
    c.emit.link("bureau_reports", keys, p["idx"][pos])
    # Loan-level detail for the pre-loan reports only (what an approver reads).
    pre = np.flatnonzero(reason == "贷前审批")
    cnt = n_loans[pre]
    ri = np.repeat(pre, cnt)
    if len(ri) == 0:
        return
    share = rng.uniform(0.2, 1.0, len(ri))  # balance ÷ original amount
    status = np.where(np.repeat(overdue_now[pre] > 0, cnt) & (rng.random(len(ri)) < 0.6),
                      "逾期", "正常")
    opened = day[ri] - rng.integers(30, 1500, len(ri)).astype("timedelta64[D]")
    c.emit.raw("bureau_loans", arrow.table(
        report_id=keys[ri], lender=LENDERS[rng.integers(0, len(LENDERS), len(ri))],
        opened=opened, amount=np.round(balance[ri] / np.maximum(n_loans[ri], 1) / share, -2),
        balance=np.round(balance[ri] / np.maximum(n_loans[ri], 1), -2), status=status,
        overdue_days=np.where(status == "逾期", rng.integers(1, 120, len(ri)), 0)))
