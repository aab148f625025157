"""The credit limit (授信额度) of one applicant, with every step an approver can check.

Why each step, in the order applied (parameters in ``limits.yaml``):

1. **Verified annual revenue** (可核实年收入): the median (or min) of the *declared* sources —
   tax-reported sales, invoices — each annualised from the months present and scaled by its
   factor; inflows at this bank are *partial* (only the business that runs through us): they
   confirm declared sales, and stand alone as a lower bound when nothing is declared. A single
   unconfirmed declared source, or declared sources that disagree by more than a ratio, take
   a haircut: figures that nothing confirms are how inflated revenue gets credit.
2. **Revenue base** (收入基础额度) = verified revenue × the industry's revenue share: the working
   capital a business of that size needs, in the spirit of the 流动资金贷款 need formula.
3. **Debt-service capacity** (偿债能力额度): the debt whose annual service (interest and the
   principal due within a year) fits in ``max_service_ratio`` of cash flow (revenue × the
   industry's cash margin). A firm that already owes a lot elsewhere cannot carry more.
4. **Existing debt** (现有负债): all debt (other banks' and ours) is subtracted from the
   capacity, which is for *all* the borrower's debt; this bank's own exposure is subtracted
   from the revenue base, which is what this bank lends against that revenue.
5. **Rating multiplier** (评级系数) by master-scale grade; E grades get 0.
6. **Industry cap** and the **regulatory cap** (inclusive SME: ≤ 10 million CNY per borrower at
   this bank, less what it already has here); then rounded *down* to the unit.

Money is ``Decimal`` yuan inside and integer yuan in the limit; floats are refused at the
boundary (``xiaowei.entities.money``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from xiaowei.engine.models.master_scale import DEFAULT_NAMES
from xiaowei.entities.money import MoneyInput, to_yuan
from xiaowei.origination.credit_limit.parameters import (
    REVENUE_SOURCES,
    LimitParameters,
    load_parameters,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Reason:
    """A reason code with both languages, shown to the approver beside the limit."""

    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.en} {self.zh}"


@dataclass(frozen=True)
class Component:
    """One line of the limit's derivation: what it is (zh/en), its amount, how it was got."""

    key: str
    zh: str
    en: str
    yuan: Decimal
    detail: str = ""


def _money(value: MoneyInput | None, what: str, *, optional: bool = True) -> Decimal | None:
    if value is None:
        if optional:
            return None
        raise ValueError(f"{what} is required")
    amount = to_yuan(value, what)  # refuses float, bool, garbage strings, NaN and infinity
    if amount < 0:
        raise ValueError(f"{what} must not be negative, got {amount}")
    return amount


def _months(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 12:
        raise ValueError(f"{what} must be a whole number of months 0–12, got {value!r}")
    return value


@dataclass(frozen=True)
class LimitInputs:
    """What the limit is set from: a grade, an industry, revenue sources and existing debt.

    Revenue amounts are the last twelve months in yuan (``None`` = the source has no data for
    this party); ``*_months`` say how many of the twelve months the figure covers.
    ``other_bank_debt`` is the credit report's balance (``None`` = no report);
    ``bank_exposure`` what the borrower already owes or may draw at this bank.
    """

    grade: str
    industry_section: str | None = None
    tax_sales_12m: MoneyInput | None = None
    invoice_amount_12m: MoneyInput | None = None
    account_inflow_12m: MoneyInput | None = None
    tax_sales_months: int = 12
    invoice_amount_months: int = 12
    account_inflow_months: int = 12
    other_bank_debt: MoneyInput | None = None
    bank_exposure: MoneyInput = 0
    _checked: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    def __post_init__(self) -> None:
        if self.grade not in DEFAULT_NAMES:
            raise ValueError(f"grade must be a master-scale grade {list(DEFAULT_NAMES)}, "
                             f"got {self.grade!r}")
        if self.industry_section is not None and not isinstance(self.industry_section, str):
            raise ValueError(f"industry_section must be a string, got {self.industry_section!r}")
        for name in REVENUE_SOURCES:
            self._checked[name] = _money(getattr(self, name), name)
            months = f"{name.removesuffix('_12m')}_months"
            self._checked[months] = _months(getattr(self, months), months)
        self._checked["other_bank_debt"] = _money(self.other_bank_debt, "other_bank_debt")
        self._checked["bank_exposure"] = _money(self.bank_exposure, "bank_exposure",
                                                optional=False)

    def amount(self, name: str) -> Decimal | None:
        """A checked amount in Decimal yuan (``None`` where the input was ``None``)."""
        return self._checked[name]

    def months(self, source: str) -> int:
        return self._checked[f"{source.removesuffix('_12m')}_months"]


@dataclass(frozen=True)
class CreditLimit:
    """The limit in integer yuan, the derivation behind it and the reasons that shaped it."""

    limit_yuan: int
    verified_revenue_yuan: Decimal
    binding: str
    components: tuple[Component, ...]
    reasons: tuple[Reason, ...]
    parameters_version: int

    def component(self, key: str) -> Component:
        for c in self.components:
            if c.key == key:
                return c
        raise KeyError(key)

    def explain(self, lang: str = "zh") -> str:
        """The derivation as text lines for the approver's page (``zh`` or ``en``)."""
        zh = lang == "zh"
        lines = [f"{c.zh if zh else c.en}: {c.yuan:,.0f} 元" + (f"  ({c.detail})" if c.detail
                                                                else "")
                 for c in self.components]
        lines += [f"· {r.zh if zh else r.en}" for r in self.reasons]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"limit_yuan": self.limit_yuan,
                "verified_revenue_yuan": str(self.verified_revenue_yuan),
                "binding": self.binding, "parameters_version": self.parameters_version,
                "components": [{"key": c.key, "zh": c.zh, "en": c.en, "yuan": str(c.yuan),
                                "detail": c.detail} for c in self.components],
                "reasons": [{"code": r.code, "zh": r.zh, "en": r.en} for r in self.reasons]}


