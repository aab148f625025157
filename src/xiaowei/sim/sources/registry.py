"""Business registry (工商登记): firms, changes, abnormal-operation listings, shareholders."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt, hashing
from xiaowei.sim.activity import established_month
from xiaowei.sim.calendar import HISTORY_MONTHS, SIM_END, month_start
from xiaowei.sim.identity import make_mobile, person_names
from xiaowei.sim.population import NEVER, Parties, person_identity
from xiaowei.sim.sources.common import Emit, record_keys

CHANGE_ITEMS = np.array(["法定代表人", "股东", "住所", "注册资本", "经营范围"])
ABNORMAL_REASONS = np.array(["未按规定报送年度报告", "通过登记的住所或经营场所无法联系",
                             "公示企业信息隐瞒真实情况"])
# Bookkeeping agents (代理记账) file many small firms' registrations with their own phone:
# an honest reason for unrelated firms to share a registry phone, more often for young firms.
AGENT_SHARE = (0.05, 0.12)  # firms ≥ 2 years old, younger
AGENTS_PER_REGION = 3  # agents per 512 consecutive parties
AGENT_PERSON = 95_000_000  # person indices of agents (beyond any party, spouse or guarantor)


def companies(seed: int, chunk: int, p: Parties, rng: np.random.Generator, emit: Emit) -> None:
    firm = np.flatnonzero(p["ptype"] < 2)
    if len(firm) == 0:
        return
    est_day = np.datetime64("2024-01-01") - np.round(p["years"][firm] * 365.25).astype(
        "timedelta64[D]")
    dup = dirt.duplicate_index(rng, len(firm))
    rows = np.concatenate([np.arange(len(firm)), dup])
    is_dup = np.r_[np.zeros(len(firm), bool), np.ones(len(dup), bool)]
    f = firm[rows]
    n = len(rows)
    name = p["name"][f]
    name = np.where(is_dup, dirt.company_variant(name, rng), name)
    uscc = dirt.fullwidth(dirt.spaced(p["uscc"][f], rng, 0.02), rng)
    uscc, _ = dirt.corrupt_ids(uscc, rng)
    missing_phone = dirt.pick(rng, n, 0.15)
    missing_addr = dirt.pick(rng, n, dirt.RATES["missing"])
    capital = dirt.money_text(p["registered_capital_wan"][f] * 10_000.0, rng)
    phone = _registry_phone(seed, p, f)
    industry = np.char.add(p["division"][f], np.char.zfill(rng.integers(10, 99, n).astype(str),
                                                           2))
    keys = record_keys("REG", chunk, n)
    emit.raw("registry_companies", arrow.table(
        record_id=keys, uscc=uscc, name=name,
        entity_kind=np.where(p["ptype"][f] == 0, "有限责任公司", "个体工商户"),
        legal_rep_name=p["person_name"][f], legal_rep_id=p["id_number"][f],
        registered_capital=capital, established=dirt.date_text(est_day[rows], rng),
        address=(p["address"][f], missing_addr), region_code=p["region_code"][f],
        industry_code=industry, phone=(phone, missing_phone),
        status=np.where(p["default_m"][f] < HISTORY_MONTHS - 6, np.where(
            rng.random(n) < 0.15, "吊销", "存续"), "存续"),
        # The bank's registry feed starts with the history; later firms arrive on founding.
        received_at=dirt.late_received(np.maximum(est_day[rows], month_start(0)), rng,
                                       (1, 15))))
    emit.link("registry_companies", keys, p["idx"][f])


def _registry_phone(seed: int, p: Parties, f: np.ndarray) -> np.ndarray:
    """The contact phone on the registration: the firm's own, or its bookkeeping agent's."""
    idx = p["idx"][f]
    rate = np.where(p["years"][f] < 2.0, AGENT_SHARE[1], AGENT_SHARE[0])
    agent = hashing.uniform(seed, "bookkeeper", idx) < rate
    who = AGENT_PERSON + (idx // 512) * AGENTS_PER_REGION + hashing.integers(
        seed, "bookkeeper-pick", idx, AGENTS_PER_REGION)
    return np.where(agent, make_mobile(seed, who), p["phone"][f])


def changes(seed: int, chunk: int, p: Parties, rng: np.random.Generator, emit: Emit) -> None:
    """Change events: a low base rate, several times higher once a firm is in distress."""
    firm = np.flatnonzero(p["ptype"] < 2)
    months = np.arange(HISTORY_MONTHS)
    sig = p["signal_m"][firm][:, None]
    distressed = (months[None, :] >= sig) & (months[None, :] < p["recovery_m"][firm][:, None])
    rate = np.where(distressed, 0.03, 0.005)
    rate = np.where(months[None, :] >= established_month(p)[firm][:, None], rate, 0.0)
    hit_f, hit_m = np.nonzero(rng.random(rate.shape) < rate)
    n = len(hit_f)
    if n == 0:
        return
    f = firm[hit_f]
    item = rng.choice(len(CHANGE_ITEMS), n, p=[0.3, 0.25, 0.25, 0.1, 0.1])
    new_person = 90_000_000 + rng.integers(0, 10_000_000, n)
    after = np.where(item == 0, person_names(seed, new_person), np.where(
        item == 2, "变更后住所见登记档案", np.where(item == 1, "股权转让", "变更")))
    day = month_start(hit_m) + rng.integers(0, 28, n).astype("timedelta64[D]")
    emit.raw("registry_changes", arrow.table(
        uscc=p["uscc"][f], change_date=day, change_item=CHANGE_ITEMS[item],
        before=np.where(item == 0, p["person_name"][f], ""), after=after,
        received_at=dirt.late_received(day, rng, (1, 10))))


def abnormal(seed: int, chunk: int, p: Parties, rng: np.random.Generator, emit: Emit) -> None:
    firm = np.flatnonzero(p["ptype"] < 2)
    n = len(firm)
    after_signal = (p["signal_m"][firm] < HISTORY_MONTHS) & (rng.random(n) < 0.35)
    when = np.where(after_signal, p["signal_m"][firm] + rng.integers(2, 7, n), NEVER)
    # False alarms: a missed annual report gets a healthy firm listed too.
    false_alarm = rng.random(n) < 0.006
    when = np.where(false_alarm & ~after_signal, rng.integers(0, HISTORY_MONTHS, n), when)
    hit = when < HISTORY_MONTHS
    f = firm[hit]
    k = len(f)
    if k == 0:
        return
    day = month_start(when[hit]) + rng.integers(0, 28, k).astype("timedelta64[D]")
    removed = day + rng.integers(60, 300, k).astype("timedelta64[D]")
    emit.raw("registry_abnormal", arrow.table(
        uscc=p["uscc"][f], name=p["name"][f], listed_date=day,
        reason=ABNORMAL_REASONS[rng.integers(0, 3, k)],
        removed_date=(removed, (removed > SIM_END) | ~false_alarm[hit]),
        received_at=dirt.late_received(day, rng, (1, 15))))


def shareholders(seed: int, chunk: int, p: Parties, rng: np.random.Generator,
                 emit: Emit) -> None:
    """Owners of each firm: the key person, often the spouse, sometimes another firm's boss."""
    firm = np.flatnonzero(p["ptype"] == 0)
    n = len(firm)
    if n == 0:
        return
    spouse = p["has_spouse"][firm] & (rng.random(n) < 0.35)
    cross = rng.random(n) < 0.08
    other = rng.integers(0, p.n_parties, n)  # another party's key person
    share_key = np.where(spouse | cross, np.round(rng.uniform(51, 90, n), 2), 100.0)
    rest = np.where(spouse & cross, (100 - share_key) / 2, 100 - share_key)
    f = np.concatenate([firm, firm[spouse], firm[cross]])
    person = np.concatenate([p["key_person"][firm], p["spouse_person"][firm][spouse],
                             other[cross]])
    pct = np.round(np.concatenate([share_key, rest[spouse], rest[cross]]), 2)
    people = person_identity(seed, person)
    emit.raw("registry_shareholders", arrow.table(
        uscc=p["uscc"][f], holder_name=people["name"], holder_id=people["id_number"],
        holder_kind=np.full(len(f), "自然人"), share_pct=pct))
