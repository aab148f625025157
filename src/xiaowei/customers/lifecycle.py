"""The customer life cycle (客户生命周期): the stages, and the transition events that
strategies react to (a customer entering the renewal window, turning dormant, churning).

Why events are stored and not recomputed: a retention campaign, a renewal call or a
reactivation offer fires *when* a customer moves, once; the pages show how long a customer
has been in a stage. So each day's batch compares every customer's stage with its previous
stored day and writes one ``customers.lifecycle_event`` row per change.

Which stage a customer is in is the pack's to decide (``lifecycle`` table of
``packs/default/pack.yaml``; the definitions are written there, in the bank's words). Here:

* the previous stage is the stage on the customer's **latest stored day before** the as-of;
* a change of stage is one event ``from → to``; a customer seen for the first time is an
  event ``None → stage`` — except on the very first day the batch ever runs, when every
  customer would be "new" and the events would say nothing;
* ``stage_since`` carries over while the stage holds, and is the as-of when it changes;
* a day run again reads only earlier days, so it finds the same previous stages and writes
  the same events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.postloan.loan_state import fetch_arrow


class Stage(LabelledStrEnum):
    """Life-cycle stages, in the order a relationship usually runs."""

    PROSPECT = "prospect", "潜在客户"
    NEW = "new", "新客户", "new customer"
    GROWING = "growing", "成长期"
    MATURE = "mature", "成熟期"
    RENEWAL_DUE = "renewal_due", "续贷窗口期", "renewal due"
    DECLINING = "declining", "衰退期"
    DORMANT = "dormant", "沉睡客户"
    CHURNED = "churned", "流失客户"


STAGES = tuple(s.value for s in Stage)

EVENT_COLUMNS = ("party_id", "from_stage", "to_stage", "grade", "manager_id")


def previous_stages(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                    parties: pa.Table) -> pa.Table:
    """For each ``party_id`` of ``parties`` (in order): ``previous_stage``, ``previous_as_of``
    and ``previous_since`` from its latest stored day before ``as_of`` (NULL when none)."""
    con.register("cu_parties", parties.select(["party_id"]))
    try:
        return fetch_arrow(con, """
            WITH p AS (SELECT party_id, row_number() OVER () AS ord FROM cu_parties),
            last AS (
                SELECT party_id, lifecycle_stage, as_of, stage_since
                FROM customers.customer_day
                WHERE as_of < $day AND party_id IN (SELECT party_id FROM p)
                QUALIFY as_of = max(as_of) OVER (PARTITION BY party_id))
            SELECT p.party_id, l.lifecycle_stage AS previous_stage,
                   l.as_of AS previous_as_of, l.stage_since AS previous_since
            FROM p LEFT JOIN last l USING (party_id) ORDER BY p.ord""", {"day": as_of})
    finally:
        con.unregister("cu_parties")


def any_earlier_day(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> bool:
    found = con.execute("SELECT count(*) FROM customers.run WHERE as_of < ?",
                        [as_of]).fetchall()
    return bool(found[0][0])


def transitions(stages: list[str], previous: list[str | None], as_of: dt.date,
                since: list[dt.date | None], first_day: bool
                ) -> tuple[list[dt.date], list[int]]:
    """``stage_since`` per customer and the positions of the customers whose stage changed
    (first-seen customers count unless this is the batch's first day)."""
    out_since: list[dt.date] = []
    changed: list[int] = []
    for i, (stage, before) in enumerate(zip(stages, previous, strict=True)):
        if before == stage and since[i] is not None:
            out_since.append(since[i])  # type: ignore[arg-type]
            continue
        out_since.append(as_of)
        if before is not None or not first_day:
            changed.append(i)
    return out_since, changed


def stage_history(con: duckdb.DuckDBPyConnection, party_id: str,
                  until: dt.date | None = None, limit: int = 24) -> dict[str, Any]:
    """One customer's stored stages (newest first) and its transition events."""
    day = until or dt.date.max
    days = con.execute("""
        SELECT as_of, lifecycle_stage, grade, stage_since FROM customers.customer_day
        WHERE party_id = ? AND as_of <= ? ORDER BY as_of DESC LIMIT ?""",
                       [party_id, day, limit]).fetchall()
    events = con.execute("""
        SELECT as_of, from_stage, to_stage, grade FROM customers.lifecycle_event
        WHERE party_id = ? AND as_of <= ? ORDER BY as_of DESC LIMIT ?""",
                         [party_id, day, limit]).fetchall()
    return {"days": [{"as_of": d, "stage": s, "grade": g, "stage_since": since}
                     for d, s, g, since in days],
            "events": [{"as_of": d, "from": f, "to": t, "grade": g}
                       for d, f, t, g in events]}


__all__ = ["EVENT_COLUMNS", "STAGES", "Stage", "any_earlier_day", "previous_stages",
           "stage_history", "transitions"]
