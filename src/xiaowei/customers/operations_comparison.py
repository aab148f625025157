"""The digital customer operation against today's product-centric one, on the same book.

The question the bank asks (issue 8): with the same customers, the same capacity table and the
same customers' behaviour, does a customer-centric operation driven by tags keep more good
customers at maturity, sell more of what customers need, and let each manager look after more
balance? Both sides run over one window (default: the last 12 months of data) and are scored
by one response model (:mod:`xiaowei.sim.customer_response`, SIMULATOR.md §5) and one capacity
table (``origination/capacity.yaml``, SIMULATOR.md §4):

* **traditional** (product-centric) — no proactive retention: its churn is the churn the
  bank's records show (a good customer's loan matured and no new loan followed); its offers
  are random targeting — a random customer of the window and a random product, as many offers
  as the digital plan makes, on the same days, seeded — whose conversion is ``random_conversion``;
  uniform maintenance: every customer is visited ``capacity.traditional`` times a year (today's
  quarterly on-site visit, the calibration behind ~120 customers per manager).
* **digital** — applies a *plan* (the vocabulary of issue 8): ``offers`` (party_id, product,
  offered_on) and ``retention`` (loan_id, party_id, action, acted_on), two Arrow tables; the
  retention actions change churn and the offers convert through the response model; visits
  follow ``visits_per_year(party_id)`` (the maintenance grades), each visit costing what the
  traditional visit costs — the operations differ in how often, never in the hours of a visit.

Shared by both sides: the book at the window's end (loans outstanding + deposits, from the
records), the lending work per customer-year that customer operations do not change (due
diligence, collection, routine servicing: today's figures from
:func:`~xiaowei.origination.kpis.traditional_kpis`), the task hours of an offer (a call, the
table's off-site desk figure) and of each retention action, and the response model's draws.

Figures (``to_json``: ``{"digital": {...}, "traditional": {...}}``, each with exactly
``good_churn_at_maturity``, ``offer_conversion``, ``random_conversion``, ``balance_per_manager``
and a ``detail``):

* good_churn_at_maturity = good customers whose loan matured in the window and who churned
  (after the plan's retention, digital) ÷ good customers whose loan matured in the window;
* offer_conversion = offers converted ÷ offers made (traditional: its random offers);
  random_conversion = the random targeting's conversion (the same figure on both sides);
* balance_per_manager (CNY) = balance ÷ managers needed; balance = the book's loans and
  deposits at the window's end + balances added by conversions (and, digital, by retained
  customers renewing at their matured principal); managers needed = hours a year the customers
  need (customers × hours per customer-year + the year's offer and retention tasks) ÷ a
  manager's customer hours a year. Two bases for the digital side, both reported: customer
  operations alone (today's lending work for both sides, every visit at the traditional
  visit's hours — what customer operations change by themselves), and the whole digital
  operation when the caller passes the digital lending process's hours (due diligence matched
  to risk and the post-loan inspection plan from the origination KPIs, which run on the same
  capacity table; maintenance visits by grade at the table's maintenance-visit hours, the
  on-site inspections being counted in the post-loan plan). The bank's +30 million goal is a
  goal of the whole operation; the demo judges it on the whole operation and shows the
  operations-only figure beside it.

Truth: the response model and this comparison are the only customer-operations code that read
the simulator's ``truth/`` (SIMULATOR.md §1, KPI comparisons only). Grades, offers and
retention plans are made from the bank's records and tags alone and must never import this
module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from xiaowei.data.tags.service import data_as_of
from xiaowei.origination.capacity import Capacity, load_capacity
from xiaowei.origination.kpis import add_months, traditional_kpis
from xiaowei.sim import hashing
from xiaowei.sim.customer_response import (
    ACTIONS,
    PRODUCTS,
    REPEAT_DAYS,
    CustomerResponse,
    day_number,
    governed_parties,
    maturities,
    retention_probability,
)
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]
VisitsPerYear = Callable[[str], float]

OFFER_SCHEMA = pa.schema([("party_id", pa.string()), ("product", pa.string()),
                          ("offered_on", pa.date32())])
"""A plan's offers: one row per offer of one product to one governed party on one day."""
RETENTION_SCHEMA = pa.schema([("loan_id", pa.string()), ("party_id", pa.string()),
                              ("action", pa.string()), ("acted_on", pa.date32())])
