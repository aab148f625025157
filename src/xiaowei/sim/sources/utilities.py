"""Electricity (电力): meter accounts and monthly readings; a shutdown shows as a collapse."""

from __future__ import annotations

import numpy as np

from xiaowei.sim import arrow, dirt, hashing
from xiaowei.sim.calendar import month_end, month_label
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk

# kWh per 10,000 yuan of monthly revenue, by GB/T 4754 section (manufacturing is intensive).
INTENSITY = {"A": 60.0, "C": 140.0, "E": 25.0, "F": 8.0, "G": 30.0, "H": 45.0, "I": 12.0,
             "L": 6.0, "M": 15.0, "O": 35.0}
SUMMER = np.array([1.05, 0.8, 1.0, 0.95, 1.0, 1.1, 1.3, 1.35, 1.1, 0.95, 0.95, 1.05])


def electricity(c: Chunk) -> None:
    p, rng = c.parties, c.rng("utility")
    share = np.where(np.isin(p["section"], ["A", "C"]), 0.95, 0.6)
    share = np.where(p["ptype"] == 2, 0.35, share)
    has = np.flatnonzero((hashing.uniform(c.seed, "meter", p["idx"]) < share)
                         & ~p["ring_member"])  # shells rarely run real premises
    if len(has) == 0:
        return
    meters = np.char.add("33", np.char.zfill((p["idx"][has] * 7 + 1_000_003).astype(str), 11))
    holder = np.where(p["ptype"][has] < 2, p["name"][has], p["person_name"][has])
    holder_id = np.where(p["ptype"][has] < 2, p["uscc"][has], p["id_number"][has])
    keys = record_keys("UTL", c.number, len(has))
    c.emit.raw("utility_accounts", arrow.table(
        record_id=keys, meter_no=meters, holder_name=dirt.fullwidth(holder, rng),
        holder_id=(holder_id, dirt.pick(rng, len(has), 0.25)),
        address=(p["address"][has], dirt.pick(rng, len(has), dirt.RATES["missing"]))))
    c.emit.link("utility_accounts", keys, p["idx"][has])
    base = p["revenue_wan"][has] * np.array([INTENSITY[s] for s in p["section"][has]]) / 12.0
    lvl = c.level[has]
    months = lvl.shape[1]
    # Electricity follows activity with a fixed floor (lights, standby) and seasonal load.
    kwh = base[:, None] * (0.15 + 0.85 * lvl) * SUMMER[np.arange(months) % 12][None, :]
    kwh *= np.exp(0.08 * rng.standard_normal(kwh.shape))
    present = (lvl > 0) & (rng.random(lvl.shape) > 0.015)
    mi, m = np.nonzero(present)
    val = np.round(kwh[mi, m], 1)
    c.emit.raw("utility_readings", arrow.table(
        meter_no=meters[mi], period=month_label(m), kwh=val,
        amount_yuan=np.round(val * 0.68, 2),
        read_at=dirt.late_received(month_end(m), rng, (1, 6))))
