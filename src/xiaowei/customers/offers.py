"""Next-best product (客户价值挖掘): per customer and day, which products to offer, in what order.

Why the strategy engine decides and this module only assembles: which customer qualifies for
payroll service or a pre-approved invoice line is a rule the bank's product teams change, so
the rules live in the offers pack (``packs/offers/pack.yaml``) as data, reviewed as a diff and
explained by reason codes in Chinese and English. One case per customer decides all products
(see the pack's header for how a product is read from the decision); this module brings the
inputs and turns decisions into two tables:

* **offers** — one row per (customer, eligible product): the yearly value the bank expects, a
  pre-approved line for credit products (the origination credit-limit policy's verified
  revenue and room after debt — the same code an application runs — times the pack's
  pre-approval share), the customer's propensity (:mod:`xiaowei.customers.propensity`) and the
  ranking score **eligibility × propensity × value**;
* **refusals** — one row per (customer, product) not offered, with every reason: the risk gate
  (overdue, late in 12 months, orange/red warnings, class 关注 or worse, dishonest / revoked /
  abnormal), products already held, needs not met.

Inputs, all as of the day (point in time): the customer's tags from a batch tag run (the tag
engine reads only rows known by then); warning levels *evaluated from those tags* by the
post-loan warning catalogue, and those raised by the monitoring batch in the 90 days before
(``postloan.warning``) when it has run; the worst five-level class of its loans in
``postloan.loan_day`` (latest day within a month) when present; products held — credit products
from its open loans, the others from offers it accepted (``accepted``, read from the tasks).

Bad input is refused, never guessed: a day after the governed data by more than
:data:`MAX_TAG_AGE_DAYS` or tag rows older than that raise :class:`StaleTags`; unknown
customers get ``UNKNOWN_CUSTOMER``; asking for an offer a customer is not eligible for raises
:class:`OfferRefused` with the pack's reasons (:meth:`OfferBook.check`).

Speed: the tags and the warnings are columnar; the pack runs once per customer without a
trace (~40 µs with the limit policy). Measured in docs/customers_value_retention.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.customers.offer_rules import (
    CLASS_RANK,
    LIMIT_TAGS,
    NOT_AVAILABLE,
    PRODUCTS,
    columns_of,
    held_by_loans,
    known_parties,
    limit_steps,
    offers_pack,
    pack_tags,
    reason_texts,
    stored_risk,
    tag_frame,
)
from xiaowei.engine.strategy import Decider, Pack
from xiaowei.postloan.book_tags import tag_columns
from xiaowei.store.analytic import AnalyticStore

MAX_TAG_AGE_DAYS = 35
"""Tags older than this (monthly tags are refreshed each month-end) may not back an offer."""
CHUNK = 50_000

OFFER_SCHEMA = pa.schema([("party_id", pa.string()), ("product", pa.string()),
                          ("value_yuan", pa.float64()), ("limit_yuan", pa.float64()),
                          ("propensity", pa.float64()), ("score", pa.float64()),
                          ("rank", pa.int32()), ("reasons", pa.list_(pa.string()))])
REFUSAL_SCHEMA = pa.schema([("party_id", pa.string()), ("product", pa.string()),
                            ("gate", pa.bool_()), ("reasons", pa.list_(pa.string()))])


class OfferRefused(ValueError):
    """An offer that may not be made; ``reasons`` says why (code, zh, en), nothing stored."""

    def __init__(self, message: str, reasons: Sequence[Mapping[str, str]]) -> None:
        self.reasons = [dict(r) for r in reasons]
        lines = "; ".join(f"{r['code']} {r['zh']} ({r['en']})" for r in self.reasons)
        super().__init__(f"{message}: {lines}" if lines else message)


class StaleTags(OfferRefused):
    """The tags (or the data under them) are too old for an offer to rest on."""


class Propensity(Protocol):
    """What ranks offers: the tags it reads and a probability per row of a tag frame."""

    tags: tuple[str, ...]

    def predict_frame(self, frame: pa.Table) -> np.ndarray: ...


@dataclass(frozen=True)
class OfferBook:
    """The day's offers and refusals for the customers decided."""

    as_of: dt.date
    pack: str
    pack_version: str
    offers: pa.Table  # OFFER_SCHEMA, best first within each customer
    refusals: pa.Table  # REFUSAL_SCHEMA
    texts: Mapping[str, tuple[str, str]]
    customers: int
    gated: int
    propensity: str | None
    seconds: dict[str, float] = field(default_factory=dict)

    def _reasons(self, codes: Iterable[str]) -> list[dict[str, str]]:
        return [{"code": c, "zh": self.texts.get(c, (c, c))[0],
                 "en": self.texts.get(c, (c, c))[1]} for c in codes]

    def party(self, party_id: str) -> dict[str, Any]:
        """One customer's ranked offers and refused products, with reasons (JSON-ready)."""
        offers = [r for r in self.offers.filter(
            pc.equal(self.offers["party_id"], party_id)).to_pylist()]
        refused = self.refusals.filter(
            pc.equal(self.refusals["party_id"], party_id)).to_pylist()
        return {
            "party_id": party_id, "as_of": self.as_of.isoformat(),
            "offers": [{**{k: r[k] for k in ("product", "value_yuan", "limit_yuan",
                                             "propensity", "score", "rank")},
                        "zh": PRODUCTS[r["product"]][0], "en": PRODUCTS[r["product"]][1],
                        "reasons": self._reasons(r["reasons"])}
                       for r in sorted(offers, key=lambda r: r["rank"])],
            "refused": [{"product": r["product"], "gate": r["gate"],
                         "reasons": self._reasons(r["reasons"])} for r in refused],
            "not_available": [{"product": k, "zh": zh, "en": en}
                              for k, (zh, en) in NOT_AVAILABLE.items()],
        }

    def check(self, party_id: str, product: str) -> dict[str, Any]:
        """The offer of ``product`` to ``party_id``, or :class:`OfferRefused` with reasons."""
        if product in NOT_AVAILABLE:
            raise OfferRefused(f"{product} is not offered", self._reasons([product]))
        if product not in PRODUCTS:
            raise OfferRefused(f"{product!r} is not a value-mining product",
                               self._reasons(["NOT_OFFERED"]))
        view = self.party(party_id)
        for offer in view["offers"]:
            if offer["product"] == product:
                return offer
        for refused in view["refused"]:
            if refused["product"] == product:
                raise OfferRefused(f"{party_id} is not eligible for {product}",
                                   refused["reasons"])
        raise OfferRefused(f"{party_id} was not decided on {self.as_of}",
                           self._reasons(["UNKNOWN_CUSTOMER"]))

    def summary(self) -> dict[str, Any]:
        products = self.offers["product"].to_pylist()
        refused = [c for codes in self.refusals["reasons"].to_pylist() for c in codes]
        counts: dict[str, int] = {}
        for c in refused:
            counts[c] = counts.get(c, 0) + 1
        return {"as_of": self.as_of.isoformat(), "pack": self.pack,
                "pack_version": self.pack_version, "customers": self.customers,
                "refused_by_risk_gate": self.gated,
                "customers_with_offers": len(set(self.offers["party_id"].to_pylist())),
                "offers": {p: products.count(p) for p in PRODUCTS},
                "refusal_reasons": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
                "propensity": self.propensity,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def run_tags(analytic: AnalyticStore, as_of: dt.date, tags: Iterable[str]) -> pa.Table:
    """One batch tag run of ``tags`` as of the day (DuckDB over the governed snapshot)."""
    from xiaowei.data.tags.service import bank_catalogue, governed_snapshot
    from xiaowei.engine.tags import run_duckdb

    catalogue = bank_catalogue()
    chosen = list(dict.fromkeys(tags))
    return run_duckdb(catalogue, governed_snapshot(analytic, catalogue), as_of,
                      tags=chosen).table


def needed_tags(pack: Pack | None = None, propensity: Propensity | None = None
                ) -> tuple[str, ...]:
    """Every tag an offer run reads: the pack's, the limit policy's, the warning
    catalogue's and the propensity model's."""
    from xiaowei.postloan.warning_catalogue import load_warning_catalogue

    pack = pack or offers_pack()
    extra = tuple(propensity.tags) if propensity is not None else ()
    return tuple(dict.fromkeys((*pack_tags(pack), *LIMIT_TAGS,
                                *load_warning_catalogue().tags, *extra)))


def check_fresh(analytic: AnalyticStore, as_of: dt.date, tag_rows: pa.Table | None,
                max_age_days: int = MAX_TAG_AGE_DAYS) -> None:
    """Refuse (:class:`StaleTags`) a day the data cannot speak for, or tag rows that are
    older than ``max_age_days`` or later than the day."""
    from xiaowei.data.tags.service import data_as_of

    texts = reason_texts(offers_pack())
    reason = [{"code": "STALE_TAGS", "zh": texts["STALE_TAGS"][0],
               "en": texts["STALE_TAGS"][1]}]
    data_end = data_as_of(analytic)
    if (as_of - data_end).days > max_age_days:
        raise StaleTags(f"the governed data ends {data_end}, {(as_of - data_end).days} days "
                        f"before {as_of} (at most {max_age_days})", reason)
    if tag_rows is not None and tag_rows.num_rows:
        span = pc.min_max(tag_rows["as_of"]).as_py()
        oldest, newest = span["min"], span["max"]
        if newest > as_of:
            raise StaleTags(f"tag rows as of {newest} are later than the day {as_of}", reason)
        if (as_of - oldest).days > max_age_days:
            raise StaleTags(f"tag rows as of {oldest} are {(as_of - oldest).days} days old on "
                            f"{as_of} (at most {max_age_days})", reason)


def _customers(rows: pa.Table) -> list[str]:
    """Parties with an account or a loan at the bank (the value-mining population)."""
    con = duckdb.connect()
    try:
        con.register("tag_rows", rows)
        return [r[0] for r in con.execute(
            "SELECT DISTINCT entity_id FROM tag_rows WHERE tag IN ('account_count', "
            "'loans_total') AND coalesce(value_int, 0) >= 1 ORDER BY entity_id").fetchall()]
    finally:
        con.close()


def evaluate_offers(analytic: AnalyticStore, as_of: dt.date, *,
                    parties: Sequence[str] | None = None, tag_rows: pa.Table | None = None,
                    propensity: Propensity | None = None,
                    accepted: Mapping[str, Iterable[str]] | None = None,
                    pack: Pack | None = None, max_tag_age_days: int = MAX_TAG_AGE_DAYS,
                    progress: Callable[[int, int], None] | None = None) -> OfferBook:
    """Decide every product for ``parties`` (default: every customer with an account or a
    loan) as of ``as_of``. ``tag_rows``: a tag run of the day holding :func:`needed_tags`
    (run here otherwise); ``accepted``: party → products it took from earlier offers."""
    started = time.perf_counter()
    pack = pack or offers_pack()
    check_fresh(analytic, as_of, tag_rows, max_tag_age_days)
    con = analytic.connection
    wanted = needed_tags(pack, propensity)
    if tag_rows is None:  # a tag without rows is a tag nobody has a value of: no check
        tag_rows = run_tags(analytic, as_of, wanted)
    seconds = {"tags": time.perf_counter() - started}
    unknown: list[str] = []
    if parties is None:
        chosen = _customers(tag_rows)
    else:
        listed = list(dict.fromkeys(parties))
        known = known_parties(con, listed)
        unknown = [p for p in listed if p not in known]
        chosen = [p for p in listed if p in known]
    offers, refusals, gated = _decide(con, as_of, chosen, tag_rows, pack, propensity,
                                      accepted or {}, progress, seconds)
    if unknown:
        refusals = pa.concat_tables([refusals, pa.table({
            "party_id": [p for p in unknown for _ in PRODUCTS],
            "product": [k for _ in unknown for k in PRODUCTS],
            "gate": [True] * (len(unknown) * len(PRODUCTS)),
            "reasons": [["UNKNOWN_CUSTOMER"]] * (len(unknown) * len(PRODUCTS))},
            schema=REFUSAL_SCHEMA)])
    seconds["total"] = time.perf_counter() - started
    ref = getattr(propensity, "ref", None) if propensity is not None else None
    return OfferBook(as_of, pack.name, pack.version, offers, refusals, reason_texts(pack),
                     len(chosen) + len(unknown), gated + len(unknown), ref, seconds)


def _decide(con: duckdb.DuckDBPyConnection, as_of: dt.date, chosen: list[str],
            tag_rows: pa.Table, pack: Pack, propensity: Propensity | None,
            accepted: Mapping[str, Iterable[str]], progress: Callable[[int, int], None] | None,
            seconds: dict[str, float]) -> tuple[pa.Table, pa.Table, int]:
    from xiaowei.postloan.warning_catalogue import load_warning_catalogue
    from xiaowei.postloan.warning_levels import evaluate

    clock = time.perf_counter()
    warned, classes = stored_risk(con, as_of)
    held = held_by_loans(con, as_of)
    for party, products in accepted.items():
        held.setdefault(party, set()).update(products)
    catalogue = load_warning_catalogue()
    decider = Decider(pack)
    tags = pack_tags(pack)
    out_o: dict[str, list[Any]] = {k: [] for k in OFFER_SCHEMA.names}
    out_r: dict[str, list[Any]] = {k: [] for k in REFUSAL_SCHEMA.names}
    gated = 0
    seconds.setdefault("risk", 0.0)
    seconds.setdefault("decide", 0.0)
    for start in range(0, len(chosen), CHUNK):
        part = chosen[start:start + CHUNK]
        ids, wcols = tag_columns(tag_rows, list(catalogue.tags), part)
        books, _ = evaluate(catalogue, ids, wcols)
        worst = books.worst
        frame_tags = list(dict.fromkeys((*tags, *LIMIT_TAGS,
                                         *(propensity.tags if propensity else ()))))
        frame = tag_frame(tag_rows, frame_tags, part)
        prop = (np.asarray(propensity.predict_frame(frame), dtype=np.float64)
                if propensity is not None else np.full(len(part), np.nan))
        cols = columns_of(frame, (*tags, *LIMIT_TAGS))
        now = time.perf_counter()
        seconds["risk"] += now - clock
        clock = now
        for i, party in enumerate(part):
            inputs = case_inputs(party, {t: cols[t][i] for t in (*tags, *LIMIT_TAGS)},
                                 warn_worst=max(int(worst[i]), int(warned.get(party, 0))),
                                 class_rank=None if classes is None else classes.get(party, 0),
                                 held=held.get(party, ()), tags=tags)
            offered, refused, gate = customer_decision(decider, inputs, float(prop[i]))
            gated += gate
            for row in refused:
                for k in REFUSAL_SCHEMA.names:
                    out_r[k].append(row[k])
            for row in offered:
                for k in OFFER_SCHEMA.names:
                    out_o[k].append(row[k])
        now = time.perf_counter()
        seconds["decide"] += now - clock
        clock = now
        if progress:
            progress(min(start + CHUNK, len(chosen)), len(chosen))
    return (pa.table(out_o, schema=OFFER_SCHEMA), pa.table(out_r, schema=REFUSAL_SCHEMA),
            gated)


def case_inputs(party: str, values: Mapping[str, Any], *, warn_worst: int,
                class_rank: int | None, held: Iterable[str],
                tags: Sequence[str] | None = None) -> dict[str, Any]:
    """The offers pack's inputs for one customer: its tags (``values``: tag → value, missing
    = null; ``tags``: the pack's tags, default the packaged pack's), risk, products held and
    the credit-limit policy's steps (from the same tag values)."""
    names = tags if tags is not None else pack_tags(offers_pack())
    has = set(held)
    inputs: dict[str, Any] = {f"tag.{t}": values.get(t) for t in names}
    inputs.update({f"held.{p}": p in has for p in PRODUCTS})
    inputs["party.party_id"] = party
    inputs["risk.warn_worst"] = int(warn_worst)
    inputs["risk.class_rank"] = class_rank
    inputs.update(limit_steps({t: values.get(t) for t in LIMIT_TAGS}))
    return inputs


def customer_decision(decider: Decider, inputs: Mapping[str, Any], propensity: float = np.nan
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """One customer decided by the offers pack: (offers best first, refusals, refused by the
    risk gate). Score = propensity × value (value alone when there is no propensity)."""
    party = str(inputs["party.party_id"])
    decision = decider.decide(party, inputs, trace=False)
    if decision.outcome != "eligible":
        codes = [r.code for r in decision.reasons]
        return [], [{"party_id": party, "product": p, "gate": True, "reasons": codes}
                    for p in PRODUCTS], True
    by_node: dict[str, list[str]] = {}
    for r in decision.reasons:
        by_node.setdefault(r.node, []).append(r.code)
    v = decision.variables
    known = bool(np.isfinite(propensity))
    ranked, refused = [], []
    for p in PRODUCTS:
        codes = by_node.get(f"refuse_{p}")
        if codes:
            refused.append({"party_id": party, "product": p, "gate": False, "reasons": codes})
            continue
        value = float(v.get(f"value.{p}") or 0.0)
        limit = v.get(f"offer.limit_{p}")
        ranked.append(((propensity if known else 1.0) * value, p, value, limit,
                       by_node.get(f"why_{p}", [])))
    ranked.sort(key=lambda x: -x[0])  # stable: ties keep the products' order
    offers = [{"party_id": party, "product": p, "value_yuan": round(value, 2),
               "limit_yuan": None if limit is None else float(limit),
               "propensity": propensity if known else None, "score": round(score, 4),
               "rank": k, "reasons": why}
              for k, (score, p, value, limit, why) in enumerate(ranked, start=1)]
    return offers, refused, False


def offers_for_party(analytic: AnalyticStore, party_id: str, as_of: dt.date, *,
                     propensity: Propensity | None = None,
                     accepted: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """One customer's offers as of a day (unknown customers are refused with a reason)."""
    book = evaluate_offers(analytic, as_of, parties=[party_id], propensity=propensity,
                           accepted=accepted)
    return book.party(party_id)


__all__ = ["CLASS_RANK", "MAX_TAG_AGE_DAYS", "OFFER_SCHEMA", "REFUSAL_SCHEMA", "OfferBook",
           "OfferRefused", "Propensity", "StaleTags", "case_inputs", "check_fresh",
           "customer_decision", "evaluate_offers", "held_by_loans", "known_parties",
           "needed_tags", "offers_for_party", "run_tags", "stored_risk"]
