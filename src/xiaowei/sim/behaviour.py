"""Managers at work: due-diligence visits, uniform post-loan inspections, app operations.

The traditional process visits every applicant once and every borrower each quarter. Honest
managers check in at the business address; careless ones sometimes check in from the office;
colluders fake visits to their rings' shells and edit details just before disbursement.
"""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow
from xiaowei.sim.calendar import SIM_END, add_months, month_of
from xiaowei.sim.lending import Book
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk
from xiaowei.sim.staff import Staff
from xiaowei.sim.vocab import VISIT_NOTES_BAD, VISIT_NOTES_GOOD

INSPECTION_MONTHS = 3


def _visits(book: Book, rng: np.random.Generator) -> dict[str, np.ndarray]:
    app = book.app
    dd_day = app["day"] + rng.integers(1, 6, len(app["pos"])).astype("timedelta64[D]")
    parts = {"pos": [app["pos"]], "day": [dd_day], "manager": [app["manager"]],
             "kind": [np.full(len(dd_day), "贷前调查")], "ref": [app["app_no"]]}
    if book.loan:
        lo = book.loan
        end = np.minimum(lo["maturity"], SIM_END)
        count = np.maximum(0, (month_of(end) - month_of(lo["start"])) // INSPECTION_MONTHS)
        li = np.repeat(np.arange(len(count)), count)
        if len(li):
            k = np.concatenate([np.arange(1, x + 1) for x in count]) * INSPECTION_MONTHS
            manager_of_loan = dict(zip(app["app_no"], app["manager"], strict=True))
            parts["pos"].append(lo["pos"][li])
            parts["day"].append(add_months(lo["start"][li], k))
            parts["manager"].append(np.array([manager_of_loan[a] for a in lo["app_no"][li]]))
            parts["kind"].append(np.full(len(li), "贷后检查"))
            parts["ref"].append(lo["app_no"][li])
    return {key: np.concatenate(v) for key, v in parts.items()}


def visits_and_checkins(c: Chunk, book: Book, staff: Staff) -> None:
    p, rng = c.parties, c.rng("behaviour")
    if not book.app:
        return
    v = _visits(book, rng)
    v = {key: val[v["day"] <= SIM_END] for key, val in v.items()}
    n = len(v["pos"])
    pos, mgr = v["pos"], v["manager"]
    behaviour = staff.behaviour[mgr]
    ring = p["ring_member"][pos]
    m = month_of(v["day"])
    troubled = (m >= p["signal_m"][pos]) & (m < p["recovery_m"][pos])
    went = np.where(behaviour == "careless", rng.random(n) > 0.3, True)
    fake = (behaviour == "colluding") & ring
    went &= ~(fake & (rng.random(n) < 0.6))
    branch = staff.manager_branch[mgr]
    lat = np.where(went, p["lat"][pos], staff.branch_lat[branch]) + rng.normal(0, 0.0003, n)
    lon = np.where(went, p["lon"][pos], staff.branch_lon[branch]) + rng.normal(0, 0.0003, n)
    mock = np.where(fake, rng.random(n) < 0.3, rng.random(n) < 0.002)
    # A faked visit reuses the same coordinates again and again.
    lat = np.where(fake & mock, np.round(p["lat"][pos], 3), lat)
    lon = np.where(fake & mock, np.round(p["lon"][pos], 3), lon)
    good = np.array(VISIT_NOTES_GOOD)[rng.integers(0, len(VISIT_NOTES_GOOD), n)]
    bad = np.array(VISIT_NOTES_BAD)[rng.integers(0, len(VISIT_NOTES_BAD), n)]
    honest_eye = went & ~fake & (rng.random(n) < 0.7)
    notes = np.where(troubled & honest_eye, bad, good)
    sec = rng.integers(9 * 3600, 17 * 3600, n)
    keys = record_keys("VIS", c.number, n)
    subject = np.where(p["ptype"][pos] < 2, p["name"][pos], p["person_name"][pos])
    c.emit.raw("field_visits", arrow.table(
        record_id=keys, manager_id=staff.manager_id[mgr], subject_name=subject,
        visit_date=v["day"], visit_kind=v["kind"], notes=notes,
        employees_seen=np.where(went, np.maximum(0, np.round(p["employees"][pos]
                                                            * rng.uniform(0.5, 1.1, n))), -1)))
    c.emit.link("field_visits", keys, p["idx"][pos])
    c.emit.bank("manager_checkins", arrow.table(
        checkin_id=record_keys("CHK", c.number, n), manager_id=staff.manager_id[mgr],
        checked_at=arrow.timestamps(v["day"], sec),
        lat=np.round(lat, 6), lon=np.round(lon, 6),
        accuracy_m=np.round(rng.uniform(5, 60, n), 1), mock_location=mock,
        device_id=np.char.add("MD", staff.manager_id[mgr]), purpose=v["kind"],
        application_no=application_numbers(c.number, v["ref"])))


def operations(c: Chunk, book: Book, staff: Staff) -> None:
    """App operations per application: views, edits, a submission; colluders edit late."""
    p, rng = c.parties, c.rng("operations")
    if not book.app:
        return
    app = book.app
    k = len(app["pos"])
    views = 1 + rng.poisson(2, k)
    ai = np.repeat(np.arange(k), views + 2)
    step = np.concatenate([np.arange(x + 2) for x in views])
    last = np.repeat(views + 1, views + 2)
    action = np.where(step == 0, "create", np.where(step == last, "submit", "view"))
    action = np.where((step == 1) & (rng.random(len(ai)) < 0.5), "edit", action)
    mgr = app["manager"][ai]
    ring = p["ring_member"][app["pos"][ai]]
    colluder = staff.behaviour[mgr] == "colluding"
    day = app["day"][ai] + step.astype("timedelta64[D]") // 2
    sec = rng.integers(8 * 3600, 19 * 3600, len(ai))
    after_hours = colluder & ring & (rng.random(len(ai)) < 0.4)
    sec = np.where(after_hours, rng.integers(21 * 3600, 24 * 3600, len(ai)), sec)
    field = np.where(action == "edit", rng.choice(np.array(["amount", "address", "phone",
                                                            "industry"]), len(ai)), "")
    # A colluder changes the contact phone or account shortly before disbursement.
    late_edit = (action == "submit") & colluder & ring & (rng.random(len(ai)) < 0.6)
    action = np.where(late_edit, "edit", action)
    field = np.where(late_edit, rng.choice(np.array(["phone", "account_no"]), len(ai)), field)
    c.emit.bank("manager_operations", arrow.table(
        operation_id=record_keys("OPS", c.number, len(ai)), manager_id=staff.manager_id[mgr],
        operated_at=arrow.timestamps(day, sec),
        action=action, object_type=np.full(len(ai), "application"),
        object_id=application_numbers(c.number, app["app_no"][ai]), field=field))


def application_numbers(chunk: int, app_no: np.ndarray) -> np.ndarray:
    return np.char.add(f"AP{chunk:05d}", np.char.zfill(np.asarray(app_no).astype(str), 6))
