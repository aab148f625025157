"""Customer 360: who the customer is (masked), what the bank knows of them (tags by category,
with how each value changed between decisions), their relationships, loans, decisions, tasks.

Where the tags come from: the nightly batch's tag history when the analytic store has one
(every value the bank held for the customer, day by day, and when it changed); otherwise the
decision log, whose ``inputs`` hold exactly the values the engine read at each decision (what
the bank *knew then*). Labels and categories come from the tag catalogue. The post-loan panel
reads the batch's own rows (:mod:`xiaowei.postloan.customer_view`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import Engine, func, select

from xiaowei.data.governed_party import governed_party
from xiaowei.data.tags.service import HISTORY_SCHEMA, bank_catalogue
from xiaowei.engine.tags import TagHistory
from xiaowei.entities.masking import mask_id_number, mask_phone, mask_uscc
from xiaowei.postloan.customer_view import postloan_summary
from xiaowei.postloan.warning_catalogue import load_warning_catalogue
from xiaowei.security.principal import visible_parties
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, Decision, DecisionLog, Loan, Party, Task
from xiaowei.web.access import visible_party
from xiaowei.web.i18n import pick
from xiaowei.web.session import WebUser
from xiaowei.web.views.applications import shown_status
from xiaowei.web.views.graph import relationship_svg

CATEGORY_ORDER = ("fact", "risk", "business", "value", "behaviour")
HIDDEN_UNITS = ("代码", "是/否", "code", "ratio", "score")  # the value already says it all


@cache
def tag_labels() -> dict[str, dict[str, str]]:
    """name → zh, en, category, unit of every tag in the bank's catalogue (read once)."""
    out = {}
    for name, tag in bank_catalogue().tags.items():
        d = tag.definition
        out[name] = {"zh": d.label.zh, "en": d.label.en, "category": str(d.category),
                     "unit": d.unit or ""}
    return out


def customer_list(engine: Engine, user: WebUser, query: str = "") -> list[dict[str, Any]]:
    """Customers in the person's scope with applications, newest first (50), by id prefix."""
    with transaction(engine) as session:
        q = (select(Application.party_id, func.count(), func.max(Application.applied_at))
             .group_by(Application.party_id)
             .order_by(func.max(Application.applied_at).desc()).limit(50))
        q = q.join(Party, Party.party_id == Application.party_id).where(visible_parties(user))
        if query.strip():
            q = q.where(Application.party_id.startswith(query.strip()[:32]))
        rows = session.execute(q).all()
        parties = {p.party_id: p for p in session.scalars(
            select(Party).where(Party.party_id.in_([r[0] for r in rows])))}
        return [{"party_id": r[0], "name": parties[r[0]].name_masked,
                 "party_type": parties[r[0]].party_type, "applications": r[1],
                 "latest": r[2]} for r in rows]


