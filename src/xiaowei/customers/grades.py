"""The maintenance grade's vocabulary (客户维护等级): grades, risk levels, manager seniority and
service packages with their labels, and the explanation of one customer's grade.

Why the words live here and the thresholds in the pack: the thresholds are the strategy
team's to change (``packs/default/pack.yaml``, a new version per change); the names are what
the tables store, the pages print and other domains (offers, retention, staff) compare
against, so they must not drift with a threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiaowei.customers.lifecycle import STAGES
from xiaowei.engine.strategy import Pack
from xiaowei.entities.labels import LabelledStrEnum


class Grade(LabelledStrEnum):
    """Maintenance grade, best first."""

    A = "A", "重点维护", "key account"
    B = "B", "常规维护", "regular maintenance"
    C = "C", "基础维护", "basic maintenance"
    D = "D", "风险管控", "risk control"


class RiskLevel(LabelledStrEnum):
    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"
    CRITICAL = "critical", "极高"


class ValueBand(LabelledStrEnum):
    HIGH = "high", "高价值", "high value"
    MID = "mid", "中价值", "middle value"
    LOW = "low", "低价值", "low value"


class ManagerTier(LabelledStrEnum):
    """Seniority a grade needs; the number is ``customer_manager.risk_tier``."""

    JUNIOR = "junior", "初级客户经理"
    INTERMEDIATE = "intermediate", "中级客户经理"
    SENIOR = "senior", "高级客户经理"

    @property
    def risk_tier(self) -> int:
        return {"junior": 1, "intermediate": 2, "senior": 3}[self.value]


class ServicePackage(LabelledStrEnum):
    PREMIUM = "premium", "尊享服务包（专属经理、绿色通道、费率优惠）", \
        "premium (dedicated manager, fast track, fee waivers)"
    STANDARD_PLUS = "standard_plus", "标准增值服务包（定期回访、产品推荐）", \
        "standard plus (regular calls, product advice)"
    STANDARD = "standard", "标准服务包（线上自助为主）", "standard (mostly online self-service)"
    RISK_CONTROL = "risk_control", "风险管控（压降敞口、贷后跟进）", \
        "risk control (reduce exposure, post-loan follow-up)"


GRADES = tuple(g.value for g in Grade)
POINTS = ("balance", "deposits", "contribution", "products", "growth")
"""The value score's components, in the order the pack adds them."""


def check_pack(pack: Pack) -> None:
    """Refuse a pack whose outcomes are not the grades, whose risk bases are not declared
    reasons, or whose tables write a grade, risk level, band, manager tier, service package or
    stage this vocabulary does not know — the batch would store words nobody can explain."""
    if tuple(sorted(pack.outcomes.names)) != tuple(sorted(GRADES)):
        raise ValueError(f"pack {pack.name!r}: outcomes must be the grades {list(GRADES)}, "
                         f"got {list(pack.outcomes.names)}")
    needed = {"grade", "risk.level", "risk.basis", "value.score", "value.band",
              "value.contribution", "lifecycle.stage", "maintain.visit_every_days",
              "maintain.manager_tier", "maintain.service_package",
              "maintain.pricing_latitude_bp", *(f"points.{p}" for p in POINTS)}
    missing = sorted(needed - set(pack.variables))
    if missing:
        raise ValueError(f"pack {pack.name!r} never writes {missing}")
    allowed: dict[str, set[str]] = {
        "grade": set(GRADES), "risk.level": {r.value for r in RiskLevel},
        "value.band": {b.value for b in ValueBand},
        "maintain.manager_tier": {t.value for t in ManagerTier},
        "maintain.service_package": {p.value for p in ServicePackage},
        "lifecycle.stage": set(STAGES), "risk.basis": set(pack.outcomes.texts)}
    for flow in pack.canonical.get("flows", {}).values():
        for node in flow:
            for row in node.get("rows", []) if isinstance(node, Mapping) else []:
                for name, value in (row.get("then") or {}).items():
                    word = value.strip("'\"") if isinstance(value, str) else value
                    if name in allowed and word not in allowed[name]:
                        what = "a declared reason" if name == "risk.basis" else \
                            f"one of {sorted(allowed[name])}"
                        raise ValueError(f"pack {pack.name!r}: {name} {value} of row "
                                         f"{row.get('id')!r} is not {what}")


def reason_text(pack: Pack, code: str) -> dict[str, str]:
    """``{code, zh, en}`` for a reason code of the pack (unknown codes say so)."""
    zh, en = pack.outcomes.texts.get(code, ("未知原因", "unknown reason"))
    return {"code": code, "zh": zh, "en": en}


def explain(row: Mapping[str, Any], pack: Pack) -> dict[str, Any]:
    """Why a stored customer day has its grade: the matrix cell (value band × risk level),
    the value points per component and the risk basis, each with its words."""
    grade = Grade(row["grade"])
    return {
        "grade": grade.value, "grade_zh": grade.zh, "grade_en": grade.en,
        "value_score": row["value_score"], "value_band": row["value_band"],
        "value_band_zh": ValueBand(row["value_band"]).zh,
        "points": {p: row[f"points_{p}"] for p in POINTS},
        "risk_level": row["risk_level"], "risk_level_zh": RiskLevel(row["risk_level"]).zh,
        "risk_source": row["risk_source"],
        "reasons": [reason_text(pack, code) for code in row["reasons"] or []],
        "strategy": {
            "visit_every_days": row["visit_every_days"],
            "manager_tier": row["manager_tier"],
            "manager_tier_zh": ManagerTier(row["manager_tier"]).zh,
            "service_package": row["service_package"],
            "service_package_zh": ServicePackage(row["service_package"]).zh,
            "pricing_latitude_bp": row["pricing_latitude_bp"]},
    }


__all__ = ["GRADES", "POINTS", "Grade", "ManagerTier", "RiskLevel", "ServicePackage",
           "ValueBand", "check_pack", "explain", "reason_text"]
