"""The renewal pipeline (续贷): loans maturing soon → fresh-tag pre-screen → route → action → offer.

Why a pipeline and not a list of maturities: a good customer lost at maturity is the costliest
churn, and today the bank notices a maturity when the customer has already gone elsewhere. For
every loan maturing within :data:`WINDOW_DAYS` of the day:

1. **fresh-tag pre-screen** — the renewal is decided *as an application* of the borrower on the
   day, with the day's tags, through the origination default pack (channel ``renewal``, the
   loan's product, its principal and term): ``pass`` (the pack would approve), ``refer`` (a
   person must decide), ``fail`` (the pack would reject). With an approved application
   scorecard (``resolver``) the whole pack runs and grades and limits; without one only its
   anti-fraud and admission rules are read (``admission_only``: a rule that rejects fails, one
   that sends to review refers) — the scorecard is never faked;
2. **route** (renewal pack, ``packs/renewal/pack.yaml``): ``no_repay`` — 无还本续贷, renewal
   without repaying principal first, where every condition holds (DOMAIN.md §8 [check]);
   ``standard`` — a renewal through the normal process; ``decline`` — no renewal offer;
3. **retention action** from churn risk and value: ``manager_visit`` for high-value customers,
   ``preapproved_renewal`` for good customers at risk — churn risk at or above the book's
   recent churn rate (:func:`~xiaowei.customers.retention.churn_base_rate`) — and
   ``reminder_call`` otherwise (``none`` after a failed pre-screen); churn risk from the
   approved ``churn_at_maturity`` model (:mod:`xiaowei.customers.retention`), else the book's
   rate for every loan (so every good customer counts as at risk);
4. **offer** — the amount offered (the principal, within the pre-screen's limit).

Everything is as of the day: the loans' state (payments by then), tags from a run as of the
day, warnings evaluated from those tags (and raised by the monitoring batch when it ran), the
five-level class from ``postloan.loan_day`` when present (else the objective floor from days
past due). Tasks are opened by :mod:`xiaowei.customers.operation_tasks`.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from xiaowei.customers.offer_rules import LIMIT_TAGS, columns_of, pack_tags, tag_frame
from xiaowei.customers.offers import run_tags, stored_risk
from xiaowei.customers.retention import ChurnModel, churn_base_rate
from xiaowei.engine.strategy import Decider, Pack, load_pack
from xiaowei.origination.decide import DEFAULT_PACK, ApplicationError, DefaultDecider
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.postloan.loan_state import loan_state
from xiaowei.store.analytic import AnalyticStore

PACK_FILE = Path(__file__).parent / "packs" / "renewal" / "pack.yaml"
WINDOW_DAYS = 90
BUREAU_TAGS = ("bureau_overdue_now", "hard_inquiries_3m", "other_bank_balance",
               "declared_employees")
COLUMNS = ("loan_id", "party_id", "product", "maturity_date", "days_to_maturity",
           "principal_yuan", "outstanding_yuan", "dpd", "class_rank", "prescreen",
           "prescreen_mode", "grade", "prescreen_limit", "prescreen_reasons", "route",
           "route_reasons", "churn_risk", "churn_source", "value_tier", "action",
           "action_reasons", "offer_yuan")


@functools.cache
def renewal_pack() -> Pack:
    return load_pack(PACK_FILE)


def is_admission(node: str) -> bool:
    """Whether an origination pack node is one an admission-only pre-screen reads."""
    return node == "antifraud" or node.startswith("admission")


@functools.cache
def _rule_actions(path: str) -> dict[str, str]:
    """rule id → action of every anti-fraud and admission rules node of the origination
    pack (what an admission-only pre-screen reads)."""
    data = yaml.safe_load(Path(path).read_text("utf-8"))
    actions: dict[str, str] = {}
    for nodes in (data.get("flows") or {}).values():
        for node in nodes:
            if node.get("kind") == "rules" and is_admission(str(node.get("id", ""))):
                actions.update({str(r["id"]): str(r["action"]) for r in node["rules"]})
    return actions


class _NoScorecard(RegistryModelResolver):
    """A resolver for the admission-only pre-screen: every model call fails, loudly."""

    def resolve(self, ref: str) -> Any:
        self.resolved[ref] = "none (admission rules only)"

        def fail(_variables: Mapping[str, Any]) -> float:
            raise LookupError(f"no approved {ref}: pre-screen on admission rules only")
        return fail


class Prescreen:
    """The origination pack deciding renewals with given tags: ``full`` with a scorecard,
    ``admission_only`` without (see the module docstring)."""

    def __init__(self, resolver: RegistryModelResolver | None = None,
                 pack_path: str | Path = DEFAULT_PACK) -> None:
        self.mode = "full" if resolver is not None else "admission_only"
        self._tags: dict[str, Mapping[str, Any]] = {}
        self.decider = DefaultDecider(tags=lambda party, _day: self._tags[party],
                                      resolver=resolver or _NoScorecard(), pack_path=pack_path)
        self.actions = _rule_actions(str(pack_path))
        self.tags = tuple(dict.fromkeys((*pack_tags(self.decider.pack), *LIMIT_TAGS,
                                         *BUREAU_TAGS)))

    def decide(self, application: Mapping[str, Any], tags: Mapping[str, Any]
               ) -> dict[str, Any]:
        """``{outcome: pass|refer|fail, grade, limit, reasons}`` for one renewal."""
        self._tags[str(application["party_id"])] = tags
        try:
            decision = self.decider.decide(application, trace=self.mode != "full")
        except ApplicationError as exc:
            return {"outcome": "refer", "grade": None, "limit": None,
                    "reasons": [f"APPLICATION:{p}" for p in exc.problems]}
        finally:
            self._tags.pop(str(application["party_id"]), None)
        codes = [r["code"] for r in decision["reasons"]]
        if self.mode == "full":
            outcome = {"approve": "pass", "review": "refer"}.get(decision["outcome"], "fail")
            return {"outcome": outcome, "grade": decision["grade"],
                    "limit": float(decision["limit"]) if decision["outcome"] != "reject"
                    else 0.0, "reasons": codes}
        hits = [h for step in decision["trace"] if is_admission(step["node"])
                for h in step["hits"] if h in self.actions]
        acts = {self.actions[h] for h in hits}
        outcome = "fail" if "reject" in acts else "refer" if "review" in acts else "pass"
        return {"outcome": outcome, "grade": None, "limit": None,
                "reasons": [r["code"] for r in decision["reasons"]
                            if is_admission(r.get("node") or "")]}


@dataclass(frozen=True)
class RenewalRun:
    """The day's maturing loans, each with its pre-screen, route, action and offer."""

    as_of: dt.date
    window_days: int
    table: pa.Table  # COLUMNS
    texts: Mapping[str, tuple[str, str]]  # the renewal pack's reasons
    prescreen_texts: Mapping[str, tuple[str, str]]  # the origination pack's reasons
    prescreen_mode: str
    churn: str
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        def count(column: str) -> dict[str, int]:
            values = self.table[column].to_pylist()
            return {k: values.count(k) for k in sorted(set(values), key=str)}

        n = self.table.num_rows
        passed = self.table["prescreen"].to_pylist().count("pass")
        return {"as_of": self.as_of.isoformat(), "window_days": self.window_days,
                "maturing_loans": n, "prescreen_mode": self.prescreen_mode,
                "prescreen": count("prescreen"),
                "prescreen_pass_rate": round(passed / n, 4) if n else None,
                "route": count("route"), "action": count("action"), "churn": self.churn,
                "offer_yuan": round(float(sum(self.table["offer_yuan"].to_pylist())), 2),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}

    def loan(self, loan_id: str) -> dict[str, Any]:
        rows = [r for r in self.table.to_pylist() if r["loan_id"] == loan_id]
        if not rows:
            raise KeyError(f"loan {loan_id} does not mature within {self.window_days} days "
                           f"of {self.as_of}")
        row = rows[0]
        for key in ("prescreen_reasons", "route_reasons", "action_reasons"):
            texts = self.prescreen_texts if key == "prescreen_reasons" else self.texts
            row[key] = [{"code": c, "zh": texts.get(c, (c, c))[0],
                         "en": texts.get(c, (c, c))[1]} for c in row[key]]
        return row


