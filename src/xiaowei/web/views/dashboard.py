"""The dashboard: today's intake, how much the engine decided alone, the review queue against
its service level, approvals, the loan book's quality and what needs attention now.

Why these figures: they are the department's targets (DESIGN §1) — approvals a day with the
same approvers, the automatic share, no review left past its SLA, risk no worse than before.
"Today" is the Beijing day of receipt, since that is when the bank's work happens.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from markupsafe import Markup
from sqlalchemy import Engine, func, select

from xiaowei.entities.task import TaskKind
from xiaowei.reports.svg import bar_chart, histogram
from xiaowei.security.principal import visible_tasks
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, ApplicationIntake, Decision, DecisionLog, Loan, Task
from xiaowei.web.access import application_scope
from xiaowei.web.render import BEIJING
from xiaowei.web.session import WebUser

OPEN = ("open", "acknowledged", "in_progress", "escalated")
DAYS = 14


POSTLOAN_QUEUES = ("postloan_warning", "postloan_collection")
CLASSES = ("正常", "关注", "次级", "可疑", "损失")


def _day_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(BEIJING)
    return dt.datetime.combine(local.date(), dt.time(), tzinfo=BEIJING).astimezone(dt.UTC)


def dashboard(engine: Engine, user: WebUser, tr: Any, now: dt.datetime | None = None,
              analytic: Callable[[], Any] | None = None) -> dict[str, Any]:
    """The figures and charts of the dashboard, within the person's branch scope;
    ``analytic`` (a cursor factory) adds the post-loan book's five-level classes."""
    now = now or dt.datetime.now(dt.UTC)
    today = _day_start(now)
    since = today - dt.timedelta(days=DAYS - 1)
    with transaction(engine) as session:
        scope = application_scope(session, user)

        def scoped(query: Any) -> Any:
            return query if scope is None else query.where(scope)

        received = session.execute(scoped(
            select(ApplicationIntake.received_at, DecisionLog.mode, DecisionLog.outcome)
            .join(Application, Application.application_id == ApplicationIntake.application_id)
            .join(DecisionLog, DecisionLog.application_id == Application.application_id)
            .where(ApplicationIntake.received_at >= since,
                   DecisionLog.superseded_by.is_(None)))).all()
        reviews = session.execute(scoped(
            select(Task.due_at, Task.status, Task.closed_at)
            .join(Application, Application.application_id == Task.application_id)
            .where(Task.kind == str(TaskKind.MANUAL_REVIEW)))).all()
        decided = session.execute(scoped(
            select(Decision.outcome, Decision.decided_by)
            .join(Application, Application.application_id == Decision.application_id)
            .where(Decision.decided_at >= today))).all()
        loans = Counter(dict(session.execute(scoped(
            select(Loan.status, func.count())
            .join(Application, Application.application_id == Loan.application_id)
            .group_by(Loan.status))).all()))
        postloan = session.execute(
            select(Task.queue, Task.payload, Task.due_at)
            .where(Task.queue.in_(POSTLOAN_QUEUES), Task.status.in_(OPEN),
                   visible_tasks(user))).all()
        field_open = session.scalar(scoped(
            select(func.count()).select_from(Task)
            .join(Application, Application.application_id == Task.application_id)
            .where(Task.kind != str(TaskKind.MANUAL_REVIEW), Task.status.in_(OPEN)))) or 0
    todays = [r for r in received if _aware(r[0]) >= today]
    automatic = sum(1 for r in todays if r[1] == "automatic")
    pending = [r for r in reviews if r[1] in OPEN]
    overdue = sum(1 for r in pending if r[0] is not None and _aware(r[0]) < now)
    closed = [r for r in reviews if r[2] is not None and r[0] is not None]
    on_time = sum(1 for r in closed if _aware(r[2]) <= _aware(r[0]))
    book = sum(loans.values())
    approvals = Counter(r[0] for r in decided)
    by_person = sum(1 for r in decided if not str(r[1]).startswith("engine:"))
    figures = {
        "today": len(todays), "automatic": automatic,
        "automatic_share": automatic / len(todays) if todays else None,
        "pending": len(pending), "overdue": overdue,
        "sla_met": on_time / len(closed) if closed else None, "closed_reviews": len(closed),
        "approved": approvals.get("approve", 0), "rejected": approvals.get("reject", 0),
        "by_person": by_person, "loans": book, "overdue_loans": loans.get("overdue", 0),
        "overdue_share": loans.get("overdue", 0) / book if book else None,
        "field_open": field_open,
    }
    warnings = []
    if overdue:
        warnings.append(tr.gettext("%(n)d reviews are past their service level") % {"n": overdue})
    if loans.get("overdue"):
        warnings.append(tr.gettext("%(n)d loans are overdue") % {"n": loans["overdue"]})
    if field_open:
        warnings.append(tr.gettext("%(n)d field tasks are open") % {"n": field_open})
    open_warnings = [r for r in postloan if r[0] == POSTLOAN_QUEUES[0]]
    if open_warnings:
        red = sum(1 for r in open_warnings if (r[1] or {}).get("level") == "red")
        late = sum(1 for r in open_warnings if r[2] is not None and _aware(r[2]) < now)
        warnings.append(tr.gettext("%(n)d post-loan warnings open: %(red)d red, %(late)d past "
                                   "their deadline") % {"n": len(open_warnings), "red": red,
                                                        "late": late})
    collecting = len(postloan) - len(open_warnings)
    if collecting:
        warnings.append(tr.gettext("%(n)d collection tasks open") % {"n": collecting})
    charts = [_intake_chart(received, since, tr), _book_chart(loans, tr)]
    classes = _classes(analytic)
    if classes:
        charts.append(Markup(bar_chart(
            list(classes), list(classes.values()), title=tr.gettext("Five-level classes"),
            value_format="{:.0f}", y_range=(0, max([5, *classes.values()])), width=360,
            height=220)))
    return {"figures": figures, "warnings": warnings, "charts": charts}


