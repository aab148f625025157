"""How customers respond to the bank's offers and retention actions: one model for both processes.

SIMULATOR.md §5: customers respond through a documented model, fixed before any strategy is
tuned and the same for the traditional and the digital operation, so an operation can only win
by *whom it asks, for what and when* — never by a kinder formula. Every figure below is a
stated assumption (docs/simulator.md §9), not a measurement.

Truth: this module and :mod:`xiaowei.customers.operations_comparison` are the only code of the
customer operations that read the simulator's ``truth/`` folder (SIMULATOR.md §1: tests,
benchmarks and KPI comparisons only). Platform code — tags, grades, propensity, offers,
retention plans — never imports this module. The model reads ``truth/parties.parquet``
(employees, revenue, quality, supply-chain anchor, default and fraud timeline) and
``truth/applications.parquet`` (which simulated party a governed party is), plus the bank's
own records for the maturities.

Deterministic: every draw is a counter-based hash of ``(seed, name, key)``
(:mod:`xiaowei.sim.hashing`), never a global RNG — the same offer of the same product to the
same party on the same day gets the same answer whichever operation makes it (common random
numbers: the two sides differ only where their decisions differ).

**Latent needs.** Per party and product, ``P(need) = logistic(a + Σ b·cause + 0.8·ε)`` with
``ε ~ N(0, 1)`` hashed per (party, product) — noise nobody observes — and the need itself a
hashed Bernoulli draw of that probability. Causes are latent (quality, true revenue, true
headcount, the anchor relation); the bank sees only noisy reflections (declared revenue and
employees on applications, deposits, invoices, the supply-chain role), so tags reveal needs
only partly.

| product | a | causes (b) |
|---|---|---|
| payroll_service | −3.0 | +1.0·ln(1 + employees) |
| wealth_management | −2.0 | +0.8·ln(revenue_wan / 300) + 0.6·quality (idle cash) |
| invoice_credit | −1.6 | +0.4·ln(revenue_wan / 300) + 0.7·quality (growth) − 1.0·[owner] |
| supply_chain_finance | −4.0 | +3.8·[deals with an anchor] − 1.0·[is an anchor] |
| cash_management | −3.0 | +1.0·ln(revenue_wan / 500) + 0.5·[enterprise] |

**Offer acceptance.** ``P(accept) = ACCEPT_IF_NEED[product]`` with a need, ``ACCEPT_WITHOUT_NEED``
without; × ``REPEAT_FACTOR`` when the same product was offered to the party in the previous
``REPEAT_DAYS`` days; 0 once the party holds the product (converted earlier). A conversion adds
the balance of :data:`CONVERSION_BALANCE` to the relationship.

| product | accept with need | without | balance added on conversion |
|---|---|---|---|
| payroll_service | 0.30 | 0.03 | deposits: employees × 3,500 CNY (half a month's payroll float) |
| wealth_management | 0.25 | 0.03 | assets: 8% of annual revenue (idle cash moved in) |
| invoice_credit | 0.35 | 0.03 | loan: 10% of annual revenue (an invoice-based line, drawn) |
| supply_chain_finance | 0.40 | 0.03 | loan: 12% of annual revenue (receivables, prepayments) |
| cash_management | 0.25 | 0.03 | deposits: 4% of annual revenue (about two weeks of turnover) |

Each balance is capped at 10 million CNY.

**Retention at maturity.** The simulator already decided who renews (``sim/lending.py``: a
repaid matured loan renews with probability logistic(1.1 + 0.4·quality), and the renewal
application still goes through the bank's expert). The bank's records show the outcome: a
matured loan whose party took no new loan from ``CHURN_BEFORE_DAYS`` days before to
``CHURN_GAP_DAYS`` days after the maturity is **churned**. A retention action changes nothing
for a customer who renewed anyway; a would-be churner is retained when a hashed uniform
``u(party, maturity)`` falls below the action's probability (one ``u`` per loan for every
action, so a stronger action retains everyone a weaker one would). Several actions on one loan:
the best one counts.

| action | ≥ 30 days before maturity | 0–29 days before | after maturity |
|---|---|---|---|
| preapproved_renewal | 0.55 | 0.35 | 0 |
| manager_visit | 0.40 | 0.25 | 0 |
| reminder_call | 0.20 | 0.10 | 0 |

A would-be churner whose renewal application the bank's expert rejected in that span did not
leave by choice: only a pre-approved renewal (the bank commits in advance) can retain them, at
the same probabilities; a visit or a call cannot change a credit decision. A retained customer
renews at the matured loan's principal.

**Good customers** (the churn KPI's population): the party never defaults within the truth's
horizon (``default_month`` = −1), is no fraud-ring member, and no instalment of the matured
loan was paid — or left unpaid — more than ``GOOD_OVERDUE_DAYS`` days past its due date.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.sim import hashing

PRODUCTS = ("payroll_service", "wealth_management", "invoice_credit", "supply_chain_finance",
            "cash_management")
"""The cross-sell products, in the shared vocabulary of issue 8."""
ACTIONS = ("preapproved_renewal", "manager_visit", "reminder_call")
"""Retention actions, strongest first."""

NEED_NOISE = 0.8
"""σ of the per-(party, product) noise in the need's log-odds: what no tag can see."""
ACCEPT_IF_NEED = {"payroll_service": 0.30, "wealth_management": 0.25, "invoice_credit": 0.35,
                  "supply_chain_finance": 0.40, "cash_management": 0.25}