"""A plan's retention actions: one row per action on one loan (its party) on one day."""

DEFAULT_GRADE_MIX = (("A", 0.10, 6.0), ("B", 0.25, 4.0), ("C", 0.40, 2.0), ("D", 0.25, 1.0))
"""(grade, share of customers, visits a year) used when no grading is given: customers ranked
by their balance at the window's end (an observable value), the top 10% A … the last 25% D.
A stated assumption for a book without the grades batch, not a tuned figure."""

CHURN_TARGET = 0.30  # relative reduction of good-customer churn at maturity
CONVERSION_TARGET = 2.0  # × random targeting
BALANCE_TARGET = 30_000_000.0  # CNY more per manager

METHOD_LINE = ("same book (loans + deposits at the window's end), one capacity table, one "
               "customer response model for both; churn = a good customer's matured loan not "
               "followed by a new loan within 60 days (records); offers and retention convert "
               "through hashed draws shared by both sides; traditional offers = random "
               "targeting, as many as the plan's, on the same days")


def empty_plan() -> tuple[pa.Table, pa.Table]:
    """A plan that does nothing (no offers, no retention)."""
    return OFFER_SCHEMA.empty_table(), RETENTION_SCHEMA.empty_table()


@dataclass
class ProcessOperations:
    """One operation's four figures and how they were reached."""

    process: str
    good_churn_at_maturity: float | None
    offer_conversion: float | None
    random_conversion: float | None
    balance_per_manager: float | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, nd: int) -> float | None:
            return None if x is None else round(float(x), nd)

        return {"good_churn_at_maturity": r(self.good_churn_at_maturity, 4),
                "offer_conversion": r(self.offer_conversion, 4),
                "random_conversion": r(self.random_conversion, 4),
                "balance_per_manager": None if self.balance_per_manager is None
                else round(float(self.balance_per_manager)),
                "detail": {"process": self.process, **self.detail}}


@dataclass
class OperationsComparison:
    first: dt.date
    last: dt.date
    digital: ProcessOperations
    traditional: ProcessOperations
    book: dict[str, Any]

    def targets(self) -> dict[str, dict[str, Any]]:
        """The issue's targets, each with the figures compared and met / not met."""
        d, t = self.digital, self.traditional
        churn_goal = None if t.good_churn_at_maturity is None else \
            t.good_churn_at_maturity * (1 - CHURN_TARGET)
        conv_goal = None if d.random_conversion is None else \
            d.random_conversion * CONVERSION_TARGET
        bal_goal = None if t.balance_per_manager is None else \
            t.balance_per_manager + BALANCE_TARGET
        return {
            "good_churn_at_maturity": _target(d.good_churn_at_maturity, "<=", churn_goal,
                                              "−30% relative to traditional"),
            "offer_conversion": _target(d.offer_conversion, ">=", conv_goal,
                                        "≥ 2× random targeting"),
            "balance_per_manager": _target(d.balance_per_manager, ">=", bal_goal,
                                           "+30 million CNY per manager"),
        }

    def to_json(self) -> dict[str, Any]:
        return {"window": {"first": self.first.isoformat(), "last": self.last.isoformat()},
                "digital": self.digital.to_json(), "traditional": self.traditional.to_json(),
                "book": self.book, "targets": self.targets(), "method": METHOD_LINE}


def _target(value: float | None, op: str, goal: float | None, what: str) -> dict[str, Any]:
    met = value is not None and goal is not None and (
        value >= goal if op == ">=" else value <= goal)
    shown = None if goal is None else round(goal, 4 if abs(goal) < 10 else 0)
    return {"value": None if value is None else round(value, 4 if abs(value) < 10 else 0),
            "target": f"{op} {shown}", "what": what, "met": bool(met)}


def operations_window(analytic: AnalyticStore, months: int = 12) -> tuple[dt.date, dt.date]:
    """The last ``months`` months of the loaded data: (first day, the data's last day)."""
    if not 1 <= months <= 36:
        raise ValueError(f"months must be 1–36, got {months}")
    last = data_as_of(analytic)
    return add_months(last, -months) + dt.timedelta(days=1), last


# --- the book ---------------------------------------------------------------------------------