def maturing_loans(analytic: AnalyticStore, as_of: dt.date,
                   window_days: int = WINDOW_DAYS) -> pa.Table:
    """Loans with a balance on the day that mature within ``window_days`` after it."""
    if not (isinstance(window_days, int) and 1 <= window_days <= 366):
        raise ValueError(f"window_days must be a whole number of days 1..366, got "
                         f"{window_days!r}")
    state = loan_state(analytic.connection, as_of)
    maturity = state["maturity_date"].to_pylist()
    keep = [s == "active" and o > 0 and as_of < m <= as_of + dt.timedelta(days=window_days)
            for s, o, m in zip(state["status"].to_pylist(),
                               state["outstanding_yuan"].to_pylist(), maturity, strict=True)]
    return state.filter(pa.array(keep, pa.bool_()))


def needed_tags(prescreen: Prescreen, churn: ChurnModel | None) -> tuple[str, ...]:
    from xiaowei.postloan.warning_catalogue import load_warning_catalogue

    return tuple(dict.fromkeys((*pack_tags(renewal_pack()), *prescreen.tags,
                                *load_warning_catalogue().tags,
                                *(churn.tags if churn else ()))))


def _class_ranks(analytic: AnalyticStore, as_of: dt.date, loans: pa.Table) -> list[int]:
    """The loan's class rank from the monitoring batch (latest day within a month), else the
    five-level floor its days past due set."""
    from xiaowei.postloan.classification import classify_batch

    floor = classify_batch(np.asarray(loans["dpd"].to_pylist(), dtype=np.int64),
                           product=loans["product"].to_pylist()).ranks
    con = analytic.connection
    stored: dict[str, int] = {}
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'postloan' AND "
                   "table_name = 'loan_day'").fetchall()[0][0]:
        from xiaowei.customers.offers import CLASS_RANK

        stored = {x: CLASS_RANK.get(c, 0) for x, c in con.execute("""
            WITH last AS (SELECT max(as_of) AS d FROM postloan.loan_day
                          WHERE as_of <= $d AND as_of > $d - 31)
            SELECT loan_id, class FROM postloan.loan_day, last WHERE as_of = last.d""",
            {"d": as_of}).fetchall()}
    return [stored.get(x, int(f)) for x, f in zip(loans["loan_id"].to_pylist(), floor,
                                                   strict=True)]


