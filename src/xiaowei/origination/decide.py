"""Decide one credit application with the default strategy pack: fields + tags + models → decision.

Why this module: the engine decides *variables*; origination knows where they come from. One
decision is assembled here, in this order:

1. the application is checked — every missing or invalid field is listed in one
   :class:`ApplicationError` (a 4xx for an API, one message for the CLI); the *values* of
   ``party_type``, ``product_intent`` and ``channel`` are not checked here: an unknown party type
   or segment is the pack's business and goes to review with a reason, never a crash;
2. the party's tags are computed online **as of the application date** (point in time: nothing
   the bank learnt later can leak into the decision);
3. the credit-limit policy's grade-independent steps (verified revenue, room after existing
   debt, industry and regulatory caps — ``credit_limit.LimitPolicy``) are computed here and passed
   in as ``lim.*`` inputs. Why not in pack formulas: verifying revenue takes a median of sources,
   haircuts and month coverage — the policy's code is tested against a worked example, and
   copying it into formulas would give two versions that drift. The pack keeps what a strategy
   team tunes: the grade × size multiplier, rounding, the segment maximum;
4. models are resolved once per :class:`DefaultDecider` through
   :class:`~xiaowei.origination.model_resolver.RegistryModelResolver`;
5. the real-time bureau check (the pack's critical source ``bureau_live``) is answered from the
   tags unless the caller passes a fetcher; when it (or the tag computation) fails, the engine
   sends the case to review with ``SYS_SOURCE_FAILED``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xiaowei.engine.strategy import Decider, Decision, load_pack
from xiaowei.engine.strategy.flow import Fetch
from xiaowei.engine.strategy.pack import Pack
from xiaowei.origination.credit_limit import LimitPolicy, inputs_from_row
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.strategies.live import LivePacks
from xiaowei.strategies.store import StrategyStore

DEFAULT_PACK = Path(__file__).parent / "packs" / "default" / "pack.yaml"
MAX_TERM_MONTHS = 360
REQUIRED = ("application_id", "party_id", "party_type", "product_intent", "channel", "amount",
            "applied_on")
OPTIONAL = ("term_months", "declared_revenue", "employees")
MAX_KEY = 32  # the store's identifier columns
MAX_AMOUNT = Decimal(10) ** 16  # the store's money columns hold NUMERIC(18, 2)
APPLICATION_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,31}")
TagReader = Callable[[str, dt.date], Mapping[str, Any]]


class ApplicationError(ValueError):
    """The application is refused; ``problems`` lists every missing or invalid field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid application:\n" + "\n".join(f"  {p}" for p in problems))


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def validate_application(app: Mapping[str, Any]) -> dict[str, Any]:
    """The application's fields as typed values, or :class:`ApplicationError` listing all."""
    if not isinstance(app, Mapping):
        raise ApplicationError([f"an application is a JSON object, got {type(app).__name__}"])
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name in REQUIRED:
        if app.get(name) in (None, ""):
            problems.append(f"{name}: required but missing")
    for name in ("application_id", "party_id", "party_type", "product_intent", "channel"):
        value = app.get(name)
        if value not in (None, ""):
            if isinstance(value, str):
                out[name] = value.strip()
            else:
                problems.append(f"{name}: expected text, got {value!r}")
    # Keys are stored in 32-character columns and read back in URLs (/v1/applications/{id}).
    if "application_id" in out and not APPLICATION_KEY.fullmatch(out["application_id"]):
        problems.append(f"application_id: expected 1–32 letters, digits or . _ : -, got "
                        f"{out.pop('application_id')!r}")
    if len(out.get("party_id", "")) > MAX_KEY:
        problems.append(f"party_id: expected at most {MAX_KEY} characters, got "
                        f"{len(out.pop('party_id'))}")
    if app.get("amount") not in (None, ""):
        amount = _money(app["amount"])
        if amount is None or amount <= 0 or amount >= MAX_AMOUNT:
            problems.append(f"amount: expected a positive amount in yuan below 10^16, got "
                            f"{app['amount']!r}")
        else:
            out["amount"] = amount
    if app.get("applied_on") not in (None, ""):
        try:
            out["applied_on"] = dt.date.fromisoformat(str(app["applied_on"])[:10])
        except ValueError:
            problems.append(f"applied_on: expected a date YYYY-MM-DD, got {app['applied_on']!r}")
    if app.get("term_months") not in (None, ""):
        term = app["term_months"]
        if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= 360:
            problems.append(f"term_months: expected a whole number of months 1–360, got {term!r}")
        else:
            out["term_months"] = term
    if app.get("declared_revenue") not in (None, ""):
        revenue = _money(app["declared_revenue"])
        if revenue is None or revenue < 0:
            problems.append(f"declared_revenue: expected an amount ≥ 0 in yuan, got "
                            f"{app['declared_revenue']!r}")
        else:
            out["declared_revenue"] = revenue
    if app.get("employees") not in (None, ""):
        emp = app["employees"]
        if isinstance(emp, bool) or not isinstance(emp, int) or emp < 0:
            problems.append(f"employees: expected a whole number ≥ 0, got {emp!r}")
        else:
            out["employees"] = emp
    unknown = sorted(set(app) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(f"unknown fields {unknown}; allowed: {[*REQUIRED, *OPTIONAL]}")
    if problems:
        raise ApplicationError(problems)
    return out


def _number(value: Any) -> Any:
    """A tag value as the pack expects it: NaN → null (unknown), Decimal → float."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


@functools.cache
def _limit_policy() -> LimitPolicy:
    """The policy with its parameter file read once per process (reading it costs ~3 ms)."""
    return LimitPolicy()


def limit_inputs(tags: Mapping[str, Any]) -> dict[str, Decimal]:
    """``lim.*``: the credit-limit policy's steps that do not depend on the grade.

    Computed with grade A1 (multiplier 1.0) so the policy's ``room_after_debt`` component is
    the room before the rating multiplier; the pack applies its grade × size multiplier and
    the caps. This bank's exposure is the party's outstanding principal (the policy's
    "maturing within 30 days" exclusion is not applied online — conservative).
    """
    row = dict(tags)
    row["other_bank_debt"] = tags.get("other_bank_balance")
    row["bank_exposure"] = tags.get("outstanding_principal") or 0
    if tags.get("tax_months_filed_12m") is not None:
        row["tax_sales_months"] = int(tags["tax_months_filed_12m"])
    for key in ("tax_sales_12m", "invoice_amount_12m", "account_inflow_12m", "other_bank_debt",
                "bank_exposure"):
        if isinstance(row.get(key), float) and not math.isfinite(row[key]):
            row[key] = None
    policy = _limit_policy()
    inputs = inputs_from_row(row, "A1")
    result = policy.limit(inputs)
    room = next((c.yuan for c in result.components if c.key == "room_after_debt"), Decimal(0))
    params = policy.parameters
    exposure = inputs.amount("bank_exposure") or Decimal(0)
    reg_room = max(Decimal(0), Decimal(params.regulatory_cap_yuan) - exposure)
    cap = min(Decimal(params.industry(inputs.industry_section).cap_yuan), reg_room)
    return {"lim.verified_revenue": Decimal(result.verified_revenue_yuan),
            "lim.room": Decimal(room), "lim.cap": cap}


def case_inputs(app: Mapping[str, Any], tags: Mapping[str, Any], pack: Pack) -> dict[str, Any]:
    """The pack's inputs: ``app.*`` from the application, ``tag.*`` from the tags, ``lim.*``."""
    values: dict[str, Any] = {f"app.{k}": v for k, v in app.items()}
    for name in pack.inputs:
        if name.startswith("tag."):
            values[name] = _number(tags.get(name[4:]))
    values.update(limit_inputs(tags))
    return values


def bureau_from_tags(tags: Mapping[str, Any] | None, error: Exception | None) -> Fetch:
    """The ``bureau_live`` fetcher answered from the latest governed credit report.

    In production the bureau's real-time query plugs in here; if the tags could not be
    computed, the fetch fails with that error, so the case goes to review (critical source).
    """
    def fetch(_request: Mapping[str, Any], _timeout_s: float) -> Mapping[str, Any]:
        if error is not None:
            raise error
        assert tags is not None
        return {"live.bureau_overdue_now": tags.get("bureau_overdue_now") or 0,
                "live.hard_inquiries_3m": tags.get("hard_inquiries_3m") or 0}
    return fetch


def online_tag_reader(analytic: Any) -> TagReader:
    """One party's tags as of a date, computed online from the governed snapshot."""
    from xiaowei.data.tags.service import party_tags

    return lambda party_id, as_of: party_tags(analytic, party_id, as_of)


@contextmanager
def batch_tag_reader(analytic: Any, *, serving: bool = False) -> Iterator[TagReader]:
    """Like :func:`online_tag_reader`, but the online engine is built once for many cases.

    ``serving=True`` (live decisions only — the API opts in): tags come from the latest batch
    run when it is as of the day or the day before, and only the tags over intraday tables
    are computed online (``xiaowei.engine.tags.serving``); replays and ``xiaowei decide`` keep
    the exact-day online tags so that backtests stay point in time.
    """
    from xiaowei.data.tags.service import online_party_tags, serving_party_tags

    online = serving_party_tags(analytic) if serving else online_party_tags(analytic)
    try:
        yield online.values
    finally:
        online.close()


class DefaultDecider:
    """A pack bound to its models: build once, decide many applications."""

    def __init__(self, *, tags: TagReader, resolver: RegistryModelResolver | None = None,
                 pack_path: str | Path = DEFAULT_PACK,
                 sources: Mapping[str, Fetch] | None = None, concurrent: bool = False) -> None:
        self.resolver = resolver or RegistryModelResolver()
        self.pack = load_pack(pack_path)
        self.decider = self.bind(self.pack)
        self.tags = tags
        # Whether several threads may decide at once: say so only for a tag reader that is
        # safe across threads (the serving runner's pool); an online runner's cursors serve
        # one thread at a time, so intake serialises calls unless this is true.
        self.concurrent = concurrent
        self.sources = dict(sources or {})
        self._live: tuple[LivePacks, str] | None = None

    def bind(self, pack: Pack) -> Decider:
        """The pack bound to this decider's models (a live switch rebuilds with this)."""
        self.resolver.aliases.update({ref: alias for alias, ref in pack.models.items()})
        return Decider(pack, resolver=self.resolver)

    def follow(self, store: StrategyStore, name: str, *, interval: float = 5.0) -> DefaultDecider:
        """From now on decide with the version of ``name`` that is live in the store.

        A server calls this once: each decision then asks the live switch which version to use
        (a primary-key lookup at most every ``interval`` seconds) and runs start to finish on
        that version, so a publication or rollback takes effect without a restart. Fails now
        when no version of ``name`` is live.
        """
        live = LivePacks(store, bind=self.bind, interval=interval)
        strategy = live.current(name)
        self.pack, self.decider = strategy.pack, strategy.decider
        self._live = (live, name)
        return self

    def current(self) -> tuple[Pack, Decider]:
        """The pack and its bound decider that the next decision runs on, held together."""
        if self._live is None:
            return self.pack, self.decider
        live, name = self._live
        strategy = live.current(name)
        return strategy.pack, strategy.decider

    def decide(self, application: Mapping[str, Any], *, as_of: dt.date | None = None,
               automated_ok: bool = True, trace: bool = True) -> dict[str, Any]:
        """Decide one application; raise :class:`ApplicationError` for bad fields."""
        return self.decide_with_inputs(application, as_of=as_of, automated_ok=automated_ok,
                                       trace=trace)[0]

    def decide_with_inputs(self, application: Mapping[str, Any], *,
                           as_of: dt.date | None = None, automated_ok: bool = True,
                           trace: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """The decision and every input variable the engine used, JSON-ready — what the
        decision log keeps (数据埋点) so a node's performance can be measured later."""
        app = validate_application(application)
        day = as_of or app["applied_on"]
        tags: Mapping[str, Any] = {}
        error: Exception | None = None
        try:
            tags = self.tags(app["party_id"], day)
        except Exception as exc:  # a failed tag computation fails the critical source
            error = exc
        pack, decider = self.current()
        inputs = case_inputs(app, tags, pack)
        sources = {"bureau_live": bureau_from_tags(tags, error), **self.sources}
        decision = decider.decide(app["application_id"], inputs, automated_ok=automated_ok,
                                  trace=trace, sources=sources)
        return (decision_json(decision, pack, as_of=day, models=self.resolver.resolved),
                {k: _plain(v) for k, v in inputs.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def decision_json(decision: Decision, pack: Pack, *, as_of: dt.date,
                  models: Mapping[str, str]) -> dict[str, Any]:
    """The decision as one JSON-ready object (the CLI's and API's output)."""
    v = decision.variables
    limit = v.get("limit")
    return {
        "application_id": decision.case_id,
        "outcome": decision.outcome,
        "mode": decision.mode,
        "limit": 0 if decision.outcome == "reject" or limit is None else int(limit),
        "price": _plain(v.get("price")),
        "term": _plain(v.get("term")),
        "grade": v.get("grade"),
        "dd_level": v.get("dd_level"),
        "manager_tier": v.get("manager_tier"),
        "segment": decision.segment,
        "reasons": [{"code": r.code, "zh": r.zh, "en": r.en, "node": r.node,
                     **({"detail": r.detail} if r.detail else {})} for r in decision.reasons],
        "scores": {k: round(s, 6) for k, s in decision.scores.items()},
        "pack": pack.name,
        "pack_version": decision.pack,
        "models": dict(models),
        "as_of": as_of.isoformat(),
        "micros": round(decision.micros, 1),
        "trace": [{"node": t.node, "kind": t.kind, "flow": t.flow,
                   "outputs": {k: _plain(x) for k, x in t.outputs.items()},
                   "hits": list(t.hits), "micros": round(t.micros, 1)} for t in decision.trace],
    }


def decide_application(application: Mapping[str, Any], *, analytic: Any,
                       resolver: RegistryModelResolver | None = None,
                       pack_path: str | Path = DEFAULT_PACK, as_of: dt.date | None = None,
                       automated_ok: bool = True,
                       sources: Mapping[str, Fetch] | None = None) -> dict[str, Any]:
    """Decide one application against the governed analytic store (see the module doc)."""
    decider = DefaultDecider(tags=online_tag_reader(analytic), resolver=resolver,
                             pack_path=pack_path, sources=sources)
    return decider.decide(application, as_of=as_of, automated_ok=automated_ok)


def demo_training_table(connection: Any, out: Path) -> Path:
    """A small scorecard training set from the governed applications, for tests and the demo.

    Features are application fields and registry facts known on the application day
    (``amount``, ``declared_revenue``, ``employees``, ``years_in_business``,
    ``registered_capital``) — named as the pack's variables without prefix, so the resolver
    maps them. Target ``bad``: the party's loan had an instalment paid over 30 days late or
    never paid by the data's as-of. When the tiny bank has fewer than 5 bads (or goods), a
    synthetic target (amount above a quarter of declared revenue) is used and the file says so
    in the column ``synthetic``.
    """
    sql = """
    with bad as (
      select party_id, max(case when paid_on is null and due_date < (select max(known_at)
             from gov.repayment) or paid_on > due_date + 30 then 1 else 0 end) as bad
      from gov.repayment group by party_id),
    prof as (select party_id, any_value(established_on) as est,
             any_value(registered_capital_yuan)::double as registered_capital
             from gov.party_profile group by party_id)
    select a.amount_yuan as amount, a.declared_revenue_yuan as declared_revenue,
           a.employees::double as employees,
           date_diff('day', p.est, a.applied_on) / 365.25 as years_in_business,
           p.registered_capital, b.bad
    from gov.application a join bad b using (party_id) left join prof p using (party_id)
    where a.decision = 'approve'
    """
    table = connection.sql(sql).to_arrow_table()
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    bads = pc.sum(table.column("bad")).as_py() or 0
    synthetic = bads < 5 or table.num_rows - bads < 5
    if synthetic:
        ratio = pc.divide(table.column("amount"), pc.add(table.column("declared_revenue"), 1.0))
        table = table.set_column(table.column_names.index("bad"), "bad",
                                 pc.cast(pc.greater(ratio, 0.25), pa.int64()))
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    return out


__all__ = ["DEFAULT_PACK", "ApplicationError", "DefaultDecider", "batch_tag_reader",
           "case_inputs", "decide_application", "decision_json", "demo_training_table",
           "limit_inputs", "online_tag_reader", "validate_application"]
