"""The supervisor's staff pages: the team (alerts by level with their deadlines, ratings,
workload against the 200 target, the branch's radar) and one manager (radar against the branch
median, signals with values, thresholds and evidence, figures against peers, the check-in map,
the alert tasks with what the person may do next).

Why a view of its own and not the task pages: a staff alert is about an employee, so it is read
and worked under the staff scope (:func:`xiaowei.staff.view.staff_scope`) — a manager outside
it is a 404 — and every view leaves an audit entry naming who looked at whom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from markupsafe import Markup
from sqlalchemy import Engine

from xiaowei.engine.workflow import TaskNotFound, TaskView, WorkflowError, format_late
from xiaowei.security.principal import PermissionDenied
from xiaowei.security.roles import default_roles
from xiaowei.staff import alert_tasks as alerts
from xiaowei.staff import view as staff
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser

Reader = Callable[[], Any] | None
WORK_STEPS = ("acknowledge", "investigate", "close", "escalate")
CHECK_STEPS = ("confirm", "return")
FIGURES = {  # figure → (zh, en, format: percent | count | money | ratio)
    "customers": ("管户数", "customers", "count"),
    "utilisation": ("工时负荷率", "hours utilisation", "percent"),
    "new_customers": ("新增客户", "new customers", "count"),
    "outstanding_yuan": ("贷款余额（元）", "outstanding (yuan)", "money"),
    "conversion_rate": ("新客转化率", "new-customer conversion", "percent"),
    "renewal_rate": ("续贷率", "renewal rate", "percent"),
    "par30": ("PAR30", "PAR30", "percent"),
    "par90": ("PAR90", "PAR90", "percent"),
    "fpd_rate": ("首期违约率", "first-payment default", "percent"),
}


def _scope(user: WebUser) -> staff.StaffScope:
    try:
        return staff.staff_scope(user)
    except PermissionDenied as refused:
        raise HTTPException(403, str(refused)) from refused


def may_work(user: WebUser) -> bool:
    """Who acknowledges, investigates, closes and escalates: a staff-scope holder whose role
    may change things (a supervisor; never a read-only role)."""
    return user.can_read("staff") and not default_roles().role(user.role).read_only


def may_check(user: WebUser) -> bool:
    """Who confirms or returns a closing as the second person: a second staff-scope holder
    whose role may change things (the work queue refuses the maker; an auditor's role is
    read-only — auditors read the trail, they do not take part in it)."""
    return may_work(user)


def _label(lang: str, found: Any, key: str) -> str:
    return pick(lang, found.zh, found.en) if found is not None else key


def _task_row(view: TaskView, user: WebUser, lang: str, now: dt.datetime,
              names: dict[str, str]) -> dict[str, Any]:
    rules = alerts.load_alert_rules()
    p = dict(view.payload)
    result = dict(view.result or {})
    me = {user.name} | ({user.manager_id} if user.manager_id else set())
    holder = view.claimed_by is not None and any(view.claimed_by.lower() == m.lower()
                                                 for m in me)
    awaiting = view.stage == "checker"
    maker = str(result.get("maker") or "")
    late = view.late_by(now)
    return {
        "task_id": view.task_id, "status": str(view.status), "stage": view.stage,
        "manager_id": p.get("manager_id"), "name": names.get(p.get("manager_id"), ""),
        "branch_id": p.get("branch_id"), "as_of": p.get("as_of"), "level": p.get("level"),
        "level_text": _label(lang, rules.levels.get(p.get("level")), str(p.get("level"))),
        "categories": [_label(lang, rules.categories.get(c), c) for c in p.get("categories")
                       or []],
        "signals": [{"label": pick(lang, s.get("name_zh"), s.get("name_en") or s.get("signal")),
                     "level": s.get("level"), "value": _num(s.get("value")),
                     "threshold": _num(s.get("threshold")),
                     "evidence": list(s.get("evidence") or [])[:5]}
                    for s in p.get("signals") or []],
        "due_at": view.due_at, "late": format_late(late) if late else None,
        "claimed_by": view.claimed_by, "result": result,
        "outcome_text": _label(lang, rules.outcomes.get(result.get("outcome", "")),
                               str(result.get("outcome") or "")),
        "can_acknowledge": view.is_open and view.claimed_by is None and may_work(user),
        "can_work": view.is_open and holder and not awaiting and may_work(user),
        "can_check": view.is_open and awaiting and maker.lower() != user.name.lower()
        and may_check(user),
    }


def _num(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3g}"


def _in_scope(scope: staff.StaffScope, view: TaskView) -> bool:
    p = view.payload
    return scope.allows(p.get("branch_id"), str(p.get("manager_id") or ""))


def dashboard(engine: Engine, analytic: Reader, user: WebUser, lang: str, *,
              as_of: dt.date | None = None, branch: str = "",
              now: dt.datetime | None = None) -> dict[str, Any]:
    """The team on the latest batch day (or ``as_of``) and the open alert tasks in scope."""
    scope = _scope(user)
    now = now or dt.datetime.now(dt.UTC)
    branch_id = (branch.strip() or None) if scope.everything else scope.branch_id
    data: dict[str, Any] = {"managers": [], "median": {}, "ratings": {}, "as_of": None}
    tasks = [t for t in alerts.alert_tasks(engine) if _in_scope(scope, t)
             and (branch_id is None or t.payload.get("branch_id") == branch_id)]
    names: dict[str, str] = {}
    reason = None
    if analytic is None:
        reason = "no analytic store"
    else:
        cursor = analytic()
        try:
            if not staff.has_staff_day(cursor):
                reason = "no staff batch has run: xiaowei staff run"
            else:
                data = staff.team(cursor, as_of, branch_id)
                names = staff.manager_names(cursor, [str(t.payload.get("manager_id"))
                                                     for t in tasks])
        finally:
            cursor.close()
    managers = [m for m in data["managers"] if scope.allows(m["branch_id"], m["manager_id"])]
    rows = [_task_row(t, user, lang, now, names) for t in tasks]
    by_level = [{"level": lv, "text": _label(lang, alerts.load_alert_rules().levels[lv], lv),
                 "tasks": [r for r in rows if r["level"] == lv]} for lv in ("red", "orange",
                                                                           "yellow")]
    labels = staff.dimension_labels(lang)
    radar = Markup(staff.radar_svg(data["median"], labels, names=(
        pick(lang, "支行中位数", "branch median"), ""))) if managers else ""
    staff.record_view(engine, user, "team", [m["manager_id"] for m in managers]
                      + [r["manager_id"] for r in rows],
                      branch_id=branch_id, as_of=str(data["as_of"] or ""))
    return {"reason": reason, "as_of": data["as_of"], "branch_id": branch_id,
            "everything": scope.everything, "managers": managers, "alerts": by_level,
            "open_alerts": len(rows), "late_alerts": sum(1 for r in rows if r["late"]),
            "ratings": data["ratings"], "radar": radar}


def _figures(found: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    out = []
    for f in found["figures"]:
        zh, en, kind = FIGURES[f["figure"]]
        out.append({"label": pick(lang, zh, en), "kind": kind, "value": f["value"],
                    "median": f["median"]})
    return out


def manager_page(engine: Engine, analytic: Reader, user: WebUser, manager_id: str, lang: str,
                 *, as_of: dt.date | None = None, radius_m: float = 500,
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """One manager (404 outside the person's staff scope, the attempt audited)."""
    scope = _scope(user)
    now = now or dt.datetime.now(dt.UTC)
    if analytic is None:
        raise HTTPException(404, "no such manager")
    cursor = analytic()
    try:
        try:
            found = staff.scoped_manager(cursor, scope, manager_id, as_of)
        except staff.ManagerNotFound as missing:
            staff.record_view(engine, user, "refused", [manager_id])
            raise HTTPException(404, "no such manager") from missing
        points = staff.checkin_points(cursor, manager_id, found["as_of"], 30, radius_m)
    finally:
        cursor.close()
    labels = staff.dimension_labels(lang)
    radar = staff.radar_svg(found["dims"], labels, found["median"], names=(
        found["manager"]["name"], pick(lang, "支行中位数", "branch median")))
    names = {manager_id: found["manager"]["name"]}
    tasks = sorted(alerts.alert_tasks(engine, manager_ids=[manager_id], open_only=False),
                   key=lambda t: (not t.is_open, str(t.payload.get("as_of"))), reverse=False)
    rules = alerts.load_alert_rules()
    queue = alerts.alert_queue(engine)
    rows = []
    for t in tasks:
        row = _task_row(t, user, lang, now, names)
        row["events"] = queue.events(t.task_id)
        rows.append(row)
    signals = [{**s, "label": pick(lang, s["name_zh"], s["name_en"] or s["signal"]),
                "category_text": _label(lang, rules.categories.get(s["category"]),
                                        s["category"]),
                "value": _num(s["value"]), "threshold": _num(s["threshold"]),
                "more": max(0, len(s["evidence"]) - 8), "evidence": s["evidence"][:8]}
               for s in found["signals"]]
    staff.record_view(engine, user, "manager", [manager_id], as_of=str(found["as_of"]),
                      branch_id=found["manager"]["branch_id"])
    return {"as_of": found["as_of"], "mgr": found["manager"],
            "m_name": found["manager"]["name"], "radar": Markup(radar),
            "map": Markup(staff.draw_checkin_map(points, radius_m, lang=lang)),
            "checkins": len(points), "far": sum(1 for p in points if p["far"]),
            "mock": sum(1 for p in points if p["mock"]), "radius_m": radius_m,
            "signals": signals, "figures": _figures(found, lang), "peers": found["peers"],
            "history": found["history"], "tasks": rows,
            "outcomes": [(k, pick(lang, v.zh, v.en)) for k, v in rules.outcomes.items()],
            "steps": {k: pick(lang, v.zh, v.en) for k, v in rules.steps.items()}}


def scoped_task(engine: Engine, user: WebUser, task_id: str) -> TaskView:
    """The alert task if the person may see it (404 otherwise, as for an unknown id)."""
    scope = _scope(user)
    try:
        view = alerts.alert_task(engine, task_id)
    except TaskNotFound as missing:
        raise HTTPException(404, "no such task") from missing
    if not _in_scope(scope, view):
        staff.record_view(engine, user, "refused", [str(view.payload.get("manager_id"))],
                          task=task_id)
        raise HTTPException(404, "no such task")
    return view


def act(engine: Engine, user: WebUser, task_id: str, action: str, *, note: str = "",
        outcome: str = "", to: str = "") -> TaskView:
    """One life-cycle step by the signed-in person (403 for a step their role may not take;
    the domain's refusals come back as :class:`WorkflowError`)."""
    scoped_task(engine, user, task_id)
    if action in WORK_STEPS and not may_work(user):
        raise HTTPException(403, f"role {user.role} may not work staff alerts")
    if action in CHECK_STEPS and not may_check(user):
        raise HTTPException(403, f"role {user.role} may not check staff alerts")
    who = {"by": user.name, "manager_id": user.manager_id}
    if action == "acknowledge":
        return alerts.acknowledge(engine, task_id, **who)
    if action == "investigate":
        return alerts.investigate(engine, task_id, **who)
    if action == "close":
        return alerts.close(engine, task_id, findings=note, outcome=outcome, **who)
    if action == "confirm":
        return alerts.confirm(engine, task_id, note=note, **who)
    if action == "return":
        return alerts.return_closing(engine, task_id, note=note, **who)
    if action == "escalate":
        return alerts.escalate(engine, task_id, note=note, to=to.strip() or None, **who)
    raise HTTPException(404, "no such action")


__all__ = ["WorkflowError", "act", "dashboard", "manager_page", "may_check", "may_work",
           "scoped_task"]