_BOOK_SQL = """
WITH paid AS (
    SELECT loan_id, SUM(principal_due_yuan) AS repaid FROM gov.repayment
    WHERE paid_on IS NOT NULL AND paid_on <= $last GROUP BY loan_id),
outstanding AS (
    SELECT l.party_id, SUM(l.principal_yuan - COALESCE(p.repaid, 0)) AS loans
    FROM gov.loan l LEFT JOIN paid p USING (loan_id)
    WHERE l.start_date <= $last GROUP BY l.party_id
    HAVING SUM(l.principal_yuan - COALESCE(p.repaid, 0)) > 0.5)
SELECT party_id, loans FROM outstanding ORDER BY party_id
"""
_DEPOSITS_SQL = """
SELECT party_id, SUM(end_balance_yuan) FROM (
    SELECT party_id, account_no, end_balance_yuan FROM gov.account_flow
    WHERE period <= $last AND party_id IS NOT NULL
    QUALIFY ROW_NUMBER() OVER (PARTITION BY account_no ORDER BY period DESC) = 1)
GROUP BY party_id
"""
_CUSTOMERS_SQL = """
SELECT DISTINCT party_id FROM gov.loan
WHERE start_date <= $last AND maturity_date >= $first AND party_id IS NOT NULL ORDER BY 1
"""


@dataclass(frozen=True)
class Book:
    customers: list[str]  # parties with a loan on book at some time in the window
    loans_at_end: dict[str, float]  # party → loans outstanding at the window's end
    deposits: dict[str, float]  # party → deposits at the window's end (latest month)

    def balance(self, party: str) -> float:
        return self.loans_at_end.get(party, 0.0) + self.deposits.get(party, 0.0)


def load_book(con: Any, first: dt.date, last: dt.date) -> Book:
    args = {"first": first, "last": last}
    customers = [r[0] for r in con.execute(_CUSTOMERS_SQL, args).fetchall()]
    loans = {p: float(v) for p, v in con.execute(_BOOK_SQL, {"last": last}).fetchall()}
    deposits = {p: float(v) for p, v in con.execute(_DEPOSITS_SQL, {"last": last}).fetchall()
                if v is not None}
    return Book(customers, loans, deposits)


def grade_mix_visits(book: Book, parties: list[str] | None = None) -> VisitsPerYear:
    """The default maintenance frequency (:data:`DEFAULT_GRADE_MIX`) by balance rank."""
    parties = sorted(parties if parties is not None else book.loans_at_end)
    order = sorted(parties, key=lambda p: (-book.balance(p), p))
    visits: dict[str, float] = {}
    start = 0
    for i, (_, share, per_year) in enumerate(DEFAULT_GRADE_MIX):
        end = len(order) if i == len(DEFAULT_GRADE_MIX) - 1 else \
            start + round(share * len(order))
        for p in order[start:end]:
            visits[p] = per_year
        start = end
    lowest = DEFAULT_GRADE_MIX[-1][2]
    return lambda party: visits.get(party, lowest)


# --- offers -----------------------------------------------------------------------------------


@dataclass
class OfferResult:
    offers: int
    conversions: int
    balance_added: float
    by_product: dict[str, dict[str, float]]
    need_share: float | None  # share of offers made to a party that needed the product (truth)
    refused: dict[str, int]

    @property
    def conversion(self) -> float | None:
        return self.conversions / self.offers if self.offers else None

    def to_json(self) -> dict[str, Any]:
        return {"offers_made": self.offers, "conversions": self.conversions,
                "balance_added": round(self.balance_added),
                "offers_to_a_need": None if self.need_share is None
                else round(self.need_share, 4),
                "offers_refused": self.refused,
                "by_product": {p: {k: round(v) if k == "balance_added" else v
                                   for k, v in d.items()} for p, d in self.by_product.items()}}


def _valid_offers(offers: pa.Table, customers: set[str], first: dt.date,
                  last: dt.date) -> tuple[list[tuple[str, str, dt.date]], dict[str, int]]:
    refused = {"unknown_customer": 0, "unknown_product": 0, "outside_window": 0}
    valid = []
    for party, product, day in zip(offers.column("party_id").to_pylist(),
                                   offers.column("product").to_pylist(),
                                   offers.column("offered_on").to_pylist(), strict=True):
        if product not in PRODUCTS:
            refused["unknown_product"] += 1
        elif party not in customers:
            refused["unknown_customer"] += 1
        elif day is None or not first <= _as_date(day) <= last:
            refused["outside_window"] += 1
        else:
            valid.append((party, product, _as_date(day)))
    return valid, refused


