"""Manager matching (客户经理匹配): which customer manager takes a new application, and why.

Why a rule the bank can read: the strategy only says which *tier* of manager a case needs;
who gets it decides whose workload grows, so the choice must be explainable to the managers
and their supervisor. The rule, in order:

1. eligible: the manager's ``risk_tier`` is at least the tier the strategy asked for;
2. room: the manager carries fewer customers than the target (``target_customers``, 200) —
   a customer is a distinct party with an active loan or an open application assigned to them;
3. nearest first: the application's own branch, then the same region (the branches' region
   codes share ``region_prefix`` digits), then anywhere;
4. ties: fewest customers, then manager id — deterministic, so a rerun assigns the same person.

No eligible manager with room is a result, not an error: the case goes to the branch
supervisor's queue (``no_manager_queue``). The figures live in ``manager_matching.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from xiaowei.origination.work_rules import load_rules as load_packaged_or
from xiaowei.store.tables import Application, Branch, CustomerManager, Loan

DEFAULT_FILE = "manager_matching.yaml"
SCOPES = ("same_branch", "same_region", "elsewhere")
_SCOPE_ZH = {"same_branch": "同网点", "same_region": "同地区", "elsewhere": "跨地区"}
_SCOPE_EN = {"same_branch": "same branch", "same_region": "same region",
             "elsewhere": "another region"}


class MatchingRules(BaseModel):
    """The parameters of manager matching (see ``manager_matching.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    target_customers: int = Field(ge=1)
    tiers: dict[str, int]
    region_prefix: int = Field(ge=1, le=12)
    active_loan_statuses: tuple[str, ...] = Field(min_length=1)
    open_application_statuses: tuple[str, ...] = Field(min_length=1)
    explain_passed_over: int = Field(ge=0, le=20)
    no_manager_queue: str = Field(min_length=1, max_length=32)

    def tier_number(self, tier: str | int | None) -> int:
        """The risk tier (1–3) a strategy's tier name or number stands for; none asked → 1."""
        if tier is None:
            return 1
        if isinstance(tier, int) and not isinstance(tier, bool) and 1 <= tier <= 3:
            return tier
        if isinstance(tier, str) and tier in self.tiers:
            return self.tiers[tier]
        raise ValueError(f"unknown manager tier {tier!r}; known: {sorted(self.tiers)} or 1–3")


def load_rules(path: Path | str | None = None) -> MatchingRules:
    """The rules from ``path`` or the packaged file; ``DataFileError`` with lines if wrong."""
    return load_packaged_or(MatchingRules, DEFAULT_FILE, path)


@dataclass(frozen=True)
class Candidate:
    """One manager as the rule saw them."""

    manager_id: str
    branch_id: str
    risk_tier: int
    scope: str  # one of SCOPES
    customers: int
    eligible: bool  # tier high enough
    has_room: bool  # below the target

    def why_not(self, required: int, target: int) -> tuple[str, str]:
        """(zh, en): why this candidate was not chosen, given the chosen one ranked first."""
        if not self.eligible:
            return (f"风险等级 {self.risk_tier} 低于要求 {required}",
                    f"risk tier {self.risk_tier} below the required {required}")
        if not self.has_room:
            return (f"已管户 {self.customers} 户，达到上限 {target}",
                    f"already carries {self.customers} customers, at the target {target}")
        return (f"排序靠后（{_SCOPE_ZH[self.scope]}，管户 {self.customers} 户）",
                f"ranked lower ({_SCOPE_EN[self.scope]}, {self.customers} customers)")


@dataclass(frozen=True)
class ManagerChoice:
    """The chosen manager (or none) with the explanation in Chinese and English."""

    manager_id: str | None
    required_tier: int
    branch_id: str
    queue: str | None  # where the case goes when nobody was chosen
    zh: str
    en: str
    considered: int
    passed_over: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"manager_id": self.manager_id, "required_tier": self.required_tier,
                "branch_id": self.branch_id, "queue": self.queue, "considered": self.considered,
                "explanation": {"zh": self.zh, "en": self.en}, "passed_over": self.passed_over}


def customers_by_manager(session: Session, rules: MatchingRules) -> dict[str, int]:
    """Distinct parties each manager carries: an active loan or an open application."""
    open_apps = select(Application.manager_id, Application.party_id).where(
        Application.manager_id.is_not(None),
        Application.status.in_(rules.open_application_statuses))
    loans = (select(Application.manager_id, Loan.party_id)
             .join(Loan, Loan.application_id == Application.application_id)
             .where(Application.manager_id.is_not(None),
                    Loan.status.in_(rules.active_loan_statuses)))
    both = union(open_apps, loans).subquery()
    rows = session.execute(select(both.c.manager_id, func.count(both.c.party_id))
                           .group_by(both.c.manager_id))
    return {manager: int(n) for manager, n in rows}


