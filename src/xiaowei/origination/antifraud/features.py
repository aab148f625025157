"""Fraud features of each application, as the bank could compute them on the day it arrived.

Why a time sweep and not the ``gov.relation_metric`` snapshot: that table is computed as of
the dataset's last day, so it already knows the ring members who apply *after* an applicant —
a look-ahead a detector must not have. Here the relationship edges (``data.govern.relations``:
shared phone / address / device, legal representative, guarantor) are added to a union–find in
the order the bank learned them (``known_at``), and each application is described by the graph
as it stood on its application day. One pass, O(edges + applications · component size).

The day's own edges count (the applicant's phone, device and guarantor are on the form; others
who applied the same day are on file by the evening, before any decision, which takes days).

Sources read: ``gov.application``, ``gov.party_profile``, ``gov.party_key``,
``gov.electricity``, ``gov.tax_filing``, ``gov.invoice``, ``gov.bureau_report`` and the edge
table of the dataset (raw/ and bank/ only). Never ``truth/``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.data.govern.relations import edges_from_dataset, select

IDENTIFIER_KINDS = {"shares_phone": "phone", "shares_address": "address",
                    "shares_device": "device"}
GRAPH_KINDS = (*IDENTIFIER_KINDS, "legal_rep", "guarantor")
YOUNG_DAYS = 730  # a firm under two years old
CHANNELS = ("walk_in", "online", "manager_referral", "supply_chain", "renewal")

# Feature names, in the order of the matrix the model sees; every one is documented in
# docs/antifraud.md.
FEATURES = (
    "age_years", "young", "is_owner", "channel_code",
    "comp_parties", "comp_young_share", "comp_apps_window", "comp_guarantees",
    "shared_identifiers", "shared_kinds", "shares_phone", "shares_address", "shares_device",
    "shares_legal_rep", "guaranteed_by_firm", "mutual_guarantee",
    "invoice_to_component", "reciprocal_invoice_buyers",
    "no_electricity", "declared_to_tax", "amount_to_revenue", "hard_inquiries_3m",
)

# The relationship-graph features alone (no age, meter, bureau or revenue): what the graph
# adds by itself, measured as an ablation in benchmarks/bench_antifraud.py.
GRAPH_FEATURES = (
    "comp_parties", "comp_young_share", "comp_apps_window", "comp_guarantees",
    "shared_identifiers", "shared_kinds", "shares_phone", "shares_address", "shares_device",
    "shares_legal_rep", "guaranteed_by_firm", "mutual_guarantee", "invoice_to_component",
    "reciprocal_invoice_buyers",
)

_APPLICATIONS_SQL = """
SELECT a.application_id, a.party_id, a.applied_on, a.channel, a.amount_yuan::DOUBLE AS amount,
       a.declared_revenue_yuan AS declared, p.party_type, p.established_on, p.uscc,
       (SELECT COUNT(*) FROM gov.electricity e
         WHERE e.party_id = a.party_id AND e.known_at <= a.applied_on) AS electricity_rows,
       (SELECT SUM(t.sales_yuan)::DOUBLE FROM gov.tax_filing t
         WHERE t.party_id = a.party_id AND t.known_at <= a.applied_on
           AND t.period >= a.applied_on - INTERVAL 365 DAY) AS tax_sales_12m,
       (SELECT MAX(b.hard_inquiries_3m) FROM gov.bureau_report b
         WHERE b.party_id = a.party_id AND b.known_at <= a.applied_on
           AND b.query_date >= a.applied_on - INTERVAL 30 DAY) AS hard_inquiries_3m
FROM gov.application a LEFT JOIN gov.party_profile p USING (party_id)
ORDER BY a.applied_on, a.application_id
"""

# Invoiced amount per application and buyer party over the year before the application.
_INVOICES_SQL = """
WITH buyer AS (SELECT value AS buyer_key, party_id AS buyer FROM gov.party_key
               WHERE kind = 'uscc')