def score_offers(response: CustomerResponse, party_index: dict[str, int],
                 offers: list[tuple[str, str, dt.date]],
                 refused: dict[str, int] | None = None) -> OfferResult:
    """Run offers through the response model: a repeat within 90 days halves P(accept); a
    party that took a product converts no further on it."""
    by_product = {p: {"offers": 0, "conversions": 0, "balance_added": 0.0} for p in PRODUCTS}
    ordered = sorted(offers, key=lambda o: (o[1], o[0], o[2]))
    last_offer: dict[tuple[str, str], dt.date] = {}
    idx, day, repeat, keep = [], [], [], []
    for party, product, when in ordered:
        before = last_offer.get((party, product))
        repeat.append(before is not None and (when - before).days <= REPEAT_DAYS)
        last_offer[(party, product)] = when
        idx.append(party_index.get(party, -1))
        day.append(day_number(when))
        keep.append(idx[-1] >= 0)
    n = len(ordered)
    accepted = np.zeros(n, bool)
    needed = np.zeros(n, bool)
    products = np.array([o[1] for o in ordered], dtype=object)
    idx_a, day_a, rep_a = (np.array(idx, np.int64), np.array(day, np.int64),
                           np.array(repeat, bool))
    known = np.array(keep, bool)
    for product in PRODUCTS:
        sel = np.flatnonzero((products == product) & known)
        if len(sel):
            accepted[sel] = response.accepts(product, idx_a[sel], day_a[sel], rep_a[sel])
            needed[sel] = response.needs(product, idx_a[sel])
    holds: set[tuple[str, str]] = set()
    conversions, balance = 0, 0.0
    for i, (party, product, _) in enumerate(ordered):
        by_product[product]["offers"] += 1
        if not accepted[i] or (party, product) in holds:
            continue
        holds.add((party, product))
        added = float(response.conversion_balance(product, idx_a[i:i + 1])[0])
        conversions += 1
        balance += added
        by_product[product]["conversions"] += 1
        by_product[product]["balance_added"] += added
    return OfferResult(n, conversions, balance, by_product,
                       float(needed[known].mean()) if known.any() else None,
                       dict(refused or {}))


def random_offers(customers: list[str], days: list[dt.date], seed: int
                  ) -> list[tuple[str, str, dt.date]]:
    """Random targeting: the i-th offer goes to a hashed random customer, with a hashed random
    product, on the i-th day of the plan's offers (sorted) — reproducible from ``seed``."""
    if not customers or not days:
        return []
    i = np.arange(len(days))
    who = hashing.integers(seed, "random-offer:party", i, len(customers))
    what = hashing.integers(seed, "random-offer:product", i, len(PRODUCTS))
    ordered = sorted(days)
    return [(customers[int(w)], PRODUCTS[int(p)], ordered[k])
            for k, (w, p) in enumerate(zip(who, what, strict=True))]


# --- retention --------------------------------------------------------------------------------


@dataclass
class RetentionResult:
    matured: int
    good: int
    good_churned_recorded: int
    good_churned_rejected: int
    retained_good: int
    retained_all: int
    retained_balance: float
    retained_parties: list[str]
    actions: dict[str, int]
    on_would_be_churners: dict[str, int]
    retained_by_action: dict[str, int]
    preapproved_not_good: int
    refused: dict[str, int]

    @property
    def churn(self) -> float | None:
        if not self.good:
            return None
        return (self.good_churned_recorded - self.retained_good) / self.good


