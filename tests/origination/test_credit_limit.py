"""Credit limit policy: the formula's steps, bad input, and the parameter file's checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xiaowei.engine.models.master_scale import DEFAULT_NAMES
from xiaowei.entities.datafiles import DataFileError
from xiaowei.origination.credit_limit import (
    LimitInputs,
    LimitPolicy,
    inputs_from_row,
    inputs_from_tags,
    load_parameters,
    parameters_from_text,
)
from xiaowei.origination.credit_limit.parameters import DEFAULT_FILE

PACKAGED = (Path(__file__).resolve().parents[2] / "src/xiaowei/origination/credit_limit"
            / DEFAULT_FILE).read_text("utf-8")
POLICY = LimitPolicy()


def example(**changes: object) -> LimitInputs:
    """The worked example of docs/credit_limit.md."""
    fields: dict[str, object] = {
        "grade": "B2", "industry_section": "C", "tax_sales_12m": "8000000",
        "invoice_amount_12m": "7200000", "account_inflow_12m": "3500000",
        "other_bank_debt": "1500000"}
    fields.update(changes)
    return LimitInputs(**fields)  # type: ignore[arg-type]


def test_worked_example_components_and_limit() -> None:
    result = POLICY.limit(example())
    amounts = {c.key: c.yuan for c in result.components}
    assert amounts["verified_revenue"] == Decimal(7_600_000)  # median of tax and invoices
    assert amounts["revenue_base"] == Decimal(2_280_000)      # × 0.30 (section C)
    assert amounts["debt_service_capacity"] == Decimal(3_040_000)  # × 0.12 × 0.5 ÷ 0.15
    assert amounts["room_after_debt"] == Decimal(1_540_000)   # capacity − 1.5 m other debt
    assert amounts["rating_adjusted"] == Decimal(1_386_000)   # × 0.9 for B2
    assert result.limit_yuan == 1_380_000 and isinstance(result.limit_yuan, int)
    assert result.binding == "debt_service_capacity"
    assert "可核实年收入" in result.explain("zh") and "Credit limit" in result.explain("en")
    assert result.to_dict()["limit_yuan"] == 1_380_000


def test_missing_sources_use_what_exists_with_reasons() -> None:
    only_tax = POLICY.limit(example(invoice_amount_12m=None, account_inflow_12m=None))
    codes = {r.code for r in only_tax.reasons}
    assert {"SOURCE_MISSING:invoice_amount_12m", "SOURCE_MISSING:account_inflow_12m",
            "UNCORROBORATED"} <= codes
    assert only_tax.verified_revenue_yuan == Decimal(7_200_000)  # 8 m × (1 − 0.10)
    only_inflow = POLICY.limit(example(tax_sales_12m=None, invoice_amount_12m=None))
    assert "PARTIAL_ONLY" in {r.code for r in only_inflow.reasons}
    assert only_inflow.verified_revenue_yuan == Decimal(3_500_000)
    short = POLICY.limit(example(invoice_amount_12m=None, tax_sales_months=4))
    assert "SOURCE_SHORT:tax_sales_12m" in {r.code for r in short.reasons}


def test_annualises_a_partial_window() -> None:
    result = POLICY.limit(example(invoice_amount_12m=None, account_inflow_12m=None,
                                  tax_sales_12m="4000000", tax_sales_months=6))
    assert result.component("source:tax_sales_12m").yuan == Decimal(8_000_000)


def test_no_verified_revenue_gives_zero_with_reason() -> None:
    result = POLICY.limit(example(tax_sales_12m=None, invoice_amount_12m=None,
                                  account_inflow_12m=None))
    assert result.limit_yuan == 0
    assert [str(r) for r in result.reasons][-1] == "no verified revenue 无可核实收入"
    zero = POLICY.limit(example(tax_sales_12m="0", invoice_amount_12m="0",
                                account_inflow_12m=None))
    assert zero.limit_yuan == 0 and zero.reasons[-1].code == "NO_VERIFIED_REVENUE"


@pytest.mark.parametrize(("change", "error", "words"), [
    ({"tax_sales_12m": "-5"}, ValueError, "tax_sales_12m must not be negative"),
    ({"other_bank_debt": -1}, ValueError, "other_bank_debt must not be negative"),
    ({"invoice_amount_12m": "lots"}, ValueError, "invoice_amount_12m is not a number"),
    ({"account_inflow_12m": 1.5}, TypeError, "account_inflow_12m must be Decimal"),
    ({"tax_sales_12m": "NaN"}, ValueError, "tax_sales_12m must be a finite number"),
    ({"grade": "F9"}, ValueError, "grade must be a master-scale grade"),
    ({"tax_sales_months": 13}, ValueError, "tax_sales_months must be a whole number"),
    ({"bank_exposure": None}, ValueError, "bank_exposure is required"),
])
def test_garbage_is_refused_naming_the_field(change: dict[str, object], error: type,
                                             words: str) -> None:
    with pytest.raises(error, match=words):
        example(**change)


def test_tag_rows_with_nan_are_refused() -> None:
    with pytest.raises(ValueError, match="tax_sales_12m must be a finite number"):
        inputs_from_row({"tax_sales_12m": float("nan")}, "A1")
    tags = {"tax_sales_12m": 1_000_000.0, "tax_months_filed_12m": 12,
            "other_bank_balance": 50_000.0, "industry_section": "F"}
    assert inputs_from_tags(tags, "A1").amount("other_bank_debt") == Decimal("50000.00")


def test_worse_grade_never_gets_more_and_e_grades_get_nothing() -> None:
    limits = [POLICY.limit(example(grade=g)).limit_yuan for g in DEFAULT_NAMES]
    assert limits == sorted(limits, reverse=True) and limits[0] > 0
    assert limits[-2:] == [0, 0]
    assert POLICY.limit(example(grade="E1")).binding == "rating_multiplier"


def test_more_existing_debt_never_raises_the_limit() -> None:
    limits = [POLICY.limit(example(other_bank_debt=str(d))).limit_yuan
              for d in range(0, 4_000_000, 250_000)]
    assert limits == sorted(limits, reverse=True) and limits[-1] == 0


def test_industry_and_regulatory_caps_and_rounding_down() -> None:
    huge = POLICY.limit(example(grade="A1", industry_section="H", tax_sales_12m="90000000",
                                invoice_amount_12m="90000000", other_bank_debt="0"))
    assert huge.limit_yuan == 2_000_000 and huge.binding == "industry_cap"
    text = PACKAGED.replace("C: {revenue_share: 0.30, cash_margin: 0.12, cap_yuan: 8000000}",
                            "C: {revenue_share: 0.30, cash_margin: 0.12, cap_yuan: 10000000}")
    loose = LimitPolicy(parameters_from_text(text))
    big = loose.limit(example(grade="A1", tax_sales_12m="90000000",
                              invoice_amount_12m="90000000", other_bank_debt="0",
                              bank_exposure="2345678"))
    assert big.limit_yuan == 7_650_000 and big.binding == "regulatory_cap"  # 10 m − 2,345,678
    assert POLICY.limit(example()).limit_yuan % 10_000 == 0


def _broken(old: str, new: str) -> str:
    assert old in PACKAGED
    return PACKAGED.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new", "words"), [
    ("  E2: 0.0\n", "", "rating_multipliers: Value error, one multiplier per master-scale"),
    ("  D2: 0.3\n", "  D2: 0.6\n", "a worse grade may not get a larger multiplier"),
    ("  max_service_ratio: 0.50", "  max_service_ratio: -0.5", "debt_service.max_service_ratio"),
    ("combine: median", "combine: average", "revenue.combine"),
    ("version: 1", "version: 1\nsurprise: 2", "surprise: Extra inputs are not permitted"),
    ("  H: {", "  HH: {", "industry keys are GB/T 4754 sections"),
    ("cap_yuan: 8000000}", "cap_yuan: 12000000}", "industry caps above the regulatory cap"),
    ("regulatory_cap_yuan: 10000000", "regulatory_cap_yuan: 20000000", "regulatory_cap_yuan"),
])
def test_parameter_file_errors_name_file_line_and_key(old: str, new: str, words: str) -> None:
    with pytest.raises(DataFileError, match=words) as caught:
        parameters_from_text(_broken(old, new))
    assert str(caught.value).startswith("limits.yaml:")


def test_error_line_points_at_the_bad_value(tmp_path: Path) -> None:
    text = _broken("  max_service_ratio: 0.50", "  max_service_ratio: 1.50")
    path = tmp_path / "limits.yaml"
    path.write_text(text, "utf-8")
    line = text.splitlines().index("  max_service_ratio: 1.50") + 1
    with pytest.raises(DataFileError, match=f"^limits.yaml:{line}: debt_service"):
        load_parameters(path)
    assert load_parameters().version == 1