def customer_360(engine: Engine, user: WebUser, party_id: str, lang: str,
                 analytic: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Everything on the customer page (404 outside the person's scope). ``analytic`` opens a
    cursor over the analytic store: then the tags come from the nightly batch's history and
    the post-loan panel shows the loans' classes and the warnings."""
    with transaction(engine) as session:
        visible_party(session, user, party_id)
        party = session.get(Party, party_id)
        if party is None:
            from fastapi import HTTPException
            raise HTTPException(404, "no such customer")
        identity = {"party_id": party.party_id, "name": party.name_masked,
                    "party_type": party.party_type, "uscc": mask_uscc(party.uscc),
                    "id_number": mask_id_number(party.id_number),
                    "phone": mask_phone(party.phone), "region": party.region_code,
                    "industry": party.industry_code, "established": party.established_on}
        apps = session.scalars(select(Application).where(Application.party_id == party_id)
                               .order_by(Application.applied_at.desc())).all()
        ids = [a.application_id for a in apps]
        logs = session.scalars(select(DecisionLog).where(DecisionLog.application_id.in_(ids))
                               .order_by(DecisionLog.decided_at)).all()
        loans = session.scalars(select(Loan).where(Loan.party_id == party_id)
                                .order_by(Loan.start_date.desc())).all()
        decisions = session.scalars(select(Decision).where(Decision.application_id.in_(ids))
                                    .order_by(Decision.decided_at.desc())).all()
        tasks = session.scalars(select(Task).where(Task.party_id == party_id)
                                .order_by(Task.created_at.desc())).all()
        shown = shown_status(session, list(apps))
        batch = _from_batch(analytic, party.uscc, party.id_number, lang)
        snapshots = batch["snapshots"] or [(log.decided_at, dict(log.inputs or {}))
                                           for log in logs]
        tags = tag_groups(snapshots, lang)
        latest = tags["latest"]
        return {
            "identity": identity, "tag_groups": tags["groups"],
            "tags_source": "batch" if batch["snapshots"] else "decisions",
            "postloan": batch["postloan"],
            "graph": Markup(relationship_svg(party.name_masked, latest, lang)),
            "applications": [{"application_id": a.application_id, "amount": a.amount,
                              "product": a.product_intent, "status": shown[a.application_id],
                              "applied_at": a.applied_at} for a in apps],
            "loans": [{"loan_id": n.loan_id, "principal": n.principal, "rate": n.annual_rate,
                       "start": n.start_date, "maturity": n.maturity_date,
                       "status": n.status} for n in loans],
            "decisions": [{"application_id": d.application_id, "outcome": d.outcome,
                           "decided_by": d.decided_by, "decided_at": d.decided_at,
                           "amount": d.approved_amount} for d in decisions],
            "tasks": [{"task_id": t.task_id, "kind": t.kind, "status": t.status,
                       "due_at": t.due_at, "claimed_by": t.claimed_by} for t in tasks],
        }


def _from_batch(analytic: Callable[[], Any] | None, uscc: str | None,
                id_number: str | None, lang: str) -> dict[str, Any]:
    """The customer's tag history from the batch runs and the post-loan summary, read through
    a cursor of its own; nothing when there is no analytic store or no governed party."""
    empty: dict[str, Any] = {"snapshots": [], "postloan": None}
    if analytic is None:
        return empty
    cursor = analytic()
    try:
        governed = governed_party(cursor, uscc, id_number)
        if governed is None:
            return empty
        has_history = cursor.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = "
            "'history'", [HISTORY_SCHEMA]).fetchone()
        snapshots = []
        if has_history and has_history[0]:
            for tag, since, _until, text in TagHistory(
                    cursor, schema=HISTORY_SCHEMA).entity_history(governed):
                snapshots.append((since, {f"tag.{tag}": _typed(text)}))
            snapshots.sort(key=lambda s: s[0])
        return {"snapshots": snapshots, "postloan": _labelled(postloan_summary(cursor, governed),
                                                             lang)}
    finally:
        cursor.close()


CLASS_RANK = {"正常": 0, "关注": 1, "次级": 2, "可疑": 3, "损失": 4}


def _labelled(summary: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """Signal names as the catalogue's words and values with their threshold, for people."""
    if summary is None:
        return None
    catalogue = load_warning_catalogue()
    names = {s.name: pick(lang, s.zh, s.en) for s in catalogue.signals}
    for w in summary["warnings"]:
        w["label"] = names.get(w["signal"], w["signal"])
        value, line = w["value"], w["threshold"]
        w["shown"] = "—" if value is None else f"{value:.3g} / {line:.3g}"
    for loan in summary["loans"]:
        loan["class_rank"] = CLASS_RANK.get(loan["class"], 0)
    return summary


def _typed(text: str | None) -> Any:
    """A history value's canonical text back as a number or flag where it is one."""
    if text is None or text in ("true", "false"):
        return None if text is None else text == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def tag_groups(snapshots: list[tuple[Any, dict[str, Any]]], lang: str) -> dict[str, Any]:
    """Tags of the latest snapshot grouped by category, each with the earlier values that
    differ (oldest first) as its history; ``latest`` maps tag name → latest value."""
    labels = tag_labels()
    history: dict[str, list[tuple[Any, Any]]] = {}
    for at, inputs in snapshots:
        for key, value in inputs.items():
            if key.startswith("tag."):
                changes = history.setdefault(key[4:], [])
                if not changes or changes[-1][1] != value:
                    changes.append((at, value))
    latest = {name: changes[-1][1] for name, changes in history.items()}
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, changes in sorted(history.items()):
        info = labels.get(name, {"zh": name, "en": name, "category": "other", "unit": ""})
        value = changes[-1][1]
        groups.setdefault(info["category"], []).append({
            "name": name, "label": pick(lang, info["zh"], info["en"]),
            "value": _show(value),
            "unit": info["unit"] if value is not None and info["unit"] not in HIDDEN_UNITS else "",
            "history": [(at, _show(v)) for at, v in changes[:-1]]})
    order = [c for c in CATEGORY_ORDER if c in groups] + sorted(set(groups) - set(CATEGORY_ORDER))
    return {"groups": [(c, groups[c]) for c in order], "latest": latest}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✔" if value else "✘"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