SELECT a.application_id, b.buyer, SUM(i.amount_yuan)::DOUBLE AS amount
FROM gov.application a
JOIN gov.invoice i ON i.party_id = a.party_id AND i.known_at <= a.applied_on
     AND i.issue_date >= a.applied_on - INTERVAL 365 DAY AND i.status = '正常'
LEFT JOIN buyer b ON b.buyer_key = i.buyer_key
GROUP BY ALL
"""

# Buyers of the applicant who also sold to it in that year: circular trade (对开发票).
_RECIPROCAL_SQL = """
WITH key AS (SELECT value AS uscc, party_id FROM gov.party_key WHERE kind = 'uscc'),
sold AS (
  SELECT a.application_id, a.party_id, a.applied_on, k.party_id AS buyer
  FROM gov.application a
  JOIN gov.invoice i ON i.party_id = a.party_id AND i.known_at <= a.applied_on
       AND i.issue_date >= a.applied_on - INTERVAL 365 DAY
  JOIN key k ON k.uscc = i.buyer_key
  GROUP BY ALL)
SELECT s.application_id, COUNT(DISTINCT s.buyer) AS n
FROM sold s JOIN gov.party_profile me ON me.party_id = s.party_id
JOIN gov.invoice back ON back.party_id = s.buyer AND back.buyer_key = me.uscc
     AND back.known_at <= s.applied_on AND back.issue_date >= s.applied_on - INTERVAL 365 DAY
