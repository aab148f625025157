"""The nightly post-loan monitoring batch (贷后日批): every loan's state, warnings, stratum,
inspection plan, collection step, five-level class and ECL stage as of one day.

Why one batch over the whole book instead of checks per loan: monitoring is "批量管理、集中
监测、及时通报、差异处理" (DOMAIN.md §3) — the same tags refreshed for every borrower, the same
catalogue and pack applied to every loan, the results in one place that the analytics, the
pages and tomorrow's run read. The steps:

1. **tags** as of the day — the whole catalogue (stored in the tag history, so the customer 360
   shows how a tag moved) or only the tags the signals read; DuckDB, or Spark at scale;
2. **loan state** (:mod:`xiaowei.postloan.loan_state`): balance, arrears, dpd, bucket;
3. **warnings** (:mod:`xiaowei.postloan.warning_levels`) for every borrower with a balance; a
   warning is *raised* only when the same signal was not raised at that level or worse within
   ``reraise_after_days`` — one lasting fact is not re-alerted every night;
4. **the post-loan pack** per loan: track (normal / watch / collect / dispose), stratum,
   inspection mode and interval, collection step; an inspection falls due on the loan's own
   cadence (days since disbursement modulo the interval) or when a warning is raised;
5. **five-level class and ECL stage** (vectorised :mod:`~xiaowei.postloan.classification` and
   :mod:`~xiaowei.postloan.staging`), ECL = PD × LGD × EAD with the pack's PD for the stratum.

Results go to the analytic store's ``postloan`` schema — ``loan_day`` (one row per loan and
day), ``warning`` (raised warnings) and ``run`` (one row per day) — in one transaction that
first deletes the day's rows: running a day again gives the same rows, never twice as many.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from xiaowei.data.tags.service import bank_catalogue, compute_all, governed_snapshot, run_file
from xiaowei.engine.strategy import Decider, Pack
from xiaowei.engine.tags import TagResult, run_duckdb
from xiaowei.engine.tags.layout import SCHEMA as TAG_SCHEMA
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.postloan.classification import classify_batch
from xiaowei.postloan.loan_state import loan_state, month_ends
from xiaowei.postloan.monitoring_inputs import default_pack, pack_inputs
from xiaowei.postloan.monitoring_tables import (
    LEVEL_NAMES,
    ensure_tables,
    new_warnings,
    replace_day,
)
from xiaowei.postloan.staging import default_staging_rules, stage_batch
from xiaowei.postloan.warning_catalogue import WarningCatalogue, load_warning_catalogue
from xiaowei.postloan.warning_levels import evaluate
from xiaowei.store.analytic import AnalyticStore

Progress = Callable[[str, int, int], None]
BehaviourScore = Callable[[AnalyticStore, dt.date, pa.Table, pa.Table | None], np.ndarray]
"""PD per row of the day's loan state (NaN: not scored), given the store, the day, the state
and the day's tag rows; its optional ``tags`` attribute names the tags it reads."""
ON_BOOK = ("active", "matured_unpaid")


@dataclass
class MonitoringRun:
    """What one day's batch found and how long each step took."""

    as_of: dt.date
    engine: str
    loans: int
    borrowers: int
    warnings_raised: dict[str, int]
    warned_borrowers: int
    tracks: dict[str, int]
    strata: dict[str, int]
    classes: dict[str, int]
    stages: dict[str, int]
    inspections_due: dict[str, int]
    collection_steps: dict[str, int]
    balance_yuan: float
    ecl_yuan: float
    tag_fingerprint: str
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "engine": self.engine, "loans": self.loans,
                "borrowers": self.borrowers, "warnings_raised": self.warnings_raised,
                "warned_borrowers": self.warned_borrowers, "tracks": self.tracks,
                "strata": self.strata, "classes": self.classes, "stages": self.stages,
                "inspections_due": self.inspections_due,
                "collection_steps": self.collection_steps,
                "balance_yuan": round(self.balance_yuan, 2),
                "ecl_yuan": round(self.ecl_yuan, 2),
                "tag_fingerprint": self.tag_fingerprint,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()}}


def _tag_rows(result: TagResult, tags: list[str]) -> pa.Table:
    """Only the rows of ``tags``: a whole-catalogue run at bank size holds tens of millions of
    values, and the signals read a few tags of them."""
    if result.data is not None:
        mask = np.isin(np.asarray(result.data["tag"].to_pylist(), dtype=object), tags)
        return result.data.filter(pa.array(mask))
    files = [Path(str(result.path)) / f"{t}.parquet" for t in tags]
    present = [f for f in files if f.is_file()]
    if not present:
        return TAG_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=TAG_SCHEMA) for f in present])


