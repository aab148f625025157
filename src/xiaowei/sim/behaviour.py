"""Managers at work: due-diligence visits, uniform post-loan inspections, app operations.

The traditional process visits every applicant once and every borrower each quarter. Honest
managers check in at the business address; careless ones sometimes check in from the office;
colluders fake visits to their rings' shells and edit details just before disbursement.

`audit_log` adds the mobile app's and the loan system's audit trail (exports, late views,
visit-record entries, contact changes) from streams of its own, so that the check-ins and
operations above keep every value they had before it existed (docs/simulator.md, "Managers'
behaviour for the behaviour analytics").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.sim import arrow
from xiaowei.sim.calendar import (
    APPLICATION_FIRST_MONTH,
    HISTORY_MONTHS,
    SIM_END,
    add_months,
    month_end,
    month_of,
    month_start,
)
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


@dataclass(frozen=True)
class Visits:
    """The check-ins of one chunk and where the manager really was (truth kept in memory
    for the tables that follow from it: the app's path points and visit-record entries)."""

    checkin_id: np.ndarray
    manager: np.ndarray  # manager index
    pos: np.ndarray  # party position in the chunk
    day: np.ndarray
    sec: np.ndarray  # check-in second of the day
    went: np.ndarray  # the manager was really at the business address
    fake: np.ndarray  # a colluder's visit to one of the rings' shells
    ref: np.ndarray  # application number (within the chunk) the visit is about
    lat: np.ndarray  # where the check-in said the manager was
    lon: np.ndarray


def visits_and_checkins(c: Chunk, book: Book, staff: Staff) -> Visits | None:
    p, rng = c.parties, c.rng("behaviour")
    if not book.app:
        return None
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
    checkin_id = record_keys("CHK", c.number, n)
    c.emit.bank("manager_checkins", arrow.table(
        checkin_id=checkin_id, manager_id=staff.manager_id[mgr],
        checked_at=arrow.timestamps(v["day"], sec),
        lat=np.round(lat, 6), lon=np.round(lon, 6),
        accuracy_m=np.round(rng.uniform(5, 60, n), 1), mock_location=mock,
        device_id=np.char.add("MD", staff.manager_id[mgr]), purpose=v["kind"],
        application_no=application_numbers(c.number, v["ref"])))
    return Visits(checkin_id, mgr, pos, v["day"], sec, went, fake, v["ref"],
                  np.round(lat, 6), np.round(lon, 6))


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


# The audit trail's behaviour model (docs/simulator.md, "Managers' behaviour for the behaviour
# analytics"), per behaviour: honest, careless, colluding. Fixed before any signal was tuned.
AUDIT_RATES: dict[str, tuple[float, float, float]] = {
    "exports_per_month": (1.0, 1.0, 1.0),  # customer-list exports (Poisson)
    "bulk_export_share": (0.04, 0.06, 0.04),  # of those: a branch-wide list, 500–3,000 rows
    "extra_bulk_per_month": (0.0, 0.0, 0.5),  # colluders also pull big lists, 600–5,000 rows
    "late_views_per_application": (0.05, 0.08, 0.05),  # views after 21:00
    "late_views_at_month_end": (0.7, 0.5, 0.5),  # share of those in the month's last 3 days
    "ring_late_views_per_application": (0.0, 0.0, 0.6),  # on their rings' applications
    "outside_views_per_application": (0.06, 0.06, 0.30),  # of others' customers, per own one
    "outside_other_branch": (0.2, 0.3, 0.6),  # share of those outside the own branch
    "entry_late_1_2_days": (0.08, 0.15, 0.08),  # visit record entered 1–2 days after
    "entry_late_3_14_days": (0.02, 0.10, 0.02),  # entered 3–14 days after (back-dated)
    "fake_entry_late_3_20_days": (0.0, 0.0, 0.40),  # a faked visit, written up later
    "contact_change_per_loan": (0.015, 0.015, 0.015),  # phone/account/address changed
}
BEHAVIOUR_INDEX = {"honest": 0, "careless": 1, "colluding": 2}
NIGHT = (21 * 3600, 24 * 3600 - 1)
WORKDAY = (9 * 3600, 18 * 3600)


def _rate(name: str, behaviour: np.ndarray) -> np.ndarray:
    index = np.array([BEHAVIOUR_INDEX[b] for b in behaviour], dtype=np.int64)
    return np.asarray(AUDIT_RATES[name])[index] if len(index) else np.zeros(0)


def audit_log(c: Chunk, book: Book, visits: Visits | None, staff: Staff) -> None:
    """`bank/manager_audit_log`: exports, late and outside-portfolio views, visit-record
    entries (with the date they state) and contact changes before disbursement."""
    rng = c.rng("manager_audit_log")
    parts = [_exports(c, staff)] if c.number == 0 else []
    if book.app:
        parts += [_late_views(c, book, staff, rng), _outside_views(book, staff, rng),
                  _contact_changes(c, book, rng)]
    if visits is not None:
        parts.append(_entries(visits, staff, rng))
    parts = [x for x in parts if len(x["manager"])]
    if not parts:
        return
    cols = {key: np.concatenate([x[key] for x in parts]) for key in parts[0]}
    keep = cols["day"] <= SIM_END
    cols = {key: val[keep] for key, val in cols.items()}
    n = len(cols["manager"])
    c.emit.bank("manager_audit_log", arrow.table(
        event_id=record_keys("AUD", c.number, n), manager_id=staff.manager_id[cols["manager"]],
        operated_at=arrow.timestamps(cols["day"], cols["sec"]), action=cols["action"],
        object_type=cols["object_type"],
        object_id=(np.where(cols["app"] >= 0, application_numbers(
            c.number, np.maximum(cols["app"], 0)), cols["object_id"]),
            (cols["app"] < 0) & (cols["object_id"] == "-")),
        field=cols["field"], row_count=(cols["rows"], cols["rows"] < 0),
        stated_date=(cols["stated"], np.isnat(cols["stated"]))))


def _events(manager: np.ndarray, day: np.ndarray, sec: np.ndarray, action: str,
            object_type: str, app: np.ndarray | None = None, object_id: str = "-",
            field: np.ndarray | str = "", rows: np.ndarray | None = None,
            stated: np.ndarray | None = None) -> dict[str, np.ndarray]:
    n = len(manager)
    return {"manager": np.asarray(manager, dtype=np.int64),
            "day": np.asarray(day, dtype="datetime64[D]"), "sec": np.asarray(sec, np.int64),
            "action": np.full(n, action), "object_type": np.full(n, object_type),
            "app": np.full(n, -1) if app is None else np.asarray(app, dtype=np.int64),
            "object_id": np.full(n, object_id, dtype=object).astype(str),
            "field": np.broadcast_to(np.asarray(field), (n,)).astype(str),
            "rows": np.full(n, -1) if rows is None else np.asarray(rows, dtype=np.int64),
            "stated": (np.full(n, np.datetime64("NaT"), dtype="datetime64[D]") if stated is None
                       else np.asarray(stated, dtype="datetime64[D]"))}


def _exports(c: Chunk, staff: Staff) -> dict[str, np.ndarray]:
    """Customer-list exports, per manager and month (written once, with the first chunk)."""
    rng = c.rng("manager_exports")
    nm = len(staff.manager_id)
    months = np.arange(APPLICATION_FIRST_MONTH, HISTORY_MONTHS)
    mi = np.repeat(np.arange(nm), len(months))
    mo = np.tile(months, nm)
    b = staff.behaviour[mi]
    count = rng.poisson(_rate("exports_per_month", b))
    extra = rng.poisson(_rate("extra_bulk_per_month", b))
    ei = np.repeat(np.arange(len(mi)), count)
    xi = np.repeat(np.arange(len(mi)), extra)
    bulk = rng.random(len(ei)) < _rate("bulk_export_share", b[ei])
    rows = np.where(bulk, rng.integers(500, 3001, len(ei)),
                    np.clip(np.round(np.exp(rng.normal(np.log(80), 0.6, len(ei)))), 5, 450))
    last_day = month_end(mo[ei])
    day = np.where(bulk, last_day - rng.integers(0, 3, len(ei)).astype("timedelta64[D]"),
                   month_start(mo[ei]) + rng.integers(0, 28, len(ei)).astype("timedelta64[D]"))
    xday = month_start(mo[xi]) + rng.integers(0, 28, len(xi)).astype("timedelta64[D]")
    xsec = np.where(rng.random(len(xi)) < 0.5, rng.integers(*NIGHT, len(xi)),
                    rng.integers(*WORKDAY, len(xi)))
    return _events(np.concatenate([mi[ei], mi[xi]]), np.concatenate([day, xday]),
                   np.concatenate([rng.integers(*WORKDAY, len(ei)), xsec]), "export",
                   "customer_list", object_id="customer_list",
                   rows=np.concatenate([rows, rng.integers(600, 5001, len(xi))]))


def _late_views(c: Chunk, book: Book, staff: Staff, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
    """Views of one's own applications after 21:00: month-end overtime, and colluders'
    evenings on their rings' files."""
    app = book.app
    b = staff.behaviour[app["manager"]]
    ring = c.parties["ring_member"][app["pos"]] & (b == "colluding")
    count = rng.poisson(_rate("late_views_per_application", b)
                        + np.where(ring, _rate("ring_late_views_per_application", b), 0.0))
    ai = np.repeat(np.arange(len(b)), count)
    span = np.maximum((app["decided"] - app["day"]).astype(np.int64), 1)
    day = app["day"][ai] + (rng.random(len(ai)) * span[ai]).astype("timedelta64[D]")
    close = month_end(month_of(app["day"][ai])) - rng.integers(0, 3, len(ai)).astype(
        "timedelta64[D]")
    at_close = ~ring[ai] & (rng.random(len(ai)) < _rate("late_views_at_month_end", b[ai]))
    day = np.where(at_close, np.maximum(close, app["day"][ai]), day)
    return _events(app["manager"][ai], day, rng.integers(*NIGHT, len(ai)), "view",
                   "application", app=app["app_no"][ai])


def _outside_views(book: Book, staff: Staff, rng: np.random.Generator
                   ) -> dict[str, np.ndarray]:
    """Views of other managers' applications: colleagues covering (same branch) and curiosity
    (or selling leads) further afield."""
    app = book.app
    managers, own = np.unique(app["manager"], return_counts=True)
    count = rng.poisson(_rate("outside_views_per_application", staff.behaviour[managers]) * own)
    viewer = np.repeat(managers, count)
    far = rng.random(len(viewer)) < _rate("outside_other_branch", staff.behaviour[viewer])
    branch_of_app = staff.manager_branch[app["manager"]]
    target = np.empty(len(viewer), dtype=np.int64)
    keep = np.ones(len(viewer), dtype=bool)
    for i, (m, f) in enumerate(zip(viewer, far, strict=True)):
        same = branch_of_app == staff.manager_branch[m]
        pool = np.flatnonzero((app["manager"] != m) & (~same if f else same))
        if len(pool) == 0:
            pool = np.flatnonzero(app["manager"] != m)
        if len(pool) == 0:
            keep[i] = False
            continue
        target[i] = pool[rng.integers(0, len(pool))]
    viewer, target = viewer[keep], target[keep]
    day = app["day"][target] + rng.integers(0, 31, len(target)).astype("timedelta64[D]")
    return _events(viewer, day, rng.integers(*WORKDAY, len(viewer)), "view", "application",
                   app=app["app_no"][target])


def _contact_changes(c: Chunk, book: Book, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Customers do change phones and accounts: an honest edit between application and
    disbursement, at the same small rate whoever the manager is."""
    lo, app = book.loan, book.app
    if not lo or len(lo["pos"]) == 0:
        return _events(np.zeros(0), np.zeros(0), np.zeros(0), "edit", "application")
    row = np.searchsorted(app["app_no"], lo["app_no"])
    mgr = app["manager"][row]
    span = (lo["start"] - app["day"][row]).astype(np.int64) - 1
    hit = (rng.random(len(row)) < AUDIT_RATES["contact_change_per_loan"][0]) & (span >= 1)
    i = np.flatnonzero(hit)
    day = app["day"][row][i] + (1 + (rng.random(len(i)) * span[i]).astype(np.int64)
                                ).astype("timedelta64[D]")
    field = rng.choice(np.array(["phone", "account_no", "address"]), len(i))
    return _events(mgr[i], day, rng.integers(*WORKDAY, len(i)), "edit", "application",
                   app=lo["app_no"][i], field=field)


def _entries(v: Visits, staff: Staff, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One visit-record entry per check-in, stating the visit's date; most are typed in the
    same day, some later, and a faked visit is often written up well after the fact."""
    n = len(v.pos)
    b = staff.behaviour[v.manager]
    faked = v.fake & ~v.went
    r = rng.random(n)
    p3 = np.where(faked, _rate("fake_entry_late_3_20_days", b), _rate("entry_late_3_14_days", b))
    p1 = _rate("entry_late_1_2_days", b)
    lag = np.where(r < p3, np.where(faked, rng.integers(3, 21, n), rng.integers(3, 15, n)),
                   np.where(r < p3 + p1, rng.integers(1, 3, n), 0))
    same_day_sec = np.minimum(v.sec + rng.integers(600, 4 * 3600, n), 24 * 3600 - 1)
    sec = np.where(lag == 0, same_day_sec, rng.integers(*WORKDAY, n))
    return _events(v.manager, v.day + lag.astype("timedelta64[D]"), sec, "entry",
                   "visit_record", app=v.ref, stated=v.day)