def score_retention(con: Any, response: CustomerResponse, party_index: dict[str, int],
                    retention: pa.Table, first: dt.date, last: dt.date,
                    book: Book) -> RetentionResult:
    """Matured loans of the window, and what the plan's retention actions change."""
    m = maturities(con, response, party_index, first, last)
    party_of_loan = dict(con.execute("SELECT loan_id, party_id FROM gov.loan").fetchall())
    row_of = {loan: i for i, loan in enumerate(m.loan_id)}
    refused = {"unknown_loan": 0, "party_mismatch": 0, "unknown_action": 0}
    actions = dict.fromkeys(ACTIONS, 0)
    best: dict[int, tuple[float, int, str, int]] = {}  # row → (p, -rank, action, lead)
    for loan, party, action, day in zip(retention.column("loan_id").to_pylist(),
                                        retention.column("party_id").to_pylist(),
                                        retention.column("action").to_pylist(),
                                        retention.column("acted_on").to_pylist(), strict=True):
        if action not in ACTIONS:
            refused["unknown_action"] += 1
            continue
        if loan not in party_of_loan:
            refused["unknown_loan"] += 1
            continue
        if party_of_loan[loan] != party:
            refused["party_mismatch"] += 1
            continue
        actions[action] += 1
        i = row_of.get(loan)
        if i is None or day is None:
            continue  # a loan maturing outside the observable window: cost, no measured effect
        lead = int((m.maturity[i] - np.datetime64(_as_date(day), "D")).astype(np.int64))
        p = retention_probability(action, lead)
        if m.rejected[i] and action != "preapproved_renewal":
            p = 0.0
        cand = (p, -ACTIONS.index(action), action, lead)
        if i not in best or cand[:2] > best[i][:2]:
            best[i] = cand
    n = len(m)
    chosen = np.array([best[i][2] if i in best else "" for i in range(n)], dtype=object)
    lead_days = np.array([best[i][3] if i in best else -1 for i in range(n)], dtype=np.int64)
    known = m.party_idx >= 0
    retained = np.zeros(n, bool)
    if known.any():
        retained[known] = response.retained(
            m.party_idx[known], m.maturity[known].astype(np.int64), m.churned[known],
            m.rejected[known], chosen[known], lead_days[known])
    on_churners = {a: int(((chosen == a) & m.churned).sum()) for a in ACTIONS}
    by_action = {a: int(((chosen == a) & retained).sum()) for a in ACTIONS}
    parties, balance = [], 0.0
    for i in np.flatnonzero(retained):
        party = m.party_id[i]
        if party in book.loans_at_end:
            continue
        parties.append(party)
        balance += float(m.principal[i]) + book.deposits.get(party, 0.0)
    good = m.good
    return RetentionResult(
        matured=n, good=int(good.sum()), good_churned_recorded=int((good & m.churned).sum()),
        good_churned_rejected=int((good & m.rejected).sum()),
        retained_good=int((good & retained).sum()), retained_all=int(retained.sum()),
        retained_balance=balance, retained_parties=sorted(set(parties)), actions=actions,
        on_would_be_churners=on_churners, retained_by_action=by_action,
        preapproved_not_good=int(((chosen == "preapproved_renewal") & ~good).sum()),
        refused=refused)


# --- capacity ---------------------------------------------------------------------------------


def task_hours(capacity: Capacity) -> dict[str, float]:
    """Manager hours per task, from the one table: an offer, a reminder call and a pre-approved
    renewal are a call and a note (the off-site desk figure); a manager visit is a maintenance
    visit."""
    desk = float(capacity.inspection_hours.offsite.value)
    return {"offer": desk, "preapproved_renewal": desk, "reminder_call": desk,
            "manager_visit": float(capacity.maintenance_visit_hours.value)}


@dataclass(frozen=True)
class Workload:
    customers: int
    hours_per_customer_year: float
    visit_hours_per_customer_year: float
    task_hours_per_year: float
    managers: float

    def to_json(self) -> dict[str, Any]:
        return {"customers": self.customers,
                "hours_per_customer_year": round(self.hours_per_customer_year, 3),
                "visit_hours_per_customer_year": round(self.visit_hours_per_customer_year, 3),
                "task_hours_per_year": round(self.task_hours_per_year, 1),
                "managers_needed": round(self.managers, 2),
                "customers_per_manager": round(self.customers / self.managers, 1)
                if self.managers else None}


LENDING_WORK = ("due_diligence", "collection", "servicing", "offsite_inspections",
                "onsite_inspections")
"""The lending work of a customer-year besides maintenance visits (origination KPIs' kinds)."""
OPERATIONS_ONLY = ("operations_only: customer operations alone — today's lending work for "
                   "both sides, every visit at the traditional visit's hours")
FULL_PROCESS = ("full_process: the whole digital operation — due diligence matched to risk and "
                "the post-loan inspection plan (origination KPIs), grade visits at the "
                "capacity table's maintenance-visit hours")


