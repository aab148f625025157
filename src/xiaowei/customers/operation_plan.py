"""The digital operation's plan over a window: the offers and retention actions it would make,
month by month, from what the bank knew at each month-end.

Why a plan and not the tasks: the simulator's comparison (the customers' response model, the
traditional product-centric operation beside it) needs what the digital operation *decides*,
over many months, without people in between; the tasks are how those decisions reach people
day to day. The plan runs the same code the day-to-day operation runs:

* at each month-end ``m`` of ``[first, last]``: one tag run as of ``m`` (the tag engine reads only
  rows known by then); the offers (:func:`~xiaowei.customers.offers.evaluate_offers`) ranked by
  eligibility × propensity × value, each customer's best offer not made to it in the last
  ``reoffer_after_months``, the best ``offer_capacity`` of them; the renewal pipeline
  (:func:`~xiaowei.customers.renewal.renewal_pipeline`) for loans maturing within 90 days, each
  loan acted on once (the first month-end it enters the window), the ``retention_capacity``
  highest churn risk × amount when capacity is short;
* the models are fitted **as of the first month-end** on outcomes known by then (``"fit"``, the
  default), or passed in, or left out (``None``: offers ranked by value, churn risk = the
  book's recent rate). When the data known then is too thin to fit, the plan goes on without
  the model and says so in the tables' metadata (``propensity``, ``churn``, ``prescreen``).

Nothing after a month-end reaches that month's decisions: tags by ``known_at``, loan states and
churn base rates by date, stored warnings and classes up to the day, models fitted before the
window — checked by a test that cuts the data after a month and gets the same month's plan.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from xiaowei.customers import offers as offers_mod
from xiaowei.customers import renewal as renewal_mod
from xiaowei.customers.propensity import OfferPropensity
from xiaowei.customers.retention import ChurnModel
from xiaowei.modelling.workbench import load
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.postloan.behaviour_features import add_months
from xiaowei.postloan.loan_state import month_ends
from xiaowei.store.analytic import AnalyticStore

FIT = "fit"
OFFERS_SCHEMA = pa.schema([("party_id", pa.string()), ("product", pa.string()),
                           ("offered_on", pa.date32()), ("score", pa.float64())])
RETENTION_SCHEMA = pa.schema([("loan_id", pa.string()), ("party_id", pa.string()),
                              ("action", pa.string()), ("acted_on", pa.date32()),
                              ("churn_risk", pa.float64())])
Progress = Callable[[str, int, int], None]


def _fit_models(analytic: AnalyticStore, known_by: dt.date, want_propensity: bool,
                want_churn: bool, work: Path, months: int) -> tuple[Any, Any, dict[str, str]]:
    """The propensity and churn models fitted on outcomes known by ``known_by`` (each None
    when the data is too thin, with the reason in the notes)."""
    from xiaowei.customers import propensity, retention

    notes: dict[str, str] = {}
    prop = churn = None
    oot = max(1, months // 4)
    if want_propensity:
        try:
            s = propensity.fit_out_of_time(analytic, work / "offer_propensity",
                                           known_by=known_by, months=months, oot_months=oot)
            prop = OfferPropensity(load(Path(s["model_dir"])), f"fitted as of {known_by}")
            notes["propensity"] = (f"offer_propensity fitted on outcomes known by {known_by}: "
                                   f"AUC out of time {s['auc_oot']}")
        except (ValueError, LookupError) as exc:
            notes["propensity"] = f"none (offers ranked by value): {exc}"
    if want_churn:
        try:
            s = retention.fit_out_of_time(analytic, work / "churn_at_maturity",
                                          known_by=known_by, months=months, oot_months=oot)
            churn = ChurnModel(load(Path(s["model_dir"])), f"fitted as of {known_by}")
            notes["churn"] = (f"churn_at_maturity fitted on outcomes known by {known_by}: "
                              f"AUC out of time {s['auc_oot']}")
        except (ValueError, LookupError) as exc:
            notes["churn"] = f"none (the book's churn rate): {exc}"
    return prop, churn, notes


def digital_plan(analytic: AnalyticStore, first: dt.date, last: dt.date, *,
                 offer_capacity: int = 500, retention_capacity: int | None = None,
                 propensity: OfferPropensity | str | None = FIT,
                 churn: ChurnModel | str | None = FIT,
                 resolver: RegistryModelResolver | None = None,
                 reoffer_after_months: int = 6, model_months: int = 12,
                 min_propensity: float | None = None, warm_up_months: int = 0,
                 borrowers_only: bool = True, work_dir: Path | None = None,
                 progress: Progress | None = None) -> tuple[pa.Table, pa.Table]:
    """``(offers, retention)`` the digital operation would make at each month-end of
    ``[first, last]`` (see the module docstring).

    offers: ``party_id, product, offered_on, score`` (score = propensity × value, or value);
    retention: ``loan_id, party_id, action, acted_on, churn_risk``. ``offer_capacity``: offers a
    month; ``retention_capacity``: retention actions a month (None: every maturing loan's).
    ``resolver``: the application scorecard for the pre-screen (None: admission rules only).
    ``model_months``: month-ends of history the fitted models learn from (the last quarter of
    them judges each out of time). ``borrowers_only`` (default): offers only to customers who
    have had a loan by the month-end — the simulator's comparison scores offers to borrowers
    only; ``False`` adds the deposit-only customers the day-to-day operation also serves.
    ``min_propensity``: no offer the propensity model rates below it (a contact policy; None:
    none). ``warm_up_months``: the operation is already running that many months before
    ``first`` — the renewal pipeline acts from then on (a loan maturing in the window's first
    weeks was acted on when it entered its 90-day window, before the window), offers only from
    ``first``; the models are fitted as of the warm-up's first month-end.
    """
    from xiaowei.data.tags.service import data_as_of

    if first > last:
        raise ValueError(f"first {first} is after last {last}")
    if not (isinstance(offer_capacity, int) and offer_capacity >= 0):
        raise ValueError(f"offer_capacity must be a whole number ≥ 0, got {offer_capacity!r}")
    if retention_capacity is not None and not (isinstance(retention_capacity, int)
                                               and retention_capacity >= 0):
        raise ValueError(f"retention_capacity must be None or a whole number ≥ 0, got "
                         f"{retention_capacity!r}")
    if not (isinstance(warm_up_months, int) and warm_up_months >= 0):
        raise ValueError(f"warm_up_months must be a whole number ≥ 0, got {warm_up_months!r}")
    ends = month_ends(add_months(first, -warm_up_months) if warm_up_months else first, last)
    if not ends:
        raise ValueError(f"no month-end between {first} and {last}")
    data_end = data_as_of(analytic)
    if ends[-1] > data_end:
        raise ValueError(f"the plan's last month-end {ends[-1]} is after the data ({data_end})")
    for name, value in (("propensity", propensity), ("churn", churn)):
        if isinstance(value, str) and value != FIT:
            raise ValueError(f"{name} must be a model, None or {FIT!r}, got {value!r}")
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="xiaowei-plan-"))
    notes: dict[str, str] = {}
    try:
        fitted_p, fitted_c, notes = _fit_models(analytic, ends[0], propensity == FIT,
                                                churn == FIT, work, model_months)
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    prop = fitted_p if propensity == FIT else propensity
    chn = fitted_c if churn == FIT else churn
    notes.setdefault("propensity", getattr(prop, "ref", None) or "none (offers ranked by value)")
    notes.setdefault("churn", getattr(chn, "ref", None) or "none (the book's churn rate)")
    prescreen = renewal_mod.Prescreen(resolver)
    notes["prescreen"] = prescreen.mode
    tags = tuple(dict.fromkeys((*offers_mod.needed_tags(propensity=prop),  # type: ignore[arg-type]
                                *renewal_mod.needed_tags(prescreen, chn))))  # type: ignore[arg-type]
    offered: dict[tuple[str, str], dt.date] = {}
    acted: set[str] = set()
    out_o: dict[str, list[Any]] = {k: [] for k in OFFERS_SCHEMA.names}
    out_r: dict[str, list[Any]] = {k: [] for k in RETENTION_SCHEMA.names}
    for i, day in enumerate(ends):
        if progress:
            progress("month-ends", i, len(ends))
        rows = offers_mod.run_tags(analytic, day, tags)
        if day >= first:
            book = offers_mod.evaluate_offers(
                analytic, day, tag_rows=rows, propensity=prop,  # type: ignore[arg-type]
                parties=_borrowers(rows) if borrowers_only else None)
            for party, product, score in _pick_offers(book, day, offered, offer_capacity,
                                                      reoffer_after_months, min_propensity):
                offered[(party, product)] = day
                for k, v in (("party_id", party), ("product", product), ("offered_on", day),
                             ("score", score)):
                    out_o[k].append(v)
        run = renewal_mod.renewal_pipeline(analytic, day, churn=chn,  # type: ignore[arg-type]
                                           tag_rows=rows, prescreen=prescreen)
        for row in _pick_retention(run, acted, retention_capacity):
            acted.add(row["loan_id"])
            for k, v in (("loan_id", row["loan_id"]), ("party_id", row["party_id"]),
                         ("action", row["action"]), ("acted_on", day),
                         ("churn_risk", row["churn_risk"])):
                out_r[k].append(v)
    if progress:
        progress("month-ends", len(ends), len(ends))
    meta = {k: v.encode() for k, v in notes.items()}
    meta["window"] = json.dumps({"first": ends[0].isoformat(), "last": ends[-1].isoformat(),
                                 "offers_from": first.isoformat(),
                                 "warm_up_months": warm_up_months,
                                 "offer_capacity": offer_capacity,
                                 "retention_capacity": retention_capacity}).encode()
    return (pa.table(out_o, schema=OFFERS_SCHEMA.with_metadata(meta)),
            pa.table(out_r, schema=RETENTION_SCHEMA.with_metadata(meta)))


RUNNING_WARM_UP_MONTHS = 3
"""A running operation's renewal pipeline looks 90 days ahead: three month-ends before a window
reach every loan maturing in its first weeks."""


def running_digital_plan(analytic: AnalyticStore, first: dt.date, last: dt.date
                         ) -> tuple[pa.Table, pa.Table]:
    """The digital plan of an operation already running before ``first`` (the demo's and the
    comparison's plan): :func:`digital_plan` with :data:`RUNNING_WARM_UP_MONTHS` of warm-up."""
    return digital_plan(analytic, first, last, warm_up_months=RUNNING_WARM_UP_MONTHS)


def _borrowers(rows: pa.Table) -> list[str]:
    """Parties with at least one loan by the tag run's day (``loans_total`` ≥ 1)."""
    import pyarrow.compute as pc

    mask = pc.and_(pc.equal(rows["tag"], "loans_total"),
                   pc.greater_equal(pc.fill_null(rows["value_int"], 0), 1))
    return sorted(set(rows.filter(mask)["entity_id"].to_pylist()))


def _pick_offers(book: offers_mod.OfferBook, day: dt.date,
                 offered: dict[tuple[str, str], dt.date], capacity: int,
                 reoffer_after_months: int, min_propensity: float | None = None
                 ) -> list[tuple[str, str, float]]:
    """Each customer's best offer not made to it within ``reoffer_after_months``, the best
    ``capacity`` of them (score, then party id: deterministic)."""
    since = add_months(day, -reoffer_after_months)
    best: dict[str, tuple[float, str]] = {}
    for r in book.offers.to_pylist():  # rows come best first within a customer
        party, product = r["party_id"], r["product"]
        last = offered.get((party, product))
        if party in best or (last is not None and last > since):
            continue
        if (min_propensity is not None and r["propensity"] is not None
                and r["propensity"] < min_propensity):
            continue
        best[party] = (float(r["score"]), product)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:capacity]
    return [(party, product, score) for party, (score, product) in ranked]


def _pick_retention(run: renewal_mod.RenewalRun, acted: set[str],
                    capacity: int | None) -> list[dict[str, Any]]:
    """Loans with an action not acted on before; the highest churn risk × amount first."""
    rows = [r for r in run.table.to_pylist() if r["action"] != "none"
            and r["loan_id"] not in acted]
    rows.sort(key=lambda r: (-(r["churn_risk"] or 0.0) * max(r["offer_yuan"],
                                                             r["outstanding_yuan"]),
                             r["loan_id"]))
    return rows if capacity is None else rows[:capacity]


def plan_notes(table: pa.Table) -> dict[str, str]:
    """The notes a plan table carries (which models, which pre-screen, the window)."""
    return {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}


__all__ = ["FIT", "OFFERS_SCHEMA", "RETENTION_SCHEMA", "RUNNING_WARM_UP_MONTHS", "digital_plan",
           "plan_notes", "running_digital_plan"]
