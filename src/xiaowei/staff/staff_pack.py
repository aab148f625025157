"""The staff rating pack (``packs/default/pack.yaml``): loaded, checked, and run per manager.

Why a pack and not code: the weights, the band cut-offs, the caps that keep volume from
lifting a manager with poor quality, the tier and the promotion rules are the bank's to set
and review as a diff (DESIGN.md §6) — the same engine the origination, post-loan and customer
packs run on. This module knows the pack's vocabulary (dimensions, ratings, assessment
actions) and refuses a pack that writes words the pages cannot explain; it turns one
manager's figures into the pack's inputs and the decision into the columns the rating keeps.

Explanation: the pack gives the reasons that fired (band, caps, assumptions, training); the
*driver* — the dimension that held the rating down most, i.e. the largest weight × (100 −
score) under the pack's own weights, or the capping dimension when a cap decided — and the
strongest dimension (the highest score) are chosen here, and named by the pack's ``DRV_*`` /
``TOP_*`` reasons.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xiaowei.engine.strategy import Decider, Pack, load_pack
from xiaowei.entities.labels import LabelledStrEnum

PACK_FILE = Path(__file__).parent / "packs" / "default" / "pack.yaml"


class Dimension(LabelledStrEnum):
    """The six dimensions of the radar (雷达图), in display order."""

    VOLUME = "volume", "业务量", "business volume"
    QUALITY = "quality", "资产质量", "portfolio quality"
    RISK = "risk", "风险抵御", "risk resistance"
    CONDUCT = "conduct", "合规操守", "conduct and compliance"
    PROFESSIONAL = "professional", "专业能力", "professional skill"
    WORKLOAD = "workload", "工作负荷", "workload"


class Rating(LabelledStrEnum):
    A = "A", "优秀", "excellent"
    B = "B", "良好", "good"
    C = "C", "合格", "adequate"
    D = "D", "待改进", "needs improvement"
    E = "E", "不合格", "unsatisfactory"
    UNRATED = "unrated", "未评级（需人工评定）", "unrated (a person rates)"


class Assessment(LabelledStrEnum):
    PROMOTE = "promote", "建议晋升", "recommend promotion"
    KEEP = "keep", "保持", "keep"
    TRAINING = "training", "专项培训", "targeted training"
    COACHING = "coaching", "主管辅导", "supervisor coaching"
    IMPROVEMENT_PLAN = "improvement_plan", "绩效改进计划", "performance improvement plan"


DIMENSIONS = tuple(d.value for d in Dimension)
RATINGS = tuple(r.value for r in Rating)
CAPS = {"RC_QUALITY": "quality", "RC_CONDUCT": "conduct"}
"""A cap reason → the dimension that capped the rating."""


def check_pack(pack: Pack) -> None:
    """Refuse a pack whose outcomes are not the ratings, that lacks a dimension, weight or
    output the rating keeps, or that cannot name a driver or a training need."""
    if set(pack.outcomes.names) != set(RATINGS):
        raise ValueError(f"pack {pack.name!r}: outcomes must be {list(RATINGS)}, got "
                         f"{list(pack.outcomes.names)}")
    needed = {"score", "rating", "rating.basis", "conduct.basis", "tier.recommended",
              "assess.action", "assess.basis", *(f"dim.{d}" for d in DIMENSIONS),
              *(f"weight.{d}" for d in DIMENSIONS)}
    missing = sorted(needed - set(pack.variables))
    texts = pack.outcomes.texts
    missing += sorted(f"reason {p}_{d.upper()}" for p in ("DRV", "TOP", "TRAIN")
                      for d in DIMENSIONS if f"{p}_{d.upper()}" not in texts)
    if missing:
        raise ValueError(f"pack {pack.name!r} does not define {missing}")


@functools.cache
def default_pack() -> Pack:
    """The packaged staff pack (parsed and checked once per process)."""
    pack = load_pack(PACK_FILE)
    check_pack(pack)
    return pack


def load_staff_pack(path: Path | str | None = None) -> Pack:
    """The pack at ``path`` (checked), or the packaged one."""
    if path is None:
        return default_pack()
    pack = load_pack(path)
    check_pack(pack)
    return pack


def _blank(value: Any) -> Any:
    """NaN and missing become null: what the pack treats as "unknown"."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value