GROUP BY 1
"""


@dataclass(frozen=True)
class ApplicationFeatures:
    """One row per application: ids, the application day and the feature matrix."""

    application_id: np.ndarray
    party_id: np.ndarray
    applied_on: np.ndarray  # datetime64[D]
    matrix: np.ndarray  # float64, (applications, len(FEATURES)); NaN where unknown

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, FEATURES.index(name)]

    def as_dicts(self) -> list[dict[str, float]]:
        """Per application, feature name → value: what a rule condition reads."""
        return [dict(zip(FEATURES, row.tolist(), strict=True)) for row in self.matrix]

    def take(self, mask: np.ndarray) -> ApplicationFeatures:
        return ApplicationFeatures(self.application_id[mask], self.party_id[mask],
                                   self.applied_on[mask], self.matrix[mask])

    def to_arrow(self) -> pa.Table:
        cols = {"application_id": self.application_id, "party_id": self.party_id,
                "applied_on": self.applied_on}
        cols |= {name: self.matrix[:, i] for i, name in enumerate(FEATURES)}
        return pa.table(cols)


def application_features(con: duckdb.DuckDBPyConnection, dataset: Path | str | None = None,
                         *, edges: pa.Table | None = None,
                         window_days: int = 90) -> ApplicationFeatures:
    """Features of every application in ``gov.application`` as of its application day.

    ``edges``: the relationship edge table; built from ``dataset`` (raw/ and bank/) when None.
    ``window_days``: how far back applications of related parties count (rings apply in
    bursts of weeks).
    """
    if edges is None:
        if dataset is None:
            raise ValueError("give the dataset folder or an edge table")
        edges = edges_from_dataset(dataset)
    apps = con.sql(_APPLICATIONS_SQL).to_arrow_table()
    n = apps.num_rows
    day = _days(apps["applied_on"])
    established = _days(apps["established_on"])
    f = {name: np.zeros(n) for name in FEATURES}
    f["age_years"] = np.where(np.isnan(established), np.nan, (day - established) / 365.25)
    f["young"] = (f["age_years"] < YOUNG_DAYS / 365.25).astype(float)
    f["is_owner"] = (_strings(apps["party_type"]) == "business_owner").astype(float)
    channel = _strings(apps["channel"])
    f["channel_code"] = np.array([CHANNELS.index(c) if c in CHANNELS else -1 for c in channel],
                                 float)
    f["no_electricity"] = (_floats(apps["electricity_rows"]) == 0).astype(float)
    declared = _floats(apps["declared"])
    tax = _floats(apps["tax_sales_12m"])
    f["declared_to_tax"] = np.where(tax > 0, declared / np.where(tax > 0, tax, 1.0), np.nan)
    f["amount_to_revenue"] = np.where(declared > 0, _floats(apps["amount"])
                                      / np.where(declared > 0, declared, 1.0), np.nan)
    f["hard_inquiries_3m"] = _floats(apps["hard_inquiries_3m"])
    app_ids = _strings(apps["application_id"])
    parties = _strings(apps["party_id"])
    reciprocal = dict(con.execute(_RECIPROCAL_SQL).fetchall())
    f["reciprocal_invoice_buyers"] = np.array([float(reciprocal.get(a, 0)) for a in app_ids])
    invoices: dict[str, list[tuple[str | None, float]]] = defaultdict(list)
    for app_id, buyer, amount in con.execute(_INVOICES_SQL).fetchall():
        invoices[app_id].append((buyer, float(amount or 0.0)))
    keys = con.execute("SELECT kind, value, party_id FROM gov.party_key").fetchall()
    node_party = {("org:" if kind == "uscc" else "person:") + value: party
                  for kind, value, party in keys}
    profile = con.execute("SELECT party_id, established_on FROM gov.party_profile").fetchall()
    est_of = {p: (np.datetime64(e, "D").astype(np.int64) if e is not None else np.nan)
              for p, e in profile}
    _graph(f, edges, node_party, est_of, app_ids, parties, day, invoices, window_days)
    matrix = np.column_stack([f[name] for name in FEATURES]).astype(np.float64)
    return ApplicationFeatures(app_ids, parties, day.astype("datetime64[D]"), matrix)


def _graph(f: dict[str, np.ndarray], edges: pa.Table, node_party: dict[str, str],
           est_of: dict[str, float], app_ids: np.ndarray, parties: np.ndarray, day: np.ndarray,
           invoices: dict[str, list[tuple[str | None, float]]], window: int) -> None:
    """The time sweep: add edges as they became known, describe applications on their day."""
    g = select(edges, GRAPH_KINDS)
    g = g.filter(pc.is_valid(g["known_at"]))
    known = _days(g["known_at"])
    order = np.argsort(known, kind="stable")
    src = _strings(g["src"])[order]
    dst = _strings(g["dst"])[order]
    kind = _strings(g["kind"])[order]
    known = known[order]
    uf = _Components(est_of)
    # A node that is a party is the party (all its identifiers are one node); an org node
    # the registry does not know (a mistyped USCC on a form) counts as a party of its own.
    def party_of(node: str) -> str | None:
        return node_party.get(node) or (node if node.startswith("org:") else None)

    ident_users: dict[str, set[str]] = defaultdict(set)
    idents_of: dict[str, set[str]] = defaultdict(set)
    firms_of_person: dict[str, set[str]] = defaultdict(set)
    reps_of: dict[str, set[str]] = defaultdict(set)
    guarantors_of: dict[str, set[str]] = defaultdict(set)
    app_days: dict[str, list[float]] = defaultdict(list)
    for p, d in zip(parties, day, strict=True):
        app_days[p].append(d)
    e = 0
    for i in np.argsort(day, kind="stable"):
        d = day[i]
        while e < len(known) and known[e] <= d:
            a, b, k = src[e], dst[e], kind[e]
            pa_ = party_of(a)
            pb = party_of(b)
            if k in IDENTIFIER_KINDS and pa_ is not None:
                ident_users[b].add(pa_)
                idents_of[pa_].add(b)
                uf.union(pa_, b, guarantee=False)
            elif k == "legal_rep" and pb is not None:
                if pa_ is not None and pa_ == pb:
                    pass  # an owner's own ID on the form
                else:
                    firms_of_person[a].add(pb)
                    reps_of[pb].add(a)
                    uf.union(pa_ or a, pb, guarantee=False)
            elif k == "guarantor" and pb is not None:
                guarantors_of[pb].add(pa_ or a)
                uf.union(pa_ or a, pb, guarantee=True)
            e += 1
        _describe(f, i, parties[i], d, window, uf, ident_users, idents_of, firms_of_person,
                  reps_of, guarantors_of, app_days, invoices.get(app_ids[i], []))


def _describe(f: dict[str, np.ndarray], i: int, me: str, d: float, window: int,
              uf: _Components, ident_users: dict[str, set[str]], idents_of: dict[str, set[str]],
              firms_of_person: dict[str, set[str]], reps_of: dict[str, set[str]],
              guarantors_of: dict[str, set[str]], app_days: dict[str, list[float]],
              invoices: list[tuple[str | None, float]]) -> None:
    comp = uf.parties(me)
    others = [q for q in comp if q != me]
    f["comp_parties"][i] = len(others)
    if others:
        est = np.array([uf.established.get(q, np.nan) for q in others])
        f["comp_young_share"][i] = float(np.mean(d - est < YOUNG_DAYS))  # NaN → not young
    f["comp_apps_window"][i] = sum(1 for q in others for t in app_days.get(q, ())
                                   if d - window <= t <= d)
    f["comp_guarantees"][i] = uf.guarantees(me)
    kinds: set[str] = set()
    shared = 0
    for ident in idents_of.get(me, ()):
        if len(ident_users[ident]) >= 2:
            shared += 1
            kind = ident.split(":", 1)[0]
            kinds.add(kind)
            f[f"shares_{kind}"][i] = max(f[f"shares_{kind}"][i], len(ident_users[ident]) - 1)
    rep_firms = {q for person in reps_of.get(me, ()) for q in firms_of_person[person]} - {me}
    f["shares_legal_rep"][i] = len(rep_firms)
    if rep_firms:
        kinds.add("legal_rep")
    f["shared_identifiers"][i] = shared + (1 if rep_firms else 0)
    f["shared_kinds"][i] = len(kinds)
    by_firms = {q for g in guarantors_of.get(me, ()) for q in firms_of_person.get(g, ())}
    by_firms |= {g for g in guarantors_of.get(me, ()) if uf.is_party(g)}
    by_firms.discard(me)
    f["guaranteed_by_firm"][i] = len(by_firms)
    my_people = reps_of.get(me, set()) | {me}
    f["mutual_guarantee"][i] = float(any(my_people & guarantors_of.get(q, set())
                                         for q in by_firms))
    total = sum(a for _, a in invoices)
    if total > 0:
        inside = sum(a for b, a in invoices if b is not None and b in comp and b != me)
        f["invoice_to_component"][i] = inside / total


class _Components:
    """Union–find over node ids with the parties, and guarantee edges, of each component."""

    def __init__(self, established: dict[str, float]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.n_guarantees: dict[str, int] = {}
        self.established = established  # party id → day founded (NaN unknown)

    def is_party(self, node: str) -> bool:
        return node in self.established or node.startswith("org:")

    def _find(self, node: str) -> str:
        if node not in self.parent:
            self.parent[node] = node
            self.members[node] = {node} if self.is_party(node) else set()
            self.n_guarantees[node] = 0
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str, *, guarantee: bool) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            if len(self.members[ra]) < len(self.members[rb]):
                ra, rb = rb, ra
            self.parent[rb] = ra
            self.members[ra] |= self.members.pop(rb)
            self.n_guarantees[ra] += self.n_guarantees.pop(rb)
        self.n_guarantees[ra] += int(guarantee)

    def parties(self, node: str) -> set[str]:
        return self.members[self._find(node)]

    def guarantees(self, node: str) -> int:
        return self.n_guarantees[self._find(node)]


def _days(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dates as float day numbers since 1970 (NaN for null), the sweep's clock."""
    arr = pc.cast(col, pa.date32()).to_numpy(zero_copy_only=False)
    return np.where(np.isnat(arr), np.nan, arr.astype("datetime64[D]").astype(np.int64)
                    .astype(float))


def _strings(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.array(pc.fill_null(col, "").to_pylist(), dtype=object)


def _floats(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.array(pc.cast(col, pa.float64()).to_pylist(), dtype=float)


def day_number(value: dt.date | str) -> float:
    """A date as the sweep's day number (for cut-offs given as dates)."""
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return float(np.datetime64(d, "D").astype(np.int64))
