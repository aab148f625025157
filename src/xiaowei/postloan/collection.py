"""Collection (催收) and disposal as work: a task when a loan enters a step people work, and
every contact checked against the contact rules before it is recorded.

Why: the pack decides *which* step a loan's bucket calls for; the bank's conduct rules decide
*how* people may act on it — only between 8:00 and 21:00 local time, only the borrower, its
legal representative or a guarantor, never other third parties (DOMAIN.md §4, [check]). A
contact outside those rules is refused before anything is stored, so the audit trail cannot
hold a call that should not have happened. A task opens when a loan's step changes (a new
entry into M1, M2 …), not every night it stays there; the task id is the loan and the step, so
a rerun of the night opens nothing twice (the step is numbered in the id: ids are short).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import Field
from sqlalchemy import Engine

from xiaowei.engine.workflow import NewTask, QueueRules, ServiceLevel, TaskView, WorkQueue
from xiaowei.engine.workflow.calendar_spec import CalendarSpec, Strict
from xiaowei.engine.workflow.errors import WorkflowError
from xiaowei.entities.datafiles import load_data_file
from xiaowei.entities.task import TaskKind
from xiaowei.postloan.warning_tasks import SYSTEM, loan_owners
from xiaowei.store.database import transaction

RULES_FILE = "collection.yaml"


class ContactRefused(WorkflowError):
    """A contact that the conduct rules forbid; nothing was recorded."""


class ContactHours(Strict):
    start: dt.time
    end: dt.time
    utc_offset_hours: float = Field(8.0, ge=-12, le=14)

    def zone(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=self.utc_offset_hours))


class Step(Strict):
    zh: str
    en: str
    owner: Literal["system", "manager", "special_assets"]
    within_working_days: int | None = Field(None, ge=1)


class CollectionRules(Strict):
    version: int = Field(ge=1)
    queue: str
    contact_hours: ContactHours
    contact_roles: list[str] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    notify_before_bureau_report: bool
    calendar: CalendarSpec = CalendarSpec()
    steps: dict[str, Step]

    def check_contact(self, at: dt.datetime, role: str, channel: str) -> None:
        """Refuse a contact outside the hours, to a forbidden party or by an unknown channel."""
        if at.tzinfo is None:
            raise ContactRefused("the contact time must carry its time zone")
        local = at.astimezone(self.contact_hours.zone())
        if not self.contact_hours.start <= local.time() <= self.contact_hours.end:
            raise ContactRefused(
                f"催收联系时间 {local:%H:%M} 不在 {self.contact_hours.start:%H:%M}–"
                f"{self.contact_hours.end:%H:%M} 之内 · contact at {local:%H:%M} local is "
                f"outside the permitted hours")
        if role not in self.contact_roles:
            raise ContactRefused(
                f"不得联系无关第三方 · {role!r} may not be contacted; only "
                f"{', '.join(self.contact_roles)}")
        if channel not in self.channels:
            raise ContactRefused(f"unknown channel {channel!r}; one of "
                                 f"{', '.join(self.channels)}")


def load_collection_rules(path: Path | str | None = None) -> CollectionRules:
    return load_data_file(CollectionRules, __package__, RULES_FILE, path)


@dataclass(frozen=True)
class CollectionTask:
    task_id: str
    loan_id: str
    step: str
    owner: str
    manager_id: str | None
    dpd: int


def collection_queue(engine: Engine, rules: CollectionRules | None = None) -> WorkQueue:
    rules = rules or load_collection_rules()
    return WorkQueue(engine, [QueueRules(rules.queue)])


def entered_steps(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[tuple[str, str, int]]:
    """(loan, step, dpd) for loans whose collection step today differs from the step of their
    previous stored day (or that have no previous day), leaving out ``none``."""
    return [(r[0], r[1], int(r[2])) for r in con.execute("""
        WITH today AS (SELECT loan_id, collection_step, dpd FROM postloan.loan_day
                       WHERE as_of = $d AND collection_step <> 'none'),
             before AS (SELECT loan_id, arg_max(collection_step, as_of) AS step
                        FROM postloan.loan_day WHERE as_of < $d GROUP BY loan_id)
        SELECT t.loan_id, t.collection_step, t.dpd FROM today t
        LEFT JOIN before b USING (loan_id)
        WHERE b.step IS DISTINCT FROM t.collection_step ORDER BY t.loan_id""",
        {"d": as_of}).fetchall()]


def open_collection_tasks(engine: Engine, con: duckdb.DuckDBPyConnection, as_of: dt.date,
                          rules: CollectionRules | None = None) -> list[CollectionTask]:
    """A task for each loan that entered a step people work; held by the loan's manager for
    manager steps, left in the queue for the special-assets team otherwise."""
    rules = rules or load_collection_rules()
    entered = [(loan, step, dpd) for loan, step, dpd in entered_steps(con, as_of)
               if step in rules.steps and rules.steps[step].owner != "system"]
    if not entered:
        return []
    queue = collection_queue(engine, rules)
    calendar = rules.calendar.calendar()
    opened = []
    with transaction(engine) as session:
        owners = loan_owners(session, [loan for loan, _, _ in entered])
        for loan, step, dpd in entered:
            if loan not in owners:
                continue
            party, manager = owners[loan]
            spec = rules.steps[step]
            holder = manager if spec.owner == "manager" else None
            number = list(rules.steps).index(step) + 1  # ids are at most 32 characters
            task = CollectionTask(f"CL-{loan}-{number}", loan, step, spec.owner, holder, dpd)
            queue.create_in(session, NewTask(
                kind=str(TaskKind.COLLECTION), queue=rules.queue, task_id=task.task_id,
                claimed_by=holder, links={"party_id": party, "assignee_id": holder},
                service_level=ServiceLevel(days=spec.within_working_days or 5,
                                           calendar=calendar),
                payload={"loan_id": loan, "step": step, "step_zh": spec.zh, "owner": spec.owner,
                         "dpd": dpd, "entered_on": as_of.isoformat(),
                         "contact_hours": f"{rules.contact_hours.start:%H:%M}–"
                                          f"{rules.contact_hours.end:%H:%M}",
                         "contact_roles": rules.contact_roles}), SYSTEM)
            opened.append(task)
    return opened


def record_contact(engine: Engine, task_id: str, by: str, *, at: dt.datetime, role: str,
                   channel: str, outcome: str, promised_amount: Decimal | None = None,
                   promised_on: dt.date | None = None,
                   rules: CollectionRules | None = None) -> TaskView:
    """Record one contact on a collection task after the conduct rules allow it."""
    rules = rules or load_collection_rules()
    rules.check_contact(at, role, channel)
    if not (outcome or "").strip():
        raise ContactRefused("say what came of the contact (outcome)")
    return collection_queue(engine, rules).log(
        task_id, by, "contact", note=outcome.strip(),
        detail={"at": at.isoformat(), "role": role, "channel": channel,
                "promised_amount": promised_amount,
                "promised_on": promised_on.isoformat() if promised_on else None})


__all__ = ["CollectionRules", "CollectionTask", "ContactRefused", "entered_steps",
           "load_collection_rules", "open_collection_tasks", "record_contact"]
