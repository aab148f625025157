"""Portfolio balancing (管户均衡): the maintenance hours each manager's customers need, and
deterministic suggestions to move customers so nobody is over capacity or under-qualified.

Why from the grades: a grade says how often its customers must be visited and how senior
their manager must be (the pack's maintenance table); the capacity table
(``origination/capacity.yaml``) says what a visit and a year of servicing cost and how many
hours a manager has. So "customers per manager" stops being a headcount and becomes hours:

* a customer needs ``365 / visit_every_days × maintenance_visit_hours +
  servicing_hours_per_customer_year`` hours a year (no visits when ``visit_every_days`` is 0);
* a manager has ``hours_per_year × customer_work_share × maintenance_share`` hours for it
  (``balancing.yaml``) and carries at most ``target_customers`` (``manager_matching.yaml``).

Suggestions, in this order, each move to a manager **of the customer's branch** whose
``risk_tier`` is at least the tier the grade asks for and who keeps within both limits
after the move (the lowest sufficient tier first — seniors are scarce —, then the most spare
hours, then the manager id):

1. ``orphaned`` — the customer's manager is not (or no longer) a manager of the bank;
2. ``seniority`` — the manager's tier is below the one the grade asks for (customers needing
   a senior first: seniors are the scarcest);
3. ``overload`` — a manager over either limit gives away customers, lower grades first
   (``move_order``), by party id, until within both.

A customer nobody can take stays where it is; what remains is reported as *unresolved*
(customers still orphaned or under-served by seniority, managers still over a limit and by
how many hours and customers) — a result (hire, promote, or move across branches by hand),
not an error. Customers without any manager (prospects
who never applied) are reported as unassigned with the hours they would need.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaowei.customers.grades import GRADES, ManagerTier
from xiaowei.entities.datafiles import load_data_file
from xiaowei.origination.capacity import Capacity, load_capacity
from xiaowei.origination.manager_matching import load_rules as load_matching_rules
from xiaowei.store.tables import CustomerManager

MoveReason = Literal["orphaned", "seniority", "overload"]


class BalancingRules(BaseModel):
    """``balancing.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    maintenance_share: float = Field(gt=0, le=1)
    move_order: tuple[str, ...] = Field(min_length=1)

    @field_validator("move_order")
    @classmethod
    def _grades(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [g for g in value if g not in GRADES]
        if bad or len(set(value)) != len(value):
            raise ValueError(f"move_order must list distinct grades of {list(GRADES)}, "
                             f"got {list(value)}")
        return value


def load_balancing_rules(path: Path | str | None = None) -> BalancingRules:
    return load_data_file(BalancingRules, __package__ or "xiaowei.customers",
                          "balancing.yaml", path)


@dataclass(frozen=True)
class Manager:
    manager_id: str
    branch_id: str
    risk_tier: int


@dataclass(frozen=True)
class Customer:
    """What balancing needs of one customer (a ``customer_day`` row)."""

    party_id: str
    grade: str
    manager_tier: str
    visit_every_days: int
    manager_id: str | None
    branch_id: str | None


@dataclass(frozen=True)
class Move:
    party_id: str
    grade: str
    required_tier: int
    hours: float
    from_manager: str | None
    to_manager: str
    branch_id: str
    reason: MoveReason


@dataclass
class ManagerLoad:
    manager_id: str
    branch_id: str
    risk_tier: int
    capacity_hours: float
    customers: int = 0
    hours: float = 0.0
    customers_after: int = 0
    hours_after: float = 0.0
    by_grade: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"manager_id": self.manager_id, "branch_id": self.branch_id,
                "risk_tier": self.risk_tier, "customers": self.customers,
                "hours": round(self.hours, 1), "customers_after": self.customers_after,
                "hours_after": round(self.hours_after, 1),
                "capacity_hours": round(self.capacity_hours, 1),
                "utilisation": round(self.hours / self.capacity_hours, 3),
                "utilisation_after": round(self.hours_after / self.capacity_hours, 3),
                "by_grade": self.by_grade}