def refresh_tags(analytic: AnalyticStore, as_of: dt.date, engine: str, tags: list[str],
                 full: bool, progress: Progress | None) -> TagResult:
    """Step 1: the whole catalogue into the tag history, or just ``tags`` (faster)."""
    if full:
        _, result = compute_all(analytic, as_of, engine, progress=progress)
        return result
    catalogue = bank_catalogue()
    sources = governed_snapshot(analytic, catalogue)
    output = run_file(analytic, engine, as_of)
    if engine == "duckdb":
        return run_duckdb(catalogue, sources, as_of, tags=tags, progress=progress,
                          output=output)
    if engine == "spark":
        from xiaowei.engine.tags.spark import local_session, run_spark

        return run_spark(catalogue, sources, as_of, spark=local_session("xiaowei-postloan"),
                         tags=tags, progress=progress, output=output)
    raise ValueError(f"engine must be duckdb or spark, got {engine!r}")


def run_monitoring(analytic: AnalyticStore, as_of: dt.date, *, engine: str = "duckdb",
                   full_tags: bool = True, catalogue: WarningCatalogue | None = None,
                   pack: Pack | None = None, behaviour: BehaviourScore | None = None,
                   progress: Progress | None = None) -> MonitoringRun:
    """Run the day's batch and store its results (replacing any earlier run of that day)."""
    catalogue = catalogue or load_warning_catalogue()
    catalogue.check_tags(frozenset(bank_catalogue().tags))
    decider = Decider(pack or default_pack())
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    needed = list(catalogue.tags)
    scored_tags = list(getattr(behaviour, "tags", ()) or ())
    result = refresh_tags(analytic, as_of, engine, list(dict.fromkeys(needed + scored_tags)),
                          full_tags, progress)
    lap("tags")
    con = analytic.connection
    state = loan_state(con, as_of)
    on_book = np.isin(np.asarray(state["status"].to_pylist(), dtype=object), ON_BOOK) & (
        np.nan_to_num(state["outstanding_yuan"].to_numpy(zero_copy_only=False)) > 0)
    state = state.filter(pa.array(on_book))
    lap("loan_state")
    parties = state["party_id"].to_pylist()
    ids, columns = tag_columns(_tag_rows(result, needed), needed, parties)
    books, hits = evaluate(catalogue, ids, columns)
    ensure_tables(con)
    raised = new_warnings(con, hits, as_of, catalogue)
    lap("warnings")
    bpd = None
    if behaviour is not None:  # the day's tag rows go with it: no second tag run
        rows = _tag_rows(result, list(dict.fromkeys(needed + scored_tags)))
        bpd = behaviour(analytic, as_of, state, rows)
    lap("behaviour")
    day = _decide_loans(decider, state, books, raised, as_of, bpd)
    lap("pack")
    day = _classify(day, state)
    lap("classification")
    replace_day(con, as_of, day, raised)
    lap("store")
    by_level = Counter(LEVEL_NAMES[int(x)] for x in raised["level_rank"].to_pylist())
    return MonitoringRun(
        as_of, engine, state.num_rows, len(set(parties)),
        {k: by_level.get(k, 0) for k in ("yellow", "orange", "red")},
        len(set(raised["party_id"].to_pylist())),
        _counts(day, "track"), _counts(day, "stratum"), _counts(day, "class"),
        {str(k): v for k, v in _counts(day, "stage").items()},
        _counts(day.filter(day["inspection_due"]), "inspection_mode"),
        _counts(day, "collection_step"),
        float(np.nansum(day["outstanding_yuan"].to_numpy(zero_copy_only=False))),
        float(np.nansum(day["ecl_yuan"].to_numpy(zero_copy_only=False))),
        result.fingerprint, seconds)


ORDER = {"class": ("正常", "关注", "次级", "可疑", "损失"),
         "track": ("normal", "watch", "collect", "dispose"),
         "stratum": ("low", "medium", "high", "critical")}


def backfill(analytic: AnalyticStore, since: dt.date, until: dt.date, *,
             engine: str = "duckdb", catalogue: WarningCatalogue | None = None,
             progress: Progress | None = None) -> list[MonitoringRun]:
    """Run the batch at every month-end from ``since`` up to (not including) ``until``, with
    only the signal tags: a bank starting monitoring (or a demo) gets a history of warnings
    and loan days for the reports to measure against outcomes. Days already run are redone."""
    ends = [d for d in month_ends(since, until) if d < until]
    runs = []
    for i, day in enumerate(ends):
        if progress:
            progress("month-ends", i, len(ends))
        runs.append(run_monitoring(analytic, day, engine=engine, full_tags=False,
                                   catalogue=catalogue))
    if progress:
        progress("month-ends", len(ends), len(ends))
    return runs


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    """Counts of a column's values, in the bank's order where it has one (classes by
    severity), else alphabetically."""
    counted = Counter(table[column].to_pylist())
    order = ORDER.get(column)
    if order:
        return {k: counted[k] for k in order if k in counted}
    return dict(sorted(counted.items(), key=lambda kv: str(kv[0])))


