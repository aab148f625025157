"""Customer operations as work: offers, renewal calls and visits on the manager's task list,
their outcomes recorded, and the campaign measured.

Why tasks in the work queue (as :mod:`xiaowei.postloan.warning_tasks`): an offer or a renewal
call is done by a person — the customer's manager — who may be busy, hand it on or close it
with what the customer said; the queue keeps who held it, when, and an audited trail. Each task
is held by the manager of the customer's loans (the originating manager, when still on the
books); a customer the transactional store does not hold is reported, not invented.

Idempotent ids: an offer is one per customer, product and month
(``OF<yymm>-<party>-<product code>``), a renewal action one per loan and maturity
(``RN-<loan>-<yymm of maturity>``), so opening the same day or month again opens nothing new,
and a renewal already in hand when the next month-end runs is not opened twice.

Bad input never reaches the queue: every offer is checked against the day's decisions first
(:meth:`~xiaowei.customers.offers.OfferBook.check`) — a product the customer is not eligible
for, an unknown customer or a book older than :data:`~xiaowei.customers.offers.MAX_TAG_AGE_DAYS`
refuses the whole batch with reasons, nothing stored.

Outcomes (:data:`OUTCOMES`: accepted, declined, no_answer) close the task with the result;
:func:`campaign_results` measures conversion by product and by maintenance grade (when the
grades table ``customers.customer_day`` exists) and retention by action (recorded, and observed:
the borrower took a new loan by maturity + 60 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaowei.customers.offer_rules import PRODUCTS, RETENTION_ACTIONS
from xiaowei.customers.offers import MAX_TAG_AGE_DAYS, OfferBook, OfferRefused, StaleTags
from xiaowei.customers.renewal import RenewalRun
from xiaowei.engine.workflow import NewTask, QueueRules, TaskView, WorkQueue
from xiaowei.entities.task import TaskKind
from xiaowei.postloan.warning_tasks import loan_owners
from xiaowei.store.database import transaction
from xiaowei.store.tables import Party, Task

QUEUE = "customer_operations"
SYSTEM = "system:customers"
OFFER_KIND = "offer"
RENEWAL_CALL_KIND = "renewal_call"
KIND_OF_ACTION = {"preapproved_renewal": RENEWAL_CALL_KIND, "reminder_call": RENEWAL_CALL_KIND,
                  "manager_visit": str(TaskKind.MAINTENANCE_VISIT)}
OUTCOMES = ("accepted", "declined", "no_answer")
PRODUCT_CODE = {"payroll_service": "PY", "wealth_management": "WM", "invoice_credit": "IC",
                "supply_chain_finance": "SF", "cash_management": "CM"}
OFFER_DAYS = 14
"""Working time a manager has to present an offer (calendar days)."""
RENEWAL_LEAD_DAYS = 15
"""A renewal action is due this many days before maturity (at least 3 days from opening)."""


def operations_queue(engine: Engine) -> WorkQueue:
    """The customer-operations queue: no checker (no money moves on an offer or a call)."""
    return WorkQueue(engine, [QueueRules(QUEUE)])


@dataclass(frozen=True)
class Opened:
    """Tasks opened (or found already open) and customers the store does not hold."""

    tasks: tuple[TaskView, ...]
    skipped: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"opened": len(self.tasks), "task_ids": [t.task_id for t in self.tasks],
                "skipped_not_in_store": list(self.skipped)}


def customer_owners(session: Session, con: duckdb.DuckDBPyConnection,
                    parties: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """governed party → (the store's customer id, its manager): through the party's loans
    (the originating manager), else through its USCC (no manager)."""
    if not parties:
        return {}
    loans = con.execute("SELECT party_id, loan_id FROM gov.loan WHERE party_id IN "
                        "(SELECT unnest($p)) ORDER BY party_id, start_date DESC",
                        {"p": list(parties)}).fetchall()
    owners = loan_owners(session, [loan for _, loan in loans])
    found: dict[str, tuple[str, str | None]] = {}
    for party, loan in loans:
        if loan in owners and (party not in found or found[party][1] is None):
            found[party] = owners[loan]
    rest = [p for p in parties if p not in found]
    if rest:
        usccs = dict(con.execute("SELECT value, party_id FROM gov.party_key WHERE kind = "
                                 "'uscc' AND party_id IN (SELECT unnest($p))",
                                 {"p": rest}).fetchall())
        if usccs:
            rows = session.execute(select(Party.uscc, Party.party_id).where(
                Party.uscc.in_(list(usccs)))).all()
            for uscc, store_party in rows:
                found.setdefault(usccs[uscc], (store_party, None))
    return found


def _noon(day: dt.date, days: int = 0) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(4, 0), tzinfo=dt.UTC)


def check_offers(book: OfferBook, picks: Iterable[tuple[str, str]], sent_on: dt.date,
                 max_age_days: int = MAX_TAG_AGE_DAYS) -> list[dict[str, Any]]:
    """Every pick as the book's offer; :class:`OfferRefused` (all refusals, with reasons)
    when any is not eligible, :class:`StaleTags` when the book is too old on ``sent_on``."""
    if sent_on < book.as_of or (sent_on - book.as_of).days > max_age_days:
        texts = book.texts["STALE_TAGS"]
        raise StaleTags(f"offers decided on {book.as_of} may not be sent on {sent_on} (at most "
                        f"{max_age_days} days later)",
                        [{"code": "STALE_TAGS", "zh": texts[0], "en": texts[1]}])
    checked, refused = [], []
    for party, product in picks:
        try:
            checked.append({"party": party, **book.check(party, product)})
        except OfferRefused as exc:
            refused.extend({**r, "party": party, "product": product} for r in exc.reasons)
    if refused:
        raise OfferRefused(f"{len({(r['party'], r['product']) for r in refused})} offer(s) "
                           "refused; nothing was stored", refused)
    return checked


def best_offers(book: OfferBook, limit: int | None = None) -> list[tuple[str, str]]:
    """Each customer's first-ranked offer, best score first (``limit``: the capacity)."""
    rows = [r for r in book.offers.to_pylist() if r["rank"] == 1]
    rows.sort(key=lambda r: (-r["score"], r["party_id"]))
    return [(r["party_id"], r["product"]) for r in rows[:limit]]


def open_offer_tasks(engine: Engine, con: duckdb.DuckDBPyConnection, book: OfferBook,
                     picks: Sequence[tuple[str, str]] | None = None, *,
                     sent_on: dt.date | None = None) -> Opened:
    """Open one offer task per pick (default: every customer's best offer) in one transaction,
    after checking every pick (see the module docstring)."""
    day = sent_on or book.as_of
    offers = check_offers(book, picks if picks is not None else best_offers(book), day)
    if not offers:
        return Opened((), ())
    queue = operations_queue(engine)
    opened: list[TaskView] = []
    skipped: list[str] = []
    with transaction(engine) as session:
        owners = customer_owners(session, con, [o["party"] for o in offers])
        for o in offers:
            if o["party"] not in owners:
                skipped.append(o["party"])
                continue
            store_party, manager = owners[o["party"]]
            task_id = f"OF{day:%y%m}-{o['party']}-{PRODUCT_CODE[o['product']]}"[:32]
            opened.append(queue.create_in(session, NewTask(
                kind=OFFER_KIND, queue=QUEUE, task_id=task_id, due_at=_noon(day, OFFER_DAYS),
                claimed_by=manager, links={"party_id": store_party, "assignee_id": manager},
                payload={"trigger": "offer", "customer": o["party"], "product": o["product"],
                         "product_zh": o["zh"], "product_en": o["en"],
                         "value_yuan": o["value_yuan"], "limit_yuan": o["limit_yuan"],
                         "propensity": o["propensity"], "score": o["score"],
                         "reasons": o["reasons"], "offered_on": day.isoformat(),
                         "decided_on": book.as_of.isoformat(),
                         "pack": f"{book.pack}@{book.pack_version}"}), SYSTEM))
    return Opened(tuple(opened), tuple(skipped))


MAINTENANCE_DAYS = 7
"""Calendar days a manager has to make a maintenance visit that fell due."""


def open_maintenance_tasks(engine: Engine, con: duckdb.DuckDBPyConnection,
                           as_of: dt.date) -> Opened:
    """A maintenance-visit task for each customer whose visit fell due on the customer
    batch's day (``customers.customer_day.visit_due``), held by the customer's manager, with
    the grade's service package. One task per customer and visit interval (the id carries the
    interval's number): a visit stays due every day until it is recorded, and the manager must
    get one task for it, not one a day."""
    rows = con.execute(
        "SELECT party_id, grade, lifecycle_stage, service_package, visit_every_days, "
        "manager_id FROM customers.customer_day WHERE as_of = ? AND visit_due "
        "ORDER BY grade, value_score DESC, party_id", [as_of]).fetchall()
    if not rows:
        return Opened((), ())
    queue = operations_queue(engine)
    opened: list[TaskView] = []
    skipped: list[str] = []
    with transaction(engine) as session:
        owners = customer_owners(session, con, [r[0] for r in rows])
        for party, grade, stage, package, every, manager_id in rows:
            if party not in owners:
                skipped.append(party)
                continue
            store_party, loan_manager = owners[party]
            manager = manager_id or loan_manager
            opened.append(queue.create_in(session, NewTask(
                kind=str(TaskKind.MAINTENANCE_VISIT), queue=QUEUE,
                task_id=f"MV{as_of.toordinal() // max(int(every or 1), 1)}-{party}"[:32],
                due_at=_noon(as_of, MAINTENANCE_DAYS),
                claimed_by=manager, links={"party_id": store_party, "assignee_id": manager},
                payload={"trigger": "maintenance", "customer": party, "grade": grade,
                         "stage": stage, "service_package": package,
                         "visit_every_days": every, "due_on": as_of.isoformat()}), SYSTEM))
    return Opened(tuple(opened), tuple(skipped))


def open_renewal_tasks(engine: Engine, con: duckdb.DuckDBPyConnection, run: RenewalRun,
                       loans: Sequence[str] | None = None) -> Opened:
    """Open the day's retention actions (every maturing loan with an action, or ``loans``):
    a renewal call (pre-approved renewal, reminder) or a maintenance visit."""
    rows = [r for r in run.table.to_pylist() if r["action"] in RETENTION_ACTIONS
            and (loans is None or r["loan_id"] in set(loans))]
    if not rows:
        return Opened((), ())
    queue = operations_queue(engine)
    opened: list[TaskView] = []
    skipped: list[str] = []
    with transaction(engine) as session:
        owners = loan_owners(session, [r["loan_id"] for r in rows])
        for r in rows:
            if r["loan_id"] not in owners:
                skipped.append(r["party_id"])
                continue
            store_party, manager = owners[r["loan_id"]]
            maturity: dt.date = r["maturity_date"]
            due = max(maturity - dt.timedelta(days=RENEWAL_LEAD_DAYS),
                      run.as_of + dt.timedelta(days=3))
            action = r["action"]
            opened.append(queue.create_in(session, NewTask(
                kind=KIND_OF_ACTION[action], queue=QUEUE,
                task_id=f"RN-{r['loan_id']}-{maturity:%y%m}"[:32], due_at=_noon(due),
                claimed_by=manager, links={"party_id": store_party, "assignee_id": manager},
                payload={"trigger": "renewal", "customer": r["party_id"], "action": action,
                         "action_zh": RETENTION_ACTIONS[action][0], "loan_id": r["loan_id"],
                         "maturity_date": maturity.isoformat(), "route": r["route"],
                         "prescreen": r["prescreen"], "churn_risk": r["churn_risk"],
                         "value_tier": r["value_tier"], "offer_yuan": r["offer_yuan"],
                         "reasons": r["route_reasons"] + r["action_reasons"],
                         "acted_on": run.as_of.isoformat()}), SYSTEM))
    return Opened(tuple(opened), tuple(skipped))


def record_outcome(engine: Engine, task_id: str, by: str, outcome: str, *,
                   note: str | None = None, on: dt.date | None = None) -> TaskView:
    """Close a customer-operations task with what the customer said (:data:`OUTCOMES`);
    the holder records it (an unheld task is claimed by ``by`` first)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
    queue = operations_queue(engine)
    task = queue.get(task_id)
    if task.queue != QUEUE:
        raise ValueError(f"task {task_id} is in queue {task.queue!r}, not {QUEUE!r}")
    if task.claimed_by is None:
        queue.claim(task_id, by)
    result = {"outcome": outcome, "recorded_on": (on or dt.datetime.now(dt.UTC).date())
              .isoformat(), **({"note": note} if note else {})}
    return queue.complete(task_id, by, result, note=note)


def _tasks(engine: Engine) -> list[TaskView]:
    with transaction(engine) as session:
        rows = session.scalars(select(Task).where(Task.queue == QUEUE)).all()
        return [TaskView.from_row(r) for r in rows]


def accepted_products(engine: Engine, before: dt.date | None = None) -> dict[str, set[str]]:
    """governed party → products it accepted on offers recorded by ``before`` (held now)."""
    held: dict[str, set[str]] = {}
    for t in _tasks(engine):
        result = t.result or {}
        if t.kind != OFFER_KIND or result.get("outcome") != "accepted":
            continue
        if before is not None and dt.date.fromisoformat(str(result.get(
                "recorded_on", "9999-12-31"))) > before:
            continue
        held.setdefault(str(t.payload["customer"]), set()).add(str(t.payload["product"]))
    return held


def _rates(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        cell = out.setdefault(str(r[key]), {"sent": 0, **{o: 0 for o in OUTCOMES}, "open": 0})
        cell["sent"] += 1
        cell[r["outcome"] or "open"] += 1
    for cell in out.values():
        cell["conversion"] = round(cell["accepted"] / cell["sent"], 4) if cell["sent"] else None
    return dict(sorted(out.items()))


def _grades(con: duckdb.DuckDBPyConnection | None, rows: list[dict[str, Any]]
            ) -> tuple[bool, str]:
    """Attach each offer's customer grade on its day from ``customers.customer_day`` when
    the grades table exists (``grade`` column): True and the column used, else False."""
    if con is None or not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'customers' AND "
            "table_name = 'customer_day'").fetchall()[0][0]:
        return False, "no grades table customers.customer_day"
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'customers' AND "
        "table_name = 'customer_day'").fetchall()}
    grade = next((c for c in ("grade", "maintenance_grade") if c in columns), None)
    if grade is None or not {"party_id", "as_of"} <= columns:
        return False, f"customers.customer_day lacks party_id, as_of or a grade column: " \
                      f"{sorted(columns)}"
    for r in rows:
        found = con.execute(
            f'SELECT "{grade}" FROM customers.customer_day WHERE party_id = ? AND as_of <= ? '
            "ORDER BY as_of DESC LIMIT 1", [r["customer"], r["day"]]).fetchall()
        r["grade"] = found[0][0] if found and found[0][0] is not None else "(none)"
    return True, f"customers.customer_day.{grade}"


def campaign_results(engine: Engine, con: duckdb.DuckDBPyConnection | None = None
                     ) -> dict[str, Any]:
    """Conversion by product (and grade) over the stored offers, retention by action over the
    stored renewal actions; with ``con`` (the analytic store) also the observed renewals."""
    offers, actions = [], []
    for t in _tasks(engine):
        outcome = (t.result or {}).get("outcome") if t.status == "done" else None
        if t.kind == OFFER_KIND:
            offers.append({"product": t.payload["product"], "customer": t.payload["customer"],
                           "day": dt.date.fromisoformat(t.payload["offered_on"]),
                           "outcome": outcome})
        elif t.payload.get("trigger") == "renewal":
            actions.append({"action": t.payload["action"], "customer": t.payload["customer"],
                            "loan_id": t.payload["loan_id"],
                            "maturity": dt.date.fromisoformat(t.payload["maturity_date"]),
                            "day": dt.date.fromisoformat(t.payload["acted_on"]),
                            "outcome": outcome})
    by_grade: dict[str, Any] | None = None
    has_grades, grade_note = _grades(con, offers)
    if has_grades:
        by_grade = _rates(offers, "grade")
    retention = _rates(actions, "action")
    for cell in retention.values():
        cell["retention_recorded"] = cell.pop("conversion")
    if con is not None and actions:
        _observed(con, actions, retention)
    total = _rates([{**o, "all": "all"} for o in offers], "all").get("all")
    return {"offers": {"by_product": _rates(offers, "product"), "by_grade": by_grade,
                       "grades": grade_note, "all": total},
            "retention": {"by_action": retention},
            "products": list(PRODUCTS), "actions": list(RETENTION_ACTIONS)}


def _observed(con: duckdb.DuckDBPyConnection, actions: list[dict[str, Any]],
              retention: dict[str, dict[str, Any]]) -> None:
    """Per action: loans whose outcome is known (maturity + 60 days inside the data) and the
    share whose borrower started another loan by then."""
    from xiaowei.customers.retention import RENEWED_WITHIN_DAYS
    from xiaowei.data.govern.build import governed_as_of

    end = governed_as_of(con)
    for action, cell in retention.items():
        known = renewed = 0
        for a in actions:
            if a["action"] != action or end is None or \
                    a["maturity"] + dt.timedelta(days=RENEWED_WITHIN_DAYS) > end:
                continue
            known += 1
            renewed += bool(con.execute(
                "SELECT count(*) FROM gov.loan WHERE party_id = ? AND loan_id <> ? AND "
                "start_date > ? AND start_date <= ?",
                [a["customer"], a["loan_id"], a["day"],
                 a["maturity"] + dt.timedelta(days=RENEWED_WITHIN_DAYS)]).fetchall()[0][0])
        cell["outcome_known"] = known
        cell["retained_observed"] = round(renewed / known, 4) if known else None


def outcomes_by_task(engine: Engine) -> Mapping[str, str | None]:
    """task id → recorded outcome (None while open), for pages and tests."""
    return {t.task_id: (t.result or {}).get("outcome") for t in _tasks(engine)}


__all__ = ["KIND_OF_ACTION", "OFFER_KIND", "OUTCOMES", "PRODUCT_CODE", "QUEUE",
           "RENEWAL_CALL_KIND", "SYSTEM", "Opened", "accepted_products", "best_offers",
           "campaign_results", "check_offers", "customer_owners", "open_maintenance_tasks",
           "open_offer_tasks",
           "open_renewal_tasks", "operations_queue", "outcomes_by_task", "record_outcome"]