def digital_lending_work(breakdown: dict[str, float]) -> float:
    """Hours per customer-year of the digital lending work (:data:`LENDING_WORK`), refusing a
    breakdown that lacks a kind or carries a negative figure (a wrong input, not a zero)."""
    missing = [k for k in LENDING_WORK if k not in breakdown]
    if missing:
        raise ValueError(f"digital_lending_hours lacks {missing}; needs {list(LENDING_WORK)}")
    bad = {k: breakdown[k] for k in LENDING_WORK if not float(breakdown[k]) >= 0}
    if bad:
        raise ValueError(f"digital_lending_hours must be ≥ 0 hours, got {bad}")
    return sum(float(breakdown[k]) for k in LENDING_WORK)


def _workload(customers: list[str], visits: Callable[[str], float], visit_hours: float,
              other_hours: float, tasks_per_year: float, capacity: Capacity) -> Workload:
    n = len(customers)
    visit_h = (sum(visits(p) for p in customers) * visit_hours / n) if n else 0.0
    per_customer = other_hours + visit_h
    hours = n * per_customer + tasks_per_year
    return Workload(n, per_customer, visit_h, tasks_per_year,
                    hours / capacity.manager_customer_hours)


# --- the comparison ---------------------------------------------------------------------------


def compare_operations(analytic: AnalyticStore, dataset_dir: Path | str, offers: pa.Table,
                       retention: pa.Table, *, window: tuple[dt.date, dt.date] | None = None,
                       months: int = 12, visits_per_year: VisitsPerYear | None = None,
                       capacity: Capacity | None = None, seed: int | None = None,
                       digital_lending_hours: dict[str, float] | None = None,
                       progress: Progress | None = None) -> OperationsComparison:
    """Both operations over ``window`` (default: the last ``months`` months of data).

    ``offers`` / ``retention``: the digital plan (:data:`OFFER_SCHEMA`,
    :data:`RETENTION_SCHEMA`); ``visits_per_year``: maintenance visits a year per governed
    party (default :func:`grade_mix_visits`); ``seed``: random targeting's seed (default: the
    dataset's). ``dataset_dir`` is the simulator's folder (its ``truth/`` is read).
    ``digital_lending_hours``: the digital lending process's hours per customer-year by kind
    (``hours_breakdown`` of the origination KPIs' digital side: due diligence matched to risk,
    the post-loan inspection plan, collection, servicing); given, the digital side's balance per
    manager is the *whole* digital operation's (:data:`FULL_PROCESS`), else customer operations
    alone on today's lending work (:data:`OPERATIONS_ONLY`) — both are reported.
    """
    steps = 5

    def step(i: int) -> None:
        if progress:
            progress("operations", i, steps)

    step(0)
    capacity = capacity or load_capacity()
    first, last = window or operations_window(analytic, months)
    if first > last:
        raise ValueError(f"empty window {first} – {last}")
    con = analytic.connection
    response = CustomerResponse.from_dataset(dataset_dir)
    seed = response.seed if seed is None else seed
    party_index = governed_parties(con, dataset_dir)
    book = load_book(con, first, last)
    customers = [p for p in book.customers if p in party_index]
    customer_set = set(customers)
    step(1)

    # Lending work customer operations do not change: today's figures for both sides.
    kpis = traditional_kpis(con, capacity)
    parts = kpis.hours_breakdown
    other = sum(parts.get(k, 0.0) for k in ("due_diligence", "collection", "servicing",
                                            "offsite_inspections"))
    practice = capacity.traditional
    trad_visits = practice.onsite_inspections_per_year + practice.maintenance_visits_per_year
    trad_visit_hours = (practice.onsite_inspections_per_year
                        * capacity.inspection_hours.onsite.value
                        + practice.maintenance_visits_per_year
                        * capacity.maintenance_visit_hours.value)
    visit_hours = trad_visit_hours / trad_visits if trad_visits else \
        float(capacity.maintenance_visit_hours.value)
    years = ((last - first).days + 1) / 365.25
    hours = task_hours(capacity)
    step(2)

    valid, refused = _valid_offers(offers, customer_set, first, last)
    digital_offers = score_offers(response, party_index, valid, refused)
    randoms = random_offers(customers, [o[2] for o in valid], seed)
    random_result = score_offers(response, party_index, randoms)
    step(3)

    kept = score_retention(con, response, party_index, retention, first, last, book)
    step(4)

    book_parties = sorted(book.loans_at_end)
    book_balance = sum(book.balance(p) for p in book_parties)
    visits = visits_per_year or grade_mix_visits(book, book_parties + kept.retained_parties)
    offer_tasks = digital_offers.offers * hours["offer"]
    trad_load = _workload(book_parties, lambda _p: trad_visits, visit_hours, other,
                          offer_tasks / years, capacity)
    retention_tasks = sum(n * hours[a] for a, n in kept.actions.items())
    dig_parties = book_parties + kept.retained_parties
    dig_tasks = (offer_tasks + retention_tasks) / years
    ops_load = _workload(dig_parties, visits, visit_hours, other, dig_tasks, capacity)
    basis = OPERATIONS_ONLY
    dig_load = ops_load
    if digital_lending_hours is not None:
        basis = FULL_PROCESS
        lending = digital_lending_work(digital_lending_hours)
        dig_load = _workload(dig_parties, visits, float(capacity.maintenance_visit_hours.value),
                             lending, dig_tasks, capacity)
    trad_balance = book_balance + random_result.balance_added
    dig_balance = book_balance + kept.retained_balance + digital_offers.balance_added
    ops_only = dig_balance / ops_load.managers if ops_load.managers else None
    trad_churn = kept.good_churned_recorded / kept.good if kept.good else None
    common = {"good_matured": kept.good, "matured_loans": kept.matured}
    traditional = ProcessOperations(
        "traditional", trad_churn, random_result.conversion, random_result.conversion,
        trad_balance / trad_load.managers if trad_load.managers else None,
        {**common, "good_churned": kept.good_churned_recorded,
         "good_churned_by_rejected_renewal": kept.good_churned_rejected,
         "retention_actions": dict.fromkeys(ACTIONS, 0), "retained": 0,
         "offers": random_result.to_json(), "balance": round(trad_balance),
         "visits_per_customer_year": trad_visits, **trad_load.to_json()})
    digital = ProcessOperations(
        "digital", kept.churn, digital_offers.conversion, random_result.conversion,
        dig_balance / dig_load.managers if dig_load.managers else None,
        {**common, "good_churned": kept.good_churned_recorded - kept.retained_good,
         "retention_actions": kept.actions,
         "retention_actions_on_would_be_churners": kept.on_would_be_churners,
         "retained": kept.retained_all, "retained_good": kept.retained_good,
         "retained_by_action": kept.retained_by_action,
         "retained_balance": round(kept.retained_balance),
         "preapproved_not_good": kept.preapproved_not_good,
         "retention_refused": kept.refused,
         "offers": digital_offers.to_json(), "balance": round(dig_balance),
         "visits_per_customer_year": round(
             ops_load.visit_hours_per_customer_year / visit_hours, 3) if visit_hours else None,
         "balance_per_manager_basis": basis,
         "balance_per_manager_operations_only": None if ops_only is None else round(ops_only),
         "managers_needed_operations_only": round(ops_load.managers, 2),
         **dig_load.to_json()})
    step(steps)
    return OperationsComparison(
        first, last, digital, traditional,
        {"customers_in_window": len(customers), "customers_at_end": len(book_parties),
         "balance_at_end": round(book_balance),
         "loans_at_end": round(sum(book.loans_at_end.values())),
         "deposits_at_end": round(sum(book.deposits.get(p, 0.0) for p in book_parties)),
         "hours_per_visit": visit_hours,
         "other_hours_per_customer_year": round(other, 3),
         "task_hours": hours, "random_seed": seed, "response_seed": response.seed})


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(np.datetime64(value, "D")))


__all__ = ["BALANCE_TARGET", "CHURN_TARGET", "CONVERSION_TARGET", "DEFAULT_GRADE_MIX",
           "FULL_PROCESS", "LENDING_WORK", "OFFER_SCHEMA", "OPERATIONS_ONLY",
           "RETENTION_SCHEMA", "OperationsComparison", "ProcessOperations", "compare_operations",
           "digital_lending_work", "empty_plan", "grade_mix_visits", "operations_window",
           "random_offers", "score_offers"]