NO_REVENUE = Reason("NO_VERIFIED_REVENUE", "无可核实收入", "no verified revenue")


def _d(x: float) -> Decimal:
    return Decimal(str(x))


class LimitPolicy:
    """Sets limits from ``LimitParameters`` (the packaged ``limits.yaml`` by default)."""

    def __init__(self, parameters: LimitParameters | None = None) -> None:
        self.parameters = parameters or load_parameters()

    def verified_revenue(self, inputs: LimitInputs) -> tuple[Decimal, list[Component],
                                                                 list[Reason]]:
        """Verified annual revenue, one component per usable source, and the reasons.

        Declared sources (tax, invoices) are combined (median or min); a partial source
        (inflows here) confirms them, or stands alone as a lower bound when nothing is
        declared. Unconfirmed or disagreeing figures take a haircut.
        """
        rule = self.parameters.revenue
        comps: list[Component] = []
        reasons: list[Reason] = []
        declared: list[Decimal] = []
        partial: list[Decimal] = []
        for name, src in rule.sources.items():
            raw, months = inputs.amount(name), inputs.months(name)
            if raw is None or months == 0:
                reasons.append(Reason(f"SOURCE_MISSING:{name}", f"缺少{src.zh}",
                                      f"{src.en}: not available"))
                continue
            if months < src.min_months:
                reasons.append(Reason(f"SOURCE_SHORT:{name}",
                                      f"{src.zh}仅{months}个月数据(需≥{src.min_months})，未采用",
                                      f"{src.en}: only {months} months (need "
                                      f"{src.min_months}), not used"))
                continue
            annual = raw * 12 / months * _d(src.factor)
            detail = f"{months}个月年化" if months < 12 else ""
            if src.factor != 1:
                detail += f" × {src.factor}"
            comps.append(Component(f"source:{name}", src.zh, src.en,
                                   annual.quantize(Decimal(1)), detail.strip()))
            (declared if src.role == "declared" else partial).append(annual)
        if not declared and not partial:
            return ZERO, comps, reasons
        haircut = ZERO
        if declared:
            ordered = sorted(declared)
            mid = len(ordered) // 2
            if rule.combine == "min":
                combined = ordered[0]
            elif len(ordered) % 2:
                combined = ordered[mid]
            else:
                combined = (ordered[mid - 1] + ordered[mid]) / 2
            detail = "申报来源中位数" if rule.combine == "median" else "申报来源最小值"
            confirmed = any(x >= combined * _d(rule.corroboration_share) for x in partial)
            if ordered[-1] > ordered[0] * _d(rule.disagreement_ratio):
                haircut = _d(rule.disagreement_haircut)
                reasons.append(Reason("SOURCES_DISAGREE",
                                      f"申报收入来源差异超过{rule.disagreement_ratio}倍，折扣",
                                      f"declared revenue sources differ by more than "
                                      f"{rule.disagreement_ratio}x: haircut"))
            elif len(ordered) == 1 and not confirmed:
                haircut = _d(rule.uncorroborated_haircut)
                reasons.append(Reason("UNCORROBORATED", "申报收入无其他来源印证，折扣",
                                      "declared revenue not confirmed by another source: "
                                      "haircut"))
        else:
            combined = max(partial)
            detail = "仅本行流水(下限)"
            reasons.append(Reason("PARTIAL_ONLY", "无申报收入，仅按本行账户流入计(下限)",
                                  "no declared revenue: counted as inflows at this bank "
                                  "(a lower bound)"))
        verified = (combined * (1 - haircut)).quantize(Decimal(1), rounding=ROUND_FLOOR)
        if haircut:
            detail += f" × (1 − {haircut})"
        comps.append(Component("verified_revenue", "可核实年收入", "Verified annual revenue",
                               verified, detail))
        return verified, comps, reasons

    def limit(self, inputs: LimitInputs) -> CreditLimit:
        """The limit for one applicant (see the module docstring for the steps)."""
        p = self.parameters
        revenue, comps, reasons = self.verified_revenue(inputs)
        if revenue <= 0:
            reasons.append(NO_REVENUE)
            return CreditLimit(0, ZERO, "verified_revenue", tuple(comps), tuple(reasons),
                               p.version)
        ind = p.industry(inputs.industry_section)
        ind_name = inputs.industry_section if inputs.industry_section in p.industries \
            else "default"
        base = revenue * _d(ind.revenue_share)
        comps.append(Component("revenue_base", "收入基础额度", "Revenue-based base limit",
                               base, f"× {ind.revenue_share} (行业 {ind_name})"))
        cash_flow = revenue * _d(ind.cash_margin)
        rule = p.debt_service
        capacity = cash_flow * _d(rule.max_service_ratio) / _d(rule.annual_service_per_yuan)
        comps.append(Component("debt_service_capacity", "偿债能力可承担总负债",
                               "Total debt the cash flow can service", capacity.quantize(
                                   Decimal(1)), f"收入 × {ind.cash_margin} × "
                               f"{rule.max_service_ratio} ÷ {rule.annual_service_per_yuan}"))
        other = inputs.amount("other_bank_debt")
        if other is None:
            other = ZERO
            reasons.append(Reason("NO_CREDIT_REPORT", "无征信负债信息，他行负债按0计",
                                  "no credit report: other-bank debt taken as 0"))
        here = inputs.amount("bank_exposure")
        comps.append(Component("existing_debt", "现有负债(他行+本行)",
                               "Existing debt (other banks + this bank)", other + here,
                               f"他行 {other:,.0f} + 本行 {here:,.0f}"))
        # The revenue base is this bank's credit, so only our own exposure uses it up; the
        # debt-service capacity is for all debt, so every lender's balance uses it up.
        base_room = base - here
        capacity_room = capacity - other - here
        binding = "revenue_base" if base_room <= capacity_room else "debt_service_capacity"
        room = min(base_room, capacity_room)
        if room <= 0:
            reasons.append(Reason("DEBT_EXCEEDS_CAPACITY", "现有负债已用尽偿债能力或收入基础额度",
                                  "existing debt uses up the debt-service capacity or the "
                                  "revenue base"))
            room, binding = ZERO, "existing_debt"
        comps.append(Component("room_after_debt", "扣除现有负债后额度",
                               "Room after existing debt", room.quantize(Decimal(1)),
                               "min(收入基础额度 − 本行负债, 偿债能力 − 全部负债)"))
        mult = _d(p.rating_multipliers[inputs.grade])
        rated = room * mult
        comps.append(Component("rating_adjusted", "评级调整后额度", "After rating multiplier",
                               rated.quantize(Decimal(1)), f"评级 {inputs.grade} × {mult}"))
        if mult == 0:
            reasons.append(Reason("GRADE_NO_CREDIT", f"评级{inputs.grade}不予授信",
                                  f"grade {inputs.grade} gets no credit"))
            binding = "rating_multiplier"
        reg_room = max(ZERO, p.regulatory_cap_yuan - inputs.amount("bank_exposure"))
        capped = rated
        if ind.cap_yuan < capped:
            capped, binding = Decimal(ind.cap_yuan), "industry_cap"
            reasons.append(Reason("INDUSTRY_CAP", f"受行业上限{ind.cap_yuan:,}元限制",
                                  f"capped by the industry cap {ind.cap_yuan:,} yuan"))
        if reg_room < capped:
            capped, binding = reg_room, "regulatory_cap"
            reasons.append(Reason("REGULATORY_CAP", "受普惠小微单户授信1000万元上限限制",
                                  "capped by the inclusive-SME cap per borrower"))
        unit = p.rounding_unit_yuan
        final = int(capped // unit) * unit
        comps.append(Component("limit", "授信额度", "Credit limit", Decimal(final),
                               f"向下取整至{unit:,}元"))
        return CreditLimit(final, revenue, binding, tuple(comps), tuple(reasons), p.version)
