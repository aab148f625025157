"""Branches and customer managers of the simulated bank, and who serves which party.

Managers are honest, careless or colluding (ground truth); the response model is fixed
before any strategy is tuned (SIMULATOR.md §5) and documented in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.sim import hashing
from xiaowei.sim.geography import geography
from xiaowei.sim.identity import make_mobile, person_names
from xiaowei.sim.sizes import SimSize
from xiaowei.sim.vocab import CITY_SHORT

BEHAVIOURS = np.array(["honest", "careless", "colluding"])
BEHAVIOUR_WEIGHTS = np.array([0.89, 0.08, 0.03])
STAFF_PERSON_BASE = 50_000_000  # person indices of staff, apart from customers' people


@dataclass(frozen=True)
class Staff:
    branch_id: np.ndarray
    branch_name: np.ndarray
    branch_region: np.ndarray
    branch_lat: np.ndarray
    branch_lon: np.ndarray
    manager_id: np.ndarray
    manager_name: np.ndarray
    manager_phone: np.ndarray
    manager_branch: np.ndarray  # index into branch arrays
    manager_tier: np.ndarray
    manager_hired: np.ndarray
    behaviour: np.ndarray
    colluders: np.ndarray  # manager indices


def build_staff(seed: int, size: SimSize) -> Staff:
    geo = geography(seed)
    nb, nm = size.branches, size.managers
    b = np.arange(nb)
    # Spread branches over counties by the SME weights, so busy districts get more branches.
    county = hashing.choice(seed, "branch-county", b, geo.weights)
    county[: min(nb, len(CITY_SHORT))] = [
        int(np.flatnonzero(np.char.startswith(geo.counties, c))[0])
        for c in list(CITY_SHORT)[: min(nb, len(CITY_SHORT))]
    ]
    region = geo.counties[county]
    names = np.array([f"{geo.names[c][3:]}支行" for c in county])
    names = np.array([f"{n[:-2]}{i:02d}支行" if list(names).count(n) > 1 else n
                      for i, n in enumerate(names)])
    m = np.arange(nm)
    mb = np.where(m < nb, m, hashing.integers(seed, "manager-branch", m, nb))
    behaviour = BEHAVIOURS[hashing.choice(seed, "behaviour", m, BEHAVIOUR_WEIGHTS)]
    if not (behaviour == "colluding").any():
        behaviour[nm - 1] = "colluding"
    hired = np.datetime64("2024-01-01") - (
        hashing.integers(seed, "tenure", m, 15 * 365) + 90).astype("timedelta64[D]")
    return Staff(
        branch_id=np.char.add("B", np.char.zfill(b.astype(str), 4)),
        branch_name=names, branch_region=region,
        branch_lat=geo.lat[county], branch_lon=geo.lon[county],
        manager_id=np.char.add("M", np.char.zfill(m.astype(str), 5)),
        manager_name=person_names(seed, STAFF_PERSON_BASE + m),
        manager_phone=make_mobile(seed, STAFF_PERSON_BASE + m),
        manager_branch=mb,
        manager_tier=1 + hashing.choice(seed, "tier", m, np.array([0.3, 0.5, 0.2])),
        manager_hired=hired, behaviour=behaviour,
        colluders=np.flatnonzero(behaviour == "colluding"),
    )


def manager_for(seed: int, staff: Staff, region: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The manager (index) who serves a party: one of the branches in its city."""
    city = np.array([r[:4] for r in region])
    branch_city = np.array([r[:4] for r in staff.branch_region])
    out = np.empty(len(idx), dtype=np.int64)
    for c in np.unique(city):
        rows = city == c
        local_branches = np.flatnonzero(branch_city == c)
        pool = np.flatnonzero(np.isin(staff.manager_branch, local_branches))
        if len(pool) == 0:
            pool = np.arange(len(staff.manager_id))
        out[rows] = pool[hashing.integers(seed, "manager", idx[rows], len(pool))]
    return out
