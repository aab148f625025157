"""Branches and customer managers of the simulated bank, and who serves which party.

Managers are honest, careless or colluding (ground truth); the response model is fixed
before any strategy is tuned (SIMULATOR.md §5) and documented in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.sim import hashing
from xiaowei.sim.calendar import add_months
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
    seed: int = 0  # the simulation's seed, for the managers' static facts and exams

    def profile_columns(self) -> dict[str, np.ndarray]:
        """``bank/manager_profiles``: education and certifications (see :func:`profiles`)."""
        return profiles(self.seed, self)

    def exam_columns(self) -> dict[str, np.ndarray]:
        """``bank/manager_exams``: one row per sitting (see :func:`exams`)."""
        return exams(self.seed, self)

    def skill_columns(self) -> dict[str, np.ndarray]:
        """``truth/manager_skill``: the latent skill behind the facts and exams."""
        return {"manager_id": self.manager_id, "skill": np.round(skill(self.seed, self), 4)}


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
        colluders=np.flatnonzero(behaviour == "colluding"), seed=seed,
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


# --- Managers' static facts and exam results (issue 9; docs/simulator.md, last section) -----
# Fixed before any rating is tuned (SIMULATOR.md §5). A latent professional skill s ~ N(0, 1)
# per manager drives education, certifications and exam scores a little; it does NOT touch
# the book (loans, defaults and visits are unchanged), so the platform's 专业能力 dimension can
# be checked against the truth but cannot be validated against outcomes. Careless managers
# score 4 points lower; colluders are indistinguishable by exams (a fraud partner studies too).
EDUCATION = np.array(["高中", "大专", "本科", "硕士"])
EDUCATION_CUTS = np.array([-1.645, -0.524, 1.036])  # of 0.6·s + 0.8·N(0,1): 5/25/55/15 %
# (name, intercept, weight of s, weight per year of tenure) → P = logistic(a + b·s + c·years)
CERTIFICATIONS = (("银行从业资格", 2.0, 0.3, 0.4), ("中级经济师（金融）", -1.6, 0.8, 0.08),
                  ("初级会计师", -1.2, 0.3, 0.0), ("金融理财师（AFP）", -2.0, 0.6, 0.05),
                  ("特许金融分析师（CFA）", -4.5, 1.2, 0.0))
# (exam, first sitting, months between sittings, sittings, difficulty shift)
EXAMS = (("信贷业务知识年度考试", "2023-03-15", 12, 3, 0.0),
         ("合规与反洗钱测试", "2023-06-20", 6, 6, 4.0),
         ("新产品与系统操作测验", "2024-09-10", 12, 2, -2.0))
EXAM_MEAN, EXAM_SKILL, EXAM_NOISE, CARELESS_PENALTY = 72.0, 6.0, 8.0, 4.0
EXAM_ABSENT = 0.04  # a sitting missed (leave, business trip): no row
FACTS_AS_OF = np.datetime64("2025-12-31")  # tenure for certifications counts to the sim's end


def skill(seed: int, staff: Staff) -> np.ndarray:
    """The latent professional skill of each manager (truth only)."""
    return hashing.normal(seed, "manager-skill", np.arange(len(staff.manager_id)))


def profiles(seed: int, staff: Staff) -> dict[str, np.ndarray]:
    """Education and certifications ("、"-joined, in CERTIFICATIONS order) per manager."""
    m = np.arange(len(staff.manager_id))
    s = skill(seed, staff)
    latent = 0.6 * s + 0.8 * hashing.normal(seed, "manager-education", m)
    education = EDUCATION[np.searchsorted(EDUCATION_CUTS, latent)]
    years = (FACTS_AS_OF - staff.manager_hired).astype(np.int64) / 365.25
    held = []
    for name, a, b, c in CERTIFICATIONS:
        p = 1.0 / (1.0 + np.exp(-(a + b * s + c * years)))
        held.append(hashing.uniform(seed, f"manager-cert:{name}", m) < p)
    certs = np.array(["、".join(name for (name, *_), h in zip(CERTIFICATIONS, row, strict=True)
                                if h) for row in np.array(held).T], dtype=object)
    return {"manager_id": staff.manager_id, "education": education, "certifications": certs}


def exams(seed: int, staff: Staff) -> dict[str, np.ndarray]:
    """Every sitting each manager took, by exam and date; score 0–100 (integer)."""
    m = np.arange(len(staff.manager_id))
    s = skill(seed, staff)
    careless = staff.behaviour == "careless"
    parts: dict[str, list[np.ndarray]] = {"manager_id": [], "exam": [], "taken_on": [],
                                          "score": []}
    for name, first, every, sittings, shift in EXAMS:
        for k in range(sittings):
            key = f"{name}:{k}"
            day = add_months(np.datetime64(first, "D"), every * k)
            taken = day + hashing.integers(seed, f"exam-day:{key}", m, 7).astype(
                "timedelta64[D]")
            present = (staff.manager_hired + np.timedelta64(30, "D") <= day) & (
                hashing.uniform(seed, f"exam-absent:{key}", m) >= EXAM_ABSENT)
            score = (EXAM_MEAN + shift + EXAM_SKILL * s - CARELESS_PENALTY * careless
                     + EXAM_NOISE * hashing.normal(seed, f"exam-score:{key}", m))
            parts["manager_id"].append(staff.manager_id[present])
            parts["exam"].append(np.full(int(present.sum()), name))
            parts["taken_on"].append(taken[present])
            parts["score"].append(np.clip(np.round(score), 0, 100).astype(np.int64)[present])
    return {key: np.concatenate(v) for key, v in parts.items()}