def renewal_pipeline(analytic: AnalyticStore, as_of: dt.date, *,
                     window_days: int = WINDOW_DAYS, churn: ChurnModel | None = None,
                     resolver: RegistryModelResolver | None = None,
                     tag_rows: pa.Table | None = None, prescreen: Prescreen | None = None,
                     loans: Sequence[str] | None = None) -> RenewalRun:
    """Run the pipeline for the day (see the module docstring). ``tag_rows``: a tag run of
    the day holding :func:`needed_tags` (run here otherwise); ``loans``: only these."""
    from xiaowei.postloan.warning_catalogue import load_warning_catalogue
    from xiaowei.postloan.warning_levels import evaluate

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    prescreen = prescreen or Prescreen(resolver)
    pack = renewal_pack()
    due = maturing_loans(analytic, as_of, window_days)
    if loans is not None:
        wanted = set(loans)
        due = due.filter(pa.array([x in wanted for x in due["loan_id"].to_pylist()],
                                  pa.bool_()))
    con = analytic.connection
    if tag_rows is None:
        tag_rows = run_tags(analytic, as_of, needed_tags(prescreen, churn))
    seconds["tags"] = time.perf_counter() - started
    parties = due["party_id"].to_pylist()
    unique = list(dict.fromkeys(parties))
    catalogue = load_warning_catalogue()
    ids, wcols = tag_columns(tag_rows, list(catalogue.tags), unique)
    worst = dict(zip(ids.tolist(), evaluate(catalogue, ids, wcols)[0].worst.tolist(),
                     strict=True))
    warned, _ = stored_risk(con, as_of)
    frame_tags = list(dict.fromkeys((*pack_tags(pack), *prescreen.tags)))
    cols = columns_of(tag_frame(tag_rows, frame_tags, unique), frame_tags)
    row_of = {p: i for i, p in enumerate(unique)}
    classes = _class_ranks(analytic, as_of, due)
    prior = churn_base_rate(con, as_of)
    if churn is not None:
        points = pa.table({"loan_id": due["loan_id"], "obs": pa.array([as_of] * due.num_rows,
                                                                       pa.date32())})
        risk = churn.score(con, points, tag_rows)
        source = churn.ref
    else:
        risk = np.full(due.num_rows, np.nan)
        source = f"book churn rate {prior}" if prior is not None else "none"
    seconds["inputs"] = time.perf_counter() - started - seconds["tags"]
    decider = Decider(pack)
    out: dict[str, list[Any]] = {k: [] for k in COLUMNS}
    for i, row in enumerate(due.to_pylist()):
        party = row["party_id"]
        tags = {t: cols[t][row_of[party]] for t in frame_tags}
        # the renewal replaces the maturing loan: its balance is not more debt (as the limit
        # policy's offline inputs leave out loans maturing within 30 days)
        if tags.get("outstanding_principal") is not None:
            tags["outstanding_principal"] = max(
                0.0, tags["outstanding_principal"] - float(row["outstanding_yuan"]))
        term = max(1, (row["maturity_date"].year - row["start_date"].year) * 12
                   + row["maturity_date"].month - row["start_date"].month)
        pre = prescreen.decide(_application(row, tags, as_of, term), tags)
        warn = max(int(worst.get(party, 0)), int(warned.get(party, 0)))
        p_churn = None if np.isnan(risk[i]) else float(risk[i])
        inputs = {f"tag.{t}": tags.get(t) for t in pack_tags(pack)}
        inputs.update({
            "loan.loan_id": row["loan_id"], "loan.party_id": party,
            "loan.product": row["product"], "loan.principal": float(row["principal_yuan"]),
            "loan.outstanding": float(row["outstanding_yuan"]), "loan.term_months": term,
            "loan.days_to_maturity": (row["maturity_date"] - as_of).days,
            "loan.dpd": int(row["dpd"] or 0), "loan.class_rank": classes[i],
            "loan.restructured": None, "pre.outcome": pre["outcome"], "pre.limit": pre["limit"],
            "risk.warn_worst": warn, "score.churn": p_churn, "score.churn_prior": prior})
        decision = decider.decide(row["loan_id"], inputs, trace=False)
        v = decision.variables
        route_codes = [r.code for r in decision.reasons
                       if r.node in ("prescreen", "no_repay_rules")]
        if decision.outcome == "no_repay":
            route_codes.append("RW01")
        values = {
            "loan_id": row["loan_id"], "party_id": party, "product": row["product"],
            "maturity_date": row["maturity_date"],
            "days_to_maturity": (row["maturity_date"] - as_of).days,
            "principal_yuan": float(row["principal_yuan"]),
            "outstanding_yuan": float(row["outstanding_yuan"]), "dpd": int(row["dpd"] or 0),
            "class_rank": classes[i], "prescreen": pre["outcome"],
            "prescreen_mode": prescreen.mode, "grade": pre["grade"],
            "prescreen_limit": pre["limit"], "prescreen_reasons": pre["reasons"],
            "route": decision.outcome, "route_reasons": route_codes,
            "churn_risk": p_churn if p_churn is not None else prior,
            "churn_source": "model" if p_churn is not None else "prior",
            "value_tier": v.get("value.tier"), "action": v.get("action") or "none",
            "action_reasons": [r.code for r in decision.reasons if r.node == "why"],
            "offer_yuan": float(v.get("offer.amount") or 0.0)
            if decision.outcome != "decline" else 0.0}
        for k in COLUMNS:
            out[k].append(values[k])
    seconds["decide"] = time.perf_counter() - started - seconds["tags"] - seconds["inputs"]
    return RenewalRun(as_of, window_days, _table(out), dict(pack.outcomes.texts),
                      dict(prescreen.decider.pack.outcomes.texts), prescreen.mode, source,
                      seconds)


