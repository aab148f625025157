"""`xiaowei load DIR`: a dataset folder into the analytic and transactional stores.

Order of work, and why:
1. Check the whole folder (dataset.py) before writing anything.
2. Source tables (raw/) go into DuckDB through their contracts (malformed rows quarantined
   with reasons, in = accepted + quarantined per source), the bank's tables (bank/) as they
   are, all in one DuckDB transaction: governance (a later step) cleans them there.
3. The bank's records go into the transactional store in one transaction, row-level dirt to
   quarantine with reasons; in = accepted + quarantined for every table.
4. A load batch with the dataset's fingerprint makes the load idempotent: loading the same
   dataset again changes nothing and says so.
The ground-truth zone (truth/) is never read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from xiaowei.data.bank_records import (
    PartyRegistry,
    Quarantine,
    check_application,
    rows,
    yuan,
)
from xiaowei.data.dataset import Dataset
from xiaowei.data.raw_import import import_sources
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.store import tables as t
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import transaction

Progress = Callable[[str, int, int], None]
UTC = dt.UTC


@dataclass
class TableCount:
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0


@dataclass
class LoadReport:
    batch_id: str
    fingerprint: str
    already_loaded: bool = False
    analytic_tables: dict[str, int] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # per raw source contract
    transactional: dict[str, TableCount] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        return sum(c.rows_in for c in self.transactional.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(c.quarantined for c in self.transactional.values())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows_in"], d["rows_quarantined"] = self.rows_in, self.rows_quarantined
        return d


def load_dataset(root: Path | str, engine: Engine, analytic: AnalyticStore,
                 progress: Progress | None = None) -> LoadReport:
    ds = Dataset.open(root)
    with engine.connect() as con:
        done = con.execute(select(t.LoadBatch.batch_id).where(
            t.LoadBatch.fingerprint == ds.fingerprint, t.LoadBatch.status == "done")).first()
    if done is not None:
        return LoadReport(batch_id=done[0], fingerprint=ds.fingerprint, already_loaded=True)
    step = progress or (lambda _name, _i, _n: None)
    bank = {name: ds.bank_table(name) for name in
            ("branches", "managers", "applications", "decisions", "loans", "repayments")}
    raw_files = ds.raw_files()
    bank_files = {f"bank_{p.stem}": p for p in sorted((ds.root / "bank").glob("*.parquet"))}
    report = LoadReport(batch_id=uuid.uuid4().hex, fingerprint=ds.fingerprint)
    report.analytic_tables, sources = import_sources(
        analytic.connection, {**raw_files, **bank_files}, "raw",
        lambda i, n: step("analytic", i, n))
    report.sources = {name: r.to_json() for name, r in sources.items()}
    _load_transactional(ds, bank, engine, report, step)
    return report


def _load_transactional(ds: Dataset, bank: dict, engine: Engine, report: LoadReport,
                        step: Progress) -> None:
    started = dt.datetime.now(UTC)
    q = Quarantine()
    counts = report.transactional
    parties = PartyRegistry()
    with transaction(engine) as s:
        s.execute(insert(t.LoadBatch), [{
            "batch_id": report.batch_id, "source_dir": str(ds.root.resolve()),
            "started_at": started, "status": "running", "fingerprint": ds.fingerprint}])
        branches = [r for _, r in rows(bank["branches"])]
        s.execute(insert(t.Branch), [{"branch_id": r["branch_id"], "name": r["name"],
                                      "region_code": r["region_code"]} for r in branches])
        counts["branches"] = TableCount(len(branches), len(branches))
        managers = [r for _, r in rows(bank["managers"])]
        s.execute(insert(t.CustomerManager), [{
            "manager_id": r["manager_id"], "name": r["name"], "branch_id": r["branch_id"],
            "risk_tier": r["risk_tier"], "hired_on": r["hired_on"], "phone": r["phone"]}
            for r in managers])
        counts["managers"] = TableCount(len(managers), len(managers))
        step("transactional", 1, 4)
        apps, accepted = [], {}
        for number, r in rows(bank["applications"]):
            problem = check_application(r)
            applied = r["applied_at"].replace(tzinfo=UTC)
            if problem is None:
                try:
                    party_id = parties.party_for(r, applied)
                except InvalidIdentifier as err:
                    problem = (err.field, str(err))
            if problem is not None:
                q.add("applications", number, problem[0], problem[1], r)
                continue
            accepted[r["application_no"]] = party_id
            apps.append({"application_id": r["application_no"], "party_id": party_id,
                         "applied_at": applied, "channel": r["channel"],
                         "product_intent": r["product_intent"], "amount": yuan(r["amount_fen"]),
                         "term_months": r["term_months"], "manager_id": r["manager_id"],
                         "branch_id": r["branch_id"], "status": "submitted",
                         "source_ref": r["application_no"]})
        status = {}
        decisions = []
        for number, r in rows(bank["decisions"]):
            if r["application_no"] not in accepted:
                q.add("decisions", number, "application_no",
                      "its application was quarantined", r)
                continue
            status[r["application_no"]] = {"approve": "approved", "reject": "rejected"}.get(
                r["decision"], "in_review")
            if r["decision"] == "pending":
                continue
            decisions.append({
                "decision_id": f"D{r['application_no']}", "application_id": r["application_no"],
                "outcome": r["decision"], "decided_at": r["decided_at"].replace(tzinfo=UTC),
                "decided_by": r["decided_by"],
                "reasons": [{"code": "TRADITIONAL", "zh": r["reason"]}],
                "approved_amount": yuan(r["approved_amount_fen"])
                if r["approved_amount_fen"] is not None else None,
                "strategy_version": "traditional"})
        for a in apps:
            a["status"] = status.get(a["application_id"], "submitted")
        parties_rows = list(parties.by_key.values())
        s.execute(insert(t.Party), parties_rows)
        s.execute(insert(t.Application), apps)
        s.execute(insert(t.Decision), decisions)
        n_dec = bank["decisions"].num_rows
        counts["parties"] = TableCount(len(parties_rows), len(parties_rows))
        counts["applications"] = TableCount(bank["applications"].num_rows, len(apps),
                                            q.count("applications"))
        counts["decisions"] = TableCount(n_dec, n_dec - q.count("decisions"),
                                         q.count("decisions"))
        step("transactional", 2, 4)
        _load_loans(bank, accepted, ds.as_of, s, q, counts)
        step("transactional", 3, 4)
        if q.rows:
            s.execute(insert(t.QuarantinedRow), [{"batch_id": report.batch_id, **r}
                                                 for r in q.rows])
        batch = s.get(t.LoadBatch, report.batch_id)
        assert batch is not None
        batch.finished_at = dt.datetime.now(UTC)
        batch.status = "done"
        batch.rows_in = sum(c.rows_in for c in counts.values())
        batch.rows_accepted = sum(c.accepted for c in counts.values())
        batch.rows_quarantined = len(q.rows)
        step("transactional", 4, 4)
    for r in q.rows:
        key = r["reason"].split("(")[-1].rstrip(")") if "(" in r["reason"] else r["reason"]
        key = f"{r['table_name']}.{r['column_name']}: {key}"
        report.quarantine_reasons[key] = report.quarantine_reasons.get(key, 0) + 1


def _load_loans(bank: dict, accepted: dict[str, str], as_of: str, s: Any, q: Quarantine,
                counts: dict[str, TableCount]) -> None:
    cutoff = dt.date.fromisoformat(as_of)
    pays: dict[str, list[dict[str, Any]]] = {}
    loan_ok: set[str] = set()
    loans = []
    for number, r in rows(bank["loans"]):
        if r["application_no"] not in accepted:
            q.add("loans", number, "application_no", "its application was quarantined", r)
            continue
        loan_ok.add(r["loan_no"])
        loans.append({"loan_id": r["loan_no"], "application_id": r["application_no"],
                      "party_id": accepted[r["application_no"]],
                      "principal": yuan(r["principal_fen"]),
                      "annual_rate": Decimal(round(r["annual_rate"] * 10_000)).scaleb(-4),
                      "term_months": r["term_months"], "start_date": r["start_date"],
                      "maturity_date": r["maturity_date"],
                      "repayment_method": r["repayment_method"], "status": "active"})
    for number, r in rows(bank["repayments"]):
        if r["loan_no"] not in loan_ok:
            q.add("repayments", number, "loan_no", "its loan was quarantined", r)
            continue
        pays.setdefault(r["loan_no"], []).append({
            "loan_id": r["loan_no"], "period": r["period"], "due_date": r["due_date"],
            "principal_due": yuan(r["principal_due_fen"]),
            "interest_due": yuan(r["interest_due_fen"]), "paid_on": r["paid_on"],
            "paid_amount": yuan(r["paid_amount_fen"])})
    for loan in loans:
        loan["status"] = loan_status(pays.get(loan["loan_id"], []), cutoff)
    s.execute(insert(t.Loan), loans)
    all_pays = [p for ps in pays.values() for p in ps]
    for i in range(0, len(all_pays), 20_000):
        s.execute(insert(t.Repayment), all_pays[i:i + 20_000])
    counts["loans"] = TableCount(bank["loans"].num_rows, len(loans), q.count("loans"))
    counts["repayments"] = TableCount(bank["repayments"].num_rows, len(all_pays),
                                      q.count("repayments"))


def loan_status(periods: list[dict[str, Any]], as_of: dt.date) -> str:
    """active / overdue / settled as of the dataset's date (the accounting issue refines it)."""
    if any(p["paid_on"] is None and p["due_date"] <= as_of for p in periods):
        return "overdue"
    if periods and all(p["paid_on"] is not None for p in periods):
        return "settled"  # every period paid, or the rest prepaid (no later periods exist)
    return "active"
