"""Court records (裁判文书, 执行, 失信被执行人) and web news about parties."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt
from xiaowei.sim.activity import established_month
from xiaowei.sim.calendar import HISTORY_MONTHS, month_start
from xiaowei.sim.geography import geography
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk
from xiaowei.sim.vocab import NEWS_NEGATIVE, NEWS_POSITIVE

CASE_TYPES = np.array(["买卖合同纠纷", "民间借贷纠纷", "劳动争议", "金融借款合同纠纷",
                       "租赁合同纠纷", "建设工程施工合同纠纷"])
ROLES = np.array(["原告", "被告"])


def _case_no(years: np.ndarray, region: np.ndarray, kind: np.ndarray,
             serial: np.ndarray) -> np.ndarray:
    return np.array([f"({y})浙{r[2:6]}{k}{s}号" for y, r, k, s in
                     zip(years, region, kind, serial, strict=True)])


def cases(c: Chunk) -> None:
    p, rng = c.parties, c.rng("courts")
    n = len(p)
    m = np.arange(HISTORY_MONTHS)[None, :]
    distressed = (m >= p["signal_m"][:, None]) & (m < p["recovery_m"][:, None])
    alive = m >= established_month(p)[:, None]
    defendant_rate = np.where(distressed, 0.05, 0.0015) * alive
    plaintiff_rate = 0.002 * alive
    d_i, d_m = np.nonzero(rng.random((n, HISTORY_MONTHS)) < defendant_rate)
    p_i, p_m = np.nonzero(rng.random((n, HISTORY_MONTHS)) < plaintiff_rate)
    who = np.concatenate([d_i, p_i])
    month = np.concatenate([d_m, p_m])
    role = np.r_[np.ones(len(d_i), np.int64), np.zeros(len(p_i), np.int64)]
    k = len(who)
    if k:
        day = month_start(month) + rng.integers(0, 28, k).astype("timedelta64[D]")
        year = day.astype("datetime64[Y]").astype(int) + 1970
        name = np.where(p["ptype"][who] < 2, p["name"][who], p["person_name"][who])
        ident = np.where(p["ptype"][who] < 2, p["uscc"][who], p["id_number"][who])
        geo_names = geography(c.seed).names
        court = np.array([f"{nm[3:]}人民法院" for nm in geo_names[np.searchsorted(
            geography(c.seed).counties, p["region_code"][who])]])
        keys = record_keys("CRT", c.number, k)
        ctype = np.where(role == 1, rng.choice(len(CASE_TYPES), k), rng.choice([0, 4], k))
        c.emit.raw("court_cases", arrow.table(
            record_id=keys, case_no=_case_no(year, p["region_code"][who], np.full(k, "民初"),
                                             rng.integers(100, 20000, k)),
            court=court, filed_date=dirt.date_text(day, rng),
            party_name=dirt.fullwidth(name, rng, 0.1),
            party_id=(ident, rng.random(k) < 0.4), role=ROLES[role],
            case_type=CASE_TYPES[ctype],
            claim_amount=np.round(p["revenue_wan"][who] * 10_000 * rng.uniform(0.01, 0.3, k),
                                  -2),
            received_at=dirt.late_received(day, rng, (3, 40))))
        c.emit.link("court_cases", keys, p["idx"][who])
    # Enforcement and the dishonest-debtor list follow defaults, with months of delay.
    dft = p["default_m"]
    enf = (dft < HISTORY_MONTHS) & (rng.random(n) < 0.6)
    enf_m = dft + rng.integers(2, 9, n)
    dis = enf & (rng.random(n) < 0.55)
    dis_m = enf_m + rng.integers(1, 6, n)
    for table, hit, mon, prefix in (("court_enforcement", enf, enf_m, "ENF"),
                                    ("court_dishonest", dis, dis_m, "DIS")):
        sel = np.flatnonzero(hit & (mon < HISTORY_MONTHS))
        if len(sel) == 0:
            continue
        day = month_start(mon[sel]) + rng.integers(0, 28, len(sel)).astype("timedelta64[D]")
        keys = record_keys(prefix, c.number, len(sel))
        name = np.where(p["ptype"][sel] < 2, p["name"][sel], p["person_name"][sel])
        ident = np.where(p["ptype"][sel] < 2, p["uscc"][sel], p["id_number"][sel])
        c.emit.raw(table, arrow.table(
            record_id=keys, party_name=name, party_id=ident, listed_date=day,
            amount=np.round(p["revenue_wan"][sel] * 10_000 * rng.uniform(0.05, 0.4, len(sel)),
                            -2),
            received_at=dirt.late_received(day, rng, (3, 30))))
        c.emit.link(table, keys, p["idx"][sel])


def news(c: Chunk) -> None:
    p, rng = c.parties, c.rng("news")
    firm = np.flatnonzero(p["ptype"] == 0)
    if len(firm) == 0:
        return
    m = np.arange(HISTORY_MONTHS)[None, :]
    distressed = (m >= p["signal_m"][firm][:, None]) & (m < p["recovery_m"][firm][:, None])
    neg_rate = np.where(distressed, 0.03, 0.0008)
    pos_rate = np.full(neg_rate.shape, 0.002)
    ni, nm = np.nonzero(rng.random(neg_rate.shape) < neg_rate)
    pi, pm = np.nonzero(rng.random(pos_rate.shape) < pos_rate)
    f = firm[np.concatenate([ni, pi])]
    month = np.concatenate([nm, pm])
    sentiment = np.r_[-np.ones(len(ni), np.int64), np.ones(len(pi), np.int64)]
    k = len(f)
    if k == 0:
        return
    day = month_start(month) + rng.integers(0, 28, k).astype("timedelta64[D]")
    words = np.where(sentiment < 0, np.array(NEWS_NEGATIVE)[rng.integers(0, len(NEWS_NEGATIVE),
                                                                         k)],
                     np.array(NEWS_POSITIVE)[rng.integers(0, len(NEWS_POSITIVE), k)])
    short = np.array([n[2:-4] if n.endswith("有限公司") else n for n in p["name"][f]])
    keys = record_keys("NEWS", c.number, k)
    c.emit.raw("web_news", arrow.table(
        record_id=keys, published_at=day, subject_name=short,
        title=np.char.add(short, words), sentiment=sentiment,
        site=rng.choice(np.array(["本地新闻网", "企业信息平台", "财经快讯", "论坛"]), k)))
    c.emit.link("web_news", keys, p["idx"][f])