@dataclass(frozen=True)
class BalanceReport:
    capacity_hours: float
    target_customers: int
    managers: list[ManagerLoad]
    moves: list[Move]
    unresolved: dict[str, float]  # what no move could fix (see balance_portfolio)
    unassigned: dict[str, Any]  # customers without any manager

    @property
    def overloaded_before(self) -> int:
        return sum(1 for m in self.managers if m.hours > m.capacity_hours + 1e-9
                   or m.customers > self.target_customers)

    @property
    def overloaded_after(self) -> int:
        return sum(1 for m in self.managers if m.hours_after > m.capacity_hours + 1e-9
                   or m.customers_after > self.target_customers)

    def to_json(self) -> dict[str, Any]:
        assigned = sum(m.customers for m in self.managers)
        hours = sum(m.hours for m in self.managers)
        n = len(self.managers)
        return {
            "capacity_hours_per_manager": round(self.capacity_hours, 1),
            "target_customers": self.target_customers, "managers": n,
            "customers_assigned": assigned,
            "customers_per_manager": round(assigned / n, 1) if n else None,
            "hours_needed": round(hours, 1),
            "hours_per_manager": round(hours / n, 1) if n else None,
            "managers_needed": round(hours / self.capacity_hours, 1),
            "overloaded_before": self.overloaded_before,
            "overloaded_after": self.overloaded_after,
            "moves": len(self.moves),
            "moves_by_reason": dict(sorted(Counter(m.reason for m in self.moves).items())),
            "unresolved": self.unresolved, "unassigned": self.unassigned,
            "by_manager": [m.to_json() for m in self.managers],
            "suggestions": [{"party_id": m.party_id, "grade": m.grade,
                             "required_tier": m.required_tier, "hours": round(m.hours, 2),
                             "from": m.from_manager, "to": m.to_manager,
                             "branch_id": m.branch_id, "reason": m.reason}
                            for m in self.moves]}


def customer_hours(visit_every_days: int, capacity: Capacity) -> float:
    """Maintenance hours a customer needs in a year (visits + routine servicing)."""
    if visit_every_days < 0:
        raise ValueError(f"visit_every_days must be ≥ 0, got {visit_every_days}")
    visits = 365.0 / visit_every_days if visit_every_days else 0.0
    return (visits * capacity.maintenance_visit_hours.value
            + capacity.servicing_hours_per_customer_year.value)


def managers_from_store(engine: Engine) -> list[Manager]:
    """The bank's customer managers (transactional store), by id."""
    with Session(engine) as session:
        rows = session.execute(select(CustomerManager.manager_id, CustomerManager.branch_id,
                                      CustomerManager.risk_tier)
                               .order_by(CustomerManager.manager_id)).all()
    return [Manager(str(m), str(b), int(t)) for m, b, t in rows]


def managers_from_analytic(con: duckdb.DuckDBPyConnection) -> list[Manager]:
    """The managers as loaded into the analytic store (``raw.bank_managers``), by id."""
    rows = con.execute("SELECT DISTINCT manager_id, branch_id, risk_tier FROM raw.bank_managers "
                       "ORDER BY manager_id").fetchall()
    return [Manager(str(m), str(b), int(t)) for m, b, t in rows]


def customers_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Customer]:
    return [Customer(str(r["party_id"]), str(r["grade"]), str(r["manager_tier"]),
                     int(r["visit_every_days"] or 0), r.get("manager_id"), r.get("branch_id"))
            for r in rows]


BALANCE_COLUMNS = ("party_id", "grade", "manager_tier", "visit_every_days", "manager_id",
                   "branch_id")