ACCEPT_WITHOUT_NEED = 0.03
REPEAT_DAYS = 90
REPEAT_FACTOR = 0.5
BALANCE_CAP = 10_000_000.0
PAYROLL_FLOAT_PER_EMPLOYEE = 3_500.0
REVENUE_SHARE = {"wealth_management": 0.08, "invoice_credit": 0.10,
                 "supply_chain_finance": 0.12, "cash_management": 0.04}
BALANCE_KIND = {"payroll_service": "deposits", "wealth_management": "assets",
                "invoice_credit": "loans", "supply_chain_finance": "loans",
                "cash_management": "deposits"}

RETENTION = {"preapproved_renewal": (0.55, 0.35), "manager_visit": (0.40, 0.25),
             "reminder_call": (0.20, 0.10)}
"""Action → (P(retain) acting ≥ EARLY_DAYS before maturity, P(retain) acting later)."""
EARLY_DAYS = 30
CHURN_BEFORE_DAYS = 30
CHURN_GAP_DAYS = 60
GOOD_OVERDUE_DAYS = 30

_EPOCH = dt.date(1970, 1, 1)
_PARTY_COLUMNS = ("party_idx", "party_type", "employees", "revenue_wan", "quality", "is_anchor",
                  "anchor_idx", "years", "default_month", "fraud_ring")


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def day_number(day: dt.date | np.datetime64 | Any) -> int:
    """Days since 1970-01-01 (the key of a dated draw)."""
    if isinstance(day, np.datetime64):
        return int(day.astype("datetime64[D]").astype(np.int64))
    if isinstance(day, dt.datetime):
        day = day.date()
    return (day - _EPOCH).days