def pack_inputs(f: Mapping[str, Any]) -> dict[str, Any]:
    """The pack's inputs for one manager from the merged figures (business source, workload,
    profile, exams, signals and the previous rating; see ``ability.rate_managers``)."""
    g = {k: _blank(v) for k, v in f.items()}
    certs = g.get("certifications")
    signals = g.get("signal_counts")
    return {
        "mgr.manager_id": g["manager_id"], "mgr.risk_tier": int(g.get("risk_tier") or 1),
        "vol.booked_pct": g.get("booked_yuan_pct"),
        "vol.new_customers_pct": g.get("new_customers_pct"),
        "vol.target_share": g.get("target_share"),
        "q.par30": g.get("par30"), "q.par90": g.get("par90"), "q.fpd_rate": g.get("fpd_rate"),
        "q.vintage30": g.get("vintage30_mob6"),
        "r.recovery_rate": g.get("recovery_rate"), "r.top1_share": g.get("top1_share"),
        "r.young_share": g.get("young_share"),
        "c.has_signals": signals is not None,
        "c.red": int((signals or {}).get("red", 0)),
        "c.orange": int((signals or {}).get("orange", 0)),
        "c.yellow": int((signals or {}).get("yellow", 0)),
        "p.education": g.get("education"),
        "p.certifications": len([c for c in str(certs).split("、") if c.strip()])
        if certs else 0,
        "p.tenure_years": g.get("tenure_years"), "p.exam_score": g.get("exam_mean"),
        "wl.utilisation": g.get("utilisation"), "prev.rating": g.get("previous_rating"),
    }


def _shortfall(v: Mapping[str, Any], d: str) -> float:
    """How many points of the score dimension ``d`` lost: weight × (100 − its score)."""
    weight, score = float(v.get(f"weight.{d}") or 0.0), float(v.get(f"dim.{d}") or 0.0)
    return weight * (100.0 - score)


def decide_manager(decider: Decider, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Run the pack for one manager; the rating, radar, tier, assessment and explanation."""
    decision = decider.decide(str(inputs["mgr.manager_id"]), inputs, trace=False)
    v = decision.variables
    texts = decider.pack.outcomes.texts
    codes = [r.code for r in decision.reasons]
    rated = decision.outcome != Rating.UNRATED.value and v.get("score") is not None
    capped = next((CAPS[c] for c in codes if c in CAPS), None)
    driver = strength = None
    if rated:
        driver = capped or max(DIMENSIONS, key=lambda d: (_shortfall(v, d),
                                                          -DIMENSIONS.index(d)))
        strength = max(DIMENSIONS, key=lambda d: (float(v.get(f"dim.{d}") or 0.0),
                                                  -DIMENSIONS.index(d)))
    explained = codes + ([f"DRV_{driver.upper()}"] if driver else []) + (
        [f"TOP_{strength.upper()}"] if strength else []) + (
        [v["assess.basis"]] if v.get("assess.basis") else [])
    return {
        "rating": decision.outcome, "score": v.get("score"),
        **{f"dim_{d}": v.get(f"dim.{d}") for d in DIMENSIONS},
        "conduct_basis": v.get("conduct.basis"),
        "recommended_tier": None if v.get("tier.recommended") is None
        else int(v["tier.recommended"]),
        "assessment": v.get("assess.action"),
        "training": [c.removeprefix("TRAIN_").lower() for c in codes if c.startswith("TRAIN_")],
        "driver": driver, "strength": strength, "reasons": explained,
        "reasons_zh": [texts[c][0] for c in explained if c in texts],
        "reasons_en": [texts[c][1] for c in explained if c in texts],
        "weights": {d: v.get(f"weight.{d}") for d in DIMENSIONS},
    }


def pack_weights(pack: Pack) -> dict[str, float]:
    """The weights a pack gives the dimensions (its ``weights`` node writes constants, so one
    run on an empty manager reads them)."""
    inputs: dict[str, Any] = {name: None for name in pack.inputs}
    inputs.update({"mgr.manager_id": "weights", "mgr.risk_tier": 1, "c.has_signals": False,
                   "c.red": 0, "c.orange": 0, "c.yellow": 0, "p.certifications": 0})
    decided = decide_manager(Decider(pack), inputs)
    return {k: float(v or 0.0) for k, v in decided["weights"].items()}


__all__ = ["CAPS", "DIMENSIONS", "PACK_FILE", "RATINGS", "Assessment", "Dimension", "Rating",
           "check_pack", "decide_manager", "default_pack", "load_staff_pack", "pack_inputs",
           "pack_weights"]