def _scope(home: Branch, other_branch: str, other_region: str, prefix: int) -> str:
    if other_branch == home.branch_id:
        return "same_branch"
    if other_region[:prefix] == home.region_code[:prefix]:
        return "same_region"
    return "elsewhere"


def candidates(session: Session, branch_id: str, required_tier: int,
               rules: MatchingRules) -> list[Candidate]:
    """Every manager, ranked: eligible with room, nearest, fewest customers, then id. A
    manager's tier is the granted ``risk_tier`` capped by the staff batch's ``staff_tier_cap``."""
    home = session.get(Branch, branch_id)
    if home is None:
        raise LookupError(f"branch {branch_id!r} is not in the store")
    load = customers_by_manager(session, rules)
    rows = session.execute(select(CustomerManager.manager_id, CustomerManager.branch_id,
                                  CustomerManager.risk_tier, CustomerManager.staff_tier_cap,
                                  Branch.region_code)
                           .join(Branch, Branch.branch_id == CustomerManager.branch_id))
    found = []
    for manager_id, branch, granted, cap, region in rows:
        # The staff batch's cap (ability rating, quality, behaviour) only ever lowers the grant.
        tier = min(int(granted), int(cap)) if cap is not None else int(granted)
        customers = load.get(manager_id, 0)
        found.append(Candidate(manager_id, branch, int(tier),
                               _scope(home, branch, region, rules.region_prefix), customers,
                               eligible=int(tier) >= required_tier,
                               has_room=customers < rules.target_customers))
    # Those who could take it, then the eligible but full, then the rest: so the passed-over
    # list of an explanation names the closest alternatives first.
    return sorted(found, key=lambda c: (not (c.eligible and c.has_room), not c.eligible,
                                        SCOPES.index(c.scope), c.customers, c.manager_id))


def choose_manager(session: Session, branch_id: str, tier: str | int | None,
                   rules: MatchingRules | None = None) -> ManagerChoice:
    """Choose the manager for a case at ``branch_id`` needing ``tier`` (reads, never writes)."""
    rules = rules or load_rules()
    required = rules.tier_number(tier)
    ranked = candidates(session, branch_id, required, rules)
    target = rules.target_customers
    counts = {s: sum(1 for c in ranked if c.scope == s) for s in SCOPES}
    seen_zh = (f"共考虑 {len(ranked)} 名客户经理（同网点 {counts['same_branch']}、同地区 "
               f"{counts['same_region']}、其他 {counts['elsewhere']}）")
    seen_en = (f"{len(ranked)} managers considered ({counts['same_branch']} same branch, "
               f"{counts['same_region']} same region, {counts['elsewhere']} elsewhere)")
    best = ranked[0] if ranked and ranked[0].eligible and ranked[0].has_room else None
    others = [c for c in ranked if c is not best][: rules.explain_passed_over]
    passed = [{"manager_id": c.manager_id, "zh": z, "en": e}
              for c in others for z, e in [c.why_not(required, target)]]
    if best is None:
        eligible = sum(1 for c in ranked if c.eligible)
        return ManagerChoice(
            None, required, branch_id, rules.no_manager_queue,
            f"{seen_zh}；无可分配的客户经理：{eligible} 名风险等级 ≥ {required}，"
            f"均已达管户上限 {target} 户。转网点主管队列。",
            f"{seen_en}; no manager available: {eligible} have risk tier ≥ {required} and "
            f"all carry the target {target} customers or more. Sent to the branch "
            "supervisor's queue.",
            len(ranked), passed)
    return ManagerChoice(
        best.manager_id, required, branch_id, None,
        f"{seen_zh}；选定 {best.manager_id}：风险等级 {best.risk_tier} ≥ 要求 {required}，"
        f"{_SCOPE_ZH[best.scope]}，当前管户 {best.customers} 户 < 上限 {target} 户，"
        "在符合条件者中距离最近、管户最少。",
        f"{seen_en}; chose {best.manager_id}: risk tier {best.risk_tier} ≥ required "
        f"{required}, {_SCOPE_EN[best.scope]}, carries {best.customers} customers < target "
        f"{target}; nearest and least loaded of those eligible.",
        len(ranked), passed)


def assign_manager(session: Session, application_id: str, tier: str | int | None,
                   rules: MatchingRules | None = None) -> ManagerChoice:
    """Choose and write ``application.manager_id`` in the caller's transaction."""
    application = session.get(Application, application_id, with_for_update=True)
    if application is None:
        raise LookupError(f"application {application_id!r} is not in the store")
    choice = choose_manager(session, application.branch_id, tier, rules)
    application.manager_id = choice.manager_id
    return choice


__all__ = ["Candidate", "ManagerChoice", "MatchingRules", "assign_manager", "candidates",
           "choose_manager", "customers_by_manager", "load_rules"]