def _decide_loans(decider: Decider, state: pa.Table, books: Any, raised: pa.Table,
                  as_of: dt.date, bpd: np.ndarray | None) -> pa.Table:
    """Step 4: the pack once per loan (no trace: the day's rows keep outcome and reasons)."""
    worst = dict(zip(books.entities, books.worst, strict=True))
    counts = {lv: dict(zip(books.entities, books.count(lv), strict=True)) for lv in (1, 2, 3)}
    raised_parties = set(raised["party_id"].to_pylist())
    loan_ids = state["loan_id"].to_pylist()
    party = state["party_id"].to_pylist()
    dpd = state["dpd"].to_pylist()
    balance = state["outstanding_yuan"].to_pylist()
    mob = state["mob"].to_pylist()
    product = state["product"].to_pylist()
    start = state["start_date"].to_pylist()
    out: dict[str, list[Any]] = {k: [] for k in (
        "track", "stratum", "inspection_mode", "inspection_every_days", "inspection_due",
        "collection_step", "pd_12m", "worst_level", "reasons")}
    for i, loan in enumerate(loan_ids):
        p = party[i]
        score = None if bpd is None or np.isnan(bpd[i]) else float(bpd[i])
        decision = decider.decide(loan, pack_inputs(
            loan, p, int(dpd[i] or 0), float(balance[i] or 0.0), int(mob[i] or 0),
            int(worst.get(p, 0)), {lv: int(counts[lv].get(p, 0)) for lv in (1, 2, 3)},
            product=product[i], bpd=score), trace=False)
        v = decision.variables
        every = int(v["inspection.every_days"])
        days_on_book = (as_of - start[i]).days if start[i] is not None else 0
        out["track"].append(decision.outcome)
        out["stratum"].append(v["stratum"])
        out["inspection_mode"].append(v["inspection.mode"])
        out["inspection_every_days"].append(every)
        out["inspection_due"].append(p in raised_parties or (
            days_on_book > 0 and days_on_book % every == 0))
        out["collection_step"].append(v["collection.step"])
        out["pd_12m"].append(float(v["ecl.pd_12m"]))
        out["worst_level"].append(int(worst.get(p, 0)))
        out["reasons"].append([r.code for r in decision.reasons])
    cols = {name: state[name] for name in ("loan_id", "party_id", "product", "branch_id",
                                           "manager_id", "dpd", "bucket", "outstanding_yuan")}
    return pa.table({**cols, **{k: pa.array(v) for k, v in out.items()}})


def _classify(day: pa.Table, state: pa.Table) -> pa.Table:
    """Step 5: class and stage for every loan, then ECL = PD × LGD × EAD."""
    dpd = np.asarray(day["dpd"].to_numpy(zero_copy_only=False), dtype=np.int64)
    classes = classify_batch(dpd, product=day["product"].to_pylist())
    levels = np.asarray(day["worst_level"].to_numpy(zero_copy_only=False))
    stages = stage_batch(dpd, class_rank=classes.ranks,
                         warning_level=[LEVEL_NAMES[int(x)] for x in levels])
    rules = default_staging_rules()
    lgd = float(rules.lgd.default)
    remaining = _remaining_years(state)
    pd12 = np.asarray(day["pd_12m"].to_numpy(zero_copy_only=False), dtype=np.float64)
    lifetime = 1.0 - np.power(1.0 - pd12, np.maximum(remaining, 1 / 12))
    pd = np.where(stages == 3, 1.0, np.where(stages == 2, lifetime,
                                             pd12 * np.minimum(remaining, 1.0)))
    ead = np.nan_to_num(np.asarray(day["outstanding_yuan"].to_numpy(zero_copy_only=False),
                                   dtype=np.float64))
    ecl = np.round(pd * lgd * ead, 2)
    by_loan = classes.to_arrow(day["loan_id"].to_pylist())
    return (day.append_column("class", by_loan["class"])
            .append_column("class_reasons", by_loan["reasons"])
            .append_column("stage", pa.array(stages, pa.int8()))
            .append_column("ecl_yuan", pa.array(ecl, pa.float64())))


def _remaining_years(state: pa.Table) -> np.ndarray:
    as_of = state["as_of"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    maturity = state["maturity_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    days = (maturity - as_of).astype(np.int64)
    return np.maximum(days, 0) / 365.25
