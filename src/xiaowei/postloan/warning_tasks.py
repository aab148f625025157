"""Raised warnings become work: one task per borrower and day, held by the loan's manager.

Why tasks in the work queue rather than rows someone reads: a warning has a life cycle with
people in it (DOMAIN.md §3) — the manager acknowledges it (claims the task), investigates
(starts it), and closes it with findings; **closing needs a second person** (the queue's
checker threshold is zero, so every completion waits for a checker who is not the maker);
it can be escalated. The engine's work queue already does each step with optimistic locking
and an audited event, and its SLA machinery reports a response that came too late. The
response deadline is the warning level's (red: 24 hours; orange, yellow: working days).

One task per borrower and day (not per signal): a manager visits a customer, not a signal; the
task lists every signal raised that day with its value and threshold. The task id is made of
the day and the borrower, so opening the day's tasks again opens nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaowei.engine.workflow import NewTask, QueueRules, WorkQueue
from xiaowei.entities.task import TaskKind
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, CustomerManager, Loan

WARNING_QUEUE = "postloan_warning"
SYSTEM = "system:postloan"


def warning_queue(engine: Engine) -> WorkQueue:
    """The warning queue: every completion needs a checker (threshold 0 on the exposure)."""
    return WorkQueue(engine, [QueueRules(WARNING_QUEUE, checker_above=Decimal("0"))])


@dataclass(frozen=True)
class WarningTask:
    """What the day's warnings ask of one borrower's manager."""

    task_id: str
    party_id: str  # the transactional store's customer id
    manager_id: str | None
    level: str
    respond_by: dt.datetime
    inspection: str
    exposure: Decimal
    loans: tuple[str, ...]
    signals: tuple[dict[str, Any], ...]


def day_warnings(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[dict[str, Any]]:
    """The day's raised warnings per borrower with the borrower's loans that day."""
    rows = con.execute("""
        WITH w AS (
            SELECT party_id, max(level_rank) AS level_rank, min(respond_by) AS respond_by,
                   list({'signal': signal, 'level': level, 'value': value,
                         'threshold': threshold} ORDER BY level_rank DESC, signal) AS signals
            FROM postloan.warning WHERE raised_on = ? GROUP BY party_id),
        l AS (SELECT party_id, list(loan_id ORDER BY loan_id) AS loans,
                     sum(outstanding_yuan) AS exposure
              FROM postloan.loan_day WHERE as_of = ? GROUP BY party_id)
        SELECT w.party_id, w.level_rank, w.respond_by, w.signals, l.loans, l.exposure
        FROM w JOIN l USING (party_id) ORDER BY w.party_id""", [as_of, as_of]).fetchall()
    keys = ("party_id", "level_rank", "respond_by", "signals", "loans", "exposure")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def loan_owners(session: Session, loans: Sequence[str]
                ) -> dict[str, tuple[str, str | None]]:
    """loan → (the store's customer id, the originating manager if still on the books)."""
    rows = session.execute(
        select(Loan.loan_id, Loan.party_id, Application.manager_id)
        .join(Application, Application.application_id == Loan.application_id)
        .where(Loan.loan_id.in_(list(loans)))).all()
    managers = set(session.scalars(select(CustomerManager.manager_id)).all())
    return {loan: (party, manager if manager in managers else None)
            for loan, party, manager in rows}


def open_warning_tasks(engine: Engine, con: duckdb.DuckDBPyConnection, as_of: dt.date,
                       levels: Sequence[str] = ("yellow", "orange", "red"),
                       inspection_of: dict[str, str] | None = None) -> list[WarningTask]:
    """Open (or find) the day's warning tasks in one transaction; borrowers whose loans the
    transactional store does not hold are skipped (they are reported, not invented)."""
    names = ("none", "yellow", "orange", "red")
    wanted = [w for w in day_warnings(con, as_of) if names[w["level_rank"]] in levels]
    if not wanted:
        return []
    queue = warning_queue(engine)
    opened: list[WarningTask] = []
    with transaction(engine) as session:
        owners = loan_owners(session, [loan for w in wanted for loan in w["loans"]])
        for w in wanted:
            known = [owners[loan] for loan in w["loans"] if loan in owners]
            if not known:
                continue
            party, manager = known[0]
            level = names[w["level_rank"]]
            respond_by = w["respond_by"]
            if respond_by.tzinfo is None:
                respond_by = respond_by.replace(tzinfo=dt.UTC)
            task = WarningTask(
                f"WN-{as_of:%Y%m%d}-{party}"[:32], party, manager, level, respond_by,
                (inspection_of or {}).get(level, "on_site" if level != "yellow" else
                                          "off_site"),
                Decimal(str(round(float(w["exposure"] or 0), 2))), tuple(w["loans"]),
                tuple(w["signals"]))
            queue.create_in(session, NewTask(
                kind=str(TaskKind.INSPECTION), queue=WARNING_QUEUE, task_id=task.task_id,
                due_at=respond_by, claimed_by=manager,
                links={"party_id": party, "assignee_id": manager},
                payload={"trigger": "warning", "raised_on": as_of.isoformat(),
                         "level": level, "inspection": task.inspection,
                         "exposure": str(task.exposure), "loans": list(task.loans),
                         "signals": list(task.signals)}), SYSTEM)
            opened.append(task)
    return opened


__all__ = ["SYSTEM", "WARNING_QUEUE", "WarningTask", "day_warnings", "loan_owners",
           "open_warning_tasks", "warning_queue"]
