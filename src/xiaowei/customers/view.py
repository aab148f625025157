"""What the bank shows about one customer: the whole relationship, the maintenance grade with
its reasons and strategy, and the stage history — one document for the CLI and the pages.

Why here and not in an interface: the CLI (`xiaowei customers show`) and the web page show
the same thing; composing it twice would let them disagree. The grade is read from the
stored batch day (what managers act on), never recomputed; when that day is stale or the
party has none, the document says so instead of showing an old grade as current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from xiaowei.customers.customer_pack import default_pack
from xiaowei.customers.customer_tables import (
    DEFAULT_MAX_AGE_DAYS,
    StaleCustomerDay,
    UnknownCustomer,
    customer_day,
    has_tables,
)
from xiaowei.customers.grades import explain
from xiaowei.customers.lifecycle import Stage, stage_history
from xiaowei.customers.relationship import relationship
from xiaowei.data.governed_party import governed_party
from xiaowei.entities.masking import mask_name
from xiaowei.store.tables import Party


class CustomerNotFound(LookupError):
    """The identifier names no governed party and no customer of the transactional store,
    or a party that is not a customer; the message says which."""


def resolve_party(con: duckdb.DuckDBPyConnection, ident: str,
                  store: Callable[[], Engine] | None = None) -> str:
    """The governed party id for ``ident``: a governed id as is, or a bank party id of the
    transactional store (opened by ``store`` only when needed) mapped by its credit code
    (first) or ID number."""
    found = con.execute("SELECT count(*) FROM gov.party_profile WHERE party_id = ?",
                        [ident]).fetchall()
    if found[0][0]:
        return ident
    if store is not None:
        try:
            with Session(store()) as session:
                uscc = session.execute(select(Party.uscc).where(Party.party_id == ident)
                                       ).first()
                if uscc is not None:
                    id_number = None if uscc[0] else session.execute(
                        select(Party.id_number).where(Party.party_id == ident)).scalar()
                    governed = governed_party(con, uscc[0], id_number)
                    if governed is not None:
                        return governed
                    raise CustomerNotFound(f"bank customer {ident!r} has no governed party "
                                           "yet (load and govern the bank's data)")
        except SQLAlchemyError:
            pass  # no transactional store here: only governed ids can be looked up
    raise CustomerNotFound(f"unknown customer {ident!r}: neither a governed party id nor a "
                           f"party of the transactional store")


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    """A business owner is a person: the name is masked (firms' names are public)."""
    if row.get("party_type") == "business_owner" and row.get("name"):
        return {**row, "name": mask_name(row["name"])}
    return row


def customer_view(con: duckdb.DuckDBPyConnection, party_id: str, as_of: dt.date, *,
                  max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> dict[str, Any]:
    """The relationship as of ``as_of``, the grade of the latest batch day on or before it
    (``grade.available`` False with the reason when stale or missing) and the stage history.
    :class:`CustomerNotFound` when the party is not a customer on ``as_of``."""
    rel = relationship(con, party_id, as_of)
    if not rel.is_customer:
        raise CustomerNotFound(f"{party_id!r} is not a customer on {as_of}: no account, "
                               f"application or loan known by then (a registry record only)")
    doc = rel.to_json()
    doc["profile"] = _masked(doc["profile"])
    doc["related"] = [_masked(r) for r in doc["related"]]
    try:
        row = customer_day(con, party_id, as_of, max_age_days=max_age_days)
        grade = {"available": True, "as_of": row["as_of"], **explain(row, default_pack()),
                 "stage": row["lifecycle_stage"],
                 "stage_zh": Stage(row["lifecycle_stage"]).zh,
                 "stage_since": row["stage_since"], "previous_stage": row["previous_stage"],
                 "visit_due": row["visit_due"], "last_visit_on": row["last_visit_on"],
                 "manager_id": row["manager_id"], "pack_version": row["pack_version"]}
    except (StaleCustomerDay, UnknownCustomer) as exc:
        grade = {"available": False, "reason": str(exc)}
    doc["grade"] = grade
    doc["stages"] = stage_history(con, party_id, as_of) if has_tables(con) else \
        {"days": [], "events": []}
    return doc


__all__ = ["CustomerNotFound", "customer_view", "resolve_party"]