def _classes(analytic: Callable[[], Any] | None) -> dict[str, int]:
    """Loans by five-level class on the latest day the post-loan batch ran (empty when it
    has not run, or there is no analytic store)."""
    if analytic is None:
        return {}
    cursor = analytic()
    try:
        ran = cursor.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = "
                             "'postloan' AND table_name = 'loan_day'").fetchone()
        if not ran or not ran[0]:
            return {}
        rows = dict(cursor.execute(
            "SELECT class, count(*) FROM postloan.loan_day WHERE as_of = (SELECT max(as_of) "
            "FROM postloan.loan_day) GROUP BY class").fetchall())
    finally:
        cursor.close()
    return {c: rows.get(c, 0) for c in CLASSES if c in rows}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _intake_chart(rows: list[Any], since: dt.datetime, tr: Any) -> Markup:
    first = since.astimezone(BEIJING).date()
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    counts: dict[str, Counter[dt.date]] = {"automatic": Counter(), "person": Counter()}
    for received_at, mode, _outcome in rows:
        day = _aware(received_at).astimezone(BEIJING).date()
        counts["automatic" if mode == "automatic" else "person"][day] += 1
    return Markup(histogram(
        [f"{d:%m-%d}" for d in days],
        [(tr.gettext("decided by the engine"), [counts["automatic"][d] for d in days]),
         (tr.gettext("sent to a person"), [counts["person"][d] for d in days])],
        title=tr.gettext("Applications received, last 14 days"), value_format="{:.0f}",
        y_range=(0, max([5, *counts["automatic"].values(), *counts["person"].values()])),
        width=560, height=260))


def _book_chart(loans: Counter[str], tr: Any) -> Markup:
    names = ["active", "overdue", "settled"]
    names += sorted(set(loans) - set(names))
    return Markup(bar_chart([tr.gettext(n) for n in names], [loans.get(n, 0) for n in names],
                            title=tr.gettext("Loan book by status"), value_format="{:.0f}",
                            y_range=(0, max([5, *loans.values()])),
                            width=360, height=260))