def _application(row: Mapping[str, Any], tags: Mapping[str, Any], as_of: dt.date,
                 term: int) -> dict[str, Any]:
    """The renewal as the origination pack reads an application (no unknown fields)."""
    app: dict[str, Any] = {
        "application_id": f"RN-{as_of:%Y%m%d}-{row['loan_id']}"[:32],
        "party_id": row["party_id"], "party_type": tags.get("party_type") or "",
        "product_intent": row["product"] or "working_capital", "channel": "renewal",
        "amount": f"{float(row['principal_yuan']):.2f}", "applied_on": as_of.isoformat(),
        "term_months": min(term, 360)}
    employees = tags.get("declared_employees")
    if employees is not None:
        app["employees"] = int(employees)
    return app


def _table(out: dict[str, list[Any]]) -> pa.Table:
    schema = pa.schema([
        ("loan_id", pa.string()), ("party_id", pa.string()), ("product", pa.string()),
        ("maturity_date", pa.date32()), ("days_to_maturity", pa.int32()),
        ("principal_yuan", pa.float64()), ("outstanding_yuan", pa.float64()),
        ("dpd", pa.int32()), ("class_rank", pa.int8()), ("prescreen", pa.string()),
        ("prescreen_mode", pa.string()), ("grade", pa.string()),
        ("prescreen_limit", pa.float64()), ("prescreen_reasons", pa.list_(pa.string())),
        ("route", pa.string()), ("route_reasons", pa.list_(pa.string())),
        ("churn_risk", pa.float64()), ("churn_source", pa.string()),
        ("value_tier", pa.string()), ("action", pa.string()),
        ("action_reasons", pa.list_(pa.string())), ("offer_yuan", pa.float64())])
    return pa.table(out, schema=schema)


__all__ = ["COLUMNS", "PACK_FILE", "WINDOW_DAYS", "Prescreen", "RenewalRun", "maturing_loans",
           "needed_tags", "renewal_pack", "renewal_pipeline"]
