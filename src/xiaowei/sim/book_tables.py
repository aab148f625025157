"""Writes the bank's own records of one chunk: applications, decisions, loans, repayments.

Money in the bank zone is integer fen (never float), as in the transactional store.
"""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt
from xiaowei.sim.behaviour import application_numbers
from xiaowei.sim.calendar import month_of
from xiaowei.sim.lending import CHANNELS, METHODS, PRODUCTS, Book
from xiaowei.sim.population import NEVER, person_identity
from xiaowei.sim.sizes import RING_BLOCK
from xiaowei.sim.sources.context import Chunk
from xiaowei.sim.staff import Staff


def fen(yuan: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(yuan, dtype=np.float64) * 100).astype(np.int64)


def write(c: Chunk, book: Book, staff: Staff) -> None:
    if not book.app:
        return
    p, rng, app = c.parties, c.rng("applications"), book.app
    pos = app["pos"]
    k = len(pos)
    app_no = application_numbers(c.number, app["app_no"])
    is_firm = p["ptype"][pos] < 2
    id_no, _ = dirt.corrupt_ids(p["id_number"][pos], rng, 0.008)
    uscc, _ = dirt.corrupt_ids(p["uscc"][pos], rng, 0.004)
    online = CHANNELS[app["channel"]] == "online"
    mgr = app["manager"]
    c.emit.bank("applications", arrow.table(
        application_no=app_no, applied_at=arrow.timestamps(app["day"], app["sec"]),
        channel=CHANNELS[app["channel"]], product_intent=PRODUCTS[app["product"]],
        amount_fen=fen(app["amount"]), term_months=app["term"],
        party_type=p["party_type"][pos], applicant_name=p["name"][pos],
        uscc=(dirt.fullwidth(uscc, rng, 0.02), ~is_firm), legal_rep_name=p["person_name"][pos],
        id_number=id_no, phone=(p["phone"][pos], dirt.pick(rng, k, 0.01)),
        address=p["address"][pos], industry_code=p["division"][pos],
        region_code=p["region_code"][pos], employees=p["employees"][pos],
        annual_revenue_fen=fen(p["revenue_wan"][pos] * 10_000 * np.where(
            p["ring_member"][pos], 3.0, 1.0) * rng.uniform(0.85, 1.15, k)),
        device_id=(p["device_id"][pos], ~online), manager_id=staff.manager_id[mgr],
        branch_id=staff.branch_id[staff.manager_branch[mgr]]))
    _guarantors(c, book, app_no, rng)
    approver = np.char.add("R", np.char.zfill(
        (staff.manager_branch[mgr] % max(2, len(staff.manager_id) // 10)).astype(str), 4))
    decision = np.where(app["pending"], "pending", np.where(app["approve"], "approve",
                                                            "reject"))
    decided_at = arrow.timestamps(app["decided"], rng.integers(9 * 3600, 18 * 3600, k))
    c.emit.bank("decisions", arrow.table(
        application_no=app_no, decision=decision,
        decided_at=(decided_at, app["pending"]), decided_by=(approver, app["pending"]),
        approved_amount_fen=(fen(app["approved_amount"]), ~app["approve"]),
        annual_rate=(app["rate"], ~app["approve"]),
        reason=np.where(app["approve"], "经审批同意", np.where(app["pending"], "",
                                                            "综合评估风险较高"))))
    bad_12m = p["default_m"][pos] < month_of(app["day"]) + 12
    fraud = p["ring_member"][pos]
    c.emit.truth("applications", arrow.table(
        application_no=app_no, party_idx=p["idx"][pos], is_fraud=fraud,
        colluding_manager=fraud & (staff.behaviour[mgr] == "colluding"),
        default_month=np.where(p["default_m"][pos] >= NEVER, -1, p["default_m"][pos]),
        default_within_12m=bad_12m))
    lo = book.loan
    if not lo or len(lo["pos"]) == 0:
        return
    loan_no = np.char.replace(application_numbers(c.number, lo["app_no"]), "AP", "LN")
    c.emit.bank("loans", arrow.table(
        loan_no=loan_no, application_no=application_numbers(c.number, lo["app_no"]),
        principal_fen=fen(lo["principal"]), annual_rate=lo["rate"], term_months=lo["term"],
        start_date=lo["start"], maturity_date=lo["maturity"],
        repayment_method=METHODS[lo["method"]]))
    pay = book.pay
    c.emit.bank("repayments", arrow.table(
        loan_no=loan_no[pay["loan"]], period=pay["period"], due_date=pay["due"],
        principal_due_fen=fen(pay["principal_due"]), interest_due_fen=fen(pay["interest_due"]),
        paid_on=(pay["paid_on"], ~pay["paid"]), paid_amount_fen=fen(pay["paid_amount"])))


def _guarantors(c: Chunk, book: Book, app_no: np.ndarray, rng: np.random.Generator) -> None:
    p, app = c.parties, book.app
    pos = app["pos"]
    k = len(pos)
    wants = (PRODUCTS[app["product"]] == "guaranteed") | (rng.random(k) < 0.25)
    ring = p["ring_member"][pos]
    spouse = wants & p["has_spouse"][pos] & (rng.random(k) < 0.6)
    third = wants & ~spouse
    person = np.where(spouse, p["spouse_person"][pos], rng.integers(0, p.n_parties, k))
    # Ring members guarantee each other: the leader's key person stands behind them.
    leader = p["ring_id"][pos] * RING_BLOCK + 8
    person = np.where(ring & wants, leader, person)
    sel = np.flatnonzero(spouse | third | (ring & wants))
    if len(sel) == 0:
        return
    who = person_identity(c.seed, person[sel])
    c.emit.bank("application_guarantors", arrow.table(
        application_no=app_no[sel], guarantor_name=who["name"], guarantor_id=who["id_number"],
        guarantor_phone=who["phone"],
        relation=np.where(spouse[sel], "配偶", np.where(ring[sel], "关联方", "第三方自然人"))))