def _key(idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One 64-bit key per (party index, day): the party in the high bits, the day below."""
    return (np.asarray(idx, np.uint64) << np.uint64(20)) | np.asarray(day, np.uint64)


def retention_probability(action: str, lead_days: float) -> float:
    """P(a would-be churner stays) for one action taken ``lead_days`` before maturity."""
    if action not in RETENTION:
        raise ValueError(f"unknown retention action {action!r}; one of {list(ACTIONS)}")
    if lead_days < 0:
        return 0.0
    early, late = RETENTION[action]
    return early if lead_days >= EARLY_DAYS else late


class CustomerResponse:
    """The response model over the simulator's parties (indexed by ``party_idx``)."""

    def __init__(self, parties: pa.Table, seed: int) -> None:
        order = np.argsort(parties.column("party_idx").to_numpy())
        self.seed = int(seed)
        self._col = {name: parties.column(name).to_numpy(zero_copy_only=False)[order]
                     for name in _PARTY_COLUMNS}
        if not np.array_equal(self._col["party_idx"], np.arange(len(order))):
            raise ValueError("truth/parties.parquet: party_idx must run 0 … n−1")
        self.n = len(order)
        self._need_cache: dict[str, np.ndarray] = {}

    @classmethod
    def from_dataset(cls, dataset_dir: Path | str, seed: int | None = None) -> CustomerResponse:
        """The model of one simulated bank (its ``truth/parties.parquet``; seed of its manifest)."""
        folder = Path(dataset_dir)
        path = folder / "truth" / "parties.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the response model needs the simulator's truth "
                                    f"(dataset folder's truth/)")
        if seed is None:
            seed = int(json.loads((folder / "manifest.json").read_text())["seed"])
        return cls(pq.read_table(path, columns=list(_PARTY_COLUMNS)), seed)

    def column(self, name: str, idx: np.ndarray) -> np.ndarray:
        return self._col[name][np.asarray(idx, np.int64)]

    # --- needs --------------------------------------------------------------------------

    def need_logit(self, product: str, idx: np.ndarray | None = None) -> np.ndarray:
        """The need's log-odds from latent causes (without the unobserved noise)."""
        c = self._col
        rev = np.maximum(c["revenue_wan"], 1.0)
        ptype = c["party_type"]
        if product == "payroll_service":
            z = -3.0 + 1.0 * np.log1p(np.maximum(c["employees"], 0))
        elif product == "wealth_management":
            z = -2.0 + 0.8 * np.log(rev / 300.0) + 0.6 * c["quality"]
        elif product == "invoice_credit":
            z = (-1.6 + 0.4 * np.log(rev / 300.0) + 0.7 * c["quality"]
                 - 1.0 * (ptype == "business_owner"))
        elif product == "supply_chain_finance":
            z = -4.0 + 3.8 * (c["anchor_idx"] >= 0) - 1.0 * c["is_anchor"]
        elif product == "cash_management":
            z = -3.0 + 1.0 * np.log(rev / 500.0) + 0.5 * (ptype == "enterprise")
        else:
            raise ValueError(f"unknown product {product!r}; one of {list(PRODUCTS)}")
        z = np.asarray(z, dtype=np.float64)
        return z if idx is None else z[np.asarray(idx, np.int64)]

    def need_probability(self, product: str, idx: np.ndarray | None = None) -> np.ndarray:
        """P(need) per party: the latent causes plus the noise nobody observes."""
        every = np.arange(self.n)
        noise = NEED_NOISE * hashing.normal(self.seed, f"need-noise:{product}", every)
        p = _logistic(self.need_logit(product) + noise)
        return p if idx is None else p[np.asarray(idx, np.int64)]

    def needs(self, product: str, idx: np.ndarray | None = None) -> np.ndarray:
        """Whether each party needs the product (a fixed, hashed draw per party and product)."""
        if product not in self._need_cache:
            every = np.arange(self.n)
            self._need_cache[product] = (hashing.uniform(self.seed, f"need:{product}", every)
                                         < self.need_probability(product))
        need = self._need_cache[product]
        return need if idx is None else need[np.asarray(idx, np.int64)]

    # --- offers -------------------------------------------------------------------------

    def accept_probability(self, product: str, idx: np.ndarray,
                           repeat: np.ndarray | bool = False) -> np.ndarray:
        """P(accept) of an offer of ``product`` to each party (``repeat``: the same product was
        offered to the party within the previous 90 days)."""
        need = self.needs(product, idx)
        p = np.where(need, ACCEPT_IF_NEED[product], ACCEPT_WITHOUT_NEED)
        return np.where(np.asarray(repeat, bool), p * REPEAT_FACTOR, p)

    def accepts(self, product: str, idx: np.ndarray, day: np.ndarray,
                repeat: np.ndarray | bool = False) -> np.ndarray:
        """Whether each offer (party, ``day`` = day numbers) converts: a hashed draw per
        (party, product, day) against :meth:`accept_probability`."""
        idx = np.asarray(idx, np.int64)
        u = hashing.uniform(self.seed, f"accept:{product}", _key(idx, np.asarray(day, np.int64)))
        return u < self.accept_probability(product, idx, repeat)

    def conversion_balance(self, product: str, idx: np.ndarray) -> np.ndarray:
        """CNY the relationship gains when the party takes the product (see the table above)."""
        idx = np.asarray(idx, np.int64)
        if product == "payroll_service":
            value = self._col["employees"][idx] * PAYROLL_FLOAT_PER_EMPLOYEE
        elif product in REVENUE_SHARE:
            value = self._col["revenue_wan"][idx] * 10_000.0 * REVENUE_SHARE[product]
        else:
            raise ValueError(f"unknown product {product!r}; one of {list(PRODUCTS)}")
        return np.minimum(np.asarray(value, np.float64), BALANCE_CAP)

    # --- retention ----------------------------------------------------------------------

    def retention_draw(self, idx: np.ndarray, maturity_day: np.ndarray) -> np.ndarray:
        """The one uniform per matured loan that every action is compared against."""
        return hashing.uniform(self.seed, "retain", _key(idx, maturity_day))

    def retained(self, idx: np.ndarray, maturity_day: np.ndarray, churned: np.ndarray,
                 rejected: np.ndarray, action: np.ndarray, lead_days: np.ndarray) -> np.ndarray:
        """Whether each matured loan's customer stays *because of* the action.

        ``action``: the action's name per loan ('' = none); ``lead_days``: days from the action
        to the maturity. False for everyone who renewed anyway (``churned`` False), for a
        rejected renewal unless the action is a pre-approved renewal, and without an action.
        """
        action = np.asarray(action, dtype=object)
        p = np.array([retention_probability(a, d) if a else 0.0
                      for a, d in zip(action, lead_days, strict=True)], dtype=np.float64)
        p = np.where(np.asarray(rejected, bool) & (action != "preapproved_renewal"), 0.0, p)
        u = self.retention_draw(idx, maturity_day)
        return np.asarray(churned, bool) & (u < p)

    def is_good(self, idx: np.ndarray) -> np.ndarray:
        """Never defaults in the truth's horizon and no fraud-ring member (the party part of
        "good customer"; the loan part is the records' lateness)."""
        idx = np.asarray(idx, np.int64)
        return (self._col["default_month"][idx] < 0) & (self._col["fraud_ring"][idx] < 0)