def balance_portfolio(customers: Sequence[Customer], managers: Sequence[Manager], *,
                      capacity: Capacity | None = None, rules: BalancingRules | None = None,
                      target_customers: int | None = None) -> BalanceReport:
    """Hours and customers per manager, and the moves that bring everyone within limits."""
    capacity = capacity or load_capacity()
    rules = rules or load_balancing_rules()
    target = target_customers if target_customers is not None else \
        load_matching_rules().target_customers
    if target < 1:
        raise ValueError(f"target_customers must be ≥ 1, got {target}")
    limit = capacity.manager_customer_hours * rules.maintenance_share
    loads = {m.manager_id: ManagerLoad(m.manager_id, m.branch_id, m.risk_tier, limit)
             for m in sorted(managers, key=lambda m: m.manager_id)}
    by_branch: dict[str, list[ManagerLoad]] = defaultdict(list)
    for load in loads.values():
        by_branch[load.branch_id].append(load)
    hours = {c.party_id: customer_hours(c.visit_every_days, capacity) for c in customers}
    owner: dict[str, str | None] = {}
    unassigned: list[Customer] = []
    for c in sorted(customers, key=lambda c: c.party_id):
        if c.manager_id is None and c.branch_id is None:
            unassigned.append(c)
            continue
        owner[c.party_id] = c.manager_id if c.manager_id in loads else None
        if owner[c.party_id] is not None:
            load = loads[c.manager_id]  # type: ignore[index]
            load.customers += 1
            load.hours += hours[c.party_id]
            load.by_grade[c.grade] = load.by_grade.get(c.grade, 0) + 1
    for load in loads.values():
        load.customers_after, load.hours_after = load.customers, load.hours
        load.by_grade = {g: load.by_grade[g] for g in GRADES if g in load.by_grade}
    moves: list[Move] = []

    def place(c: Customer, reason: MoveReason) -> bool:
        need = ManagerTier(c.manager_tier).risk_tier
        h = hours[c.party_id]
        current = owner.get(c.party_id)
        options = [m for m in by_branch.get(c.branch_id or "", [])
                   if m.manager_id != current and m.risk_tier >= need
                   and m.hours_after + h <= limit + 1e-9 and m.customers_after + 1 <= target]
        if not options:
            return False
        to = min(options, key=lambda m: (m.risk_tier - need, -(limit - m.hours_after),
                                         m.manager_id))
        if current is not None:
            loads[current].customers_after -= 1
            loads[current].hours_after -= h
        to.customers_after += 1
        to.hours_after += h
        owner[c.party_id] = to.manager_id
        moves.append(Move(c.party_id, c.grade, need, h, current if current is not None
                          else c.manager_id, to.manager_id, c.branch_id or "", reason))
        return True

    placed = [c for c in sorted(customers, key=lambda c: (c.branch_id or "", c.party_id))
              if c.party_id in owner]
    for c in placed:
        if owner[c.party_id] is None:
            place(c, "orphaned")
    # the most senior needs first: a scarce senior's hours go to the customers only a senior
    # may serve before anyone else's
    for c in sorted(placed, key=lambda c: (c.branch_id or "",
                                           -ManagerTier(c.manager_tier).risk_tier, c.party_id)):
        current = owner[c.party_id]
        if current is not None and loads[current].risk_tier < \
                ManagerTier(c.manager_tier).risk_tier:
            place(c, "seniority")
    rank = {g: i for i, g in enumerate(rules.move_order)}
    held: dict[str, list[Customer]] = defaultdict(list)
    for c in placed:
        if owner[c.party_id] is not None and c.grade in rank:
            held[owner[c.party_id]].append(c)  # type: ignore[index]
    for load in loads.values():
        if load.hours_after <= limit + 1e-9 and load.customers_after <= target:
            continue
        mine = sorted(held.get(load.manager_id, ()), key=lambda c: (rank[c.grade], c.party_id))
        for c in mine:
            if load.hours_after <= limit + 1e-9 and load.customers_after <= target:
                break
            place(c, "overload")
    by_grade = Counter(c.grade for c in unassigned)
    unresolved = {
        "orphaned": sum(1 for c in placed if owner[c.party_id] is None),
        "seniority": sum(1 for c in placed if owner[c.party_id] is not None
                         and loads[owner[c.party_id]].risk_tier  # type: ignore[index]
                         < ManagerTier(c.manager_tier).risk_tier),
        "overloaded_managers": sum(1 for m in loads.values()
                                   if m.hours_after > limit + 1e-9
                                   or m.customers_after > target),
        "excess_hours": round(sum(max(0.0, m.hours_after - limit) for m in loads.values()), 1),
        "excess_customers": sum(max(0, m.customers_after - target) for m in loads.values())}
    return BalanceReport(
        limit, target, list(loads.values()), moves, unresolved,
        {"customers": len(unassigned),
         "hours": round(sum(hours[c.party_id] for c in unassigned), 1),
         "by_grade": {g: by_grade[g] for g in GRADES if g in by_grade}})


__all__ = ["BALANCE_COLUMNS", "BalanceReport", "BalancingRules", "Customer", "Manager",
           "ManagerLoad", "Move", "balance_portfolio", "customer_hours",
           "customers_from_rows", "load_balancing_rules", "managers_from_analytic",
           "managers_from_store"]
