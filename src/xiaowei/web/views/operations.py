"""Customer operations on the workbench: customers by maintenance grade and life-cycle stage,
one customer's whole relationship, and each manager's plan for the day.

Why read the customer batch's stored day (``customers.customer_day``) and not recompute: the
pages must show the grade and stage managers are asked to act on — the same rows the reports
count. Row-level scope follows the security matrix: a customer manager sees the customers he
manages, a supervisor or approver the branch's, analysts, auditors and admins all; a customer
outside that scope answers 404.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from markupsafe import Markup
from sqlalchemy import Engine, select

from xiaowei.customers.customer_tables import StaleCustomerDay, customer_days, has_tables
from xiaowei.customers.grades import Grade
from xiaowei.customers.lifecycle import Stage
from xiaowei.customers.view import CustomerNotFound, customer_view
from xiaowei.entities.masking import mask_name
from xiaowei.reports.svg import bar_chart
from xiaowei.security.principal import visible_tasks
from xiaowei.store.database import transaction
from xiaowei.store.tables import Task
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser

OPEN = ("open", "acknowledged", "in_progress", "escalated")
COLUMNS = ("party_id", "party_type", "grade", "value_score", "lifecycle_stage", "balance_yuan",
           "deposit_balance_yuan", "days_to_maturity", "visit_every_days", "visit_due",
           "last_visit_on", "manager_id", "branch_id", "risk_level", "service_package")
LIMIT = 200


def _in_scope(user: WebUser, row: dict[str, Any]) -> bool:
    scope = user.scope("customers")
    if scope == "all":
        return True
    if scope == "branch":
        return user.branch_id is not None and row.get("branch_id") == user.branch_id
    if scope == "own":
        return user.manager_id is not None and row.get("manager_id") == user.manager_id
    return False


def _book(cursor: Any, user: WebUser, as_of: dt.date) -> tuple[list[dict[str, Any]], str | None]:
    """The customers this person may see on the latest batch day, or a reason there are none."""
    if not has_tables(cursor):
        return [], "no customer batch has run: xiaowei customers run"
    try:
        table = customer_days(cursor, as_of, columns=COLUMNS, max_age_days=3660)
    except StaleCustomerDay as stale:
        return [], str(stale)
    rows = [r for r in table.to_pylist() if _in_scope(user, r)]
    names = dict(cursor.execute(
        "SELECT party_id, name FROM gov.party WHERE party_id IN (SELECT unnest($ids))",
        {"ids": [r["party_id"] for r in rows]}).fetchall()) if rows else {}
    for r in rows:
        r["name"] = mask_name(names.get(r["party_id"]) or "") or r["party_id"]
    return rows, None


def _latest(cursor: Any) -> dt.date | None:
    """The customer batch's latest day, or None when it has not run."""
    found = cursor.execute("SELECT max(as_of) FROM customers.customer_day").fetchone() \
        if has_tables(cursor) else None
    return found[0] if found and found[0] else None


def customer_list(analytic: Callable[[], Any] | None, user: WebUser, lang: str,
                  grade: str = "", stage: str = "") -> dict[str, Any]:
    """Counts by grade × stage, a chart of grades, and the customers of one cell."""
    if analytic is None:
        return {"rows": [], "reason": "no analytic store", "matrix": [], "grades": [],
                "stages": [], "chart": "", "as_of": None, "grade": grade, "stage": stage}
    cursor = analytic()
    try:
        as_of = _latest(cursor)
        rows, reason = _book(cursor, user, as_of or dt.date.today())
    finally:
        cursor.close()
    grades = [g.value for g in Grade]
    stages = [s.value for s in Stage]
    counts = Counter((r["grade"], r["lifecycle_stage"]) for r in rows)
    matrix = [{"grade": g, "cells": [counts.get((g, s), 0) for s in stages]} for g in grades]
    chosen = [r for r in rows if (not grade or r["grade"] == grade)
              and (not stage or r["lifecycle_stage"] == stage)]
    chosen.sort(key=lambda r: (-(r["value_score"] or 0), r["party_id"]))
    by_grade = Counter(r["grade"] for r in rows)
    chart = Markup(bar_chart(grades, [by_grade.get(g, 0) for g in grades],
                             title=pick(lang, "维护等级分布", "customers by maintenance grade"),
                             value_format="{:.0f}", width=360, height=220,
                             y_range=(0, max([5, *by_grade.values()])))) if rows else ""
    return {"rows": chosen[:LIMIT], "shown": min(len(chosen), LIMIT), "total": len(chosen),
            "reason": reason, "matrix": matrix, "grades": grades,
            "stages": [{"id": s, "label": pick(lang, Stage(s).zh, s.replace("_", " "))}
                       for s in stages], "chart": chart, "as_of": as_of, "grade": grade,
            "stage": stage}


def operations_customer(analytic: Callable[[], Any] | None, user: WebUser,
                        party_id: str) -> dict[str, Any]:
    """One customer's relationship document (404 outside the person's scope)."""
    if analytic is None:
        raise HTTPException(404, "no such customer")
    cursor = analytic()
    try:
        as_of = _latest(cursor)
        rows, _ = _book(cursor, user, as_of or dt.date.today())
        if as_of is None or party_id not in {r["party_id"] for r in rows}:
            raise HTTPException(404, "no such customer")
        try:
            doc = customer_view(cursor, party_id, as_of, max_age_days=3660)
        except CustomerNotFound as missing:
            raise HTTPException(404, "no such customer") from missing
    finally:
        cursor.close()
    return {"doc": doc, "as_of": as_of, "party_id": party_id}


def day_plan(engine: Engine, analytic: Callable[[], Any] | None, user: WebUser,
             lang: str) -> dict[str, Any]:
    """The manager's day: maintenance visits due, loans coming up for renewal, open tasks."""
    visits: list[dict[str, Any]] = []
    renewals: list[dict[str, Any]] = []
    as_of = None
    if analytic is not None:
        cursor = analytic()
        try:
            as_of = _latest(cursor)
            rows, _ = _book(cursor, user, as_of or dt.date.today())
        finally:
            cursor.close()
        mine = [r for r in rows if user.manager_id is None or r["manager_id"] == user.manager_id]
        visits = sorted((r for r in mine if r["visit_due"]),
                        key=lambda r: (r["grade"], -(r["value_score"] or 0)))[:50]
        renewals = sorted((r for r in mine if r["days_to_maturity"] is not None
                           and 0 <= r["days_to_maturity"] <= 90),
                          key=lambda r: r["days_to_maturity"])[:50]
    with transaction(engine) as session:
        me = [user.name] + ([user.manager_id] if user.manager_id else [])
        tasks = session.scalars(select(Task).where(
            Task.status.in_(OPEN), Task.claimed_by.in_(me), visible_tasks(user))
            .order_by(Task.due_at, Task.task_id).limit(100)).all()
        work = [{"task_id": t.task_id, "kind": t.kind, "queue": t.queue, "due_at": t.due_at,
                 "party": t.party.name_masked if t.party is not None else "—",
                 "detail": (t.payload or {}).get("level") or (t.payload or {}).get("step_zh")
                 or (t.payload or {}).get("product") or ""} for t in tasks]
    return {"visits": visits, "renewals": renewals, "work": work, "as_of": as_of,
            "stage_label": {s.value: pick(lang, s.zh, s.value) for s in Stage}}


__all__ = ["customer_list", "day_plan", "operations_customer"]