# --- the bank's records: governed parties and maturities ----------------------------------


def governed_parties(con: Any, dataset_dir: Path | str) -> dict[str, int]:
    """Governed party id → the simulator's party index, through the applications (truth).

    A governed party that resolution merged from several simulated parties takes the one
    most of its applications belong to (ties: the smallest index).
    """
    path = Path(dataset_dir) / "truth" / "applications.parquet"
    truth = pq.read_table(path, columns=["application_no", "party_idx"])
    app_to_idx = dict(zip(truth.column(0).to_pylist(), truth.column(1).to_pylist(),
                          strict=True))
    counts: dict[str, dict[int, int]] = {}
    for app, party in con.execute(
            "SELECT application_id, party_id FROM gov.application").fetchall():
        idx = app_to_idx.get(app)
        if idx is None or party is None:
            continue
        votes = counts.setdefault(party, {})
        votes[idx] = votes.get(idx, 0) + 1
    return {party: min(votes, key=lambda i: (-votes[i], i)) for party, votes in counts.items()}


_MATURITIES_SQL = """
WITH late AS (
    SELECT loan_id,
           MAX(DATE_DIFF('day', due_date, COALESCE(paid_on, $as_of))) AS worst_late_days
    FROM gov.repayment WHERE due_date <= $as_of GROUP BY loan_id),
m AS (
    SELECT l.loan_id, l.party_id, l.principal_yuan, l.maturity_date,
           COALESCE(late.worst_late_days, 0) AS worst_late_days
    FROM gov.loan l LEFT JOIN late USING (loan_id)
    WHERE l.maturity_date BETWEEN $first AND $last_observable)
SELECT m.loan_id, m.party_id, m.principal_yuan, m.maturity_date, m.worst_late_days,
       EXISTS (SELECT 1 FROM gov.loan n WHERE n.party_id = m.party_id
               AND n.loan_id <> m.loan_id
               AND n.start_date BETWEEN m.maturity_date - $before
                                    AND m.maturity_date + $gap) AS renewed,
       EXISTS (SELECT 1 FROM gov.application a WHERE a.party_id = m.party_id
               AND a.decision = 'reject'
               AND a.applied_on BETWEEN m.maturity_date - $before
                                    AND m.maturity_date + $gap) AS rejected
FROM m ORDER BY m.maturity_date, m.loan_id
"""


@dataclass(frozen=True)
class Maturities:
    """Loans that matured in a window (with ``CHURN_GAP_DAYS`` left to see the outcome)."""

    loan_id: np.ndarray
    party_id: np.ndarray
    party_idx: np.ndarray  # −1: not in the truth (cannot be judged)
    principal: np.ndarray
    maturity: np.ndarray  # datetime64[D]
    worst_late_days: np.ndarray
    churned: np.ndarray  # no new loan of the party around the maturity (records)
    rejected: np.ndarray  # of the churned: a renewal the bank's expert rejected
    good: np.ndarray  # good customer (truth + records, see the module docstring)

    def __len__(self) -> int:
        return len(self.loan_id)


def maturities(con: Any, response: CustomerResponse, party_index: dict[str, int],
               first: dt.date, last: dt.date) -> Maturities:
    """Loans maturing between ``first`` and ``last − CHURN_GAP_DAYS``, with who churned."""
    last_observable = last - dt.timedelta(days=CHURN_GAP_DAYS)
    rows = con.execute(_MATURITIES_SQL, {
        "as_of": last, "first": first, "last_observable": last_observable,
        "before": CHURN_BEFORE_DAYS, "gap": CHURN_GAP_DAYS}).fetchall()
    loan = np.array([r[0] for r in rows], dtype=object)
    party = np.array([r[1] for r in rows], dtype=object)
    idx = np.array([party_index.get(p, -1) for p in party], dtype=np.int64)
    principal = np.array([float(r[2]) for r in rows], dtype=np.float64)
    maturity = np.array([r[3] for r in rows], dtype="datetime64[D]")
    late = np.array([int(r[4]) for r in rows], dtype=np.int64)
    churned = np.array([not r[5] for r in rows], dtype=bool)
    rejected = churned & np.array([bool(r[6]) for r in rows], dtype=bool)
    known = idx >= 0
    good = np.zeros(len(rows), bool)
    good[known] = response.is_good(idx[known])
    good &= late <= GOOD_OVERDUE_DAYS
    return Maturities(loan, party, idx, principal, maturity, late, churned, rejected, good)


__all__ = ["ACCEPT_IF_NEED", "ACCEPT_WITHOUT_NEED", "ACTIONS", "BALANCE_KIND", "CHURN_GAP_DAYS",
           "EARLY_DAYS", "PRODUCTS", "REPEAT_DAYS", "REPEAT_FACTOR", "RETENTION",
           "CustomerResponse", "Maturities", "day_number", "governed_parties", "maturities",
           "retention_probability"]
